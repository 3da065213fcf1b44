// The processes one command runs on (processes.hpp).
#include "processes.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

#ifdef ATTAIN_MPI
#include <mpi.h>

#include "attain/mpi_communicator.hpp"
#endif

namespace attain::cli {
namespace {
attain::Communicator* g_communicator = nullptr;
}  // namespace

attain::Communicator* communicator() {
  return g_communicator;
}

#ifndef ATTAIN_MPI

struct Processes::Impl {};
Processes::Processes(int&, char**&) {}
Processes::~Processes() = default;
int Processes::finish(int exit_code) {
  return exit_code;
}

#else

struct Processes::Impl {
  bool mpi = false;
  std::unique_ptr<attain::MpiCommunicator> comm;
  int saved_stderr = -1;      ///< ranks > 0: the real standard error
  std::FILE* held = nullptr;  ///< ranks > 0: what they wrote to standard error
};

namespace {

/// Started by mpirun (Open MPI, or a PMI launcher such as srun): then MPI is initialised.
/// A plain `attain` of an MPI build runs as one process without touching MPI.
bool launched_by_mpi() {
  for (const char* v : {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK"})
    if (std::getenv(v)) return true;
  return false;
}

}  // namespace

Processes::Processes(int& argc, char**& argv) : impl_(std::make_unique<Impl>()) {
  if (!launched_by_mpi()) return;
  // Chunks' rows are written from the thread the study's in-order stage runs on, one
  // thread at a time: MPI_THREAD_SERIALIZED.
  int provided = 0;
  MPI_Init_thread(&argc, &argv, MPI_THREAD_SERIALIZED, &provided);
  impl_->mpi = true;
  if (provided < MPI_THREAD_SERIALIZED) {
    std::fprintf(stderr, "attain: error: this MPI library does not allow MPI_THREAD_SERIALIZED\n");
    MPI_Abort(MPI_COMM_WORLD, 1);
  }
  impl_->comm = std::make_unique<attain::MpiCommunicator>();
  if (impl_->comm->size() > 1) g_communicator = impl_->comm.get();
  if (impl_->comm->rank() != 0) {
    std::fflush(stdout);
    std::fflush(stderr);
    const int null = ::open("/dev/null", O_WRONLY);
    if (null >= 0) {
      ::dup2(null, 1);
      ::close(null);
    }
    impl_->saved_stderr = ::dup(2);
    impl_->held = std::tmpfile();
    if (impl_->held) ::dup2(::fileno(impl_->held), 2);
  }
}

Processes::~Processes() = default;

int Processes::finish(int exit_code) {
  if (!impl_->mpi) return exit_code;
  std::fflush(stdout);
  std::fflush(stderr);
  auto& comm = *impl_->comm;
  // Ten seconds for the other ranks to meet a failure that all of them met.
  if (comm.size() > 1 && exit_code != 0 && !comm.every_rank_failed(10.0)) {
    if (impl_->held && impl_->saved_stderr >= 0) {  // this rank's own message, at last
      std::rewind(impl_->held);
      char buffer[4096];
      for (std::size_t n; (n = std::fread(buffer, 1, sizeof buffer, impl_->held)) > 0;)
        if (::write(impl_->saved_stderr, buffer, n) < 0) break;
    }
    comm.abort(exit_code);
  }
  g_communicator = nullptr;
  impl_->comm.reset();
  MPI_Finalize();
  return exit_code;
}

#endif

}  // namespace attain::cli
