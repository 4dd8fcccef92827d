// recover_test.cpp: how recover() decides, as Go's own tests check it.
// recover() in a deferred call stops the panic that is unwinding through
// that defer's scope, and only once; it returns nothing with no panic, in
// a catch block, in a plain destructor, in a defer made by a deferred call
// and in a goroutine a deferred call started. Deferred calls run last in
// first out, at a normal exit and during a panic; recovered::what() and
// exception() for every kind of value a panic carries.
// Ported from Go's test/recover.go (test1, test1WithClosures, test2's
// second defer, test3) and src/runtime/defer_test.go
// (TestUnconditionalPanic, TestRecoverMatching). Left out: what needs Go's
// frames (recover.go's withoutRecover and `defer recover()`, which goro's
// recover() cannot tell apart: see panic.hpp), named results, reflection,
// and defers in loops (a goro::defer ends with its scope).
// The other panic tests: repanic_test.cpp (a panic during a panic),
// goexit_test.cpp (goro::call and goexit), panic_sources_test.cpp (what is
// a panic), unwinding_test.cpp (the runtime under a panic), and
// panic_death_test.cpp (the crashes).
// First chapter: 08.

#include <goro/goro.hpp>
#include <gtest/gtest.h>

#include <array>
#include <exception>
#include <stdexcept>
#include <string>
#include <vector>

#include "panic_support.hpp"
#include "support.hpp"

namespace {
using goro::make_chan;
using goro::testing::in_goroutine;
using goro::testing::panic_if;

class RecoverTest : public goro::testing::RuntimeTest {};

// ---- recover stops a panic (recover.go, recover1.go) ----

// The smallest program: a deferred call recovers, the goroutine ends
// normally at once, and the program goes on (Go's TestUnconditionalPanic,
// in a goroutine).
TEST_F(RecoverTest, RecoverInADeferredCallStopsThePanic) {
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
TEST_F(RecoverTest, RecoverReturnsThePanicOnlyOnce) {
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
TEST_F(RecoverTest, OneRecoverSquelchesThePanicForOlderDefers) {
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
TEST_F(RecoverTest, RecoverWithNoPanicReturnsEmpty) {
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
TEST_F(RecoverTest, RecoverInACatchBlockReturnsEmpty) {
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
TEST_F(RecoverTest, RecoverInAPlainDestructorDuringUnwindingReturnsEmpty) {
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
TEST_F(RecoverTest, RecoverInADeferMadeByADeferredCallReturnsEmpty) {
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
TEST_F(RecoverTest, RecoverInAGoroutineStartedByADeferredCallReturnsEmpty) {
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
TEST_F(RecoverTest, ARecoverInsideATryBlockStillLetsTheCatchCatch) {
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

// ---- Deferred calls run last in first out ----

TEST_F(RecoverTest, DefersRunLastInFirstOutNormallyAndDuringAPanic) {
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
TEST_F(RecoverTest, ALargeDeferredFunctionRunsDuringAPanic) {
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

// ---- What recover returns ----

// recovered::what() for each kind of value: goro::panic's message, any
// std::exception's what() (std::vector::at's out_of_range, thrown inside
// the C++ library, included), "unknown C++ exception" for other types;
// exception() is the exception itself, to rethrow.
TEST_F(RecoverTest, RecoveredWhatAndExceptionForEachKindOfValue) {
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
TEST_F(RecoverTest, ARecoveredExceptionCanBeRethrownElsewhere) {
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

}  // namespace
