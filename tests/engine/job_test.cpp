// Tests of the job layer (attain/job.hpp): studies side by side in one process, each with
// its own threads and cancel flag; one definition of "the same study"; the atomic writer.
#include "attain/job.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <thread>

#include "attain/program.hpp"
#include "attain/study.hpp"
#include "temp_dir.hpp"

namespace attain {
namespace {

const std::string kGuandu = std::string(ATTAIN_SOURCE_DIR) + "/models/guandu_innovation.yaml";
const std::string kStochastic = std::string(ATTAIN_TEST_DATA) + "/stochastic.yaml";

/// A study's result as bytes: counts, intervals, moments and quantiles, so that equal
/// bytes mean equal bits.
std::string bits(const EnsembleResult& r) {
  std::string out;
  auto put = [&](const void* p, std::size_t n) { out.append(static_cast<const char*>(p), n); };
  put(&r.runs, sizeof r.runs);
  for (const auto& t : r.targets) {
    put(&t.hits, sizeof t.hits);
    put(&t.ci_low, sizeof t.ci_low);
    put(t.first_met.data(), t.first_met.size() * sizeof(std::uint64_t));
  }
  put(&r.joint_hits, sizeof r.joint_hits);
  put(r.met.data(), r.met.size() * sizeof(std::uint64_t));
  for (const auto& a : r.actuals) put(&a.percentile, sizeof a.percentile);
  for (const auto& m : r.moments) put(&m, sizeof m);
  put(r.quantiles.data(), r.quantiles.size() * sizeof(r.quantiles[0]));
  return out;
}

/// One study of a model's first scenario, with node summaries, on `threads` threads.
struct OneStudy {
  JobInputs inputs;
  Program program;
  explicit OneStudy(const std::string& path)
      : inputs(load_inputs(path, {})),
        program(compile(apply_scenario(inputs.model, inputs.scenarios[0]), inputs.graph)) {}
  EnsembleResult run(int threads, std::uint64_t runs, const std::atomic<bool>* cancel = nullptr) {
    AnalysisOptions o;
    o.runs = runs;
    o.seed = 5;
    o.threads = threads;
    o.chunk = 1024;
    o.cancel = cancel;
    return run_scenario(program, o, true, nullptr, false);
  }
};

TEST(JobTest, TwoStudiesSideBySideGiveTheBitsOfEachAlone) {
  OneStudy a(kGuandu), b(kStochastic);
  const std::string alone_a = bits(a.run(1, 6000)), alone_b = bits(b.run(1, 20000));
  ASSERT_FALSE(alone_a.empty());
  for (auto [ta, tb] : {std::pair{1, 1}, std::pair{2, 2}, std::pair{1, 2}, std::pair{2, 1}}) {
    SCOPED_TRACE(testing::Message() << ta << " and " << tb << " threads");
    std::string side_a, side_b;
    std::thread other([&] { side_b = bits(b.run(tb, 20000)); });
    side_a = bits(a.run(ta, 6000));
    other.join();
    EXPECT_EQ(side_a, alone_a);
    EXPECT_EQ(side_b, alone_b);
  }
}

TEST(JobTest, CancellingOneStudyLeavesTheOtherToFinish) {
  OneStudy a(kGuandu), b(kStochastic);
  const std::string alone_b = bits(b.run(2, 20000));
  std::atomic<bool> stop_a{true}, stop_b{false};
  std::string side_b;
  std::thread other([&] { side_b = bits(b.run(2, 20000, &stop_b)); });
  EXPECT_THROW(a.run(2, 1'000'000, &stop_a), InterruptedError);
  other.join();
  EXPECT_EQ(side_b, alone_b);
}

TEST(JobTest, AFileAndTheCommandThatWroteItAreOneStudy) {
  attain_test::TempDir dir;
  EnsembleSettings s;
  s.runs = 5000;
  s.threads = 1;
  s.store = StoreLevel::kSummary;
  s.out = dir.file("r.h5");
  s.out_given = true;
  const std::string plan = std::string(ATTAIN_SOURCE_DIR) + "/scenarios/guandu/plan.yaml";
  JobHooks hooks;
  const EnsembleJob job = prepare_ensemble(s, kGuandu, {plan}, {}, hooks);
  RunJobOptions o;
  o.checkpoints_off = true;
  const RunJobResult r = run_job(job, o, hooks);
  ASSERT_EQ(r.results.size(), 1u);
  RunInfo info = job.info("run");
  const Fingerprint written = study_fingerprint(read_results(s.out));
  EXPECT_EQ(study_fingerprint(job.inputs, info), written);
  info.seed = 2;
  EXPECT_EQ(first_difference(written, study_fingerprint(job.inputs, info)), "seed");
}

TEST(JobTest, AnAtomicOutputIsWholeOrAbsent) {
  attain_test::TempDir dir;
  const std::string out = dir.file("out.txt");
  std::string temporary;
  JobHooks hooks;
  hooks.temporary = [&](const std::string& t) {
    if (!t.empty()) temporary = t;
  };
  write_atomically(
      out, [](std::ostream& os) { os << "first"; }, hooks);
  EXPECT_FALSE(temporary.empty());
  EXPECT_FALSE(std::filesystem::exists(temporary));
  EXPECT_THROW(write_atomically(
                   out,
                   [](std::ostream& os) {
                     os << "half";
                     throw std::runtime_error("the writer fails");
                   },
                   hooks),
               std::runtime_error);
  std::ifstream in(out);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(text, "first");
  EXPECT_EQ(dir.entries(""), std::vector<std::string>{"out.txt"});
}

TEST(JobTest, SettingsAreCheckedBeforeTheModelIsRead) {
  EnsembleSettings s;
  s.runs = 0;
  JobHooks hooks;
  try {
    prepare_ensemble(s, "/nonexistent/model.yaml", {}, {}, hooks);
    FAIL() << "runs 0 accepted";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("--runs must be"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace attain
