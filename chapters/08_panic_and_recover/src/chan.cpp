// chan.cpp: channels, after Go's runtime/chan.go (makechan, chansend,
// chanrecv, closechan, send, recv, waitq). Chapter 06.
//
// A channel is a lock, a ring buffer and two queues of waiting goroutines
// (hchan). Every operation takes the lock, looks at the other side's queue
// first and at the buffer second, and parks only if neither can serve it:
//
//   send: a receiver waits -> hand the value straight to it (send)
//         room in the buffer -> put it there
//         otherwise           -> enqueue a sudog, park until a receiver
//                                takes the value (or close wakes us)
//   recv: a sender waits -> take its value (recv; from a full buffer, take
//                           the oldest and put the sender's in its place)
//         buffer not empty -> take the oldest
//         otherwise        -> enqueue a sudog, park until a sender hands
//                             us a value (or close wakes us)
//
// Whoever completes a parked partner's operation wakes it with goready,
// after releasing the channel's lock (Go: "do not ready a G while holding
// this lock"), and the partner, woken, finds its operation done. The
// lock-free fast paths only decide a non-blocking operation that cannot
// succeed (full, empty), as Go's do.
//
// Where goro differs: elements are C++ objects, moved (not copied byte for
// byte) and destroyed exactly once; a receive into a goroutine's stack
// builds the value in raw storage there. The channel counts its handles
// instead of waiting for a garbage collector.
#include <new>

#include "goro/common/fatal.hpp"
#include "runtime.hpp"

namespace goro::runtime {

namespace {

// full says whether a send would block (Go's full): no receiver waits on an
// unbuffered channel, or the buffer is full. Read without the lock: each
// word is read atomically, and the answer may be stale by the time it is
// used, which the callers allow for.
bool full(hchan* c) {
  if (c->dataqsiz == 0) return c->recvq.first.load(std::memory_order_relaxed) == nullptr;
  return c->qcount.load(std::memory_order_relaxed) == c->dataqsiz;
}

// empty says whether a receive would block (Go's empty).
bool empty(hchan* c) {
  if (c->dataqsiz == 0) return c->sendq.first.load(std::memory_order_relaxed) == nullptr;
  return c->qcount.load(std::memory_order_relaxed) == 0;
}

void unlock_chan(void* c) GORO_NO_THREAD_SAFETY_ANALYSIS { static_cast<hchan*>(c)->lock.unlock(); }

// chanparkcommit is gopark's unlock function for a channel operation: the
// G is _Gwaiting and on the channel's queue; now others may find it.
bool chanparkcommit(g*, void* chanLock) GORO_NO_THREAD_SAFETY_ANALYSIS {
  static_cast<common::mutex*>(chanLock)->unlock();
  return true;
}

// park_on parks the running G on c's queue q with a fresh sudog for ep:
// the blocking end of chansend and chanrecv. c is locked; gopark unlocks
// it. Returns whether the operation completed (sudog.success) rather than
// being woken by close.
bool park_on(hchan* c, waitq& q, void* ep, wait_reason reason) GORO_NO_THREAD_SAFETY_ANALYSIS {
  g* gp = getg();
  sudog* mysg = acquireSudog();
  mysg->elem = ep;
  mysg->waitlink = nullptr;
  mysg->g = gp;
  mysg->isSelect = false;
  mysg->c = c;
  gp->waiting = mysg;
  gp->param = nullptr;
  q.enqueue(mysg);
  gopark(chanparkcommit, &c->lock, reason);
  // Someone completed the operation, or closed the channel.
  if (mysg != gp->waiting) common::throw_("G waiting list is corrupted");
  gp->waiting = nullptr;
  const bool success = mysg->success;
  gp->param = nullptr;
  mysg->c = nullptr;
  releaseSudog(mysg);
  return success;
}

}  // namespace

// panic_runtime panics with one of the runtime's own errors (Go's
// panic(plainError(what))): a C++ exception, so that chapter 08 can
// recover it.
void panic_runtime(const char* what) { throw goro::runtime_error(what); }

//! [chansend]
// chansend sends the value at ep on c (Go's chansend): true once it is
// delivered or buffered; false if !block and it could not be at once.
// Panics if c is closed. A blocking send on a nil channel never returns.
bool chansend(hchan* c, void* ep, bool block) GORO_NO_THREAD_SAFETY_ANALYSIS {
  if (c == nullptr) {
    if (!block) return false;
    gopark(nullptr, nullptr, wait_reason::chan_send_nil);
    common::throw_("unreachable");
  }
  // Fast path: a non-blocking send on an open, full channel fails. If the
  // channel is closed meanwhile, it was still open and full when we looked
  // (a closed channel never becomes "not ready" for a send again).
  if (!block && c->closed.load(std::memory_order_relaxed) == 0 && full(c)) return false;

  c->lock.lock();
  if (c->closed.load(std::memory_order_relaxed) != 0) {
    c->lock.unlock();
    panic_runtime("send on closed channel");
  }
  if (sudog* sg = c->recvq.dequeue()) {
    // A receiver waits: the value goes straight to it, past the buffer.
    send(c, sg, ep, unlock_chan, c);
    return true;
  }
  if (c->qcount.load(std::memory_order_relaxed) < c->dataqsiz) {
    // Room in the buffer.
    c->elemtype->move_construct(c->chanbuf(c->sendx), ep);
    if (++c->sendx == c->dataqsiz) c->sendx = 0;
    c->qcount.store(c->qcount.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    c->lock.unlock();
    return true;
  }
  if (!block) {
    c->lock.unlock();
    return false;
  }
  // Block until a receiver takes the value, or close wakes us.
  if (!park_on(c, c->sendq, ep, wait_reason::chan_send)) {
    if (c->closed.load(std::memory_order_relaxed) == 0) common::throw_("chansend: spurious wakeup");
    panic_runtime("send on closed channel");
  }
  return true;
}
//! [chansend]

//! [send]
// send completes a send to the parked receiver sg (Go's send): the value
// moves from ep straight into the receiver's slot (on its stack), then
// unlockf(arg) releases the channel (or a select's channels), and only
// then is the receiver readied.
void send(hchan* c, sudog* sg, void* ep, void (*unlockf)(void*), void* arg)
    GORO_NO_THREAD_SAFETY_ANALYSIS {  // c is locked; unlockf unlocks it
  if (sg->elem != nullptr) {
    c->elemtype->move_construct(sg->elem, ep);  // Go's sendDirect
    sg->elem = nullptr;
  }
  g* gp = sg->g;
  unlockf(arg);
  gp->param = sg;
  sg->success = true;
  goready(gp);
}
//! [send]

// chanrecv receives from c into the raw slot ep (Go's chanrecv). Returns
// {selected, received}: selected is false only if !block and nothing was
// ready; received is false if c is closed and drained (nothing is built at
// ep then). A blocking receive on a nil channel never returns.
std::pair<bool, bool> chanrecv(hchan* c, void* ep, bool block) GORO_NO_THREAD_SAFETY_ANALYSIS {
  if (c == nullptr) {
    if (!block) return {false, false};
    gopark(nullptr, nullptr, wait_reason::chan_receive_nil);
    common::throw_("unreachable");
  }
  // Fast path: a non-blocking receive that finds nothing. The order of the
  // two looks matters: empty, then closed, then empty again, since a
  // channel may be filled and closed between them.
  if (!block && empty(c)) {
    if (c->closed.load(std::memory_order_acquire) == 0) return {false, false};
    if (empty(c)) return {true, false};
  }

  c->lock.lock();
  if (c->closed.load(std::memory_order_relaxed) != 0 &&
      c->qcount.load(std::memory_order_relaxed) == 0) {
    c->lock.unlock();
    return {true, false};
  }
  if (sudog* sg = c->sendq.dequeue()) {
    // A sender waits, so the buffer (if any) is full: see recv.
    recv(c, sg, ep, unlock_chan, c);
    return {true, true};
  }
  if (const std::size_t n = c->qcount.load(std::memory_order_relaxed); n > 0) {
    void* qp = c->chanbuf(c->recvx);
    c->elemtype->move_construct(ep, qp);
    c->elemtype->destroy(qp);
    if (++c->recvx == c->dataqsiz) c->recvx = 0;
    c->qcount.store(n - 1, std::memory_order_relaxed);
    c->lock.unlock();
    return {true, true};
  }
  if (!block) {
    c->lock.unlock();
    return {false, false};
  }
  // Block until a sender hands us a value, or close wakes us.
  return {true, park_on(c, c->recvq, ep, wait_reason::chan_receive)};
}

//! [recv]
// recv completes a receive from the parked sender sg (Go's recv). On an
// unbuffered channel the value moves straight from the sender's stack. On
// a buffered one the buffer is full: take the oldest element, and the
// sender's value takes its slot, which is now the newest (so FIFO order
// holds). Then unlockf(arg), then the sender is readied.
void recv(hchan* c, sudog* sg, void* ep, void (*unlockf)(void*), void* arg)
    GORO_NO_THREAD_SAFETY_ANALYSIS {  // c is locked; unlockf unlocks it
  if (c->dataqsiz == 0) {
    if (ep != nullptr) c->elemtype->move_construct(ep, sg->elem);  // Go's recvDirect
  } else {
    void* qp = c->chanbuf(c->recvx);
    if (ep != nullptr) c->elemtype->move_construct(ep, qp);
    c->elemtype->destroy(qp);
    c->elemtype->move_construct(qp, sg->elem);
    if (++c->recvx == c->dataqsiz) c->recvx = 0;
    c->sendx = c->recvx;  // c->sendx = (c->sendx+1) % c->dataqsiz
  }
  sg->elem = nullptr;
  g* gp = sg->g;
  unlockf(arg);
  gp->param = sg;
  sg->success = true;
  goready(gp);
}
//! [recv]

//! [closechan]
// closechan closes c (Go's closechan). Every parked receiver wakes with
// nothing (success false), every parked sender wakes to panic. They are
// collected under the lock and readied after it.
void closechan(hchan* c) {
  if (c == nullptr) panic_runtime("close of nil channel");
  gList glist;
  {
    common::lock_guard l(c->lock);
    if (c->closed.load(std::memory_order_relaxed) != 0) panic_runtime("close of closed channel");
    c->closed.store(1, std::memory_order_release);
    for (waitq* q : {&c->recvq, &c->sendq}) {
      while (sudog* sg = q->dequeue()) {
        sg->elem = nullptr;
        sg->success = false;
        sg->g->param = sg;
        glist.push(sg->g);
      }
    }
  }
  while (g* gp = glist.pop()) goready(gp);
}
//! [closechan]

// check_preempt is where a goroutine meets the runtime without parking (a
// channel operation that did not block, or one it just woke from): it
// yields if sysmon asked its P to (the time slice is over), and stops for
// good if main has returned (see abandon).
void check_preempt() {
  if (exiting()) abandon();
  if (getm()->p->preempt.load(std::memory_order_relaxed)) gopreempt();
}

}  // namespace goro::runtime

namespace goro::detail {

using namespace runtime;

namespace {
// The most bytes a channel's buffer may take (Go's maxAlloc on 64-bit
// Linux, 2^48).
constexpr std::size_t maxAlloc = std::size_t{1} << 48;
}  // namespace

//! [makechan]
// makechan makes a channel of `size` elements of *t (Go's makechan). The
// buffer is raw storage: elements are built in it as they are sent.
hchan* makechan(const elem_ops* t, std::size_t size) {
  if (t->size != 0 && size > (maxAlloc - sizeof(hchan)) / t->size) {
    panic_runtime("makechan: size out of range");
  }
  auto* c = new hchan;
  c->elemtype = t;
  c->dataqsiz = size;
  if (size > 0) {
    c->buf = static_cast<unsigned char*>(
        ::operator new(size * t->size, std::align_val_t(t->align)));
  }
  return c;
}
//! [makechan]

void chan_retain(hchan* c) noexcept { c->refs.fetch_add(1, std::memory_order_relaxed); }

// chan_release drops a handle; the last one destroys the elements still
// buffered and frees the channel. Nobody can be waiting on it then: a
// parked goroutine holds a handle.
void chan_release(hchan* c) noexcept {
  if (c->refs.fetch_sub(1, std::memory_order_acq_rel) != 1) return;
  {
    common::lock_guard l(c->lock);  // uncontended: for the analysis
    std::size_t i = c->recvx;
    for (std::size_t n = c->qcount.load(std::memory_order_relaxed); n > 0; n--) {
      c->elemtype->destroy(c->chanbuf(i));
      if (++i == c->dataqsiz) i = 0;
    }
  }
  if (c->buf != nullptr) ::operator delete(c->buf, std::align_val_t(c->elemtype->align));
  delete c;
}

// The compiled forms of the channel statements (Go's chansend1, chanrecv1,
// closechan, selectnbsend, selectnbrecv), each a point where a running
// goroutine meets the runtime.

void chansend1(hchan* c, void* elem) {
  check_goroutine("chan::send");
  chansend(c, elem, true);
  check_preempt();
}

bool chanrecv1(hchan* c, void* elem) {
  check_goroutine("chan::recv");
  const bool received = chanrecv(c, elem, true).second;
  check_preempt();
  return received;
}

void closechan(hchan* c) {
  check_goroutine("chan::close");
  runtime::closechan(c);
}

std::size_t chanlen(const hchan* c) noexcept {
  return c == nullptr ? 0 : c->qcount.load(std::memory_order_relaxed);
}

std::size_t chancap(const hchan* c) noexcept { return c == nullptr ? 0 : c->dataqsiz; }

bool selectnbsend(hchan* c, void* elem) {
  check_goroutine("select");
  const bool selected = chansend(c, elem, false);
  check_preempt();
  return selected;
}

std::pair<bool, bool> selectnbrecv(void* elem, hchan* c) {
  check_goroutine("select");
  const auto r = chanrecv(c, elem, false);
  check_preempt();
  return r;
}

}  // namespace goro::detail
