// imbalance: can the other Ps take a share of work that one goroutine made?
//
// main alone starts n CPU-bound tasks (2,000 by default) of skewed sizes
// (bench::next_task: most weigh 1-8 units, one in a hundred 100 units), then
// waits. Run at procs 1 and 2; figure: wall ms from the first spawn to the
// last task done. procs1/procs2 is the speedup (the runner computes it; 2 is
// ideal). The checksum (sum of every task's result) must equal the Go side's.
// Twin: bench/go/imbalance/main.go.
#include <cstdio>

#include "common.hpp"

namespace {
constexpr std::int64_t kUnit = 40'000;  // spin() iterations per unit of size
}

int main(int argc, char** argv) {
  const int procs = static_cast<int>(bench::arg(argc, argv, "procs", 1));
  const long n = bench::arg(argc, argv, "n", 2000);

  return goro::run(
      [&] {
        std::atomic<std::uint64_t> checksum{0};
        bench::Latch latch;
        bench::Lcg rng{1};
        latch.start(n);
        for (long i = 0; i < n; ++i) {
          const bench::Task t = bench::next_task(rng);
          goro::go([&checksum, &latch, t] {
            checksum.fetch_add(bench::spin(t.seed, t.units * kUnit));
            latch.done();
          });
        }
        latch.wait();

        std::printf("RESULT imbalance procs=%d n=%ld wall_ms=%.1f checksum=%llu\n",
                    goro::gomaxprocs(), n, latch.elapsed_ms(),
                    static_cast<unsigned long long>(checksum.load()));
      },
      {.procs = procs});
}
