// time.cpp: sleeping goroutines and the P's timers, after Go's
// runtime/time.go. Chapter 02.
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
// timeSleep. The timer is added only once the G is _Gwaiting, so it can never
// fire (and goready the G) before the G has parked.
bool resetForSleep(g* gp, void*) {
  getm()->p->timers.add(gp->when, gp);
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
// checkTimers and runtimer with goroutineReady) and returns the next
// deadline, or 0 if pp has no timers. Only pp's M calls it.
std::int64_t checkTimers(p* pp, std::int64_t now) {
  while (!pp->timers.empty() && pp->timers.next_when() <= now) {
    goready(pp->timers.pop().what);
  }
  return pp->timers.empty() ? 0 : pp->timers.next_when();
}

}  // namespace goro::runtime

namespace goro {

void sleep_for(std::chrono::nanoseconds d) {
  detail::check_goroutine("sleep_for");
  runtime::timeSleep(d.count());
}

}  // namespace goro
