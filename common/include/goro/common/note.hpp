// note.hpp: Go's note, a one-shot wake-up used to park an M
// (runtime/lock_futex.go: notesleep/notewakeup/noteclear/notetsleep).
// Introduced in chapter 01; no chapter changes it.
#pragma once

#include <atomic>
#include <cstdint>

namespace goro::common {

/// note is a one-shot event on a futex. One thread sleeps on it, another
/// wakes it once; a wake-up that comes before the sleep is not lost, it
/// makes the sleep return at once. Reuse needs clear() first, by the
/// sleeper, when no wake-up can be in flight.
class note {
 public:
  /// noteclear: make the note ready to be slept on again.
  void clear() { key_.store(0, std::memory_order_relaxed); }
  /// notewakeup: wake the sleeper (or the next sleep). Waking a note twice
  /// without a clear in between is a runtime bug and ends the program.
  void wakeup();
  /// Wakes the sleeper unless the note is already woken; for notes that
  /// several threads may poke as a hint (sysmon's). Returns whether it woke.
  bool try_wakeup();
  /// notesleep: sleep until wakeup() has been called.
  void sleep();
  /// notetsleep: sleep until wakeup() or until timeout_ns have passed
  /// (negative: no limit). Returns whether the note was woken.
  bool tsleep(int64_t timeout_ns);
  /// Whether wakeup() has been called since the last clear().
  bool woken() const { return key_.load(std::memory_order_acquire) != 0; }

 private:
  std::atomic<uint32_t> key_{0};
};

}  // namespace goro::common
