// counter.hpp: a counter with one writer at a time, read by anyone without
// a lock. Introduced in chapter 02; no chapter changes it.
#pragma once

#include <atomic>

namespace goro::common {

/// add_counter adds delta to c, a counter that only one thread writes at a
/// time (its P's M, or whoever holds the lock that guards it) but that
/// others read without a lock (Go keeps sched.npidle and p.runqsize this
/// way). A relaxed load and store are enough: no locked read-modify-write,
/// which is the dearest instruction on the scheduler's path.
template <class T>
void add_counter(std::atomic<T>& c, T delta) {
  c.store(c.load(std::memory_order_relaxed) + delta, std::memory_order_relaxed);
}

}  // namespace goro::common
