// panic_test.cpp: panic, defer and recover as Go's own tests check them,
// and what a runtime of goroutines over C++ exceptions adds. recover() in
// a deferred call stops the panic, once; it returns nothing outside a
// deferred call, with no panic, in a deferred call made at a normal exit,
// in a catch block and during goexit(). A panic out of a deferred call
// replaces the one being unwound, and an older defer recovers the newer
// one; deferred calls run last in first out; goro::call returns the zero
// value at Go's recovery point and lets unrecovered panics and goexit()
// through; goexit() runs the defers, and a panic recovered during it lets
// it go on. recovered::what() for every kind of exception, goro::at's
// texts, and the channel and WaitGroup misuse that is now a recoverable
// panic. Then the runtime: it stays consistent when a panic unwinds out
// of a select case, a select on a closed channel, goro::syscall, a
// std::lock_guard<goro::Mutex>, and a goroutine that parked a moment ago;
// a deferred call may yield, sleep, use channels, park and move to another
// thread while its panic unwinds, and still recover it (the exception
// state travels with the goroutine); 300 goroutines panic and recover at
// once; exceptions thrown and caught inside a deferred call, or by a
// catch (...) in user code, are no panic.
// Ported from Go's test/recover.go (test1, test1WithClosures, test2's
// second defer, test3, test5's try), test/recover1.go (test1 to test4),
// test/recover2.go (test1, as goro::at), src/runtime/defer_test.go
// (TestUnconditionalPanic, TestAbortedPanic, TestRecoverMatching,
// TestDeferWithRepeatedRepanics, TestIssue43921, TestIssue43920,
// TestIssue43941), src/runtime/crash_test.go (TestGoexitDefer,
// TestRuntimePanicWithRuntimeError, and the programs of
// testdata/testprog/deadlock.go that end well: RecoveredPanicAfterGoexit,
// RecoverBeforePanicAfterGoexit and ...2, GoexitInPanic's goroutine;
// their crashes are in panic_death_test.cpp). Go's recovery resumes the
// function whose defer recovered; the ports wrap that function in
// goro::call, which is where goro puts Go's landing point. Left out: what
// needs Go's frames (recover.go's withoutRecover and `defer recover()`,
// which goro's recover() cannot tell apart: see panic.hpp), named results,
// reflection, and defers in loops (a goro::defer ends with its scope).
// First chapter: 08.
#include <goro/goro.hpp>
#include <gtest/gtest.h>

#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <exception>
#include <functional>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <typeinfo>
#include <vector>

#include "goro/common/sanitizer.hpp"
#include "support.hpp"

namespace {
using namespace std::chrono_literals;
namespace san = goro::common::san;
using goro::chan;
using goro::make_chan;
using goro::Mutex;
using goro::recv_case;
using goro::select;
using goro::send_case;
using goro::WaitGroup;

// sized is an iteration count: the plain build's, or a smaller one under
// AddressSanitizer or ThreadSanitizer. Only sizes shrink, never checks.
int sized(int plain, int asan, int tsan) { return san::tsan ? tsan : san::asan ? asan : plain; }

class PanicTest : public goro::testing::RuntimeTest {};
class PanicProcsTest : public goro::testing::RuntimeProcsTest {};
class PanicParallelTest : public goro::testing::RuntimeProcsTest {};

// os_thread is the calling thread's id, asked of the kernel each time: a
// goroutine may resume on another thread after any switch, and the
// compiler may keep pthread_self()'s value (declared const) across one.
long os_thread() { return ::syscall(SYS_gettid); }

// in_goroutine runs f in a new goroutine and waits until that goroutine
// has ended, however it ends: its first defer, made before f runs, runs
// last.
template <class F>
void in_goroutine(F f) {
  WaitGroup wg;
  wg.add(1);
  goro::go([&wg, f]() mutable {
    goro::defer done([&wg] { wg.done(); });
    f();
  });
  wg.wait();
}

// fail_if panics with `message` when `really` is true: a panic the
// compiler cannot see is certain, so that the code after it still counts.
void panic_if(bool really, const std::string& message) {
  if (really) goro::panic(message);
}

// ---- recover stops a panic (recover.go, recover1.go) ----

// The smallest program: a deferred call recovers, the goroutine ends
// normally at once, and the program goes on (Go's TestUnconditionalPanic,
// in a goroutine).
TEST_F(PanicTest, RecoverInADeferredCallStopsThePanic) {
  goro::run([] {
    std::string got;
    bool went_on = false;
    in_goroutine([&] {
      goro::defer d([&] { got = goro::recover().what(); });
      panic_if(true, "boom");
      went_on = true;
    });
    EXPECT_EQ(got, "boom");
    EXPECT_FALSE(went_on) << "a recovered panic ends its goroutine (no goro::call)";
    auto c = make_chan<int>(1);
    goro::go([c]() mutable { c.send(7); });
    EXPECT_EQ(c.recv(), 7) << "the program goes on";
  });
}

// recover.go's test1 and test1WithClosures: the deferred call that recovers
// gets the value once; a second recover() in it, and recover() in an older
// defer, return empty; a newer defer that does not call recover leaves the
// panic for the older one.
TEST_F(PanicTest, RecoverReturnsThePanicOnlyOnce) {
  goro::run([] {
    goro::recovered first, second, older;
    bool newer_ran = false;
    in_goroutine([&] {
      goro::defer must_not_recover([&] { older = goro::recover(); });
      goro::defer must_recover([&] {
        first = goro::recover();
        second = goro::recover();
      });
      goro::defer no_recover([&] { newer_ran = true; });
      panic_if(true, "1");
    });
    EXPECT_TRUE(newer_ran);
    ASSERT_TRUE(first);
    EXPECT_EQ(first.what(), "1");
    EXPECT_FALSE(second) << "recover didn't recover";
    EXPECT_FALSE(older) << "spurious recover";
  });
}

// recover.go's test3: one recover() squelches the panic; an older defer
// sees none.
TEST_F(PanicTest, OneRecoverSquelchesThePanicForOlderDefers) {
  goro::run([] {
    std::vector<std::string> seen;
    in_goroutine([&] {
      goro::defer oldest([&] { seen.push_back(goro::recover() ? "spurious" : "none"); });
      goro::defer middle([&] { seen.push_back(goro::recover() ? "none-left" : "none"); });
      goro::defer newest([&] { seen.push_back(goro::recover().what()); });
      panic_if(true, "3");
    });
    EXPECT_EQ(seen, (std::vector<std::string>{"3", "none", "none"}));
  });
}

// recover() with no panic returns empty: in plain code, in a deferred call
// at a normal scope exit, in main, and outside run().
TEST_F(PanicTest, RecoverWithNoPanicReturnsEmpty) {
  const goro::recovered outside = goro::recover();
  EXPECT_FALSE(outside);
  EXPECT_EQ(outside.what(), "");
  EXPECT_EQ(outside.exception(), nullptr);
  goro::run([] {
    EXPECT_FALSE(goro::recover()) << "in main, no panic";
    bool in_defer = true;
    {
      goro::defer d([&] { in_defer = static_cast<bool>(goro::recover()); });
    }
    EXPECT_FALSE(in_defer) << "a deferred call at a normal exit";
    bool in_goroutine_defer = true;
    in_goroutine([&] {
      EXPECT_FALSE(goro::recover());
      goro::defer d([&] { in_goroutine_defer = static_cast<bool>(goro::recover()); });
    });
    EXPECT_FALSE(in_goroutine_defer);
  });
}

// The exception a catch block handles is no panic any more: recover() in
// the block, or in a deferred call at the end of a scope inside it,
// returns empty, and the goroutine goes on.
TEST_F(PanicTest, RecoverInACatchBlockReturnsEmpty) {
  goro::run([] {
    bool in_catch = true, in_catch_defer = true, went_on = false;
    std::string caught;
    in_goroutine([&] {
      try {
        panic_if(true, "caught");
      } catch (const goro::panic_error& e) {
        caught = e.what();
        in_catch = static_cast<bool>(goro::recover());
        {
          goro::defer d([&] { in_catch_defer = static_cast<bool>(goro::recover()); });
        }
      }
      went_on = true;
    });
    EXPECT_EQ(caught, "caught");
    EXPECT_FALSE(in_catch);
    EXPECT_FALSE(in_catch_defer);
    EXPECT_TRUE(went_on);
  });
}

// A plain destructor that runs while a panic unwinds is no deferred call:
// recover() there returns empty, and the panic goes on to the defer.
TEST_F(PanicTest, RecoverInAPlainDestructorDuringUnwindingReturnsEmpty) {
  struct recover_on_destroy {
    bool* got;
    ~recover_on_destroy() { *got = static_cast<bool>(goro::recover()); }
  };
  goro::run([] {
    bool in_destructor = true;
    std::string in_defer;
    in_goroutine([&] {
      goro::defer d([&] { in_defer = goro::recover().what(); });
      recover_on_destroy r{&in_destructor};
      panic_if(true, "unwinding");
    });
    EXPECT_FALSE(in_destructor);
    EXPECT_EQ(in_defer, "unwinding");
  });
}

// Go's TestRecoverMatching: a deferred call made by the deferred call that
// the panic runs (so it runs when that one returns normally) gets nothing;
// the outer one still recovers.
TEST_F(PanicTest, RecoverInADeferMadeByADeferredCallReturnsEmpty) {
  goro::run([] {
    std::string outer;
    bool inner = true;
    in_goroutine([&] {
      goro::defer d1([&] { outer = goro::recover().what(); });
      goro::defer d2([&] {
        goro::defer d3([&] { inner = static_cast<bool>(goro::recover()); });
      });
      panic_if(true, "panic1");
    });
    EXPECT_FALSE(inner) << "wanted nil recover";
    EXPECT_EQ(outer, "panic1");
  });
}

// recover() in a goroutine that a deferred call started sees that
// goroutine's own (no) panic; the deferred call's panic is still there
// for an older defer.
TEST_F(PanicTest, RecoverInAGoroutineStartedByADeferredCallReturnsEmpty) {
  goro::run([] {
    bool other = true;
    std::string older;
    in_goroutine([&] {
      goro::defer d0([&] { older = goro::recover().what(); });
      goro::defer d1([&] { in_goroutine([&] { other = static_cast<bool>(goro::recover()); }); });
      panic_if(true, "mine");
    });
    EXPECT_FALSE(other);
    EXPECT_EQ(older, "mine");
  });
}

// A recover() in a defer inside a try block stops the panic, and the catch
// catches the exception all the same (C++ knows nothing of the recovery):
// the goroutine goes on, and its next panic is a new one.
TEST_F(PanicTest, ARecoverInsideATryBlockStillLetsTheCatchCatch) {
  goro::run([] {
    std::string recovered_first, recovered_second;
    bool caught = false;
    in_goroutine([&] {
      goro::defer last([&] { recovered_second = goro::recover().what(); });
      try {
        goro::defer d([&] { recovered_first = goro::recover().what(); });
        panic_if(true, "first");
      } catch (const goro::panic_error&) {
        caught = true;
      }
      panic_if(true, "second");
    });
    EXPECT_EQ(recovered_first, "first");
    EXPECT_TRUE(caught);
    EXPECT_EQ(recovered_second, "second");
  });
}

// ---- A panic in a deferred call replaces the one being unwound ----

// Go's TestAbortedPanic: panic2, thrown by a deferred call while panic1
// unwinds, replaces it: the next defer recovers panic2, and the oldest
// sees nothing.
TEST_F(PanicTest, APanicInADeferredCallReplacesTheOldOne) {
  goro::run([] {
    std::string newer;
    bool oldest = true;
    in_goroutine([&] {
      goro::defer d1([&] { oldest = static_cast<bool>(goro::recover()); });
      goro::defer d2([&] { newer = goro::recover().what(); });
      goro::defer d3([] { goro::panic("panic2"); });
      panic_if(true, "panic1");
    });
    EXPECT_EQ(newer, "panic2");
    EXPECT_FALSE(oldest) << "wanted nil recover";
  });
}

// The replaced panic's value is gone for good: three panics in a row, each
// from a deferred call, and the last defer gets the newest.
TEST_F(PanicTest, ThreePanicsInARowTheNewestIsRecovered) {
  goro::run([] {
    std::string got;
    in_goroutine([&] {
      goro::defer d0([&] { got = goro::recover().what(); });
      goro::defer d1([] { goro::panic("third"); });
      goro::defer d2([] { goro::panic("second"); });
      panic_if(true, "first");
    });
    EXPECT_EQ(got, "third");
  });
}

// recover1.go's test1, an easy nested panic: a deferred call panics and
// recovers its own panic in a defer of its own; the first panic goes on
// and an older defer recovers it.
TEST_F(PanicTest, ANestedPanicRecoveredInsideTheDeferredCall) {
  goro::run([] {
    std::string outer, inner;
    in_goroutine([&] {
      goro::defer must_recover_1([&] { outer = goro::recover().what(); });
      goro::defer d([&] {
        goro::defer must_recover_2([&] { inner = goro::recover().what(); });
        goro::panic("2");
      });
      panic_if(true, "1");
    });
    EXPECT_EQ(inner, "2");
    EXPECT_EQ(outer, "1");
  });
}

// recover1.go's test2 and test3, a sequential panic: a deferred call
// recovers 2, then panics 3 and recovers it in its own defer; the oldest
// defer sees no panic.
TEST_F(PanicTest, RecoverThenPanicAndRecoverInsideTheDeferredCall) {
  goro::run([] {
    std::string first, second;
    bool oldest = true;
    in_goroutine([&] {
      goro::defer must_not_recover([&] { oldest = static_cast<bool>(goro::recover()); });
      goro::defer d([&] {
        first = goro::recover().what();
        goro::defer must_recover_3([&] { second = goro::recover().what(); });
        goro::panic("3");
      });
      panic_if(true, "2");
    });
    EXPECT_EQ(first, "2");
    EXPECT_EQ(second, "3");
    EXPECT_FALSE(oldest) << "spurious recover";
  });
}

// Recover, then panic again from the same deferred call: an older defer
// recovers the newer panic (the program of RecursivePanic4, recovered).
// Panicking with the recovered value's text, or rethrowing its exception,
// is a panic too, with the same value.
TEST_F(PanicTest, RecoverThenPanicAgainAnOlderDeferRecoversTheNewOne) {
  goro::run([] {
    std::string in_d, outer;
    in_goroutine([&] {
      goro::defer older([&] { outer = goro::recover().what(); });
      goro::defer d([&] {
        in_d = goro::recover().what();
        goro::panic("second");
      });
      panic_if(true, "first");
    });
    EXPECT_EQ(in_d, "first");
    EXPECT_EQ(outer, "second");

    std::string again;
    in_goroutine([&] {
      goro::defer older([&] { again = goro::recover().what(); });
      goro::defer d([] { goro::panic(goro::recover().what()); });
      panic_if(true, "first");
    });
    EXPECT_EQ(again, "first");

    std::exception_ptr thrown, rethrown;
    in_goroutine([&] {
      goro::defer older([&] { rethrown = goro::recover().exception(); });
      goro::defer d([&] {
        thrown = goro::recover().exception();
        std::rethrow_exception(thrown);
      });
      panic_if(true, "rethrown");
    });
    ASSERT_NE(thrown, nullptr);
    EXPECT_EQ(rethrown, thrown) << "the same exception, panicked again";
  });
}

// recover1.go's test4: recover() without looking at the value squelches a
// single panic.
TEST_F(PanicTest, RecoverIgnoringTheValueSquelchesThePanic) {
  goro::run([] {
    bool oldest = true;
    in_goroutine([&] {
      goro::defer must_not_recover([&] { oldest = static_cast<bool>(goro::recover()); });
      goro::defer d([] { (void)goro::recover(); });
      panic_if(true, "4");
    });
    EXPECT_FALSE(oldest);
  });
}

// A deferred call that panics at a normal exit starts a new panic, which an
// older defer recovers.
TEST_F(PanicTest, APanicInADeferredCallAtANormalExitIsANewPanic) {
  goro::run([] {
    std::string got;
    in_goroutine([&] {
      goro::defer d0([&] { got = goro::recover().what(); });
      {
        goro::defer d1([] { goro::panic("from defer"); });
      }
      ADD_FAILURE() << "the panic of d1 went on past its scope";
    });
    EXPECT_EQ(got, "from defer");
  });
}

// Go's TestIssue43921: a panic during a panic, recovered by the deferred
// call's own defer, and the first panic recovered by the outer one.
TEST_F(PanicTest, Issue43921) {
  goro::run([] {
    std::string r1, r4;
    in_goroutine([&] {
      goro::defer outer([&] { r1 = goro::recover().what(); });
      [&] {
        goro::defer empty([] {});
        goro::defer d([&] {
          goro::defer inner([&] { r4 = goro::recover().what(); });
          goro::panic("4");
        });
        panic_if(true, "1");
      }();
    });
    EXPECT_EQ(r4, "4");
    EXPECT_EQ(r1, "1");
  });
}

// Go's TestIssue43920: panics started by deferred calls at the normal exit
// of a deferred call that runs for another panic, one of them replaced by
// a panic of its own defer; each recovered in turn, and the first by the
// outermost defer.
TEST_F(PanicTest, Issue43920) {
  goro::run([] {
    int steps = 0;
    std::vector<std::string> got;
    in_goroutine([&] {
      goro::defer outer([&] { got.push_back(goro::recover().what()); });
      goro::defer a([&] {
        goro::defer a1([&] {
          goro::defer expect5([&] { got.push_back(goro::recover().what()); });
          goro::defer panic5([] { goro::panic("5"); });
          [] { goro::panic("4"); }();
        });
        goro::defer expect3([&] { got.push_back(goro::recover().what()); });
        goro::defer panic3([] { goro::panic("3"); });
      });
      [&] {
        goro::defer step([&] { EXPECT_EQ(++steps, 1); });
        panic_if(true, "1");
      }();
    });
    EXPECT_EQ(steps, 1);
    EXPECT_EQ(got, (std::vector<std::string>{"3", "5", "1"}));
  });
}

// Go's TestIssue43941: recoveries in nested functions, each resuming in
// its caller (goro::call at each of Go's landing points), with the steps
// in Go's order.
TEST_F(PanicTest, Issue43941) {
  goro::run([] {
    int steps = 7;
    std::vector<std::string> got;
    auto step = [&steps](int want) { EXPECT_EQ(++steps, want); };
    in_goroutine([&] {
      goro::defer outer([&] {
        step(14);
        got.push_back(goro::recover().what());
      });
      [&] {
        goro::call([&] {
          goro::defer d2a([&] {
            goro::defer expect3([&] { got.push_back(goro::recover().what()); });
            goro::defer panic3([] { goro::panic("3"); });
            goro::panic("2");
          });
          goro::defer expect1([&] { got.push_back(goro::recover().what()); });
          goro::defer panic1([] { goro::panic("1"); });
        });
        goro::defer e1([] {});
        goro::defer e2([] {});
        goro::defer s10([&] { step(10); });
        goro::defer s9([&] { step(9); });
        step(8);
      }();
      [&] {
        goro::defer s13([&] { step(13); });
        goro::defer s12([&] { step(12); });
        [&] {
          goro::defer s11([&] { step(11); });
          panic_if(true, "4");
        }();
        ADD_FAILURE() << "not reached";
      }();
    });
    EXPECT_EQ(steps, 14);
    EXPECT_EQ(got, (std::vector<std::string>{"1", "3", "4"}));
  });
}

// Go's TestDeferWithRepeatedRepanics: an interpreter recursing `maxlevel`
// deep panics with a level; each level's defer recovers it and panics it
// again until the level it names, which stops it; then a panic through
// ten frames and its recovery find no stale record on the way.
void interpreter(int level, int maxlevel, int rec) {
  goro::defer d([level] {
    auto e = goro::recover();
    if (!e) return;
    if (e.what() != std::to_string(level)) goro::panic(e.what());
  });
  if (level + 1 < maxlevel) {
    goro::call(interpreter, level + 1, maxlevel, rec);
  } else {
    goro::panic(std::to_string(rec));
  }
}

unsigned save_int;

// recurse_fn fills each of its frames before it recurses, so that a stale
// record pointing into them would be found (Go's recurseFn).
void recurse_fn(int level, int maxlevel) {
  unsigned a[40];
  for (unsigned& x : a) x = 0xffffffff;
  save_int = a[level % 40];
  panic_if(level + 1 >= maxlevel, "recurseFn panic");
  if (level + 1 < maxlevel) recurse_fn(level + 1, maxlevel);
}

void recurse_fn_panic_rec(int level, int maxlevel) {
  goro::defer d([] { (void)goro::recover(); });
  recurse_fn(level, maxlevel);
}

TEST_F(PanicTest, DeferWithRepeatedRepanics) {
  goro::run([] {
    in_goroutine([] {
      goro::call(interpreter, 0, 6, 2);
      goro::call(recurse_fn_panic_rec, 0, 10);
      goro::call(interpreter, 0, 5, 1);
      goro::call(recurse_fn_panic_rec, 0, 10);
      goro::call(interpreter, 0, 6, 3);
      goro::call(recurse_fn_panic_rec, 0, 10);
      EXPECT_FALSE(goro::recover());
    });
  });
}

// ---- Deferred calls run last in first out ----

TEST_F(PanicTest, DefersRunLastInFirstOutNormallyAndDuringAPanic) {
  goro::run([] {
    std::vector<int> order;
    in_goroutine([&] {
      goro::defer d1([&] { order.push_back(1); });
      goro::defer d2([&] { order.push_back(2); });
      {
        goro::defer d3([&] { order.push_back(3); });
        goro::defer d4([&] { order.push_back(4); });
      }
      order.push_back(0);
    });
    EXPECT_EQ(order, (std::vector<int>{4, 3, 0, 2, 1}));

    order.clear();
    in_goroutine([&] {
      goro::defer d1([&] {
        order.push_back(1);
        EXPECT_EQ(goro::recover().what(), "lifo");
      });
      goro::defer d2([&] { order.push_back(2); });
      [&] {
        goro::defer d3([&] { order.push_back(3); });
        [&] {
          goro::defer d4([&] { order.push_back(4); });
          goro::defer d5([&] { order.push_back(5); });
          panic_if(true, "lifo");
        }();
      }();
    });
    EXPECT_EQ(order, (std::vector<int>{5, 4, 3, 2, 1}));
  });
}

// A defer's function object may be larger than the record's inline buffer
// (then it lives on the heap) and holds what it captured until it runs.
TEST_F(PanicTest, ALargeDeferredFunctionRunsDuringAPanic) {
  goro::run([] {
    std::array<int, 64> big{};
    for (int i = 0; i < 64; i++) big[i] = i;
    int sum = 0;
    std::string got;
    in_goroutine([&] {
      goro::defer r([&] { got = goro::recover().what(); });
      goro::defer d([big, &sum] {
        for (int v : big) sum += v;
      });
      panic_if(true, "big");
    });
    EXPECT_EQ(sum, 64 * 63 / 2);
    EXPECT_EQ(got, "big");
  });
}

// ---- goro::call: Go's recovery point ----

int element(const std::vector<int>& v, long long i) {
  goro::defer d([] { (void)goro::recover(); });
  return goro::at(v, i);
}

struct point {
  int x = 0;
  std::string name;
};

// The function whose defer recovered returns the zero value to its caller,
// which goes on; without a panic, call returns the function's result.
TEST_F(PanicTest, CallReturnsTheZeroValueWhenItsFunctionRecovers) {
  goro::run([] {
    const std::vector<int> v{10, 20, 30};
    EXPECT_EQ(goro::call(element, v, 1), 20);
    EXPECT_EQ(goro::call(element, v, 7), 0);
    EXPECT_EQ(goro::call(element, v, -1), 0);
    const std::string s = goro::call([] {
      goro::defer d([] { (void)goro::recover(); });
      panic_if(true, "x");
      return std::string("not zero");
    });
    EXPECT_EQ(s, "");
    const point p = goro::call([] {
      goro::defer d([] { (void)goro::recover(); });
      panic_if(true, "x");
      return point{7, "seven"};
    });
    EXPECT_EQ(p.x, 0);
    EXPECT_EQ(p.name, "");
    bool void_went_on = false;
    goro::call([] {
      goro::defer d([] { (void)goro::recover(); });
      panic_if(true, "x");
    });
    void_went_on = true;
    EXPECT_TRUE(void_went_on);
    EXPECT_FALSE(goro::recover()) << "the panic is over";
  });
}

// Exactly Go's landing point: the function whose defer recovered returns
// (the rest of it does not run, nor does the rest of the function it
// called), and its caller goes on; an outer call returns its function's
// own result.
TEST_F(PanicTest, CallResumesTheCallerOfTheFunctionThatRecovered) {
  goro::run([] {
    std::vector<std::string> trace;
    auto g = [&] {
      trace.push_back("g");
      panic_if(true, "in g");
      trace.push_back("after panic");
    };
    auto f = [&]() -> int {
      goro::defer d([&] { trace.push_back("recovered " + goro::recover().what()); });
      g();
      trace.push_back("after g");
      return 1;
    };
    auto outer = [&]() -> int {
      const int r = goro::call(f);
      trace.push_back("f returned " + std::to_string(r));
      return 5;
    };
    EXPECT_EQ(goro::call(outer), 5);
    EXPECT_EQ(trace, (std::vector<std::string>{"g", "recovered in g", "f returned 0"}));
  });
}

// recover.go's test5, try(g, deflt): the deferred closure sets the result,
// here a variable of try's own, and try returns it once call has.
std::string try_(const std::function<void()>& g, const std::string& deflt) {
  std::string x = deflt;
  goro::call([&] {
    goro::defer r([&] {
      if (auto v = goro::recover()) x = v.what();
    });
    goro::defer run(g);
  });
  return x;
}

TEST_F(PanicTest, TryReturnsThePanicValueOrTheDefault) {
  goro::run([] {
    EXPECT_EQ(try_([] { goro::panic("5"); }, "55"), "5");
    EXPECT_EQ(try_([] {}, "hi"), "hi");
  });
}

// A panic nobody recovers in call's function goes on through call: the
// caller's code after it does not run, and an outer defer recovers it.
TEST_F(PanicTest, CallLetsAnUnrecoveredPanicThrough) {
  goro::run([] {
    std::string outer;
    bool inner_ran = false, after_call = false;
    in_goroutine([&] {
      goro::defer d([&] { outer = goro::recover().what(); });
      goro::call([&] {
        goro::defer not_recovering([&] { inner_ran = true; });
        panic_if(true, "through");
      });
      after_call = true;
    });
    EXPECT_TRUE(inner_ran);
    EXPECT_FALSE(after_call);
    EXPECT_EQ(outer, "through");
  });
}

// goexit() goes on through call too: the goroutine ends, its defers run,
// and they see no panic.
TEST_F(PanicTest, CallLetsGoexitThrough) {
  goro::run([] {
    bool after_call = false, outer_ran = false, outer_recovered = true;
    in_goroutine([&] {
      goro::defer d([&] {
        outer_ran = true;
        outer_recovered = static_cast<bool>(goro::recover());
      });
      goro::call([] { goro::goexit(); });
      after_call = true;
    });
    EXPECT_FALSE(after_call);
    EXPECT_TRUE(outer_ran);
    EXPECT_FALSE(outer_recovered);
  });
}

// call inside a deferred call that runs for a panic: the inner function's
// own panic is recovered there, call returns, and the deferred call then
// recovers the outer panic.
TEST_F(PanicTest, CallInsideADeferredCallRecoversItsOwnPanicOnly) {
  goro::run([] {
    int r = -1;
    std::string inner, outer;
    in_goroutine([&] {
      goro::defer d([&] {
        r = goro::call([&] {
          goro::defer rec([&] { inner = goro::recover().what(); });
          panic_if(true, "inner");
          return 9;
        });
        outer = goro::recover().what();
      });
      panic_if(true, "outer");
    });
    EXPECT_EQ(r, 0);
    EXPECT_EQ(inner, "inner");
    EXPECT_EQ(outer, "outer");
  });
}

// ---- goexit ----

void leave() { goro::goexit(); }

// Go's TestGoexitDefer: goexit() runs the goroutine's defers, last in
// first out, and recover() in them returns empty; code after it does not
// run; other goroutines go on.
TEST_F(PanicTest, GoexitRunsTheDefersAndRecoverReturnsEmpty) {
  goro::run([] {
    std::vector<std::string> order;
    bool recovered = true, after = false;
    auto c = make_chan<int>();
    goro::go([c]() mutable { c.send(1); });  // a goroutine that outlives the goexit
    in_goroutine([&] {
      goro::defer d1([&] {
        order.push_back("d1");
        recovered = static_cast<bool>(goro::recover());
      });
      goro::defer d2([&] { order.push_back("d2"); });
      [&] {
        goro::defer d3([&] { order.push_back("d3"); });
        leave();
        after = true;
      }();
      after = true;
    });
    EXPECT_EQ(order, (std::vector<std::string>{"d3", "d2", "d1"}));
    EXPECT_FALSE(recovered) << "non-nil recover during Goexit";
    EXPECT_FALSE(after);
    EXPECT_EQ(c.recv(), 1) << "the others go on";
  });
}

// A catch (...) on the way must rethrow goexit()'s exception, and then the
// goexit goes on.
TEST_F(PanicTest, GoexitCaughtAndRethrownGoesOn) {
  goro::run([] {
    bool caught = false, after = false, ran = false;
    in_goroutine([&] {
      goro::defer d([&] { ran = true; });
      try {
        leave();
      } catch (...) {
        caught = true;
        throw;
      }
      after = true;
    });
    EXPECT_TRUE(caught);
    EXPECT_TRUE(ran);
    EXPECT_FALSE(after);
  });
}

// RecoveredPanicAfterGoexit (testprog/deadlock.go): a deferred call run by
// goexit() panics and recovers its panic in its own defer; the goexit goes
// on, even through a goro::call.
TEST_F(PanicTest, APanicRecoveredDuringGoexitLetsTheGoexitGoOn) {
  goro::run([] {
    std::string r;
    bool after_call = false, outer = true;
    in_goroutine([&] {
      goro::defer d([&] { outer = static_cast<bool>(goro::recover()); });
      goro::call([&] {
        goro::defer d1([&] {
          goro::defer d2([&] { r = goro::recover().what(); });
          goro::panic("hello");
        });
        goro::goexit();
      });
      after_call = true;
    });
    EXPECT_EQ(r, "hello") << "bad recover";
    EXPECT_FALSE(after_call) << "the goexit went away";
    EXPECT_FALSE(outer);
  });
}

// RecoverBeforePanicAfterGoexit and ...2: goexit() runs a defer that
// panics; an older defer recovers that panic. Go resumes the goexit, not
// the function (which would make the goexit disappear): call does not
// return.
TEST_F(PanicTest, RecoverBeforePanicAfterGoexit) {
  goro::run([] {
    for (const int empties : {0, 2}) {
      std::string r;
      bool after_call = false, outer = true;
      in_goroutine([&] {
        goro::defer d([&] { outer = static_cast<bool>(goro::recover()); });
        goro::call([&] {
          std::optional<goro::defer> e1, e2;
          if (empties > 0) e1.emplace([] {});
          if (empties > 1) e2.emplace([] {});
          goro::defer d1([&] { r = goro::recover().what(); });
          goro::defer d2([] { goro::panic("hello"); });
          goro::goexit();
        });
        after_call = true;
      });
      EXPECT_EQ(r, "hello") << "bad recover, " << empties << " empty defers";
      EXPECT_FALSE(after_call) << "the goexit went away, " << empties << " empty defers";
      EXPECT_FALSE(outer);
    }
  });
}

// GoexitInPanic's goroutine: goexit() in a deferred call during a panic
// ends the goroutine without a crash; an older defer sees no panic to
// recover.
TEST_F(PanicTest, GoexitInADeferredCallDuringAPanicEndsTheGoroutine) {
  goro::run([] {
    bool recovered = true, older_ran = false;
    in_goroutine([&] {
      goro::defer d0([&] {
        older_ran = true;
        recovered = static_cast<bool>(goro::recover());
      });
      goro::defer d1([] { goro::goexit(); });
      panic_if(true, "hello");
    });
    EXPECT_TRUE(older_ran);
    EXPECT_FALSE(recovered);
  });
}

// goexit() from a goro::call inside a deferred call that runs for a
// panic: the goexit replaces the panic (as in GoexitInPanic), call lets it
// through, and older defers see no panic.
TEST_F(PanicTest, GoexitFromACallInsideADeferredCallReplacesThePanic) {
  goro::run([] {
    bool after_call = false, recovered = true;
    in_goroutine([&] {
      goro::defer d0([&] { recovered = static_cast<bool>(goro::recover()); });
      goro::defer d1([&] {
        goro::call([] { goro::goexit(); });
        after_call = true;
      });
      panic_if(true, "p");
    });
    EXPECT_FALSE(after_call);
    EXPECT_FALSE(recovered);
  });
}

// A deferred call run by goexit() may recover a panic of its own with
// goro::call and go on; the goexit then finishes.
TEST_F(PanicTest, ADeferredCallDuringGoexitMayRecoverItsOwnPanic) {
  goro::run([] {
    int r = -1;
    bool went_on = false, after = false;
    in_goroutine([&] {
      goro::defer d([&] {
        r = goro::call([] {
          goro::defer rec([] { EXPECT_EQ(goro::recover().what(), "own"); });
          panic_if(true, "own");
          return 1;
        });
        went_on = true;
      });
      goro::goexit();
      after = true;
    });
    EXPECT_EQ(r, 0);
    EXPECT_TRUE(went_on);
    EXPECT_FALSE(after);
  });
}

// Outside a goroutine, defer and goexit throw std::logic_error.
TEST_F(PanicTest, DeferAndGoexitOutsideAGoroutineThrow) {
  EXPECT_THROW(goro::defer d([] {}), std::logic_error);
  EXPECT_THROW(goro::goexit(), std::logic_error);
}

// ---- What recover returns ----

// recovered::what() for each kind of value: goro::panic's message, any
// std::exception's what() (std::vector::at's out_of_range, thrown inside
// the C++ library, included), "unknown C++ exception" for other types;
// exception() is the exception itself, to rethrow.
TEST_F(PanicTest, RecoveredWhatAndExceptionForEachKindOfValue) {
  std::string at_text;
  try {
    (void)std::vector<int>(3).at(5);
  } catch (const std::out_of_range& e) {
    at_text = e.what();
  }
  ASSERT_FALSE(at_text.empty());
  goro::run([&at_text] {
    auto recover_from = [](auto f) {
      goro::recovered r;
      in_goroutine([&] {
        goro::defer d([&] { r = goro::recover(); });
        f();
      });
      return r;
    };
    {
      auto r = recover_from([] { goro::panic("message"); });
      ASSERT_TRUE(r);
      EXPECT_EQ(r.what(), "message");
      EXPECT_THROW(std::rethrow_exception(r.exception()), goro::panic_error);
    }
    {
      auto r = recover_from([] { throw std::runtime_error("bad thing"); });
      EXPECT_EQ(r.what(), "bad thing");
      EXPECT_THROW(std::rethrow_exception(r.exception()), std::runtime_error);
    }
    {
      auto r = recover_from([] { (void)std::vector<int>(3).at(5); });
      ASSERT_TRUE(r);
      EXPECT_EQ(r.what(), at_text);
      EXPECT_THROW(std::rethrow_exception(r.exception()), std::out_of_range);
    }
    {
      auto r = recover_from([] { throw 42; });
      ASSERT_TRUE(r);
      EXPECT_EQ(r.what(), "unknown C++ exception");
      try {
        std::rethrow_exception(r.exception());
      } catch (int v) {
        EXPECT_EQ(v, 42);
      }
    }
    {
      auto r = recover_from([] { throw std::string("a string"); });
      EXPECT_EQ(r.what(), "unknown C++ exception");
    }
  });
}

// The recovered exception outlives its goroutine: main rethrows it later
// and catches it as what it was.
TEST_F(PanicTest, ARecoveredExceptionCanBeRethrownElsewhere) {
  goro::run([] {
    std::exception_ptr e;
    in_goroutine([&] {
      goro::defer d([&] { e = goro::recover().exception(); });
      throw std::invalid_argument("kept");
    });
    ASSERT_NE(e, nullptr);
    std::string caught;
    try {
      std::rethrow_exception(e);
    } catch (const std::invalid_argument& ex) {
      caught = ex.what();
    }
    EXPECT_EQ(caught, "kept");
    EXPECT_FALSE(goro::recover()) << "a caught rethrow is no panic";
  });
}

// ---- goro::at: Go's index check (recover2.go's test1) ----

// at_panic returns the text of the panic that at(c, i) starts, "" if none.
template <class C>
std::string at_panic(C& c, long long i) {
  std::string text;
  goro::call([&] {
    goro::defer d([&] { text = goro::recover().what(); });
    (void)goro::at(c, i);
  });
  return text;
}

TEST_F(PanicTest, AtPanicsWithGosIndexText) {
  goro::run([] {
    std::vector<int> v{1, 2, 3};
    EXPECT_EQ(at_panic(v, 3), "runtime error: index out of range [3] with length 3");
    EXPECT_EQ(at_panic(v, 123), "runtime error: index out of range [123] with length 3");
    EXPECT_EQ(at_panic(v, -1), "runtime error: index out of range [-1]");
    EXPECT_EQ(at_panic(v, -7), "runtime error: index out of range [-7]");
    EXPECT_EQ(at_panic(v, 2), "");
    std::vector<int> empty;
    EXPECT_EQ(at_panic(empty, 0), "runtime error: index out of range [0] with length 0");
    std::array<int, 4> a{};
    EXPECT_EQ(at_panic(a, 4), "runtime error: index out of range [4] with length 4");
    int raw[2] = {0, 0};
    EXPECT_EQ(at_panic(raw, 2), "runtime error: index out of range [2] with length 2");
    std::string s = "go";
    EXPECT_EQ(at_panic(s, 1LL << 40), "runtime error: index out of range [1099511627776] with length 2");
    const std::vector<int> cv{5};
    EXPECT_EQ(at_panic(cv, 1), "runtime error: index out of range [1] with length 1");

    // In range, at is the element itself.
    goro::at(v, 1) = 20;
    goro::at(raw, 1) = 9;
    EXPECT_EQ(v[1], 20);
    EXPECT_EQ(raw[1], 9);
    EXPECT_EQ(goro::at(cv, 0), 5);

    // The panic is a goro::runtime_error, a std::runtime_error.
    try {
      (void)goro::at(v, 3);
      ADD_FAILURE() << "no panic";
    } catch (const goro::runtime_error& e) {
      const std::runtime_error& base = e;
      EXPECT_STREQ(base.what(), "runtime error: index out of range [3] with length 3");
    }
  });
}

// The article's program: ten goroutines write a[i] = i into a slice of
// four; each recovers from its own index out of range, and main goes on.
TEST_P(PanicProcsTest, EachGoroutineRecoversFromItsOwnIndexOutOfRange) {
  goro::run(
      [] {
        std::vector<int> a(4);
        std::vector<std::string> errors(10);
        WaitGroup wg;
        for (int i = 0; i < 10; i++) {
          wg.add(1);
          goro::go([&, i] {
            goro::defer done([&] { wg.done(); });
            goro::defer catcher([&, i] { errors[i] = goro::recover().what(); });
            goro::at(a, i) = i;
          });
        }
        wg.wait();
        EXPECT_EQ(a, (std::vector<int>{0, 1, 2, 3}));
        for (int i = 0; i < 10; i++) {
          EXPECT_EQ(errors[i], i < 4 ? "" : "runtime error: index out of range [" + std::to_string(i) +
                                                "] with length 4");
        }
      },
      goro::Config{.procs = procs()});
}

// ---- Misuse of channels and WaitGroups is a panic to recover ----

// panic_of runs f in a goroutine and returns what its deferred call
// recovered, and whether it was a goro::runtime_error.
template <class F>
std::pair<std::string, bool> panic_of(F f) {
  std::string text;
  bool runtime_error = false;
  in_goroutine([&] {
    goro::defer d([&] {
      auto r = goro::recover();
      text = r.what();
      try {
        if (r) std::rethrow_exception(r.exception());
      } catch (const goro::runtime_error&) {
        runtime_error = true;
      } catch (...) {
      }
    });
    f();
  });
  return {text, runtime_error};
}

// Go's TestRuntimePanicWithRuntimeError, for the channel cases: each is a
// runtime error with Go's text, and recovering it lets the program go on.
TEST_F(PanicTest, ChannelMisuseIsARecoverableRuntimeError) {
  goro::run([] {
    using result = std::pair<std::string, bool>;
    EXPECT_EQ(panic_of([] {
                auto c = make_chan<int>();
                c.close();
                c.close();
              }),
              result("close of closed channel", true));
    EXPECT_EQ(panic_of([] {
                auto c = make_chan<int>(1);
                c.close();
                c.send(1);
              }),
              result("send on closed channel", true));
    EXPECT_EQ(panic_of([] { chan<int>().close(); }), result("close of nil channel", true));
    EXPECT_EQ(panic_of([] { (void)make_chan<int>(std::size_t{1} << 62); }),
              result("makechan: size out of range", true));
    // The closed channel still reads as closed, from any goroutine.
    auto c = make_chan<int>(1);
    c.send(3);
    c.close();
    EXPECT_EQ(panic_of([c]() mutable { c.send(4); }).first, "send on closed channel");
    EXPECT_EQ(c.recv(), 3);
    EXPECT_EQ(c.recv(), std::nullopt);
  });
}

// A sender parked on a channel that gets closed wakes up panicking, and
// its deferred call recovers; so does a select parked with a send case.
TEST_P(PanicProcsTest, ASenderParkedWhenTheChannelIsClosedRecovers) {
  goro::run(
      [] {
        auto c = make_chan<int>();
        auto never = make_chan<int>();
        WaitGroup wg;
        std::string plain, in_select;
        wg.add(2);
        goro::go([&, c]() mutable {
          goro::defer done([&] { wg.done(); });
          goro::defer d([&] { plain = goro::recover().what(); });
          c.send(1);
        });
        goro::go([&, c, never]() mutable {
          goro::defer done([&] { wg.done(); });
          goro::defer d([&] { in_select = goro::recover().what(); });
          select(send_case(c, 2, [] {}), recv_case(never, [] {}));
        });
        goro::sleep_for(1ms);  // they are parked by now, or find c closed: either panics
        c.close();
        wg.wait();
        EXPECT_EQ(plain, "send on closed channel");
        EXPECT_EQ(in_select, "send on closed channel");
        // The select left nothing behind on `never`.
        auto got = make_chan<int>(1);
        goro::go([never, got]() mutable { got.send(never.recv().value_or(-1)); });
        never.send(8);
        EXPECT_EQ(got.recv(), 8);
      },
      goro::Config{.procs = procs()});
}

// The WaitGroup texts are panic_errors to recover; the WaitGroup is usable
// again afterwards.
TEST_F(PanicTest, WaitGroupMisuseIsARecoverablePanic) {
  goro::run([] {
    WaitGroup wg;
    bool panic_error = false;
    std::string text;
    in_goroutine([&] {
      goro::defer d([&] {
        auto r = goro::recover();
        text = r.what();
        try {
          std::rethrow_exception(r.exception());
        } catch (const goro::panic_error&) {
          panic_error = true;
        } catch (...) {
        }
      });
      wg.add(1);
      wg.done();
      wg.done();
    });
    EXPECT_EQ(text, "sync: negative WaitGroup counter");
    EXPECT_TRUE(panic_error);
  });
}

// ---- The runtime stays consistent when a panic unwinds through it ----

// A panic out of the function of a select's case: select had released its
// channels before the case ran, so both still work, for a select again and
// for other goroutines.
TEST_P(PanicProcsTest, APanicOutOfASelectCaseLeavesTheChannelsUsable) {
  goro::run(
      [] {
        auto a = make_chan<int>(1), b = make_chan<int>();
        a.send(1);
        std::string got;
        in_goroutine([&] {
          goro::defer d([&] { got = goro::recover().what(); });
          select(recv_case(a, [](std::optional<int> v) { goro::panic("case " + std::to_string(*v)); }),
                 recv_case(b, [] {}));
        });
        EXPECT_EQ(got, "case 1");
        goro::go([a, b]() mutable {
          b.send(2);
          a.send(3);
        });
        int sum = 0;
        for (int i = 0; i < 2; i++) {
          select(recv_case(a, [&](std::optional<int> v) { sum += *v; }),
                 recv_case(b, [&](std::optional<int> v) { sum += *v; }));
        }
        EXPECT_EQ(sum, 5);
      },
      goro::Config{.procs = procs()});
}

// A select that panics inside the runtime (a send case on a closed
// channel) unlocks every channel first: other goroutines use them after.
TEST_P(PanicProcsTest, ASelectThatPanicsOnAClosedChannelUnlocksEveryChannel) {
  goro::run(
      [] {
        auto closed = make_chan<int>(), other = make_chan<int>(1);
        closed.close();
        for (int round = 0; round < 3; round++) {
          std::string got;
          in_goroutine([&] {
            goro::defer d([&] { got = goro::recover().what(); });
            select(send_case(closed, 1, [] {}), recv_case(other, [] {}));
          });
          EXPECT_EQ(got, "send on closed channel");
        }
        auto got = make_chan<int>();
        goro::go([other, got]() mutable { got.send(other.recv().value_or(-1)); });
        other.send(4);
        EXPECT_EQ(got.recv(), 4);
        EXPECT_EQ(closed.recv(), std::nullopt);
      },
      goro::Config{.procs = procs()});
}

// A panic out of the function given to goro::syscall: the goroutine gets
// its P back as the panic leaves the call, recovers, and goes on with
// channels, sleeps and another syscall, while the others run.
TEST_P(PanicProcsTest, APanicOutOfASyscallLeavesTheRuntimeConsistent) {
  goro::run(
      [] {
        const int n = 4;
        auto results = make_chan<std::string>(n);
        std::atomic<int> ticks{0};
        auto stop = make_chan<int>();
        WaitGroup tickers;
        tickers.add(1);
        goro::go([&, stop]() mutable {  // keeps running on some P meanwhile
          goro::defer done([&] { tickers.done(); });
          for (;;) {
            if (select(recv_case(stop, [] {}), goro::default_case([] {})) == 0) return;
            ticks.fetch_add(1);
            goro::sleep_for(100us);
          }
        });
        for (int i = 0; i < n; i++) {
          goro::go([results, i]() mutable {
            std::string r;
            goro::call([&r, i] {
              goro::defer d([&r] { r = goro::recover().what(); });
              goro::syscall([i] {
                usleep(2000);  // long enough for sysmon to take the P, most times
                throw std::runtime_error("syscall " + std::to_string(i));
              });
            });
            r += "|" + std::to_string(goro::syscall([] { return 7; }));
            goro::sleep_for(100us);
            results.send(r);
          });
        }
        std::vector<std::string> got;
        for (int i = 0; i < n; i++) got.push_back(results.recv().value_or(""));
        std::sort(got.begin(), got.end());
        for (int i = 0; i < n; i++) EXPECT_EQ(got[i], "syscall " + std::to_string(i) + "|7");
        stop.close();
        tickers.wait();
      },
      goro::Config{.procs = procs()});
}

// The panic above, with what the deferred call recovered checked: the
// exception that left the syscall is the panic.
TEST_F(PanicTest, ADeferredCallRecoversAPanicOutOfASyscall) {
  goro::run(
      [] {
        std::string got;
        in_goroutine([&] {
          goro::defer d([&] { got = goro::recover().what(); });
          goro::syscall([] { throw std::runtime_error("in syscall"); });
        });
        EXPECT_EQ(got, "in syscall");
        EXPECT_EQ(goro::syscall([] { return 1; }), 1);
      },
      goro::Config{.procs = 2});
}

// A panic through a std::lock_guard<goro::Mutex> unlocks the mutex as it
// unwinds: a goroutine waiting in lock() gets it, and so does main after.
// A deferred call made inside the guard's scope runs while the mutex is
// still held.
TEST_P(PanicProcsTest, APanicThroughALockGuardUnlocksTheMutex) {
  goro::run(
      [] {
        Mutex mu;
        auto locked = make_chan<int>(1);
        std::string got;
        bool held_in_defer = false;
        WaitGroup wg;
        wg.add(2);
        goro::go([&, locked]() mutable {
          goro::defer done([&] { wg.done(); });
          goro::defer d([&] { got = goro::recover().what(); });
          std::lock_guard<Mutex> l(mu);
          goro::defer inside([&] { held_in_defer = !mu.try_lock(); });
          locked.send(1);
          goro::sleep_for(1ms);  // the waiter is parked in lock() by now, most times
          panic_if(true, "holding the lock");
        });
        int waiter_got = 0;
        goro::go([&, locked]() mutable {
          goro::defer done([&] { wg.done(); });
          (void)locked.recv();
          std::lock_guard<Mutex> l(mu);
          waiter_got = 1;
        });
        wg.wait();
        EXPECT_EQ(got, "holding the lock");
        EXPECT_TRUE(held_in_defer);
        EXPECT_EQ(waiter_got, 1);
        EXPECT_TRUE(mu.try_lock());
        mu.unlock();
      },
      goro::Config{.procs = procs()});
}

// Goroutines that panic a moment after parking (a receive, a sleep, a
// gosched) and after being woken on whichever P: each recovers its own.
TEST_P(PanicProcsTest, AGoroutineThatParkedAMomentAgoPanicsAndRecovers) {
  goro::run(
      [] {
        const int n = sized(60, 30, 15);
        std::vector<std::string> got(n);
        auto c = make_chan<int>();
        WaitGroup wg;
        wg.add(n);
        for (int i = 0; i < n; i++) {
          goro::go([&, i, c]() mutable {
            goro::defer done([&] { wg.done(); });
            goro::defer d([&, i] { got[i] = goro::recover().what(); });
            switch (i % 3) {
              case 0: {
                const int v = c.recv().value_or(-1);
                goro::panic("recv " + std::to_string(v));
              }
              case 1:
                goro::sleep_for(200us);
                goro::panic("slept");
              default:
                goro::gosched();
                goro::panic("yielded");
            }
          });
        }
        for (int i = 0; i < n; i += 3) c.send(i);
        wg.wait();
        std::vector<int> received;
        for (int i = 0; i < n; i++) {
          if (i % 3 == 0) {
            ASSERT_EQ(got[i].rfind("recv ", 0), 0u) << got[i];
            received.push_back(std::stoi(got[i].substr(5)));
          } else {
            EXPECT_EQ(got[i], i % 3 == 1 ? "slept" : "yielded");
          }
        }
        std::sort(received.begin(), received.end());
        for (std::size_t k = 0; k < received.size(); k++) EXPECT_EQ(received[k], static_cast<int>(3 * k));
      },
      goro::Config{.procs = procs()});
}

// ---- Deferred calls that block while their panic unwinds ----

// A deferred call may yield, sleep, use channels, wait on a WaitGroup and
// a Mutex while its panic unwinds, and still recover it; its goroutine's
// count of exceptions in flight stays 1 across every switch.
TEST_P(PanicProcsTest, ADeferredCallMayBlockWhileItsPanicUnwinds) {
  goro::run(
      [] {
        std::string got;
        std::vector<int> uncaught;
        in_goroutine([&] {
          goro::defer d([&] {
            uncaught.push_back(std::uncaught_exceptions());
            goro::gosched();
            uncaught.push_back(std::uncaught_exceptions());
            goro::sleep_for(1ms);
            uncaught.push_back(std::uncaught_exceptions());
            auto ping = make_chan<int>(), pong = make_chan<int>();
            goro::go([ping, pong]() mutable {
              EXPECT_EQ(std::uncaught_exceptions(), 0) << "another goroutine's count";
              pong.send(ping.recv().value_or(0) + 1);
            });
            ping.send(1);
            EXPECT_EQ(pong.recv(), 2);
            uncaught.push_back(std::uncaught_exceptions());
            WaitGroup wg;
            Mutex mu;
            mu.lock();
            wg.add(1);
            goro::go([&] {
              goro::sleep_for(200us);
              mu.unlock();
              wg.done();
            });
            wg.wait();
            mu.lock();
            mu.unlock();
            uncaught.push_back(std::uncaught_exceptions());
            got = goro::recover().what();
          });
          panic_if(true, "blocked");
        });
        EXPECT_EQ(got, "blocked");
        EXPECT_EQ(uncaught, (std::vector<int>{1, 1, 1, 1, 1}));
      },
      goro::Config{.procs = procs()});
}

// A deferred call that yields and migrates during unwinding recovers its
// own panic. To move it for certain, each try parks it in a receive while
// it starts four holders and a waker: a holder that finds itself on the
// deferred call's thread says so and holds that thread (in a syscall)
// until the call has resumed; the waker wakes the call as soon as one
// does, so that it resumes elsewhere, or once all four have run elsewhere
// (then the call may resume anywhere, and tries again, at most 50 times).
// No step waits for a time: each waits for the step before it.
TEST_P(PanicParallelTest, ADeferredCallThatMigratesDuringUnwindingRecoversItsOwnPanic) {
  goro::run(
      [] {
        std::string got;
        int migrated = 0, tries = 0, uncaught_before = -1, uncaught_after = -1;
        in_goroutine([&] {
          goro::defer d([&] {
            uncaught_before = std::uncaught_exceptions();
            while (migrated == 0 && tries < 50) {
              tries++;
              const int holders = 4;
              const auto before = os_thread();
              auto wake = make_chan<int>();
              auto report = make_chan<bool>(holders);
              std::atomic<bool> resumed{false};
              WaitGroup helpers;
              helpers.add(holders + 1);
              for (int h = 0; h < holders; h++) {
                goro::go([&, before, report]() mutable {
                  const bool here = os_thread() == before;
                  report.send(here);  // buffered: never parks, so the thread stays ours
                  if (here) {
                    goro::syscall([&] {
                      while (!resumed.load()) resumed.wait(false);
                    });
                  }
                  helpers.done();
                });
              }
              goro::go([&, wake, report]() mutable {  // the waker
                for (int h = 0; h < holders; h++) {
                  if (report.recv().value_or(false)) break;
                }
                wake.send(1);
                helpers.done();
              });
              (void)wake.recv();
              if (os_thread() != before) migrated++;
              resumed.store(true);
              resumed.notify_all();
              helpers.wait();
            }
            uncaught_after = std::uncaught_exceptions();
            got = goro::recover().what();
          });
          panic_if(true, "migrating");
        });
        EXPECT_GT(migrated, 0) << "never moved in " << tries << " tries";
        EXPECT_EQ(uncaught_before, 1);
        EXPECT_EQ(uncaught_after, 1);
        EXPECT_EQ(got, "migrating");
      },
      goro::Config{.procs = procs()});
}

// Two goroutines on one thread each park inside a deferred call during
// their own panic; main runs between them, throws and catches, and sees
// no panic. Each wakes to its own count of exceptions in flight and
// recovers its own value, in the other order.
TEST_F(PanicTest, TwoGoroutinesParkedInDeferredCallsKeepTheirOwnExceptionState) {
  goro::run(
      [] {
        auto c1 = make_chan<int>(), c2 = make_chan<int>();
        auto parked = make_chan<int>(2);
        std::string got1, got2;
        int uncaught1 = -1, uncaught2 = -1;
        WaitGroup wg;
        wg.add(2);
        auto body = [&](chan<int> c, std::string& got, int& uncaught, const char* value) {
          goro::defer done([&] { wg.done(); });
          goro::defer d([&, c]() mutable {
            parked.send(1);
            (void)c.recv();
            uncaught = std::uncaught_exceptions();
            got = goro::recover().what();
          });
          panic_if(true, value);
        };
        goro::go([&] { body(c1, got1, uncaught1, "one"); });
        goro::go([&] { body(c2, got2, uncaught2, "two"); });
        (void)parked.recv();
        (void)parked.recv();
        EXPECT_EQ(std::uncaught_exceptions(), 0);
        EXPECT_FALSE(goro::recover());
        try {
          throw std::runtime_error("main's own");
        } catch (const std::runtime_error& e) {
          EXPECT_STREQ(e.what(), "main's own");
        }
        c2.send(1);
        c1.send(1);
        wg.wait();
        EXPECT_EQ(got1, "one");
        EXPECT_EQ(got2, "two");
        EXPECT_EQ(uncaught1, 1);
        EXPECT_EQ(uncaught2, 1);
      },
      goro::Config{.procs = 1});
}

// A catch block that parks, while other goroutines on the same thread
// throw and catch, then rethrows with `throw;`: it rethrows its own
// exception, which its deferred call recovers.
TEST_P(PanicProcsTest, ACatchBlockThatParksRethrowsItsOwnException) {
  goro::run(
      [] {
        const int n = 4;
        std::vector<std::string> got(n);
        auto go_on = make_chan<int>();
        auto in_catch = make_chan<int>(n);
        WaitGroup wg;
        wg.add(n);
        for (int i = 0; i < n; i++) {
          goro::go([&, i, go_on]() mutable {
            goro::defer done([&] { wg.done(); });
            goro::defer d([&, i] { got[i] = goro::recover().what(); });
            try {
              throw std::runtime_error("own " + std::to_string(i));
            } catch (...) {
              in_catch.send(1);
              (void)go_on.recv();
              throw;
            }
          });
        }
        for (int i = 0; i < n; i++) (void)in_catch.recv();
        for (int i = 0; i < n; i++) {
          try {
            throw std::logic_error("main's");
          } catch (...) {
          }
          go_on.send(1);
        }
        wg.wait();
        for (int i = 0; i < n; i++) EXPECT_EQ(got[i], "own " + std::to_string(i));
      },
      goro::Config{.procs = procs()});
}

// ---- Many at once ----

// 300 goroutines panic and recover at once on two Ps, some after yielding
// or parking, some in their deferred calls too: every one recovers its own
// value, and the program goes on to do it again.
TEST_P(PanicParallelTest, ThreeHundredGoroutinesPanicAndRecoverAtOnce) {
  goro::run(
      [] {
        const int n = 300;
        for (int round = 0; round < 2; round++) {
          std::vector<std::string> got(n);
          auto start = make_chan<int>();
          WaitGroup wg;
          wg.add(n);
          for (int i = 0; i < n; i++) {
            goro::go([&, i, start]() mutable {
              goro::defer done([&] { wg.done(); });
              goro::defer d([&, i] {
                if (i % 4 == 0) goro::gosched();
                got[i] = goro::recover().what();
              });
              if (i % 2 == 0) (void)start.recv();  // a barrier: closed below
              if (i % 3 == 0) goro::gosched();
              if (i % 5 == 0) {
                std::vector<int> small(5);
                (void)goro::at(small, i + 5);
              }
              throw std::runtime_error("g" + std::to_string(i));
            });
          }
          start.close();
          wg.wait();
          for (int i = 0; i < n; i++) {
            const std::string want = i % 5 == 0 ? "runtime error: index out of range [" + std::to_string(i + 5) +
                                                      "] with length 5"
                                                : "g" + std::to_string(i);
            ASSERT_EQ(got[i], want) << "goroutine " << i << " of round " << round;
          }
        }
        EXPECT_FALSE(goro::recover());
      },
      goro::Config{.procs = procs()});
}

// ---- Exceptions that are no panic ----

// Exceptions thrown and caught inside a deferred call, by user code or by
// the C++ library, even goro panics caught there or recovered by a defer
// of their own, do not disturb the panic the call runs for.
TEST_F(PanicTest, ExceptionsCaughtInsideADeferredCallDoNotDisturbThePanic) {
  goro::run([] {
    std::string got, inner_recovered;
    std::vector<int> uncaught;
    in_goroutine([&] {
      goro::defer d([&] {
        try {
          throw std::runtime_error("inner 1");
        } catch (const std::exception&) {
        }
        try {
          (void)std::vector<int>(1).at(3);
        } catch (const std::out_of_range&) {
        }
        try {
          goro::panic("inner 3");
        } catch (...) {
          uncaught.push_back(std::uncaught_exceptions());
        }
        try {
          try {
            throw 5;
          } catch (int) {
            throw;
          }
        } catch (int) {
        }
        std::exception_ptr kept = std::make_exception_ptr(std::logic_error("kept"));
        try {
          std::rethrow_exception(kept);
        } catch (const std::logic_error&) {
        }
        try {
          goro::defer own([&] { inner_recovered = goro::recover().what(); });
          goro::panic("inner 6");
        } catch (const goro::panic_error&) {
        }
        uncaught.push_back(std::uncaught_exceptions());
        got = goro::recover().what();
      });
      panic_if(true, "outer");
    });
    EXPECT_EQ(inner_recovered, "inner 6");
    EXPECT_EQ(got, "outer");
    EXPECT_EQ(uncaught, (std::vector<int>{1, 1}));
  });
}

// A catch (...) that catches a panic means there is no panic: the
// goroutine goes on normally, its defers see nothing to recover, and a
// later panic is recovered with its own value.
TEST_F(PanicTest, ACatchAllThatCatchesAPanicMeansNoPanic) {
  goro::run([] {
    bool went_on = false, at_exit = true;
    in_goroutine([&] {
      goro::defer d([&] { at_exit = static_cast<bool>(goro::recover()); });
      try {
        goro::defer inside([] {});  // runs during the unwinding, recovers nothing
        panic_if(true, "caught");
      } catch (...) {
      }
      went_on = true;
    });
    EXPECT_TRUE(went_on);
    EXPECT_FALSE(at_exit);

    std::string later;
    in_goroutine([&] {
      goro::defer d([&] { later = goro::recover().what(); });
      try {
        panic_if(true, "caught");
      } catch (...) {
      }
      panic_if(true, "later");
    });
    EXPECT_EQ(later, "later");
  });
}

// A panic that a deferred call recovered, then caught by a catch block:
// once caught it is no panic (ACatchAllThatCatchesAPanicMeansNoPanic), so
// a `throw;` from the block is a panic again, which an outer defer can
// recover, whatever the block did before rethrowing (nothing, a throw it
// caught itself, or a recover() that found nothing).
TEST_F(PanicTest, ARecoveredPanicCaughtAndRethrownIsAPanicAgain) {
  goro::run([] {
    for (const int variant : {0, 1, 2}) {
      std::string inner, outer;
      in_goroutine([&] {
        goro::defer d([&] { outer = goro::recover().what(); });
        try {
          goro::defer r([&] { inner = goro::recover().what(); });
          panic_if(true, "a");
        } catch (...) {
          if (variant == 1) {
            try {
              throw 1;
            } catch (int) {
            }
          }
          if (variant == 2) {
            EXPECT_FALSE(goro::recover());
          }
          throw;
        }
      });
      EXPECT_EQ(inner, "a") << "variant " << variant;
      EXPECT_EQ(outer, "a") << "variant " << variant << ": the rethrown exception is no panic";
    }
  });
}

// A catch that rethrows keeps the panic going; one that throws something
// else starts a new panic with that value.
TEST_F(PanicTest, ACatchThatRethrowsKeepsThePanicGoing) {
  goro::run([] {
    std::string rethrown, replaced;
    in_goroutine([&] {
      goro::defer d([&] { rethrown = goro::recover().what(); });
      try {
        panic_if(true, "kept going");
      } catch (...) {
        throw;
      }
    });
    EXPECT_EQ(rethrown, "kept going");
    in_goroutine([&] {
      goro::defer d([&] { replaced = goro::recover().what(); });
      try {
        panic_if(true, "old");
      } catch (...) {
        throw std::runtime_error("new");
      }
    });
    EXPECT_EQ(replaced, "new");
  });
}

INSTANTIATE_TEST_SUITE_P(Procs, PanicProcsTest, ::testing::Values(1, 2, 4));
INSTANTIATE_TEST_SUITE_P(Procs, PanicParallelTest, ::testing::Values(2, 4));

}  // namespace
