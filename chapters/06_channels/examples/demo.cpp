// demo.cpp: chapter 03's imbalance again, now balanced by stealing: main
// spawns CPU-bound goroutines on its own P, and the idle P takes half.
#include <goro/goro.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <map>
#include <set>
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

// n CPU-bound goroutines of `units` each, spawned by main, never yielding.
double tasks(int procs, int n, int units, std::vector<trace::event>* events) {
  auto t0 = clk::now();
  goro::run(
      [&] {
        std::atomic<int> done{0};
        if (events) trace::start();
        for (int t = 0; t < n; t++) {
          goro::go([&] {
            sink += work(units);
            done++;
          });
        }
        while (done.load() < n) goro::sleep_for(1ms);
        if (events) *events = trace::stop();
      },
      goro::Config{.procs = procs});
  return ms_since(t0);
}

void report(const std::vector<trace::event>& events, int nprocs) {
  std::map<int, std::set<long>> ran;
  std::map<int, long> stolen, steals;
  for (const auto& e : events) {
    if (e.kind == trace::ev::run && e.g != 1) ran[e.p].insert(e.g);
    if (e.kind == trace::ev::steal) {
      stolen[e.p] += e.arg;
      steals[e.p]++;
    }
  }
  for (int p = 0; p < nprocs; p++) {
    std::printf("   P%d ran %2zu goroutines; stole %ld of them in %ld steals\n", p, ran[p].size(),
                stolen[p], steals[p]);
  }
}

}  // namespace

int main() {
  std::printf("Chapter 05: work stealing\n\n");
  std::vector<trace::event> events;
  const double one = tasks(1, 8, 150, nullptr);
  const double two = tasks(2, 8, 150, &events);
  std::printf("1. Main spawns 8 CPU-bound goroutines that never yield, at procs=2\n");
  std::printf("   (chapter 03: all 8 ran on P0 while P1 idled).\n");
  report(events, 2);
  trace::print_timeline(events, 2, 60);
  std::printf("   wall %.0f ms at procs=2, %.0f ms at procs=1: speedup %.2fx\n\n", two, one, one / two);

  const double one_many = tasks(1, 2000, 1, nullptr);
  const double two_many = tasks(2, 2000, 1, &events);
  std::printf("2. 2,000 small goroutines spawned by main at procs=2: P1 steals half of\n");
  std::printf("   P0's queue at a time, P0 refills it as main spawns.\n");
  report(events, 2);
  std::printf("   wall %.0f ms at procs=2, %.0f ms at procs=1: speedup %.2fx\n", two_many, one_many,
              one_many / two_many);
  return sink.load() == 42;
}
