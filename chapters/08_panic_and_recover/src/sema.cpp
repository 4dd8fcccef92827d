// sema.cpp: the runtime's semaphore, after Go's runtime/sema.go
// (semacquire1, semrelease1, cansemacquire, semaRoot.queue and dequeue).
// Chapter 07.
//
// WaitGroup and Mutex need to put a goroutine to sleep until another one
// says "go on", and the "go on" may come first. A semaphore is exactly
// that: a count in the object (a uint32 beside its state word) that a
// release adds one to and an acquire takes one from, parking while it is
// 0. As sema.go's comment says, think of it less as a semaphore than as
// sleep and wake-up in which every sleep is paired with one wake-up, even
// when the wake-up wins the race.
//
// The count lives in the object, but the sleepers cannot: a WaitGroup is a
// few bytes and may be on a stack. They wait in a table of 251 roots (a
// prime, so addresses spread evenly), each under its own lock, found by
// hashing the semaphore's address; a root holds the waiters of every
// address that hashes to it. Go keeps those addresses in a treap (a binary
// search tree balanced by random priorities), so that a root shared by
// thousands of busy semaphores still finds one in log time. goro keeps a
// plain doubly linked list of addresses instead: a root holds only the
// semaphores that have a waiter right now, usually one or two, and a list
// reads in a minute where a treap takes an afternoon (see the challenges).
// Under each address, its waiters form a FIFO queue: the first is in the
// list, the rest hang from it through waitlink, and it knows the last
// (waittail), as in Go.
#include <array>

#include "goro/common/fatal.hpp"
#include "runtime.hpp"

namespace goro::runtime {

namespace {

// The table of roots (Go's semtable), each on its own cache line so that
// two busy semaphores in different roots do not slow each other down.
struct alignas(64) semTableEntry {
  semaRoot root;
};
std::array<semTableEntry, semTabSize> semtable;

// The unlock function of a park on a root: the G is _Gwaiting now, so a
// releaser that takes the lock next and dequeues it can goready it.
bool unlock_root(g*, void* lock) GORO_NO_THREAD_SAFETY_ANALYSIS {
  static_cast<common::mutex*>(lock)->unlock();
  return true;
}

// park_on_root parks the running G, already queued on root, and lets
// gopark release root's lock once the G is off its M. The annotation tells
// clang's analysis what gopark does with the lock, which it cannot see.
void park_on_root(semaRoot* root) GORO_RELEASE(root->lock) GORO_NO_THREAD_SAFETY_ANALYSIS {
  gopark(unlock_root, &root->lock, wait_reason::semacquire);
}

}  // namespace

// rootFor finds the root of the semaphore at addr (Go's semTable.rootFor).
semaRoot* rootFor(const void* addr) {
  return &semtable[(reinterpret_cast<std::uintptr_t>(addr) >> 3) % semTabSize].root;
}

//! [queue]
// queue adds s, for the running G, to the waiters of addr (Go's
// semaRoot.queue): at the back, or at the front if lifo (a Mutex waiter
// that has waited before goes first). An address with no waiter yet joins
// the root's list.
void semaRoot::queue(std::atomic<std::uint32_t>* addr, sudog* s, bool lifo) {
  s->g = getg();
  s->elem = addr;
  s->next = nullptr;
  s->prev = nullptr;
  s->waitlink = nullptr;
  s->waittail = nullptr;
  for (sudog* t = head; t != nullptr; t = t->next) {
    if (t->elem != addr) continue;
    if (lifo) {
      // s takes t's place in the list and t becomes the second waiter.
      s->prev = t->prev;
      s->next = t->next;
      (s->prev != nullptr ? s->prev->next : head) = s;
      if (s->next != nullptr) s->next->prev = s;
      s->waitlink = t;
      s->waittail = t->waittail != nullptr ? t->waittail : t;
      t->prev = nullptr;
      t->next = nullptr;
      t->waittail = nullptr;
    } else {
      (t->waittail != nullptr ? t->waittail->waitlink : t->waitlink) = s;
      t->waittail = s;
    }
    return;
  }
  // The first waiter of addr.
  s->next = head;
  if (head != nullptr) head->prev = s;
  head = s;
}
//! [queue]

// dequeue takes the first waiter of addr off the root, or returns nullptr
// if there is none (Go's semaRoot.dequeue). The next waiter, if any, takes
// its place in the list.
sudog* semaRoot::dequeue(const std::atomic<std::uint32_t>* addr) {
  sudog* s = head;
  while (s != nullptr && s->elem != addr) s = s->next;
  if (s == nullptr) return nullptr;
  sudog* repl = s->waitlink;  // the next waiter, or nobody
  if (repl != nullptr) {
    repl->waittail = repl->waitlink != nullptr ? s->waittail : nullptr;
    repl->prev = s->prev;
    repl->next = s->next;
  }
  sudog* const prev = s->prev;
  sudog* const next = repl != nullptr ? repl : s->next;
  (prev != nullptr ? prev->next : head) = next;
  if (s->next != nullptr) s->next->prev = repl != nullptr ? repl : prev;
  s->elem = nullptr;
  s->next = nullptr;
  s->prev = nullptr;
  s->waitlink = nullptr;
  s->waittail = nullptr;
  s->ticket = 0;
  return s;
}

// cansemacquire takes one from the count if it is not 0 (Go's
// cansemacquire). Never blocks.
bool cansemacquire(std::atomic<std::uint32_t>* addr) {
  std::uint32_t v = addr->load();
  while (v != 0) {
    if (addr->compare_exchange_weak(v, v - 1)) return true;
  }
  return false;
}

//! [semacquire1]
// semacquire1 takes one from the semaphore at addr, parking the running
// goroutine until there is one to take (Go's semacquire1). lifo: wait at
// the front of the queue (a Mutex waiter that was woken and lost).
//
// The order of the first steps is what makes a wake-up impossible to miss:
// nwait goes up, under the root's lock, before the count is looked at a
// second time. A releaser adds to the count first and reads nwait second,
// so either this G sees the count, or the releaser sees the waiter and
// takes the lock, which this G holds until it is parked.
void semacquire1(std::atomic<std::uint32_t>* addr, bool lifo) {
  if (cansemacquire(addr)) return;  // the fast path: no wait, no lock
  sudog* s = acquireSudog();
  semaRoot* root = rootFor(addr);
  s->ticket = 0;
  for (;;) {
    root->lock.lock();
    root->nwait.fetch_add(1);  // from here, semrelease takes the slow path
    if (cansemacquire(addr)) {
      root->nwait.fetch_sub(1);
      root->lock.unlock();
      break;
    }
    root->queue(addr, s, lifo);
    park_on_root(root);
    // Woken: with the count handed over (ticket), or to race for it.
    if (s->ticket != 0 || cansemacquire(addr)) break;
  }
  s->ticket = 0;
  releaseSudog(s);
}
//! [semacquire1]

//! [semrelease1]
// semrelease1 adds one to the semaphore at addr and wakes its first waiter
// (Go's semrelease1). With nobody waiting (nwait is 0) it takes no lock at
// all. handoff: take the count for the waiter before waking it, and yield
// to it at once (Go's goyield), so that the waiter, not a goroutine that
// happens to be running, gets what was released: the Mutex's starvation
// mode. After the add it does not touch *addr again unless handoff: a
// WaitGroup may be gone by then, freed by the goroutine just released.
void semrelease1(std::atomic<std::uint32_t>* addr, bool handoff) {
  semaRoot* root = rootFor(addr);
  addr->fetch_add(1);
  if (root->nwait.load() == 0) return;  // must be read after the add
  sudog* s = nullptr;
  {
    common::lock_guard l(root->lock);
    if (root->nwait.load() == 0) return;  // the count was taken already
    s = root->dequeue(addr);
    if (s != nullptr) root->nwait.fetch_sub(1);
  }
  if (s == nullptr) return;
  // Go reads s.ticket again after readying s; here the decision is kept in
  // a local, since the woken G may run and free s at once on another M.
  const bool handed = handoff && cansemacquire(addr);
  if (handed) s->ticket = 1;
  goready(s->g);
  if (handed) goyield();
}
//! [semrelease1]

// sema_drop_waiters empties every root at the end of run(): the goroutines
// parked there were abandoned, and their sudogs are about to be freed.
void sema_drop_waiters() {
  for (auto& e : semtable) {
    common::lock_guard l(e.root.lock);
    e.root.head = nullptr;
    e.root.nwait.store(0);
  }
}

}  // namespace goro::runtime
