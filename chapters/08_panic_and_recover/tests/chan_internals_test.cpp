// chan_internals_test.cpp: chapter 06's channels from the inside: the
// hand-off that bypasses the buffer, a full buffer refilled from the first
// parked sender, select taking its sudogs back, sudog reuse, wait reasons,
// the time slice with a channel ping-pong, and timers nobody waits for.
#include <goro/goro.hpp>
#include <gtest/gtest.h>
#include <sys/resource.h>

#include <atomic>
#include <chrono>
#include <string>

#include "goro/common/clock.hpp"
#include "runtime.hpp"
#include "support.hpp"

namespace {
using namespace std::chrono_literals;
using namespace goro::runtime;
using goro::testing::RuntimeTest;

template <class T>
goro::detail::hchan* hchan_of(const goro::chan<T>& ch) {
  return goro::detail::chan_access<T>::get(ch);
}

// Parks the caller (sleeping) until gp is parked for `reason`.
void wait_parked(std::atomic<g*>& gp, wait_reason reason) {
  while (gp.load() == nullptr) goro::sleep_for(1ms);
  while (gp.load()->atomicstatus.load() != gstatus::_Gwaiting ||
         gp.load()->waitreason.load() != reason) {
    goro::sleep_for(1ms);
  }
}

TEST_F(RuntimeTest, ASendToAParkedReceiverBypassesTheBuffer) {
  std::optional<int> got;
  std::size_t qcount_after_send = 99;
  bool recvq_empty = false;
  goro::run(
      [&] {
        auto ch = goro::make_chan<int>(4);
        std::atomic<g*> receiver{nullptr};
        auto done = goro::make_chan<bool>();
        goro::go([&, ch, done]() mutable {
          receiver = getg();
          got = ch.recv();
          done.send(true);
        });
        wait_parked(receiver, wait_reason::chan_receive);
        ch.send(42);
        // At procs=1 the receiver cannot have run yet: the value went
        // straight into its slot, and the buffer was never used.
        qcount_after_send = hchan_of(ch)->qcount.load();
        recvq_empty = hchan_of(ch)->recvq.first.load() == nullptr;
        done.recv();
      },
      goro::Config{.procs = 1});
  EXPECT_EQ(qcount_after_send, 0u);
  EXPECT_TRUE(recvq_empty);
  EXPECT_EQ(got, 42);
}

TEST_F(RuntimeTest, AReceiveFromAFullBufferRefillsItFromTheFirstParkedSender) {
  std::vector<int> got;
  std::size_t qcount_after = 0;
  bool first_sender_left = false, second_still_parked = false;
  goro::run(
      [&] {
        auto ch = goro::make_chan<int>(2);
        ch.send(1);
        ch.send(2);
        std::atomic<g*> a{nullptr}, b{nullptr};
        goro::go([&, ch]() mutable {
          a = getg();
          ch.send(3);
        });
        wait_parked(a, wait_reason::chan_send);
        goro::go([&, ch]() mutable {
          b = getg();
          ch.send(4);
        });
        wait_parked(b, wait_reason::chan_send);
        got.push_back(*ch.recv());
        // 1 left, 3 took its slot: still full, and only b waits.
        qcount_after = hchan_of(ch)->qcount.load();
        sudog* first = hchan_of(ch)->sendq.first.load();
        first_sender_left = first == nullptr || first->g != a.load();
        second_still_parked = first != nullptr && first->g == b.load();
        for (int i = 0; i < 3; i++) got.push_back(*ch.recv());
      },
      goro::Config{.procs = 1});
  EXPECT_EQ(qcount_after, 2u);
  EXPECT_TRUE(first_sender_left);
  EXPECT_TRUE(second_still_parked);
  EXPECT_EQ(got, (std::vector<int>{1, 2, 3, 4}));
}

TEST_F(RuntimeTest, SelectTakesItsSudogsBackFromTheLosingChannels) {
  bool queues_empty = false, waiting_cleared = false;
  std::size_t chosen = 9;
  goro::run([&] {
    auto c1 = goro::make_chan<int>(), c2 = goro::make_chan<int>(), c3 = goro::make_chan<int>();
    std::atomic<g*> self{getg()};
    goro::go([&, c2]() mutable {
      wait_parked(self, wait_reason::select);
      c2.send(7);
    });
    chosen = goro::select(goro::recv_case(c1, [](std::optional<int>) {}),
                          goro::recv_case(c2, [](std::optional<int>) {}),
                          goro::recv_case(c3, [](std::optional<int>) {}));
    queues_empty = hchan_of(c1)->recvq.first.load() == nullptr &&
                   hchan_of(c2)->recvq.first.load() == nullptr &&
                   hchan_of(c3)->recvq.first.load() == nullptr;
    waiting_cleared = getg()->waiting == nullptr && getg()->param == nullptr;
  });
  EXPECT_EQ(chosen, 1u);
  EXPECT_TRUE(queues_empty);
  EXPECT_TRUE(waiting_cleared);
}

class SudogProcs : public goro::testing::RuntimeProcsTest {};

TEST_P(SudogProcs, SudogsAreReusedNotMadeAnew) {
  const int rounds = goro::common::san::tsan ? 5000 : 50000;
  std::size_t made = 0;
  goro::run(
      [&] {
        auto ping = goro::make_chan<int>(), pong = goro::make_chan<int>();
        goro::go([ping, pong]() mutable {
          for (auto v = ping.recv(); v; v = ping.recv()) pong.send(*v);
        });
        for (int i = 0; i < rounds; i++) {
          ping.send(i);
          pong.recv();
        }
        ping.close();
        goro::common::lock_guard l(sched->sudogs.lock);
        made = sched->sudogs.all.size();
      },
      goro::Config{.procs = procs()});
  // Two goroutines wait at most once each at a time. Sudogs freed on
  // another P pile up in its cache (128) before half go to the central
  // list, so a few hundred at most; never one per operation.
  EXPECT_GE(made, 1u);
  EXPECT_LE(made, 3u * 128u);
}

INSTANTIATE_TEST_SUITE_P(Procs, SudogProcs, ::testing::Values(1, 2));

TEST_F(RuntimeTest, ParkedGoroutinesShowGosWaitReasons) {
  std::vector<std::string> reasons;
  goro::run([&] {
    std::vector<std::atomic<g*>> gs(7);
    std::vector<wait_reason> want = {
        wait_reason::chan_receive,     wait_reason::chan_send, wait_reason::chan_receive_nil,
        wait_reason::chan_send_nil,    wait_reason::select,    wait_reason::select_no_cases,
        wait_reason::sleep};
    auto c = goro::make_chan<int>();
    goro::chan<int> nil;
    goro::go([&, c]() mutable { gs[0] = getg(); c.recv(); });
    // (Channels of goroutines left parked are held by their closures, not
    // their frames: run() destroys closures but does not unwind frames.)
    auto d = goro::make_chan<int>();
    goro::go([&, d]() mutable { gs[1] = getg(); d.send(1); });
    goro::go([&]() mutable { gs[2] = getg(); nil.recv(); });
    goro::go([&]() mutable { gs[3] = getg(); nil.send(1); });
    auto e = goro::make_chan<int>();  // both cases on one channel: never ready
    goro::go([&, e]() mutable {
      gs[4] = getg();
      goro::select(goro::recv_case(e, [](std::optional<int>) {}),
                   goro::send_case(e, 1, [] {}));
    });
    goro::go([&] { gs[5] = getg(); goro::select(); });
    goro::go([&] { gs[6] = getg(); goro::sleep_for(1h); });
    for (std::size_t i = 0; i < gs.size(); i++) {
      wait_parked(gs[i], want[i]);
      reasons.push_back(to_string(gs[i].load()->waitreason.load()));
    }
    // main returns: they are abandoned, taken off their channels.
  });
  EXPECT_EQ(reasons, (std::vector<std::string>{"chan receive", "chan send",
                                               "chan receive (nil chan)", "chan send (nil chan)",
                                               "select", "select (no cases)", "sleep"}));
}

// A ping-pong pair on channels at procs=1 readies each other through
// runnext, each inheriting the time slice; a goroutine queued behind them
// must still run, within a few time slices (50 is the bound, as for
// chapter 05's pair). Main parks on a channel, with no timer that could
// break the pair up.
TEST_F(RuntimeTest, AChannelPingPongDoesNotStarveAQueuedGoroutine) {
  std::int64_t waited_ns = -1;
  long rounds = 0;
  goro::run(
      [&] {
        auto ping = goro::make_chan<int>(), pong = goro::make_chan<int>();
        auto done = goro::make_chan<bool>();
        std::atomic<bool> stop{false};
        goro::go([&, ping, pong, done]() mutable {
          // First a time slice of our own: until one starts, schedtick is
          // 0, where findRunnable's every-61st-tick look at the global
          // queue would hand the P straight back to a yielder.
          goro::gosched();
          goro::go([&, ping, pong]() mutable {
            while (!stop.load()) {
              ping.send(1);
              pong.recv();
              rounds++;
            }
            ping.close();
          });
          goro::go([ping, pong]() mutable {
            for (auto v = ping.recv(); v; v = ping.recv()) pong.send(*v);
          });
          // Queue up behind the pair (on the global queue), and see how
          // long it takes to come back.
          const std::int64_t t0 = goro::common::nanotime();
          goro::gosched();
          waited_ns = goro::common::nanotime() - t0;
          stop = true;
          done.send(true);
        });
        done.recv();
      },
      goro::Config{.procs = 1});
  std::printf("the queued goroutine waited %.1f ms (%ld round trips of the pair)\n",
              waited_ns / 1e6, rounds);
  EXPECT_GT(rounds, 0);
  EXPECT_LT(waited_ns, 50 * forcePreemptNS);
}

double cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

// A select that chose another case leaves after()'s timer behind: it
// costs nothing but its heap entry. No thread works meanwhile, and run()
// ends without waiting for it.
TEST_F(RuntimeTest, AnAfterTimerNobodyWaitsForCostsNoWork) {
  double cpu = -1;
  std::size_t chosen = 9;
  const auto t0 = std::chrono::steady_clock::now();
  goro::run(
      [&] {
        auto ready = goro::make_chan<int>();
        ready.close();
        chosen = goro::select(goro::recv_case(goro::after(1h), [](auto) {}),
                              goro::recv_case(ready, [](std::optional<int>) {}));
        const double c0 = cpu_seconds();
        goro::sleep_for(300ms);
        cpu = cpu_seconds() - c0;
      },
      goro::Config{.procs = 2});
  const auto took = std::chrono::steady_clock::now() - t0;
  EXPECT_EQ(chosen, 1u);
  EXPECT_GE(cpu, 0);
  EXPECT_LT(cpu, 0.15) << "a thread was busy while nothing was due";
  EXPECT_LT(took, 60s);
}

}  // namespace
