// timer_heap.hpp: a 4-ary min-heap of timers keyed by their deadline, the
// shape of Go's per-P timer heap (runtime/time.go: siftupTimer,
// siftdownTimer). Introduced in chapter 02; no chapter changes it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

namespace goro::common {

/// timer_heap holds (when, T*) pairs and gives back the earliest first.
/// Go uses a 4-ary heap because it is shallower than a binary one and its
/// four children share a cache line. Not thread-safe: its P guards it.
template <class T>
class timer_heap {
 public:
  /// One timer: fire at `when` (nanotime), for `what`.
  struct entry {
    int64_t when;  ///< deadline, in nanotime()
    T* what;       ///< what the timer is for (a sleeping G)
  };
  /// Whether there are no timers.
  bool empty() const { return h_.empty(); }
  /// The number of timers.
  std::size_t size() const { return h_.size(); }
  /// The earliest deadline; only when !empty().
  int64_t next_when() const { return h_.front().when; }
  /// add inserts a timer.
  void add(int64_t when, T* what) {
    h_.push_back({when, what});
    siftup(h_.size() - 1);
  }
  /// pop removes and returns the earliest timer; only when !empty().
  entry pop() {
    entry top = h_.front();
    h_.front() = h_.back();
    h_.pop_back();
    if (!h_.empty()) siftdown(0);
    return top;
  }
  /// clear drops every timer and frees the heap's memory.
  void clear() { std::vector<entry>().swap(h_); }
  /// Visit every timer, in no particular order.
  template <class F>
  void for_each(F f) const {
    for (const entry& e : h_) f(e);
  }

 private:
  void siftup(std::size_t i) {
    entry e = h_[i];
    while (i > 0) {
      std::size_t parent = (i - 1) / 4;
      if (e.when >= h_[parent].when) break;
      h_[i] = h_[parent];
      i = parent;
    }
    h_[i] = e;
  }
  void siftdown(std::size_t i) {
    const std::size_t n = h_.size();
    entry e = h_[i];
    for (;;) {
      std::size_t c = 4 * i + 1;
      if (c >= n) break;
      std::size_t best = c;
      for (std::size_t k = c + 1; k < c + 4 && k < n; k++) {
        if (h_[k].when < h_[best].when) best = k;
      }
      if (h_[best].when >= e.when) break;
      h_[i] = h_[best];
      i = best;
    }
    h_[i] = e;
  }
  std::vector<entry> h_;
};

}  // namespace goro::common
