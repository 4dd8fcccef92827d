// repanic_test.cpp: a panic out of a deferred call while another panic
// unwinds. In C++ that is a destructor throwing during unwinding, which
// would end in std::terminate; in goro, as in Go, the new panic replaces
// the old one, and an older defer recovers the newer. A recovered panic
// that is raised again, nested recoveries, and a panic from a deferred
// call made at a normal exit (a new panic, not a replacement).
// Ported from Go's test/recover1.go (test1 to test4) and
// src/runtime/defer_test.go (TestAbortedPanic, TestIssue43921,
// TestIssue43920, TestIssue43941, TestDeferWithRepeatedRepanics). Go's
// recovery resumes the function whose defer recovered; the ports wrap
// that function in goro::call, where goro puts Go's landing point.
// First chapter: 08.

#include <goro/goro.hpp>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "panic_support.hpp"
#include "support.hpp"

namespace {
using goro::testing::in_goroutine;
using goro::testing::panic_if;

class RepanicTest : public goro::testing::RuntimeTest {};

// ---- A panic in a deferred call replaces the one being unwound ----

// Go's TestAbortedPanic: panic2, thrown by a deferred call while panic1
// unwinds, replaces it: the next defer recovers panic2, and the oldest
// sees nothing.
TEST_F(RepanicTest, APanicInADeferredCallReplacesTheOldOne) {
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
TEST_F(RepanicTest, ThreePanicsInARowTheNewestIsRecovered) {
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
TEST_F(RepanicTest, ANestedPanicRecoveredInsideTheDeferredCall) {
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
TEST_F(RepanicTest, RecoverThenPanicAndRecoverInsideTheDeferredCall) {
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
TEST_F(RepanicTest, RecoverThenPanicAgainAnOlderDeferRecoversTheNewOne) {
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
TEST_F(RepanicTest, RecoverIgnoringTheValueSquelchesThePanic) {
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
TEST_F(RepanicTest, APanicInADeferredCallAtANormalExitIsANewPanic) {
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
TEST_F(RepanicTest, Issue43921) {
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
TEST_F(RepanicTest, Issue43920) {
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
TEST_F(RepanicTest, Issue43941) {
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

TEST_F(RepanicTest, DeferWithRepeatedRepanics) {
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

}  // namespace
