// steal.cpp: an idle P takes half of a busy P's queue, after Go's
// runtime/proc.go (stealWork, randomOrder, checkRunqsNoP). Chapter 05.
//
// The seed's third scenario. When a P runs out of work and the global queue
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

int gcd(int a, int b) {
  while (b != 0) {
    int t = a % b;
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
// up exactly once.
struct random_enum {
  int count, pos, inc, i = 0;
  bool done() const { return i == count; }
  void next() {
    i++;
    pos = (pos + inc) % count;
  }
};

random_enum random_order(std::uint32_t r) {
  const auto count = static_cast<std::uint32_t>(sched->allp.size());
  const auto& cop = sched->stealOrder;
  return random_enum{static_cast<int>(count), static_cast<int>(r % count),
                     cop[(r / count) % static_cast<std::uint32_t>(cop.size())]};
}

// steal_order_init lists the numbers coprime with GOMAXPROCS (Go's
// randomOrder.reset, called by procresize).
void steal_order_init() {
  const int count = static_cast<int>(sched->allp.size());
  sched->stealOrder.clear();
  for (int i = 1; i <= count; i++) {
    if (gcd(i, count) == 1) sched->stealOrder.push_back(i);
  }
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
    for (random_enum e = random_order(fastrand(mp)); !e.done(); e.next()) {
      if (sched->main_done.load(std::memory_order_acquire)) return nullptr;
      p* p2 = sched->allp[static_cast<std::size_t>(e.pos)].get();
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
    if (p2->status.load(std::memory_order_relaxed) != pstatus::_Pidle && !runqempty(p2.get())) {
      std::lock_guard<common::mutex> l(sched->lock);
      return pidleget();
    }
  }
  return nullptr;
}

}  // namespace goro::runtime
