// panic_sources_test.cpp: what is a panic now. goro::at is Go's index
// check, with Go's text; misusing a channel or a WaitGroup is a runtime
// error to recover, also for a sender parked when the channel closes;
// 300 goroutines panic and recover at once; and C++ exceptions that are
// no panic: thrown and caught inside a deferred call, or caught by a
// catch (...) in user code, and the rethrow that makes one a panic again.
// Ported from Go's test/recover2.go (test1, as goro::at) and
// src/runtime/crash_test.go (TestRuntimePanicWithRuntimeError, for the
// channel cases).
// First chapter: 08.

#include <goro/goro.hpp>
#include <gtest/gtest.h>

#include <array>
#include <chrono>
#include <exception>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "panic_support.hpp"
#include "support.hpp"

namespace {
using namespace std::chrono_literals;
using goro::chan;
using goro::make_chan;
using goro::recv_case;
using goro::select;
using goro::send_case;
using goro::WaitGroup;
using goro::testing::in_goroutine;
using goro::testing::panic_if;

class PanicSourcesTest : public goro::testing::RuntimeTest {};
class PanicSourcesProcsTest : public goro::testing::RuntimeProcsTest {};
class PanicSourcesParallelTest : public goro::testing::RuntimeProcsTest {};

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

TEST_F(PanicSourcesTest, AtPanicsWithGosIndexText) {
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
TEST_P(PanicSourcesProcsTest, EachGoroutineRecoversFromItsOwnIndexOutOfRange) {
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
TEST_F(PanicSourcesTest, ChannelMisuseIsARecoverableRuntimeError) {
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
TEST_P(PanicSourcesProcsTest, ASenderParkedWhenTheChannelIsClosedRecovers) {
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
TEST_F(PanicSourcesTest, WaitGroupMisuseIsARecoverablePanic) {
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

// ---- Many at once ----

// 300 goroutines panic and recover at once on two Ps, some after yielding
// or parking, some in their deferred calls too: every one recovers its own
// value, and the program goes on to do it again.
TEST_P(PanicSourcesParallelTest, ThreeHundredGoroutinesPanicAndRecoverAtOnce) {
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
TEST_F(PanicSourcesTest, ExceptionsCaughtInsideADeferredCallDoNotDisturbThePanic) {
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
TEST_F(PanicSourcesTest, ACatchAllThatCatchesAPanicMeansNoPanic) {
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
TEST_F(PanicSourcesTest, ARecoveredPanicCaughtAndRethrownIsAPanicAgain) {
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
TEST_F(PanicSourcesTest, ACatchThatRethrowsKeepsThePanicGoing) {
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

INSTANTIATE_TEST_SUITE_P(Procs, PanicSourcesProcsTest, ::testing::Values(1, 2, 4));
INSTANTIATE_TEST_SUITE_P(Procs, PanicSourcesParallelTest, ::testing::Values(2, 4));

}  // namespace
