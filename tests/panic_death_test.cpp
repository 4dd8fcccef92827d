// panic_death_test.cpp: how a program ends when nobody recovers its panic,
// as Go's does: the panics oldest first ("panic: <value>", " [recovered]"
// after one that was recovered before a deferred call panicked again, a
// tab before each later one), a blank line, "goroutine N [running]:",
// exit status 2, and nothing else: the crashing goroutine's own deferred
// calls ran first, no other goroutine's did, and goroutines running on
// other threads meanwhile print nothing. The value's text is a
// goro::panic's message, a std::exception's what() (the C++ library's own
// included), "unknown C++ exception" for other types, goro::at's and the
// channels' runtime errors. And the ends that are not panics: main's
// goexit() ("fatal error: no goroutines (main called runtime.Goexit) -
// deadlock!" once the others are done, or the plain deadlock if they are
// stuck), and fatal errors, which no deferred call and no recover() stops:
// "fatal error: sync: unlock of unlocked mutex" and the deadlock. Each
// program's whole stderr is matched, from its first byte to its last.
// Ported from Go's src/runtime/crash_test.go with the programs of
// src/runtime/testdata/testprog/deadlock.go: TestMainGoroutineID,
// TestRecursivePanic to TestRecursivePanic5, TestPanicTraceback,
// TestGoexitDeadlock, TestGoexitCrash (GoexitExit), TestGoexitInPanic,
// TestPanicAfterGoexit, TestRecoveredPanicAfterGoexit,
// TestRecoverBeforePanicAfterGoexit and ...2; TestCrashHandler's idea
// (testprog/crash.go: a goroutine crashes while others run); the texts of
// printpanics and fatalpanic (src/runtime/panic.go), checkdead
// (src/runtime/proc.go) and sync.Mutex (src/sync/mutex.go), as Go 1.19
// prints them. Goroutine ids differ from Go's (whose first user goroutine
// after main is 17 or so); goro numbers them from 2.
// First chapter: 08.
#include <goro/goro.hpp>
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <vector>

#include "death_support.hpp"
#include "panic_support.hpp"
#include "support.hpp"

namespace {
using namespace std::chrono_literals;
using goro::chan;
using goro::make_chan;
using goro::Mutex;
using goro::WaitGroup;
using goro::testing::panic_if;
using goro::testing::in_child;

class PanicCrashDeathTest : public goro::testing::DeathTest {};
class PanicCrashProcsDeathTest : public goro::testing::ProcsDeathTest {};

// say writes s to stderr at once (unbuffered), as the program's own output.
void say(const char* s) { std::fputs(s, stderr); }

// quote is the regex that matches s exactly.
std::string quote(const std::string& s) {
  std::string r;
  for (char c : s) {
    if (std::string("\\^$.|?*+()[]{}").find(c) != std::string::npos) r += '\\';
    r += c;
  }
  return r;
}

// whole matches the whole of stderr: exactly `text`.
std::string whole(const std::string& text) { return "^" + quote(text) + "$"; }

// crash is what an unrecovered panic prints: `panics` (each line already
// "panic: ..."), a blank line and goroutine g's header.
std::string crash(const std::string& panics, int g) {
  return panics + "\n\ngoroutine " + std::to_string(g) + " [running]:\n";
}

const std::string goexit_deadlock = "fatal error: no goroutines (main called runtime.Goexit) - deadlock!\n";
const std::string deadlock = "fatal error: all goroutines are asleep - deadlock!\n";
const std::string unlock_of_unlocked = "fatal error: sync: unlock of unlocked mutex\n";

// ---- Unrecovered panics ----

// TestMainGoroutineID: a panic in main.
TEST_P(PanicCrashProcsDeathTest, APanicInMain) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(in_child([] { goro::panic("boom"); }, procs()), ::testing::ExitedWithCode(2),
              whole(crash("panic: boom", 1)));
}

// A panic in goroutine 2: its own deferred calls run first, last in first
// out; main's and goroutine 3's pending defers never run.
TEST_P(PanicCrashProcsDeathTest, APanicInAGoroutineRunsOnlyItsOwnDefers) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(in_child(
                  [] {
                    goro::defer mains([] { say("main's defer\n"); });
                    auto go_on = make_chan<int>();
                    goro::go([go_on]() mutable {  // goroutine 2
                      (void)go_on.recv();
                      goro::defer d1([] { say("defer 1 of goroutine 2\n"); });
                      goro::defer d2([] { say("defer 2 of goroutine 2\n"); });
                      goro::panic("boom");
                    });
                    goro::go([go_on]() mutable {  // goroutine 3
                      goro::defer d([] { say("defer of goroutine 3\n"); });
                      go_on.send(1);
                      (void)make_chan<int>().recv();
                    });
                    (void)make_chan<int>().recv();
                  },
                  procs()),
              ::testing::ExitedWithCode(2),
              whole("defer 2 of goroutine 2\ndefer 1 of goroutine 2\n" + crash("panic: boom", 2)));
}

// A std::exception's what(), the C++ library's own (std::vector::at), and
// a value of another type.
TEST_F(PanicCrashDeathTest, AStdExceptionPrintsItsWhat) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(in_child([] { throw std::runtime_error("bad thing"); }, 1), ::testing::ExitedWithCode(2),
              whole(crash("panic: bad thing", 1)));
}

TEST_F(PanicCrashDeathTest, TheCLibrarysOutOfRangePrintsItsWhat) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  std::string text;
  try {
    (void)std::vector<int>(3).at(5);
  } catch (const std::out_of_range& e) {
    text = e.what();
  }
  EXPECT_EXIT(in_child([] { (void)std::vector<int>(3).at(5); }, 1), ::testing::ExitedWithCode(2),
              whole(crash("panic: " + text, 1)));
}

TEST_F(PanicCrashDeathTest, AValueOfAnotherTypeIsAnUnknownCppException) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(in_child([] { throw 42; }, 1), ::testing::ExitedWithCode(2),
              whole(crash("panic: unknown C++ exception", 1)));
}

// A panic in a deferred call during a panic: both, oldest first.
TEST_F(PanicCrashDeathTest, APanicDuringAPanicPrintsBoth) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(in_child(
                  [] {
                    goro::defer d([] { goro::panic("second"); });
                    goro::panic("first");
                  },
                  1),
              ::testing::ExitedWithCode(2), whole(crash("panic: first\n\tpanic: second", 1)));
}

// The same in a goroutine whose deferred call first parks and moves on:
// the records travel with it.
TEST_P(PanicCrashProcsDeathTest, APanicDuringAPanicAfterTheDeferredCallParked) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(in_child(
                  [] {
                    goro::go([] {  // goroutine 2
                      goro::defer d([] {
                        goro::sleep_for(1ms);
                        goro::gosched();
                        goro::panic("second");
                      });
                      goro::panic("first");
                    });
                    (void)make_chan<int>().recv();
                  },
                  procs()),
              ::testing::ExitedWithCode(2), whole(crash("panic: first\n\tpanic: second", 2)));
}

// Recover, then panic again with the recovered value (Go: panic(r)).
TEST_F(PanicCrashDeathTest, RecoverThenPanicAgainPrintsRecovered) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(in_child(
                  [] {
                    goro::defer d([] { goro::panic(goro::recover().what()); });
                    goro::panic("first");
                  },
                  1),
              ::testing::ExitedWithCode(2), whole(crash("panic: first [recovered]\n\tpanic: first", 1)));
}

// The same, rethrowing the recovered exception itself.
TEST_F(PanicCrashDeathTest, RecoverThenRethrowTheExceptionPrintsRecovered) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(in_child(
                  [] {
                    goro::defer d([] { std::rethrow_exception(goro::recover().exception()); });
                    throw std::runtime_error("first");
                  },
                  1),
              ::testing::ExitedWithCode(2), whole(crash("panic: first [recovered]\n\tpanic: first", 1)));
}

// TestRecursivePanic: a deferred call recovers "bad" and panics "wrap:
// bad", which the outer function's defer recovers and prints; then main
// panics again. (Go resumes main after the outer function; goro::call.)
TEST_F(PanicCrashDeathTest, RecursivePanic) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(in_child(
                  [] {
                    goro::call([] {
                      goro::defer d([] { say((goro::recover().what() + "\n").c_str()); });
                      [] {
                        goro::defer w([] {
                          if (auto err = goro::recover()) goro::panic("wrap: " + err.what());
                        });
                        goro::panic("bad");
                      }();
                    });
                    goro::panic("again");
                  },
                  1),
              ::testing::ExitedWithCode(2), whole("wrap: bad\n" + crash("panic: again", 1)));
}

// TestRecursivePanic2: the first recover and the second panic in separate
// defers, in the right order.
TEST_F(PanicCrashDeathTest, RecursivePanic2) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(in_child(
                  [] {
                    goro::call([] {
                      goro::defer d([] { say((goro::recover().what() + "\n").c_str()); });
                      [] {
                        goro::defer p2([] { goro::panic("second panic"); });
                        goro::defer r1([] { say((goro::recover().what() + "\n").c_str()); });
                        goro::panic("first panic");
                      }();
                    });
                    goro::panic("third panic");
                  },
                  1),
              ::testing::ExitedWithCode(2),
              whole("first panic\nsecond panic\n" + crash("panic: third panic", 1)));
}

// TestRecursivePanic3: the first panic finishes as a panic, though the
// second (in its deferred call) was recovered.
TEST_F(PanicCrashDeathTest, RecursivePanic3) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(in_child(
                  [] {
                    goro::defer d([] {
                      goro::defer r([] { (void)goro::recover(); });
                      goro::panic("second panic");
                    });
                    goro::panic("first panic");
                  },
                  1),
              ::testing::ExitedWithCode(2), whole(crash("panic: first panic", 1)));
}

// TestRecursivePanic4: one defer recovers the first panic and starts a
// second, never recovered: the first stays on the list, "[recovered]".
TEST_F(PanicCrashDeathTest, RecursivePanic4) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(in_child(
                  [] {
                    goro::defer d([] {
                      (void)goro::recover();
                      goro::panic("second panic");
                    });
                    goro::panic("first panic");
                  },
                  1),
              ::testing::ExitedWithCode(2),
              whole(crash("panic: first panic [recovered]\n\tpanic: second panic", 1)));
}

// TestRecursivePanic5: in three(), a defer recovers and panics again, an
// older one recovers that, and one more defer is still to run; two()
// resumes after three() (goro::call), and main's panic is alone.
void three() {
  goro::defer a([] {});
  goro::defer b([] { say((goro::recover().what() + "\n").c_str()); });
  goro::defer c([] {
    say((goro::recover().what() + "\n").c_str());
    goro::panic("second panic");
  });
  goro::panic("first panic");
}

void two() {
  goro::defer a([] {});
  goro::call(three);
}

TEST_F(PanicCrashDeathTest, RecursivePanic5) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(in_child(
                  [] {
                    two();
                    goro::panic("third panic");
                  },
                  1),
              ::testing::ExitedWithCode(2),
              whole("first panic\nsecond panic\n" + crash("panic: third panic", 1)));
}

// TestPanicTraceback: each frame's deferred call panics in turn.
void pt2() {
  goro::defer d([] { goro::panic("panic pt2"); });
  goro::panic("hello");
}

void pt1() {
  goro::defer d([] { goro::panic("panic pt1"); });
  pt2();
}

TEST_F(PanicCrashDeathTest, PanicTraceback) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(in_child(pt1, 1), ::testing::ExitedWithCode(2),
              whole(crash("panic: hello\n\tpanic: panic pt2\n\tpanic: panic pt1", 1)));
}

// A deferred call that panics at a normal scope exit: a new panic.
TEST_F(PanicCrashDeathTest, APanicInADeferredCallAtANormalExit) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(in_child(
                  [] {
                    {
                      goro::defer d([] { goro::panic("from defer"); });
                    }
                    say("not reached\n");
                  },
                  1),
              ::testing::ExitedWithCode(2), whole(crash("panic: from defer", 1)));
}

// A catch (...) that rethrows: the panic goes on to the crash.
TEST_F(PanicCrashDeathTest, ACatchThatRethrowsLetsThePanicCrash) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(in_child(
                  [] {
                    try {
                      goro::panic("rethrown");
                    } catch (...) {
                      say("caught\n");
                      throw;
                    }
                  },
                  1),
              ::testing::ExitedWithCode(2), whole("caught\n" + crash("panic: rethrown", 1)));
}

// goro::at's index out of range, in main and (negative) in a goroutine.
TEST_F(PanicCrashDeathTest, AnIndexOutOfRange) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(in_child(
                  [] {
                    std::vector<int> a(3);
                    goro::at(a, 5) = 1;
                  },
                  1),
              ::testing::ExitedWithCode(2),
              whole(crash("panic: runtime error: index out of range [5] with length 3", 1)));
}

TEST_P(PanicCrashProcsDeathTest, ANegativeIndexInAGoroutine) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(in_child(
                  [] {
                    goro::go([] {  // goroutine 2
                      std::vector<int> a(3);
                      goro::at(a, -1) = 1;
                    });
                    (void)make_chan<int>().recv();
                  },
                  procs()),
              ::testing::ExitedWithCode(2), whole(crash("panic: runtime error: index out of range [-1]", 2)));
}

// A send on a closed channel in a goroutine, with a defer that does not
// recover.
TEST_P(PanicCrashProcsDeathTest, ASendOnAClosedChannel) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(in_child(
                  [] {
                    goro::go([] {  // goroutine 2
                      goro::defer d([] { say("its defer\n"); });
                      auto c = make_chan<int>(1);
                      c.close();
                      c.send(1);
                    });
                    (void)make_chan<int>().recv();
                  },
                  procs()),
              ::testing::ExitedWithCode(2), whole("its defer\n" + crash("panic: send on closed channel", 2)));
}

// TestCrashHandler's idea: one goroutine crashes while eight others run on
// every P (channel ping-pong, sleeps, each with a pending defer): the
// output is the crash and only the crash.
TEST_P(PanicCrashProcsDeathTest, AGoroutineCrashingWhileOthersRun) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(in_child(
                  [] {
                    const int pairs = 4;
                    auto running = make_chan<int>(2 * pairs);
                    goro::go([running]() mutable {  // goroutine 2
                      for (int i = 0; i < 2 * pairs; i++) (void)running.recv();
                      goro::defer d([] { say("crasher's defer\n"); });
                      goro::panic("crash");
                    });
                    for (int i = 0; i < pairs; i++) {
                      auto ping = make_chan<int>(), pong = make_chan<int>();
                      goro::go([ping, pong, running]() mutable {
                        goro::defer d([] { say("a worker's defer ran\n"); });
                        running.send(1);
                        for (int n = 0;; n++) {
                          ping.send(n);
                          (void)pong.recv();
                        }
                      });
                      goro::go([ping, pong, running]() mutable {
                        goro::defer d([] { say("a worker's defer ran\n"); });
                        running.send(1);
                        for (;;) {
                          pong.send(ping.recv().value_or(0) + 1);
                          goro::sleep_for(10us);
                        }
                      });
                    }
                    goro::defer d([] { say("main's defer ran\n"); });
                    (void)make_chan<int>().recv();
                  },
                  procs()),
              ::testing::ExitedWithCode(2), whole("crasher's defer\n" + crash("panic: crash", 2)));
}

// ---- goexit in main ----

// TestGoexitDeadlock: main's goexit() runs its defers at once; the program
// goes on until the others are done, then ends.
TEST_P(PanicCrashProcsDeathTest, GoexitInMainWithTheOthersFinishing) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(in_child(
                  [] {
                    auto start = make_chan<int>();
                    goro::go([start]() mutable {  // goroutine 2
                      (void)start.recv();
                      say("goroutine 2 done\n");
                    });
                    goro::go([] {
                      for (int i = 0; i < 10; i++) {
                      }
                    });
                    goro::defer d([start]() mutable {
                      say("main's defer\n");
                      start.close();
                    });
                    goro::goexit();
                  },
                  procs()),
              ::testing::ExitedWithCode(2), whole("main's defer\ngoroutine 2 done\n" + goexit_deadlock));
}

// TestGoexitCrash (GoexitExit): the other goroutine sleeps first.
TEST_F(PanicCrashDeathTest, GoexitInMainWhileAnotherSleeps) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(in_child(
                  [] {
                    goro::go([] {
                      goro::sleep_for(1ms);
                      say("slept\n");
                    });
                    goro::goexit();
                  },
                  2),
              ::testing::ExitedWithCode(2), whole("slept\n" + goexit_deadlock));
}

// Main's goexit() while goroutine 2 is blocked for ever: the plain
// deadlock, which lists goroutine 2 alone (main is gone).
TEST_P(PanicCrashProcsDeathTest, GoexitInMainWhileAnotherIsBlockedForever) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(in_child(
                  [] {
                    goro::go([] { (void)make_chan<int>().recv(); });  // goroutine 2
                    goro::goexit();
                  },
                  procs()),
              ::testing::ExitedWithCode(2), whole(deadlock + "\ngoroutine 2 [chan receive]:\n"));
}

// TestGoexitInPanic: a goroutine's goexit() in a deferred call during its
// panic ends it quietly; main's goexit() then ends the program.
TEST_F(PanicCrashDeathTest, GoexitInPanic) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(in_child(
                  [] {
                    goro::go([] {
                      goro::defer d([] { goro::goexit(); });
                      goro::panic("hello");
                    });
                    goro::goexit();
                  },
                  1),
              ::testing::ExitedWithCode(2), whole(goexit_deadlock));
}

// TestPanicAfterGoexit: an uncaught panic still works after goexit(); the
// goexit is not printed.
TEST_F(PanicCrashDeathTest, PanicAfterGoexit) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(in_child(
                  [] {
                    goro::defer d([] { goro::panic("hello"); });
                    goro::goexit();
                  },
                  1),
              ::testing::ExitedWithCode(2), whole(crash("panic: hello", 1)));
}

// TestRecoveredPanicAfterGoexit: the deferred call's own defer recovers
// its panic, and main's goexit goes on.
TEST_F(PanicCrashDeathTest, RecoveredPanicAfterGoexit) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(in_child(
                  [] {
                    goro::defer d([] {
                      goro::defer r([] {
                        if (!goro::recover()) goro::panic("bad recover");
                      });
                      goro::panic("hello");
                    });
                    goro::goexit();
                  },
                  1),
              ::testing::ExitedWithCode(2), whole(goexit_deadlock));
}

// TestRecoverBeforePanicAfterGoexit and ...2: an older defer recovers the
// panic of a defer that goexit() ran: the goexit goes on, it does not
// disappear.
TEST_F(PanicCrashDeathTest, RecoverBeforePanicAfterGoexit) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(in_child(
                  [] {
                    goro::defer r([] {
                      if (!goro::recover()) goro::panic("bad recover");
                    });
                    goro::defer d([] { goro::panic("hello"); });
                    goro::goexit();
                  },
                  1),
              ::testing::ExitedWithCode(2), whole(goexit_deadlock));
}

TEST_F(PanicCrashDeathTest, RecoverBeforePanicAfterGoexit2) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(in_child(
                  [] {
                    goro::defer e1([] {});
                    goro::defer e2([] {});
                    goro::defer r([] {
                      if (!goro::recover()) goro::panic("bad recover");
                    });
                    goro::defer d([] { goro::panic("hello"); });
                    goro::goexit();
                  },
                  1),
              ::testing::ExitedWithCode(2), whole(goexit_deadlock));
}

// The same, with main's body in goro::call: the recovered panic lands in
// no call while it covers a goexit.
TEST_F(PanicCrashDeathTest, RecoverBeforePanicAfterGoexitThroughACall) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(in_child(
                  [] {
                    goro::call([] {
                      goro::defer r([] {
                        if (!goro::recover()) goro::panic("bad recover");
                      });
                      goro::defer d([] { goro::panic("hello"); });
                      goro::goexit();
                    });
                    say("call returned: the goexit disappeared\n");
                  },
                  1),
              ::testing::ExitedWithCode(2), whole(goexit_deadlock));
}

// ---- Fatal errors are not panics ----

// Unlocking an unlocked Mutex in a deferred call during a panic, with an
// older defer ready to recover: fatal at once, no defer runs after it.
TEST_P(PanicCrashProcsDeathTest, UnlockOfAnUnlockedMutexInADeferredCallIsFatal) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(in_child(
                  [] {
                    Mutex mu;
                    goro::defer r([] {
                      if (goro::recover()) say("recovered\n");
                      say("older defer ran\n");
                    });
                    goro::defer d([&mu] {
                      say("unlocking\n");
                      mu.unlock();
                    });
                    goro::panic("p");
                  },
                  procs()),
              ::testing::ExitedWithCode(2), whole("unlocking\n" + unlock_of_unlocked));
}

// The same in plain code under a recovering defer, in a goroutine.
TEST_F(PanicCrashDeathTest, UnlockOfAnUnlockedMutexIsFatalUnderARecoveringDefer) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(in_child(
                  [] {
                    goro::go([] {
                      Mutex mu;
                      goro::defer r([] {
                        (void)goro::recover();
                        say("defer ran\n");
                      });
                      mu.unlock();
                    });
                    (void)make_chan<int>().recv();
                  },
                  2),
              ::testing::ExitedWithCode(2), whole(unlock_of_unlocked));
}

// A deadlock is fatal too: main's recovering defer never runs.
TEST_P(PanicCrashProcsDeathTest, ADeadlockIsNotRecoverable) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(in_child(
                  [] {
                    goro::defer r([] {
                      (void)goro::recover();
                      say("defer ran\n");
                    });
                    (void)make_chan<int>().recv();
                  },
                  procs()),
              ::testing::ExitedWithCode(2), whole(deadlock + "\ngoroutine 1 [chan receive]:\n"));
}

// A deadlock inside a deferred call while a panic unwinds.
TEST_F(PanicCrashDeathTest, ADeadlockInADeferredCallDuringAPanic) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(in_child(
                  [] {
                    goro::defer r([] {
                      (void)goro::recover();
                      say("older defer ran\n");
                    });
                    goro::defer d([] { (void)make_chan<int>().recv(); });
                    panic_if(true, "p");
                  },
                  1),
              ::testing::ExitedWithCode(2), whole(deadlock + "\ngoroutine 1 [chan receive]:\n"));
}

INSTANTIATE_TEST_SUITE_P(Procs, PanicCrashProcsDeathTest, ::testing::Values(1, 4));

}  // namespace
