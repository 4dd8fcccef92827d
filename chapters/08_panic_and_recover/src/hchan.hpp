// hchan.hpp: a channel and its waiting goroutines (Go's hchan and waitq,
// chan.go; sudog, runtime2.go). Chapter 06; chapter 07 lets a sudog wait on
// a semaphore too. Included by runtime.hpp.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "goro/common/lock.hpp"
#include "goro/goro.hpp"

namespace goro::runtime {

struct g;
using detail::hchan;

/// sudog is a G waiting on a channel or a semaphore (Go's sudog,
/// runtime2.go). A G may wait on many channels at once (a select), and a
/// channel may have many Gs waiting, so the wait itself gets a record: it
/// sits in the channel's recvq or sendq and in its G's waiting list.
/// Allocated from per-P caches (acquireSudog). Fields are guarded by the
/// lock of the channel c, or of the semaphore's root (sema.cpp).
struct sudog {
  struct g* g = nullptr;       ///< the waiting G
  /// In the channel's wait queue; on a semaphore, in its root's list of
  /// addresses (only the first waiter of each address is in it).
  sudog* next = nullptr;
  sudog* prev = nullptr;  ///< the other way, in the same list
  /// The value to send, or the raw slot to receive into. It may point into
  /// the G's stack: the waker reads or writes it there, the one time one
  /// goroutine touches another's stack. On a semaphore: its address.
  void* elem = nullptr;
  bool isSelect = false;       ///< a case of a select: wake only via selectDone
  /// True if woken because a value was delivered, false if because c was
  /// closed (Go's sudog.success).
  bool success = false;
  /// Next in g.waiting; on a semaphore, the next waiter for the same
  /// address (chapter 07).
  sudog* waitlink = nullptr;
  /// On a semaphore, in the first waiter of an address: the last one.
  sudog* waittail = nullptr;
  /// On a semaphore: 1 if the releaser took the count for this waiter
  /// (semrelease's handoff), so it owns it on waking; 0 otherwise.
  std::uint32_t ticket = 0;
  hchan* c = nullptr;          ///< the channel
};

/// waitq is a channel's queue of waiting sudogs, FIFO (Go's waitq). first
/// is atomic because the non-blocking fast paths peek at it unlocked.
struct waitq {
  std::atomic<sudog*> first{nullptr};
  sudog* last = nullptr;
  void enqueue(sudog* sgp);
  sudog* dequeue();
  void dequeueSudoG(sudog* sgp);
};

}  // namespace goro::runtime

namespace goro::detail {

/// hchan is a channel (Go's hchan, chan.go): a ring buffer of dataqsiz
/// elements, of which qcount are in use from recvx on, and two queues of
/// waiting goroutines. At least one of the queues is empty, and a waiting
/// receiver means an empty buffer, a waiting sender a full one (Go's
/// invariants). lock guards everything but the counters that the
/// lock-free fast paths read, which are atomics written under the lock.
/// Unlike Go's, it counts the handles to it (refs): no GC frees it.
struct hchan {
  std::atomic<std::size_t> qcount{0};  ///< elements in the buffer
  std::size_t dataqsiz = 0;            ///< the buffer's size: cap(ch)
  unsigned char* buf = nullptr;        ///< dataqsiz slots of elemsize bytes
  const elem_ops* elemtype = nullptr;  ///< how to move and destroy elements
  std::atomic<std::uint32_t> closed{0};  ///< 1 once closed
  std::size_t sendx GORO_GUARDED_BY(lock) = 0;  ///< next slot to send into
  std::size_t recvx GORO_GUARDED_BY(lock) = 0;  ///< next slot to receive from
  runtime::waitq recvq;                ///< blocked receivers
  runtime::waitq sendq;                ///< blocked senders
  common::mutex lock;                  ///< guards the above and their sudogs
  std::atomic<long> refs{1};           ///< handles to it, and timers

  /// The address of buffer slot i (Go's chanbuf).
  void* chanbuf(std::size_t i) { return buf + i * elemtype->size; }
};

}  // namespace goro::detail
