// proc.cpp: the goroutine scheduler, after Go's runtime/proc.go. Chapter 02;
// chapter 03: several Ps and Ms (the Ms and Ps themselves are managed in
// mp.cpp); chapter 04: syscalls (syscall.cpp), sysmon and the time slice
// (sysmon.cpp); chapter 05: the lock-free local queue (runq.cpp) and
// stealing (steal.cpp). Making and ending goroutines is in newproc.cpp, the
// run queues in runq.cpp, run() and the public calls in run.cpp.
//
// Go's scheduler has three kinds of object (see the glossary at the top of
// proc.go):
//   G - a goroutine: a stack, a saved context, a state;
//   M - an OS thread ("machine"), which runs Gs;
//   P - a processor, the right to run Gs: an M must hold a P to run one.
//       Each P has its own run queue, so most scheduling touches no shared
//       state; GOMAXPROCS is the number of Ps.
// and the global scheduler state, sched, with a global run queue under one
// lock.
//
// Every M has a g0: its own context, on the thread's stack, where the
// scheduler runs. A goroutine never picks its successor itself: it switches
// to g0 (mcall) and g0 runs the step it asked for (park_m, gosched_m,
// goexit0), then schedule() picks the next G and switches to it (gogo).
// Two switches per hand-over is the price of keeping all scheduling on one
// stack that no goroutine can overflow.
//
// Where goro differs: Go's schedule() never returns (gogo jumps away), so an
// mcall function ends by calling schedule() again. In goro the switch to a
// goroutine returns when the goroutine switches back, so schedule() is a
// loop and an mcall function returns the G to run next, if it has one. And
// schedule() does return, once main has returned, so that run() can free
// everything and return to its caller.
//
// This chapter has GOMAXPROCS Ps and as many Ms as it needs to run them.
// An M with nothing to do gives its P back to the idle list and parks on its
// note (findRunnable, stopm); new work anywhere wakes one (wakep), which
// steals from the P that has it, so no P idles while another has a queue.
#include <cxxabi.h>

#include <string>
#include <tuple>

#include "goro/common/clock.hpp"
#include "goro/common/fatal.hpp"
#include "goro/common/trace.hpp"
#include "runtime.hpp"

namespace goro::runtime {

schedt* sched = nullptr;

namespace {

thread_local m* tls_m = nullptr;

}  // namespace

// ---- mcall functions: run on g0 after a goroutine switched away ----

// gosched_m puts a G that yielded on the global run queue, as Go does, so
// that a goroutine that keeps yielding cannot starve others of the P. It
// wakes nobody, as Go's goschedImpl: now that idle Ps steal, a yield with
// nothing else to run simply runs the same G again on the same P.
std::pair<g*, bool> gosched_m(g* gp) {
  casgstatus(gp, gstatus::_Grunning, gstatus::_Grunnable);
  dropg(getm());
  common::lock_guard l(sched->lock);
  globrunqput(gp);
  return {nullptr, false};
}

// abandon_m stops a goroutine left behind when main returned, on g0: it
// goes on no queue, ever, and its M's schedule loop, seeing the end,
// returns. run() destroys its closure with the others' (see abandon).
std::pair<g*, bool> abandon_m(g* gp) {
  casgstatus(gp, gp->atomicstatus.load(std::memory_order_relaxed), gstatus::_Grunnable);
  dropg(getm());
  return {nullptr, false};
}

namespace {

//! [park_m]
// park_m finishes gopark on g0: the G is _Gwaiting before the unlock
// function runs, so whoever takes the lock next and wakes it finds it
// parked (the lost wake-up rule). If unlockf says no, the G runs again,
// in the same time slice.
std::pair<g*, bool> park_m(g* gp) {
  m* mp = getm();
  casgstatus(gp, gstatus::_Grunning, gstatus::_Gwaiting);
  dropg(mp);
  if (auto fn = mp->waitunlockf) {
    bool ok = fn(gp, mp->waitlock);
    mp->waitunlockf = nullptr;
    mp->waitlock = nullptr;
    if (!ok) {
      casgstatus(gp, gstatus::_Gwaiting, gstatus::_Grunnable);
      return {gp, true};  // Go: execute(gp, true)
    }
  }
  return {nullptr, false};
}
//! [park_m]

//! [findRunnable]
// findRunnable finds a goroutine to run, in Go's order: due timers, the
// global queue every 61st tick, the local queue, the global queue, other
// Ps' due timers, then stealing from the other Ps (as a spinning M). It
// returns the G and whether it inherits the time slice (a G from runnext
// does). With nothing to run it gives its P back and stops the M
// (stopm) until startm hands it a P; before that, an M that was spinning
// looks once more (stop_spinning), and one M sleeps until the earliest
// timer (sleep_until_timer); either may come back holding a P, to start
// over with. Returns nullptr once main has returned.
std::pair<g*, bool> findRunnable(m* mp) {
  for (;;) {
    if (exiting()) return {nullptr, false};
    p* pp = mp->p;
    std::int64_t now = 0;
    if (pp->timer0When.load(std::memory_order_relaxed) != 0) {
      now = common::nanotime();
      checkTimers(pp, now);
    }

    // Check the global queue once in a while, or two goroutines that keep
    // respawning each other would hold the local queue forever.
    if (pp->schedtick % 61 == 0 && sched->runqsize.load(std::memory_order_relaxed) > 0) {
      common::lock_guard l(sched->lock);
      if (g* gp = globrunqget(pp, 1)) return {gp, false};
    }
    if (auto [gp, inheritTime] = runqget(pp); gp != nullptr) return {gp, inheritTime};
    if (sched->runqsize.load(std::memory_order_relaxed) != 0) {
      common::lock_guard l(sched->lock);
      if (g* gp = globrunqget(pp, 0)) return {gp, false};
    }
    // Idle Ps cannot run their own timers: run them here (Go does this in
    // stealWork). Woken Gs land on our queue.
    if (now == 0) now = common::nanotime();
    check_other_timers(pp, now);
    if (auto [gp, inheritTime] = runqget(pp); gp != nullptr) return {gp, inheritTime};

    // Steal, as a spinning M. Limit the spinning Ms to half the busy Ps, or
    // with GOMAXPROCS >> the program's parallelism they would burn CPUs.
    const auto procs = static_cast<std::int32_t>(sched->allp.size());
    if (mp->spinning || 2 * sched->nmspinning.load() < procs - sched->npidle.load()) {
      if (!mp->spinning) {
        mp->spinning = true;
        sched->nmspinning.fetch_add(1);
      }
      if (g* gp = stealWork(mp, now)) return {gp, false};
    }

    // Nothing to do: give the P back, unless the global queue got work.
    {
      common::lock_guard l(sched->lock);
      if (exiting()) return {nullptr, false};
      if (g* gp = globrunqget(pp, 0)) return {gp, false};
      pidleput(releasep(mp));
    }
    if (mp->spinning && stop_spinning(mp)) continue;
    if (sleep_until_timer(mp)) continue;
    stopm(mp);
    if (mp->p == nullptr) return {nullptr, false};  // woken to exit
  }
}
//! [findRunnable]

}  // namespace

// getm returns the calling thread's M. Deliberately not inlined, with a
// compiler barrier: once goroutines move between threads (chapter 03) a
// goroutine can leave a switch on another thread, and a thread_local's
// address computed before the switch would then be the old thread's. Every
// read of tls_m goes through here, and runtime code reads it again after
// anything that may switch.
[[gnu::noinline]] m* getm() {
  asm volatile("" ::: "memory");
  return tls_m;
}

// exiting says whether main has returned: every M then returns from
// schedule, and run() joins their threads.
bool exiting() { return sched->main_done.load(std::memory_order_acquire); }

// abandon is the last call of a goroutine left behind when main returned
// (called at its next call into goro: go, a syscall's return...): it never
// returns. Go's leftovers simply vanish with the process; goro's run()
// must join every M, so their goroutines are stopped where they meet the
// runtime. A goroutine that never calls goro again keeps its M, and run()
// waits for it.
void abandon() { mcall(abandon_m); }

// setm records the calling thread's M (nullptr: none); through the same
// barrier as getm.
void setm(m* mp) {
  asm volatile("" ::: "memory");
  tls_m = mp;
}

g* getg() {
  m* mp = getm();
  return mp != nullptr ? mp->curg : nullptr;
}

// dropg disassociates the M from its current G (Go's dropg).
void dropg(m* mp) {
  mp->curg->m = nullptr;
  mp->curg = nullptr;
}

// casgstatus changes a G's state from oldval to newval with a
// compare-and-swap, as Go's does; a G that is not in oldval is a runtime
// bug. Go needs the CAS because its garbage collector sets a scan bit in
// the status concurrently. goro has no GC, but two threads may still race
// to move one G (two wake-ups of the same parked G, once channels and
// select exist): with a CAS exactly one wins and the other fails loudly,
// where a load and a store could both go through.
void casgstatus(g* gp, gstatus oldval, gstatus newval) {
  gstatus cur = oldval;
  if (!gp->atomicstatus.compare_exchange_strong(cur, newval, std::memory_order_acq_rel,
                                                std::memory_order_relaxed)) {
    char a[24], b[24], c[24];
    std::string msg = std::string("casgstatus: bad incoming values: goroutine ") +
                      common::format_long(gp->goid, a) + " is in state " +
                      common::format_long(static_cast<long>(cur), b) + ", expected " +
                      common::format_long(static_cast<long>(oldval), c);
    common::throw_(msg.c_str());
  }
}

// mcall switches from the running goroutine to its M's g0, which then runs
// fn(gp). It returns when the goroutine is next scheduled, maybe on
// another M.
void mcall(mcall_fn fn) {
  m* mp = getm();
  common::switch_context(mp->curg->sched, mp->g0, reinterpret_cast<void*>(fn));
}

// The calling thread's C++ exception state (the Itanium C++ ABI's
// __cxa_get_globals; <cxxabi.h> leaves its type opaque), as eh_globals.
eh_globals* eh_state() { return reinterpret_cast<eh_globals*>(abi::__cxa_get_globals()); }

//! [execute]
// execute runs gp on the current M until it switches back, then runs the
// mcall function it asked for and returns that function's result (a G to
// run at once and whether it inherits the time slice, or nullptr).
// inheritTime: gp continues the current time slice instead of starting a
// new one (schedtick is not incremented).
std::pair<g*, bool> execute(g* gp, bool inheritTime) {
  m* mp = getm();
  mp->curg = gp;
  gp->m = mp;
  casgstatus(gp, gstatus::_Grunnable, gstatus::_Grunning);
  if (!inheritTime) {
    add_counter(mp->p->schedtick, 1u);
    mp->p->preempt.store(false, std::memory_order_relaxed);  // a new time slice
  }
  const int pid = mp->p->id;
  if (common::trace::on.load(std::memory_order_relaxed)) {
    common::trace::record(static_cast<int>(mp->id), pid, gp->goid, common::trace::ev::run);
  }
  // gogo: run gp until it mcalls back to this g0, with its own exception
  // state (chapter 08): it may have parked in the middle of unwinding, or
  // inside a catch block, on another thread.
  eh_globals* eh = eh_state();
  const eh_globals g0eh = *eh;
  *eh = gp->eh;
  auto fn = reinterpret_cast<mcall_fn>(common::switch_context(mp->g0, gp->sched, nullptr));
  gp->eh = *eh;
  *eh = g0eh;
  if (common::trace::on.load(std::memory_order_relaxed)) {
    common::trace::record(static_cast<int>(mp->id), pid, gp->goid, common::trace::ev::stop);
  }
  if (fn != &goexit0) common::check_stack(gp->stack, gp->sched.sp, gp->goid);
  return fn(gp);
}
//! [execute]

//! [schedule]
// schedule is the M's scheduler loop, on g0: find a runnable G, run it,
// repeat. Returns when main has returned.
void schedule() {
  m* mp = getm();
  g* gp = nullptr;
  bool inheritTime = false;
  for (;;) {
    if (gp == nullptr) {
      std::tie(gp, inheritTime) = findRunnable(mp);
      if (gp == nullptr) return;
      // A spinning M that found work stops spinning, and wakes another to
      // look for more (Go's resetspinning).
      if (mp->spinning) resetspinning(mp);
    }
    std::tie(gp, inheritTime) = execute(gp, inheritTime);
  }
}
//! [schedule]

// gopark puts the running goroutine to sleep until goready(gp). On g0,
// after the G is _Gwaiting, unlockf(gp, lock) runs: it can release the lock
// that guards whatever list gp was put on, and return false to cancel the
// park. Wait reason: what gp is waiting for, as Go prints it.
void gopark(bool (*unlockf)(g*, void*), void* lock, wait_reason reason) {
  m* mp = getm();
  g* gp = mp->curg;
  if (gp->atomicstatus.load(std::memory_order_relaxed) != gstatus::_Grunning) {
    common::throw_("gopark: bad g status");
  }
  mp->waitlock = lock;
  mp->waitunlockf = unlockf;
  gp->waitreason.store(reason, std::memory_order_relaxed);
  mcall(park_m);
}

namespace {

// goyield_m puts a G that yields on its own P's run queue, at the tail
// (Go's goyield_m). Unlike gosched_m it keeps the G local: it yields to
// the G just readied into runnext, not to the whole program.
std::pair<g*, bool> goyield_m(g* gp) {
  m* mp = getm();
  p* pp = mp->p;
  casgstatus(gp, gstatus::_Grunning, gstatus::_Grunnable);
  dropg(mp);
  runqput(pp, gp, false);
  return {nullptr, false};
}

}  // namespace

// goyield lets the G in runnext run now, in this time slice, and runs the
// caller again later from this P's queue (Go's goyield): the second half
// of semrelease's hand-off.
void goyield() { mcall(goyield_m); }

//! [gopreempt]
// gopreempt yields because the time slice is over (Go's gopreempt_m, which
// does what gosched does: the G goes to the global queue). goro cannot
// interrupt a goroutine, so sysmon's request (p.preempt) is honoured where
// the runtime gets control: at go() and when a syscall returns, the caller
// yields here; at go() and goready, the G made runnable goes to the tail of
// the ring, not to runnext (runqput). A G that inherits an expired slice
// from runnext inherits the request too. A goroutine that calls none of
// these keeps its P, as in Go before 1.14.
void gopreempt() { mcall(gosched_m); }
//! [gopreempt]

// goready makes a parked G runnable on the current P, in runnext, and wakes
// an idle P to steal if there is one (Go's ready).
void goready(g* gp) {
  casgstatus(gp, gstatus::_Gwaiting, gstatus::_Grunnable);
  gp->waitreason.store(wait_reason::none, std::memory_order_relaxed);
  runqput(getm()->p, gp, true);
  wakep();
}

const char* to_string(wait_reason r) {
  switch (r) {
    case wait_reason::none: return "";
    case wait_reason::sleep: return "sleep";
    case wait_reason::chan_receive: return "chan receive";
    case wait_reason::chan_send: return "chan send";
    case wait_reason::chan_receive_nil: return "chan receive (nil chan)";
    case wait_reason::chan_send_nil: return "chan send (nil chan)";
    case wait_reason::select: return "select";
    case wait_reason::select_no_cases: return "select (no cases)";
    case wait_reason::semacquire: return "semacquire";
  }
  return "?";
}

}  // namespace goro::runtime

