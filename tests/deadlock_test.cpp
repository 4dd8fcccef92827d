// deadlock_test.cpp: how a program of channels ends when it cannot go on,
// as Go's do: every goroutine blocked, with nothing left to wake one (no
// timer, no syscall in flight), ends it with "fatal error: all goroutines
// are asleep - deadlock!" and each goroutine's header with its wait reason,
// exit status 2; a misuse of a channel panics ("send on closed channel",
// "close of closed channel", "close of nil channel"), exit status 2. And
// programs that only look stuck (waiting on a timer, a sleeper, a syscall,
// a goroutine that keeps yielding) must not be taken for deadlocked.
// Ported from Go's src/runtime/crash_test.go (TestSimpleDeadlock: a main
// that runs `select {}`, from testdata/testprog/deadlock.go), extended to
// every wait reason a channel gives, and checked against what Go's runtime
// prints: checkdead (src/runtime/proc.go), goroutineheader
// (src/runtime/traceback.go), the panics of chansend and closechan
// (src/runtime/chan.go) and selectgo (src/runtime/select.go).
// First chapter: 06.
#include <goro/goro.hpp>
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <string>

#include "death_support.hpp"
#include "support.hpp"

namespace {
using namespace std::chrono_literals;
using goro::chan;
using goro::make_chan;
using goro::recv_case;
using goro::select;
using goro::send_case;
using goro::testing::in_child;

class ChanDeadlockDeathTest : public goro::testing::DeathTest {};
class ChanDeadlockProcsDeathTest : public goro::testing::ProcsDeathTest {};

// What Go prints first.
const std::string deadlock = "fatal error: all goroutines are asleep - deadlock!\n\n";

// header is the regex of goroutine g's header with wait reason `reason`.
std::string header(int g, const std::string& reason) {
  std::string r = "goroutine " + std::to_string(g) + " \\[";
  for (char c : reason) {
    if (c == '(' || c == ')') r += '\\';
    r += c;
  }
  return r + "\\]:";
}

// either_order matches a and b in either order.
std::string either_order(const std::string& a, const std::string& b) {
  return "(" + a + ".*" + b + "|" + b + ".*" + a + ")";
}

// ---- Deadlocks ----

TEST_P(ChanDeadlockProcsDeathTest, MainBlockedInRecvOnAChannelNobodySendsOn) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(in_child([] { (void)make_chan<int>().recv(); }, procs()),
              ::testing::ExitedWithCode(2), deadlock + header(1, "chan receive"));
}

TEST_P(ChanDeadlockProcsDeathTest, MainBlockedInSendOnAFullChannel) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(in_child(
                  [] {
                    auto c = make_chan<int>(2);
                    c.send(1);
                    c.send(2);
                    c.send(3);
                  },
                  procs()),
              ::testing::ExitedWithCode(2), deadlock + header(1, "chan send"));
}

TEST_P(ChanDeadlockProcsDeathTest, RecvOnANilChannel) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(in_child([] { (void)chan<int>().recv(); }, procs()), ::testing::ExitedWithCode(2),
              deadlock + header(1, "chan receive (nil chan)"));
}

TEST_P(ChanDeadlockProcsDeathTest, SendOnANilChannel) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(in_child([] { chan<int>().send(1); }, procs()), ::testing::ExitedWithCode(2),
              deadlock + header(1, "chan send (nil chan)"));
}

TEST_P(ChanDeadlockProcsDeathTest, SelectWithNoCases) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(in_child([] { select(); }, procs()), ::testing::ExitedWithCode(2),
              deadlock + header(1, "select (no cases)"));
}

TEST_P(ChanDeadlockProcsDeathTest, SelectOfTwoCasesNeitherReady) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(in_child(
                  [] {
                    auto a = make_chan<int>(), b = make_chan<int>();
                    select(recv_case(a, [] {}), send_case(b, 1, [] {}));
                  },
                  procs()),
              ::testing::ExitedWithCode(2), deadlock + header(1, "select"));
}

// Two nil channels' cases: a select still, never ready.
TEST_F(ChanDeadlockDeathTest, SelectOnlyOnNilChannels) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(in_child(
                  [] {
                    chan<int> nil;
                    select(recv_case(nil, [] {}), send_case(nil, 1, [] {}));
                  },
                  1),
              ::testing::ExitedWithCode(2), deadlock + header(1, "select"));
}

// A select of one case is the plain operation, as Go's compiler makes it,
// and waits with its reason.
TEST_F(ChanDeadlockDeathTest, SelectOfOneRecvIsAPlainReceive) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(in_child([] { select(recv_case(make_chan<int>(), [] {})); }, 1),
              ::testing::ExitedWithCode(2), deadlock + header(1, "chan receive"));
}

TEST_F(ChanDeadlockDeathTest, SelectOfOneSendIsAPlainSend) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(in_child([] { select(send_case(make_chan<int>(), 1, [] {})); }, 1),
              ::testing::ExitedWithCode(2), deadlock + header(1, "chan send"));
}

// A range over a channel nobody closes.
TEST_F(ChanDeadlockDeathTest, RangeOverAChannelNeverClosed) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(in_child(
                  [] {
                    auto c = make_chan<int>(3);
                    c.send(1);
                    c.send(2);
                    for (int v : c) std::fprintf(stderr, "got %d\n", v);
                  },
                  2),
              ::testing::ExitedWithCode(2), "got 1\ngot 2\n" + deadlock + header(1, "chan receive"));
}

// Every goroutine is listed, each with its own reason.
TEST_P(ChanDeadlockProcsDeathTest, TwoGoroutinesEachBlocked) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(in_child(
                  [] {
                    auto a = make_chan<int>(), b = make_chan<int>();
                    goro::go([b]() mutable { b.send(1); });  // goroutine 2
                    (void)a.recv();
                  },
                  procs()),
              ::testing::ExitedWithCode(2),
              deadlock + ".*" + either_order(header(1, "chan receive"), header(2, "chan send")));
}

TEST_F(ChanDeadlockDeathTest, FourGoroutinesEachWithItsReason) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(in_child(
                  [] {
                    auto a = make_chan<int>(), x = make_chan<int>(), y = make_chan<int>();
                    goro::go([x, y]() mutable { select(recv_case(x, [] {}), send_case(y, 1, [] {})); });
                    goro::go([] { select(); });
                    goro::go([] { chan<int>().send(1); });
                    goro::sleep_for(5ms);  // all three are parked by now, or soon
                    (void)a.recv();
                  },
                  2),
              ::testing::ExitedWithCode(2),
              deadlock + ".*" + header(2, "select") + ".*" + header(3, "select (no cases)") +
                  ".*" + header(4, "chan send (nil chan)"));
}

// Sleepers and after() timers only delay the verdict: once the last timer
// has fired and nobody can run, the program is deadlocked.
TEST_P(ChanDeadlockProcsDeathTest, DeadlockIsFoundOnceTheLastTimerHasFired) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(in_child(
                  [] {
                    auto c = make_chan<int>();
                    goro::go([c]() mutable {  // goroutine 2
                      goro::sleep_for(30ms);
                      std::fprintf(stderr, "slept\n");
                      (void)c.recv();
                    });
                    auto t = goro::after(60ms);  // fires into its buffer; nobody receives
                    (void)t;
                    (void)make_chan<int>().recv();
                  },
                  procs()),
              ::testing::ExitedWithCode(2),
              "slept\n" + deadlock + ".*" +
                  either_order(header(1, "chan receive"), header(2, "chan receive")));
}

// ---- Panics ----

TEST_F(ChanDeadlockDeathTest, SendOnAClosedChannelPanics) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(in_child(
                  [] {
                    auto c = make_chan<int>(1);
                    c.close();
                    c.send(1);
                  },
                  1),
              ::testing::ExitedWithCode(2),
              "panic: send on closed channel\n\ngoroutine 1 \\[running\\]:");
}

TEST_F(ChanDeadlockDeathTest, CloseOfAClosedChannelPanics) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(in_child(
                  [] {
                    auto c = make_chan<int>();
                    c.close();
                    c.close();
                  },
                  1),
              ::testing::ExitedWithCode(2),
              "panic: close of closed channel\n\ngoroutine 1 \\[running\\]:");
}

TEST_F(ChanDeadlockDeathTest, CloseOfANilChannelPanics) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(in_child([] { chan<int>().close(); }, 1), ::testing::ExitedWithCode(2),
              "panic: close of nil channel\n\ngoroutine 1 \\[running\\]:");
}

TEST_F(ChanDeadlockDeathTest, CloseOfANilChannelInAGoroutinePanics) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(in_child(
                  [] {
                    goro::go([] { chan<int>().close(); });
                    goro::sleep_for(30s);
                  },
                  2),
              ::testing::ExitedWithCode(2),
              "panic: close of nil channel\n\ngoroutine 2 \\[running\\]:");
}

// A sender parked on a channel that gets closed wakes up panicking.
TEST_P(ChanDeadlockProcsDeathTest, ASenderBlockedWhenTheChannelIsClosedPanics) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(in_child(
                  [] {
                    auto c = make_chan<int>();
                    goro::go([c]() mutable { c.send(1); });  // goroutine 2
                    goro::sleep_for(20ms);  // it is parked by now (if not, it finds c closed)
                    c.close();
                    goro::sleep_for(30s);
                  },
                  procs()),
              ::testing::ExitedWithCode(2),
              "panic: send on closed channel\n\ngoroutine 2 \\[running\\]:");
}

TEST_F(ChanDeadlockDeathTest, ASelectSendingWhenTheChannelIsClosedPanics) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(in_child(
                  [] {
                    auto c = make_chan<int>(), never = make_chan<int>();
                    goro::go([c, never]() mutable {  // goroutine 2
                      select(send_case(c, 1, [] {}), recv_case(never, [] {}));
                    });
                    goro::sleep_for(20ms);
                    c.close();
                    goro::sleep_for(30s);
                  },
                  2),
              ::testing::ExitedWithCode(2),
              "panic: send on closed channel\n\ngoroutine 2 \\[running\\]:");
}

// ---- Not deadlocks ----

// Main waits on a timer's channel: a timer is pending, so it is no deadlock.
TEST_P(ChanDeadlockProcsDeathTest, MainWaitingOnAfterIsNoDeadlock) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(in_child(
                  [] {
                    const auto t0 = std::chrono::steady_clock::now();
                    auto t = goro::after(50ms).recv();
                    std::fprintf(stderr, "fired %d\n", t && *t >= t0 + 50ms);
                  },
                  procs()),
              ::testing::ExitedWithCode(0), "fired 1");
}

// Main blocked in a receive while the only other goroutine sleeps, then sends.
TEST_P(ChanDeadlockProcsDeathTest, MainBlockedWhileASleeperWillSendIsNoDeadlock) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(in_child(
                  [] {
                    auto c = make_chan<int>();
                    goro::go([c]() mutable {
                      goro::sleep_for(50ms);
                      c.send(7);
                    });
                    std::fprintf(stderr, "got %d\n", c.recv().value_or(-1));
                  },
                  procs()),
              ::testing::ExitedWithCode(0), "got 7");
}

// Main blocked while the only other goroutine is in a blocking syscall.
TEST_P(ChanDeadlockProcsDeathTest, MainBlockedWhileASyscallIsInFlightIsNoDeadlock) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(in_child(
                  [] {
                    auto c = make_chan<int>();
                    goro::go([c]() mutable {
                      goro::syscall([] { usleep(50000); });
                      c.send(7);
                    });
                    std::fprintf(stderr, "got %d\n", c.recv().value_or(-1));
                  },
                  procs()),
              ::testing::ExitedWithCode(0), "got 7");
}

// Main blocked while another goroutine keeps yielding: it runs, so it is
// no deadlock, however long it takes to send.
TEST_P(ChanDeadlockProcsDeathTest, MainBlockedWhileAGoroutineKeepsYieldingIsNoDeadlock) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(in_child(
                  [] {
                    auto c = make_chan<int>();
                    goro::go([c]() mutable {
                      for (int i = 0; i < 20000; i++) goro::gosched();
                      c.send(7);
                    });
                    std::fprintf(stderr, "got %d\n", c.recv().value_or(-1));
                  },
                  procs()),
              ::testing::ExitedWithCode(0), "got 7");
}

// A goroutine blocked for ever while main returns is no deadlock either:
// the program ends when main does.
TEST_P(ChanDeadlockProcsDeathTest, GoroutinesBlockedForEverWhenMainReturnsAreNoDeadlock) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(in_child(
                  [] {
                    goro::go([] { chan<int>().send(1); });
                    goro::go([] { select(); });
                    auto c = make_chan<int>();
                    goro::go([c]() mutable { (void)c.recv(); });
                    goro::sleep_for(5ms);
                    std::fprintf(stderr, "main returns\n");
                  },
                  procs()),
              ::testing::ExitedWithCode(0), "main returns");
}

// A timeout in a select keeps a waiting program alive until it fires.
TEST_P(ChanDeadlockProcsDeathTest, ASelectWithATimeoutIsNoDeadlock) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(in_child(
                  [] {
                    auto c = make_chan<int>();
                    const auto which =
                        select(recv_case(c, [] {}), recv_case(goro::after(40ms), [] {}));
                    std::fprintf(stderr, "timed out %d\n", which == 1);
                  },
                  procs()),
              ::testing::ExitedWithCode(0), "timed out 1");
}

INSTANTIATE_TEST_SUITE_P(Procs, ChanDeadlockProcsDeathTest, ::testing::Values(1, 4));

}  // namespace
