// The processes one command runs on: this one, or the ranks of an MPI job (ATTAIN_MPI builds
// under mpirun), and how they end together.
#pragma once

#include <memory>

#include "attain/communicator.hpp"

namespace attain::cli {

/// @brief For main()'s lifetime. Under mpirun in an ATTAIN_MPI build: initialises MPI;
/// ranks other than 0 print nothing (their standard output goes to /dev/null, their
/// standard error to a buffer, shown only when their failure is their own); finish()
/// finalises MPI. Elsewhere, one process and nothing to do.
class Processes {
 public:
  Processes(int& argc, char**& argv);
  ~Processes();
  Processes(const Processes&) = delete;
  Processes& operator=(const Processes&) = delete;
  /// The exit code of the whole job. When every rank failed alike (bad input, an error
  /// the study's ranks shared), each exits with `exit_code` after rank 0 printed the one
  /// message; a rank that failed alone prints its message and ends every rank with
  /// `exit_code` (MPI_Abort), so no rank waits for it forever.
  int finish(int exit_code);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// The ranks of this command when there are several, else nullptr (one process).
attain::Communicator* communicator();

}  // namespace attain::cli
