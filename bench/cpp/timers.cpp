// timers: many sleeping goroutines at once.
//
// main starts n goroutines (100,000 by default) that each sleep 10 ms with
// goro::sleep_for, then waits for all. Figure: wall ms from the first spawn
// to the last one done (10 ms is the floor). Every 64th goroutine checks that
// it did not wake early; the rest skip the clock reads so they cost nothing
// extra. Twin: bench/go/timers/main.go.
#include <cstdio>

#include "common.hpp"

namespace {
constexpr std::chrono::milliseconds kNap{10};
}

int main(int argc, char** argv) {
  const int procs = static_cast<int>(bench::arg(argc, argv, "procs", 1));
  const long n = bench::arg(argc, argv, "n", 100'000);

  int status = 0;
  goro::run(
      [&] {
        std::atomic<long> early{0};
        bench::Latch latch;
        latch.start(n);
        for (long i = 0; i < n; ++i) {
          goro::go([&early, &latch](bool check) {
            bench::Clock::time_point t0;
            if (check) t0 = bench::Clock::now();
            goro::sleep_for(kNap);
            if (check && bench::Clock::now() - t0 < kNap) ++early;
            latch.done();
          }, i % 64 == 0);
        }
        latch.wait_sleeping();
        if (early.load() != 0) {
          std::fprintf(stderr, "timers: a goroutine woke early\n");
          status = 1;
          return;
        }
        std::printf("RESULT timers procs=%d n=%ld wall_ms=%.1f\n",
                    goro::gomaxprocs(), n, latch.elapsed_ms());
      },
      {.procs = procs});
  return status;
}
