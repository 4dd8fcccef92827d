// What the C++ workloads share. Twin of bench/go/work/work.go: the same CPU
// job, the same task generator, the same way for main to wait, so that goro
// and Go do the same work. Change one, change the other.
#pragma once

#include <goro/goro.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>

namespace bench {

using Clock = std::chrono::steady_clock;

// The CPU job: iters rounds of xorshift64 from seed, returning the sum of the
// states. The sum goes into a printed checksum, so the loop cannot be
// dropped, and it has no closed form.
inline std::uint64_t spin(std::uint64_t seed, std::int64_t iters) {
  std::uint64_t x = seed | 1;  // xorshift must not start from 0
  std::uint64_t sum = 0;
  for (std::int64_t i = 0; i < iters; ++i) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    sum += x;
  }
  return sum;
}

// Linear congruential generator with Knuth's MMIX constants; next() returns
// the top 31 bits of the state.
struct Lcg {
  std::uint64_t state;
  std::uint64_t next() {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    return state >> 33;
  }
};

// The next task of the imbalance workload: a seed for spin() and a size in
// units. One task in a hundred weighs 100 units, the rest 1 to 8.
struct Task {
  std::uint64_t seed;
  std::int64_t units;
};
inline Task next_task(Lcg& g) {
  std::uint64_t seed = g.next();
  std::uint64_t r = g.next();
  if (r % 100 == 0) return {seed, 100};
  return {seed, static_cast<std::int64_t>(1 + r % 8)};
}

// Counts goroutines that are done. The one that brings the count to n notes
// the time, so the figure ends when the work ends, not when main next gets
// to look.
class Latch {
 public:
  // Arms the latch for n completions and starts the clock.
  void start(std::int64_t n) {
    n_ = n;
    count_.store(0);
    done_.store(false);
    start_ = Clock::now();
  }

  void done() {
    if (count_.fetch_add(1) + 1 == n_) {
      end_ns_.store((Clock::now() - start_).count());
      done_.store(true);  // after end_ns_, so wait() never reads it too early
    }
  }

  // How main waits in every workload: it yields until the last done(), as
  // goro's first chapters have no channels or WaitGroup. Returns how many
  // times main yielded.
  std::int64_t wait() {
    std::int64_t yields = 0;
    while (!done_.load()) {
      goro::gosched();
      ++yields;
    }
    return yields;
  }

  // How main waits where sleep_for exists (chapter 2 on: syscall, timers):
  // it sleeps 1 ms at a time, so that it does not hold a P that the work
  // needs. A goroutine that spins on gosched() is always runnable, and a
  // runtime without preemption lets it take turns with CPU-bound work.
#if GORO_CHAPTER >= 2
  void wait_sleeping() {
    while (!done_.load()) goro::sleep_for(std::chrono::milliseconds(1));
  }
#endif

  // Nanoseconds from start() to the last done().
  double elapsed_ns() const { return static_cast<double>(end_ns_.load()); }
  double elapsed_ms() const { return elapsed_ns() / 1e6; }

 private:
  std::int64_t n_ = 0;
  Clock::time_point start_;
  std::atomic<std::int64_t> count_{0};
  std::atomic<Clock::rep> end_ns_{0};
  std::atomic<bool> done_{false};
};

// Reads "--name value" or "--name=value" (one dash works too, as in Go's
// flag package), or returns fallback.
inline long arg(int argc, char** argv, const char* name, long fallback) {
  for (int i = 1; i < argc; ++i) {
    const char* a = argv[i];
    if (*a != '-') continue;
    a += (a[1] == '-') ? 2 : 1;
    std::size_t len = std::strlen(name);
    if (std::strncmp(a, name, len) != 0) continue;
    if (a[len] == '=') return std::atol(a + len + 1);
    if (a[len] == '\0' && i + 1 < argc) return std::atol(argv[i + 1]);
  }
  return fallback;
}

}  // namespace bench
