// chan_test.cpp: channels as Go's own runtime tests check them: blocking and
// non-blocking sends and receives at every small capacity, close, len and
// cap, select (racing a close, selecting on itself, under stress, fair and
// pseudo-random, with a channel twice in it), time.After, and the element
// types C++ adds: move-only, without a default constructor, 4 KiB, empty,
// and one that checks that each value built is destroyed exactly once.
// Ported from Go's src/runtime/chan_test.go (Go 1.19), with the close
// semantics of test/closedchan.go and test/chancap.go. goro has no garbage
// collector and never moves stacks, so the tests of stack shrinking keep
// only their channel traffic, and TestChanSendBarrier (Go 1.5 to 1.18, a
// missing write barrier) its request pattern; the benchmarks are left out.
// First chapter: 06.
#include <goro/goro.hpp>
#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "goro/common/sanitizer.hpp"
#include "support.hpp"

namespace {
using namespace std::chrono_literals;
namespace san = goro::common::san;
using goro::chan;
using goro::default_case;
using goro::make_chan;
using goro::recv_case;
using goro::select;
using goro::send_case;

// sized is an iteration count: the plain build's, or a smaller one under
// AddressSanitizer or ThreadSanitizer, where each goroutine switch costs
// much more. Only sizes shrink, never what is checked.
int sized(int plain, int asan, int tsan) {
  return san::tsan ? tsan : san::asan ? asan : plain;
}

class ChanTest : public goro::testing::RuntimeTest {};
class ChanProcs : public goro::testing::RuntimeProcsTest {};
class ChanParallel : public goro::testing::RuntimeProcsTest {};  // two Ps or more

// others_gone_at_exit, declared first in a test's main, waits as main ends
// until every other goroutine has ended too (all but `stuck`, those a test
// leaves blocked for ever on purpose). A goroutine left parked with
// channel handles on its stack would keep them for ever, since run()
// destroys closures but not stack frames, and LeakSanitizer would report
// them. One still there after 20 s fails the test.
class others_gone_at_exit {
 public:
  int stuck = 0;
  others_gone_at_exit() = default;
  others_gone_at_exit(const others_gone_at_exit&) = delete;
  others_gone_at_exit& operator=(const others_gone_at_exit&) = delete;
  ~others_gone_at_exit() {
    const auto give_up = std::chrono::steady_clock::now() + 20s;
    while (goro::num_goroutine() > 1 + stuck) {
      if (std::chrono::steady_clock::now() > give_up) {
        ADD_FAILURE() << goro::num_goroutine() - 1 << " goroutines still alive as main ends";
        return;
      }
      goro::sleep_for(1ms);
    }
  }
};

// wait is Go's wg.Wait() for goroutines that each end with done.send(1):
// it receives n values. done is buffered for all of them, so that none of
// them parks in its last send.
void wait(chan<int>& done, int n) {
  for (int i = 0; i < n; i++) ASSERT_TRUE(done.recv().has_value());
}

// Go's stackGrowthRecursive: i frames of 1 KiB each.
[[gnu::noinline]] std::uint64_t use_stack(int i) {
  volatile std::uint64_t pad[128];
  pad[0] = static_cast<std::uint64_t>(i);
  pad[127] = pad[0] + 1;
  if (i != 0 && pad[0] != 0) return use_stack(i - 1) + pad[127];
  return pad[127];
}

// ---- TestChan ----

// One capacity of Go's TestChan; l values per goroutine in its last part.
void test_chan(std::size_t cap, int l) {
  {
    // A receive from an empty channel blocks.
    auto c = make_chan<int>(cap);
    auto done = make_chan<int>(2);
    std::atomic<bool> recv1{false}, recv2{false};
    goro::go([c, done, &recv1]() mutable {
      (void)c.recv();
      recv1 = true;
      done.send(1);
    });
    goro::go([c, done, &recv2]() mutable {
      select(recv_case(c, [](std::optional<int>) {}));  // Go's `_, _ = <-c`
      recv2 = true;
      done.send(1);
    });
    goro::sleep_for(1ms);
    EXPECT_FALSE(recv1.load() || recv2.load()) << "chan[" << cap << "]: receive from empty chan";
    // A non-blocking receive does not block.
    bool received = false;
    EXPECT_EQ(select(recv_case(c, [&] { received = true; }), default_case([] {})), 1u);
    EXPECT_EQ(select(default_case([] {}), recv_case(c, [&](std::optional<int>) { received = true; })),
              0u);
    EXPECT_FALSE(received) << "chan[" << cap << "]: receive from empty chan";
    c.send(0);
    c.send(0);
    wait(done, 2);
    EXPECT_TRUE(recv1.load() && recv2.load());
  }

  {
    // A send to a full channel blocks.
    auto c = make_chan<int>(cap);
    for (std::size_t i = 0; i < cap; i++) c.send(static_cast<int>(i));
    std::atomic<bool> sent{false};
    auto done = make_chan<int>(1);
    goro::go([c, done, &sent]() mutable {
      c.send(0);
      sent = true;
      done.send(1);
    });
    goro::sleep_for(1ms);
    EXPECT_FALSE(sent.load()) << "chan[" << cap << "]: send to full chan";
    // A non-blocking send does not block.
    EXPECT_EQ(select(send_case(c, 0, [] { ADD_FAILURE() << "send to full chan"; }),
                     default_case([] {})),
              1u);
    EXPECT_EQ(c.recv(), 0);
    wait(done, 1);
    EXPECT_TRUE(sent.load());
    EXPECT_EQ(c.size(), cap);
  }

  {
    // A closed channel delivers what it holds, then nothing.
    auto c = make_chan<int>(cap);
    for (std::size_t i = 0; i < cap; i++) c.send(static_cast<int>(i));
    c.close();
    for (std::size_t i = 0; i < cap; i++) {
      EXPECT_EQ(c.recv(), static_cast<int>(i)) << "chan[" << cap << "]";
    }
    EXPECT_EQ(c.recv(), std::nullopt) << "chan[" << cap << "]";
    EXPECT_EQ(c.recv(), std::nullopt) << "chan[" << cap << "]";
  }

  {
    // close unblocks a receive.
    auto c = make_chan<int>(cap);
    auto done = make_chan<bool>();
    goro::go([c, done]() mutable {
      auto v = c.recv();
      done.send(!v.has_value());
    });
    goro::sleep_for(1ms);
    c.close();
    EXPECT_EQ(done.recv(), true) << "chan[" << cap << "]: received a value from a closed chan";
  }

  {
    // 100 integers arrive uncorrupted, in FIFO order.
    auto c = make_chan<int>(cap);
    goro::go([c]() mutable {
      for (int i = 0; i < 100; i++) c.send(i);
    });
    for (int i = 0; i < 100; i++) {
      auto v = c.recv();
      ASSERT_EQ(v, i) << "chan[" << cap << "]";
    }
    // The same, received by one-case selects (Go's recv2).
    goro::go([c]() mutable {
      for (int i = 0; i < 100; i++) c.send(i);
    });
    for (int i = 0; i < 100; i++) {
      std::optional<int> v;
      select(recv_case(c, [&](std::optional<int> x) { v = x; }));
      ASSERT_EQ(v, i) << "chan[" << cap << "]";
    }

    // l integers from each of 4 goroutines, received by 4 others: each
    // value arrives 4 times, whoever receives it.
    const int P = 4;
    for (int p = 0; p < P; p++) {
      goro::go([c, l]() mutable {
        for (int i = 0; i < l; i++) c.send(i);
      });
    }
    auto done = make_chan<std::map<int, int>>(P);
    for (int p = 0; p < P; p++) {
      goro::go([c, done, l]() mutable {
        std::map<int, int> recv;
        for (int i = 0; i < l; i++) recv[*c.recv()]++;
        done.send(std::move(recv));
      });
    }
    std::map<int, int> recv;
    for (int p = 0; p < P; p++) {
      auto m = done.recv();
      ASSERT_TRUE(m.has_value());
      for (auto [k, v] : *m) recv[k] += v;
    }
    EXPECT_EQ(recv.size(), static_cast<std::size_t>(l)) << "chan[" << cap << "]";
    int wrong = 0;
    for (auto [k, v] : recv) wrong += v != P;
    EXPECT_EQ(wrong, 0) << "chan[" << cap << "]: values not received " << P << " times";
  }

  {
    // len and cap.
    auto c = make_chan<int>(cap);
    EXPECT_EQ(c.size(), 0u);
    EXPECT_EQ(c.capacity(), cap);
    for (std::size_t i = 0; i < cap; i++) c.send(static_cast<int>(i));
    EXPECT_EQ(c.size(), cap);
    EXPECT_EQ(c.capacity(), cap);
  }
}

TEST_P(ChanProcs, Chan) {
  const int ncaps = sized(40, 20, 5);  // Go: 200, or 20 with -short
  const int l = sized(1000, 500, 100);
  goro::run(
      [&] {
        const others_gone_at_exit others;
        for (int cap = 0; cap < ncaps; cap++) test_chan(static_cast<std::size_t>(cap), l);
      },
      goro::Config{.procs = procs()});
}

// ---- Races of non-blocking operations against close and send ----

// Go's TestNonblockRecvRace: a non-blocking receive on a channel that
// holds a value, or is closed, must always find it ready, however it races
// with the close and with the main goroutine's own receive.
TEST_P(ChanProcs, NonblockRecvRace) {
  const int n = sized(10000, 4000, 400);  // Go: 10000, or 100 with -short
  std::atomic<int> not_ready{0};
  goro::run(
      [&] {
        const others_gone_at_exit others;
        auto done = make_chan<int>(static_cast<std::size_t>(n));
        for (int i = 0; i < n; i++) {
          auto c = make_chan<int>(1);
          c.send(1);
          goro::go([c, done, &not_ready]() mutable {
            select(recv_case(c, [] {}), default_case([&] { not_ready++; }));
            done.send(1);
          });
          c.close();
          (void)c.recv();
        }
        wait(done, n);
      },
      goro::Config{.procs = procs()});
  EXPECT_EQ(not_ready.load(), 0) << "chan is not ready";
}

// The same race, made likely: left alone, main runs ahead of the goroutines
// it starts, and they find each channel closed and drained long ago. Here
// one receiver keeps running on another P: main publishes each channel,
// the receiver says it is about to select on it and does, while main,
// which waited for that word, closes the channel and receives.
TEST_P(ChanParallel, NonblockRecvRaceWithARunningReceiver) {
  const int n = sized(20000, 5000, 500);
  std::atomic<int> not_ready{0};
  goro::run(
      [&] {
        const others_gone_at_exit others;
        std::vector<chan<int>> chans(static_cast<std::size_t>(n));
        std::atomic<int> published{-1}, armed{-1}, handled{-1};
        auto done = make_chan<int>(1);
        // spin waits until f() holds, yielding now and then, so that it
        // goes on even if the other goroutine shares its P.
        auto spin = [](auto f) {
          for (long k = 1; !f(); k++) {
            if (k % 4096 == 0) goro::gosched();
          }
        };
        goro::go([&, done]() mutable {
          for (int i = 0; i < n; i++) {
            spin([&] { return published.load() >= i; });
            armed.store(i);
            select(recv_case(chans[static_cast<std::size_t>(i)], [] {}),
                   default_case([&] { not_ready++; }));
            handled.store(i);
          }
          done.send(1);
        });
        for (int i = 0; i < n; i++) {
          auto& c = chans[static_cast<std::size_t>(i)];
          c = make_chan<int>(1);
          c.send(1);
          published.store(i);
          spin([&] { return armed.load() >= i; });
          c.close();
          (void)c.recv();
          spin([&] { return handled.load() >= i; });
          c = {};
        }
        wait(done, 1);
      },
      goro::Config{.procs = procs()});
  EXPECT_EQ(not_ready.load(), 0) << "chan is not ready";
}

// Go's TestNonblockSelectRace: select acts on the channels' state at one
// moment. From the time the goroutine exists, c1 or c2 is always ready, so
// its select must never take the default case.
TEST_P(ChanProcs, NonblockSelectRace) {
  const int n = sized(20000, 5000, 500);  // Go: 100000, or 1000 with -short
  int none_ready = 0;
  goro::run(
      [&] {
        const others_gone_at_exit others;
        auto done = make_chan<bool>(1);
        for (int i = 0; i < n; i++) {
          auto c1 = make_chan<int>(1), c2 = make_chan<int>(1);
          c1.send(1);
          goro::go([c1, c2, done]() mutable {
            bool ready = true;
            select(recv_case(c1, [] {}), recv_case(c2, [] {}), default_case([&] { ready = false; }));
            done.send(ready);
          });
          c2.send(1);
          select(recv_case(c1, [] {}), default_case([] {}));
          if (!*done.recv()) none_ready++;
        }
      },
      goro::Config{.procs = procs()});
  EXPECT_EQ(none_ready, 0) << "no chan is ready";
}

// Go's TestNonblockSelectRace2: the same, with close(c2) for c2 <- 1.
TEST_P(ChanProcs, NonblockSelectRace2) {
  const int n = sized(20000, 5000, 500);
  int none_ready = 0;
  goro::run(
      [&] {
        const others_gone_at_exit others;
        auto done = make_chan<bool>(1);
        for (int i = 0; i < n; i++) {
          auto c1 = make_chan<int>(1), c2 = make_chan<int>();
          c1.send(1);
          goro::go([c1, c2, done]() mutable {
            bool ready = true;
            select(recv_case(c1, [] {}), recv_case(c2, [] {}), default_case([&] { ready = false; }));
            done.send(ready);
          });
          c2.close();
          select(recv_case(c1, [] {}), default_case([] {}));
          if (!*done.recv()) none_ready++;
        }
      },
      goro::Config{.procs = procs()});
  EXPECT_EQ(none_ready, 0) << "no chan is ready";
}

// ---- select ----

// Go's TestSelfSelect: a send and a receive on the same channel in one
// select neither crashes nor deadlocks, and on an unbuffered channel a
// goroutine never receives its own value.
TEST_P(ChanProcs, SelfSelect) {
  const int iters = sized(1000, 1000, 300);
  std::atomic<int> self_receives{0};
  goro::run(
      [&] {
        const others_gone_at_exit others;
        for (std::size_t cap : {0u, 10u}) {
          auto c = make_chan<int>(cap);
          auto done = make_chan<int>(2);
          for (int p = 0; p < 2; p++) {
            goro::go([c, done, p, cap, iters, &self_receives]() mutable {
              auto check = [&](std::optional<int> v) {
                if (cap == 0 && v == p) self_receives++;
              };
              for (int i = 0; i < iters; i++) {
                if (p == 0 || i % 2 == 0) {
                  select(send_case(c, p, [] {}), recv_case(c, check));
                } else {
                  select(recv_case(c, check), send_case(c, p, [] {}));
                }
              }
              done.send(1);
            });
          }
          wait(done, 2);
        }
      },
      goro::Config{.procs = procs()});
  EXPECT_EQ(self_receives.load(), 0) << "self receive";
}

// Go's TestSelectStress: 4 goroutines send n values on each of 4 channels
// (2 unbuffered, 2 buffered), 4 receive n from each, one sends n on each
// in a single select, one receives n from each in a single select, setting
// a channel to nil once it is done with it. All of it must end.
TEST_P(ChanProcs, SelectStress) {
  const int n = sized(30000, 10000, 1000);  // Go: 1e5, or 1e4 with -short
  std::array<std::array<int, 4>, 2> counts{};
  goro::run(
      [&] {
        const others_gone_at_exit others;
        std::array<chan<int>, 4> c{make_chan<int>(), make_chan<int>(), make_chan<int>(2),
                                   make_chan<int>(3)};
        auto done = make_chan<int>(10);
        for (int k = 0; k < 4; k++) {
          goro::go([c, k, n, done]() mutable {
            for (int i = 0; i < n; i++) c[k].send(0);
            done.send(1);
          });
          goro::go([c, k, n, done]() mutable {
            for (int i = 0; i < n; i++) (void)c[k].recv();
            done.send(1);
          });
        }
        goro::go([c, n, done, &counts]() mutable {
          auto& cnt = counts[0];
          auto c1 = c;
          auto sent = [&](int k) {
            return [&, k] {
              if (++cnt[k] == n) c1[k] = {};
            };
          };
          for (int i = 0; i < 4 * n; i++) {
            select(send_case(c1[3], 0, sent(3)), send_case(c1[2], 0, sent(2)),
                   send_case(c1[0], 0, sent(0)), send_case(c1[1], 0, sent(1)));
          }
          done.send(1);
        });
        goro::go([c, n, done, &counts]() mutable {
          auto& cnt = counts[1];
          auto c1 = c;
          auto received = [&](int k) {
            return [&, k] {
              if (++cnt[k] == n) c1[k] = {};
            };
          };
          for (int i = 0; i < 4 * n; i++) {
            select(recv_case(c1[0], received(0)), recv_case(c1[1], received(1)),
                   recv_case(c1[2], received(2)), recv_case(c1[3], received(3)));
          }
          done.send(1);
        });
        wait(done, 10);
      },
      goro::Config{.procs = procs()});
  for (auto& side : counts) EXPECT_EQ(side, (std::array<int, 4>{n, n, n, n}));
}

// Go's TestSelectFairness: of two always-ready cases (and two never
// ready), select picks each about half the time. Go's bound is 4.9
// standard deviations (one failure in a million); this one is 6 (one in
// a billion), still far from a select that favours the first ready case.
TEST_F(ChanTest, SelectFairness) {
  const int trials = sized(10000, 10000, 2000);
  int cnt1 = 0, cnt2 = 0, other = 0;
  goro::run(
      [&] {
        const others_gone_at_exit others;
        const auto n = static_cast<std::size_t>(trials + 1);
        auto c1 = make_chan<std::uint8_t>(n), c2 = make_chan<std::uint8_t>(n);
        for (std::size_t i = 0; i < n; i++) {
          c1.send(1);
          c2.send(2);
        }
        auto c3 = make_chan<std::uint8_t>(), c4 = make_chan<std::uint8_t>();
        auto out = make_chan<std::uint8_t>();
        auto done = make_chan<std::uint8_t>();
        auto finished = make_chan<int>(1);
        goro::go([=]() mutable {
          for (;;) {
            std::uint8_t b = 0;
            auto take = [&](std::optional<std::uint8_t> v) { b = *v; };
            select(recv_case(c3, take), recv_case(c4, take), recv_case(c1, take),
                   recv_case(c2, take));
            bool quit = false;
            select(send_case(out, b, [] {}), recv_case(done, [&] { quit = true; }));
            if (quit) break;
          }
          finished.send(1);
        });
        for (int i = 0; i < trials; i++) {
          switch (*out.recv()) {
            case 1: cnt1++; break;
            case 2: cnt2++; break;
            default: other++;
          }
        }
        done.close();
        wait(finished, 1);
      },
      goro::Config{.procs = 2});
  EXPECT_EQ(other, 0) << "unexpected value on channel";
  const double r = static_cast<double>(cnt1) / trials;
  EXPECT_LE(std::abs(r - 0.5), 6 * 0.5 / std::sqrt(trials))
      << "unfair select: in " << trials << " trials, results were " << cnt1 << ", " << cnt2;
}

// Go's TestChanSendInterface: sends of a pointer in selects with a default,
// on a full channel, take the default; the values of the cases not taken
// are dropped, not kept or leaked.
TEST_F(ChanTest, ChanSendInterface) {
  struct mt {};
  long uses = 0;
  std::size_t took[2] = {};
  goro::run([&] {
    const others_gone_at_exit others;
    auto m = std::make_shared<mt>();
    auto c = make_chan<std::shared_ptr<mt>>(1);
    c.send(m);
    took[0] = select(send_case(c, m, [] {}), default_case([] {}));
    took[1] = select(send_case(c, m, [] {}), send_case(c, std::make_shared<mt>(), [] {}),
                     default_case([] {}));
    uses = m.use_count();  // m and the one in c's buffer
    c = {};                // the last handle: the buffered one goes too
    uses = uses * 10 + m.use_count();
  });
  EXPECT_EQ(took[0], 1u);
  EXPECT_EQ(took[1], 2u);
  EXPECT_EQ(uses, 21);
}

// Go's TestPseudoRandomSend: a select of two sends of 0 and 1 on one
// channel sends each a fair share of the time, buffered or not. (Fewer
// than a tenth of either in 100 is a chance of about 1e-17.)
TEST_P(ChanProcs, PseudoRandomSend) {
  static constexpr int n = 100;
  std::vector<std::pair<int, int>> zeros_ones;
  goro::run(
      [&] {
        const others_gone_at_exit others;
        for (std::size_t cap : {std::size_t{0}, std::size_t{n}}) {
          auto c = make_chan<int>(cap);
          std::vector<int> l(n);
          auto done = make_chan<int>(1);
          goro::go([c, done, &l]() mutable {
            for (int i = 0; i < n; i++) {
              goro::gosched();
              l[static_cast<std::size_t>(i)] = *c.recv();
            }
            done.send(1);
          });
          for (int i = 0; i < n; i++) select(send_case(c, 1, [] {}), send_case(c, 0, [] {}));
          wait(done, 1);
          int n0 = 0, n1 = 0;
          for (int i : l) {
            n0 += (i + 1) % 2;
            n1 += i;
          }
          zeros_ones.emplace_back(n0, n1);
        }
      },
      goro::Config{.procs = procs()});
  ASSERT_EQ(zeros_ones.size(), 2u);
  for (auto [n0, n1] : zeros_ones) {
    EXPECT_GT(n0, n / 10) << "want pseudorandom, got " << n0 << " zeros and " << n1 << " ones";
    EXPECT_GT(n1, n / 10) << "want pseudorandom, got " << n0 << " zeros and " << n1 << " ones";
  }
}

// Go's TestMultiConsumer: 23 workers range over a work queue and pass each
// value on; a feeder closes the queue, waits for the workers, closes the
// results. Every value arrives once. (expect is a plain variable the
// feeder writes and main reads after the results' close: the close and
// the receive that sees it must order them, which ThreadSanitizer checks.)
TEST_P(ChanProcs, MultiConsumer) {
  static constexpr int nwork = 23;
  const int niter = sized(271828, 60000, 5000);  // Go's
  static constexpr int pn[] = {2, 3, 7, 11, 13, 17, 19, 23, 27, 31};
  long expect = 0, n = 0, s = 0, expect_seen = -1;
  goro::run(
      [&] {
        const others_gone_at_exit others;
        auto q = make_chan<int>(nwork * 3), r = make_chan<int>(nwork * 3);
        auto workers = make_chan<int>(nwork);
        for (int i = 0; i < nwork; i++) {
          goro::go([q, r, workers, w = i]() mutable {
            for (int v : q) {
              // mess with the fifo-ish nature of range
              if (pn[w % 10] == v) goro::gosched();
              r.send(v);
            }
            workers.send(1);
          });
        }
        goro::go([q, r, workers, niter, &expect]() mutable {
          for (int i = 0; i < niter; i++) {
            const int v = pn[i % 10];
            expect += v;
            q.send(v);
          }
          q.close();         // no more work
          wait(workers, nwork);  // workers done
          r.close();         // ... so there can be no more results
        });
        for (int v : r) {
          n++;
          s += v;
        }
        expect_seen = expect;
      },
      goro::Config{.procs = procs()});
  EXPECT_EQ(n, niter);
  EXPECT_EQ(s, expect);
  EXPECT_EQ(expect_seen, expect);
}

// Go's TestShrinkStackDuringBlockedSend, without a garbage collector to
// shrink stacks: a sender that uses 20 KiB of stack between its sends,
// each blocked until a slow receiver takes it, delivers every value.
TEST_P(ChanProcs, ShrinkStackDuringBlockedSend) {
  const int n = 10;
  std::vector<int> got;
  goro::run(
      [&] {
        const others_gone_at_exit others;
        auto c = make_chan<int>();
        auto done = make_chan<int>(1);
        goro::go([c, done]() mutable {
          for (int i = 0; i < n; i++) {
            c.send(i);
            (void)use_stack(20);
          }
          done.send(1);
        });
        for (int i = 0; i < n; i++) {
          got.push_back(*c.recv());
          goro::sleep_for(1ms);  // the sender finishes with its stack and blocks
        }
        wait(done, 1);
      },
      goro::Config{.procs = procs()});
  EXPECT_EQ(got, (std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}));
}

// Go's TestNoShrinkStackWhileParking, without a garbage collector: a
// sender that grows its stack briefly, then fully blocks, over and over,
// against a receiver that sleeps before each receive.
TEST_P(ChanProcs, NoShrinkStackWhileParking) {
  const int n = 10;
  const int rounds = sized(200, 100, 30);  // Go: n*20
  std::atomic<long> sum{0};
  goro::run(
      [&] {
        const others_gone_at_exit others;
        for (int r = 0; r < rounds; r++) {
          auto c = make_chan<int>();
          auto done = make_chan<int>(2);
          goro::go([c, done, &sum]() mutable {
            for (int i = 0; i < n; i++) {
              goro::sleep_for(10us);  // so that the sender always fully blocks
              sum += *c.recv();
            }
            done.send(1);
          });
          goro::go([c, done]() mutable {
            for (int i = 0; i < n; i++) {
              c.send(i);
              (void)use_stack(20);
            }
            done.send(1);
          });
          goro::sleep_for(50us);
          wait(done, 2);
        }
      },
      goro::Config{.procs = procs()});
  EXPECT_EQ(sum.load(), rounds * 45L);
}

// Go's TestSelectDuplicateChannel: a G queued twice on one channel (by one
// select) and woken through another leaves that channel's queue intact:
// the next waiter there (B) is still found.
TEST_P(ChanProcs, SelectDuplicateChannel) {
  int from_a = 0;
  goro::run(
      [&] {
        const others_gone_at_exit others;
        auto c = make_chan<int>(), d = make_chan<int>(), e = make_chan<int>();
        auto b_done = make_chan<int>(1);
        goro::go([c, d, e]() mutable {  // goroutine A
          select(recv_case(c, [] {}), recv_case(c, [] {}), recv_case(d, [] {}));
          e.send(9);
        });
        goro::sleep_for(1ms);  // so that A is queued first on c
        goro::go([c, b_done]() mutable {  // goroutine B
          (void)c.recv();
          b_done.send(1);
        });
        goro::sleep_for(1ms);  // so that B is queued on c too
        d.send(7);             // wakes A, which dequeues itself from c
        from_a = *e.recv();    // A is done
        c.send(8);             // wakes B: c.recvq must still have it
        wait(b_done, 1);
      },
      goro::Config{.procs = procs()});
  EXPECT_EQ(from_a, 9);
}

// After Go's TestSelectStackAdjust (which checks that stack shrinking
// adjusts pointers in receive slots): two selects, one with each channel
// twice, grow their stacks first, block, and are woken by close(d); the
// receive of the case not chosen writes nothing where its value would go.
TEST_P(ChanProcs, SelectStackAdjust) {
  std::atomic<int> bad{0}, woke{0};
  goro::run(
      [&] {
        const others_gone_at_exit others;
        auto c = make_chan<int*>(), d = make_chan<int*>();
        auto ready1 = make_chan<bool>(), ready2 = make_chan<bool>();
        auto f = [c, d, &bad, &woke](chan<bool> ready, bool dup) mutable {
          (void)use_stack(10);
          ready.send(true);
          int val = 42;
          int* cx = &val;
          chan<int*> c2, d2;
          if (dup) {
            c2 = c;
            d2 = d;
          }
          select(recv_case(c, [&](std::optional<int*> v) { cx = *v; }), recv_case(c2, [] {}),
                 recv_case(d, [&] { woke++; }), recv_case(d2, [&] { woke++; }));
          if (cx != &val || val != 42) {
            bad++;
          } else {
            *cx = 43;
            if (val != 43) bad++;
          }
          ready.send(true);
        };
        goro::go(f, ready1, false);
        goro::go(f, ready2, true);
        (void)ready1.recv();
        (void)ready2.recv();
        goro::sleep_for(10ms);  // let the goroutines get into the select
        d.close();
        (void)ready1.recv();
        (void)ready2.recv();
      },
      goro::Config{.procs = procs()});
  EXPECT_EQ(bad.load(), 0);
  EXPECT_EQ(woke.load(), 2);
}

// After Go's TestChanSendBarrier and TestChanSendSelectBarrier (1.5 to
// 1.18: a GC write barrier missing on a send to a blocked receiver): many
// goroutines each make request after request, a fresh channel each time,
// answered by a new goroutine with a heap object, by a plain send or by a
// select that also waits on a channel nobody closes.
void chan_send_barrier(bool use_select, int procs) {
  struct async {
    std::unique_ptr<int> resp;
    std::string err;
  };
  const int outer = sized(10, 6, 3), inner = sized(600, 300, 60);  // Go: 100 x 100000
  std::atomic<int> wrong{0};
  goro::run(
      [&] {
        const others_gone_at_exit others;
        auto done = make_chan<int>(static_cast<std::size_t>(outer));
        for (int i = 0; i < outer; i++) {
          goro::go([&, done, i]() mutable {
            std::vector<char> garbage;
            for (int j = 0; j < inner; j++) {
              auto ch = make_chan<std::unique_ptr<async>>();
              auto never = make_chan<int>();
              const int id = i * inner + j;
              if (use_select) {
                goro::go([ch, never, id]() mutable {
                  select(send_case(ch, std::make_unique<async>(
                                           async{std::make_unique<int>(id), "myError"}),
                                   [] {}),
                         recv_case(never, [] {}));
                });
              } else {
                goro::go([ch, id]() mutable {
                  ch.send(std::make_unique<async>(async{std::make_unique<int>(id), "myError"}));
                });
              }
              auto r = ch.recv();
              goro::gosched();
              if (!r || !*r || !(*r)->resp || *(*r)->resp != id || (*r)->err != "myError") wrong++;
              garbage.assign(1 << 10, 'x');
            }
            done.send(1);
          });
        }
        wait(done, outer);
      },
      goro::Config{.procs = procs});
  EXPECT_EQ(wrong.load(), 0);
}

TEST_P(ChanProcs, ChanSendBarrier) { chan_send_barrier(false, procs()); }
TEST_P(ChanProcs, ChanSendSelectBarrier) { chan_send_barrier(true, procs()); }

// ---- close (test/closedchan.go) ----

// The three ways closedchan.go runs each operation: the plain operation, a
// select of that one case (with a default for a non-blocking one), and a
// select with a case on a channel that is never ready besides.
struct XChan {
  chan<int> c;
  void send(int x) { c.send(x); }
  bool nbsend(int x) { return select(send_case(c, x, [] {}), default_case([] {})) == 0; }
  int recv() { return c.recv().value_or(0); }
  std::pair<int, bool> nbrecv() {
    int x = 0;
    bool selected = select(recv_case(c, [&](std::optional<int> v) { x = v.value_or(0); }),
                           default_case([] {})) == 0;
    return {x, selected};
  }
  std::pair<int, bool> recv2() {
    auto v = c.recv();
    return {v.value_or(0), v.has_value()};
  }
  std::tuple<int, bool, bool> nbrecv2() {
    std::optional<int> v;
    bool selected =
        select(recv_case(c, [&](std::optional<int> x) { v = x; }), default_case([] {})) == 0;
    return {v.value_or(0), v.has_value(), selected};
  }
  void close() { c.close(); }
  static constexpr const char* impl = "(plain operation)";
};

struct SChan {
  chan<int> c;
  void send(int x) { select(send_case(c, x, [] {})); }
  bool nbsend(int x) { return select(default_case([] {}), send_case(c, x, [] {})) == 1; }
  int recv() {
    int x = -1;
    select(recv_case(c, [&](std::optional<int> v) { x = v.value_or(0); }));
    return x;
  }
  std::pair<int, bool> nbrecv() {
    int x = 0;
    bool selected = select(default_case([] {}), recv_case(c, [&](std::optional<int> v) {
                             x = v.value_or(0);
                           })) == 1;
    return {x, selected};
  }
  std::pair<int, bool> recv2() {
    std::optional<int> v = -1;
    select(recv_case(c, [&](std::optional<int> x) { v = x; }));
    return {v.value_or(0), v.has_value()};
  }
  std::tuple<int, bool, bool> nbrecv2() {
    std::optional<int> v;
    bool selected =
        select(default_case([] {}), recv_case(c, [&](std::optional<int> x) { v = x; })) == 1;
    return {v.value_or(0), v.has_value(), selected};
  }
  void close() { c.close(); }
  static constexpr const char* impl = "(select)";
};

struct SSChan {
  chan<int> c;
  chan<bool> dummy;  // never ready
  void send(int x) { select(send_case(c, x, [] {}), recv_case(dummy, [] {})); }
  bool nbsend(int x) {
    return select(default_case([] {}), recv_case(dummy, [] {}), send_case(c, x, [] {})) == 2;
  }
  int recv() {
    int x = -1;
    select(recv_case(dummy, [] {}), recv_case(c, [&](std::optional<int> v) { x = v.value_or(0); }));
    return x;
  }
  std::pair<int, bool> nbrecv() {
    int x = 0;
    bool selected = select(recv_case(dummy, [] {}), default_case([] {}),
                           recv_case(c, [&](std::optional<int> v) { x = v.value_or(0); })) == 2;
    return {x, selected};
  }
  std::pair<int, bool> recv2() {
    std::optional<int> v = -1;
    select(recv_case(dummy, [] {}), recv_case(c, [&](std::optional<int> x) { v = x; }));
    return {v.value_or(0), v.has_value()};
  }
  std::tuple<int, bool, bool> nbrecv2() {
    std::optional<int> v;
    bool selected = select(recv_case(dummy, [] {}), default_case([] {}),
                           recv_case(c, [&](std::optional<int> x) { v = x; })) == 2;
    return {v.value_or(0), v.has_value(), selected};
  }
  void close() { c.close(); }
  static constexpr const char* impl = "(select with dummy)";
};

// should_panic runs f, which must panic with the runtime error `what`.
template <class F>
void should_panic(const char* what, F f, const char* impl) {
  try {
    f();
    ADD_FAILURE() << impl << ": did not panic (" << what << ")";
  } catch (const goro::runtime_error& e) {
    EXPECT_STREQ(e.what(), what) << impl;
  }
}

// closedchan.go's test1: what a closed, drained channel does.
template <class C>
void test1(C c) {
  for (int i = 0; i < 3; i++) {
    EXPECT_EQ(c.recv(), 0) << C::impl << ": recv on closed";
    EXPECT_EQ(c.recv2(), std::make_pair(0, false)) << C::impl << ": recv2 on closed";
    // Received without blocking: selected.
    EXPECT_EQ(c.nbrecv(), std::make_pair(0, true)) << C::impl << ": recv on closed nb";
    EXPECT_EQ(c.nbrecv2(), std::make_tuple(0, false, true)) << C::impl << ": recv2 on closed nb";
  }
  // A non-blocking send panics too, and the value is discarded.
  should_panic("send on closed channel", [&] { c.nbsend(1); }, C::impl);
  EXPECT_EQ(c.recv(), 0) << C::impl << ": recv on closed got non-zero after send on closed";
  should_panic("send on closed channel", [&] { c.send(2); }, C::impl);
  EXPECT_EQ(c.recv(), 0) << C::impl << ": recv on closed got non-zero after send on closed";
}

// A closed channel with a value left: each way of receiving gets it first.
template <class C>
void testasync1(C c) {
  EXPECT_EQ(c.recv(), 1) << C::impl;
  test1(c);
}
template <class C>
void testasync2(C c) {
  EXPECT_EQ(c.recv2(), std::make_pair(1, true)) << C::impl;
  test1(c);
}
template <class C>
void testasync3(C c) {
  EXPECT_EQ(c.nbrecv(), std::make_pair(1, true)) << C::impl;
  test1(c);
}
template <class C>
void testasync4(C c) {
  EXPECT_EQ(c.nbrecv2(), std::make_tuple(1, true, true)) << C::impl;
  test1(c);
}

chan<int> closedsync() {
  auto c = make_chan<int>();
  c.close();
  return c;
}

chan<int> closedasync() {
  auto c = make_chan<int>(2);
  c.send(1);
  c.close();
  return c;
}

TEST_F(ChanTest, ClosedChan) {
  goro::run([] {
    const others_gone_at_exit others;
    auto dummy = make_chan<bool>();
    test1(XChan{closedsync()});
    test1(SChan{closedsync()});
    test1(SSChan{closedsync(), dummy});
    testasync1(XChan{closedasync()});
    testasync1(SChan{closedasync()});
    testasync1(SSChan{closedasync(), dummy});
    testasync2(XChan{closedasync()});
    testasync2(SChan{closedasync()});
    testasync2(SSChan{closedasync(), dummy});
    testasync3(XChan{closedasync()});
    testasync3(SChan{closedasync()});
    testasync3(SSChan{closedasync(), dummy});
    testasync4(XChan{closedasync()});
    testasync4(SChan{closedasync()});
    testasync4(SSChan{closedasync(), dummy});

    chan<int> ch;
    should_panic("close of nil channel", [&] { ch.close(); }, "nil");
    ch = make_chan<int>();
    ch.close();
    should_panic("close of closed channel", [&] { ch.close(); }, "closed");
    ch = make_chan<int>(3);
    ch.close();
    should_panic("close of closed channel", [&] { ch.close(); }, "closed, buffered");
  });
}

// close wakes every goroutine blocked on the channel: receivers (plain or
// in a select) get nothing, senders (plain or in a select) panic with
// "send on closed channel", each in its own goroutine, where it is caught.
TEST_P(ChanProcs, CloseWakesEveryWaiter) {
  const int n = 8;
  std::atomic<int> got_nothing{0}, panicked{0}, other{0};
  goro::run(
      [&] {
        const others_gone_at_exit others;
        auto r = make_chan<int>(), s = make_chan<int>(), never = make_chan<int>();
        auto done = make_chan<int>(4 * n);
        auto blocked = make_chan<int>(4 * n);
        for (int i = 0; i < n; i++) {
          goro::go([r, done, blocked, &got_nothing, &other]() mutable {
            blocked.send(1);
            (r.recv() ? other : got_nothing)++;
            done.send(1);
          });
          goro::go([r, never, done, blocked, &got_nothing, &other]() mutable {
            blocked.send(1);
            select(recv_case(never, [&] { other++; }),
                   recv_case(r, [&](std::optional<int> v) { (v ? other : got_nothing)++; }));
            done.send(1);
          });
          goro::go([s, done, blocked, &panicked, &other, i]() mutable {
            blocked.send(1);
            try {
              s.send(i);
              other++;
            } catch (const goro::runtime_error& e) {
              if (std::string(e.what()) == "send on closed channel") panicked++;
            }
            done.send(1);
          });
          goro::go([s, never, done, blocked, &panicked, &other, i]() mutable {
            blocked.send(1);
            try {
              select(recv_case(never, [&] { other++; }), send_case(s, i, [&] { other++; }));
            } catch (const goro::runtime_error& e) {
              if (std::string(e.what()) == "send on closed channel") panicked++;
            }
            done.send(1);
          });
        }
        wait(blocked, 4 * n);
        goro::sleep_for(2ms);  // most of them are parked by now; the others find it closed
        r.close();
        s.close();
        wait(done, 4 * n);
      },
      goro::Config{.procs = procs()});
  EXPECT_EQ(got_nothing.load(), 2 * n);
  EXPECT_EQ(panicked.load(), 2 * n);
  EXPECT_EQ(other.load(), 0);
}

// Receivers drain a closed channel's buffer before they see it closed, and
// a range over it ends there.
TEST_P(ChanProcs, ClosedBufferIsDrainedFirst) {
  std::vector<int> ranged;
  int after_close = -1;
  goro::run(
      [&] {
        const others_gone_at_exit others;
        auto c = make_chan<int>(5);
        for (int i = 0; i < 5; i++) c.send(i);
        c.close();
        EXPECT_EQ(c.size(), 5u);
        auto done = make_chan<int>(1);
        goro::go([c, done, &ranged]() mutable {
          for (int v : c) ranged.push_back(v);
          done.send(1);
        });
        wait(done, 1);
        EXPECT_EQ(c.size(), 0u);
        EXPECT_EQ(c.capacity(), 5u);
        after_close = select(recv_case(c, [](std::optional<int> v) { EXPECT_FALSE(v); }),
                             default_case([] {})) == 0;
      },
      goro::Config{.procs = procs()});
  EXPECT_EQ(ranged, (std::vector<int>{0, 1, 2, 3, 4}));
  EXPECT_EQ(after_close, 1) << "a receive on a closed channel is always ready";
}

// ---- len, cap, make (test/chancap.go) ----

TEST_F(ChanTest, LenCapAndMakechanSizeOutOfRange) {
  goro::run([] {
    const others_gone_at_exit others;
    auto c = make_chan<int>(10);
    EXPECT_EQ(c.size(), 0u);
    EXPECT_EQ(c.capacity(), 10u);
    for (int i = 0; i < 3; i++) c.send(i);
    EXPECT_EQ(c.size(), 3u);
    EXPECT_EQ(c.capacity(), 10u);
    auto copy = c;  // another handle, the same channel
    (void)copy.recv();
    EXPECT_EQ(c.size(), 2u);
    c = make_chan<int>();
    EXPECT_EQ(c.size(), 0u);
    EXPECT_EQ(c.capacity(), 0u);
    chan<int> nil;
    EXPECT_EQ(nil.size(), 0u);
    EXPECT_EQ(nil.capacity(), 0u);

    // Go: make(T, -1), make(T, 1<<59), make(T, 1<<63-1).
    for (std::size_t n : {std::numeric_limits<std::size_t>::max(), std::size_t{1} << 59,
                          (std::size_t{1} << 63) - 1}) {
      try {
        (void)make_chan<std::int64_t>(n);
        ADD_FAILURE() << "make_chan(" << n << ") did not panic";
      } catch (const goro::runtime_error& e) {
        EXPECT_STREQ(e.what(), "makechan: size out of range");
      }
    }
  });
}

// Handles compare by identity, as Go's channels do, and nil is nil.
TEST_F(ChanTest, HandlesCompareByIdentity) {
  goro::run([] {
    const others_gone_at_exit others;
    chan<int> nil1, nil2;
    EXPECT_TRUE(nil1 == nil2);
    auto a = make_chan<int>(), b = make_chan<int>();
    auto a2 = a;
    EXPECT_TRUE(a == a2);
    EXPECT_FALSE(a == b);
    EXPECT_TRUE(a != b);
    EXPECT_FALSE(a == nil1);
    auto moved = std::move(a2);
    EXPECT_TRUE(moved == a);
    EXPECT_TRUE(a2 == nil1);  // NOLINT(bugprone-use-after-move): a moved-from handle is nil
  });
}

// Outside a goroutine only size() and capacity() may be called.
TEST_F(ChanTest, OperationsOutsideAGoroutineThrow) {
  chan<int> nil;
  EXPECT_EQ(nil.size(), 0u);
  EXPECT_EQ(nil.capacity(), 0u);
  EXPECT_THROW(nil.send(1), std::logic_error);
  EXPECT_THROW((void)nil.recv(), std::logic_error);
  EXPECT_THROW(nil.close(), std::logic_error);
  EXPECT_THROW(select(recv_case(nil, [] {}), default_case([] {})), std::logic_error);
  EXPECT_THROW(select(recv_case(nil, [] {}), send_case(nil, 1, [] {})), std::logic_error);
}

// ---- time.After ----

TEST_F(ChanTest, AfterDeliversTheTimeOnceItHasPassed) {
  goro::run([] {
    const others_gone_at_exit others;
    const auto t0 = std::chrono::steady_clock::now();
    auto c = goro::after(20ms);
    EXPECT_EQ(c.capacity(), 1u);
    auto t = c.recv();
    ASSERT_TRUE(t.has_value());
    EXPECT_GE(*t, t0 + 20ms);
    EXPECT_LE(*t, std::chrono::steady_clock::now());
    // As a timeout in a select: the other case is never ready.
    auto never = make_chan<int>();
    EXPECT_EQ(select(recv_case(never, [] {}), recv_case(goro::after(5ms), [] {})), 1u);
    EXPECT_GE(std::chrono::steady_clock::now(), t0 + 25ms);
    // A zero or negative duration fires too; the value waits in the
    // buffer for whoever receives it.
    auto now = goro::after(0ns);
    auto past = goro::after(-1s);
    goro::sleep_for(1ms);
    auto p = past.recv(), n = now.recv();
    ASSERT_TRUE(p.has_value() && n.has_value());
    EXPECT_LE(*p, std::chrono::steady_clock::now());
    EXPECT_LE(*n, std::chrono::steady_clock::now());
  });
}

// Many timeouts at once, most of them abandoned: a select takes the value
// that is ready, and timers nobody waits for any more fire harmlessly.
TEST_P(ChanProcs, ManyAfters) {
  const int n = sized(200, 100, 40);
  std::atomic<int> timeouts{0}, values{0};
  goro::run(
      [&] {
        const others_gone_at_exit others;
        auto done = make_chan<int>(static_cast<std::size_t>(n));
        for (int i = 0; i < n; i++) {
          goro::go([i, done, &timeouts, &values]() mutable {
            // Even: a value is ready and the timeout far away (still pending
            // when run() ends). Odd: nothing comes, the timeout fires.
            auto c = make_chan<int>(1);
            if (i % 2 == 0) c.send(i);
            select(recv_case(c, [&] { values++; }),
                   recv_case(goro::after(i % 2 == 0 ? 1h : 2ms), [&] { timeouts++; }));
            done.send(1);
          });
        }
        wait(done, n);
      },
      goro::Config{.procs = procs()});
  EXPECT_EQ(values.load(), n / 2);
  EXPECT_EQ(timeouts.load(), n / 2);
}

// ---- Element types ----

// A move-only element: sent, buffered, selected and ranged over.
TEST_P(ChanProcs, MoveOnlyElements) {
  static constexpr int n = 100;
  long sum = 0;
  int got = 0;
  goro::run(
      [&] {
        const others_gone_at_exit others;
        auto c = make_chan<std::unique_ptr<int>>(2);
        c.send(std::make_unique<int>(1));
        auto p = std::make_unique<int>(2);
        c.send(std::move(p));
        EXPECT_FALSE(p);
        EXPECT_EQ(select(send_case(c, std::make_unique<int>(3), [] {}), default_case([] {})), 1u);
        EXPECT_EQ(**c.recv(), 1);
        std::unique_ptr<int> q;
        select(recv_case(c, [&](std::optional<std::unique_ptr<int>> v) { q = std::move(*v); }));
        ASSERT_TRUE(q);
        EXPECT_EQ(*q, 2);

        auto u = make_chan<std::unique_ptr<int>>();
        goro::go([u]() mutable {
          auto never = make_chan<std::unique_ptr<int>>();
          for (int i = 0; i < n; i++) {
            if (i % 2 == 0) {
              u.send(std::make_unique<int>(i));
            } else {
              select(send_case(u, std::make_unique<int>(i), [] {}),
                     recv_case(never, [] { ADD_FAILURE(); }));
            }
          }
          u.close();
        });
        for (auto& v : u) {  // auto&: a move-only element cannot be copied out
          sum += *v;
          got++;
        }
      },
      goro::Config{.procs = procs()});
  EXPECT_EQ(got, n);
  EXPECT_EQ(sum, n * (n - 1) / 2);
}

// An element without a default constructor: the receive builds it in raw
// storage, never default-constructs one.
struct NoDefault {
  NoDefault() = delete;
  explicit NoDefault(int v) : v(v) {}
  int v;
};
static_assert(!std::is_default_constructible_v<NoDefault>);

TEST_F(ChanTest, ElementsWithoutADefaultConstructor) {
  std::vector<int> got;
  goro::run([&] {
    const others_gone_at_exit others;
    auto c = make_chan<NoDefault>(1);
    c.send(NoDefault(7));
    got.push_back(c.recv()->v);
    auto u = make_chan<NoDefault>();
    auto never = make_chan<NoDefault>();
    goro::go([u, never]() mutable {
      u.send(NoDefault(1));
      select(send_case(u, NoDefault(2), [] {}), send_case(never, NoDefault(-1), [] {}));
      u.close();
    });
    select(recv_case(never, [] {}),
           recv_case(u, [&](std::optional<NoDefault> v) { got.push_back(v->v); }));
    for (NoDefault v : u) got.push_back(v.v);
  });
  EXPECT_EQ(got, (std::vector<int>{7, 1, 2}));
}

// An element that can be built but not assigned (a const member): a range
// over the channel builds each value in place, never assigns one.
struct NotAssignable {
  const int v;
};

TEST_F(ChanTest, RangeOverElementsThatCannotBeAssigned) {
  std::vector<int> got;
  goro::run([&] {
    auto c = make_chan<NotAssignable>(3);
    for (int i = 1; i <= 3; i++) c.send(NotAssignable{i});
    c.close();
    for (NotAssignable& k : c) got.push_back(k.v);
  });
  EXPECT_EQ(got, (std::vector<int>{1, 2, 3}));
}

// send_case converts its value to the element type, as Go converts an
// untyped constant in `case ch <- 1:`.
TEST_F(ChanTest, SendCaseConvertsItsValue) {
  std::optional<long> got_long;
  std::optional<std::string> got_string;
  goro::run([&] {
    auto l = make_chan<long>(1);
    auto s = make_chan<std::string>(1);
    goro::chan<int> nil;
    select(send_case(l, 1, [] {}), recv_case(nil, [] {}));
    select(send_case(s, "x", [] {}), recv_case(nil, [] {}));
    got_long = l.recv();
    got_string = s.recv();
  });
  EXPECT_EQ(got_long, 1L);
  EXPECT_EQ(got_string, std::string("x"));
}

// A 4 KiB element, through an unbuffered channel (straight from the
// sender's stack to the receiver's), a buffered one, and a select.
struct Big {
  std::array<std::uint64_t, 512> w;
  explicit Big(std::uint64_t seed) {
    for (std::size_t i = 0; i < w.size(); i++) w[i] = seed * 1000003 + i;
  }
  bool is(std::uint64_t seed) const {
    for (std::size_t i = 0; i < w.size(); i++) {
      if (w[i] != seed * 1000003 + i) return false;
    }
    return true;
  }
};
static_assert(sizeof(Big) == 4096);

TEST_P(ChanProcs, FourKiBElements) {
  const int n = sized(300, 200, 60);
  std::atomic<int> bad{0}, got{0};
  goro::run(
      [&] {
        const others_gone_at_exit others;
        for (std::size_t cap : {0u, 4u}) {
          auto c = make_chan<Big>(cap);
          auto other = make_chan<Big>(), never = make_chan<Big>();  // nobody receives, or sends
          auto done = make_chan<int>(1);
          goro::go([c, other, n]() mutable {
            for (int i = 0; i < n; i++) {
              const auto seed = static_cast<std::uint64_t>(i);
              if (i % 3 == 0) {
                select(send_case(c, Big(seed), [] {}), send_case(other, Big(~seed), [] {}));
              } else {
                c.send(Big(seed));
              }
            }
            c.close();
          });
          goro::go([c, never, done, &bad, &got]() mutable {
            std::uint64_t i = 0;
            for (;;) {
              std::optional<Big> v;
              select(recv_case(c, [&](std::optional<Big> b) { v = std::move(b); }),
                     recv_case(never, [&] { bad++; }));
              if (!v) break;
              if (!v->is(i++)) bad++;
              got++;
            }
            done.send(1);
          });
          wait(done, 1);
        }
      },
      goro::Config{.procs = procs()});
  EXPECT_EQ(bad.load(), 0);
  EXPECT_EQ(got.load(), 2 * n);
}

// Elements of an empty type (Go's chan struct{}), buffered and not: the
// buffer counts them, and they synchronise as any other do.
struct Empty {};

TEST_P(ChanProcs, EmptyElements) {
  const int n = 200;
  std::atomic<int> pings{0};
  goro::run(
      [&] {
        const others_gone_at_exit others;
        auto b = make_chan<Empty>(3);
        for (int i = 0; i < 3; i++) b.send(Empty{});
        EXPECT_EQ(b.size(), 3u);
        EXPECT_EQ(select(send_case(b, Empty{}, [] {}), default_case([] {})), 1u);
        EXPECT_TRUE(b.recv().has_value());
        EXPECT_EQ(b.size(), 2u);
        b.close();
        int left = 0;
        for (Empty e : b) {
          (void)e;
          left++;
        }
        EXPECT_EQ(left, 2);

        auto ping = make_chan<Empty>(), pong = make_chan<Empty>();
        goro::go([ping, pong, &pings]() mutable {
          for (auto e : ping) {
            pings++;
            pong.send(e);
          }
          pong.close();
        });
        for (int i = 0; i < n; i++) {
          if (i % 2) {
            ping.send(Empty{});
          } else {
            select(send_case(ping, Empty{}, [] {}), default_case([&] { ping.send(Empty{}); }));
          }
          EXPECT_TRUE(pong.recv().has_value());
        }
        ping.close();
        EXPECT_FALSE(pong.recv().has_value());

        auto zero = make_chan<std::array<int, 0>>(1);  // Go's chan [0]byte
        zero.send({});
        EXPECT_EQ(zero.size(), 1u);
        EXPECT_TRUE(zero.recv().has_value());
      },
      goro::Config{.procs = procs()});
  EXPECT_EQ(pings.load(), n);
}

// Counted checks that each value built is destroyed exactly once: the
// tracker holds the address of every live Counted. Building one where one
// lives, or destroying one that does not, is an error; so is one left
// alive at the end.
class Tracker {
 public:
  void reset() {
    std::lock_guard<std::mutex> l(mu_);
    live_.clear();
    built_ = errors_ = 0;
  }
  void add(const void* p) noexcept {
    std::lock_guard<std::mutex> l(mu_);
    built_++;
    if (!live_.insert(p).second) errors_++;
  }
  void remove(const void* p) noexcept {
    std::lock_guard<std::mutex> l(mu_);
    if (live_.erase(p) != 1) errors_++;
  }
  std::size_t alive() {
    std::lock_guard<std::mutex> l(mu_);
    return live_.size();
  }
  long built() {
    std::lock_guard<std::mutex> l(mu_);
    return built_;
  }
  long errors() {
    std::lock_guard<std::mutex> l(mu_);
    return errors_;
  }

 private:
  std::mutex mu_;
  std::set<const void*> live_;
  long built_ = 0, errors_ = 0;
};

Tracker& tracker() {
  static Tracker t;
  return t;
}

struct Counted {
  int v;
  explicit Counted(int v) : v(v) { tracker().add(this); }
  Counted(const Counted& o) : v(o.v) { tracker().add(this); }
  Counted(Counted&& o) noexcept : v(std::exchange(o.v, -1)) { tracker().add(this); }
  // Assignment changes a value, not which objects live. (The range-for
  // iterator assigns each value it receives to a std::optional<T>.)
  Counted& operator=(const Counted& o) {
    v = o.v;
    return *this;
  }
  Counted& operator=(Counted&& o) noexcept {
    v = std::exchange(o.v, -1);
    return *this;
  }
  ~Counted() { tracker().remove(this); }
};

class ChanCountedTest : public ChanTest {
 protected:
  void SetUp() override {
    ChanTest::SetUp();
    tracker().reset();
  }
  void TearDown() override {
    EXPECT_EQ(tracker().errors(), 0) << "a Counted built twice in one place or destroyed twice";
    EXPECT_EQ(tracker().alive(), 0u) << "Counted values never destroyed";
    ChanTest::TearDown();
  }
};

class ChanCountedProcs : public ChanProcs {
 protected:
  void SetUp() override {
    ChanProcs::SetUp();
    tracker().reset();
  }
  void TearDown() override {
    EXPECT_EQ(tracker().errors(), 0) << "a Counted built twice in one place or destroyed twice";
    EXPECT_EQ(tracker().alive(), 0u) << "Counted values never destroyed";
    ChanProcs::TearDown();
  }
};

// Values between goroutines, unbuffered and buffered, by send, select and
// range: each arrives once, in order, and every copy made on the way is
// destroyed once.
TEST_P(ChanCountedProcs, ValuesThroughChannels) {
  const int n = sized(500, 300, 100);
  std::vector<int> got;
  goro::run(
      [&] {
        const others_gone_at_exit others;
        for (std::size_t cap : {0u, 1u, 3u}) {
          auto c = make_chan<Counted>(cap), never = make_chan<Counted>();
          goro::go([c, never, n]() mutable {
            for (int i = 0; i < n; i++) {
              if (i % 2) {
                c.send(Counted(i));
              } else {
                select(send_case(c, Counted(i), [] {}), send_case(never, Counted(-i), [] {}));
              }
            }
            c.close();
          });
          int expect = 0, wrong = 0;
          for (auto& v : c) wrong += v.v != expect++;
          EXPECT_EQ(wrong, 0);
          EXPECT_EQ(expect, n);
        }
      },
      goro::Config{.procs = procs()});
  EXPECT_GT(tracker().built(), 0);
}

// Values still in a buffer when the last handle goes away are destroyed
// with the channel, once, wherever the ring's head has got to; those
// received before are not destroyed again.
TEST_F(ChanCountedTest, BufferedValuesDieWithTheLastHandle) {
  goro::run([] {
    const others_gone_at_exit others;
    {
      auto c = make_chan<Counted>(8);
      for (int i = 0; i < 5; i++) c.send(Counted(i));
      EXPECT_EQ(c.recv()->v, 0);
      EXPECT_EQ(tracker().alive(), 4u);
      auto c2 = c;
      c = {};
      EXPECT_EQ(tracker().alive(), 4u) << "a handle is left";
    }
    EXPECT_EQ(tracker().alive(), 0u);

    {
      auto c = make_chan<Counted>(4);  // the ring wraps around
      for (int i = 0; i < 4; i++) c.send(Counted(i));
      for (int i = 0; i < 3; i++) EXPECT_EQ(c.recv()->v, i);
      for (int i = 4; i < 7; i++) c.send(Counted(i));
      EXPECT_EQ(tracker().alive(), 4u);
      c.close();
      EXPECT_EQ(c.recv()->v, 3);
    }
    EXPECT_EQ(tracker().alive(), 0u);

    // The last handle dropped by another goroutine.
    auto c = make_chan<Counted>(3);
    c.send(Counted(1));
    c.send(Counted(2));
    auto done = make_chan<int>(1);
    goro::go([c = std::move(c), done]() mutable {
      c = {};
      done.send(static_cast<int>(tracker().alive()));
    });
    EXPECT_EQ(done.recv(), 0);
  });
}

// The value of a send case that is not chosen stays in the case and dies
// with it, once; the one chosen is moved into the channel; a receive case
// not chosen builds nothing; a closed channel's receive builds nothing.
TEST_F(ChanCountedTest, SelectCasesNotChosen) {
  goro::run([] {
    const others_gone_at_exit others;
    auto full = make_chan<Counted>(1);
    full.send(Counted(100));
    EXPECT_EQ(select(send_case(full, Counted(1), [] {}), default_case([] {})), 1u);
    EXPECT_EQ(tracker().alive(), 1u) << "only the buffered one";

    auto a = make_chan<Counted>(1), b = make_chan<Counted>();  // a ready, b not
    EXPECT_EQ(select(send_case(b, Counted(3), [] {}), send_case(a, Counted(2), [] {})), 1u);
    EXPECT_EQ(tracker().alive(), 2u);
    EXPECT_EQ(a.recv()->v, 2);
    EXPECT_EQ(tracker().alive(), 1u);

    // A blocked select of two sends: one receiver takes x's value.
    auto x = make_chan<Counted>(), y = make_chan<Counted>();
    auto got = make_chan<int>(1);
    goro::go([x, got]() mutable {
      const int v = x.recv()->v;  // the received Counted dies here
      got.send(v);
    });
    EXPECT_EQ(select(send_case(x, Counted(10), [] {}), send_case(y, Counted(11), [] {})), 0u);
    EXPECT_EQ(got.recv(), 10);
    EXPECT_EQ(tracker().alive(), 1u);

    // Receive cases not chosen, and a receive from a closed channel.
    EXPECT_EQ(select(recv_case(b, [] {}), recv_case(y, [] {}), default_case([] {})), 2u);
    auto closed = make_chan<Counted>(2);
    closed.close();
    EXPECT_EQ(closed.recv(), std::nullopt);
    EXPECT_EQ(select(recv_case(b, [] {}), recv_case(closed, [](std::optional<Counted> v) {
                       EXPECT_FALSE(v);
                     })),
              1u);
    EXPECT_EQ(tracker().alive(), 1u);

    // Sends on a closed channel panic; their values die once.
    EXPECT_THROW(closed.send(Counted(7)), goro::runtime_error);
    EXPECT_THROW(select(send_case(closed, Counted(8), [] {}), default_case([] {})),
                 goro::runtime_error);
    EXPECT_THROW(select(send_case(closed, Counted(5), [] {}), send_case(b, Counted(6), [] {})),
                 goro::runtime_error);
    EXPECT_EQ(tracker().alive(), 1u);
    EXPECT_EQ(full.recv()->v, 100);
    EXPECT_EQ(tracker().alive(), 0u);
  });
}

// A sender blocked when the channel is closed panics; the value it was
// sending dies once, as do the values a closed buffer still held.
TEST_P(ChanCountedProcs, BlockedSendersValuesDieOnClose) {
  std::atomic<int> panicked{0};
  goro::run(
      [&] {
        const others_gone_at_exit others;
        auto c = make_chan<Counted>(2);
        c.send(Counted(1));
        c.send(Counted(2));
        auto done = make_chan<int>(3);
        auto never = make_chan<Counted>();
        for (int i = 0; i < 3; i++) {
          goro::go([c, never, done, i, &panicked]() mutable {
            try {
              if (i == 0) {
                c.send(Counted(10 + i));
              } else {
                select(send_case(c, Counted(10 + i), [] {}), send_case(never, Counted(-i), [] {}));
              }
            } catch (const goro::runtime_error&) {
              panicked++;
            }
            done.send(1);
          });
        }
        goro::sleep_for(2ms);
        c.close();
        wait(done, 3);
        EXPECT_EQ(tracker().alive(), 2u) << "the two buffered";
        EXPECT_EQ(c.recv()->v, 1);
      },
      goro::Config{.procs = procs()});
  EXPECT_EQ(panicked.load(), 3);
}

INSTANTIATE_TEST_SUITE_P(Procs, ChanProcs, ::testing::Values(1, 2, 4));
INSTANTIATE_TEST_SUITE_P(Procs, ChanParallel, ::testing::Values(2, 4));
INSTANTIATE_TEST_SUITE_P(Procs, ChanCountedProcs, ::testing::Values(1, 2, 4));

}  // namespace
