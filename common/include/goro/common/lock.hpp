// lock.hpp: the runtime's own mutex, Go's runtime.mutex on a futex
// (runtime/lock_futex.go). Introduced in chapter 01; no chapter changes it.
#pragma once

#include <atomic>
#include <cstdint>

// Clang's thread-safety analysis (-Wthread-safety; the clang preset turns it
// on for the runtime): a lock precondition written as an attribute is
// checked at compile time. Other compilers ignore the attributes.
#if defined(__clang__)
#define GORO_TSA(x) __attribute__((x))
#else
#define GORO_TSA(x)
#endif
/// A type that is a lock.
#define GORO_CAPABILITY(name) GORO_TSA(capability(name))
/// An RAII type that holds a lock for its lifetime.
#define GORO_SCOPED_CAPABILITY GORO_TSA(scoped_lockable)
/// A field that may be touched only with the lock held.
#define GORO_GUARDED_BY(lock) GORO_TSA(guarded_by(lock))
/// A function that must be called with the lock held (and keeps it).
#define GORO_REQUIRES(...) GORO_TSA(requires_capability(__VA_ARGS__))
/// A function that must be called without the lock (it takes it itself).
#define GORO_EXCLUDES(...) GORO_TSA(locks_excluded(__VA_ARGS__))
/// A function that takes the lock and returns holding it.
#define GORO_ACQUIRE(...) GORO_TSA(acquire_capability(__VA_ARGS__))
/// A function that takes the lock if it returns the given value.
#define GORO_TRY_ACQUIRE(...) GORO_TSA(try_acquire_capability(__VA_ARGS__))
/// A function that releases a lock its caller held.
#define GORO_RELEASE(...) GORO_TSA(release_capability(__VA_ARGS__))
/// A function whose locking the analysis cannot follow (say why at the use).
#define GORO_NO_THREAD_SAFETY_ANALYSIS GORO_TSA(no_thread_safety_analysis)

namespace goro::common {

/// mutex is Go's tri-state futex lock (lock_futex.go: lock2/unlock2): the key
/// is 0 (unlocked), 1 (locked) or 2 (locked, maybe with sleepers). A locker
/// spins a little, yields once, then sleeps in the kernel; unlock wakes one
/// sleeper only when the key says there may be one. It guards the
/// scheduler's shared state (sched.lock) and is BasicLockable.
///
/// Unlike a goroutine-level lock (goro::Mutex, chapter 07) it blocks the
/// whole thread: hold it only for a few instructions and never across a
/// switch. Take it with lock_guard, so that Clang can check who holds it.
class GORO_CAPABILITY("mutex") mutex {
 public:
  /// lock acquires the mutex, blocking the thread if needed.
  void lock() GORO_ACQUIRE() {
    uint32_t v = 0;
    if (key_.compare_exchange_strong(v, 1, std::memory_order_acquire)) return;
    lock_slow();
  }
  /// try_lock acquires the mutex if it is free.
  bool try_lock() GORO_TRY_ACQUIRE(true) {
    uint32_t v = 0;
    return key_.compare_exchange_strong(v, 1, std::memory_order_acquire);
  }
  /// unlock releases the mutex and wakes a sleeper if there may be one.
  void unlock() GORO_RELEASE() {
    if (key_.exchange(0, std::memory_order_release) == 2) wake();
  }

 private:
  void lock_slow();
  void wake();
  std::atomic<uint32_t> key_{0};
};

/// lock_guard holds a mutex for its scope, like std::lock_guard, but Clang
/// knows it does (libstdc++'s std::lock_guard carries no annotations).
class GORO_SCOPED_CAPABILITY lock_guard {
 public:
  /// Takes mu.
  explicit lock_guard(mutex& mu) GORO_ACQUIRE(mu) : mu_(mu) { mu_.lock(); }
  /// Releases it.
  ~lock_guard() GORO_RELEASE() { mu_.unlock(); }
  lock_guard(const lock_guard&) = delete;
  lock_guard& operator=(const lock_guard&) = delete;

 private:
  mutex& mu_;
};

/// futex_sleep puts the calling thread to sleep while *addr == val, for at
/// most timeout_ns (negative: no limit). May return early, spuriously.
void futex_sleep(std::atomic<uint32_t>* addr, uint32_t val, int64_t timeout_ns);
/// futex_wake wakes up to n threads sleeping on addr.
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
