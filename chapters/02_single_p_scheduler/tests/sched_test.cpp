// sched_test.cpp: chapter 02's scheduler from the inside: G states, free
// lists, the global queue and its fairness rule.
#include <goro/goro.hpp>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <string>

#include "runtime.hpp"
#include "support.hpp"

namespace {
using namespace std::chrono_literals;
using namespace goro::runtime;
using goro::testing::RuntimeTest;

TEST_F(RuntimeTest, AGoroutineMovesThroughGosStates) {
  gstatus running = gstatus::_Gidle, parked = gstatus::_Gidle, after = gstatus::_Gidle;
  const char* reason = "";
  goro::run([&] {
    std::atomic<g*> sleeper{nullptr};
    std::atomic<bool> seen{false}, done{false};
    goro::go([&] {
      sleeper = getg();
      running = getg()->atomicstatus.load();
      while (!seen.load()) goro::sleep_for(5ms);
      done = true;
    });
    while (sleeper.load() == nullptr) goro::gosched();
    // Watch it until it is seen parked, on whichever P it runs: it parks
    // again every 5 ms until then. (Its wait reason is written before its
    // status, so a reader that sees _Gwaiting sees the reason too.)
    g* s = sleeper.load();
    const auto end = std::chrono::steady_clock::now() + 10s;
    while (std::chrono::steady_clock::now() < end) {
      const gstatus st = s->atomicstatus.load();
      const char* r = to_string(s->waitreason.load());
      if (st == gstatus::_Gwaiting && std::string(r) == "sleep") {
        parked = st;
        reason = r;
        break;
      }
      goro::gosched();
    }
    seen = true;
    while (!done.load()) goro::sleep_for(1ms);
    // It may still be on its way out (on another P): give it time.
    for (int i = 0; i < 5000 && sleeper.load()->atomicstatus.load() != gstatus::_Gdead; i++) {
      goro::sleep_for(1ms);
    }
    after = sleeper.load()->atomicstatus.load();
  });
  EXPECT_EQ(running, gstatus::_Grunning);
  EXPECT_EQ(parked, gstatus::_Gwaiting);
  EXPECT_STREQ(reason, "sleep");
  EXPECT_EQ(after, gstatus::_Gdead);
}

TEST_F(RuntimeTest, DeadGoroutinesAndTheirStacksAreReused) {
  std::size_t made = 0;
  goro::run([&] {
    for (int i = 0; i < 10000; i++) {
      std::atomic<bool> done{false};
      goro::go([&] { done = true; });
      while (!done.load()) goro::gosched();
    }
    made = sched->allgs.size();
  }, goro::Config{.procs = 1});
  EXPECT_LE(made, 3u) << "each goroutine should reuse the last one's G and stack";
}

TEST_F(RuntimeTest, GoschedGoesThroughTheGlobalQueue) {
  bool on_global = false;
  goro::run([&] {
    // Move schedtick off a multiple of 61 (the tick when the P looks at the
    // global queue first): each of main's yields starts a new time slice.
    for (int i = 0; i < 5; i++) goro::gosched();
    std::atomic<bool> done{false};
    goro::go([&] {
      g* me = getg();
      // B runs when we yield; by then we must be on the global queue.
      goro::go([&, me] {
        std::lock_guard<goro::common::mutex> l(sched->lock);
        on_global = sched->runq.front() == me && sched->runqsize.load() == 1;
      });
      goro::gosched();
      done = true;
    });
    while (!done.load()) goro::sleep_for(1ms);
  }, goro::Config{.procs = 1});
  EXPECT_TRUE(on_global);
}

// A chain of goroutines, each starting the next, keeps the local queue
// busy forever. A goroutine on the global queue still gets to run, because
// every 61st schedule looks there first.
TEST_F(RuntimeTest, TheGlobalQueueIsPolledEvery61Ticks) {
  int ran_at_link = -1;
  goro::run([&] {
    std::atomic<int> link{0};
    std::atomic<bool> chain_done{false};
    goro::go([&] {
      goro::gosched();  // to the global queue
      ran_at_link = link.load();
    });
    // Let it run once and yield, so that it sits on the global queue.
    goro::gosched();
    struct chain {
      static void next(std::atomic<int>* link, std::atomic<bool>* done) {
        if (link->fetch_add(1) + 1 >= 2000) {
          *done = true;
          return;
        }
        goro::go(next, link, done);
      }
    };
    goro::go(chain::next, &link, &chain_done);
    while (!chain_done.load()) goro::sleep_for(1ms);
  }, goro::Config{.procs = 1});
  ASSERT_GE(ran_at_link, 0);
  EXPECT_LT(ran_at_link, 200) << "waited for the whole chain: no fairness";
}

TEST_F(RuntimeTest, GoroutineIdsCountFromOne) {
  long main_id = 0, first = 0, second = 0;
  goro::run([&] {
    main_id = getg()->goid;
    std::atomic<int> done{0};
    goro::go([&] { first = getg()->goid; done++; });
    goro::go([&] { second = getg()->goid; done++; });
    while (done.load() < 2) goro::gosched();
  }, goro::Config{.procs = 1});  // ids come from a per-P cache of 16
  EXPECT_EQ(main_id, 1);
  EXPECT_EQ(first, 2);
  EXPECT_EQ(second, 3);
}

TEST_F(RuntimeTest, OnePAndOneMWhateverTheConfig) {
  std::size_t ps = 0, ms = 0;
  goro::run([&] {
    ps = sched->allp.size();
    ms = sched->allm.size();
  }, goro::Config{.procs = 4});
  EXPECT_EQ(ps, 1u);
  EXPECT_EQ(ms, 1u);
}

}  // namespace
