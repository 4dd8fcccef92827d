// select.cpp: the select statement, after Go's runtime/select.go
// (selectgo, sellock, selunlock, selparkcommit, block). Chapter 06.
//
// selectgo runs in three passes over its cases, holding the locks of all
// their channels:
//
//   pass 1: in a random order, look for a case that can go on now, and do
//           it, as chansend or chanrecv would;
//   pass 2: if none can (and there is no default), put a sudog on every
//           channel's queue, all for this one G, and park;
//   pass 3: woken by the case that completed (it won the G's selectDone),
//           lock everything again and take the other sudogs back.
//
// The random poll order makes the choice among ready cases uniform. The
// locks are taken in order of channel address, and each channel once, so
// that two selects over the same channels cannot deadlock each other.
#include "goro/common/fatal.hpp"
#include "runtime.hpp"

namespace goro::runtime {

namespace {

using detail::scase;

// fastrandn is a random number in [0, n) (Go's fastrandn: Lemire's
// multiply-shift, no division).
std::uint32_t fastrandn(std::uint32_t n) {
  return static_cast<std::uint32_t>((std::uint64_t{fastrand(getm())} * n) >> 32);
}

// The key by which channels are locked: their address (Go's sortkey).
std::uintptr_t sortkey(hchan* c) { return reinterpret_cast<std::uintptr_t>(c); }

//! [sellock]
// sellock locks the channels of the cases in lock order, each once (the
// same channel in several cases is adjacent in lock order).
void sellock(scase* scases, const std::uint16_t* lockorder, int n) GORO_NO_THREAD_SAFETY_ANALYSIS {
  hchan* c = nullptr;
  for (int i = 0; i < n; i++) {
    hchan* c0 = scases[lockorder[i]].c;
    if (c0 != c) {
      c = c0;
      c->lock.lock();
    }
  }
}

// selunlock unlocks them in reverse order. It must not touch the cases
// after the last unlock: once that is done, the G may be woken, run on
// another M, return from select and free them.
void selunlock(scase* scases, const std::uint16_t* lockorder, int n) GORO_NO_THREAD_SAFETY_ANALYSIS {
  for (int i = n - 1; i >= 0; i--) {
    hchan* c = scases[lockorder[i]].c;
    if (i > 0 && c == scases[lockorder[i - 1]].c) continue;  // unlocked next time round
    c->lock.unlock();
  }
}
//! [sellock]

// What send and recv need to unlock a select's channels.
struct selunlock_args {
  scase* scases;
  const std::uint16_t* lockorder;
  int n;
};
void selunlock_fn(void* arg) {
  auto* a = static_cast<selunlock_args*>(arg);
  selunlock(a->scases, a->lockorder, a->n);
}

//! [selparkcommit]
// selparkcommit is gopark's unlock function for a select: the G is
// _Gwaiting with a sudog on every channel; unlock them all. gp->waiting
// lists the sudogs in lock order, so each channel is unlocked after its
// last sudog. It reads only sudogs, never the select's cases: those are on
// the G's stack, which may be running elsewhere once the first channel is
// unlocked.
bool selparkcommit(g* gp, void*) GORO_NO_THREAD_SAFETY_ANALYSIS {
  hchan* lastc = nullptr;
  for (sudog* sg = gp->waiting; sg != nullptr; sg = sg->waitlink) {
    if (sg->c != lastc && lastc != nullptr) lastc->lock.unlock();
    lastc = sg->c;
  }
  if (lastc != nullptr) lastc->lock.unlock();
  return true;
}
//! [selparkcommit]

// make_orders fills pollorder with a random permutation of the cases that
// have a channel (inside-out Fisher-Yates), and lockorder with the same
// cases sorted by channel address (heap sort: n log n, no recursion, no
// extra space). Returns how many cases there are in each.
int make_orders(scase* scases, int ncases, std::uint16_t* pollorder,
                std::uint16_t* lockorder) {
  int norder = 0;
  for (int i = 0; i < ncases; i++) {
    if (scases[i].c == nullptr) {  // a nil channel is never ready
      scases[i].elem = nullptr;
      continue;
    }
    const std::uint32_t j = fastrandn(static_cast<std::uint32_t>(norder + 1));
    pollorder[norder] = pollorder[j];
    pollorder[j] = static_cast<std::uint16_t>(i);
    norder++;
  }
  for (int i = 0; i < norder; i++) {
    int j = i;
    // Start from the poll order, so that cases on one channel are permuted.
    hchan* c = scases[pollorder[i]].c;
    while (j > 0 && sortkey(scases[lockorder[(j - 1) / 2]].c) < sortkey(c)) {
      const int k = (j - 1) / 2;
      lockorder[j] = lockorder[k];
      j = k;
    }
    lockorder[j] = pollorder[i];
  }
  for (int i = norder - 1; i >= 0; i--) {
    const std::uint16_t o = lockorder[i];
    hchan* c = scases[o].c;
    lockorder[i] = lockorder[0];
    int j = 0;
    for (;;) {
      int k = j * 2 + 1;
      if (k >= i) break;
      if (k + 1 < i && sortkey(scases[lockorder[k]].c) < sortkey(scases[lockorder[k + 1]].c)) k++;
      if (sortkey(c) < sortkey(scases[lockorder[k]].c)) {
        lockorder[j] = lockorder[k];
        j = k;
        continue;
      }
      break;
    }
    lockorder[j] = o;
  }
  return norder;
}

}  // namespace

//! [selectgo]
// selectgo: see the top of the file. Cases [0, nsends) send, the rest
// receive. Returns the case done and, for a receive, whether a value came
// (false: the channel was closed); {-1, false} if none was ready and
// !block.
std::pair<int, bool> selectgo(scase* scases, std::uint16_t* order0, int nsends, int nrecvs,
                              bool block) GORO_NO_THREAD_SAFETY_ANALYSIS {
  const int ncases = nsends + nrecvs;
  std::uint16_t* pollorder = order0;
  std::uint16_t* lockorder = order0 + ncases;
  const int norder = make_orders(scases, ncases, pollorder, lockorder);
  selunlock_args unlock{scases, lockorder, norder};

  sellock(scases, lockorder, norder);

  // Pass 1: is a case ready now?
  for (int o = 0; o < norder; o++) {
    const int casi = pollorder[o];
    scase* cas = &scases[casi];
    hchan* c = cas->c;
    if (casi >= nsends) {
      if (sudog* sg = c->sendq.dequeue()) {  // a sender waits
        recv(c, sg, cas->elem, selunlock_fn, &unlock);
        return {casi, true};
      }
      if (const std::size_t n = c->qcount.load(std::memory_order_relaxed); n > 0) {
        void* qp = c->chanbuf(c->recvx);  // a value is buffered
        c->elemtype->move_construct(cas->elem, qp);
        c->elemtype->destroy(qp);
        if (++c->recvx == c->dataqsiz) c->recvx = 0;
        c->qcount.store(n - 1, std::memory_order_relaxed);
        selunlock(scases, lockorder, norder);
        return {casi, true};
      }
      if (c->closed.load(std::memory_order_relaxed) != 0) {  // closed and drained
        selunlock(scases, lockorder, norder);
        return {casi, false};
      }
    } else {
      if (c->closed.load(std::memory_order_relaxed) != 0) {
        selunlock(scases, lockorder, norder);
        panic_runtime("send on closed channel");
      }
      if (sudog* sg = c->recvq.dequeue()) {  // a receiver waits
        send(c, sg, cas->elem, selunlock_fn, &unlock);
        return {casi, false};
      }
      if (const std::size_t n = c->qcount.load(std::memory_order_relaxed); n < c->dataqsiz) {
        c->elemtype->move_construct(c->chanbuf(c->sendx), cas->elem);  // room
        if (++c->sendx == c->dataqsiz) c->sendx = 0;
        c->qcount.store(n + 1, std::memory_order_relaxed);
        selunlock(scases, lockorder, norder);
        return {casi, false};
      }
    }
  }
  if (!block) {
    selunlock(scases, lockorder, norder);
    return {-1, false};
  }

  // Pass 2: a sudog on every channel, linked into gp->waiting in lock
  // order, then park.
  g* gp = getg();
  if (gp->waiting != nullptr) common::throw_("gp.waiting != nil");
  sudog** nextp = &gp->waiting;
  for (int o = 0; o < norder; o++) {
    const int casi = lockorder[o];
    scase* cas = &scases[casi];
    sudog* sg = acquireSudog();
    sg->g = gp;
    sg->isSelect = true;
    sg->elem = cas->elem;
    sg->c = cas->c;
    *nextp = sg;
    nextp = &sg->waitlink;
    if (casi < nsends) {
      cas->c->sendq.enqueue(sg);
    } else {
      cas->c->recvq.enqueue(sg);
    }
  }
  gp->param = nullptr;
  gopark(selparkcommit, nullptr, wait_reason::select);

  // Pass 3: woken; the case whose sudog is gp->param won. Leave the
  // others' queues, or they would pile up on quiet channels.
  sellock(scases, lockorder, norder);
  gp->selectDone.store(0, std::memory_order_relaxed);
  sudog* sg = static_cast<sudog*>(gp->param);
  gp->param = nullptr;
  int casi = -1;
  bool caseSuccess = false;
  sudog* sglist = gp->waiting;
  for (sudog* sg1 = gp->waiting; sg1 != nullptr; sg1 = sg1->waitlink) {
    sg1->isSelect = false;
    sg1->elem = nullptr;
    sg1->c = nullptr;
  }
  gp->waiting = nullptr;
  for (int o = 0; o < norder; o++) {
    const int k = lockorder[o];
    if (sg == sglist) {
      casi = k;  // dequeued already, by whoever woke us
      caseSuccess = sglist->success;
    } else if (k < nsends) {
      scases[k].c->sendq.dequeueSudoG(sglist);
    } else {
      scases[k].c->recvq.dequeueSudoG(sglist);
    }
    sudog* sgnext = sglist->waitlink;
    sglist->waitlink = nullptr;
    releaseSudog(sglist);
    sglist = sgnext;
  }
  if (casi < 0) common::throw_("selectgo: bad wakeup");
  selunlock(scases, lockorder, norder);
  if (casi < nsends && !caseSuccess) panic_runtime("send on closed channel");
  return {casi, casi >= nsends && caseSuccess};
}
//! [selectgo]

}  // namespace goro::runtime

namespace goro::detail {

std::pair<int, bool> selectgo(scase* cas0, std::uint16_t* order0, int nsends, int nrecvs,
                              bool block) {
  check_goroutine("select");
  const auto r = runtime::selectgo(cas0, order0, nsends, nrecvs, block);
  runtime::check_preempt();
  return r;
}

// block is `select {}` (Go's block): park, with nothing to wake us.
void block() {
  check_goroutine("select");
  runtime::gopark(nullptr, nullptr, runtime::wait_reason::select_no_cases);
  common::throw_("unreachable");
}

}  // namespace goro::detail
