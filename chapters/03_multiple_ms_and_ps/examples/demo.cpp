// demo.cpp: chapter 03 at work: GOMAXPROCS Ps run goroutines in parallel,
// but a P's local queue is its own, so where a goroutine is created decides
// where it runs, and an unlucky split leaves a P idle.
#include <goro/goro.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <mutex>
#include <vector>

#include "goro/common/trace.hpp"

namespace {
using namespace std::chrono_literals;
using clk = std::chrono::steady_clock;
namespace trace = goro::common::trace;

double ms_since(clk::time_point t0) {
  return std::chrono::duration<double, std::milli>(clk::now() - t0).count();
}

std::atomic<std::uint64_t> sink{0};
std::uint64_t work(int units) {
  std::uint64_t x = 88172645463325252ULL;
  for (long i = 0; i < units * 20000L; i++) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
  }
  return x;
}

// Runs 8 CPU-bound tasks of 200 units each, spawned by main; `yield`: call
// gosched after every unit. Returns wall ms; fills how many units each P ran.
double eight_tasks(int procs, bool yield, std::vector<trace::event>* events) {
  auto t0 = clk::now();
  goro::run(
      [&] {
        std::atomic<int> done{0};
        if (events) trace::start();
        for (int t = 0; t < 8; t++) {
          goro::go([&] {
            for (int u = 0; u < 200; u++) {
              sink += work(1);
              if (yield) goro::gosched();
            }
            done++;
          });
        }
        while (done.load() < 8) goro::sleep_for(1ms);
        if (events) *events = trace::stop();
      },
      goro::Config{.procs = procs});
  return ms_since(t0);
}

void per_p(const std::vector<trace::event>& events) {
  std::map<int, std::map<long, int>> runs;  // P -> G -> times started
  for (const auto& e : events) {
    if (e.kind == trace::ev::run && e.g != 1) runs[e.p][e.g]++;
  }
  for (int p = 0; p < 2; p++) {
    std::printf("   P%d ran %zu of the 8 goroutines\n", p, runs[p].size());
  }
}

}  // namespace

int main() {
  std::printf("Chapter 03: multiple Ms and Ps\n\n");

  std::vector<trace::event> events;
  double one = eight_tasks(1, false, nullptr);
  double stuck = eight_tasks(2, false, &events);
  std::printf("1. Main spawns 8 CPU-bound goroutines that never yield, at procs=2.\n");
  std::printf("   New goroutines go to the spawning P's local queue, and nobody else may\n");
  std::printf("   take from it:\n");
  per_p(events);
  trace::print_timeline(events, 2, 60);
  std::printf("   wall %.0f ms, against %.0f ms at procs=1: no speedup at all.\n\n", stuck, one);

  double one_y = eight_tasks(1, true, nullptr);
  double two_y = eight_tasks(2, true, &events);
  std::printf("2. The same goroutines calling gosched() after each unit of work.\n");
  std::printf("   gosched puts them on the global queue, which every P reads:\n");
  per_p(events);
  trace::print_timeline(events, 2, 60);
  std::printf("   wall %.0f ms at procs=2, against %.0f ms at procs=1: speedup %.2fx\n\n",
              two_y, one_y, one_y / two_y);

  std::printf("3. GORO_SCHEDTRACE=20: the scheduler's state every 20 ms while main\n");
  std::printf("   spawns 8 more non-yielding goroutines on P0 (runqueue = global\n");
  std::printf("   queue, [..] = each P's local queue):\n");
  std::fflush(stdout);
  setenv("GORO_SCHEDTRACE", "20", 1);
  goro::run(
      [&] {
        std::atomic<int> done{0};
        for (int t = 0; t < 8; t++) {
          goro::go([&] {
            sink += work(150);
            done++;
          });
        }
        while (done.load() < 8) goro::sleep_for(1ms);
      },
      goro::Config{.procs = 2});
  unsetenv("GORO_SCHEDTRACE");
  std::fflush(stderr);
  std::printf("   The queue on P0 drains one goroutine at a time while P1 stays idle.\n");
  return sink.load() == 42;
}
