// checkdead.cpp: deadlock detection, after Go's checkdead (runtime/proc.go)
// and the goroutine headers of its traceback (goroutineheader,
// tracebackothers in runtime/traceback.go). Chapter 06.
//
// Once goroutines wait for each other, a program can stop with all of them
// waiting. Go notices at the moment the last M goes idle: if no M runs
// anything (none is running a goroutine, looking for work, in a syscall, or
// waiting for a timer), yet goroutines exist, and no timer is pending to
// wake one, nothing can ever run again. It then prints every goroutine and
// exits with status 2. Only a deadlock of the whole program is found: a
// few goroutines blocked forever while others run are not.
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include "goro/common/fatal.hpp"
#include "runtime.hpp"

namespace goro::runtime {

namespace {

// The name of a status, as Go's gStatusStrings has it.
const char* status_string(gstatus s) {
  switch (s) {
    case gstatus::_Gidle: return "idle";
    case gstatus::_Grunnable: return "runnable";
    case gstatus::_Grunning: return "running";
    case gstatus::_Gsyscall: return "syscall";
    case gstatus::_Gwaiting: return "waiting";
    case gstatus::_Gdead: return "dead";
  }
  return "???";
}

}  // namespace

//! [checkdead]
// checkdead ends the program if it is deadlocked (Go's checkdead). Called
// by mput, with sched.lock held, each time an M goes idle.
void checkdead() {
  if (exiting()) return;  // main returned: the program is ending anyway
  const int run = sched->mcount.load() - sched->nmidle.load();
  if (run > 0) return;
  if (run < 0) common::throw_("checkdead: inconsistent counts");

  // Every M is idle. Then no G may be runnable: an M would be running it.
  std::vector<std::pair<long, wait_reason>> waiting;
  {
    common::lock_guard l(sched->allglock);
    for (auto& gp : sched->allgs) {
      const gstatus s = gp->atomicstatus.load();
      if (s == gstatus::_Gwaiting) {
        waiting.emplace_back(gp->goid, gp->waitreason.load(std::memory_order_relaxed));
      } else if (s == gstatus::_Grunnable || s == gstatus::_Grunning || s == gstatus::_Gsyscall) {
        char buf[24];
        common::write_err("runtime: checkdead: find g ");
        common::write_err(common::format_long(gp->goid, buf));
        common::write_err(" in status ");
        common::write_err(status_string(s));
        common::write_err("\n");
        common::throw_("checkdead: runnable g");
      }
    }
  }
  if (waiting.empty()) common::fatal("no goroutines (main called runtime.Goexit) - deadlock!");

  // A pending timer will wake somebody (a sleeper, or after()'s channel).
  for (auto& pp : sched->allp) {
    if (pp->timer0When.load(std::memory_order_relaxed) != 0) return;
  }

  // Go's fatal, then every goroutine's header as its traceback begins
  // (goroutineheader); goro has no stack frames to print under them.
  std::sort(waiting.begin(), waiting.end());
  std::string out = "fatal error: all goroutines are asleep - deadlock!\n";
  for (auto [goid, reason] : waiting) {
    char buf[24];
    out += "\ngoroutine ";
    out += common::format_long(goid, buf);
    out += " [";
    out += to_string(reason);
    out += "]:\n";
  }
  std::fflush(nullptr);
  common::write_err(out.c_str());
  _exit(2);
}
//! [checkdead]

}  // namespace goro::runtime
