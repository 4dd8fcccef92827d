// sched_test.cpp: chapter 08's scheduler from the inside: G states, free
// lists, the global queue and its fairness rule, runnext and the time
// slice.
#include <goro/goro.hpp>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <memory>
#include <string>
#include <vector>

#include "goro/common/clock.hpp"
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

// A chain of goroutines, each starting the next and exiting, runs through
// runnext, and each inherits the time slice of the one before: schedtick
// never moves, so the 61-tick rule never fires. What stops the chain from
// starving a goroutine on the global queue is the time slice itself:
// sysmon asks the chain to yield after 10 ms (honoured in go()).
TEST_F(RuntimeTest, ARunnextChainDoesNotStarveTheGlobalQueue) {
  std::atomic<bool> ran{false};
  long links = 0;
  goro::run([&] {
    std::atomic<long> link{0};
    std::atomic<bool> chain_done{false};
    goro::go([&] {
      goro::gosched();  // to the global queue
      ran = true;
    });
    goro::gosched();  // let it run once and yield
    struct chain {
      static void next(std::atomic<long>* link, std::atomic<bool>* ran,
                       std::atomic<bool>* done, std::chrono::steady_clock::time_point end) {
        link->fetch_add(1);
        if (ran->load() || std::chrono::steady_clock::now() > end) {
          *done = true;
          return;
        }
        goro::go(next, link, ran, done, end);
      }
    };
    goro::go(chain::next, &link, &ran, &chain_done, std::chrono::steady_clock::now() + 10s);
    while (!chain_done.load()) goro::sleep_for(1ms);
    links = link.load();
  }, goro::Config{.procs = 1});
  EXPECT_TRUE(ran.load()) << "starved for 10 s while the chain ran " << links << " links";
}

// ---- runnext and the time slice ----
//
// A G taken from runnext inherits the time slice, so two goroutines that
// keep making each other runnable through runnext never start a new one.
// Once sysmon has seen the same slice for 10 ms (forcePreemptNS) it sets
// p.preempt, and from then on a G made runnable goes to the tail of the
// ring, behind whoever waits there. These tests put a third goroutine on
// the ring before a pair starts, and check that it runs within 50 time
// slices (500 ms; longer in sanitizer builds, whose slice is longer).
//
// Main waits parked without a timer: a timer firing would itself break
// the pair (the woken main goes into runnext and kicks a player to the
// ring), and hide what is tested.
class RunnextFairness : public goro::testing::RuntimeProcsTest {};

constexpr std::int64_t kBoundNs = 50 * forcePreemptNS;

// parked_main: main parks in wait() until done() was called `left` times.
struct parked_main {
  std::atomic<g*> main{nullptr};
  std::atomic<int> left;
  explicit parked_main(int n) : left(n) {}
  void wait() {
    gopark([](g* gp, void* self) {
      static_cast<parked_main*>(self)->main.store(gp);
      return true;
    }, this, wait_reason::sleep);
  }
  void done() {
    if (left.fetch_sub(1) != 1) return;
    g* mg;
    while ((mg = main.load()) == nullptr) goro::gosched();  // main not parked yet
    goready(mg);
  }
};

// A pair of players and the third goroutine that must not starve.
struct group {
  parked_main* waiter = nullptr;
  std::atomic<g*> parked[2] = {nullptr, nullptr};  // a player, while parked
  std::atomic<bool> third_ran{false};
  std::atomic<std::int64_t> start{0};    // nanotime when the pair began
  std::atomic<std::int64_t> waited{-1};  // how long the third waited
  std::atomic<long> handoffs{0};
  bool over() const {
    return third_ran.load() || (start.load() != 0 && goro::common::nanotime() - start.load() > 4 * kBoundNs);
  }
  void third() {
    waited = goro::common::nanotime() - start.load();
    third_ran = true;
    waiter->done();
  }
  // play parks player `me`, readying the other one if it is parked, until
  // the third has run (or the test gives up), then wakes the other to end.
  void play(int me) {
    struct park_args {
      group* gr;
      int me;
    } a{this, me};
    while (!over()) {
      gopark([](g* gp, void* arg) {
        auto* a = static_cast<park_args*>(arg);
        a->gr->parked[a->me].store(gp);
        if (g* other = a->gr->parked[1 - a->me].exchange(nullptr)) {
          a->gr->handoffs++;
          goready(other);  // into runnext: it inherits the time slice
        }
        return true;
      }, &a, wait_reason::sleep);
    }
    if (g* other = parked[1 - me].exchange(nullptr)) goready(other);
    waiter->done();
  }
};

// run_groups runs one group per P, each started by `start` in a goroutine
// of its own that first puts the group's third goroutine on the ring; main
// stays parked until every group has called done() `dones` times. Then
// each third must have run within the bound. `what` names the hand-offs.
void run_groups(int procs, int dones, void (*start)(group*), const char* what) {
  std::vector<std::unique_ptr<group>> groups;
  goro::run([&] {
    parked_main waiter(dones * procs);
    for (int i = 0; i < procs; i++) {
      groups.push_back(std::make_unique<group>());
      group* gr = groups.back().get();
      gr->waiter = &waiter;
      goro::go([gr, start] {
        goro::go([gr] { gr->third(); });  // into runnext, until the next go()
        start(gr);
      });
    }
    waiter.wait();
  }, goro::Config{.procs = procs});
  for (auto& gr : groups) {
    ASSERT_TRUE(gr->third_ran.load());
    EXPECT_LT(gr->waited.load(), kBoundNs)
        << "the goroutine on the ring waited " << gr->waited.load() / 1000000 << " ms, over "
        << gr->handoffs.load() << " " << what;
    // What a reader (and the chapter page) wants to see: how long it waited.
    std::printf("  the goroutine on the ring waited %.1f ms (%ld %s)\n",
                static_cast<double>(gr->waited.load()) / 1e6, gr->handoffs.load(), what);
  }
}

// The pair readies each other through gopark/goready (what an unbuffered
// channel will do in chapter 06): the fix is at goready.
TEST_P(RunnextFairness, APingPongPairDoesNotStarveAGoroutineOnTheRing) {
  run_groups(procs(), 3, [](group* gr) {
    goro::go([gr] { gr->play(1); });  // B, kicking the third to the ring
    gr->start = goro::common::nanotime();
    gr->play(0);                      // park: B runs, and readies us
  }, "hand-offs of the pair");
}

// A chain of goroutines, each starting the next and exiting: each new one
// goes into runnext and inherits the slice. The fix is at go().
TEST_P(RunnextFairness, ASpawnChainDoesNotStarveAGoroutineOnTheRing) {
  struct chain {
    static void next(group* gr) {
      gr->handoffs++;
      if (gr->over()) {
        gr->waiter->done();
        return;
      }
      goro::go(next, gr);
    }
  };
  run_groups(procs(), 2, [](group* gr) {
    gr->start = goro::common::nanotime();
    goro::go(chain::next, gr);  // kicks the third to the ring
  }, "links of the chain");
}

INSTANTIATE_TEST_SUITE_P(Procs, RunnextFairness, ::testing::Values(1, 2));

// A goroutine that yields with nothing else to run wakes no other M (Go's
// goschedImpl calls no wakep): it just runs again on its own P.
TEST_F(RuntimeTest, AYieldWakesNoOtherM) {
  int ms = 0;
  goro::run([&] {
    for (int i = 0; i < 10000; i++) goro::gosched();
    ms = sched->mcount.load();
  }, goro::Config{.procs = 4});
  EXPECT_EQ(ms, 1) << "a lone yielding goroutine started other threads";
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
