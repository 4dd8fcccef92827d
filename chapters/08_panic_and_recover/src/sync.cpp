// sync.cpp: WaitGroup and Mutex, after Go 1.19's sync/waitgroup.go and
// sync/mutex.go, and the spinning rule they use (sync_runtime_canSpin,
// runtime/proc.go). Chapter 07.
//
// Both are a word of state, changed only with atomic operations, and a
// semaphore (sema.cpp) for the goroutines that must wait. The fast paths
// (a lock that is free, a done() that is not the last) are one atomic
// instruction; only waiting goes to the runtime.
#include "goro/common/clock.hpp"
#include "goro/common/fatal.hpp"
#include "goro/goro.hpp"
#include "runtime.hpp"

namespace goro {
using namespace runtime;

//! [WaitGroup]
// add: the counter is the word's high half, so adding delta << 32 changes
// it and leaves the waiters (the low half) alone, in one atomic step.
void WaitGroup::add(int delta) {
  detail::check_goroutine("WaitGroup::add");
  const std::uint64_t shifted = static_cast<std::uint64_t>(static_cast<std::int64_t>(delta)) << 32;
  const std::uint64_t state = state_.fetch_add(shifted) + shifted;
  const auto v = static_cast<std::int32_t>(state >> 32);  // the counter
  const auto w = static_cast<std::uint32_t>(state);        // the waiters
  if (v < 0) throw panic_error("sync: negative WaitGroup counter");
  if (w != 0 && delta > 0 && v == delta) {
    // The counter went up from 0 while a wait() was under way: that wait
    // may or may not see this add.
    throw panic_error("sync: WaitGroup misuse: Add called concurrently with Wait");
  }
  if (v > 0 || w == 0) return;
  // The counter is 0 and there are waiters. Nobody may change the state
  // now: adds must not run concurrently with wait, and wait() does not add
  // waiters when it sees 0. This check catches some misuse cheaply.
  if (state_.load() != state) {
    throw panic_error("sync: WaitGroup misuse: Add called concurrently with Wait");
  }
  // Reset the waiters to 0 (ready for the next round), then release them
  // all. After the last release the WaitGroup is not touched again: the
  // goroutine it releases may destroy it at once.
  state_.store(0);
  for (std::uint32_t i = 0; i < w; i++) semrelease1(&sema_, false);
}

// wait: register as a waiter with a compare-and-swap on the whole word, so
// that it fails if the counter changed meanwhile, then sleep on the
// semaphore. The last done() wakes every registered waiter.
void WaitGroup::wait() {
  detail::check_goroutine("WaitGroup::wait");
  std::uint64_t state = state_.load();
  for (;;) {
    if (static_cast<std::int32_t>(state >> 32) == 0) return;  // counter is 0
    if (state_.compare_exchange_weak(state, state + 1)) {    // waiters++
      semacquire1(&sema_, false);
      if (state_.load() != 0) {
        throw panic_error("sync: WaitGroup is reused before previous Wait has returned");
      }
      check_preempt();
      return;
    }
  }
}
//! [WaitGroup]

}  // namespace goro

namespace goro::runtime {

namespace {
constexpr int active_spin = 4;       // spin rounds before parking (Go's active_spin)
constexpr int active_spin_cnt = 30;  // pause instructions a round (Go's active_spin_cnt)

// procyield busy-waits for n pause instructions (Go's procyield): it tells
// the CPU this is a spin loop, so it saves power and leaves the core's
// resources to its sibling hyperthread.
void procyield(int n) {
  for (int i = 0; i < n; i++) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    asm volatile("yield");
#endif
  }
}
}  // namespace

//! [canSpin]
// canSpin: spinning helps only when the holder is running on another CPU
// and can unlock soon, and costs little only while nothing else waits for
// this P. So: a few rounds at most, more than one CPU, another P running
// (not idle, not merely looking for work), and an empty local run queue.
bool canSpin(int i) {
  if (i >= active_spin || sched->ncpu <= 1) return false;
  const auto procs = static_cast<std::int32_t>(sched->allp.size());
  if (procs <= sched->npidle.load(std::memory_order_relaxed) +
                   sched->nmspinning.load(std::memory_order_relaxed) + 1) {
    return false;
  }
  return runqempty(getm()->p);
}
//! [canSpin]

}  // namespace goro::runtime

namespace goro {

namespace {
// The bits of Mutex::state_ (Go's mutexLocked, mutexWoken, mutexStarving,
// mutexWaiterShift), and the wait after which a waiter starves.
constexpr std::int32_t mutexLocked = 1;     // the mutex is locked
constexpr std::int32_t mutexWoken = 2;      // a waiter is awake: unlock wakes no other
constexpr std::int32_t mutexStarving = 4;   // starvation mode
constexpr int mutexWaiterShift = 3;         // the waiter count starts at bit 3
constexpr std::int64_t starvationThresholdNs = 1000 * 1000;  // 1 ms
}  // namespace

bool Mutex::try_lock() {
  std::int32_t old = state_.load(std::memory_order_relaxed);
  if ((old & (mutexLocked | mutexStarving)) != 0) return false;
  // One try: with a waiter woken or others arriving, fail rather than spin.
  return state_.compare_exchange_strong(old, old | mutexLocked, std::memory_order_acquire);
}

//! [lockSlow]
// lockSlow is Go's, step for step. Each turn of the loop computes the
// state it wants from the state it saw and installs it with one CAS:
// spin while the holder may be about to unlock; otherwise take the lock if
// it is free and not promised to a waiter, or count itself as a waiter and
// park. A waiter that has waited over 1 ms marks the mutex starving.
void Mutex::lockSlow() {
  detail::check_goroutine("Mutex::lock");
  std::int64_t waitStartTime = 0;
  bool starving = false;  // this goroutine has waited too long
  bool awoke = false;     // this goroutine was woken by unlock (mutexWoken is ours)
  int iter = 0;
  bool parked = false;    // it waited on the semaphore at least once
  std::int32_t old = state_.load(std::memory_order_relaxed);
  for (;;) {
    // Spin in normal mode while it is locked: the holder may unlock soon.
    // Set mutexWoken, so that unlock does not wake a waiter for nothing.
    if ((old & (mutexLocked | mutexStarving)) == mutexLocked && canSpin(iter)) {
      if (!awoke && (old & mutexWoken) == 0 && (old >> mutexWaiterShift) != 0 &&
          state_.compare_exchange_strong(old, old | mutexWoken)) {
        awoke = true;
      }
      procyield(active_spin_cnt);
      iter++;
      old = state_.load(std::memory_order_relaxed);
      continue;
    }
    std::int32_t desired = old;
    // Do not take a starving mutex: it belongs to the first waiter.
    if ((old & mutexStarving) == 0) desired |= mutexLocked;
    if ((old & (mutexLocked | mutexStarving)) != 0) desired += 1 << mutexWaiterShift;
    // Switch to starvation mode, if this goroutine starves and the mutex is
    // still locked (an unlocked one is not worth it: unlock expects waiters).
    if (starving && (old & mutexLocked) != 0) desired |= mutexStarving;
    if (awoke) {
      // Woken from sleep (or set the bit while spinning): clear it.
      if ((desired & mutexWoken) == 0) common::throw_("sync: inconsistent mutex state");
      desired &= ~mutexWoken;
    }
    if (state_.compare_exchange_strong(old, desired, std::memory_order_acquire)) {
      if ((old & (mutexLocked | mutexStarving)) == 0) break;  // locked it with the CAS
      // A goroutine that has waited before waits at the front of the queue.
      const bool queueLifo = waitStartTime != 0;
      if (waitStartTime == 0) waitStartTime = common::nanotime();
      semacquire1(&sema_, queueLifo);
      parked = true;
      starving = starving || (sched->mutexstarvation &&
                              common::nanotime() - waitStartTime > starvationThresholdNs);
      old = state_.load(std::memory_order_relaxed);
      if ((old & mutexStarving) != 0) {
        // Starvation mode: unlock handed the mutex to us, but left the state
        // as it was (locked clear, our waiter still counted). Fix it.
        if ((old & (mutexLocked | mutexWoken)) != 0 || (old >> mutexWaiterShift) == 0) {
          common::throw_("sync: inconsistent mutex state");
        }
        std::int32_t delta = mutexLocked - (1 << mutexWaiterShift);
        // Leave starvation mode if we did not starve, or nobody is left
        // behind us: staying in it would hand the mutex from one waiter to
        // the next for ever, at a hand-off's cost each.
        if (!starving || (old >> mutexWaiterShift) == 1) delta -= mutexStarving;
        state_.fetch_add(delta, std::memory_order_acquire);
        break;
      }
      // Normal mode: we are awake, and race for it with whoever comes.
      awoke = true;
      iter = 0;
    }
    // A failed CAS has reloaded old; try again.
  }
  if (parked) check_preempt();  // like a channel operation that parked
}
//! [lockSlow]

//! [unlockSlow]
// unlockSlow: the inline unlock found more than the locked bit. Go's
// Unlock subtracts mutexLocked and looks at what is left; so does this.
// If there are waiters: in normal mode, wake one only if none is awake
// already and nobody took the lock meanwhile (the one woken then competes
// for it); in starvation mode, hand the mutex to the first waiter.
void Mutex::unlockSlow() {
  detail::check_goroutine("Mutex::unlock");
  const std::int32_t desired =
      state_.fetch_sub(mutexLocked, std::memory_order_release) - mutexLocked;
  if (desired == 0) return;  // only the locked bit after all: done
  if (((desired + mutexLocked) & mutexLocked) == 0) {
    common::fatal("sync: unlock of unlocked mutex");
  }
  if ((desired & mutexStarving) == 0) {
    std::int32_t old = desired;
    for (;;) {
      // No waiters, or one is awake, or someone locked it, or it turned
      // starving: nothing to do here.
      if ((old >> mutexWaiterShift) == 0 ||
          (old & (mutexLocked | mutexWoken | mutexStarving)) != 0) {
        return;
      }
      // Take one waiter off the count and mark it awake, then wake it.
      if (state_.compare_exchange_strong(old, (old - (1 << mutexWaiterShift)) | mutexWoken)) {
        semrelease1(&sema_, false);
        return;
      }
    }
  }
  // Starvation mode: the mutex goes to the first waiter, which runs now in
  // our time slice; mutexLocked stays clear until it sets it, but newcomers
  // see mutexStarving and queue behind it.
  semrelease1(&sema_, true);
}
//! [unlockSlow]

}  // namespace goro
