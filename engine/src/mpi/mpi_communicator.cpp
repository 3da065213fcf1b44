// The Communicator over MPI (mpi_communicator.hpp); compiled with -DATTAIN_MPI=ON only.
#include "attain/mpi_communicator.hpp"

#include <hdf5.h>
#include <mpi.h>

#include <chrono>
#include <climits>
#include <stdexcept>
#include <thread>

namespace attain {

struct MpiCommunicator::Impl {
  int rank = 0, size = 1;
  MPI_Comm failures = MPI_COMM_NULL;  ///< every_rank_failed()'s own communicator
  hid_t access = -1;
};

MpiCommunicator::MpiCommunicator() : impl_(std::make_unique<Impl>()) {
  MPI_Comm_rank(MPI_COMM_WORLD, &impl_->rank);
  MPI_Comm_size(MPI_COMM_WORLD, &impl_->size);
  MPI_Comm_dup(MPI_COMM_WORLD, &impl_->failures);
  impl_->access = H5Pcreate(H5P_FILE_ACCESS);
  if (impl_->access < 0 || H5Pset_fapl_mpio(impl_->access, MPI_COMM_WORLD, MPI_INFO_NULL) < 0)
    throw std::runtime_error("HDF5: cannot make a parallel file-access property list");
}

MpiCommunicator::~MpiCommunicator() {
  if (impl_->access >= 0) H5Pclose(impl_->access);
  if (impl_->failures != MPI_COMM_NULL) MPI_Comm_free(&impl_->failures);
}

int MpiCommunicator::rank() const {
  return impl_->rank;
}

int MpiCommunicator::size() const {
  return impl_->size;
}

std::vector<std::vector<std::byte>> MpiCommunicator::all_gather(std::span<const std::byte> bytes) {
  // MPI counts are ints: a rank's bytes and all of them together stay below 2 GiB.
  const auto size = static_cast<std::size_t>(impl_->size);
  if (bytes.size() > INT_MAX)
    throw std::runtime_error("MPI: a rank's study state exceeds 2 GiB; use fewer ranks per job");
  const int mine = static_cast<int>(bytes.size());
  std::vector<int> counts(size), offsets(size);
  MPI_Allgather(&mine, 1, MPI_INT, counts.data(), 1, MPI_INT, MPI_COMM_WORLD);
  long long total = 0;
  for (std::size_t r = 0; r < size; ++r) {
    offsets[r] = static_cast<int>(total);
    total += counts[r];
    if (total > INT_MAX)
      throw std::runtime_error(
          "MPI: the ranks' study states exceed 2 GiB together; use fewer ranks per job");
  }
  std::vector<std::byte> joined(static_cast<std::size_t>(total));
  MPI_Allgatherv(bytes.data(), mine, MPI_BYTE, joined.data(), counts.data(), offsets.data(),
                 MPI_BYTE, MPI_COMM_WORLD);
  std::vector<std::vector<std::byte>> out(size);
  for (std::size_t r = 0; r < size; ++r)
    out[r].assign(joined.begin() + offsets[r], joined.begin() + offsets[r] + counts[r]);
  return out;
}

std::int64_t MpiCommunicator::parallel_file_access() const {
  return impl_->access;
}

bool MpiCommunicator::every_rank_failed(double seconds) {
  MPI_Request request;
  MPI_Ibarrier(impl_->failures, &request);
  const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  for (;;) {
    int done = 0;
    MPI_Test(&request, &done, MPI_STATUS_IGNORE);
    if (done) return true;
    if (std::chrono::steady_clock::now() > end) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

void MpiCommunicator::abort(int exit_code) {
  MPI_Abort(MPI_COMM_WORLD, exit_code);
  std::abort();  // MPI_Abort does not return
}

}  // namespace attain
