// The Communicator over MPI (built with -DATTAIN_MPI=ON only): MPI_COMM_WORLD, parallel
// HDF5's file access, and the agreement on a failure that ends a job cleanly.
#pragma once

#include <memory>

#include "attain/communicator.hpp"

namespace attain {

/// @brief MPI_COMM_WORLD as a Communicator. MPI must be initialised before and finalised
/// after its lifetime (the command line does both).
class MpiCommunicator : public Communicator {
 public:
  MpiCommunicator();
  ~MpiCommunicator() override;
  int rank() const override;
  int size() const override;
  std::vector<std::vector<std::byte>> all_gather(std::span<const std::byte> bytes) override;
  /// H5Pset_fapl_mpio on MPI_COMM_WORLD.
  std::int64_t parallel_file_access() const override;
  /// Collective over a communicator of its own (so it never meets another collective that a
  /// rank may be waiting in): true when every rank called it within `seconds`, i.e. every
  /// rank failed alike and may exit normally; false when this rank's failure is its own.
  bool every_rank_failed(double seconds);
  /// Ends every rank of the job with `exit_code` (MPI_Abort).
  [[noreturn]] void abort(int exit_code);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace attain
