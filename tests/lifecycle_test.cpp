// lifecycle_test.cpp: run() from boot to teardown: repeated runs, main
// returning while other goroutines still exist, and nothing left behind.
// First chapter: 01.
#include <goro/goro.hpp>
#include <gtest/gtest.h>

#include <atomic>
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

TEST_F(RuntimeTest, MainThatSpawnsNothingReturnsZero) {
  bool ran = false;
  EXPECT_EQ(goro::run([&] { ran = true; }), 0);
  EXPECT_TRUE(ran);
}

}  // namespace
