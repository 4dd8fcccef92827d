// demo.cpp: the article's syscall scenario, measured. At procs=1, G2 blocks
// its thread M0 in a system call; sysmon takes P0 from M0 and hands it to
// M1, where the other goroutines keep running; when the call returns M0
// finds no free P, puts G2 on the global queue and sleeps in the idle list.
#include <goro/goro.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
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

void article_scenario() {
  std::vector<trace::event> events;
  double longest_gap = 0;
  goro::run(
      [&] {
        std::atomic<bool> stop{false};
        std::atomic<int> done{0};
        trace::start();
        // G2, G3: keep the P busy, yielding often.
        for (int i = 0; i < 2; i++) {
          goro::go([&] {
            auto last = clk::now();
            while (!stop.load()) {
              auto end = clk::now() + 200us;
              while (clk::now() < end) {
              }
              goro::gosched();
              longest_gap = std::max(longest_gap, ms_since(last));
              last = clk::now();
            }
            done++;
          });
        }
        // G4: five blocking calls of 20 ms, 1 ms apart.
        goro::go([&] {
          goro::sleep_for(20ms);
          for (int i = 0; i < 5; i++) {
            goro::syscall([&] { std::this_thread::sleep_for(20ms); });
            goro::sleep_for(1ms);
          }
          stop = true;
          done++;
        });
        while (done.load() < 3) goro::sleep_for(5ms);
        events = trace::stop();
      },
      goro::Config{.procs = 1});

  std::printf("1. procs=1: G4 blocks its thread five times for 20 ms in goro::syscall\n");
  std::printf("   while G2 and G3 keep yielding (each works 200 us between yields).\n");
  std::printf("   How long after each call began sysmon handed P0 to another M:\n   ");
  std::int64_t entered = 0;
  for (const auto& e : events) {
    if (e.kind == trace::ev::syscall) entered = e.ns;
    if (e.kind == trace::ev::handoff && entered != 0) {
      std::printf("%.0f us  ", (e.ns - entered) / 1e3);
      entered = 0;
    }
  }
  std::printf("\n   It depends on sysmon's back-off: it looks every 20 us while it finds\n");
  std::printf("   work, and doubles its sleep after 1 ms without any, up to 10 ms; and\n");
  std::printf("   it takes a P on the second look that finds it in the same call.\n");
  std::printf("   Longest pause seen by G2/G3: %.1f ms (in chapter 02: the whole call).\n\n",
              longest_gap);
}

// Many goroutines blocking at once: each needs its own thread while it
// blocks, and the threads are reused afterwards.
void thread_count() {
  std::printf("2. GORO_SCHEDTRACE=50 while 8 goroutines block for 120 ms each at\n");
  std::printf("   procs=2, then sleep, then block again (threads= counts sysmon's too):\n");
  std::fflush(stdout);
  setenv("GORO_SCHEDTRACE", "50", 1);
  goro::run(
      [&] {
        std::atomic<int> done{0};
        for (int i = 0; i < 8; i++) {
          goro::go([&] {
            for (int round = 0; round < 2; round++) {
              goro::syscall([] { std::this_thread::sleep_for(120ms); });
              goro::sleep_for(80ms);
            }
            done++;
          });
        }
        while (done.load() < 8) goro::sleep_for(5ms);
      },
      goro::Config{.procs = 2});
  unsetenv("GORO_SCHEDTRACE");
  std::fflush(stderr);
  std::printf("   While the calls block, each blocked goroutine holds a thread (an M)\n");
  std::printf("   and the Ps are free for others; between the rounds those Ms wait in\n");
  std::printf("   the idle list (idlethreads), and the second round reuses them.\n\n");
}

// The bench's syscall workload in small: a CPU job on 2 goroutines, with
// and without 16 goroutines making 1 ms blocking calls.
double cpu_job(bool blockers) {
  double took = 0;
  goro::run(
      [&] {
        std::atomic<bool> stop{false};
        std::atomic<int> done{0}, cpu_done{0};
        if (blockers) {
          for (int i = 0; i < 16; i++) {
            goro::go([&] {
              while (!stop.load()) goro::syscall([] { std::this_thread::sleep_for(1ms); });
              done++;
            });
          }
        }
        auto t0 = clk::now();
        for (int i = 0; i < 2; i++) {
          goro::go([&] {
            std::uint64_t x = 1;
            for (int k = 0; k < 100; k++) {
              for (int j = 0; j < 200000; j++) x = x * 6364136223846793005ULL + 1;
              goro::gosched();
            }
            cpu_done += static_cast<int>(x & 1) + 1;
          });
        }
        while (cpu_done.load() < 2) goro::sleep_for(1ms);
        took = ms_since(t0);
        stop = true;
        while (blockers && done.load() < 16) goro::sleep_for(1ms);
      },
      goro::Config{.procs = 2});
  return took;
}

}  // namespace

int main() {
  std::printf("Chapter 04: syscall handoff\n\n");
  article_scenario();
  thread_count();
  const double alone = cpu_job(false), with = cpu_job(true);
  std::printf("3. A CPU job on 2 goroutines at procs=2: %.0f ms alone, %.0f ms while 16\n", alone, with);
  std::printf("   goroutines make 1 ms blocking calls: slowdown %.2fx.\n", with / alone);
}
