// sync_death_test.cpp: how a program ends when it misuses a WaitGroup or a
// Mutex, or waits on one for ever, as Go's do. A counter taken below 0
// panics ("sync: negative WaitGroup counter"), and so does a wait() that
// wakes to a WaitGroup already reused ("sync: WaitGroup is reused before
// previous Wait has returned"): uncaught, `panic: <text>`, a blank line,
// the goroutine's header, exit status 2. Unlocking an unlocked Mutex is a
// fatal error, not a panic: `fatal error: sync: unlock of unlocked mutex`,
// exit status 2, whatever catches exceptions. Every goroutine blocked in
// wait() or lock() with nothing to wake one is the deadlock of
// deadlock_test.cpp, each waiter listed with Go 1.19's wait reason,
// "semacquire" (Go 1.20 and later say "sync.WaitGroup.Wait" and
// "sync.Mutex.Lock"). And a wait() or lock() that a sleeper will release
// is no deadlock.
// Ported from Go's src/sync/mutex_test.go (TestMutexMisuse, its Mutex
// cases: "Mutex.Unlock" and "Mutex.Unlock2") and
// src/sync/waitgroup_test.go (TestWaitGroupMisuse, uncaught), with the
// texts of src/sync/waitgroup.go, src/sync/mutex.go, checkdead
// (src/runtime/proc.go) and waitReasonSemacquire (src/runtime/runtime2.go).
// "sync: WaitGroup misuse: Add called concurrently with Wait" is not
// tested: the state that panics with it (a counter of 0 with waiters
// still counted) exists only for the moment between the last done()'s
// atomic add and its reset of the word, inside one call, so only a race
// with another thread can hit it, never a deterministic program.
// First chapter: 07.
#include <goro/goro.hpp>
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <string>

#include "death_support.hpp"
#include "support.hpp"

namespace {
using namespace std::chrono_literals;
using goro::make_chan;
using goro::Mutex;
using goro::WaitGroup;
using goro::testing::in_child;

class SyncDeathTest : public goro::testing::DeathTest {};
class SyncProcsDeathTest : public goro::testing::ProcsDeathTest {};

// What Go prints first.
const std::string deadlock = "fatal error: all goroutines are asleep - deadlock!\n\n";
const std::string unlock_of_unlocked = "fatal error: sync: unlock of unlocked mutex\n";

// header is the regex of goroutine g's header with wait reason `reason`.
std::string header(int g, const std::string& reason) {
  return "goroutine " + std::to_string(g) + " \\[" + reason + "\\]:";
}

// panicked is the regex of an uncaught panic with message `what` in
// goroutine g.
std::string panicked(const std::string& what, int g) {
  return "panic: " + what + "\n\n" + header(g, "running");
}

// ---- WaitGroup panics ----

// Go's TestWaitGroupMisuse, with nobody to recover.
TEST_F(SyncDeathTest, NegativeWaitGroupCounterPanics) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(in_child(
                  [] {
                    WaitGroup wg;
                    wg.add(1);
                    wg.done();
                    wg.done();
                  },
                  1),
              ::testing::ExitedWithCode(2), panicked("sync: negative WaitGroup counter", 1));
}

TEST_P(SyncProcsDeathTest, NegativeWaitGroupCounterInAGoroutinePanics) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(in_child(
                  [] {
                    WaitGroup wg;
                    goro::go([&wg] { wg.add(-1); });  // goroutine 2
                    goro::sleep_for(30s);
                  },
                  procs()),
              ::testing::ExitedWithCode(2), panicked("sync: negative WaitGroup counter", 2));
}

// A new round started before a waiter of the last one woke (see
// waitgroup_test.cpp, WaitThatWakesToAReusedWaitGroupPanics, for why this
// order is certain with one P): the waiter panics as it wakes.
TEST_F(SyncDeathTest, WaitGroupReusedBeforeWaitReturnedPanics) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(in_child(
                  [] {
                    WaitGroup wg;
                    auto go_on = make_chan<int>();
                    wg.add(1);
                    goro::go([go_on]() mutable { go_on.send(1); });  // goroutine 2
                    goro::go([&wg] { wg.wait(); });                  // goroutine 3
                    (void)go_on.recv();  // goroutine 3 is parked in wait() now
                    wg.done();
                    wg.add(1);
                    goro::sleep_for(30s);
                  },
                  1),
              ::testing::ExitedWithCode(2),
              panicked("sync: WaitGroup is reused before previous Wait has returned", 3));
}

// ---- Mutex fatal errors (TestMutexMisuse) ----

// "Mutex.Unlock": a mutex never locked. A fatal error, which no catch
// stops: the child would exit 0 if it went on.
TEST_P(SyncProcsDeathTest, UnlockOfANeverLockedMutexIsFatal) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(in_child(
                  [] {
                    Mutex mu;
                    try {
                      mu.unlock();
                    } catch (...) {
                      std::fprintf(stderr, "caught\n");
                    }
                  },
                  procs()),
              ::testing::ExitedWithCode(2), unlock_of_unlocked);
}

// "Mutex.Unlock2": a double unlock.
TEST_P(SyncProcsDeathTest, DoubleUnlockIsFatal) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(in_child(
                  [] {
                    Mutex mu;
                    mu.lock();
                    mu.unlock();
                    std::fprintf(stderr, "unlocked once\n");
                    try {
                      mu.unlock();
                    } catch (...) {
                      std::fprintf(stderr, "caught\n");
                    }
                  },
                  procs()),
              ::testing::ExitedWithCode(2), "unlocked once\n" + unlock_of_unlocked);
}

// The same in another goroutine, with waiters of another mutex around.
TEST_F(SyncDeathTest, DoubleUnlockInAGoroutineIsFatal) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(in_child(
                  [] {
                    Mutex mu, other;
                    other.lock();
                    goro::go([&other] { other.lock(); });
                    goro::go([&mu] {
                      mu.lock();
                      mu.unlock();
                      mu.unlock();
                    });
                    goro::sleep_for(30s);
                  },
                  2),
              ::testing::ExitedWithCode(2), unlock_of_unlocked);
}

// ---- Deadlocks ----

// Main waits on a WaitGroup that nobody will count down.
TEST_P(SyncProcsDeathTest, MainWaitingOnAWaitGroupNobodyDoneIsADeadlock) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(in_child(
                  [] {
                    WaitGroup wg;
                    wg.add(1);
                    wg.wait();
                  },
                  procs()),
              ::testing::ExitedWithCode(2), deadlock + header(1, "semacquire"));
}

// Main locks a Mutex twice.
TEST_P(SyncProcsDeathTest, MainLockingAMutexTwiceIsADeadlock) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(in_child(
                  [] {
                    Mutex mu;
                    mu.lock();
                    mu.lock();
                  },
                  procs()),
              ::testing::ExitedWithCode(2), deadlock + header(1, "semacquire"));
}

// Main waits for goroutine 2, which waits for a Mutex main holds: both in
// semacquire, listed in goid order.
TEST_P(SyncProcsDeathTest, AWaiterAndALockerAreBothListed) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(in_child(
                  [] {
                    Mutex mu;
                    WaitGroup wg;
                    mu.lock();
                    wg.add(1);
                    goro::go([&] {  // goroutine 2
                      mu.lock();
                      wg.done();
                    });
                    wg.wait();
                  },
                  procs()),
              ::testing::ExitedWithCode(2),
              deadlock + header(1, "semacquire") + "\n\n" + header(2, "semacquire"));
}

// Goroutines in wait() and in lock() beside main in a channel receive, each
// with its reason.
TEST_P(SyncProcsDeathTest, WaitLockAndChannelWaitersAreAllListed) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(in_child(
                  [] {
                    Mutex mu;
                    WaitGroup wg;
                    mu.lock();
                    wg.add(1);
                    goro::go([&wg] { wg.wait(); });  // goroutine 2
                    goro::go([&mu] { mu.lock(); });  // goroutine 3
                    (void)make_chan<int>().recv();
                  },
                  procs()),
              ::testing::ExitedWithCode(2),
              deadlock + header(1, "chan receive") + "\n\n" + header(2, "semacquire") + "\n\n" +
                  header(3, "semacquire"));
}

// ---- Not deadlocks ----

// Main waits on a WaitGroup that a sleeper will count down.
TEST_P(SyncProcsDeathTest, WaitingOnAWaitGroupASleeperWillDoneIsNoDeadlock) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(in_child(
                  [] {
                    WaitGroup wg;
                    wg.add(2);
                    for (int i = 0; i < 2; i++) {
                      goro::go([&wg] {
                        goro::sleep_for(30ms);
                        wg.done();
                      });
                    }
                    wg.wait();
                    std::fprintf(stderr, "released\n");
                  },
                  procs()),
              ::testing::ExitedWithCode(0), "released");
}

// Main waits for a Mutex that a sleeper holds and will unlock.
TEST_P(SyncProcsDeathTest, LockingAMutexASleeperHoldsIsNoDeadlock) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(in_child(
                  [] {
                    Mutex mu;
                    auto held = make_chan<int>(1);
                    goro::go([&mu, held]() mutable {
                      mu.lock();
                      held.send(1);
                      goro::sleep_for(30ms);
                      mu.unlock();
                    });
                    (void)held.recv();
                    mu.lock();
                    std::fprintf(stderr, "locked\n");
                    mu.unlock();
                  },
                  procs()),
              ::testing::ExitedWithCode(0), "locked");
}

INSTANTIATE_TEST_SUITE_P(Procs, SyncProcsDeathTest, ::testing::Values(1, 4));

}  // namespace
