// lifecycle_test.cpp: run() from boot to teardown: repeated runs, main
// returning while other goroutines still exist, and nothing left behind.
// First chapter: 01.
#include <goro/goro.hpp>
#include <gtest/gtest.h>

#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <string>
#include <vector>

#include "support.hpp"

namespace {
class LifecycleProcs : public goro::testing::RuntimeProcsTest {};
using goro::testing::RuntimeTest;

TEST_F(RuntimeTest, RunCanBeCalledAThousandTimes) {
  int total = 0;
  for (int i = 0; i < 1000; i++) {
    std::atomic<int> done{0};
    int rc = goro::run([&] {
      goro::go([&] { done++; });
      while (done.load() == 0) goro::gosched();
    }, goro::Config{.procs = 1 + i % 2});
    ASSERT_EQ(rc, 0);
    total += done.load();
  }
  EXPECT_EQ(total, 1000);
}

TEST_P(LifecycleProcs, MainReturningAbandonsRunnableGoroutines) {
  std::atomic<int> started{0};
  int rc = goro::run(
      [&] {
        for (int i = 0; i < 20; i++) {
          goro::go([&] {
            started++;
            for (;;) goro::gosched();  // never ends by itself
          });
        }
        // Goroutines that never ran, holding heap memory in their arguments:
        // their copies must be freed too (LeakSanitizer checks).
        for (int i = 0; i < 20; i++) {
          goro::go([](std::string s, std::vector<int> v) { (void)s, (void)v; },
                   std::string(100, 'x'), std::vector<int>(100));
        }
        while (started.load() < 5) goro::gosched();
      },
      goro::Config{.procs = procs()});
  EXPECT_EQ(rc, 0);
}

INSTANTIATE_TEST_SUITE_P(Procs, LifecycleProcs,
                         ::testing::ValuesIn(goro::testing::proc_counts));

// Goroutines left behind when main returns are stopped at their next call
// into goro, so that every thread can return and run() with them: a
// goroutine that keeps spawning, one that keeps yielding, and (from
// chapter 03, where syscall is a call into goro) one that keeps making
// syscalls. Each runs in a child process with a watchdog: a run() that
// never returns is killed by SIGALRM, and the test fails instead of
// hanging.
//
// Before chapter 04 nothing preempts a goroutine: at one P, one that never
// yields would keep main itself from running again, so these tests need a
// second P there (chapter 02 has only one, and a goroutine that spawns for
// ever simply holds it).
#if GORO_CHAPTER >= 4
const std::vector<int> left_behind_procs{1, 2, 4};
#else
const std::vector<int> left_behind_procs{2, 4};
#endif

// leave_behind runs, at each proc count, a main that starts `n` goroutines
// running `forever` and returns once one of them has started; it exits 0 if
// every run() returned (a child process runs it, under a watchdog).
void leave_behind(void (*forever)(), int n, const std::vector<int>& procs_list) {
  alarm(60);
  for (int procs : procs_list) {
    goro::run([forever, n] {
      std::atomic<bool> started{false};
      for (int i = 0; i < n; i++) {
        goro::go([&started, forever] {
          started = true;
          forever();
        });
      }
      while (!started.load()) goro::gosched();
    }, goro::Config{.procs = procs});
  }
  std::exit(0);
}

#if GORO_CHAPTER != 2
TEST(LeftBehindDeathTest, AGoroutineThatKeepsSpawningDoesNotKeepRunFromReturning) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(leave_behind([] { for (;;) goro::go([] {}); }, 1, left_behind_procs),
              ::testing::ExitedWithCode(0), "");
}
#endif

TEST(LeftBehindDeathTest, AGoroutineThatKeepsYieldingDoesNotKeepRunFromReturning) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(leave_behind([] { for (;;) goro::gosched(); }, 1, {1, 2, 4}),
              ::testing::ExitedWithCode(0), "");
}

#if GORO_CHAPTER >= 3
TEST(LeftBehindDeathTest, AGoroutineThatKeepsMakingSyscallsDoesNotKeepRunFromReturning) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(leave_behind([] { for (;;) goro::syscall([] { usleep(100); }); }, 4,
                           left_behind_procs),
              ::testing::ExitedWithCode(0), "");
}
#endif

// One G (and its stack and saved context) runs goroutine after goroutine:
// 50,000 of them, one at a time. Under ThreadSanitizer this once crashed
// after about 20,000: each goroutine left a few entries on the shadow call
// stack of its context's TSan fiber (see make_context).
TEST_F(RuntimeTest, OneGRunsFiftyThousandGoroutinesInTurn) {
  long ran = 0;
  goro::run([&] {
    for (int i = 0; i < 50000; i++) {
      std::atomic<bool> done{false};
      goro::go([&] { done = true; });
      while (!done.load()) goro::gosched();
      ran++;
    }
  }, goro::Config{.procs = 1});
  EXPECT_EQ(ran, 50000);
}

TEST_F(RuntimeTest, MainThatSpawnsNothingReturnsZero) {
  bool ran = false;
  EXPECT_EQ(goro::run([&] { ran = true; }), 0);
  EXPECT_TRUE(ran);
}

}  // namespace
