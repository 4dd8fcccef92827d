// gosched_test.cpp: yielding. At one P goroutines take turns in a fixed
// order; at several they all finish.
// First chapter: 01.
#include <goro/goro.hpp>
#include <gtest/gtest.h>

#include <atomic>
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

TEST_F(RuntimeTest, TwoYieldingGoroutinesAlternateAtOneP) {
  std::vector<char> trace;
  goro::run(
      [&] {
        std::atomic<int> done{0};
        for (char c : {'a', 'b'}) {
          goro::go([&, c] {
            for (int i = 0; i < 100; i++) {
              trace.push_back(c);
              goro::gosched();
            }
            done++;
          });
        }
        while (done.load() < 2) goro::gosched();
      },
      goro::Config{.procs = 1});
  ASSERT_EQ(trace.size(), 200u);
  for (std::size_t i = 1; i < trace.size(); i++) {
    ASSERT_NE(trace[i], trace[i - 1]) << "no alternation at step " << i;
  }
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
