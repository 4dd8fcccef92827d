// lock_futex.cpp: the runtime mutex and note on Linux futexes, after Go's
// runtime/lock_futex.go. Chapter 01.
#include <linux/futex.h>
#include <sched.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>

#include "goro/common/fatal.hpp"
#include "goro/common/lock.hpp"
#include "goro/common/note.hpp"

namespace goro::common {

void futex_sleep(std::atomic<uint32_t>* addr, uint32_t val, int64_t timeout_ns) {
  struct timespec ts;
  struct timespec* tsp = nullptr;
  if (timeout_ns >= 0) {
    ts.tv_sec = timeout_ns / 1000000000;
    ts.tv_nsec = timeout_ns % 1000000000;
    tsp = &ts;
  }
  // FUTEX_WAIT returns at once if *addr != val: no lost wake-up.
  ::syscall(SYS_futex, reinterpret_cast<uint32_t*>(addr), FUTEX_WAIT_PRIVATE,
            val, tsp, nullptr, 0);
}

void futex_wake(std::atomic<uint32_t>* addr, int n) {
  ::syscall(SYS_futex, reinterpret_cast<uint32_t*>(addr), FUTEX_WAKE_PRIVATE,
            n, nullptr, nullptr, 0);
}

// Go's lock2: after the failed fast path, spin (active_spin = 4 rounds of
// procyield(30)), then osyield once (passive_spin = 1), then sleep with the
// key set to 2 so that unlock knows to wake us.
void mutex::lock_slow() {
  constexpr int active_spin = 4, active_spin_cnt = 30, passive_spin = 1;
  uint32_t wait = key_.exchange(1, std::memory_order_acquire);
  if (wait == 0) return;
  for (;;) {
    for (int i = 0; i < active_spin; i++) {
      for (uint32_t v = 0; key_.load(std::memory_order_relaxed) == 0;) {
        if (key_.compare_exchange_weak(v, wait, std::memory_order_acquire)) return;
        v = 0;
      }
      for (int k = 0; k < active_spin_cnt; k++) cpu_relax();
    }
    for (int i = 0; i < passive_spin; i++) {
      for (uint32_t v = 0; key_.load(std::memory_order_relaxed) == 0;) {
        if (key_.compare_exchange_weak(v, wait, std::memory_order_acquire)) return;
        v = 0;
      }
      sched_yield();
    }
    // Sleep, marking the key "locked with sleepers".
    if (key_.exchange(2, std::memory_order_acquire) == 0) return;
    wait = 2;
    futex_sleep(&key_, 2, -1);
  }
}

void mutex::wake() { futex_wake(&key_, 1); }

void note::wakeup() {
  if (key_.exchange(1, std::memory_order_release) != 0) {
    throw_("notewakeup - double wakeup");
  }
  futex_wake(&key_, 1);
}

bool note::try_wakeup() {
  uint32_t zero = 0;
  if (!key_.compare_exchange_strong(zero, 1, std::memory_order_release)) return false;
  futex_wake(&key_, 1);
  return true;
}

void note::sleep() {
  while (key_.load(std::memory_order_acquire) == 0) futex_sleep(&key_, 0, -1);
}

bool note::tsleep(int64_t timeout_ns) {
  if (timeout_ns < 0) {
    sleep();
    return true;
  }
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  const int64_t deadline =
      now.tv_sec * 1000000000LL + now.tv_nsec + timeout_ns;
  while (key_.load(std::memory_order_acquire) == 0) {
    clock_gettime(CLOCK_MONOTONIC, &now);
    const int64_t left = deadline - (now.tv_sec * 1000000000LL + now.tv_nsec);
    if (left <= 0) return key_.load(std::memory_order_acquire) != 0;
    futex_sleep(&key_, 0, left);
  }
  return true;
}

}  // namespace goro::common
