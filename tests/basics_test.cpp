// basics_test.cpp: the chapter-1 API: go, gosched, gomaxprocs,
// num_goroutine, and what happens when they are misused.
// First chapter: 01.
#include <goro/goro.hpp>
#include <gtest/gtest.h>

#include <sched.h>

#include <array>
#include <atomic>
#include <cstdlib>
#include <functional>
#include <stdexcept>
#include <string>

#include "support.hpp"

namespace {
using goro::testing::RuntimeTest;

// wait_for spins main with gosched until `count` reaches `n`.
void wait_for(const std::atomic<int>& count, int n) {
  while (count.load() < n) goro::gosched();
}

TEST_F(RuntimeTest, GoCopiesItsArgumentsAtSpawn) {
  int seen_int = 0;
  std::string seen_str;
  int by_ref = 0;
  std::atomic<int> done{0};
  goro::run([&] {
    int x = 1;
    std::string s = "spawn-time";
    goro::go(
        [&](int v, std::string str, int& ref) {
          seen_int = v;
          seen_str = str;
          ref = 42;
          done++;
        },
        x, s, std::ref(by_ref));
    x = 2;  // too late: x was copied by go()
    s = "changed";
    wait_for(done, 1);
  });
  EXPECT_EQ(seen_int, 1);
  EXPECT_EQ(seen_str, "spawn-time");
  EXPECT_EQ(by_ref, 42) << "std::ref passes a reference, as with std::thread";
}

TEST_F(RuntimeTest, GoAcceptsMoveOnlyArguments) {
  std::atomic<int> got{0};
  goro::run([&] {
    auto p = std::make_unique<int>(7);
    goro::go([&got](std::unique_ptr<int> q) { got = *q; }, std::move(p));
    wait_for(got, 7);
  });
  EXPECT_EQ(got.load(), 7);
}

TEST_F(RuntimeTest, NumGoroutineCountsMainAndTheLiving) {
  int at_start = -1, with_three = -1, at_end = -1;
  goro::run([&] {
    at_start = goro::num_goroutine();
    std::atomic<bool> release{false};
    std::atomic<int> finished{0};
    for (int i = 0; i < 3; i++) {
      goro::go([&] {
        while (!release.load()) goro::gosched();
        finished++;
      });
    }
    with_three = goro::num_goroutine();
    release = true;
    wait_for(finished, 3);
    // A goroutine that counted itself finished may still be on its way out.
    while (goro::num_goroutine() != 1) goro::gosched();
    at_end = goro::num_goroutine();
  });
  EXPECT_EQ(at_start, 1);
  EXPECT_EQ(with_three, 4);
  EXPECT_EQ(at_end, 1);
}

TEST_F(RuntimeTest, GomaxprocsReportsTheConfiguredProcs) {
  int seen = 0;
  goro::run([&] { seen = goro::gomaxprocs(); }, goro::Config{.procs = 3});
#if GORO_CHAPTER == 2
  EXPECT_EQ(seen, 1) << "chapter 02 has exactly one P";
#else
  EXPECT_EQ(seen, 3);
#endif
}

TEST_F(RuntimeTest, GomaxprocsEnvironmentIsTheDefault) {
  const char* old = std::getenv("GOMAXPROCS");
  std::string saved = old ? old : "";
  setenv("GOMAXPROCS", "3", 1);
  int seen = 0, ignored = 0;
  goro::run([&] { seen = goro::gomaxprocs(); });
  setenv("GOMAXPROCS", "not-a-number", 1);  // Go ignores it: the CPU count
  goro::run([&] { ignored = goro::gomaxprocs(); });
  if (old) setenv("GOMAXPROCS", saved.c_str(), 1); else unsetenv("GOMAXPROCS");
#if GORO_CHAPTER == 2
  EXPECT_EQ(seen, 1);
  EXPECT_EQ(ignored, 1);
#else
  EXPECT_EQ(seen, 3);
  EXPECT_GE(ignored, 1);
#endif
}

TEST_F(RuntimeTest, CallsOutsideRunThrowLogicError) {
  EXPECT_THROW(goro::go([] {}), std::logic_error);
  EXPECT_THROW(goro::gosched(), std::logic_error);
  EXPECT_THROW(goro::gomaxprocs(), std::logic_error);
  EXPECT_THROW(goro::num_goroutine(), std::logic_error);
#if GORO_CHAPTER >= 2
  EXPECT_THROW(goro::sleep_for(std::chrono::milliseconds(1)), std::logic_error);
#endif
}

TEST_F(RuntimeTest, RunInsideRunThrowsLogicError) {
  bool threw = false;
  goro::run([&] {
    try {
      goro::run([] {});
    } catch (const std::logic_error&) {
      threw = true;
    }
  });
  EXPECT_TRUE(threw);
}

TEST_F(RuntimeTest, BadConfigIsRejected) {
  EXPECT_THROW(goro::run([] {}, goro::Config{.procs = -1}), std::invalid_argument);
  EXPECT_THROW(goro::run(std::function<void()>{}), std::invalid_argument);
  EXPECT_EQ(goro::run([] {}), 0) << "a rejected run() leaves the runtime usable";
}

TEST_F(RuntimeTest, ASmallStackSizeIsHonoured) {
  std::atomic<int> done{0};
  goro::run(
      [&] {
        goro::go([&] { done++; });
        wait_for(done, 1);
      },
      goro::Config{.procs = 1, .stack_size = 32 * 1024});
  EXPECT_EQ(done.load(), 1);
}

// A closure may take at most half its goroutine's stack (see place_closure):
// a bigger one would be built below the stack's end. The argument comes
// from static storage, so that the caller's own stack is not the limit.
std::array<char, 200 * 1024> big_argument;

TEST(GoDeathTest, AClosureLargerThanHalfTheStackIsRefusedAsGoDoes) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(goro::run([] {
                goro::go([](const std::array<char, 200 * 1024>& a) { (void)a; }, big_argument);
                goro::gosched();
              }, goro::Config{.procs = 1}),  // 256 KiB stacks
              ::testing::ExitedWithCode(2),
              "fatal error: newproc: function arguments too large for new goroutine");
}

TEST_F(RuntimeTest, AClosureOfAQuarterOfTheStackIsFine) {
  std::atomic<int> sum{0};
  goro::run([&] {
    static std::array<char, 64 * 1024> a;
    a.fill(1);
    goro::go([&sum](std::array<char, 64 * 1024> copy) {
      int n = 0;
      for (char c : copy) n += c;
      sum = n;
    }, a);
    wait_for(sum, 64 * 1024);
  }, goro::Config{.procs = 1});
  EXPECT_EQ(sum.load(), 64 * 1024);
}

// Go's getproccount: the default GOMAXPROCS is the number of CPUs the
// process may run on, not the machine's (`taskset -c 0` gives 1).
TEST_F(RuntimeTest, TheDefaultProcsFollowTheAffinityMask) {
  cpu_set_t saved, one;
  ASSERT_EQ(sched_getaffinity(0, sizeof(saved), &saved), 0);
  int first = 0;
  while (!CPU_ISSET(first, &saved)) first++;
  CPU_ZERO(&one);
  CPU_SET(first, &one);
  const char* env = std::getenv("GOMAXPROCS");
  const std::string saved_env = env ? env : "";
  unsetenv("GOMAXPROCS");
  ASSERT_EQ(sched_setaffinity(0, sizeof(one), &one), 0);
  int seen = 0;
  goro::run([&] { seen = goro::gomaxprocs(); });
  sched_setaffinity(0, sizeof(saved), &saved);
  if (env) setenv("GOMAXPROCS", saved_env.c_str(), 1);
  EXPECT_EQ(seen, 1);
}

TEST(PanicDeathTest, AnExceptionLeavingAGoroutineEndsTheProgramLikeGo) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(goro::run([] {
                goro::go([] { throw std::runtime_error("boom"); });
                for (;;) goro::gosched();
              }),
              ::testing::ExitedWithCode(2), "panic: boom\n\ngoroutine 2 \\[running\\]:");
}

}  // namespace
