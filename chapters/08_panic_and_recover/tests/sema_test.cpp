// sema_test.cpp: chapter 08's semaphore from the inside: the roots' lists
// of addresses and their queues (FIFO, and LIFO for a waiter that waited
// before), the count that a release leaves when nobody waits, the hand-off
// that runs the waiter at once, parking with Go's wait reason, the
// spinning rule, and waiters that run() abandons.
#include <goro/goro.hpp>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <vector>

#include "goro/common/env.hpp"
#include "runtime.hpp"
#include "support.hpp"

namespace {
using namespace std::chrono_literals;
using namespace goro::runtime;
using goro::testing::RuntimeTest;

// Parks the caller (sleeping) until gp is parked on a semaphore.
void wait_semacquire(std::atomic<g*>& gp) {
  while (gp.load() == nullptr) goro::sleep_for(1ms);
  while (gp.load()->atomicstatus.load() != gstatus::_Gwaiting ||
         gp.load()->waitreason.load() != wait_reason::semacquire) {
    goro::sleep_for(1ms);
  }
}

TEST(SemaTable, AddressesThatHashAlikeShareARoot) {
  alignas(8) static std::uint32_t words[2 * semTabSize + 1];
  EXPECT_EQ(rootFor(&words[0]), rootFor(&words[0] + 2 * semTabSize));  // 8 bytes x 251 apart
  EXPECT_NE(rootFor(&words[0]), rootFor(&words[2]));
}

// The root's list holds one sudog per address; a FIFO queue hangs from it,
// and a lifo waiter goes to its front. Dequeue takes the front waiter and
// puts the next one in its place in the list, whichever address it is.
TEST_F(RuntimeTest, ARootQueuesWaitersPerAddressInOrder) {
  goro::run(
      [] {
        semaRoot root;
        std::atomic<std::uint32_t> a{0}, b{0};
        std::vector<sudog*> s;
        for (int i = 0; i < 5; i++) s.push_back(acquireSudog());
        {
          goro::common::lock_guard l(root.lock);
          root.queue(&a, s[0], false);
          root.queue(&b, s[1], false);
          root.queue(&a, s[2], false);
          root.queue(&a, s[3], true);  // waited before: first in line
          root.queue(&b, s[4], false);
          EXPECT_EQ(root.dequeue(&a), s[3]);
          EXPECT_EQ(root.dequeue(&a), s[0]);
          EXPECT_EQ(root.dequeue(&b), s[1]);
          EXPECT_EQ(root.dequeue(&a), s[2]);
          EXPECT_EQ(root.dequeue(&a), nullptr);
          EXPECT_EQ(root.dequeue(&b), s[4]);
          EXPECT_EQ(root.head, nullptr);
        }
        for (sudog* x : s) {
          EXPECT_EQ(x->elem, nullptr);
          EXPECT_EQ(x->waitlink, nullptr);
          releaseSudog(x);
        }
      },
      {.procs = 1});
}

// A release with nobody waiting leaves the count for the next acquire,
// which takes it without parking (a wake-up that came before the sleep).
TEST_F(RuntimeTest, AReleaseBeforeTheAcquireIsNotLost) {
  std::uint32_t left = 99;
  goro::run(
      [&] {
        std::atomic<std::uint32_t> sema{0};
        semrelease1(&sema, false);
        semrelease1(&sema, false);
        semacquire1(&sema, false);
        left = sema.load();
        EXPECT_EQ(rootFor(&sema)->nwait.load(), 0u);
      },
      {.procs = 1});
  EXPECT_EQ(left, 1u);
}

// At procs=1, a plain release readies the waiter and goes on: the waiter
// runs only when the releaser parks. A hand-off gives it the count and runs
// it at once, in the releaser's time slice.
TEST_F(RuntimeTest, AHandoffRunsTheWaiterAtOnce) {
  for (bool handoff : {false, true}) {
    bool ran_before_release_returned = !handoff;
    goro::run(
        [&] {
          std::atomic<std::uint32_t> sema{0};
          std::atomic<g*> waiter{nullptr};
          std::atomic<bool> acquired{false};
          goro::go([&] {
            waiter = getg();
            semacquire1(&sema, false);
            acquired = true;
          });
          wait_semacquire(waiter);
          semrelease1(&sema, handoff);
          ran_before_release_returned = acquired.load();
          // Handed off, the count went to the waiter; else it waits for it.
          EXPECT_EQ(sema.load(), handoff ? 0u : 1u);
          while (!acquired.load()) goro::sleep_for(1ms);
        },
        {.procs = 1});
    EXPECT_EQ(ran_before_release_returned, handoff) << "handoff=" << handoff;
  }
}

// Waiters are woken in the order they came (FIFO), one per release.
TEST_F(RuntimeTest, WaitersWakeInArrivalOrder) {
  std::vector<int> order;
  goro::run(
      [&] {
        std::atomic<std::uint32_t> sema{0};
        constexpr int n = 5;
        for (int i = 0; i < n; i++) {
          std::atomic<g*> w{nullptr};
          goro::go([&, i] {
            w = getg();
            semacquire1(&sema, false);
            order.push_back(i);
          });
          wait_semacquire(w);
        }
        EXPECT_EQ(rootFor(&sema)->nwait.load(), static_cast<std::uint32_t>(n));
        for (int i = 0; i < n; i++) {
          semrelease1(&sema, false);
          goro::sleep_for(1ms);  // let it run (procs=1: it is in runnext)
        }
        while (order.size() < n) goro::sleep_for(1ms);
        EXPECT_EQ(rootFor(&sema)->nwait.load(), 0u);
      },
      {.procs = 1});
  EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 3, 4}));
}

// Spinning needs another running P: never at procs=1, nor when the other
// Ps are idle, and never more than four rounds.
TEST_F(RuntimeTest, CanSpinOnlyWithAnotherRunningP) {
  goro::run([] { EXPECT_FALSE(canSpin(0)); }, {.procs = 1});
  goro::run(
      [] {
        EXPECT_FALSE(canSpin(0));  // the other P is idle
        std::atomic<bool> stop{false}, running{false}, done{false};
        goro::go([&] {
          running = true;
          while (!stop.load()) {  // keeps its P busy, without calling goro
          }
          done = true;
        });
        while (!running.load()) goro::sleep_for(1ms);
        if (goro::common::ncpu() > 1) {
          EXPECT_TRUE(canSpin(0));
        }
        EXPECT_FALSE(canSpin(4));
        stop = true;
        while (!done.load()) goro::sleep_for(1ms);  // it uses our locals
      },
      {.procs = 2});
}

// A goroutine left parked on a semaphore when main returns is abandoned:
// run() takes its sudog off the root, and the next run starts clean.
TEST_F(RuntimeTest, RunDropsAbandonedSemaphoreWaiters) {
  static std::atomic<std::uint32_t> sema{0};
  goro::run([] {
    std::atomic<g*> w{nullptr};
    goro::go([&] {
      w = getg();
      semacquire1(&sema, false);
    });
    wait_semacquire(w);
  });
  EXPECT_EQ(rootFor(&sema)->nwait.load(), 0u);
  {
    goro::common::lock_guard l(rootFor(&sema)->lock);
    EXPECT_EQ(rootFor(&sema)->head, nullptr);
  }
  goro::run([] {
    semrelease1(&sema, false);  // nobody waits: no stale sudog is woken
    semacquire1(&sema, false);
  });
}

}  // namespace
