// waitq.cpp: a channel's queues of waiting goroutines, after Go's waitq
// (enqueue, dequeue in chan.go; dequeueSudoG in select.go). Chapter 06.
//
// A waitq is a FIFO of sudogs, doubly linked so that a select can take its
// sudogs out of the middle of a queue. Everything here runs under the
// channel's lock; only `first` is also read without it, by the fast paths.
#include "runtime.hpp"

namespace goro::runtime {

void waitq::enqueue(sudog* sgp) {
  sgp->next = nullptr;
  sudog* x = last;
  if (x == nullptr) {
    sgp->prev = nullptr;
    first.store(sgp, std::memory_order_relaxed);
    last = sgp;
    return;
  }
  sgp->prev = x;
  x->next = sgp;
  last = sgp;
}

//! [dequeue]
// dequeue takes the first sudog, skipping those of a select that another
// case has won already: between being woken by one case and relocking all
// its channels to leave the others, a select's sudogs are still queued.
sudog* waitq::dequeue() {
  for (;;) {
    sudog* sgp = first.load(std::memory_order_relaxed);
    if (sgp == nullptr) return nullptr;
    sudog* y = sgp->next;
    if (y == nullptr) {
      first.store(nullptr, std::memory_order_relaxed);
      last = nullptr;
    } else {
      y->prev = nullptr;
      first.store(y, std::memory_order_relaxed);
      sgp->next = nullptr;  // mark as removed (see dequeueSudoG)
    }
    std::uint32_t zero = 0;
    if (sgp->isSelect && !sgp->g->selectDone.compare_exchange_strong(zero, 1)) continue;
    return sgp;
  }
}
//! [dequeue]

// dequeueSudoG unlinks sgp, if it is still in the queue (Go's, in
// select.go): a select's losing cases leave their channels this way.
void waitq::dequeueSudoG(sudog* sgp) {
  sudog* x = sgp->prev;
  sudog* y = sgp->next;
  if (x != nullptr) {
    if (y != nullptr) {  // middle of the queue
      x->next = y;
      y->prev = x;
      sgp->next = nullptr;
      sgp->prev = nullptr;
      return;
    }
    x->next = nullptr;  // end of the queue
    last = x;
    sgp->prev = nullptr;
    return;
  }
  if (y != nullptr) {  // start of the queue
    y->prev = nullptr;
    first.store(y, std::memory_order_relaxed);
    sgp->next = nullptr;
    return;
  }
  // Neither neighbour: sgp is the only one in the queue, or not in it.
  if (first.load(std::memory_order_relaxed) == sgp) {
    first.store(nullptr, std::memory_order_relaxed);
    last = nullptr;
  }
}

// chan_drop_waiters takes an abandoned G's sudogs off their channels at the
// end of run(): a channel may outlive the runtime (made outside run(), or
// used by the next run()), and must not keep a dead goroutine's slot.
void chan_drop_waiters(g* gp) {
  for (sudog* sg = gp->waiting; sg != nullptr; sg = sg->waitlink) {
    hchan* c = sg->c;
    if (c == nullptr) continue;
    common::lock_guard l(c->lock);
    for (waitq* q : {&c->recvq, &c->sendq}) {
      for (sudog* s = q->first.load(std::memory_order_relaxed); s != nullptr; s = s->next) {
        if (s == sg) {
          q->dequeueSudoG(sg);
          break;
        }
      }
    }
  }
  gp->waiting = nullptr;
}

}  // namespace goro::runtime
