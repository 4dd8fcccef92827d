// steal.cpp: an idle P takes half of a busy P's queue, after Go's
// runtime/proc.go (stealWork, randomOrder, checkRunqsNoP). Chapter 05.
//
// The article's third scenario. When a P runs out of work and the global queue
// is empty too, its M becomes "spinning" and visits the other Ps in a
// random order, taking half of the first non-empty queue it finds: half
// balances the load in one step and leaves the victim work of its own. It
// makes four passes; only on the last does it also run other Ps' due
// timers and take a runnext, which exists to keep a waker and the woken
// together on one P.
//
// At most half of the busy Ps may have a spinning M (findRunnable checks
// 2*nmspinning < busy Ps): with GOMAXPROCS much larger than the program's
// parallelism, every idle M spinning would burn CPUs to find nothing.
#include "goro/common/clock.hpp"
#include "goro/common/trace.hpp"
#include "runtime.hpp"

namespace goro::runtime {

namespace {

std::uint32_t gcd(std::uint32_t a, std::uint32_t b) {
  while (b != 0) {
    std::uint32_t t = a % b;
    a = b;
    b = t;
  }
  return a;
}

}  // namespace

// fastrand is a per-M xorshift generator (Go's fastrand); only mp's thread
// calls it.
std::uint32_t fastrand(m* mp) {
  std::uint32_t x = mp->fastrand;
  x ^= x << 13;
  x ^= x >> 17;
  x ^= x << 5;
  mp->fastrand = x;
  return x;
}

//! [randomOrder]
// A random order of the Ps without repeats (Go's randomOrder): start
// anywhere, and step by a number coprime with the count; then every P comes
// up exactly once (randomEnum, runtime.hpp).

// reset lists the numbers coprime with count (Go's randomOrder.reset).
void randomOrder::reset(std::uint32_t n) {
  count = n;
  coprimes.clear();
  for (std::uint32_t i = 1; i <= n; i++) {
    if (gcd(i, n) == 1) coprimes.push_back(i);
  }
}

// start begins at i % count, stepping by one of the coprimes, also chosen
// by i (Go's randomOrder.start).
randomEnum randomOrder::start(std::uint32_t i) const {
  return randomEnum{0, count, i % count,
                    coprimes[i / count % static_cast<std::uint32_t>(coprimes.size())]};
}
//! [randomOrder]

//! [stealWork]
// stealWork tries, four times over the Ps in a random order, to steal half
// of a non-idle P's queue; on the last pass it also runs their due timers
// and steals runnext. Returns a G to run (never with inherited time).
g* stealWork(m* mp, std::int64_t now) {
  p* pp = mp->p;
  constexpr int stealTries = 4;
  for (int i = 0; i < stealTries; i++) {
    const bool stealTimersOrRunNextG = i == stealTries - 1;
    for (randomEnum e = sched->stealOrder.start(fastrand(mp)); !e.done(); e.next()) {
      if (exiting()) return nullptr;
      p* p2 = sched->allp[e.position()].get();
      if (p2 == pp) continue;
      if (stealTimersOrRunNextG && p2->timer0When.load(std::memory_order_relaxed) != 0) {
        checkTimers(p2, now);  // readies them onto our queue
        if (g* gp = runqget(pp).first) return gp;
      }
      // An idle P has nothing to steal (its queue is empty by invariant).
      if (p2->status.load(std::memory_order_relaxed) == pstatus::_Pidle) continue;
      const std::uint32_t before = pp->runqtail.load(std::memory_order_relaxed);
      if (g* gp = runqsteal(pp, p2, stealTimersOrRunNextG)) {
        if (common::trace::on.load(std::memory_order_relaxed)) {
          const long n = pp->runqtail.load(std::memory_order_relaxed) - before + 1;
          common::trace::record(static_cast<int>(mp->id), pp->id, 0, common::trace::ev::steal,
                                n, p2->id);
        }
        return gp;
      }
    }
  }
  return nullptr;
}
//! [stealWork]

// checkRunqsNoP looks at every busy P's queue after this M gave up its P
// and its spinning (Go's checkRunqsNoP): if any has work, it returns an idle
// P to take it with, or nullptr.
p* checkRunqsNoP() {
  for (auto& p2 : sched->allp) {
    if (p2->status.load(std::memory_order_seq_cst) != pstatus::_Pidle && !runqempty(p2.get())) {
      common::lock_guard l(sched->lock);
      return pidleget();
    }
  }
  return nullptr;
}

}  // namespace goro::runtime
