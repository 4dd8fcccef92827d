// sched_test.cpp: chapter 03's scheduler from the inside: G states, free
// lists, the global queue and its fairness rule.
#include <goro/goro.hpp>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <ctime>
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

// The bound goro keeps on threads: an M runs goroutines only while it
// holds a P, so at most GOMAXPROCS do at once, and startm makes a new M
// only when none is parked on the idle list. An M can be surplus for a
// moment: one that has just given its P back but not yet parked is on no
// list, and a P that needs an M then gets a new thread (Go has the same
// window; it is how a fifth M, and a sixth, appears at procs=4). None is
// ever lost: once the program is quiet, every M but main's, and at most
// one more (the timer sleeper, or a spinning M on its way to park), is
// parked on the idle list for reuse.
TEST_F(RuntimeTest, GomaxprocsPsAndNoMLost) {
  std::size_t ps = 0;
  int ms = 0, idle = 0;
  goro::run([&] {
    ps = sched->allp.size();
    std::atomic<int> done{0};
    for (int i = 0; i < 100; i++) {
      goro::go([&] {
        goro::sleep_for(1ms);
        done++;
      });
    }
    while (done.load() < 100) goro::sleep_for(1ms);
    // Let the Ms settle: each wake-up of main may wake one more M that
    // looks for work and parks again.
    const auto end = std::chrono::steady_clock::now() + 10s;
    do {
      goro::sleep_for(1ms);
      ms = sched->mcount.load();
      idle = sched->nmidle.load();
    } while (idle < ms - 2 && std::chrono::steady_clock::now() < end);
  }, goro::Config{.procs = 4});
  EXPECT_EQ(ps, 4u);
  EXPECT_GE(idle, ms - 2) << ms << " Ms, of which only " << idle << " parked once quiet";
}

// The thread_local trap, from the inside: after every switch the runtime's
// idea of the current M (getm) must be the M of the thread the goroutine is
// now on, even though goroutines move between threads.
TEST_F(RuntimeTest, GetmIsTheCurrentThreadsMAfterEverySwitch) {
  std::atomic<int> wrong{0}, moved{0};
  goro::run([&] {
    std::atomic<int> done{0};
    for (int i = 0; i < 8; i++) {
      goro::go([&] {
        m* last = getm();
        // At least 2000 switches, and on until some goroutine has moved
        // (how soon depends on when the other Ms' threads start).
        const auto deadline = std::chrono::steady_clock::now() + 20s;
        for (int k = 0; k < 2000 || (moved.load() == 0 &&
                                     std::chrono::steady_clock::now() < deadline); k++) {
          goro::gosched();
          m* now = getm();
          if (now->curg != getg() || now->g0.stack_lo == nullptr) wrong++;
          if (now != last) moved++;
          last = now;
        }
        done++;
      });
    }
    while (done.load() < 8) goro::sleep_for(1ms);
  }, goro::Config{.procs = 4});
  EXPECT_EQ(wrong.load(), 0);
  EXPECT_GT(moved.load(), 0) << "goroutines never changed threads: the test proved nothing";
}

// No work, timers pending: the Ms park and one sleeps until the earliest
// timer. Nobody spins: over 150 ms of sleeping the process uses little CPU.
TEST_F(RuntimeTest, IdleMsParkInsteadOfSpinning) {
  double cpu_ms = 0;
  goro::run([&] {
    std::atomic<int> done{0};
    for (int i = 0; i < 8; i++) {
      goro::go([&] {
        goro::sleep_for(150ms);
        done++;
      });
    }
    timespec t0, t1;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t0);
    goro::sleep_for(150ms);
    while (done.load() < 8) goro::sleep_for(1ms);
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t1);
    cpu_ms = (t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6;
  }, goro::Config{.procs = 4});
  EXPECT_LT(cpu_ms, 75) << "150 ms asleep cost " << cpu_ms << " ms of CPU";
}

}  // namespace
