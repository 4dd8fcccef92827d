// unwinding_test.cpp: the runtime under a panic. It stays consistent when
// a panic unwinds out of a select case, a select on a closed channel,
// goro::syscall, a std::lock_guard<goro::Mutex>, and a goroutine that
// parked a moment ago. A deferred call may yield, sleep, use channels,
// park and move to another thread while its panic unwinds, and still
// recover it: the exception state travels with the goroutine, and two
// goroutines parked in deferred calls keep their own.
// First chapter: 08.

#include <goro/goro.hpp>
#include <gtest/gtest.h>

#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <exception>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "goro/common/sanitizer.hpp"
#include "panic_support.hpp"
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
using goro::testing::in_goroutine;
using goro::testing::panic_if;

class UnwindingTest : public goro::testing::RuntimeTest {};
class UnwindingProcsTest : public goro::testing::RuntimeProcsTest {};
class UnwindingParallelTest : public goro::testing::RuntimeProcsTest {};

// sized is an iteration count: the plain build's, or a smaller one under
// AddressSanitizer or ThreadSanitizer. Only sizes shrink, never checks.
int sized(int plain, int asan, int tsan) { return san::tsan ? tsan : san::asan ? asan : plain; }

// os_thread is the calling thread's id, asked of the kernel each time: a
// goroutine may resume on another thread after any switch, and the
// compiler may keep pthread_self()'s value (declared const) across one.
long os_thread() { return ::syscall(SYS_gettid); }

// ---- The runtime stays consistent when a panic unwinds through it ----

// A panic out of the function of a select's case: select had released its
// channels before the case ran, so both still work, for a select again and
// for other goroutines.
TEST_P(UnwindingProcsTest, APanicOutOfASelectCaseLeavesTheChannelsUsable) {
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
TEST_P(UnwindingProcsTest, ASelectThatPanicsOnAClosedChannelUnlocksEveryChannel) {
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
TEST_P(UnwindingProcsTest, APanicOutOfASyscallLeavesTheRuntimeConsistent) {
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
TEST_F(UnwindingTest, ADeferredCallRecoversAPanicOutOfASyscall) {
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
TEST_P(UnwindingProcsTest, APanicThroughALockGuardUnlocksTheMutex) {
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
TEST_P(UnwindingProcsTest, AGoroutineThatParkedAMomentAgoPanicsAndRecovers) {
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
TEST_P(UnwindingProcsTest, ADeferredCallMayBlockWhileItsPanicUnwinds) {
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
TEST_P(UnwindingParallelTest, ADeferredCallThatMigratesDuringUnwindingRecoversItsOwnPanic) {
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
TEST_F(UnwindingTest, TwoGoroutinesParkedInDeferredCallsKeepTheirOwnExceptionState) {
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
TEST_P(UnwindingProcsTest, ACatchBlockThatParksRethrowsItsOwnException) {
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

INSTANTIATE_TEST_SUITE_P(Procs, UnwindingProcsTest, ::testing::Values(1, 2, 4));
INSTANTIATE_TEST_SUITE_P(Procs, UnwindingParallelTest, ::testing::Values(2, 4));

}  // namespace
