// mutex_test.cpp: goro::Mutex as Go's own sync tests check sync.Mutex:
// hammered by ten goroutines mixing lock and try_lock, and fair enough
// that a goroutine which only now and then wants the lock gets it from one
// that holds it almost all the time (starvation mode). And what a runtime
// of goroutines adds: try_lock from any goroutine, a lock() that parks the
// goroutine (one P is enough for the holder to go on and unlock), an
// unlock by another goroutine than the locker, the standard lock wrappers
// (std::lock_guard, std::unique_lock, std::scoped_lock of two), and a
// counter that stays exact under contention at 1, 2 and 4 Ps.
// Ported from Go's src/sync/mutex_test.go (Go 1.19): TestMutex (with
// HammerMutex) and TestMutexFairness. TestMutexMisuse's Mutex cases are
// death tests in sync_death_test.cpp; its RWMutex cases, and
// TestSemaphore (which calls the runtime's semaphore through an export
// for tests), have nothing to test in goro's API: it has no RWMutex and
// no public semaphore. The benchmarks are left out (bench/ has goro's).
// First chapter: 07.
#include <goro/goro.hpp>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <stdexcept>
#include <type_traits>

#include "goro/common/sanitizer.hpp"
#include "support.hpp"

namespace {
using namespace std::chrono_literals;
namespace san = goro::common::san;
using goro::chan;
using goro::default_case;
using goro::make_chan;
using goro::Mutex;
using goro::recv_case;
using goro::select;

// sized is an iteration count: the plain build's, or a smaller one under
// AddressSanitizer or ThreadSanitizer, where each goroutine switch costs
// much more. Only sizes shrink, never what is checked.
int sized(int plain, int asan, int tsan) {
  return san::tsan ? tsan : san::asan ? asan : plain;
}

class MutexTest : public goro::testing::RuntimeTest {};
class MutexProcs : public goro::testing::RuntimeProcsTest {};
class MutexFairnessProcs : public goro::testing::RuntimeProcsTest {};

// others_gone_at_exit, declared first in a test's main, waits as main ends
// until every other goroutine has ended too: a goroutine still running
// when run() returns would be abandoned, with a Mutex on main's stack gone
// while it still uses it. One still there after 20 s fails the test.
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

// wait receives n values from done: Go's wg.Wait() for goroutines that
// each end with done.send(...).
template <class T>
void wait(chan<T>& done, int n) {
  for (int i = 0; i < n; i++) ASSERT_TRUE(done.recv().has_value());
}

// ---- TestMutex ----

// Go's HammerMutex: every third turn a try_lock (and an unlock if it
// locked), the others a lock and an unlock.
void hammer_mutex(Mutex& m, int loops, chan<bool> cdone) {
  for (int i = 0; i < loops; i++) {
    if (i % 3 == 0) {
      if (m.try_lock()) m.unlock();
      continue;
    }
    m.lock();
    m.unlock();
  }
  cdone.send(true);
}

TEST_P(MutexProcs, Mutex) {
  const int loops = 1000;  // Go's count, under the sanitizers too
  goro::run(
      [&] {
        const others_gone_at_exit others;
        Mutex m;
        m.lock();
        EXPECT_FALSE(m.try_lock()) << "TryLock succeeded with mutex locked";
        m.unlock();
        EXPECT_TRUE(m.try_lock()) << "TryLock failed with mutex unlocked";
        m.unlock();

        auto c = make_chan<bool>();
        for (int i = 0; i < 10; i++) goro::go(hammer_mutex, std::ref(m), loops, c);
        wait(c, 10);
      },
      goro::Config{.procs = procs()});
}

// ---- TestMutexFairness ----

// One goroutine holds the mutex almost all the time: it sleeps 100 us with
// it held, unlocks, and at once locks it again. Another wants it ten
// times, 100 us apart. In normal mode the first would win every race; once
// the second has waited over 1 ms the mutex starves, and unlock hands it
// over. Go gives it 10 s, which is plenty: it takes milliseconds.
TEST_P(MutexFairnessProcs, MutexFairness) {
  bool acquired = false;
  goro::run(
      [&] {
        const others_gone_at_exit others;
        Mutex mu;
        auto stop = make_chan<bool>();
        auto exited = make_chan<bool>(2);
        goro::go([&mu, stop, exited]() mutable {
          for (;;) {
            mu.lock();
            goro::sleep_for(100us);
            mu.unlock();
            bool stopped = false;
            select(recv_case(stop, [&] { stopped = true; }), default_case([] {}));
            if (stopped) break;
          }
          exited.send(true);
        });
        auto done = make_chan<bool>(1);
        goro::go([&mu, done, exited]() mutable {
          for (int i = 0; i < 10; i++) {
            goro::sleep_for(100us);
            mu.lock();
            mu.unlock();
          }
          done.send(true);
          exited.send(true);
        });
        select(recv_case(done, [&] { acquired = true; }),
               recv_case(goro::after(10s), [] {}));
        stop.close();  // Go's defer close(stop)
        if (!acquired) ADD_FAILURE() << "can't acquire Mutex in 10 seconds";
        // The second goroutine may still be trying; the test ends either
        // way once it is done (it can only fail to be, by hanging).
        wait(exited, 2);
      },
      goro::Config{.procs = procs()});
  EXPECT_TRUE(acquired);
}

// ---- Beyond Go's tests ----

// try_lock takes a free mutex, and never one that is locked, whoever asks;
// it never waits.
TEST_P(MutexProcs, TryLock) {
  goro::run(
      [] {
        const others_gone_at_exit others;
        Mutex m;
        EXPECT_TRUE(m.try_lock()) << "a free mutex";
        EXPECT_FALSE(m.try_lock()) << "locked by this goroutine";
        auto got = make_chan<bool>(1);
        goro::go([&m, got]() mutable { got.send(m.try_lock()); });
        EXPECT_EQ(got.recv(), false) << "locked, from another goroutine";
        m.unlock();
        goro::go([&m, got]() mutable {
          const bool locked = m.try_lock();
          if (locked) m.unlock();
          got.send(locked);
        });
        EXPECT_EQ(got.recv(), true) << "unlocked, from another goroutine";
        EXPECT_TRUE(m.try_lock()) << "unlocked again";
        m.unlock();
      },
      goro::Config{.procs = procs()});
}

// With one P, main blocked in lock() lets the holder run on, and unlock:
// lock() parks the goroutine, not the thread. The holder sleeps with the
// lock held (no goroutine to run then but a parked main), or keeps
// yielding with it.
TEST_F(MutexTest, LockParksTheGoroutine) {
  goro::run(
      [] {
        const others_gone_at_exit others;
        for (const bool sleeps : {true, false}) {
          Mutex m;
          int x = 0;  // written by the holder with m held, read by main with m held
          auto held = make_chan<int>(1);
          auto done = make_chan<int>(1);
          goro::go([&, held, done]() mutable {
            m.lock();
            held.send(1);
            if (sleeps) {
              goro::sleep_for(5ms);
            } else {
              for (int i = 0; i < 100; i++) goro::gosched();
            }
            x = 1;
            m.unlock();
            done.send(1);
          });
          ASSERT_TRUE(held.recv().has_value());
          m.lock();
          EXPECT_EQ(x, 1) << (sleeps ? "sleeping" : "yielding") << " holder";
          m.unlock();
          wait(done, 1);
        }
      },
      goro::Config{.procs = 1});
}

// A locked Mutex belongs to no goroutine: one locks it, another unlocks it,
// and a third, parked in lock() meanwhile, gets it.
TEST_P(MutexProcs, UnlockFromAnotherGoroutine) {
  goro::run(
      [] {
        const others_gone_at_exit others;
        Mutex m;
        auto done = make_chan<int>(1);
        // Main locks, a goroutine unlocks.
        m.lock();
        goro::go([&m, done]() mutable {
          m.unlock();
          done.send(1);
        });
        wait(done, 1);
        EXPECT_TRUE(m.try_lock());
        m.unlock();
        // A goroutine locks, main unlocks.
        goro::go([&m, done]() mutable {
          m.lock();
          done.send(1);
        });
        wait(done, 1);
        EXPECT_FALSE(m.try_lock());
        m.unlock();
        // Main locks; G waits in lock(); H unlocks, which lets G in; G
        // unlocks in turn, and says so.
        m.lock();
        auto g_had_it = make_chan<int>(1);
        goro::go([&m, g_had_it]() mutable {
          m.lock();
          m.unlock();
          g_had_it.send(1);
        });
        goro::sleep_for(1ms);  // G is parked in lock() by now, most likely
        goro::go([&m, done]() mutable {
          m.unlock();
          done.send(1);
        });
        wait(done, 1);
        wait(g_had_it, 1);
        EXPECT_TRUE(m.try_lock());
        m.unlock();
      },
      goro::Config{.procs = procs()});
}

// Mutex is BasicLockable and Lockable: the standard wrappers work with it,
// and std::scoped_lock takes two without deadlock, whatever order other
// goroutines take them in.
TEST_P(MutexProcs, StandardLockWrappers) {
  const int iters = sized(2000, 1000, 500);
  goro::run(
      [&] {
        const others_gone_at_exit others;
        Mutex a, b;
        {
          const std::lock_guard l(a);
          EXPECT_FALSE(a.try_lock());
        }
        EXPECT_TRUE(a.try_lock());
        a.unlock();
        {
          std::unique_lock l(a, std::defer_lock);
          EXPECT_FALSE(l.owns_lock());
          l.lock();
          EXPECT_TRUE(l.owns_lock());
          std::unique_lock l2(a, std::try_to_lock);
          EXPECT_FALSE(l2.owns_lock());
          l.unlock();
          EXPECT_TRUE(l2.try_lock());
        }
        {
          const std::scoped_lock l(a, b);
          EXPECT_FALSE(a.try_lock());
          EXPECT_FALSE(b.try_lock());
        }
        EXPECT_TRUE(a.try_lock());
        EXPECT_TRUE(b.try_lock());
        a.unlock();
        b.unlock();

        // Four goroutines take both, two in each order; each counter is
        // changed only with both held, and now and then a holder yields.
        long ab = 0, ba = 0;
        auto done = make_chan<int>(4);
        for (int k = 0; k < 4; k++) {
          goro::go([&, k, done]() mutable {
            for (int i = 0; i < iters; i++) {
              if (k % 2 == 0) {
                const std::scoped_lock l(a, b);
                ab++;
                if (i % 16 == 0) goro::gosched();
              } else {
                const std::scoped_lock l(b, a);
                ba++;
                if (i % 16 == 0) goro::gosched();
              }
            }
            done.send(1);
          });
        }
        wait(done, 4);
        EXPECT_EQ(ab, 2L * iters);
        EXPECT_EQ(ba, 2L * iters);
        // std::unique_lock, from many goroutines.
        long n = 0;
        for (int k = 0; k < 4; k++) {
          goro::go([&, done]() mutable {
            for (int i = 0; i < iters; i++) {
              std::unique_lock l(a);
              n++;
              if (i % 16 == 0) {
                l.unlock();
                goro::gosched();
                l.lock();
              }
              n++;
            }
            done.send(1);
          });
        }
        wait(done, 4);
        EXPECT_EQ(n, 8L * iters);
      },
      goro::Config{.procs = procs()});
}

// A plain counter changed only with the mutex held ends exact: N
// goroutines of M increments each, the holder yielding now and then so
// that others pile up parked in lock().
TEST_P(MutexProcs, ProtectedCounterIsExact) {
  const int N = 8;
  const int M = sized(10000, 4000, 2000);
  long counter = 0;
  goro::run(
      [&] {
        const others_gone_at_exit others;
        Mutex m;
        auto done = make_chan<int>(N);
        for (int k = 0; k < N; k++) {
          goro::go([&, done]() mutable {
            for (int i = 0; i < M; i++) {
              const std::lock_guard l(m);
              const long seen = counter;
              if (i % 100 == 0) goro::gosched();
              counter = seen + 1;
            }
            done.send(1);
          });
        }
        wait(done, N);
      },
      goro::Config{.procs = procs()});
  EXPECT_EQ(counter, static_cast<long>(N) * M);
}

// Outside a goroutine the fast paths work, as they need no runtime: a lock
// of a free mutex, an unlock with nobody waiting, a try_lock. What must
// wait, a lock of a locked mutex, throws std::logic_error (there is no
// goroutine to park), and leaves the mutex as it was.
TEST_F(MutexTest, OutsideAGoroutineOnlyWhatMustWaitThrows) {
  Mutex m;
  m.lock();
  EXPECT_FALSE(m.try_lock());
  EXPECT_THROW(m.lock(), std::logic_error);
  m.unlock();
  EXPECT_TRUE(m.try_lock());
  m.unlock();
  {
    const std::lock_guard l(m);
  }
  goro::run([&] {  // still free, and usable by goroutines
    EXPECT_TRUE(m.try_lock());
    m.unlock();
  });
  static_assert(!std::is_copy_constructible_v<Mutex>);
  static_assert(!std::is_copy_assignable_v<Mutex>);
}

INSTANTIATE_TEST_SUITE_P(Procs, MutexProcs, ::testing::Values(1, 2, 4));
INSTANTIATE_TEST_SUITE_P(Procs, MutexFairnessProcs, ::testing::Values(1, 2));

}  // namespace
