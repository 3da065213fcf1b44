// libFuzzer target: the reducer state decoder and the rows spool, byte by byte.
//
// The reducers' exact state is what a results file's `state` group and a checkpoint's
// state.h5 hold: per reducer, named arrays of integers and of doubles (ReducerState).
// Input (FuzzedDataProvider): a mode, then
//   - a reducer state: one of the reducers of the example models (attainment, actuals,
//     summary, rows, paired) and its genuine state after a small study (or an empty one),
//     edited: arrays resized, values set (NaN, huge, negative counts...), keys removed,
//     added or moved between counts and reals. The reducer's load() must accept it or
//     throw std::invalid_argument (what read_state turns into one line) or an
//     attain::Error; a state it accepts must then merge with itself and with the genuine
//     state, give a summary (scenario_result, the paired tables) and save() again what
//     loads to the same state;
//   - a rows spool: the rest of the input as the bytes of a spool file, replayed (with a
//     declared valid length) into a results file's row sink, as `run --resume` does; it
//     must write the rows or throw an attain::Error.
// Anything else is a finding: another exception, a crash, a sanitizer report, > 10 s,
// > 2 GB. Reproduce: build-fuzz/fuzz_state FILE.
#include <fcntl.h>
#include <fmt/format.h>
#include <fuzzer/FuzzedDataProvider.h>
#include <stdlib.h>  // mkdtemp
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "attain/analysis.hpp"
#include "attain/checkpoint.hpp"
#include "attain/diagnostics.hpp"
#include "attain/errors.hpp"
#include "attain/job.hpp"
#include "attain/results_file.hpp"
#include "oracle.hpp"

#ifndef ATTAIN_FUZZ_SOURCE_DIR
#error "ATTAIN_FUZZ_SOURCE_DIR must name the repository (its models/ and scenarios/)"
#endif

namespace fs = std::filesystem;
using namespace attain;

namespace {

/// One model's compiled scenarios, its reducers and their states after a small study.
struct Subject {
  EnsembleJob job;
  std::vector<Program> programs;                   ///< per scenario
  std::vector<std::unique_ptr<Reducer>> reducers;  ///< scenario 0's, then the paired one
  std::vector<ReducerState> genuine;               ///< per reducer
};

struct Fixture {
  std::vector<std::unique_ptr<Subject>> subjects;
  std::string work;  ///< a private folder for spools and results files
  NullSink none;
};
Fixture* fixture = nullptr;

[[noreturn]] void finding(const std::string& what) {
  std::fprintf(stderr, "attain-fuzz: finding (state): %s\n", what.c_str());
  std::abort();
}

std::unique_ptr<Subject> subject(const std::string& model,
                                 const std::vector<std::string>& scenarios, StoreLevel store,
                                 NullSink& none) {
  const std::string src = ATTAIN_FUZZ_SOURCE_DIR;
  EnsembleSettings s;
  s.runs = 200;
  s.threads = 1;
  s.store = store;
  std::vector<std::string> paths;
  for (const auto& sc : scenarios) paths.push_back(src + "/scenarios/" + sc);
  auto sub = std::make_unique<Subject>(
      Subject{prepare_ensemble(s, src + "/models/" + model, paths, {}, {}, 0), {}, {}, {}});
  for (std::size_t i = 0; i < sub->job.inputs.scenarios.size(); ++i)
    sub->programs.push_back(sub->job.compile_scenario(i));
  Study study;
  for (const auto& p : sub->programs) study.variants.push_back(&p);
  // Rows go nowhere: a sink that takes them (NullSink refuses writes).
  struct Drop : ChunkSink {
    void write(const ChunkData&) override {}
  };
  static Drop drop;
  study.reducers = scenario_reducers(sub->programs[0], true, &drop, store == StoreLevel::kFull);
  if (sub->programs.size() > 1)
    study.reducers.push_back(std::make_unique<PairedReducer>(sub->programs[0].model(), 0, 1));
  StudyOptions o;
  o.threads = 1;
  o.last = 200;
  o.chunk = 64;
  const StudyResult r = run_study(study, o);
  for (const auto& red : r.reducers) sub->genuine.push_back(red->save());
  sub->reducers = scenario_reducers(sub->programs[0], true, &none, store == StoreLevel::kFull);
  if (sub->programs.size() > 1)
    sub->reducers.push_back(std::make_unique<PairedReducer>(sub->programs[0].model(), 0, 1));
  return sub;
}

/// Runs `call`; a finding unless it returned or threw what load() may throw.
bool loads(const std::string& what, const std::function<void()>& call) {
  try {
    call();
    return true;
  } catch (const std::invalid_argument&) {
    return false;
  } catch (const Error& e) {
    if (std::string why = fuzz::check_error_line(e.user_message()); !why.empty())
      finding(what + ": " + why);
    return false;
  } catch (const std::exception& e) {
    finding(
        fmt::format("{}: an exception that is neither std::invalid_argument nor an "
                    "attain::Error escaped: {}",
                    what, printable(e.what(), 300)));
  }
}

/// Must not throw at all (a state load() accepted).
void must(const std::string& what, const std::function<void()>& call) {
  try {
    call();
  } catch (const std::exception& e) {
    finding(fmt::format("{} threw on a state that load() accepted: {}", what,
                        printable(e.what(), 300)));
  }
}

template <class T>
void edit_array(FuzzedDataProvider& in, std::vector<T>& v, const std::function<T()>& value) {
  switch (in.ConsumeIntegralInRange(0, 5)) {
    case 0:
      v.resize(v.size() + 1);
      break;
    case 1:
      if (!v.empty()) v.pop_back();
      break;
    case 2:
      v.resize(in.ConsumeIntegralInRange<std::size_t>(0, 1 << 14));
      break;
    case 3:
      for (auto& x : v) x = value();
      break;
    default:
      if (!v.empty()) v[in.ConsumeIntegralInRange<std::size_t>(0, v.size() - 1)] = value();
  }
}

std::uint64_t count_value(FuzzedDataProvider& in) {
  static constexpr std::uint64_t kCounts[] = {0,
                                              1,
                                              2,
                                              199,
                                              200,
                                              201,
                                              4096,
                                              std::uint64_t{1} << 32,
                                              std::uint64_t{1} << 63,
                                              ~std::uint64_t{0},
                                              ~std::uint64_t{0} - 1};
  return in.ConsumeBool() ? in.PickValueInArray(kCounts) : in.ConsumeIntegral<std::uint64_t>();
}

double real_value(FuzzedDataProvider& in) {
  static constexpr double kReals[] = {0,
                                      -1,
                                      1,
                                      0.5,
                                      1e308,
                                      -1e308,
                                      1e-310,
                                      200,
                                      4096,
                                      std::numeric_limits<double>::quiet_NaN(),
                                      std::numeric_limits<double>::infinity(),
                                      -std::numeric_limits<double>::infinity()};
  return in.ConsumeBool() ? in.PickValueInArray(kReals) : in.ConsumeFloatingPoint<double>();
}

template <class M>
typename M::iterator pick(FuzzedDataProvider& in, M& m) {
  auto it = m.begin();
  if (!m.empty()) std::advance(it, in.ConsumeIntegralInRange<std::size_t>(0, m.size() - 1));
  return it;
}

/// The input's state: the genuine (or an empty) one, edited.
ReducerState decode_state(FuzzedDataProvider& in, const ReducerState& genuine) {
  ReducerState s = in.ConsumeBool() ? genuine : ReducerState{};
  const int edits = in.ConsumeIntegralInRange(0, 8);
  for (int k = 0; k < edits && in.remaining_bytes() > 0; ++k) {
    const bool counts = in.ConsumeBool();
    switch (in.ConsumeIntegralInRange(0, 5)) {
      case 0:  // remove a key
        if (counts && !s.counts.empty()) s.counts.erase(pick(in, s.counts));
        if (!counts && !s.reals.empty()) s.reals.erase(pick(in, s.reals));
        break;
      case 1:  // a key of the other kind under the same name
        if (counts && !s.counts.empty()) {
          auto it = pick(in, s.counts);
          s.reals[it->first].assign(it->second.size(), real_value(in));
        } else if (!s.reals.empty()) {
          auto it = pick(in, s.reals);
          s.counts[it->first].assign(it->second.size(), count_value(in));
        }
        break;
      case 2:  // a new key
        if (counts)
          s.counts[in.ConsumeRandomLengthString(16)].assign(in.ConsumeIntegralInRange(0, 64),
                                                            count_value(in));
        else
          s.reals[in.ConsumeRandomLengthString(16)].assign(in.ConsumeIntegralInRange(0, 64),
                                                           real_value(in));
        break;
      default:  // edit an array
        if (counts && !s.counts.empty())
          edit_array<std::uint64_t>(in, pick(in, s.counts)->second,
                                    [&] { return count_value(in); });
        else if (!counts && !s.reals.empty())
          edit_array<double>(in, pick(in, s.reals)->second, [&] { return real_value(in); });
    }
  }
  return s;
}

/// Equal keys and arrays, doubles compared bit by bit (a NaN equals itself).
bool same_bits(const ReducerState& a, const ReducerState& b) {
  if (a.counts != b.counts || a.reals.size() != b.reals.size()) return false;
  for (auto i = a.reals.begin(), j = b.reals.begin(); i != a.reals.end(); ++i, ++j)
    if (i->first != j->first || i->second.size() != j->second.size() ||
        (!i->second.empty() &&
         std::memcmp(i->second.data(), j->second.data(), i->second.size() * sizeof(double)) != 0))
      return false;
  return true;
}

/// What a state accepted by reducer `k` of `sub` must allow: merges, summaries, save().
void use_loaded(const Subject& sub, std::size_t k, const ReducerState& state) {
  const Reducer& proto = *sub.reducers[k];
  const std::string kind = proto.kind();
  auto r = proto.empty();
  r->load(state);
  must(kind + " merge with itself", [&] {
    auto again = proto.empty();
    again->load(state);
    r->merge(*again);
  });
  must(kind + " merge after the genuine state", [&] {
    auto g = proto.empty();
    g->load(sub.genuine[k]);
    g->merge(*r);
  });
  must(kind + " summary", [&] {
    if (const auto* p = dynamic_cast<const PairedReducer*>(r.get())) {
      for (std::size_t t = 0; t <= p->targets(); ++t) p->table(t);
      for (std::size_t t = 0; t < p->targets(); ++t) p->difference(t);
      return;
    }
    std::vector<std::unique_ptr<Reducer>> all;
    for (std::size_t i = 0; i < sub.reducers.size(); ++i)
      if (!dynamic_cast<const PairedReducer*>(sub.reducers[i].get()))
        all.push_back(i == k ? r->empty() : sub.reducers[i]->empty());
    all[k]->load(state);
    scenario_result(sub.programs[0], all, true, 0);
  });
  must(kind + " save and load again", [&] {
    const ReducerState saved = r->save();
    auto back = proto.empty();
    back->load(saved);
    if (!same_bits(back->save(), saved))
      throw std::logic_error("save() of a loaded state differs from the state loaded");
  });
}

void fuzz_reducer(FuzzedDataProvider& in) {
  const Subject& sub =
      *fixture->subjects[in.ConsumeIntegralInRange<std::size_t>(0, fixture->subjects.size() - 1)];
  const std::size_t k = in.ConsumeIntegralInRange<std::size_t>(0, sub.reducers.size() - 1);
  const ReducerState state = decode_state(in, sub.genuine[k]);
  const std::string kind = sub.reducers[k]->kind();
  if (loads(kind + " load", [&] { sub.reducers[k]->empty()->load(state); }))
    use_loaded(sub, k, state);
}

/// The rest of the input as a rows spool, replayed into a results file's row sink.
void fuzz_spool(FuzzedDataProvider& in) {
  const Subject& sub =
      *fixture->subjects[in.ConsumeIntegralInRange<std::size_t>(0, fixture->subjects.size() - 1)];
  const int declared = in.ConsumeIntegralInRange(0, 3);
  const std::string bytes = in.ConsumeRemainingBytesAsString();
  const std::string spool = fixture->work + "/rows.bin";
  std::ofstream(spool, std::ios::binary | std::ios::trunc).write(bytes.data(), bytes.size());
  const std::uint64_t length = declared == 0   ? bytes.size()
                               : declared == 1 ? bytes.size() / 2
                               : declared == 2 ? bytes.size() + 40
                                               : std::uint64_t{1} << 40;
  loads("RowSpool::replay", [&] {
    const RunInfo info = sub.job.info("run");
    ResultsFile file(fixture->work + "/out.h5", sub.job.inputs.model, info);
    ChunkSink& inner = file.begin_scenario(sub.job.inputs.scenarios[0], sub.programs[0]);
    // --resume replays only a spool that RowSpool::check found to end inside the state's
    // run range; here, rows beyond the file's runs are refused as that check would.
    struct InRange : ChunkSink {
      ChunkSink& inner;
      std::uint64_t end;
      InRange(ChunkSink& i, std::uint64_t e) : inner(i), end(e) {}
      void write(const ChunkData& c) override {
        if (c.count < 0 || c.first_run > end ||
            static_cast<std::uint64_t>(c.count) > end - c.first_run)
          throw attain::OutputError("rows beyond the state's runs (RowSpool::check refuses them)");
        inner.write(c);
      }
    } sink(inner, info.first_run + info.runs);
    // As --resume does, relative to the folder's descriptor (here without its checks).
    const int folder = ::open(fixture->work.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (folder < 0) std::abort();
    struct Closer {
      int fd;
      ~Closer() { ::close(fd); }
    } closer{folder};
    RowSpool::replay(folder, "rows.bin", spool, length, sink);
  });
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  fixture = new Fixture;
  std::string pattern = (fs::is_directory("/dev/shm") ? std::string("/dev/shm")
                                                      : fs::temp_directory_path().string()) +
                        "/attain-fuzz-state-XXXXXX";
  if (!mkdtemp(pattern.data())) throw std::runtime_error("cannot create " + pattern);
  fixture->work = pattern;
  std::atexit([] {
    std::error_code ec;
    fs::remove_all(fixture->work, ec);
  });
  fixture->subjects.push_back(subject("teaching_firms.yaml",
                                      {"teaching/as_written.yaml", "teaching/more_funding.yaml"},
                                      StoreLevel::kTargets, fixture->none));
  fixture->subjects.push_back(subject("all_constructs.yaml", {}, StoreLevel::kFull, fixture->none));
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzedDataProvider in(data, size);
  if (in.ConsumeIntegralInRange(0, 3) < 3)
    fuzz_reducer(in);
  else
    fuzz_spool(in);
  return 0;
}
