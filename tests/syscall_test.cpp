// syscall_test.cpp: goro::syscall hands the P to another thread while the
// call blocks, and hands the call's result (or exception) back.
// First chapter: 04.
#include <goro/goro.hpp>
#include <gtest/gtest.h>

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>

#include "goro/common/sanitizer.hpp"
#include "support.hpp"

namespace {
using namespace std::chrono_literals;
using goro::testing::RuntimeTest;
class SyscallProcs : public goro::testing::RuntimeProcsTest {};

// The article's scenario at procs=1: while one goroutine's thread is blocked
// for 300 ms, another goroutine keeps running (on another thread, with the
// P that sysmon took from the blocked one).
TEST_F(RuntimeTest, ABlockedSyscallDoesNotStopOthersAtOneP) {
  long progress_while_blocked = 0;
  goro::run(
      [&] {
        std::atomic<bool> blocked{false}, stop{false};
        std::atomic<long> progress{0};
        std::atomic<int> done{0};
        goro::go([&] {
          while (!stop.load()) {
            if (blocked.load()) progress++;
            goro::gosched();
          }
          done++;
        });
        goro::go([&] {
          goro::syscall([&] {
            blocked = true;
            std::this_thread::sleep_for(300ms);
            blocked = false;
          });
          progress_while_blocked = progress.load();
          stop = true;
          done++;
        });
        while (done.load() < 2) goro::sleep_for(1ms);
      },
      goro::Config{.procs = 1});
  EXPECT_GT(progress_while_blocked, 0);
}

TEST_F(RuntimeTest, SyscallHandsBackItsResult) {
  int i = 0;
  std::string s;
  std::unique_ptr<int> p;
  goro::run([&] {
    i = goro::syscall([] { return 42; });
    s = goro::syscall([] { return std::string("read"); });
    p = goro::syscall([] { return std::make_unique<int>(7); });
    goro::syscall([] {});  // void works too
  });
  EXPECT_EQ(i, 42);
  EXPECT_EQ(s, "read");
  ASSERT_TRUE(p);
  EXPECT_EQ(*p, 7);
}

TEST_F(RuntimeTest, SyscallLetsItsExceptionThroughAndTheGoroutineGoesOn) {
  std::string caught;
  bool went_on = false;
  goro::run(
      [&] {
        try {
          goro::syscall([]() -> int {
            std::this_thread::sleep_for(5ms);
            throw std::runtime_error("EIO");
          });
        } catch (const std::runtime_error& e) {
          caught = e.what();
        }
        goro::gosched();
        goro::sleep_for(1ms);
        went_on = true;
      },
      goro::Config{.procs = 1});
  EXPECT_EQ(caught, "EIO");
  EXPECT_TRUE(went_on);
}

TEST_F(RuntimeTest, SyscallOutsideRunThrows) {
  EXPECT_THROW(goro::syscall([] { return 1; }), std::logic_error);
}

// Many goroutines block and return at once: none is lost, and the number
// of threads stays bounded by the blocked goroutines plus the Ps.
TEST_P(SyscallProcs, ManyBlockingGoroutinesLoseNothing) {
  const int n = 32, calls = 10;
  std::atomic<int> done{0}, returned{0};
  const int before = goro::testing::thread_count();
  int most_threads = 0;
  goro::run(
      [&] {
        for (int i = 0; i < n; i++) {
          goro::go([&] {
            for (int k = 0; k < calls; k++) {
              returned += goro::syscall([] {
                std::this_thread::sleep_for(1ms);
                return 1;
              });
              if (k % 3 == 0) goro::gosched();
            }
            done++;
          });
        }
        while (done.load() < n) {
          most_threads = std::max(most_threads, goro::testing::thread_count());
          goro::sleep_for(1ms);
        }
      },
      goro::Config{.procs = procs()});
  EXPECT_EQ(returned.load(), n * calls);
  // Blocked goroutines + one M per P + sysmon (+ slack for threads that
  // are exiting their syscall while we count).
  EXPECT_LE(most_threads - before, n + procs() + 2);
}

INSTANTIATE_TEST_SUITE_P(Procs, SyscallProcs, ::testing::Values(1, 2, 4));

// The function given to syscall runs outside the scheduler (its P may be
// another M's by now): calling goro from it is a clear error, and the
// goroutine goes on normally afterwards.
TEST_F(RuntimeTest, GoroCallsInsideASyscallThrowLogicError) {
  int threw = 0;
  std::string what;
  std::atomic<int> after{0};
  goro::run([&] {
    goro::syscall([&] {
      auto expect_throw = [&](auto call) {
        try {
          call();
        } catch (const std::logic_error& e) {
          threw++;
          what = e.what();
        }
      };
      expect_throw([] { goro::go([] {}); });
      expect_throw([] { goro::gosched(); });
      expect_throw([] { goro::sleep_for(1ms); });
      expect_throw([] { goro::syscall([] {}); });
      expect_throw([] { (void)goro::gomaxprocs(); });
      expect_throw([] { (void)goro::num_goroutine(); });
    });
    goro::go([&] { after++; });
    while (after.load() == 0) goro::sleep_for(1ms);
  }, goro::Config{.procs = 1});
  EXPECT_EQ(threw, 6);
  EXPECT_EQ(what, "goro::num_goroutine: called inside goro::syscall (its function must not call goro)");
  EXPECT_EQ(after.load(), 1);
}

// Main returns while sysmon is taking Ps that still have queued work from
// Ms in syscalls: the program must end cleanly, not with "fatal error:
// pidleput: P has non-empty run queue" (startm used to put such a P back
// on the idle list once main had returned). A race, so many short runs, in
// a child process.
TEST(ExitDeathTest, MainReturningWhileSysmonRetakesPsWithWorkEndsCleanly) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  const int runs = goro::common::san::tsan ? 40 : goro::common::san::asan ? 150 : 600;
  EXPECT_EXIT({
    alarm(600);  // a hang fails the test instead of the whole run
    for (int r = 0; r < runs; r++) {
      goro::run([] {
        auto stop = std::make_shared<std::atomic<bool>>(false);
        for (int i = 0; i < 8; i++) {
          goro::go([stop] {
            while (!stop->load()) {
              goro::go([] {});  // queued on our P while we block
              goro::syscall([] { usleep(300); });
            }
          });
        }
        goro::sleep_for(4ms);
        stop->store(true);
      }, goro::Config{.procs = 8});
    }
    std::exit(0);
  }, ::testing::ExitedWithCode(0), "");
}

}  // namespace
