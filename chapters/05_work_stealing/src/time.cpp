// time.cpp: sleeping goroutines and the P's timers, after Go's
// runtime/time.go. Chapter 02; chapter 03 lets any M run an idle P's timers.
//
// A sleeping goroutine costs no thread: it parks, and its wake-up time goes
// into the P's timer heap. The scheduler runs due timers each time it looks
// for work (checkTimers), and when it has nothing to run it sleeps exactly
// until the earliest one.
#include <limits>

#include "goro/common/clock.hpp"
#include "goro/goro.hpp"
#include "runtime.hpp"

namespace goro::runtime {

namespace {

//! [resetForSleep]
// resetForSleep arms the sleep timer: the gopark unlock function of
// sleep(). The timer is added only once the G is _Gwaiting, so it can never
// fire (and goready the G) before the G has parked.
bool resetForSleep(g* gp, void*) {
  p* pp = getm()->p;
  std::lock_guard<common::mutex> l(pp->timersLock);
  pp->timers.add(gp->when, gp);
  pp->timer0When.store(pp->timers.next_when(), std::memory_order_relaxed);
  return true;
}
//! [resetForSleep]

}  // namespace

// sleep parks the current goroutine for ns nanoseconds (Go's timeSleep).
void sleep(std::int64_t ns) {
  if (ns <= 0) return;
  g* gp = getg();
  const std::int64_t now = common::nanotime();
  gp->when = ns > std::numeric_limits<std::int64_t>::max() - now
                 ? std::numeric_limits<std::int64_t>::max()
                 : now + ns;
  gopark(resetForSleep, nullptr, wait_reason::sleep);
}

// checkTimers readies every G of pp whose sleep is over at `now` (Go's
// checkTimers and runtimer with goroutineReady) onto the current P, and
// returns pp's next deadline, or 0 if it has none. Any M holding a P may
// run any P's timers.
std::int64_t checkTimers(p* pp, std::int64_t now) {
  std::int64_t next = pp->timer0When.load(std::memory_order_relaxed);
  if (next == 0 || next > now) return next;
  gList ready;
  {
    std::lock_guard<common::mutex> l(pp->timersLock);
    while (!pp->timers.empty() && pp->timers.next_when() <= now) {
      ready.push(pp->timers.pop().what);
    }
    next = pp->timers.empty() ? 0 : pp->timers.next_when();
    pp->timer0When.store(next, std::memory_order_relaxed);
  }
  // Ready them in deadline order (gList is LIFO: reverse it first).
  gList ordered;
  while (g* gp = ready.pop()) ordered.push(gp);
  while (g* gp = ordered.pop()) goready(gp);
  return next;
}

// checkTimersAllP runs the due timers of every other P (Go does it in
// stealWork, for Ps whose M is busy or gone) and returns the earliest
// deadline left among them, 0 if none.
std::int64_t checkTimersAllP(p* mine, std::int64_t now) {
  std::int64_t earliest = 0;
  for (auto& pp : sched->allp) {
    if (pp.get() == mine) continue;
    std::int64_t next = checkTimers(pp.get(), now);
    if (next != 0 && (earliest == 0 || next < earliest)) earliest = next;
  }
  return earliest;
}

// wakeTimerSleeper makes sure some M will run a timer due at `when` on an
// idle P (Go's wakeNetPoller): it wakes the timer sleeper if it would sleep
// past `when`, so that it recomputes; with no sleeper, it wakes an M.
void wakeTimerSleeper(std::int64_t when) {
  {
    std::lock_guard<common::mutex> l(sched->lock);
    if (sched->timerm != nullptr) {
      if (when < sched->timerwhen.load(std::memory_order_relaxed)) {
        sched->timerm->park.wakeup();
        sched->timerm = nullptr;
        sched->timerwhen.store(0, std::memory_order_relaxed);
      }
      return;
    }
  }
  wakep();
}

// earliestTimer is the earliest deadline of all Ps' timers, 0 if none.
std::int64_t earliestTimer() {
  std::int64_t earliest = 0;
  for (auto& pp : sched->allp) {
    std::int64_t w = pp->timer0When.load(std::memory_order_relaxed);
    if (w != 0 && (earliest == 0 || w < earliest)) earliest = w;
  }
  return earliest;
}

}  // namespace goro::runtime

namespace goro {

void sleep_for(std::chrono::nanoseconds d) {
  detail::check_goroutine("sleep_for");
  runtime::sleep(d.count());
}

}  // namespace goro
