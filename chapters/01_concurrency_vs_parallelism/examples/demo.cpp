// demo.cpp: chapter 01's lesson, measured. Concurrency (many goroutines
// taking turns on one thread) costs no extra time; parallelism (several
// threads) saves time; a fixed share of the work per thread leaves a thread
// idle; and coroutines are far cheaper than threads to create and switch.
#include <goro/goro.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <mutex>
#include <thread>
#include <vector>

#include "goro/common/context.hpp"
#include "goro/common/stack.hpp"

namespace {
using clk = std::chrono::steady_clock;

double ms_since(clk::time_point t0) {
  return std::chrono::duration<double, std::milli>(clk::now() - t0).count();
}

// One unit of CPU work the compiler cannot skip.
std::uint64_t work(std::uint64_t units) {
  std::uint64_t x = 88172645463325252ULL;
  for (std::uint64_t i = 0; i < units * 20000; i++) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
  }
  return x;
}

std::atomic<std::uint64_t> sink{0};

// Runs `tasks` goroutines of `units` each, yielding after every unit;
// returns the wall time and fills `order` with who ran, at one P.
double run_tasks(int procs, int tasks, int units, std::vector<int>* order) {
  auto t0 = clk::now();
  goro::run(
      [&] {
        std::atomic<int> done{0};
        for (int t = 0; t < tasks; t++) {
          goro::go([&, t] {
            for (int u = 0; u < units; u++) {
              sink += work(1);
              if (order != nullptr && order->size() < 16) order->push_back(t);
              goro::gosched();
            }
            done++;
          });
        }
        while (done.load() < tasks) goro::gosched();
      },
      goro::Config{.procs = procs});
  return ms_since(t0);
}

void concurrency_vs_parallelism() {
  const int tasks = 4, units = 400;
  auto t0 = clk::now();
  for (int i = 0; i < tasks * units; i++) sink += work(1);
  const double sequential = ms_since(t0);
  std::vector<int> order;
  const double one = run_tasks(1, tasks, units, &order);
  const double two = run_tasks(2, tasks, units, nullptr);
  std::printf("1. Concurrency vs parallelism: %d CPU-bound tasks of %d units\n", tasks, units);
  std::printf("   plain loop, no goroutines:        %7.1f ms\n", sequential);
  std::printf("   4 goroutines on 1 thread:         %7.1f ms  (concurrency: same work, same time)\n", one);
  std::printf("   4 goroutines on 2 threads:        %7.1f ms  (parallelism: speedup %.2fx)\n", two, one / two);
  std::printf("   who ran, at 1 thread, first 16 turns: ");
  for (int t : order) std::printf("%c", 'A' + t);
  std::printf("  (they take turns at each gosched)\n\n");
}

// The flaw: goroutine k belongs to thread (k-1) % procs. Make every task of
// thread 1 heavy and every task of thread 0 light, and note when each
// thread finished its share.
void fixed_share_imbalance() {
  std::mutex mu;
  double finished[2] = {0, 0};
  auto t0 = clk::now();
  goro::run(
      [&] {
        std::atomic<int> done{0};
        // Goroutines 2..9: even ids go to thread 1, odd ids to thread 0.
        for (int id = 2; id < 10; id++) {
          const bool heavy = id % 2 == 0;
          goro::go([&, heavy] {
            for (int u = 0; u < (heavy ? 300 : 25); u++) {
              sink += work(1);
              goro::gosched();
            }
            std::lock_guard<std::mutex> l(mu);
            double& f = finished[heavy ? 1 : 0];
            if (ms_since(t0) > f) f = ms_since(t0);
            done++;
          });
        }
        while (done.load() < 8) goro::gosched();
      },
      goro::Config{.procs = 2});
  const double wall = ms_since(t0);
  std::printf("2. A fixed share per thread: 4 heavy goroutines on thread 1, 4 light ones on thread 0\n");
  std::printf("   thread 0 finished its share after %6.1f ms\n", finished[0]);
  std::printf("   thread 1 finished its share after %6.1f ms (wall time %.1f ms)\n", finished[1], wall);
  std::printf("   thread 0 sat idle %.0f%% of the run: nothing moves work between threads yet\n\n",
              100.0 * (wall - finished[0]) / wall);
}

// Cost of a thread versus a goroutine.
void costs() {
  const int n = 2000;
  auto t0 = clk::now();
  for (int i = 0; i < n; i++) std::thread([] {}).join();
  const double thread_ns = ms_since(t0) * 1e6 / n;

  // Goroutines are spawned 1,000 at a time and left to finish before the
  // next batch, so their stacks are reused: this measures the runtime, not
  // the kernel's first touch of fresh stack pages.
  const int gn = 200000, batch = 1000;
  double goroutine_ns = 0;
  goro::run(
      [&] {
        std::atomic<int> done{0};
        auto s = clk::now();
        for (int b = 0; b < gn / batch; b++) {
          for (int i = 0; i < batch; i++) goro::go([&] { done++; });
          while (done.load() < (b + 1) * batch) goro::gosched();
        }
        goroutine_ns = ms_since(s) * 1e6 / gn;
      },
      goro::Config{.procs = 1});

  // Switching: two threads taking turns through a condition variable,
  // versus two goroutines taking turns with gosched on one thread.
  const int rounds = 20000;
  std::mutex mu;
  std::condition_variable cv;
  int turn = 0;
  t0 = clk::now();
  std::thread other([&] {
    for (int i = 0; i < rounds; i++) {
      std::unique_lock<std::mutex> l(mu);
      cv.wait(l, [&] { return turn == 1; });
      turn = 0;
      cv.notify_one();
    }
  });
  for (int i = 0; i < rounds; i++) {
    std::unique_lock<std::mutex> l(mu);
    turn = 1;
    cv.notify_one();
    cv.wait(l, [&] { return turn == 0; });
  }
  other.join();
  const double thread_switch_ns = ms_since(t0) * 1e6 / (2.0 * rounds);

  const int yields = 1000000;
  double gosched_ns = 0;
  goro::run(
      [&] {
        std::atomic<int> done{0};
        auto s = clk::now();
        for (int k = 0; k < 2; k++) {
          goro::go([&] {
            for (int i = 0; i < yields; i++) goro::gosched();
            done++;
          });
        }
        while (done.load() < 2) goro::gosched();
        gosched_ns = ms_since(s) * 1e6 / (2.0 * yields);
      },
      goro::Config{.procs = 1});

  // The raw switch of common/context.cpp: there and back again.
  goro::common::stack_pool pool(64 * 1024);
  goro::common::stack st = pool.get();
  static goro::common::context main_ctx, co;
  goro::common::init_thread_context(main_ctx);
  goro::common::make_context(co, st.lo, st.size, st.hi(), [](void*) {
    for (;;) goro::common::switch_context(co, main_ctx, nullptr);
  });
  const int switches = 2000000;
  t0 = clk::now();
  for (int i = 0; i < switches; i++) goro::common::switch_context(main_ctx, co, nullptr);
  const double switch_ns = ms_since(t0) * 1e6 / (2.0 * switches);
  goro::common::release_context(co);

  std::printf("3. What a thread costs, and what a goroutine costs (measured here)\n");
  std::printf("   create + run + join an OS thread:   %9.0f ns\n", thread_ns);
  std::printf("   spawn + run an empty goroutine:     %9.0f ns  (%.0fx cheaper; 1,000 at a time)\n", goroutine_ns,
              thread_ns / goroutine_ns);
  std::printf("   switch between two threads:         %9.0f ns  (condition variable ping-pong)\n",
              thread_switch_ns);
  std::printf("   gosched between two goroutines:     %9.1f ns  (goroutine -> thread's loop -> goroutine)\n",
              gosched_ns);
  std::printf("   one context switch (fcontext):      %9.1f ns  (half of a there-and-back)\n", switch_ns);
}

}  // namespace

int main() {
  std::printf("Chapter 01: concurrency vs parallelism (%u CPUs)\n\n",
              std::thread::hardware_concurrency());
  concurrency_vs_parallelism();
  fixed_share_imbalance();
  costs();
  return sink.load() == 42 ? 1 : 0;  // keep the work alive
}
