// Tests of the Communicator seam: K simulated ranks (threads of this process, exchanging
// bytes through a barrier) run one study and each return the bits of one process.
#include "attain/communicator.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <barrier>
#include <fstream>
#include <sstream>
#include <thread>

#include "attain/graph.hpp"
#include "attain/yaml_reader.hpp"

namespace attain {
namespace {

/// K ranks in one process: all_gather meets the other threads at a barrier.
class Room {
 public:
  explicit Room(int size) : size_(size), sync_(size), slots_(static_cast<std::size_t>(size)) {}
  class Rank : public Communicator {
   public:
    Rank(Room& room, int rank) : room_(&room), rank_(rank) {}
    int rank() const override { return rank_; }
    int size() const override { return room_->size_; }
    std::vector<std::vector<std::byte>> all_gather(std::span<const std::byte> bytes) override {
      room_->slots_[static_cast<std::size_t>(rank_)].assign(bytes.begin(), bytes.end());
      room_->sync_.arrive_and_wait();
      std::vector<std::vector<std::byte>> all = room_->slots_;
      room_->sync_.arrive_and_wait();  // nobody writes a slot before everyone copied
      return all;
    }

   private:
    Room* room_;
    int rank_;
  };

 private:
  int size_;
  std::barrier<> sync_;
  std::vector<std::vector<std::byte>> slots_;
};

struct MemorySink : ChunkSink {
  std::vector<std::uint64_t> first_runs;
  std::vector<double> targets, full;
  void write(const ChunkData& c) override {
    first_runs.push_back(c.first_run);
    targets.insert(targets.end(), c.target_values.begin(), c.target_values.end());
    full.insert(full.end(), c.full.begin(), c.full.end());
  }
};

/// Fails every run in `bad` (an attain error naming the run, as a non-finite value does).
class FailingReducer : public Reducer {
 public:
  explicit FailingReducer(std::vector<std::uint64_t> bad) : bad_(std::move(bad)) {}
  std::string kind() const override { return "failing"; }
  std::unique_ptr<Reducer> empty() const override { return std::make_unique<FailingReducer>(bad_); }
  void add(const StudyBlock& b) override {
    for (std::uint64_t r : bad_)
      if (r >= b.first_run && r < b.first_run + static_cast<std::uint64_t>(b.count))
        throw RunError(fmt::format("run {} failed", r), r);
  }
  void merge(const Reducer&) override {}
  ReducerState save() const override { return {}; }
  void load(const ReducerState&) override {}

 private:
  std::vector<std::uint64_t> bad_;
};

Program load_program() {
  std::ifstream in(std::string(ATTAIN_TEST_DATA) + "/stochastic.yaml");
  std::stringstream text;
  text << in.rdbuf();
  Model m = parse_model(text.str(), "stochastic.yaml");
  return compile(m, build_graph(m));
}

Study make_study(const Program& p, MemorySink* sink, std::vector<std::uint64_t> bad = {}) {
  const Model& m = p.model();
  Study s;
  s.variants = {&p};
  s.reducers.push_back(std::make_unique<AttainmentReducer>(m, 0));
  s.reducers.push_back(std::make_unique<ActualsReducer>(m, 0));
  s.reducers.push_back(std::make_unique<SummaryReducer>(p.nodes(), p.steps(), 0));
  s.reducers.push_back(std::make_unique<RowsReducer>(m, p, 0, true, sink));
  if (!bad.empty()) s.reducers.push_back(std::make_unique<FailingReducer>(std::move(bad)));
  return s;
}

StudyOptions options(std::uint64_t first, std::uint64_t last) {
  StudyOptions o;
  o.first = first, o.last = last, o.seed = 5;
  o.chunk = 256, o.block = 64, o.threads = 1;
  return o;
}

/// Runs `body(rank communicator)` on `size` threads and returns what each returned.
template <class F>
auto on_ranks(int size, F body) {
  Room room(size);
  std::vector<decltype(body(std::declval<Communicator&>()))> out(static_cast<std::size_t>(size));
  std::vector<std::thread> threads;
  for (int r = 0; r < size; ++r)
    threads.emplace_back([&, r] {
      Room::Rank comm(room, r);
      out[static_cast<std::size_t>(r)] = body(comm);
    });
  for (auto& t : threads) t.join();
  return out;
}

TEST(CommunicatorTest, ChunkSharesAreContiguousAndCoverEveryChunkOnce) {
  for (int size : {1, 2, 3, 7}) {
    std::uint64_t next = 10;
    for (int r = 0; r < size; ++r) {
      const ChunkShare s = chunk_share(10, 15, r, size);
      EXPECT_EQ(s.begin, next);
      EXPECT_LE(s.end - s.begin, 5u / static_cast<std::uint64_t>(size) + 1);
      next = s.end;
    }
    EXPECT_EQ(next, 15u);
  }
  EXPECT_THROW(chunk_share(0, 4, 2, 2), std::invalid_argument);
}

TEST(CommunicatorTest, EveryRankReturnsTheBitsOfOneProcess) {
  const Program p = load_program();
  // A range that starts and ends inside chunks; 14 chunks over 1 to 5 ranks, and more
  // ranks than chunks (some ranks have nothing to do).
  for (auto [first, last] : {std::pair<std::uint64_t, std::uint64_t>{100, 256 * 13 + 77},
                             std::pair<std::uint64_t, std::uint64_t>{0, 600}}) {
    MemorySink one_rows;
    const StudyResult one = run_study(make_study(p, &one_rows), options(first, last));
    for (int size : {1, 2, 3, 5}) {
      SCOPED_TRACE(fmt::format("runs [{}, {}) on {} ranks", first, last, size));
      std::vector<MemorySink> rows(static_cast<std::size_t>(size));
      auto results = on_ranks(size, [&](Communicator& comm) {
        StudyOptions o = options(first, last);
        o.communicator = &comm;
        o.threads = 1 + comm.rank() % 2;  // ranks need not run alike
        auto r = std::make_shared<StudyResult>(
            run_study(make_study(p, &rows[static_cast<std::size_t>(comm.rank())]), o));
        return r;
      });
      MemorySink joined;
      for (const auto& r : rows) {
        joined.first_runs.insert(joined.first_runs.end(), r.first_runs.begin(), r.first_runs.end());
        joined.targets.insert(joined.targets.end(), r.targets.begin(), r.targets.end());
        joined.full.insert(joined.full.end(), r.full.begin(), r.full.end());
      }
      EXPECT_EQ(joined.first_runs, one_rows.first_runs);
      EXPECT_EQ(joined.targets, one_rows.targets);
      EXPECT_EQ(joined.full, one_rows.full);
      for (const auto& r : results) {
        EXPECT_EQ(r->first, one.first);
        EXPECT_EQ(r->last, one.last);
        ASSERT_EQ(r->reducers.size(), one.reducers.size());
        for (std::size_t i = 0; i < one.reducers.size(); ++i)
          EXPECT_EQ(r->reducers[i]->save(), one.reducers[i]->save()) << one.reducers[i]->kind();
        // The exact state too: the same dyadic partials, so a later append gives the same bits.
        ASSERT_EQ(r->state.partials().size(), one.state.partials().size());
        for (std::size_t j = 0; j < one.state.partials().size(); ++j) {
          EXPECT_EQ(r->state.partials()[j].level, one.state.partials()[j].level);
          EXPECT_EQ(r->state.partials()[j].index, one.state.partials()[j].index);
        }
      }
    }
  }
}

TEST(CommunicatorTest, EncodedStateDecodesToTheSameBitsAndRefusesOtherReducers) {
  const Program p = load_program();
  const Study s = make_study(p, nullptr);
  StudyOptions o = options(0, 256 * 5 + 3);
  const StudyResult r = run_study(s, o);
  const std::vector<std::byte> bytes = encode_state(r.state);
  const StudyState back = decode_state(bytes, s.reducers);
  EXPECT_EQ(back.first, r.state.first);
  EXPECT_EQ(back.last, r.state.last);
  EXPECT_EQ(back.chunk, r.state.chunk);
  const auto a = r.state.result(), b = back.result();
  for (std::size_t i = 0; i < a.size(); ++i) EXPECT_EQ(a[i]->save(), b[i]->save());
  // Other reducers, a cut message, trailing bytes: refused, never misread.
  const Study other = make_study(p, nullptr, {1});
  EXPECT_THROW(decode_state(bytes, other.reducers), std::invalid_argument);
  EXPECT_THROW(decode_state(std::span(bytes).first(bytes.size() - 1), s.reducers),
               std::invalid_argument);
  std::vector<std::byte> longer = bytes;
  longer.push_back(std::byte{0});
  EXPECT_THROW(decode_state(longer, s.reducers), std::invalid_argument);
}

TEST(CommunicatorTest, AFailingRunEndsEveryRankWithTheErrorOneProcessReports) {
  const Program p = load_program();
  // Runs 700 (chunk 2: rank 0 of 3) and 2900 (chunk 11: rank 2) fail; one process reports
  // run 700, and so must every rank, also when only a later rank fails.
  for (std::vector<std::uint64_t> bad : {std::vector<std::uint64_t>{700, 2900}, {2900}}) {
    std::string expected;
    try {
      run_study(make_study(p, nullptr, bad), options(0, 256 * 13));
    } catch (const RunError& e) {
      expected = e.user_message();
    }
    ASSERT_NE(expected, "");
    auto caught = on_ranks(3, [&](Communicator& comm) {
      StudyOptions o = options(0, 256 * 13);
      o.communicator = &comm;
      try {
        run_study(make_study(p, nullptr, bad), o);
      } catch (const Error& e) {
        return std::make_pair(e.exit_code(), e.user_message());
      }
      return std::make_pair(0, std::string());
    });
    for (const auto& [code, message] : caught) {
      EXPECT_EQ(code, kExitRun);
      EXPECT_EQ(message, expected);
    }
  }
}

TEST(CommunicatorTest, AdaptiveStoppingIsRefusedOnSeveralRanks) {
  struct Never : StopRule {
    bool observe(std::span<const std::unique_ptr<Reducer>>) override { return false; }
  } never;
  const Program p = load_program();
  auto codes = on_ranks(2, [&](Communicator& comm) {
    StudyOptions o = options(0, 1024);
    o.communicator = &comm;
    o.stop = &never;
    try {
      run_study(make_study(p, nullptr), o);
    } catch (const Error& e) {
      return e.exit_code();
    }
    return 0;
  });
  EXPECT_EQ(codes, (std::vector<int>{kExitInput, kExitInput}));
}

}  // namespace
}  // namespace attain
