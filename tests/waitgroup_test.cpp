// waitgroup_test.cpp: goro::WaitGroup as Go's own sync tests check
// sync.WaitGroup: a barrier reused round after round that releases nobody
// too soon, a negative counter that panics, a WaitGroup per iteration
// raced by two done()s; and what a runtime of goroutines adds: wait() on a
// zero counter returns at once, wait() parks the goroutine and not its
// thread (one P is enough), one done() releases many waiters at once, a
// WaitGroup may be destroyed as soon as its wait() returns, a wait() that
// wakes to a WaitGroup already reused panics, and every call outside a
// goroutine throws.
// Ported from Go's src/sync/waitgroup_test.go (Go 1.19): TestWaitGroup,
// TestWaitGroupMisuse, TestWaitGroupRace, TestWaitGroupAlign; the texts of
// the panics are those of src/sync/waitgroup.go. TestWaitGroupMisuse2 and
// TestWaitGroupMisuse3 (Go 1.8 to 1.18, dropped from 1.19's file) raced
// Add against Wait for a second, hoping to see "Add called concurrently
// with Wait": nothing deterministic, so not ported. The benchmarks are
// left out (bench/ has goro's).
// First chapter: 07.
#include <goro/goro.hpp>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <type_traits>

#include "goro/common/sanitizer.hpp"
#include "support.hpp"

namespace {
using namespace std::chrono_literals;
namespace san = goro::common::san;
using goro::default_case;
using goro::make_chan;
using goro::recv_case;
using goro::select;
using goro::WaitGroup;

// sized is an iteration count: the plain build's, or a smaller one under
// AddressSanitizer or ThreadSanitizer, where each goroutine switch costs
// much more. Only sizes shrink, never what is checked.
int sized(int plain, int asan, int tsan) {
  return san::tsan ? tsan : san::asan ? asan : plain;
}

class WaitGroupTest : public goro::testing::RuntimeTest {};
class WaitGroupProcs : public goro::testing::RuntimeProcsTest {};

// others_gone_at_exit, declared first in a test's main, waits as main ends
// until every other goroutine has ended too: a goroutine still running
// when run() returns would be abandoned, and a WaitGroup on main's stack
// gone while it still uses it. One still there after 20 s fails the test.
class others_gone_at_exit {
 public:
  others_gone_at_exit() = default;
  others_gone_at_exit(const others_gone_at_exit&) = delete;
  others_gone_at_exit& operator=(const others_gone_at_exit&) = delete;
  ~others_gone_at_exit() {
    const auto give_up = std::chrono::steady_clock::now() + 20s;
    while (goro::num_goroutine() > 1) {
      if (std::chrono::steady_clock::now() > give_up) {
        ADD_FAILURE() << goro::num_goroutine() - 1 << " goroutines still alive as main ends";
        return;
      }
      goro::sleep_for(1ms);
    }
  }
};

// what_panic runs f and returns the message of the panic_error it throws,
// or "" if it throws none.
template <class F>
std::string what_panic(F&& f) {
  try {
    f();
  } catch (const goro::panic_error& e) {
    return e.what();
  }
  return "";
}

const std::string negative = "sync: negative WaitGroup counter";
const std::string reused = "sync: WaitGroup is reused before previous Wait has returned";

// ---- TestWaitGroup ----

// Go's testWaitGroup: n goroutines each done() wg1, then wait on wg2. Once
// wg1.wait() returns, main done()s wg2 n times: until the last, nobody may
// have left wg2.wait().
void test_wait_group(WaitGroup& wg1, WaitGroup& wg2) {
  const int n = 16;
  wg1.add(n);
  wg2.add(n);
  auto exited = make_chan<bool>(n);
  for (int i = 0; i != n; i++) {
    goro::go([&wg1, &wg2, exited]() mutable {
      wg1.done();
      wg2.wait();
      exited.send(true);
    });
  }
  wg1.wait();
  for (int i = 0; i != n; i++) {
    select(recv_case(exited, [] { ADD_FAILURE() << "WaitGroup released group too soon"; }),
           default_case([] {}));
    wg2.done();
  }
  for (int i = 0; i != n; i++) {
    ASSERT_TRUE(exited.recv().has_value());  // blocks if the barrier fails to release someone
  }
}

// The same two WaitGroups, eight times: each round leaves them ready for
// the next.
TEST_P(WaitGroupProcs, WaitGroup) {
  goro::run(
      [] {
        const others_gone_at_exit others;
        WaitGroup wg1, wg2;
        for (int i = 0; i != 8; i++) test_wait_group(wg1, wg2);
      },
      goro::Config{.procs = procs()});
}

// ---- TestWaitGroupMisuse ----

// A counter below 0 panics, in the add() that takes it there: a
// panic_error with Go's text, which is a std::runtime_error too.
TEST_F(WaitGroupTest, WaitGroupMisuse) {
  goro::run([] {
    {
      WaitGroup wg;
      wg.add(1);
      wg.done();
      EXPECT_EQ(what_panic([&] { wg.done(); }), negative) << "should panic";
    }
    {
      WaitGroup wg;
      EXPECT_EQ(what_panic([&] { wg.add(-1); }), negative);
    }
    {
      WaitGroup wg;
      wg.add(3);
      EXPECT_EQ(what_panic([&] { wg.add(-4); }), negative);
    }
    {
      WaitGroup wg;
      try {
        wg.done();
        ADD_FAILURE() << "should panic";
      } catch (const std::runtime_error& e) {  // panic_error is one
        EXPECT_EQ(std::string(e.what()), negative);
      }
    }
  });
}

// The same in a goroutine other than main: the panic leaves its done(),
// and the goroutine can catch it.
TEST_F(WaitGroupTest, WaitGroupMisuseInAGoroutine) {
  goro::run([] {
    const others_gone_at_exit others;
    auto result = make_chan<std::string>(1);
    goro::go([result]() mutable {
      WaitGroup wg;
      wg.add(2);
      wg.done();
      wg.done();
      result.send(what_panic([&] { wg.done(); }));
    });
    EXPECT_EQ(result.recv(), negative);
  });
}

// ---- TestWaitGroupRace ----

// A new WaitGroup each iteration, on main's stack, done() by two
// goroutines: wait() returns only once both have counted.
TEST_P(WaitGroupProcs, WaitGroupRace) {
  const int iters = 1000;  // Go's count, under the sanitizers too
  int spurious = 0;
  goro::run(
      [&] {
        const others_gone_at_exit others;
        for (int i = 0; i < iters; i++) {
          WaitGroup wg;
          std::atomic<int> n{0};
          wg.add(1);  // goroutine 1
          goro::go([&] {
            n++;
            wg.done();
          });
          wg.add(1);  // goroutine 2
          goro::go([&] {
            n++;
            wg.done();
          });
          wg.wait();  // for goroutines 1 and 2
          if (n.load() != 2) spurious++;
        }
      },
      goro::Config{.procs = procs()});
  EXPECT_EQ(spurious, 0) << "spurious wakeup from Wait";
}

// ---- TestWaitGroupAlign ----

// Go's test is of a 32-bit platform, where a WaitGroup after a byte may sit
// at an address that is not 64-bit aligned, which the atomic operations on
// its state word need. In C++ the word's type aligns it: a WaitGroup after
// a char still works, and is aligned for its 64-bit atomic.
TEST_F(WaitGroupTest, WaitGroupAlign) {
  struct X {
    char x;
    WaitGroup wg;
  };
  static_assert(alignof(WaitGroup) >= alignof(std::uint64_t));
  static_assert(std::atomic<std::uint64_t>::is_always_lock_free);
  goro::run([] {
    X x{};
    EXPECT_EQ(reinterpret_cast<std::uintptr_t>(&x.wg) % alignof(std::uint64_t), 0u);
    x.wg.add(1);
    goro::go([](X* px) { px->wg.done(); }, &x);
    x.wg.wait();
  });
}

// ---- Beyond Go's tests ----

// wait() on a counter of 0 returns at once: here main is the only
// goroutine, so a wait() that parked would be a deadlock, ending the
// program. A WaitGroup back at 0 is the same.
TEST_P(WaitGroupProcs, WaitWithACounterOfZeroReturnsAtOnce) {
  goro::run(
      [] {
        WaitGroup wg;
        for (int i = 0; i < 1000; i++) wg.wait();
        wg.add(2);
        wg.done();
        wg.done();
        wg.wait();
        wg.add(5);
        wg.add(-5);
        wg.wait();
      },
      goro::Config{.procs = procs()});
}

// With one P, main waiting lets the goroutine it waits for run: wait()
// parks main, not the thread. The goroutine keeps the P busy a while,
// then sleeps, then counts down.
TEST_F(WaitGroupTest, WaitParksTheGoroutineNotTheThread) {
  std::atomic<int> yields{0};
  goro::run(
      [&] {
        WaitGroup wg;
        wg.add(1);
        goro::go([&] {
          for (int i = 0; i < 100; i++) {
            yields++;
            goro::gosched();
          }
          goro::sleep_for(2ms);
          wg.done();
        });
        wg.wait();
        EXPECT_EQ(yields.load(), 100);
      },
      goro::Config{.procs = 1});
}

// Many goroutines wait on one WaitGroup; none passes while the counter is
// 1, and the one done() that takes it to 0 releases them all. Three
// rounds: the gate is reused once every wait() of a round has returned.
TEST_P(WaitGroupProcs, ManyWaitersAreReleasedAtOnce) {
  const int n = sized(200, 200, 100);
  goro::run(
      [&] {
        const others_gone_at_exit others;
        WaitGroup gate;
        for (int round = 0; round < 3; round++) {
          WaitGroup started, finished;
          std::atomic<int> passed{0};
          gate.add(1);
          started.add(n);
          finished.add(n);
          for (int i = 0; i < n; i++) {
            goro::go([&] {
              started.done();
              gate.wait();
              passed++;
              finished.done();
            });
          }
          started.wait();
          goro::sleep_for(1ms);  // most, or all, are parked in gate.wait() by now
          EXPECT_EQ(passed.load(), 0) << "round " << round << ": passed a gate still closed";
          gate.done();
          finished.wait();
          EXPECT_EQ(passed.load(), n) << "round " << round;
        }
      },
      goro::Config{.procs = procs()});
}

// A WaitGroup may be freed as soon as wait() returns in its only waiter:
// the last done() must not touch it after releasing the waiter. On the
// heap, so that AddressSanitizer sees any touch after the free.
TEST_P(WaitGroupProcs, DestroyedAsSoonAsWaitReturns) {
  const int iters = sized(2000, 1000, 500);
  goro::run(
      [&] {
        const others_gone_at_exit others;
        for (int i = 0; i < iters; i++) {
          auto wg = std::make_unique<WaitGroup>();
          WaitGroup* w = wg.get();
          w->add(2);
          goro::go([w] { w->done(); });
          goro::go([w] { w->done(); });
          wg->wait();
          wg.reset();
        }
      },
      goro::Config{.procs = procs()});
}

// The same with the waiter a goroutine that frees the WaitGroup, while
// main, which released it, is still returning from done().
TEST_P(WaitGroupProcs, DestroyedByTheWaiterAsSoonAsWaitReturns) {
  const int iters = sized(2000, 1000, 500);
  goro::run(
      [&] {
        const others_gone_at_exit others;
        auto freed = make_chan<int>(1);
        for (int i = 0; i < iters; i++) {
          auto* w = new WaitGroup;
          w->add(1);
          goro::go([w, freed]() mutable {
            w->wait();
            delete w;
            freed.send(1);
          });
          if (i % 2 == 0) goro::gosched();  // half the time, the waiter is parked by now
          w->done();
          ASSERT_TRUE(freed.recv().has_value());
        }
      },
      goro::Config{.procs = procs()});
}

// Go's rule: a new round may start only once every wait() of the last one
// has returned. With one P it can be broken deterministically: goroutine G
// parks in wait(); main's done() releases it (G is runnable, but main
// keeps the P) and main's add(1) starts a new round before G runs. G wakes
// to a counter that is not 0 and panics, in its wait().
//
// That G is parked before main goes on follows from the order in which one
// P runs what is runnable, as in Go: a new goroutine goes to runnext,
// pushing the one there before it to the run queue, and runnext runs
// first. So, main parked, G runs (and parks in wait()), then H, whose send
// wakes main.
TEST_F(WaitGroupTest, WaitThatWakesToAReusedWaitGroupPanics) {
  goro::run(
      [] {
        const others_gone_at_exit others;
        WaitGroup wg;
        auto result = make_chan<std::string>(1);
        auto go_on = make_chan<int>();
        wg.add(1);
        goro::go([go_on]() mutable { go_on.send(1); });  // H
        goro::go([&wg, result]() mutable { result.send(what_panic([&] { wg.wait(); })); });  // G
        ASSERT_TRUE(go_on.recv().has_value());  // G runs only now, and parks in wait()
        wg.done();
        wg.add(1);
        EXPECT_EQ(result.recv(), reused);
        wg.done();  // back to 0, as the WaitGroup is destroyed
      },
      goro::Config{.procs = 1});
}

// Goroutines still parked in wait() or lock() when main returns are
// abandoned, as any blocked goroutine is: run() returns all the same. The
// next run() starts with no waiter left over in the runtime's semaphore
// table, even for a WaitGroup and a Mutex at the very addresses of the
// last run's. (They live outside run(), so that a goroutine that has not
// parked yet when main returns still finds them.)
TEST_P(WaitGroupProcs, WaitersLeftWhenMainReturnsAreAbandoned) {
  struct shared {
    WaitGroup wg, finished;
    goro::Mutex m;
    std::atomic<int> n{0};
  };
  std::optional<shared> s;
  for (const bool release : {false, true, false, true}) {
    s.emplace();  // the same addresses each time
    goro::run(
        [&] {
          s->wg.add(1);
          s->m.lock();
          s->finished.add(5);
          for (int i = 0; i < 3; i++) {
            goro::go([&] {
              s->wg.wait();
              s->n++;
              s->finished.done();
            });
          }
          for (int i = 0; i < 2; i++) {
            goro::go([&] {
              s->m.lock();
              s->n++;
              s->m.unlock();
              s->finished.done();
            });
          }
          goro::sleep_for(2ms);  // let them park (if some have not, no matter)
          if (release) {
            s->wg.done();
            s->m.unlock();
            s->finished.wait();
          }
          EXPECT_EQ(s->n.load(), release ? 5 : 0);
        },
        goro::Config{.procs = procs()});
  }
}

// Every call needs a goroutine: outside one, std::logic_error.
TEST_F(WaitGroupTest, CallsOutsideAGoroutineThrow) {
  WaitGroup wg;
  EXPECT_THROW(wg.add(1), std::logic_error);
  EXPECT_THROW(wg.done(), std::logic_error);
  EXPECT_THROW(wg.wait(), std::logic_error);
  static_assert(!std::is_copy_constructible_v<WaitGroup>);
  static_assert(!std::is_copy_assignable_v<WaitGroup>);
}

INSTANTIATE_TEST_SUITE_P(Procs, WaitGroupProcs, ::testing::Values(1, 2, 4));

}  // namespace
