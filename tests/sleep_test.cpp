// sleep_test.cpp: sleep_for parks the goroutine, never the thread; timers
// fire in deadline order; many sleepers cost no threads.
// First chapter: 02.
#include <goro/goro.hpp>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <vector>

#include "goro/common/sanitizer.hpp"
#include "support.hpp"

namespace {
using namespace std::chrono_literals;
using goro::testing::RuntimeTest;
class SleepProcs : public goro::testing::RuntimeProcsTest {};

TEST_P(SleepProcs, SleepersWakeInDeadlineOrder) {
  std::vector<int> order;
  std::mutex mu;
  goro::run(
      [&] {
        std::atomic<int> done{0}, ready{0};
        std::atomic<bool> start{false};
        for (int ms : {90, 30, 60, 0}) {
          goro::go([&, ms] {
            // All start sleeping together, however long spawning took.
            ready++;
            while (!start.load()) goro::gosched();
            goro::sleep_for(std::chrono::milliseconds(ms));
            std::lock_guard<std::mutex> l(mu);
            order.push_back(ms);
            done++;
          });
        }
        while (ready.load() < 4) goro::sleep_for(1ms);
        start = true;
        while (done.load() < 4) goro::sleep_for(1ms);
      },
      goro::Config{.procs = procs()});
  EXPECT_EQ(order, (std::vector<int>{0, 30, 60, 90}));
}

INSTANTIATE_TEST_SUITE_P(Procs, SleepProcs, ::testing::ValuesIn(goro::testing::proc_counts));

TEST_F(RuntimeTest, SleepLastsAtLeastItsDuration) {
  std::chrono::steady_clock::duration took{};
  goro::run([&] {
    auto t0 = std::chrono::steady_clock::now();
    goro::sleep_for(20ms);
    took = std::chrono::steady_clock::now() - t0;
  });
  EXPECT_GE(took, 20ms);
}

TEST_F(RuntimeTest, ZeroAndNegativeSleepsReturnAtOnce) {
  bool done = false;
  goro::run([&] {
    goro::sleep_for(0ns);
    goro::sleep_for(-5s);
    done = true;
  });
  EXPECT_TRUE(done);
}

// At one P, a goroutine that sleeps must leave the thread to the others:
// the spinner makes progress while the sleeper sleeps.
TEST_F(RuntimeTest, ASleepingGoroutineNeverBlocksTheThread) {
  long progress_during_sleep = -1;
  goro::run(
      [&] {
        std::atomic<long> spins{0};
        std::atomic<bool> stop{false};
        goro::go([&] {
          while (!stop.load()) {
            spins++;
            goro::gosched();
          }
        });
        long before = spins.load();
        goro::sleep_for(50ms);
        progress_during_sleep = spins.load() - before;
        stop = true;
      },
      goro::Config{.procs = 1});
  EXPECT_GT(progress_during_sleep, 0);
}

// 100,000 goroutines asleep at once: no thread each, and stacks within the
// kernel's mapping limit. (ThreadSanitizer treats each goroutine as a
// thread with a vector clock as wide as all of them, and caps their number:
// its build checks 1,000, and AddressSanitizer's, whose every stack page
// comes with shadow pages, 20,000.)
TEST_F(RuntimeTest, AHundredThousandGoroutinesSleepAtOnce) {
  const int n = goro::common::san::tsan ? 1000 : goro::common::san::asan ? 20000 : 100000;
  int alive_at_peak = 0;
  std::atomic<int> asleep{0}, woke{0};
  std::atomic<bool> release{false};
  goro::run([&] {
    for (int i = 0; i < n; i++) {
      goro::go([&] {
        asleep++;
        do goro::sleep_for(200ms); while (!release.load());
        woke++;
      });
    }
    while (asleep.load() < n) goro::sleep_for(1ms);
    alive_at_peak = goro::num_goroutine();
    release = true;
    while (woke.load() < n) goro::sleep_for(5ms);
  });
  EXPECT_EQ(alive_at_peak, n + 1);
  EXPECT_EQ(woke.load(), n);
}

TEST_F(RuntimeTest, MainReturningAbandonsSleepers) {
  auto t0 = std::chrono::steady_clock::now();
  int rc = goro::run([] {
    for (int i = 0; i < 100; i++) goro::go([] { goro::sleep_for(1h); });
    goro::sleep_for(1ms);
  });
  EXPECT_EQ(rc, 0);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 30min) << "run() waited for sleepers";
}

}  // namespace
