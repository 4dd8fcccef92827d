// stack_test.cpp: the stack pool and stack-overflow detection.
#include <gtest/gtest.h>

#include <cstring>
#include <set>

#include "goro/common/context.hpp"
#include "goro/common/stack.hpp"

namespace {
using namespace goro::common;

TEST(StackPool, ReusesStacksAndUnmapsEverything) {
  {
    stack_pool pool(64 * 1024);
    EXPECT_EQ(pool.stack_size(), 64u * 1024);
    stack a = pool.get();
    stack b = pool.get();
    EXPECT_NE(a.lo, b.lo);
    std::memset(a.lo, 1, a.size);  // the whole stack is usable
    pool.put(a);
    stack c = pool.get();
    EXPECT_EQ(c.lo, a.lo) << "a returned stack is reused";
    EXPECT_EQ(pool.allocated(), 2u);
    EXPECT_GT(stack_mappings_alive(), 0u);
  }
  EXPECT_EQ(stack_mappings_alive(), 0u);
}

TEST(StackPool, RoundsSmallSizesUp) {
  stack_pool pool(1000);
  EXPECT_EQ(pool.stack_size(), min_stack_size);
}

TEST(StackPool, ManyStacksStayWithinTheMappingLimit) {
  // More stacks than vm.max_map_count would allow if each had its own
  // guard page: past the guard budget they come from shared mappings.
  stack_pool pool(16 * 1024);
  std::set<void*> seen;
  for (int i = 0; i < 40000; i++) seen.insert(pool.get().lo);
  EXPECT_EQ(seen.size(), 40000u);
  EXPECT_LT(stack_mappings_alive(), 40000u);
}

TEST(StackCheckDeathTest, AStackPointerInTheRedZoneIsReportedAsOverflow) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(
      {
        stack_pool pool(64 * 1024);
        stack s = pool.get();
        check_stack(s, s.hi() - 128, 42);  // fine
        check_stack(s, static_cast<char*>(s.lo) + 100, 42);  // ran off the end
      },
      ::testing::ExitedWithCode(2),
      "runtime: goroutine 42 stack exceeds 65536-byte limit\nfatal error: stack overflow");
}

// Infinite recursion on a guarded stack faults in the guard page; the
// handler names the goroutine instead of dying of a bare SIGSEGV.
volatile int stop_at = -1;
int deep(int n) {
  volatile char frame[512];
  frame[0] = static_cast<char>(n);
  return n == stop_at ? 0 : deep(n + 1) + frame[0];
}

void overflow_a_guarded_stack() {
  overflow_handler handler;
  signal_stack altstack;
  stack_pool pool(64 * 1024);
  stack s = pool.get();
  if (!s.guarded) return;
  static context main_ctx, co;
  init_thread_context(main_ctx);
  make_context(co, s.lo, s.size, s.hi(), [](void*) { deep(0); });
  co.id = 7;
  switch_context(main_ctx, co, nullptr);
}

TEST(StackCheckDeathTest, RecursionIntoTheGuardPageIsReported) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(overflow_a_guarded_stack(), ::testing::ExitedWithCode(2),
              "runtime: goroutine 7 stack exceeds");
}

}  // namespace
