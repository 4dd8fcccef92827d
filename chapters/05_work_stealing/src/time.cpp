// time.cpp: sleeping goroutines and the P's timers, after Go's
// runtime/time.go. Chapter 02; chapter 03 lets any M run an idle P's timers.
//
// A sleeping goroutine costs no thread: it parks, and its wake-up time goes
// into the P's timer heap. The scheduler runs due timers each time it looks
// for work (checkTimers), and when it has nothing to run it sleeps exactly
// until the earliest one. From chapter 03 one M without a P, the timer
// sleeper, waits for the earliest timer of all Ps (sleep_until_timer).
#include <limits>

#include "goro/common/clock.hpp"
#include "goro/common/lock.hpp"
#include "goro/goro.hpp"
#include "runtime.hpp"

namespace goro::runtime {

namespace {

//! [resetForSleep]
// resetForSleep arms the sleep timer: the gopark unlock function of
// timeSleep. The timer is added only once the G is _Gwaiting, so it can never
// fire (and goready the G) before the G has parked. This M runs the timer
// when it next schedules, but the G it runs meanwhile may never give the P
// back: another M must watch the deadline too, as Go's addtimer makes sure
// (wakeNetPoller).
bool resetForSleep(g* gp, void*) {
  p* pp = getm()->p;
  const std::int64_t when = gp->when;  // once added, gp may wake and sleep again
  {
    common::lock_guard l(pp->timersLock);
    pp->timers.add(when, gp);
    pp->timer0When.store(pp->timers.next_when(), std::memory_order_relaxed);
  }
  wake_timer_sleeper(when);
  return true;
}
//! [resetForSleep]

}  // namespace

// timeSleep parks the current goroutine for ns nanoseconds (Go's timeSleep,
// behind time.Sleep).
void timeSleep(std::int64_t ns) {
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
    common::lock_guard l(pp->timersLock);
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

// check_other_timers runs the due timers of every other P (Go does it in
// stealWork, for Ps whose M is busy or gone) and returns the earliest
// deadline left among them, 0 if none.
std::int64_t check_other_timers(p* mine, std::int64_t now) {
  std::int64_t earliest = 0;
  for (auto& pp : sched->allp) {
    if (pp.get() == mine) continue;
    std::int64_t next = checkTimers(pp.get(), now);
    if (next != 0 && (earliest == 0 || next < earliest)) earliest = next;
  }
  return earliest;
}

// timeSleepUntil returns the earliest deadline of all Ps' timers, 0 if
// none (Go's timeSleepUntil, which sysmon also uses).
std::int64_t timeSleepUntil() {
  std::int64_t earliest = 0;
  for (auto& pp : sched->allp) {
    std::int64_t w = pp->timer0When.load(std::memory_order_relaxed);
    if (w != 0 && (earliest == 0 || w < earliest)) earliest = w;
  }
  return earliest;
}

//! [sleep_until_timer]
// sleep_until_timer: an M without a P and without work, when some P has a
// timer and no other M waits for the earliest one, becomes the timer
// sleeper: it sleeps until that deadline (or until woken for an earlier
// one, or for the end), then takes an idle P to run the timers with. Go's
// M waits in netpoll until the next timer; goro has no netpoller. Returns
// true holding a P; false if the M should park instead.
bool sleep_until_timer(m* mp) {
  const std::int64_t when = timeSleepUntil();
  if (when == 0) return false;
  {
    common::lock_guard l(sched->lock);
    if (exiting()) return false;
    if (sched->timerm != nullptr && when >= sched->timerwhen.load(std::memory_order_relaxed)) {
      return false;  // another M waits for it already
    }
    if (sched->timerm != nullptr) sched->timerm->park.wakeup();  // we take over
    sched->timerm = mp;
    sched->timerwhen.store(when, std::memory_order_relaxed);
  }
  // (If the deadline has passed already, do not sleep at all: a negative
  // timeout would mean "no limit".)
  const std::int64_t wait = when - common::nanotime();
  if (wait > 0) mp->park.tsleep(wait);
  p* pp = nullptr;
  {
    common::lock_guard l(sched->lock);
    if (sched->timerm == mp) {
      sched->timerm = nullptr;
      sched->timerwhen.store(0, std::memory_order_relaxed);
    }
    if (!exiting()) pp = pidleget();
  }
  mp->park.clear();  // nobody can wake us now: we are on no list
  if (pp == nullptr) return false;
  acquirep(mp, pp);
  return true;
}
//! [sleep_until_timer]

// wake_timer_sleeper makes sure some M will run a timer due at `when` on
// an idle P (Go's wakeNetPoller): it wakes the timer sleeper if it would
// sleep past `when`, so that it recomputes; with no sleeper, it wakes an M.
void wake_timer_sleeper(std::int64_t when) {
  // A sleeper due by then will see this timer when it wakes: no lock. (It
  // may be waking now: then it looks at every P's timers once awake.)
  const std::int64_t sleeping_until = sched->timerwhen.load(std::memory_order_relaxed);
  if (sleeping_until != 0 && sleeping_until <= when) return;
  {
    common::lock_guard l(sched->lock);
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

}  // namespace goro::runtime

namespace goro {

void sleep_for(std::chrono::nanoseconds d) {
  detail::check_goroutine("sleep_for");
  runtime::timeSleep(d.count());
}

}  // namespace goro
