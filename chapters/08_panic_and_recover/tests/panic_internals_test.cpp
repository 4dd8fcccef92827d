// panic_internals_test.cpp: chapter 08's records of defers and panics from
// the inside: g::_defer follows the scopes and loses a defer as its call
// begins; running_defer names the call in progress and comes back as it
// ends; a panic's record (depth, value, carrier) while its deferred calls
// run, marked recovered by recover(); a panic of a deferred call stacked
// on the one it runs for, then moved down to replace it (aborted); the
// records of exceptions that user code caught pruned by the next look;
// goexit's record; nothing left on a G once its function has ended or
// goro::call has taken a recovered panic; and the C++ exception state
// kept on the G while it is parked.
#include <goro/goro.hpp>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <exception>
#include <stdexcept>
#include <string>

#include "runtime.hpp"
#include "support.hpp"

namespace {
using namespace std::chrono_literals;
using namespace goro::runtime;
using goro::make_chan;
using goro::WaitGroup;

class PanicInternals : public goro::testing::RuntimeTest {};

int defer_count(const g* gp) {
  int n = 0;
  for (auto* d = gp->_defer; d != nullptr; d = d->link) n++;
  return n;
}

int panic_count(const g* gp) {
  int n = 0;
  for (auto* p = gp->_panic; p != nullptr; p = p->link) n++;
  return n;
}

// wait_status parks the caller (sleeping) until the G in `gp` has been
// made and is in status s.
void wait_status(const std::atomic<g*>& gp, gstatus s) {
  while (gp.load() == nullptr) goro::sleep_for(100us);
  while (gp.load()->atomicstatus.load() != s) goro::sleep_for(100us);
}

// A defer is on the list from its construction; its call takes it off
// first, and running_defer points at it (started, no panic at a normal
// exit) until the call returns.
TEST_F(PanicInternals, TheDeferListFollowsTheScopes) {
  goro::run([] {
    g* gp = getg();
    EXPECT_EQ(gp->_defer, nullptr);
    EXPECT_EQ(gp->running_defer, nullptr);
    {
      goro::defer a([gp] {
        EXPECT_EQ(defer_count(gp), 0);
        ASSERT_NE(gp->running_defer, nullptr);
        EXPECT_TRUE(gp->running_defer->started);
        EXPECT_EQ(gp->running_defer->panic, nullptr);
      });
      ASSERT_EQ(defer_count(gp), 1);
      goro::detail::defer_record* ra = gp->_defer;
      EXPECT_EQ(ra->owner, gp);
      EXPECT_FALSE(ra->started);
      EXPECT_EQ(ra->uncaught, 0);
      {
        goro::defer b([gp, ra] {
          EXPECT_EQ(defer_count(gp), 1);
          EXPECT_EQ(gp->_defer, ra);
          EXPECT_NE(gp->running_defer, ra);
          // A deferred call inside this one: running_defer is the inner
          // one while it runs, this one again after.
          goro::detail::defer_record* rb = gp->running_defer;
          {
            goro::defer c([gp, rb] {
              EXPECT_NE(gp->running_defer, rb);
              EXPECT_NE(gp->running_defer, nullptr);
            });
          }
          EXPECT_EQ(gp->running_defer, rb);
        });
        EXPECT_EQ(defer_count(gp), 2);
        EXPECT_EQ(gp->_defer->link, ra);
      }
      EXPECT_EQ(defer_count(gp), 1);
      EXPECT_EQ(gp->running_defer, nullptr);
    }
    EXPECT_EQ(gp->_defer, nullptr);
    EXPECT_EQ(gp->running_defer, nullptr);
    EXPECT_EQ(gp->_panic, nullptr);
  });
}

// While a panic unwinds: one record of depth 1, the deferred call runs for
// it, recover() marks it recovered and returns its value. Once the G's
// function has ended, nothing is left on it.
TEST_F(PanicInternals, APanicsRecordWhileItsDeferredCallsRun) {
  goro::run([] {
    std::atomic<g*> seen{nullptr};
    WaitGroup wg;
    wg.add(1);
    goro::go([&] {
      g* gp = getg();
      seen.store(gp);
      goro::defer done([&] { wg.done(); });
      goro::defer older([gp] {
        ASSERT_NE(gp->_panic, nullptr);
        EXPECT_TRUE(gp->_panic->recovered);
        EXPECT_TRUE(gp->_panic->done) << "its recovering call has returned";
        EXPECT_FALSE(goro::recover());
      });
      goro::defer d([gp] {
        ASSERT_EQ(panic_count(gp), 1);
        _panic* p = gp->_panic;
        EXPECT_EQ(p->depth, 1);
        EXPECT_EQ(p->arg, p->carrier);
        EXPECT_FALSE(p->recovered);
        EXPECT_FALSE(p->goexit);
        EXPECT_FALSE(p->aborted);
        ASSERT_NE(gp->running_defer, nullptr);
        EXPECT_EQ(gp->running_defer->panic, p);
        const goro::recovered r = goro::recover();
        EXPECT_EQ(r.exception(), p->arg);
        EXPECT_TRUE(p->recovered);
        EXPECT_EQ(gp->_panic, p) << "recover marks the record; the unwinding goes on";
      });
      throw std::runtime_error("boom");
    });
    wg.wait();
    wait_status(seen, gstatus::_Gdead);
    g* gp = seen.load();
    EXPECT_EQ(gp->_panic, nullptr);
    EXPECT_EQ(gp->_defer, nullptr);
    EXPECT_EQ(gp->running_defer, nullptr);
    EXPECT_FALSE(gp->goexiting);
  });
}

// A panic inside a deferred call stacks a record of depth 2 on the first;
// once it leaves the call, it moves down to depth 1, carried by the first
// one's exception, which stays below it, aborted.
TEST_F(PanicInternals, APanicOfADeferredCallReplacesTheRecordItRunsFor) {
  goro::run([] {
    std::string got;
    WaitGroup wg;
    wg.add(1);
    goro::go([&] {
      g* gp = getg();
      goro::defer done([&] { wg.done(); });
      goro::defer d1([gp, &got] {
        ASSERT_EQ(panic_count(gp), 2);
        _panic* p2 = gp->_panic;
        _panic* p1 = p2->link;
        EXPECT_EQ(p2->depth, 1);
        EXPECT_EQ(p1->depth, 1);
        EXPECT_TRUE(p1->aborted);
        EXPECT_FALSE(p2->aborted);
        EXPECT_EQ(p2->carrier, p1->carrier) << "the first panic's unwinding carries the second";
        EXPECT_NE(p2->arg, p1->arg);
        EXPECT_EQ(gp->running_defer->panic, p2);
        got = goro::recover().what();
      });
      goro::defer d2([gp] {
        goro::defer inner([gp] {
          ASSERT_EQ(panic_count(gp), 2);
          EXPECT_EQ(gp->_panic->depth, 2);
          EXPECT_EQ(gp->_panic->link->depth, 1);
          EXPECT_EQ(gp->running_defer->panic, gp->_panic);
          EXPECT_EQ(std::uncaught_exceptions(), 2);
        });
        goro::panic("second");
      });
      goro::panic("first");
    });
    wg.wait();
    EXPECT_EQ(got, "second");
  });
}

// goro::call that takes a recovered panic drops every record: the
// recovered one and the one it replaced.
TEST_F(PanicInternals, CallDropsTheRecordsOfTheRecoveredPanic) {
  goro::run([] {
    g* gp = getg();
    const int r = goro::call([gp] {
      goro::defer rec([gp] {
        EXPECT_EQ(panic_count(gp), 2);
        EXPECT_EQ(goro::recover().what(), "second");
      });
      goro::defer d([] { goro::panic("second"); });
      goro::panic("first");
      return 1;
    });
    EXPECT_EQ(r, 0);
    EXPECT_EQ(gp->_panic, nullptr);
    EXPECT_EQ(gp->_defer, nullptr);
    EXPECT_EQ(gp->running_defer, nullptr);
  });
}

// The record of an exception that a catch block caught is stale: the next
// recover() or throw drops it, so that only live exceptions have records.
TEST_F(PanicInternals, RecordsOfCaughtExceptionsArePruned) {
  goro::run([] {
    g* gp = getg();
    try {
      goro::panic("a");
    } catch (...) {
      EXPECT_EQ(panic_count(gp), 1) << "stale, not yet pruned";
    }
    EXPECT_FALSE(goro::recover());
    EXPECT_EQ(gp->_panic, nullptr) << "recover prunes";
    try {
      goro::panic("b");
    } catch (...) {
    }
    std::exception_ptr c;
    try {
      throw std::logic_error("c");
    } catch (...) {
      c = std::current_exception();
      ASSERT_EQ(panic_count(gp), 1) << "the throw pruned b's record";
      EXPECT_EQ(gp->_panic->arg, c);
    }
    // A deferred call that throws and catches keeps the record it runs for.
    std::string got;
    goro::call([&] {
      goro::defer d([&] {
        for (int i = 0; i < 3; i++) {
          try {
            throw i;
          } catch (int) {
          }
        }
        EXPECT_EQ(gp->_panic->depth, 2) << "the last caught throw's record, stale";
        got = goro::recover().what();
        EXPECT_EQ(panic_count(gp), 1);
        EXPECT_EQ(gp->_panic->depth, 1);
      });
      goro::panic("live");
    });
    EXPECT_EQ(got, "live");
    EXPECT_EQ(gp->_panic, nullptr);
  });
}

// goexit()'s record is marked goexit; recover() leaves it alone.
TEST_F(PanicInternals, GoexitsRecord) {
  goro::run([] {
    std::atomic<g*> seen{nullptr};
    WaitGroup wg;
    wg.add(1);
    goro::go([&] {
      g* gp = getg();
      seen.store(gp);
      goro::defer done([&] { wg.done(); });
      goro::defer d([gp] {
        ASSERT_EQ(panic_count(gp), 1);
        EXPECT_TRUE(gp->_panic->goexit);
        EXPECT_FALSE(goro::recover());
        EXPECT_FALSE(gp->_panic->recovered);
      });
      goro::goexit();
    });
    wg.wait();
    wait_status(seen, gstatus::_Gdead);
    EXPECT_EQ(seen.load()->_panic, nullptr);
    EXPECT_FALSE(seen.load()->goexiting) << "cleared for the G's next life";
  });
}

// A G parked in a deferred call during its panic keeps its C++ exception
// state (one exception in flight) in its saved context, and the thread
// that ran it has its own (none); a G parked in a catch block keeps the
// exception it handles.
TEST_F(PanicInternals, AParkedGoroutineKeepsItsExceptionState) {
  goro::run(
      [] {
        std::atomic<g*> unwinding{nullptr}, catching{nullptr};
        auto go_on = make_chan<int>();
        WaitGroup wg;
        wg.add(2);
        goro::go([&, go_on]() mutable {
          unwinding.store(getg());
          goro::defer done([&] { wg.done(); });
          goro::defer d([&, go_on]() mutable {
            (void)go_on.recv();
            EXPECT_EQ(std::uncaught_exceptions(), 1);
            (void)goro::recover();
          });
          goro::panic("parked");
        });
        goro::go([&, go_on]() mutable {
          catching.store(getg());
          goro::defer done([&] { wg.done(); });
          try {
            throw std::runtime_error("handled");
          } catch (const std::runtime_error& e) {
            (void)go_on.recv();
            EXPECT_STREQ(e.what(), "handled");
            EXPECT_NE(std::current_exception(), nullptr);
          }
        });
        wait_status(unwinding, gstatus::_Gwaiting);
        wait_status(catching, gstatus::_Gwaiting);
        // The state is saved with the G's registers, in its context (the
        // switch of goro::common, since chapter 01).
        EXPECT_EQ(unwinding.load()->sched.eh.uncaught, 1u);
        EXPECT_EQ(unwinding.load()->sched.eh.caught, nullptr) << "unwinding, in no catch block";
        EXPECT_EQ(catching.load()->sched.eh.uncaught, 0u);
        EXPECT_NE(catching.load()->sched.eh.caught, nullptr);
        EXPECT_EQ(std::uncaught_exceptions(), 0);
        EXPECT_EQ(std::current_exception(), nullptr);
        go_on.send(1);
        go_on.send(1);
        wg.wait();
      },
      goro::Config{.procs = 1});
}

}  // namespace
