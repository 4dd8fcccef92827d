// goexit_test.cpp: where a goroutine goes on after a recovery, and how it
// ends without one. goro::call is Go's recovery point: the function whose
// defer recovered returns the zero value to call's caller, while
// unrecovered panics and goexit() go through it (recover.go's try is built
// on it). goexit() runs the defers and ends the goroutine; recover() returns
// nothing during it, and a panic recovered during it lets it go on.
// Ported from Go's test/recover.go (test5's try), src/runtime/crash_test.go
// (TestGoexitDefer) and the programs of testdata/testprog/deadlock.go that
// end well (RecoveredPanicAfterGoexit, RecoverBeforePanicAfterGoexit and
// ...2, GoexitInPanic's goroutine); their crashes are in
// panic_death_test.cpp.
// First chapter: 08.

#include <goro/goro.hpp>
#include <gtest/gtest.h>

#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "panic_support.hpp"
#include "support.hpp"

namespace {
using goro::make_chan;
using goro::testing::in_goroutine;
using goro::testing::panic_if;

class GoexitTest : public goro::testing::RuntimeTest {};

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
TEST_F(GoexitTest, CallReturnsTheZeroValueWhenItsFunctionRecovers) {
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
TEST_F(GoexitTest, CallResumesTheCallerOfTheFunctionThatRecovered) {
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

TEST_F(GoexitTest, TryReturnsThePanicValueOrTheDefault) {
  goro::run([] {
    EXPECT_EQ(try_([] { goro::panic("5"); }, "55"), "5");
    EXPECT_EQ(try_([] {}, "hi"), "hi");
  });
}

// A panic nobody recovers in call's function goes on through call: the
// caller's code after it does not run, and an outer defer recovers it.
TEST_F(GoexitTest, CallLetsAnUnrecoveredPanicThrough) {
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
TEST_F(GoexitTest, CallLetsGoexitThrough) {
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
TEST_F(GoexitTest, CallInsideADeferredCallRecoversItsOwnPanicOnly) {
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
TEST_F(GoexitTest, GoexitRunsTheDefersAndRecoverReturnsEmpty) {
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
TEST_F(GoexitTest, GoexitCaughtAndRethrownGoesOn) {
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
TEST_F(GoexitTest, APanicRecoveredDuringGoexitLetsTheGoexitGoOn) {
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
TEST_F(GoexitTest, RecoverBeforePanicAfterGoexit) {
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
TEST_F(GoexitTest, GoexitInADeferredCallDuringAPanicEndsTheGoroutine) {
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
TEST_F(GoexitTest, GoexitFromACallInsideADeferredCallReplacesThePanic) {
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
TEST_F(GoexitTest, ADeferredCallDuringGoexitMayRecoverItsOwnPanic) {
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
TEST_F(GoexitTest, DeferAndGoexitOutsideAGoroutineThrow) {
  EXPECT_THROW(goro::defer d([] {}), std::logic_error);
  EXPECT_THROW(goro::goexit(), std::logic_error);
}

}  // namespace
