// syscall_paths_test.cpp: chapter 04 from the inside: exitsyscall's fast
// and slow paths, and sysmon's retake.
#include <goro/goro.hpp>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "goro/common/sanitizer.hpp"
#include "runtime.hpp"
#include "support.hpp"

namespace {
using namespace std::chrono_literals;
using namespace goro::runtime;
using goro::testing::RuntimeTest;

// A call that returns before sysmon looks: the M takes its own P back
// (exitsyscallfast) and the goroutine goes on on the same M, same P.
TEST_F(RuntimeTest, AShortSyscallTakesTheFastPathBack) {
  bool same_m = false, same_p = false;
  long fast = 0, slow = 0;
  goro::run([&] {
    m* m_before = getm();
    p* p_before = m_before->p;
    goro::syscall([] { return 0; });
    same_m = getm() == m_before;
    same_p = getm()->p == p_before;
    fast = sched->nexitsyscallfast.load();
    slow = sched->nexitsyscallslow.load();
  }, goro::Config{.procs = 2});
  EXPECT_TRUE(same_m);
  EXPECT_TRUE(same_p) << "nobody took the P, so the same P comes back";
  EXPECT_EQ(fast, 1);
  EXPECT_EQ(slow, 0);
}

// The article's picture at procs=1: G blocks, sysmon retakes P0 and hands it
// to another M, which keeps running the spinner. When the call returns
// there is no idle P: G goes to the global queue, its M to the idle list,
// and G resumes later on the M that has the P.
TEST_F(RuntimeTest, ALongSyscallLosesItsPAndTakesTheSlowPath) {
  bool other_m = false;
  long slow = 0, retakes = 0;
  std::atomic<gstatus> in_call{gstatus::_Gidle};
  pstatus p_in_call = pstatus::_Pidle;
  goro::run([&] {
    std::atomic<bool> stop{false};
    std::atomic<g*> blocker{nullptr};
    std::atomic<int> done{0};
    goro::go([&] {
      while (!stop.load()) goro::gosched();  // keeps P0 busy
      done++;
    });
    goro::go([&] {
      blocker = getg();
      m* m_before = getm();
      goro::syscall([&] {
        std::this_thread::sleep_for(5ms);
        in_call = blocker.load()->atomicstatus.load();
        std::this_thread::sleep_for(200ms);
      });
      other_m = getm() != m_before;
      slow = sched->nexitsyscallslow.load();
      retakes = sched->nretake.load();
      stop = true;
      done++;
    });
    // While the call blocks, the P it left is not in _Psyscall for long.
    while (in_call == gstatus::_Gidle) goro::sleep_for(1ms);
    p_in_call = getm()->p->status.load();
    while (done.load() < 2) goro::sleep_for(1ms);
  }, goro::Config{.procs = 1});
  EXPECT_EQ(in_call.load(), gstatus::_Gsyscall);
  EXPECT_EQ(p_in_call, pstatus::_Prunning) << "main runs: the P was handed off";
  EXPECT_GE(retakes, 1);
  EXPECT_GE(slow, 1);
  EXPECT_TRUE(other_m);
}

// sysmon asks a goroutine that has held its P for 10 ms to yield; goro
// honours the request in go(): a main that spawns in a loop lets the
// spawned goroutines run before it has spawned them all.
TEST_F(RuntimeTest, SysmonPreemptsALongSpawningLoop) {
  long ran_before_loop_ended = -1;
  goro::run([&] {
    std::atomic<long> ran{0};
    // Five time slices (sysmon's slice is longer under the sanitizers).
    const auto slice = goro::common::san::tsan ? 200ms : goro::common::san::asan ? 50ms : 10ms;
    const auto end = std::chrono::steady_clock::now() + 5 * slice;
    while (std::chrono::steady_clock::now() < end) goro::go([&] { ran++; });
    ran_before_loop_ended = ran.load();
  }, goro::Config{.procs = 1});
  EXPECT_GT(ran_before_loop_ended, 0);
}

}  // namespace
