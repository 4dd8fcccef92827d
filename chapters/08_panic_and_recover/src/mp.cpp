// mp.cpp: Ms and Ps: making, parking and waking threads, and handing Ps
// between them, after Go's runtime/proc.go (newm, mstart, startm, stopm,
// wakep, handoffp, acquirep, releasep, pidleput, pidleget, mput, mget).
// Chapter 03; handoffp joins in chapter 04.
//
// Go's rule for threads: enough running Ms to use every P that has work,
// and no more. An M that finds nothing to do gives its P back and parks on
// its note; it does not spin forever or poll on a timer. Waking one is
// wakep's job, and it wakes at most one at a time: if an M is already
// "spinning" (awake, looking for work) it will find the new work, or wake
// another when it takes some (resetspinning). The cost of this economy is a
// delicate protocol between the M that submits work and the M that is about
// to park, spelled out where each side does its part (wakep, findRunnable).
#include <cerrno>
#include <system_error>

#include "goro/common/fatal.hpp"
#include "goro/common/stack.hpp"
#include "runtime.hpp"

namespace goro::runtime {

// acquirep associates pp with mp (Go's acquirep/wirep). pp must be idle.
void acquirep(m* mp, p* pp) {
  if (mp->p != nullptr) common::throw_("wirep: already in go");
  if (pp->m != nullptr || pp->status != pstatus::_Pidle) {
    common::throw_("wirep: invalid p state");
  }
  mp->p = pp;
  pp->m = mp;
  pp->status = pstatus::_Prunning;
}

// releasep disassociates mp from its P and returns the P (Go's releasep).
p* releasep(m* mp) {
  p* pp = mp->p;
  if (pp == nullptr || pp->m != mp || pp->status != pstatus::_Prunning) {
    common::throw_("releasep: invalid p state");
  }
  mp->p = nullptr;
  pp->m = nullptr;
  pp->status = pstatus::_Pidle;
  return pp;
}

// pidleput puts an idle P on the idle list. sched.lock held. Its run queue
// must be empty: a P with work is never idle.
void pidleput(p* pp) {
  if (!runqempty(pp)) {
    common::throw_("pidleput: P has non-empty run queue");
  }
  pp->link = sched->pidle;
  sched->pidle = pp;
  add_counter(sched->npidle, 1);
}

// pidleget takes a P off the idle list, or returns nullptr. sched.lock held.
p* pidleget() {
  p* pp = sched->pidle;
  if (pp != nullptr) {
    sched->pidle = pp->link;
    pp->link = nullptr;
    add_counter(sched->npidle, -1);
  }
  return pp;
}

// mput puts an M on the idle list. sched.lock held. If that was the last
// M at work, the program may be deadlocked (checkdead).
void mput(m* mp) {
  mp->schedlink = sched->midle;
  sched->midle = mp;
  add_counter(sched->nmidle, 1);
  checkdead();
}

// mget takes an M off the idle list, or returns nullptr. sched.lock held.
m* mget() {
  m* mp = sched->midle;
  if (mp != nullptr) {
    sched->midle = mp->schedlink;
    mp->schedlink = nullptr;
    add_counter(sched->nmidle, -1);
  }
  return mp;
}

// mstart is the body of every M's thread but m0's (Go's mstart/mstart1):
// take the P it was given and run the scheduler until main returns.
void mstart(m* mp) {
  setm(mp);
  common::init_thread_context(mp->g0);
  common::signal_stack altstack;
  bool run = false;
  {
    common::lock_guard l(sched->lock);
    run = !exiting();
  }
  if (run) {
    acquirep(mp, mp->nextp);
    mp->nextp = nullptr;
    schedule();
  }
  setm(nullptr);
}

namespace {

// newosproc_failed ends the program when the OS refuses a thread, with
// Go's words (newosproc): pp was promised to the new M, and a spinning M
// may have been counted, so the scheduler cannot go on without it.
[[noreturn]] void newosproc_failed(const std::system_error& e) {
  char have[24], err[24];
  common::write_err("runtime: failed to create new OS thread (have ");
  common::write_err(common::format_long(sched->mcount.load(), have));
  common::write_err(" already; errno=");
  common::write_err(common::format_long(e.code().value(), err));
  common::write_err(")\n");
  if (e.code().value() == EAGAIN) {
    common::write_err("runtime: may need to increase max user processes (ulimit -u)\n");
  }
  common::fatal("newosproc");
}

}  // namespace

// newm makes a new M, with its own thread, to run pp (Go's newm).
// sched.lock held: run() joins every thread in allm, and takes the lock to
// list them, so a thread is never made unseen.
void newm(p* pp, bool spinning) {
  sched->allm.push_back(std::make_unique<m>());
  m* mp = sched->allm.back().get();
  mp->id = static_cast<long>(sched->allm.size()) - 1;
  mp->fastrand = 0x9e3779b9u * static_cast<std::uint32_t>(mp->id + 1);
  mp->nextp = pp;
  mp->spinning = spinning;
  add_counter(sched->mcount, 1);
  try {
    mp->thread = std::thread(mstart, mp);
  } catch (const std::system_error& e) {
    newosproc_failed(e);
  }
}

// stopm parks the current M, which holds no P, on the idle list until
// startm hands it a P (in m.nextp) and wakes it (Go's stopm). On return
// the M holds that P, or none if it was woken because main returned.
void stopm(m* mp) {
  if (mp->p != nullptr) common::throw_("stopm holding p");
  if (mp->spinning) common::throw_("stopm spinning");
  {
    common::lock_guard l(sched->lock);
    if (exiting()) return;
    mput(mp);
  }
  mp->park.sleep();
  mp->park.clear();
  if (mp->nextp != nullptr) {
    acquirep(mp, mp->nextp);
    mp->nextp = nullptr;
  }
}

// startm gets an M running pp: an idle one, woken, or a new one. With pp
// nullptr it takes an idle P, and does nothing if there is none. If
// `spinning`, the caller has counted the M in nmspinning already (Go's
// startm). Once main has returned it starts nothing, and pp stays off
// every list with whatever it has queued: the program is over.
void startm(p* pp, bool spinning) {
  m* nmp = nullptr;
  {
    common::lock_guard l(sched->lock);
    if (!exiting() && pp == nullptr) pp = pidleget();
    if (exiting() || pp == nullptr) {
      // The caller counted a spinning M that will not exist: undo it.
      if (spinning) sched->nmspinning.fetch_sub(1);
      return;
    }
    nmp = mget();
    if (nmp == nullptr) {
      newm(pp, spinning);
      return;
    }
  }
  nmp->spinning = spinning;
  nmp->nextp = pp;
  nmp->park.wakeup();  // publishes nextp to the M
}

//! [wakep]
// wakep starts an M to run an idle P, if there is an idle P and no M is
// already spinning (Go's wakep). Called after putting work where any P can
// take it. The submitter's half of the protocol: publish the work first,
// then look at nmspinning. A spinning M that is about to park decrements
// nmspinning first, then looks at the queues again. One of the two always
// sees the other (both orders are sequentially consistent), so work is
// never left with every M asleep.
void wakep() {
  if (sched->npidle.load(std::memory_order_seq_cst) == 0) return;
  std::int32_t zero = 0;
  if (sched->nmspinning.load(std::memory_order_seq_cst) != 0 ||
      !sched->nmspinning.compare_exchange_strong(zero, 1)) {
    return;
  }
  startm(nullptr, true);
}
//! [wakep]

// resetspinning: the M found work and stops spinning. If it was the last
// spinner, it wakes another, so that more work, if there is any, is found
// (Go's resetspinning).
void resetspinning(m* mp) {
  mp->spinning = false;
  if (sched->nmspinning.fetch_sub(1) - 1 < 0) {
    common::throw_("findrunnable: negative nmspinning");
  }
  wakep();
}

//! [stop_spinning]
// stop_spinning is the other half of the protocol, for an M that was
// spinning and found nothing, and has given its P back: it must stop
// spinning (decrement nmspinning) before it parks, then look again
// wherever work may have appeared (every busy P's queue, the global
// queue): work submitted after its last look but before the decrement saw
// nmspinning > 0 and woke nobody. If there is some, it takes an idle P
// and spins again, and returns true. Every load after the decrement is
// sequentially consistent, as Go's atomics are: an acquire load could be
// ordered before the decrement.
bool stop_spinning(m* mp) {
  mp->spinning = false;
  if (sched->nmspinning.fetch_sub(1, std::memory_order_seq_cst) - 1 < 0) {
    common::throw_("findrunnable: negative nmspinning");
  }
  p* pp = checkRunqsNoP();
  if (pp == nullptr && sched->runqsize.load(std::memory_order_seq_cst) != 0) {
    common::lock_guard l(sched->lock);
    pp = pidleget();
  }
  if (pp == nullptr) return false;
  acquirep(mp, pp);
  mp->spinning = true;
  sched->nmspinning.fetch_add(1);
  return true;
}
//! [stop_spinning]

//! [handoffp]
// handoffp gives away a P whose M cannot use it (its M is in a syscall):
// to a new or idle M if there is anything for the P to do, else to the
// idle list (Go's handoffp). The rule: start an M in any situation where
// findRunnable would find a G to run on pp.
void handoffp(p* pp) {
  // Local or global work: start an M for it right away.
  if (!runqempty(pp) || sched->runqsize.load() != 0) {
    startm(pp, false);
    return;
  }
  // No work, and nobody spinning or idle to notice new work: this P must
  // look for some.
  std::int32_t zero = 0;
  if (sched->nmspinning.load() + sched->npidle.load() == 0 &&
      sched->nmspinning.compare_exchange_strong(zero, 1)) {
    startm(pp, true);
    return;
  }
  std::int64_t when = 0;
  {
    common::lock_guard l(sched->lock);
    if (sched->runqsize.load() == 0) {
      when = pp->timer0When.load();
      pidleput(pp);
      pp = nullptr;
    }
  }
  if (pp != nullptr) {
    startm(pp, false);
    return;
  }
  // An idle P with timers needs an M to wait for them (Go: wakeNetPoller).
  if (when != 0) wake_timer_sleeper(when);
}
//! [handoffp]

// wake_all_for_exit marks the program finished and wakes every parked M,
// the timer sleeper and sysmon, so each returns.
void wake_all_for_exit() {
  common::lock_guard l(sched->lock);
  sched->main_done.store(true, std::memory_order_release);
  while (m* mp = mget()) mp->park.wakeup();
  if (sched->timerm != nullptr) {
    sched->timerm->park.wakeup();
    sched->timerm = nullptr;
  }
  sysmon_wake();
}

}  // namespace goro::runtime
