// syscall.cpp: entering and leaving a blocking call without taking the P
// down with it, after Go's runtime/proc.go (entersyscall, exitsyscall,
// exitsyscallfast, exitsyscall0). Chapter 04.
//
// The article's second scenario. An M that blocks in the kernel (a read, a
// sleep, a lock of the OS) cannot run goroutines, but its P could. So
// before the call the M detaches the P (it stays tied to the M, in state
// _Psyscall) and afterwards tries to take it back. Meanwhile sysmon, if it
// sees the same syscall across one of its ticks, takes the P (retake) and
// hands it to another M (handoffp), and the other goroutines keep running.
// When the call returns the M needs a P again: its own if nobody took it,
// else any idle one (the fast paths); else its G goes to the global queue
// and the M goes to sleep on the idle list, the thread cache (the slow
// path). This is Go 1.19's algorithm; Go has since reworked it so that the
// P stays wired to the M and sysmon steals it with the G's scan bit.
#include "goro/common/fatal.hpp"
#include "goro/common/trace.hpp"
#include "goro/goro.hpp"
#include "runtime.hpp"

namespace goro::runtime {

//! [entersyscall]
// entersyscall: the running G is about to block its thread. Its P goes to
// _Psyscall, still remembered by the M (m.oldp), free for sysmon to take.
void entersyscall() {
  m* mp = getm();
  g* gp = mp->curg;
  p* pp = mp->p;
  casgstatus(gp, gstatus::_Grunning, gstatus::_Gsyscall);
  if (common::trace::on.load(std::memory_order_relaxed)) {
    common::trace::record(static_cast<int>(mp->id), pp->id, gp->goid, common::trace::ev::syscall);
  }
  mp->syscalltick = pp->syscalltick.load(std::memory_order_relaxed);
  pp->m = nullptr;
  mp->oldp = pp;
  mp->p = nullptr;
  pp->status.store(pstatus::_Psyscall, std::memory_order_release);
  // A sysmon in deep sleep would never retake the P: wake it.
  if (sched->sysmonwait) sysmon_wake();
}
//! [entersyscall]

namespace {

//! [exitsyscallfast]
// exitsyscallfast tries to get a P without a switch: the old one, if sysmon
// has not taken it, else an idle one.
bool exitsyscallfast(m* mp, p* oldp) {
  pstatus s = pstatus::_Psyscall;
  if (oldp != nullptr && oldp->status.compare_exchange_strong(s, pstatus::_Pidle)) {
    acquirep(mp, oldp);  // nobody took it: wire it back
    return true;
  }
  if (sched->npidle.load() != 0) {  // exitsyscallfast_pidle
    p* pp = nullptr;
    {
      common::lock_guard l(sched->lock);
      pp = pidleget();
      if (pp != nullptr && sched->sysmonwait) sysmon_wake();
    }
    if (pp != nullptr) {
      acquirep(mp, pp);
      return true;
    }
  }
  return false;
}
//! [exitsyscallfast]

//! [exitsyscall0]
// exitsyscall0 is the slow path, on g0: no P to be had. The G goes to the
// global queue and this M to the idle list (the article: the goroutine is
// put on the global run queue and its thread goes to sleep in the thread
// cache), unless a P came free in the meantime: then the G runs on it, in
// a new time slice.
std::pair<g*, bool> exitsyscall0(g* gp) {
  m* mp = getm();
  casgstatus(gp, gstatus::_Gsyscall, gstatus::_Grunnable);
  dropg(mp);
  p* pp = nullptr;
  {
    common::lock_guard l(sched->lock);
    pp = pidleget();
    if (pp == nullptr) {
      globrunqput(gp);
    } else if (sched->sysmonwait.load()) {
      sysmon_wake();  // a P is busy again: sysmon must watch it (as Go does)
    }
  }
  if (pp != nullptr) {
    acquirep(mp, pp);
    return {gp, false};  // Go: execute(gp, false)
  }
  stopm(mp);  // parked until startm hands us a P; then schedule
  return {nullptr, false};
}
//! [exitsyscall0]

}  // namespace

// exitsyscall: the blocking call returned; get a P to go on running.
void exitsyscall() {
  m* mp = getm();
  g* gp = mp->curg;
  p* oldp = mp->oldp;
  mp->oldp = nullptr;
  // Main returned while we were blocked: this goroutine is left behind, and
  // its fast path would run it on for ever (sysmon has quit).
  if (exiting()) abandon();
  if (exitsyscallfast(mp, oldp)) {
    p* pp = mp->p;
    add_counter(pp->syscalltick, 1u);
    casgstatus(gp, gstatus::_Gsyscall, gstatus::_Grunning);
    sched->nexitsyscallfast.fetch_add(1, std::memory_order_relaxed);
    // Asked to yield while in the call: do it now.
    if (pp->preempt.load(std::memory_order_relaxed)) gopreempt();
    return;
  }
  sched->nexitsyscallslow.fetch_add(1, std::memory_order_relaxed);
  mcall(exitsyscall0);
}

}  // namespace goro::runtime

namespace goro::detail {

void entersyscall(const char* what) {
  check_goroutine(what);
  if (runtime::exiting()) runtime::abandon();  // left behind by main
  runtime::entersyscall();
}

void exitsyscall() noexcept { runtime::exitsyscall(); }

}  // namespace goro::detail
