// support.cpp: test helpers shared by every chapter's tests.
#include "support.hpp"

#include <dirent.h>

#include <algorithm>
#include <chrono>
#include <thread>

#include "goro/common/stack.hpp"

namespace goro::testing {

int thread_count() {
  int n = 0;
  if (DIR* d = opendir("/proc/self/task")) {
    while (dirent* e = readdir(d)) {
      if (e->d_name[0] != '.') n++;
    }
    closedir(d);
  }
  return n;
}

int settled_thread_count(int expected) {
  int n = thread_count();
  for (int i = 0; i < 200 && n != expected; i++) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    n = thread_count();
  }
  return n;
}

namespace {
void check_leftovers(int threads_before) {
  EXPECT_EQ(common::stack_mappings_alive(), 0u) << "run() left goroutine stacks mapped";
  EXPECT_EQ(settled_thread_count(threads_before), threads_before)
      << "run() left threads behind";
}
}  // namespace

namespace {
// baseline counts the process's threads before a test. The first thread a
// process makes can bring helpers of its own (ThreadSanitizer starts a
// background thread then), so one is made and joined first, once. A thread
// that was just joined can still be listed for a moment (the kernel reaps
// it after pthread_join returns): the baseline is the least count seen
// over 10 ms, so that it never counts a thread on its way out.
int baseline() {
  static const bool warmed = [] {
    std::thread([] {}).join();
    return true;
  }();
  (void)warmed;
  int n = thread_count();
  for (int i = 0; i < 10; i++) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
    n = std::min(n, thread_count());
  }
  return n;
}
}  // namespace

void RuntimeTest::SetUp() { threads_before_ = baseline(); }
void RuntimeTest::TearDown() { check_leftovers(threads_before_); }
void RuntimeProcsTest::SetUp() { threads_before_ = baseline(); }
void RuntimeProcsTest::TearDown() { check_leftovers(threads_before_); }

}  // namespace goro::testing
