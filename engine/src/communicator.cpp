// A study over several processes: the chunk shares, the byte format of a study state, and
// the exchange that gives every rank the merged result (communicator.hpp).
#include "attain/communicator.hpp"

#include <fmt/format.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>
#include <stdexcept>

namespace attain {

std::vector<std::byte> Communicator::broadcast(std::span<const std::byte> bytes) {
  const bool root = rank() == 0;
  auto all = all_gather(root ? bytes : std::span<const std::byte>{});
  return std::move(all.at(0));
}

ChunkShare chunk_share(std::uint64_t first_chunk, std::uint64_t end_chunk, int rank, int size) {
  if (size < 1 || rank < 0 || rank >= size || end_chunk < first_chunk)
    throw std::invalid_argument("chunk_share: rank must be in [0, size), the chunks in order");
  using wide = unsigned __int128;
  const wide n = end_chunk - first_chunk;
  auto at = [&](int r) {
    return first_chunk +
           static_cast<std::uint64_t>(n * static_cast<wide>(r) / static_cast<wide>(size));
  };
  return {at(rank), at(rank + 1)};
}

namespace {

class Writer {
 public:
  template <class T>
  void put(T v) {
    const auto* p = reinterpret_cast<const std::byte*>(&v);
    out.insert(out.end(), p, p + sizeof v);
  }
  template <class T>
  void put_array(const std::vector<T>& v) {
    put<std::uint64_t>(v.size());
    const auto* p = reinterpret_cast<const std::byte*>(v.data());
    out.insert(out.end(), p, p + v.size() * sizeof(T));
  }
  void put_string(const std::string& s) {
    put<std::uint64_t>(s.size());
    const auto* p = reinterpret_cast<const std::byte*>(s.data());
    out.insert(out.end(), p, p + s.size());
  }
  std::vector<std::byte> out;
};

class Reader {
 public:
  explicit Reader(std::span<const std::byte> in) : in_(in) {}
  template <class T>
  T get() {
    T v;
    std::memcpy(&v, take(sizeof v), sizeof v);
    return v;
  }
  template <class T>
  std::vector<T> get_array() {
    const auto n = get<std::uint64_t>();
    if (n > (in_.size() - at_) / sizeof(T)) bad();
    std::vector<T> v(n);
    if (n > 0) std::memcpy(v.data(), take(n * sizeof(T)), n * sizeof(T));
    return v;
  }
  std::string get_string() {
    const auto n = get<std::uint64_t>();
    const std::byte* p = take(n);
    return std::string(reinterpret_cast<const char*>(p), n);
  }
  bool done() const { return at_ == in_.size(); }
  [[noreturn]] static void bad() {
    throw std::invalid_argument("decode_state: the bytes end early or do not match");
  }

 private:
  const std::byte* take(std::size_t n) {
    if (n > in_.size() - at_) bad();
    const std::byte* p = in_.data() + at_;
    at_ += n;
    return p;
  }
  std::span<const std::byte> in_;
  std::size_t at_ = 0;
};

}  // namespace

std::vector<std::byte> encode_state(const StudyState& state) {
  Writer w;
  w.put<std::uint64_t>(state.first);
  w.put<std::uint64_t>(state.last);
  w.put<std::int64_t>(state.chunk);
  w.put<std::uint64_t>(state.partials().size());
  for (const auto& p : state.partials()) {
    w.put<std::int64_t>(p.level);
    w.put<std::uint64_t>(p.index);
    w.put<std::uint64_t>(p.reducers.size());
    for (const auto& r : p.reducers) {
      w.put_string(r->kind());
      const ReducerState s = r->save();
      w.put<std::uint64_t>(s.counts.size());
      for (const auto& [name, v] : s.counts) {
        w.put_string(name);
        w.put_array(v);
      }
      w.put<std::uint64_t>(s.reals.size());
      for (const auto& [name, v] : s.reals) {
        w.put_string(name);
        w.put_array(v);
      }
    }
  }
  return std::move(w.out);
}

StudyState decode_state(std::span<const std::byte> bytes,
                        const std::vector<std::unique_ptr<Reducer>>& prototypes) {
  Reader r(bytes);
  StudyState state;
  const auto first = r.get<std::uint64_t>(), last = r.get<std::uint64_t>();
  const auto chunk = r.get<std::int64_t>();
  const auto partials = r.get<std::uint64_t>();
  for (std::uint64_t i = 0; i < partials; ++i) {
    StudyPartial p;
    p.level = static_cast<int>(r.get<std::int64_t>());
    p.index = r.get<std::uint64_t>();
    if (r.get<std::uint64_t>() != prototypes.size()) Reader::bad();
    for (const auto& proto : prototypes) {
      if (r.get_string() != proto->kind()) Reader::bad();
      ReducerState s;
      const auto counts = r.get<std::uint64_t>();
      for (std::uint64_t j = 0; j < counts; ++j) {
        std::string name = r.get_string();
        s.counts[name] = r.get_array<std::uint64_t>();
      }
      const auto reals = r.get<std::uint64_t>();
      for (std::uint64_t j = 0; j < reals; ++j) {
        std::string name = r.get_string();
        s.reals[name] = r.get_array<double>();
      }
      p.reducers.push_back(proto->empty());
      p.reducers.back()->load(s);
    }
    state.push(std::move(p));
  }
  if (!r.done()) Reader::bad();
  state.first = first;
  state.last = last;
  state.chunk = static_cast<int>(chunk);
  return state;
}

namespace {

/// What a rank sends after its share: its state, or the error that ended its share.
enum class Outcome : std::uint8_t { kState, kError, kInvalidArgument, kBadAlloc, kOther };

std::vector<std::byte> error_outcome(Outcome kind, int exit_code, const std::string& message) {
  Writer w;
  w.put(kind);
  w.put<std::int64_t>(exit_code);
  w.put_string(message);
  return std::move(w.out);
}

/// Throws the error a rank sent, as the same type where the callers tell types apart.
[[noreturn]] void rethrow(Reader& r, Outcome kind) {
  const auto code = static_cast<int>(r.get<std::int64_t>());
  const std::string message = r.get_string();
  switch (kind) {
    case Outcome::kError:
      if (code == kExitInterrupted) throw InterruptedError();
      throw SharedError(message, code);
    case Outcome::kInvalidArgument:
      throw std::invalid_argument(message);
    case Outcome::kBadAlloc:
      throw std::bad_alloc();
    default:
      throw std::runtime_error(message);
  }
}

/// ATTAIN_RANK_TIMES set (docs/scaling.md): rank 0 prints, for each rank, the seconds of its
/// own chunks, of the exchange (waiting for the slowest rank included) and of decoding and
/// merging every rank's state, and the bytes exchanged. One more all_gather, on every rank.
void report_times(Communicator& comm, const std::vector<std::vector<std::byte>>& all,
                  std::chrono::steady_clock::time_point start,
                  std::chrono::steady_clock::time_point computed,
                  std::chrono::steady_clock::time_point exchanged,
                  std::chrono::steady_clock::time_point merged) {
  using seconds = std::chrono::duration<double>;
  const double mine[3] = {seconds(computed - start).count(), seconds(exchanged - computed).count(),
                          seconds(merged - exchanged).count()};
  const auto times = comm.all_gather(std::as_bytes(std::span(mine)));
  if (comm.rank() != 0) return;
  std::size_t bytes = 0;
  for (const auto& b : all) bytes += b.size();
  for (std::size_t r = 0; r < times.size(); ++r) {
    double t[3];
    std::memcpy(t, times[r].data(), sizeof t);
    std::fprintf(stderr,
                 "attain: rank %zu of %zu: own chunks %.3f s, exchange %.3f s, merge %.3f s "
                 "(%zu bytes of states)\n",
                 r, times.size(), t[0], t[1], t[2], bytes);
  }
}

}  // namespace

StudyResult run_study_on_ranks(const Study& s, const StudyOptions& o) {
  Communicator& comm = *o.communicator;
  // The checks run_study makes, here too (every rank alike): the shares need them.
  if (s.variants.empty()) throw std::invalid_argument("run_study: no variants");
  if (o.last <= o.first) throw std::invalid_argument("run_study: the run range is empty");
  if (o.block < 0 || o.chunk < 1)
    throw std::invalid_argument("run_study: block must be >= 0 (0: automatic), chunk >= 1");
  if (o.checkpoint)
    throw Error(
        "checkpoints run on one process only: each rank would save its own share of the "
        "study; split it with --run-range and 'attain merge' the parts instead",
        kExitInput);
  if (o.stop)
    throw Error(
        "adaptive stopping (--ci-width) runs on one process only: its decision after each "
        "chunk would need every rank's counts; give --runs instead, or run without mpirun",
        kExitInput);
  const auto start = std::chrono::steady_clock::now();
  const auto chunk = static_cast<std::uint64_t>(o.chunk);
  const ChunkShare share =
      chunk_share(o.first / chunk, (o.last - 1) / chunk + 1, comm.rank(), comm.size());

  std::vector<std::byte> mine;
  try {
    StudyState state;
    if (share.begin < share.end) {
      StudyOptions local = o;
      local.communicator = nullptr;
      local.first = std::max(o.first, share.begin * chunk);
      local.last = std::min(o.last, share.end * chunk);
      if (o.progress) {
        // The whole study's progress, estimated from this rank's share (ranks of one job
        // run at about the same speed): only rank 0 shows it.
        const double scale =
            static_cast<double>(o.last - o.first) / static_cast<double>(local.last - local.first);
        local.progress = [&o, scale](std::uint64_t done) {
          o.progress(static_cast<std::uint64_t>(static_cast<double>(done) * scale));
        };
      }
      state = std::move(run_study(s, local).state);
    }
    mine.push_back(static_cast<std::byte>(Outcome::kState));
    const std::vector<std::byte> bytes = encode_state(state);
    mine.insert(mine.end(), bytes.begin(), bytes.end());
  } catch (const Error& e) {
    mine = error_outcome(Outcome::kError, e.exit_code(), e.user_message());
  } catch (const std::invalid_argument& e) {
    mine = error_outcome(Outcome::kInvalidArgument, 1, e.what());
  } catch (const std::bad_alloc&) {
    mine = error_outcome(Outcome::kBadAlloc, 1, "out of memory");
  } catch (const std::exception& e) {
    mine = error_outcome(Outcome::kOther, 1, e.what());
  }

  const auto computed = std::chrono::steady_clock::now();
  const std::vector<std::vector<std::byte>> all = comm.all_gather(mine);
  const auto exchanged = std::chrono::steady_clock::now();
  // The first error in rank order is the first in chunk order (shares are contiguous and
  // in rank order; within a rank, run_study reports its first failing chunk): the error
  // one process would have reported.
  for (const auto& bytes : all) {
    Reader r(bytes);
    const auto kind = r.get<Outcome>();
    if (kind != Outcome::kState) rethrow(r, kind);
  }
  StudyResult result;
  for (const auto& bytes : all) {
    StudyState part = decode_state(std::span<const std::byte>(bytes).subspan(1), s.reducers);
    if (!part.partials().empty()) result.state.append(std::move(part));
  }
  result.first = o.first;
  result.last = result.state.last;
  result.reducers = result.state.result();
  const auto merged = std::chrono::steady_clock::now();
  result.seconds = std::chrono::duration<double>(merged - start).count();
  if (std::getenv("ATTAIN_RANK_TIMES")) report_times(comm, all, start, computed, exchanged, merged);
  return result;
}

}  // namespace attain
