// gosched_test.cpp: yielding. At one P goroutines take turns in a fixed
// order; at several they all finish.
// First chapter: 01.
#include <goro/goro.hpp>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <vector>

#include "support.hpp"

namespace {
class GoschedProcs : public goro::testing::RuntimeProcsTest {};
using goro::testing::RuntimeTest;

// Three goroutines each record their number and yield, three rounds.
std::vector<int> three_rounds() {
  std::vector<int> order;
  goro::run(
      [&] {
        std::atomic<int> done{0};
        for (int id = 0; id < 3; id++) {
          goro::go([&, id] {
            for (int round = 0; round < 3; round++) {
              order.push_back(id);
              goro::gosched();
            }
            done++;
          });
        }
        while (done.load() < 3) goro::gosched();
      },
      goro::Config{.procs = 1});
  return order;
}

TEST_F(RuntimeTest, GoschedInterleavesInFifoOrderAtOneP) {
  std::vector<int> order = three_rounds();
#if GORO_CHAPTER >= 5
  // From chapter 05 a new goroutine goes to runnext, as in Go: the last one
  // spawned runs first, the others follow in order.
  const std::vector<int> round{2, 0, 1};
#else
  const std::vector<int> round{0, 1, 2};
#endif
  std::vector<int> want;
  for (int r = 0; r < 3; r++) want.insert(want.end(), round.begin(), round.end());
  EXPECT_EQ(order, want);
}

// Two goroutines that keep yielding at one P take turns: neither runs
// more than twice in a row. (Not strictly once: every 61st tick the P
// takes a G from the global queue first, as Go's does, which can put the
// one that just yielded ahead of the other.)
TEST_F(RuntimeTest, TwoYieldingGoroutinesTakeTurnsAtOneP) {
  std::vector<char> trace;
  goro::run(
      [&] {
        std::atomic<int> done{0};
        for (char c : {'a', 'b'}) {
          goro::go([&, c] {
            for (int i = 0; i < 200; i++) {
              trace.push_back(c);
              goro::gosched();
            }
            done++;
          });
        }
        while (done.load() < 2) {
#if GORO_CHAPTER >= 2
          goro::sleep_for(std::chrono::milliseconds(1));  // main stays out of the queues
#else
          goro::gosched();
#endif
        }
      },
      goro::Config{.procs = 1});
  ASSERT_EQ(trace.size(), 400u);
  std::size_t longest = 1, run = 1;
  for (std::size_t i = 1; i < trace.size(); i++) {
    run = trace[i] == trace[i - 1] ? run + 1 : 1;
    if (trace[i] != trace.back() || i < 300) longest = std::max(longest, run);
  }
  EXPECT_LE(longest, 2u) << "one goroutine kept the P";
}

TEST_P(GoschedProcs, ManyYieldingGoroutinesAllFinish) {
  std::atomic<long> yields{0};
  std::atomic<int> done{0};
  goro::run(
      [&] {
        for (int i = 0; i < 50; i++) {
          goro::go([&] {
            for (int k = 0; k < 200; k++) {
              yields++;
              goro::gosched();
            }
            done++;
          });
        }
        while (done.load() < 50) goro::gosched();
      },
      goro::Config{.procs = procs()});
  EXPECT_EQ(yields.load(), 50 * 200);
}

INSTANTIATE_TEST_SUITE_P(Procs, GoschedProcs,
                         ::testing::ValuesIn(goro::testing::proc_counts));

}  // namespace
