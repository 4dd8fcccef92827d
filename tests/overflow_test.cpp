// overflow_test.cpp: a goroutine that runs off the end of its stack ends
// the program with Go's message naming the goroutine, not a bare SIGSEGV.
// First chapter: 01.
#include <goro/goro.hpp>
#include <gtest/gtest.h>

namespace {

volatile int stop_at = -1;  // never reached: the recursion is endless

[[gnu::noinline]] int recurse(int n) {
  volatile char frame[256];
  frame[0] = static_cast<char>(n);
  return n == stop_at ? 0 : recurse(n + 1) + frame[0];
}

TEST(StackOverflowDeathTest, InAGoroutineNamesTheGoroutine) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(goro::run([] {
                goro::go([] { recurse(0); });
                for (;;) goro::gosched();
              }),
              ::testing::ExitedWithCode(2),
              "runtime: goroutine 2 stack exceeds [0-9]+-byte limit\n"
              "fatal error: stack overflow");
}

TEST(StackOverflowDeathTest, InMainNamesGoroutineOne) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(goro::run([] { recurse(0); }, goro::Config{.procs = 2}),
              ::testing::ExitedWithCode(2),
              "runtime: goroutine 1 stack exceeds [0-9]+-byte limit");
}

}  // namespace
