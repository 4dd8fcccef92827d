// hog_test.cpp: a goroutine that never calls goro keeps its P (goro is
// cooperative, as Go was before 1.14), yet the goroutines asleep on that
// P's timers still wake, on another P: some other M always watches the
// earliest deadline (Go's addtimer and wakeNetPoller). First chapter: 05.
// It needs work stealing: if a sleeper's timer is due already when the
// hogged P's own M looks at it, just before it starts the hog (every time
// under ThreadSanitizer, which slows everything), the woken goroutine goes
// on that P's local queue, and in chapter 04 no other P can take it.
#include <goro/goro.hpp>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <functional>

#include "support.hpp"

namespace {
using namespace std::chrono_literals;
using goro::testing::RuntimeTest;

// hog spins, calling nothing of goro, until told to stop, and says when it
// has. main must wait for that: a hog still running when main returns
// keeps its M, and run() would wait for it for ever.
struct hog {
  std::atomic<bool> running{false}, stop{false}, done{false};
  void operator()() {
    running = true;
    while (!stop.load()) {
    }
    done = true;
  }
  void finish() {
    stop = true;
    while (!done.load()) goro::sleep_for(1ms);
  }
};

// main starts a hog, which goes into its P's runnext, and sleeps: the hog
// then runs on main's P, which holds main's timer, and never gives it
// back until main, woken elsewhere, tells it to stop.
TEST_F(RuntimeTest, ASleeperWakesWhileAGoroutineHogsItsP) {
  std::atomic<int> woke{0};
  hog h;
  goro::run(
      [&] {
        goro::go(std::ref(h));
        for (int i = 0; i < 20; i++) {
          goro::sleep_for(1ms);
          woke++;
        }
        EXPECT_TRUE(h.running.load());
        h.finish();
      },
      goro::Config{.procs = 2});
  EXPECT_EQ(woke.load(), 20);
}

// The same with many sleepers behind one hog: every one of them wakes.
TEST_F(RuntimeTest, ManySleepersWakeWhileAGoroutineHogsItsP) {
  constexpr int n = 50;
  std::atomic<int> woke{0};
  hog h;
  goro::run(
      [&] {
        for (int i = 0; i < n; i++) {
          goro::go([&] {
            goro::sleep_for(2ms);
            woke++;
          });
        }
        goro::go(std::ref(h));
        while (woke.load() < n) goro::sleep_for(1ms);
        h.finish();
      },
      goro::Config{.procs = 2});
  EXPECT_EQ(woke.load(), n);
}

}  // namespace
