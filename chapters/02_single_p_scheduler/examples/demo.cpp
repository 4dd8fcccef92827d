// demo.cpp: chapter 02's scheduler at work, on its one P: the order in
// which goroutines run, sleeping without a thread, and why a blocking call
// is a problem when there is only one M.
#include <goro/goro.hpp>
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <thread>
#include <vector>

#include "goro/common/trace.hpp"

namespace {
using namespace std::chrono_literals;
using clk = std::chrono::steady_clock;
namespace trace = goro::common::trace;

double ms_since(clk::time_point t0) {
  return std::chrono::duration<double, std::milli>(clk::now() - t0).count();
}

void spin_for(std::chrono::microseconds d) {
  auto end = clk::now() + d;
  while (clk::now() < end) {
  }
}

double cpu_ms() {
  rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 +
         (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
}

// 1. Main (G1) starts G2..G4; each works 2 ms then yields, three times.
void run_queue_order() {
  std::vector<long> order;
  std::vector<trace::event> events;
  goro::run([&] {
    std::atomic<int> done{0};
    for (int i = 0; i < 3; i++) {
      goro::go([&] {
        for (int k = 0; k < 3; k++) {
          spin_for(2ms);
          goro::gosched();
        }
        done++;
      });
    }
    trace::start();
    while (done.load() < 3) goro::gosched();
    events = trace::stop();
  });
  std::printf("1. One P, one run queue: G1 (main) started G2, G3, G4; each spins 2 ms\n");
  std::printf("   and calls gosched(), three times. The goroutines, in the order they ran:\n   ");
  for (const auto& e : events) {
    if (e.kind == trace::ev::run) std::printf("G%ld ", e.g);
  }
  std::printf("\n   gosched() puts the caller on the global queue; the P takes its local\n");
  std::printf("   queue first, then a batch from the global one: FIFO, round after round.\n");
  trace::print_timeline(events, 1, 60);
  std::printf("\n");
}

// 2. Five goroutines sleep different times; the M sleeps until the next
// timer instead of spinning.
void sleeping() {
  std::vector<int> woke;
  double cpu = 0, wall = 0;
  goro::run([&] {
    std::atomic<int> done{0};
    for (int ms : {50, 10, 40, 20, 30}) {
      goro::go([&, ms] {
        goro::sleep_for(std::chrono::milliseconds(ms));
        woke.push_back(ms);
        done++;
      });
    }
    double c0 = cpu_ms();
    auto t0 = clk::now();
    goro::sleep_for(200ms);  // everybody sleeps: the thread has nothing to do
    cpu = cpu_ms() - c0;
    wall = ms_since(t0);
  });
  std::printf("2. Sleeping: five goroutines sleep 50, 10, 40, 20, 30 ms; they wake in order:\n   ");
  for (int ms : woke) std::printf("%d ", ms);
  std::printf("\n   while all were asleep for %.0f ms the process used %.1f ms of CPU:\n", wall, cpu);
  std::printf("   the M slept until the next timer, it did not spin.\n\n");
}

// 3. A ticker goroutine prints every 10 ms; another makes a 100 ms blocking
// call through goro::syscall. With one M, the ticker stops too.
void blocking_call() {
  double longest_gap = 0;
  goro::run([&] {
    std::atomic<bool> stop{false};
    std::atomic<int> done{0};
    goro::go([&] {
      auto last = clk::now();
      while (!stop.load()) {
        goro::sleep_for(10ms);
        longest_gap = std::max(longest_gap, ms_since(last));
        last = clk::now();
      }
      done++;
    });
    goro::go([&] {
      goro::sleep_for(30ms);
      goro::syscall([] { std::this_thread::sleep_for(100ms); });
      goro::sleep_for(30ms);
      stop = true;
      done++;
    });
    while (done.load() < 2) goro::sleep_for(5ms);
  });
  std::printf("3. A blocking call: a ticker wakes every 10 ms while another goroutine\n");
  std::printf("   blocks its thread for 100 ms in goro::syscall.\n");
  std::printf("   longest gap between ticks: %.0f ms. One M means one blocked thread\n", longest_gap);
  std::printf("   stops every goroutine (chapter 04 fixes this).\n\n");
}

// 4. What the scheduler costs.
void costs() {
  const int n = 200000, batch = 1000;
  double spawn_ns = 0, gosched_ns = 0;
  goro::run([&] {
    std::atomic<int> done{0};
    auto t0 = clk::now();
    for (int b = 0; b < n / batch; b++) {
      for (int i = 0; i < batch; i++) goro::go([&] { done++; });
      while (done.load() < (b + 1) * batch) goro::gosched();
    }
    spawn_ns = ms_since(t0) * 1e6 / n;
  });
  const int yields = 1000000;
  goro::run([&] {
    std::atomic<int> done{0};
    auto t0 = clk::now();
    for (int k = 0; k < 2; k++) {
      goro::go([&] {
        for (int i = 0; i < yields; i++) goro::gosched();
        done++;
      });
    }
    while (done.load() < 2) goro::gosched();
    gosched_ns = ms_since(t0) * 1e6 / (2.0 * yields);
  });
  std::printf("4. Costs at one P (measured here)\n");
  std::printf("   spawn + run an empty goroutine: %6.0f ns (1,000 at a time, stacks reused)\n", spawn_ns);
  std::printf("   gosched between two goroutines: %6.1f ns (G -> g0 -> global queue -> G)\n", gosched_ns);
}

}  // namespace

int main() {
  std::printf("Chapter 02: the single-P scheduler\n\n");
  run_queue_order();
  sleeping();
  blocking_call();
  costs();
}
