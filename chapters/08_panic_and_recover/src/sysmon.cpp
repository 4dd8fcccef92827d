// sysmon.cpp: the system monitor, a thread without a P that watches the
// others, after Go's runtime/proc.go (sysmon, retake, preemptone,
// schedtrace). Chapter 04.
//
// Nothing in the scheduler notices that an M has been stuck in a syscall
// for a while, or that a goroutine has held its P for too long: the M in
// question is busy. So Go runs one thread outside the scheduler, with no P,
// that looks at every P periodically. It sleeps 20 us between looks while
// it finds things to do, backs off to 10 ms when it does not, and sleeps
// deeply while every P is idle. On each look, retake takes back a P whose
// M has been in the same syscall since the previous look (at least 20 us)
// and hands it to another M, and asks a goroutine that has run for 10 ms to
// yield.
//
// Go needs signals for the rest of preemption: a goroutine in a tight loop
// that calls nothing never reaches a point where it could notice the
// request, so since Go 1.14 sysmon also sends its thread SIGURG, and the
// handler redirects it into the scheduler. goro's goroutines are
// cooperative: the request is honoured where the runtime already has
// control, in go() and when a syscall returns (and gosched, sleep_for and
// every blocking operation yield anyway). A loop that calls none of these
// holds its P until it ends, as Go's did before 1.14 (golang/go#10958).
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "goro/common/clock.hpp"
#include "goro/common/sanitizer.hpp"
#include "goro/common/trace.hpp"
#include "runtime.hpp"

namespace goro::runtime {

namespace {

// schedtrace prints Go's one-line summary of the scheduler
// (runtime.schedtrace). threads= counts sysmon's thread, as Go's does.
void schedtrace() {
  std::string line = "SCHED " +
      std::to_string((common::nanotime() - sched->start) / 1000000) + "ms: gomaxprocs=" +
      std::to_string(sched->allp.size()) + " idleprocs=" +
      std::to_string(sched->npidle.load()) + " threads=" +
      std::to_string(sched->mcount.load() + 1) + " spinningthreads=" +
      std::to_string(sched->nmspinning.load()) + " idlethreads=" +
      std::to_string(sched->nmidle.load()) + " runqueue=" +
      std::to_string(sched->runqsize.load()) + " [";
  for (std::size_t i = 0; i < sched->allp.size(); i++) {
    if (i > 0) line += ' ';
    line += std::to_string(runqlen(sched->allp[i].get()));
  }
  line += "]\n";
  std::fputs(line.c_str(), stderr);
}

//! [retake]
// retake looks at every P: a P whose G has run the same time slice for
// 10 ms gets a preemption request; a P whose M has been in the same
// syscall since the last look is taken and handed off. Returns how many Ps
// it took from syscalls.
int retake(std::int64_t now) {
  int n = 0;
  for (auto& pptr : sched->allp) {
    p* pp = pptr.get();
    sysmontick& pd = pp->sysmon;
    const pstatus s = pp->status.load(std::memory_order_acquire);
    bool sysretake = false;
    if (s == pstatus::_Prunning || s == pstatus::_Psyscall) {
      // Preempt G if it's running for too long.
      const std::uint32_t t = pp->schedtick.load(std::memory_order_relaxed);
      // (schedwhen 0: sysmon has not seen this P run yet. Without this,
      // a first look before the first slice would preempt it at once.)
      if (pd.schedtick != t || pd.schedwhen == 0) {
        pd.schedtick = t;
        pd.schedwhen = now;
      } else if (pd.schedwhen + forcePreemptNS <= now) {
        preemptone(pp);
        sysretake = true;  // a G in a syscall cannot respond: take its P
      }
    }
    if (s != pstatus::_Psyscall) continue;
    // Retake only after the P has been in the same syscall for a whole
    // sysmon tick (at least 20 us).
    const std::uint32_t t = pp->syscalltick.load(std::memory_order_relaxed);
    if (!sysretake && pd.syscalltick != t) {
      pd.syscalltick = t;
      pd.syscallwhen = now;
      continue;
    }
    // Nothing queued on it and someone else idle or spinning to take new
    // work: leave it for up to 10 ms, a syscall often returns that soon.
    if (runqempty(pp) &&
        sched->nmspinning.load() + sched->npidle.load() > 0 &&
        pd.syscallwhen + 10 * 1000 * 1000 > now) {
      continue;
    }
    pstatus expect = pstatus::_Psyscall;
    if (pp->status.compare_exchange_strong(expect, pstatus::_Pidle)) {
      n++;
      add_counter(pp->syscalltick, 1u);
      sched->nretake.fetch_add(1, std::memory_order_relaxed);
      if (common::trace::on.load(std::memory_order_relaxed)) {
        common::trace::record(-1, pp->id, 0, common::trace::ev::handoff);
      }
      handoffp(pp);
    }
  }
  return n;
}
//! [retake]

//! [sysmon]
// sysmon is the monitor's loop (Go's sysmon).
void sysmon() {
  const char* env = std::getenv("GORO_SCHEDTRACE");
  const std::int64_t trace_ns = env != nullptr ? std::strtol(env, nullptr, 10) * 1000000 : 0;
  std::int64_t lasttrace = 0;  // the first line at 0 ms, as Go's
  int idle = 0;        // how many cycles in a row found nothing to do
  std::int64_t delay = 0;  // microseconds
  for (;;) {
    if (idle == 0) {
      delay = 20;  // start with 20 us sleep...
    } else if (idle > 50) {
      delay *= 2;  // ...then double it after 1 ms of idleness
    }
    if (delay > 10 * 1000) delay = 10 * 1000;  // up to 10 ms
    if (sched->sysmonnote.tsleep(delay * 1000)) sched->sysmonnote.clear();
    if (sched->main_done.load(std::memory_order_acquire)) return;

    // Every P idle and no trace to print: sleep deeply, until the next
    // timer or until something wakes us (entersyscall, exitsyscall).
    if (trace_ns == 0 && sched->npidle.load() == static_cast<std::int32_t>(sched->allp.size())) {
      bool deep = false;
      {
        common::lock_guard l(sched->lock);
        if (sched->npidle.load() == static_cast<std::int32_t>(sched->allp.size()) &&
            !sched->main_done.load()) {
          sched->sysmonwait.store(true);
          deep = true;
        }
      }
      if (deep) {
        std::int64_t sleep = 60LL * 1000 * 1000 * 1000;  // forcegcperiod/2
        if (std::int64_t next = timeSleepUntil(); next != 0) {
          sleep = std::max<std::int64_t>(next - common::nanotime(), 0);
        }
        sched->sysmonnote.tsleep(sleep);
        {
          common::lock_guard l(sched->lock);
          sched->sysmonwait.store(false);
          sched->sysmonnote.clear();
        }
        idle = 0;
        delay = 20;
        if (sched->main_done.load(std::memory_order_acquire)) return;
      }
    }

    const std::int64_t now = common::nanotime();
    if (retake(now) != 0) {
      idle = 0;
    } else {
      idle++;
    }
    if (trace_ns > 0 && (lasttrace == 0 || now - lasttrace >= trace_ns)) {
      lasttrace = now;
      schedtrace();
    }
  }
}
//! [sysmon]

}  // namespace

// preemptone asks the G running on pp to yield at its next chance. Go's
// sets gp.preempt (and poisons its stack guard) and pp.preempt (and sends
// a signal); goro sets only the P's flag, which sysmon can reach without
// racing the M for its current G. A request that arrives as the G leaves
// is cleared when the P starts the next one.
void preemptone(p* pp) { pp->preempt.store(true, std::memory_order_relaxed); }

// sysmon_wake wakes sysmon from any sleep; a hint that several threads may
// give at once, so a second one is dropped, not an error.
void sysmon_wake() { sched->sysmonnote.try_wakeup(); }

// sysmon_start starts sysmon's thread (Go: newm(sysmon, nil) in main).
void sysmon_start() { sched->sysmon = std::thread(sysmon); }

// sysmon_stop waits for sysmon to notice the end (wake_all_for_exit woke
// it) and prints a last schedtrace line if tracing.
void sysmon_stop() {
  if (sched->sysmon.joinable()) sched->sysmon.join();
  if (std::getenv("GORO_SCHEDTRACE") != nullptr) schedtrace();
}

}  // namespace goro::runtime
