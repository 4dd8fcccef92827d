// sync.hpp: WaitGroup and Mutex, chapter 07 (Go's sync package). Included
// by goro.hpp. Both are a word of state changed with atomics, plus a
// semaphore in the runtime (sema.cpp) that parks the goroutines that must
// wait: never the thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <stdexcept>

#include "goro/panic.hpp"  // panic_error, with the rest of panic (chapter 08)

namespace goro {

/// WaitGroup waits for a collection of goroutines to finish (Go's
/// sync.WaitGroup). The goroutine that starts them calls add(n); each one
/// calls done() when it finishes; wait() parks the caller until the count
/// is back to 0. A WaitGroup may be reused once every wait() of the
/// previous round has returned, and destroyed as soon as its last wait()
/// returns. Not copyable: the goroutines share one (pass a reference).
///
/// The counter and the number of waiters share one 64-bit word, so that a
/// wait() cannot slip in between the last done() and the wake-up. All
/// calls throw std::logic_error outside a goroutine.
class WaitGroup {
 public:
  WaitGroup() = default;
  WaitGroup(const WaitGroup&) = delete;             ///< Go's noCopy
  WaitGroup& operator=(const WaitGroup&) = delete;  ///< Go's noCopy

  /// add adds delta, which may be negative, to the counter; when it reaches
  /// 0, every goroutine in wait() is released. Call add with a positive
  /// delta before starting the goroutine (or whatever else will be waited
  /// for), not inside it. Panics (throws panic_error) with Go's texts: `sync:
  /// negative WaitGroup counter` if the counter goes below 0, and `sync:
  /// WaitGroup misuse: Add called concurrently with Wait` if it grows from 0
  /// while a wait() is under way.
  void add(int delta);
  /// done decrements the counter by one (add(-1)).
  void done() { add(-1); }
  /// wait parks the calling goroutine until the counter is 0; returns at
  /// once if it is. Panics with `sync: WaitGroup is reused before previous
  /// Wait has returned` if add() started a new round before it woke.
  void wait();

 private:
  /// High 32 bits: the counter. Low 32 bits: the goroutines in wait().
  std::atomic<std::uint64_t> state_{0};
  /// The semaphore that waiters sleep on (runtime semacquire/semrelease).
  std::atomic<std::uint32_t> sema_{0};
};

/// Mutex is a mutual exclusion lock for goroutines (Go's sync.Mutex): a
/// goroutine that must wait for it parks, and its thread runs other
/// goroutines meanwhile. The zero value is unlocked. It is not tied to a
/// goroutine: one may lock it and another unlock it. BasicLockable and
/// Lockable, so std::lock_guard, std::unique_lock and std::scoped_lock
/// work with it. Not copyable.
///
/// Like Go's it has two modes. Normal: a woken waiter competes with
/// goroutines arriving now, which usually win because they are already
/// running. Starvation, entered once a waiter has waited over 1 ms:
/// unlock() hands the mutex straight to the first waiter, and newcomers
/// queue behind.
///
/// The fast paths, a lock of a free mutex and an unlock with nobody
/// waiting, are one atomic instruction, inline, as Go's compiler inlines
/// them. Whatever must wait or wake goes to the runtime, and throws
/// std::logic_error outside a goroutine (there is nothing to park).
class Mutex {
 public:
  Mutex() = default;
  Mutex(const Mutex&) = delete;
  Mutex& operator=(const Mutex&) = delete;

  /// lock locks the mutex, parking the goroutine until it is free.
  void lock() {
    std::int32_t unlocked = 0;
    if (state_.compare_exchange_strong(unlocked, 1, std::memory_order_acquire)) return;
    lockSlow();
  }
  /// unlock unlocks it. Unlocking an unlocked mutex is Go's fatal error
  /// `fatal error: sync: unlock of unlocked mutex`: the program ends with
  /// exit status 2 (it is not a panic, nothing can catch it).
  void unlock() {
    std::int32_t locked = 1;  // locked, and nobody waiting
    if (state_.compare_exchange_strong(locked, 0, std::memory_order_release)) return;
    unlockSlow();
  }
  /// try_lock locks the mutex if it is free and not promised to a waiter
  /// (starvation mode), and reports whether it did; it never waits.
  bool try_lock();

 private:
  void lockSlow();
  void unlockSlow();
  /// Bit 0: locked; bit 1: a waiter is awake; bit 2: starvation mode;
  /// bits 3 and up: the number of waiters (Go's mutexWaiterShift).
  std::atomic<std::int32_t> state_{0};
  /// The semaphore that waiters sleep on.
  std::atomic<std::uint32_t> sema_{0};
};

}  // namespace goro
