// runq.cpp: the P's local run queue as Go has it since 1.1: a lock-free
// ring of 256 slots that one P fills and every P may take from, plus the
// runnext slot (Go's runqput, runqputslow, runqget, runqgrab, runqsteal,
// runqempty in runtime/proc.go). Chapter 05.
//
// Invariants. runqhead and runqtail count forever (uint32, wrapping); the
// Gs are runq[h % 256] ... runq[(t-1) % 256]. Only the owner P writes
// slots and runqtail, and only at or past the tail, which no one else
// reads until the owner publishes a new tail (store-release). Anyone (the
// owner, or a thief) takes Gs from the head by reading them first and then
// committing with a compare-and-swap on runqhead; a reader whose CAS fails
// read nothing. So a slot may be read while the owner is overwriting it,
// by a thief whose CAS is about to fail: the slots are atomics (relaxed),
// which keeps that benign race defined in C++.
//
// runnext holds one G that should run next, ahead of the ring: a G just
// made runnable by the running G (a new goroutine, a woken one). Only the
// owner sets it to a G; anyone may take it (CAS to nullptr).
//
// The global queue, under sched.lock, is where Gs go that any P may take:
// goroutines that yielded, and the overflow of a full ring.
#include "goro/common/fatal.hpp"
#include "runtime.hpp"

#include <time.h>

namespace goro::runtime {

namespace {
constexpr std::uint32_t N = static_cast<std::uint32_t>(runq_capacity);
}  // namespace

//! [runqput]
// runqput puts gp on pp's local queue; with `next`, into runnext, and the G
// it displaces goes to the tail. A full ring sends half of itself to the
// global queue (runqputslow). Only pp's M calls it.
//
// Once pp's time slice is over (sysmon set pp->preempt), `next` is
// ignored: a G put in runnext would inherit the expired slice, and two
// goroutines that wake each other through runnext would keep the ring
// waiting for ever. At the tail it waits its turn, and the next G taken
// from the ring starts a new slice.
void runqput(p* pp, g* gp, bool next) {
  if (next && pp->preempt.load(std::memory_order_relaxed)) next = false;
  if (next) {
    // A locked exchange, sequentially consistent: the read of nmspinning
    // in the wakep that follows cannot be ordered before it (the other
    // half of the protocol is in stop_spinning).
    g* old = pp->runnext.exchange(gp, std::memory_order_seq_cst);
    if (old == nullptr) return;
    gp = old;  // kick the old runnext to the tail
  }
  for (;;) {
    const std::uint32_t h = pp->runqhead.load(std::memory_order_acquire);
    const std::uint32_t t = pp->runqtail.load(std::memory_order_relaxed);
    if (t - h < N) {
      pp->runq[t % N].store(gp, std::memory_order_relaxed);
      pp->runqtail.store(t + 1, std::memory_order_release);  // publish
      return;
    }
    if (runqputslow(pp, gp, h, t)) return;
    // A thief took some meanwhile: the ring is not full any more.
  }
}
//! [runqput]

// runqputslow moves the older half of a full ring, and gp after them, to the
// global queue in one acquisition of sched.lock. Fails if a thief changed
// the head meanwhile.
bool runqputslow(p* pp, g* gp, std::uint32_t h, std::uint32_t t) {
  const std::uint32_t n = (t - h) / 2;
  if (n != N / 2) common::throw_("runqputslow: queue is not full");
  g* batch[N / 2 + 1];
  for (std::uint32_t i = 0; i < n; i++) {
    batch[i] = pp->runq[(h + i) % N].load(std::memory_order_relaxed);
  }
  std::uint32_t expect = h;
  if (!pp->runqhead.compare_exchange_strong(expect, h + n, std::memory_order_release)) {
    return false;
  }
  batch[n] = gp;
  gQueue q;
  for (std::uint32_t i = 0; i <= n; i++) q.push_back(batch[i]);
  common::lock_guard l(sched->lock);
  add_counter(sched->runqsize, static_cast<std::int32_t>(q.size()));
  sched->runq.push_back_all(q);
  return true;
}

// runqget takes the next G of pp's local queue: runnext first (it then
// inherits the current time slice), else the head of the ring. Only pp's
// M calls it.
std::pair<g*, bool> runqget(p* pp) {
  // Only thieves race us here, and only towards nullptr: no retry needed.
  g* next = pp->runnext.load(std::memory_order_relaxed);
  if (next != nullptr && pp->runnext.compare_exchange_strong(next, nullptr)) {
    return {next, true};
  }
  for (;;) {
    std::uint32_t h = pp->runqhead.load(std::memory_order_acquire);
    const std::uint32_t t = pp->runqtail.load(std::memory_order_relaxed);
    if (t == h) return {nullptr, false};
    g* gp = pp->runq[h % N].load(std::memory_order_relaxed);
    if (pp->runqhead.compare_exchange_strong(h, h + 1, std::memory_order_release)) {
      return {gp, false};
    }
  }
}

//! [runqgrab]
// runqgrab copies half of pp's queue (rounded up) into `batch`, starting at
// batchHead, and removes them from pp. With stealRunNextG, an otherwise
// empty pp gives up its runnext. Returns how many it took. Any M may call
// it.
std::uint32_t runqgrab(p* pp, runq_ring& batch, std::uint32_t batchHead,
                       bool stealRunNextG) {
  for (;;) {
    std::uint32_t h = pp->runqhead.load(std::memory_order_acquire);
    const std::uint32_t t = pp->runqtail.load(std::memory_order_acquire);
    std::uint32_t n = t - h;
    n = n - n / 2;
    if (n == 0) {
      if (stealRunNextG) {
        if (g* next = pp->runnext.load(std::memory_order_acquire)) {
          if (pp->status.load(std::memory_order_relaxed) == pstatus::_Prunning) {
            // pp's M is probably about to run next itself (a goroutine
            // woken by the one running there, and that one about to
            // block): give it 3 us before stealing it, or the pair would
            // be split across Ps for nothing. (~50x a channel hand-off.)
            struct timespec ts{0, 3000};
            nanosleep(&ts, nullptr);
          }
          if (!pp->runnext.compare_exchange_strong(next, nullptr)) continue;
          batch[batchHead % N].store(next, std::memory_order_relaxed);
          return 1;
        }
      }
      return 0;
    }
    if (n > N / 2) continue;  // read an inconsistent h and t
    for (std::uint32_t i = 0; i < n; i++) {
      batch[(batchHead + i) % N].store(pp->runq[(h + i) % N].load(std::memory_order_relaxed),
                                       std::memory_order_relaxed);
    }
    if (pp->runqhead.compare_exchange_strong(h, h + n, std::memory_order_release)) return n;
  }
}
//! [runqgrab]

//! [runqsteal]
// runqsteal takes half of p2's queue into pp's own ring (they go straight to
// its tail, which only pp's M writes) and returns one of them to run now.
// Called by pp's M, whose ring is empty (it is spinning).
g* runqsteal(p* pp, p* p2, bool stealRunNextG) {
  const std::uint32_t t = pp->runqtail.load(std::memory_order_relaxed);
  std::uint32_t n = runqgrab(p2, pp->runq, t, stealRunNextG);
  if (n == 0) return nullptr;
  n--;
  g* gp = pp->runq[(t + n) % N].load(std::memory_order_relaxed);
  if (n == 0) return gp;
  const std::uint32_t h = pp->runqhead.load(std::memory_order_acquire);
  if (t - h + n >= N) common::throw_("runqsteal: runq overflow");
  pp->runqtail.store(t + n, std::memory_order_release);
  return gp;
}
//! [runqsteal]

// runqempty reports whether pp has no G on its local queue. It never
// returns true spuriously: a G moving from runnext to the ring between the
// reads is caught by reading the tail twice. Its loads are sequentially
// consistent, as Go's atomic loads are: an M that has just stopped
// spinning relies on them (stop_spinning). On x86 they cost nothing more.
bool runqempty(p* pp) {
  for (;;) {
    const std::uint32_t head = pp->runqhead.load(std::memory_order_seq_cst);
    const std::uint32_t tail = pp->runqtail.load(std::memory_order_seq_cst);
    g* next = pp->runnext.load(std::memory_order_seq_cst);
    if (tail == pp->runqtail.load(std::memory_order_seq_cst)) {
      return head == tail && next == nullptr;
    }
  }
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
  while (--n > 0) runqput(pp, sched->runq.pop(), false);
  return gp;
}

// runqlen is the number of Gs in pp's ring, runnext not counted (what
// schedtrace prints). Approximate while the queue changes.
std::uint32_t runqlen(p* pp) {
  const std::uint32_t h = pp->runqhead.load(std::memory_order_acquire);
  return pp->runqtail.load(std::memory_order_acquire) - h;  // head first: t >= h
}

}  // namespace goro::runtime
