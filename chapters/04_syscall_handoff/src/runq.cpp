// runq.cpp: the run queues, after Go's runtime/proc.go (runqput,
// runqputslow, runqget, globrunqput, globrunqget). Chapter 02; chapter 05
// makes the local queue Go's lock-free ring.
//
// Each P has its own queue of runnable Gs, which only its M touches, so
// most scheduling takes no lock. The global queue, under sched.lock, is
// where Gs go that any P may take: goroutines that yielded, and the
// overflow of a full local queue.
#include "runtime.hpp"

namespace goro::runtime {

//! [runqput]
// runqput puts gp at the tail of pp's local run queue; only pp's M calls
// it. The queue holds at most 256 Gs, as Go's does: past that, runqputslow
// moves half of it to the global queue, where every P can take them and
// where they wait in order with goroutines that yielded.
void runqput(p* pp, g* gp) {
  if (pp->runq.size() < runq_capacity) {
    pp->runq.push_back(gp);
    add_counter(pp->runqsize, 1);
    return;
  }
  runqputslow(pp, gp);
}
//! [runqput]

// runqputslow moves the older half of pp's full local queue, and gp after
// them, to the global queue in one acquisition of sched.lock.
void runqputslow(p* pp, g* gp) {
  gQueue batch;
  const std::size_t n = pp->runq.size() / 2;
  for (std::size_t i = 0; i < n; i++) batch.push_back(pp->runq.pop());
  add_counter(pp->runqsize, -static_cast<std::int32_t>(n));
  batch.push_back(gp);
  common::lock_guard l(sched->lock);
  add_counter(sched->runqsize, static_cast<std::int32_t>(batch.size()));
  sched->runq.push_back_all(batch);
}

// runqget takes the head of pp's local run queue, or nullptr. Only pp's M
// calls it.
g* runqget(p* pp) {
  g* gp = pp->runq.pop();
  if (gp != nullptr) add_counter(pp->runqsize, -1);
  return gp;
}

// globrunqput puts gp at the tail of the global run queue. sched.lock held.
void globrunqput(g* gp) {
  sched->runq.push_back(gp);
  add_counter(sched->runqsize, 1);
}

// globrunqget takes a batch from the global queue for pp: its fair share
// (size/gomaxprocs + 1), at most `max` if max > 0, at most 128. Returns
// the first and puts the rest on pp's local queue. sched.lock held.
g* globrunqget(p* pp, int max) {
  int size = sched->runqsize.load(std::memory_order_relaxed);
  if (size == 0) return nullptr;
  int n = size / static_cast<int>(sched->allp.size()) + 1;
  if (n > size) n = size;
  if (max > 0 && n > max) n = max;
  if (n > static_cast<int>(runq_capacity / 2)) n = static_cast<int>(runq_capacity / 2);
  add_counter(sched->runqsize, -n);
  g* gp = sched->runq.pop();
  while (--n > 0) runqput(pp, sched->runq.pop());
  return gp;
}

}  // namespace goro::runtime
