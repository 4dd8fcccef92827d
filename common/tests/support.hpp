// support.hpp: what goro's tests share: observing threads and leftovers,
// and the fixture that checks that run() left nothing behind.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace goro::testing {

/// The number of threads in this process now (entries of /proc/self/task).
int thread_count();

/// The process's threads' count once it has settled: threads that just
/// returned may take a moment to disappear from /proc.
int settled_thread_count(int expected);

/// Proc counts that parallel tests are run at.
inline const std::vector<int> proc_counts{1, 2, 4, 8};

/// RuntimeTest checks, after every test, that run() left no thread and no
/// goroutine stack behind.
class RuntimeTest : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;

 private:
  int threads_before_ = 0;
};

/// The same check, for tests parameterised by a proc count.
class RuntimeProcsTest : public ::testing::TestWithParam<int> {
 protected:
  void SetUp() override;
  void TearDown() override;
  /// The proc count this instance runs with.
  int procs() const { return GetParam(); }

 private:
  int threads_before_ = 0;
};

}  // namespace goro::testing
