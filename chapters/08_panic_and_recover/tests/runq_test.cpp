// runq_test.cpp: the lock-free local run queue and stealing, in isolation:
// two or more Ps built by hand, no scheduler running.
#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <thread>
#include <vector>

#include "goro/common/sanitizer.hpp"
#include "runtime.hpp"

namespace {
using namespace goro::runtime;

// A scheduler with nothing but a global queue, for runqputslow.
struct bare_sched {
  schedt s;
  bare_sched() { sched = &s; }
  ~bare_sched() { sched = nullptr; }
};

TEST(Runq, AnIdlePStealsHalfOfABusyPsQueue) {
  bare_sched bs;
  p victim, thief;
  victim.status = pstatus::_Prunning;
  std::vector<g> gs(100);
  for (auto& gp : gs) runqput(&victim, &gp, false);
  g* got = runqsteal(&thief, &victim, false);
  ASSERT_NE(got, nullptr);
  EXPECT_EQ(got, &gs[49]) << "the thief runs the last G it took";
  EXPECT_EQ(runqlen(&thief), 49u) << "and queues the other 49";
  EXPECT_EQ(runqlen(&victim), 50u) << "the victim keeps half";
  EXPECT_EQ(runqget(&victim).first, &gs[50]);
  EXPECT_EQ(runqget(&thief).first, &gs[0]);
}

TEST(Runq, RunnextIsTakenFirstAndStolenOnlyWhenAsked) {
  bare_sched bs;
  p pp, thief;
  pp.status = pstatus::_Pidle;  // no 3 us grace: nobody is about to run it
  g a, b, c;
  runqput(&pp, &a, false);
  runqput(&pp, &b, true);
  runqput(&pp, &c, true);  // c takes runnext, b goes to the tail
  auto [first, inherit] = runqget(&pp);
  EXPECT_EQ(first, &c);
  EXPECT_TRUE(inherit) << "a runnext G inherits the time slice";
  runqput(&pp, &c, true);
  EXPECT_EQ(runqsteal(&thief, &pp, false), &a);  // 2 in the ring: takes 1
  EXPECT_EQ(runqsteal(&thief, &pp, false), &b);
  EXPECT_EQ(runqsteal(&thief, &pp, false), nullptr) << "runnext stays without stealRunNextG";
  EXPECT_EQ(runqsteal(&thief, &pp, true), &c);
  EXPECT_TRUE(runqempty(&pp));
}

TEST(Runq, AFullRingSendsHalfToTheGlobalQueue) {
  bare_sched bs;
  p pp;
  std::vector<g> gs(257);
  for (auto& gp : gs) runqput(&pp, &gp, false);
  EXPECT_EQ(runqlen(&pp), 128u);
  EXPECT_EQ(bs.s.runqsize.load(), 129);
  EXPECT_EQ(bs.s.runq.front(), &gs[0]) << "the oldest half goes, in order";
}

// The owner adds and takes while thieves steal: every G is taken exactly
// once, none is lost or duplicated.
TEST(Runq, ConcurrentStealsNeverLoseOrDuplicate) {
  bare_sched bs;
  const int total = goro::common::san::tsan ? 20000 : 300000, thieves = 3;
  std::vector<g> gs(static_cast<std::size_t>(total));
  auto taken = std::make_unique<std::atomic<int>[]>(static_cast<std::size_t>(total));
  p owner;
  owner.status = pstatus::_Prunning;
  std::vector<std::unique_ptr<p>> tp;
  for (int i = 0; i < thieves; i++) tp.push_back(std::make_unique<p>());
  std::atomic<bool> stop{false};
  auto mark = [&](g* gp) { taken[static_cast<std::size_t>(gp - gs.data())]++; };
  std::vector<std::thread> ts;
  for (int i = 0; i < thieves; i++) {
    ts.emplace_back([&, i] {
      p* me = tp[static_cast<std::size_t>(i)].get();
      while (!stop.load()) {
        if (g* gp = runqsteal(me, &owner, i == 0)) {
          mark(gp);
          while (g* more = runqget(me).first) mark(more);
        }
      }
    });
  }
  for (int i = 0; i < total; i++) {
    runqput(&owner, &gs[static_cast<std::size_t>(i)], i % 7 == 0);
    if (i % 3 == 0) {
      if (g* gp = runqget(&owner).first) mark(gp);
    }
  }
  while (g* gp = runqget(&owner).first) mark(gp);
  stop = true;
  for (auto& t : ts) t.join();
  for (auto& t : tp) {
    while (g* gp = runqget(t.get()).first) mark(gp);
  }
  while (g* gp = bs.s.runq.pop()) mark(gp);  // overflow went here
  int lost = 0, twice = 0;
  for (int i = 0; i < total; i++) {
    lost += taken[static_cast<std::size_t>(i)] == 0;
    twice += taken[static_cast<std::size_t>(i)] > 1;
  }
  EXPECT_EQ(lost, 0);
  EXPECT_EQ(twice, 0);
}

}  // namespace
