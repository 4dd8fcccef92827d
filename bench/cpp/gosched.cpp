// gosched: the cost of one yield, a switch from one goroutine to the next.
//
// At procs=1, two goroutines each call gosched() n times (1,000,000 by
// default). main waits by yielding too (see bench::Latch::wait), so it takes
// part in the rotation; its yields are counted and included:
//   ns per yield = wall time / (2n + main's yields).
// Twin: bench/go/gosched/main.go.
#include <cstdio>

#include "common.hpp"

int main(int argc, char** argv) {
  const int procs = static_cast<int>(bench::arg(argc, argv, "procs", 1));
  const long n = bench::arg(argc, argv, "n", 1'000'000);

  return goro::run(
      [&] {
        bench::Latch latch;
        latch.start(2);
        for (int w = 0; w < 2; ++w) {
          goro::go([&latch, n] {
            for (long i = 0; i < n; ++i) goro::gosched();
            latch.done();
          });
        }
        const long main_yields = latch.wait();

        const double yields = 2.0 * n + main_yields;
        std::printf("RESULT gosched procs=%d n=%ld main_yields=%ld ns_per_op=%.1f\n",
                    goro::gomaxprocs(), n, main_yields,
                    latch.elapsed_ns() / yields);
      },
      {.procs = procs});
}
