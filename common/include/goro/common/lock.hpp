// lock.hpp: the runtime's own mutex, Go's runtime.mutex on a futex
// (runtime/lock_futex.go). Introduced in chapter 01; no chapter changes it.
#pragma once

#include <atomic>
#include <cstdint>

namespace goro::common {

/// mutex is Go's tri-state futex lock (lock_futex.go: lock2/unlock2): the key
/// is 0 (unlocked), 1 (locked) or 2 (locked, maybe with sleepers). A locker
/// spins a little, yields once, then sleeps in the kernel; unlock wakes one
/// sleeper only when the key says there may be one. It guards the
/// scheduler's shared state (sched.lock) and is BasicLockable.
///
/// Unlike a goroutine-level lock (goro::Mutex, chapter 07) it blocks the
/// whole thread: hold it only for a few instructions and never across a
/// switch.
class mutex {
 public:
  /// lock acquires the mutex, blocking the thread if needed.
  void lock() {
    uint32_t v = 0;
    if (key_.compare_exchange_strong(v, 1, std::memory_order_acquire)) return;
    lock_slow();
  }
  /// try_lock acquires the mutex if it is free.
  bool try_lock() {
    uint32_t v = 0;
    return key_.compare_exchange_strong(v, 1, std::memory_order_acquire);
  }
  /// unlock releases the mutex and wakes a sleeper if there may be one.
  void unlock() {
    if (key_.exchange(0, std::memory_order_release) == 2) wake();
  }

 private:
  void lock_slow();
  void wake();
  std::atomic<uint32_t> key_{0};
};

/// Puts the calling thread to sleep while *addr == val, for at most
/// timeout_ns (negative: no limit). May return early, spuriously.
void futex_sleep(std::atomic<uint32_t>* addr, uint32_t val, int64_t timeout_ns);
/// Wakes up to n threads sleeping on addr.
void futex_wake(std::atomic<uint32_t>* addr, int n);

/// cpu_relax is a pause instruction for spin loops (Go's procyield).
inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

}  // namespace goro::common
