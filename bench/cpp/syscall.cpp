// syscall: does a goroutine blocked in a system call hold up the others?
//
// At procs=2, two goroutines run a fixed CPU job (bench::spin, --cpu million
// iterations each). Phase 1 runs the job alone; phase 2 runs it again while
// 16 goroutines each make n (50 by default) blocking 1 ms sleeps through
// goro::syscall. From chapter 4 on, a P blocked that way is handed to another
// M; before that the sleep blocks the M and its P: that is the lesson.
// Figures: the CPU job's wall ms alone and with the blockers, and their
// ratio, the slowdown (1 is ideal).
// Twin: bench/go/syscall/main.go, which calls syscall.Nanosleep.
#include <cstdio>
#include <thread>

#include "common.hpp"

namespace {
constexpr int kBlockers = 16;
std::atomic<std::uint64_t> checksum{0};  // of the CPU job; same in both phases
std::atomic<long> sleeps{0};             // blocking calls that returned

// Runs the CPU job, with the blockers if asked, and returns the CPU job's
// wall ms (from the start of the phase to the CPU job's end).
double phase(bool with_blockers, long n, std::int64_t cpu_iters) {
  bench::Latch cpu, blocked;
  checksum.store(0);
  cpu.start(2);
  if (with_blockers) {
    blocked.start(kBlockers);
    for (int b = 0; b < kBlockers; ++b) {
      goro::go([&blocked, n] {
        for (long i = 0; i < n; ++i) {
          // The lambda's result comes back through goro::syscall.
          sleeps += goro::syscall([] {
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
            return 1;
          });
        }
        blocked.done();
      });
    }
  }
  for (std::uint64_t seed = 1; seed <= 2; ++seed) {
    goro::go([&cpu, seed, cpu_iters] {
      checksum.fetch_add(bench::spin(seed, cpu_iters));
      cpu.done();
    });
  }
  cpu.wait_sleeping();
  if (with_blockers) blocked.wait_sleeping();
  return cpu.elapsed_ms();
}
}  // namespace

int main(int argc, char** argv) {
  const int procs = static_cast<int>(bench::arg(argc, argv, "procs", 2));
  const long n = bench::arg(argc, argv, "n", 50);
  const std::int64_t cpu_iters = bench::arg(argc, argv, "cpu", 60) * 1'000'000LL;

  int status = 0;
  goro::run(
      [&] {
        const double alone = phase(false, n, cpu_iters);
        const std::uint64_t sum_alone = checksum.load();
        const double with = phase(true, n, cpu_iters);
        if (checksum.load() != sum_alone || sleeps.load() != kBlockers * n) {
          std::fprintf(stderr, "syscall: wrong checksum or sleep count\n");
          status = 1;
          return;
        }
        std::printf(
            "RESULT syscall procs=%d n=%ld alone_ms=%.1f blocked_ms=%.1f "
            "slowdown=%.2f checksum=%llu\n",
            goro::gomaxprocs(), n, alone, with, with / alone,
            static_cast<unsigned long long>(sum_alone));
      },
      {.procs = procs});
  return status;
}
