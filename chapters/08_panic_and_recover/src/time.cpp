// time.cpp: sleeping goroutines and the P's timers, after Go's
// runtime/time.go. Chapter 02; chapter 03 lets any M run an idle P's timers;
// chapter 06: a timer calls a function (a sleeper's readies its G, after()'s
// sends on its channel).
//
// A sleeping goroutine costs no thread: it parks, and its wake-up time goes
// into the P's timer heap. The scheduler runs due timers each time it looks
// for work (checkTimers), and when it has nothing to run it sleeps exactly
// until the earliest one. From chapter 03 one M without a P, the timer
// sleeper, waits for the earliest timer of all Ps (sleep_until_timer).
#include <limits>

#include <chrono>

#include "goro/common/clock.hpp"
#include "goro/common/lock.hpp"
#include "goro/goro.hpp"
#include "runtime.hpp"

namespace goro::runtime {

namespace {

// goroutineReady is the function of a sleeping G's timer (Go's).
void goroutineReady(void* arg, std::uintptr_t) { goready(static_cast<g*>(arg)); }

//! [resetForSleep]
// resetForSleep arms the sleep timer: the gopark unlock function of
// timeSleep. The timer is added only once the G is _Gwaiting, so it can never
// fire (and goready the G) before the G has parked. This M runs the timer
// when it next schedules, but the G it runs meanwhile may never give the P
// back: another M must watch the deadline too, as Go's addtimer makes sure
// (wakeNetPoller).
bool resetForSleep(g* gp, void*) {
  const std::int64_t when = gp->sleeptimer.when;  // once added, gp may wake
  addtimer(&gp->sleeptimer);
  wake_timer_sleeper(when);
  return true;
}
//! [resetForSleep]

// The deadline `ns` from now, saturated.
std::int64_t deadline(std::int64_t ns) {
  const std::int64_t now = common::nanotime();
  return ns > std::numeric_limits<std::int64_t>::max() - now
             ? std::numeric_limits<std::int64_t>::max()
             : now + ns;
}

//! [sendTime]
// after_timer is after()'s timer: it holds a reference to its channel, and
// frees itself once it has fired (Go's GC would).
struct after_timer {
  timer t;
  hchan* c;
};

// sendTime is the function of after()'s timer (Go's sendTime): a
// non-blocking send of the time on the channel. Its buffer of one is
// empty (nothing else sends on it), so the send never fails.
void sendTime(void* arg, std::uintptr_t) {
  auto* at = static_cast<after_timer*>(arg);
  auto now = std::chrono::steady_clock::now();
  chansend(at->c, &now, false);
  detail::chan_release(at->c);
  delete at;
}
//! [sendTime]

// release_after frees an after() timer that never fired (run() ended).
void release_after(timer* t) {
  auto* at = static_cast<after_timer*>(t->arg);
  detail::chan_release(at->c);
  delete at;
}

}  // namespace

// addtimer puts t on the current P's heap (Go's addtimer, less the
// wake-up: see after()).
void addtimer(timer* t) {
  p* pp = getm()->p;
  common::lock_guard l(pp->timersLock);
  pp->timers.add(t->when, t);
  pp->timer0When.store(pp->timers.next_when(), std::memory_order_relaxed);
}

// timeSleep parks the current goroutine for ns nanoseconds (Go's timeSleep,
// behind time.Sleep).
void timeSleep(std::int64_t ns) {
  if (ns <= 0) return;
  g* gp = getg();
  gp->sleeptimer.when = deadline(ns);
  gp->sleeptimer.f = goroutineReady;
  gp->sleeptimer.arg = gp;
  gopark(resetForSleep, nullptr, wait_reason::sleep);
}

//! [checkTimers]
// checkTimers runs every timer of pp that is due at `now`, in deadline
// order (Go's checkTimers and runtimer), and returns pp's next deadline, or
// 0 if it has none. Each timer's function runs without the timers lock, on
// the current P: a G it readies lands there. Any M holding a P may run any
// P's timers.
std::int64_t checkTimers(p* pp, std::int64_t now) {
  std::int64_t next = pp->timer0When.load(std::memory_order_relaxed);
  if (next == 0 || next > now) return next;
  for (;;) {
    timer* t = nullptr;
    {
      common::lock_guard l(pp->timersLock);
      if (!pp->timers.empty() && pp->timers.next_when() <= now) t = pp->timers.pop().what;
      next = pp->timers.empty() ? 0 : pp->timers.next_when();
      pp->timer0When.store(next, std::memory_order_relaxed);
    }
    if (t == nullptr) return next;
    t->f(t->arg, t->seq);
  }
}
//! [checkTimers]

// free_timers drops the timers left when run() ends: sleepers' belong to
// their Gs, after()'s are freed.
void free_timers() {
  for (auto& pp : sched->allp) {
    common::lock_guard l(pp->timersLock);
    while (!pp->timers.empty()) {
      timer* t = pp->timers.pop().what;
      if (t->release != nullptr) t->release(t);
    }
    pp->timer0When.store(0, std::memory_order_relaxed);
  }
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

namespace detail {

//! [after]
// after is time.After: a channel of one time_point and a timer on the
// current P that sends on it. The timer is new work that may be due
// before anything else wakes an M (the caller may poll the channel with a
// default case instead of parking), so the timer sleeper is told, as Go's
// addtimer tells the netpoller.
hchan* after(std::int64_t ns) {
  check_goroutine("after");
  using tp = std::chrono::steady_clock::time_point;
  hchan* c = makechan(&elem_ops_of<tp>, 1);
  auto* at = new runtime::after_timer{{}, c};
  chan_retain(c);  // the timer's reference
  const std::int64_t when = runtime::deadline(ns);
  at->t.when = when;
  at->t.f = runtime::sendTime;
  at->t.arg = at;
  at->t.release = runtime::release_after;
  runtime::addtimer(&at->t);  // from here on another M may fire and free it
  runtime::wake_timer_sleeper(when);
  return c;
}
//! [after]

}  // namespace detail

}  // namespace goro
