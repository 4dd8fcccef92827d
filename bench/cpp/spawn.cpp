// spawn: the cost of one goroutine's whole life (create, schedule, run, exit).
//
// main starts n goroutines (1,000,000 by default) that only count themselves
// done, and waits until all are. Figure: ns per goroutine = time from the
// first spawn to the last one done, divided by n.
//
// main yields once every 1,000 spawns. Go would preempt main every 10 ms
// anyway; goro cannot preempt, so without these yields it would hold all
// 1,000,000 goroutines (and their stacks) alive at once. The same yields on
// both sides keep the work identical. Twin: bench/go/spawn/main.go.
#include <cstdio>

#include "common.hpp"

namespace {
constexpr long kBatch = 1000;  // main yields after this many spawns
bench::Latch latch;
}  // namespace

int main(int argc, char** argv) {
  const int procs = static_cast<int>(bench::arg(argc, argv, "procs", 1));
  const long n = bench::arg(argc, argv, "n", 1'000'000);

  return goro::run(
      [&] {
        latch.start(n);
        for (long i = 0; i < n; ++i) {
          goro::go([] { latch.done(); });
          if (i % kBatch == kBatch - 1) goro::gosched();
        }
        latch.wait();

        std::printf("RESULT spawn procs=%d n=%ld ns_per_op=%.1f\n",
                    goro::gomaxprocs(), n, latch.elapsed_ns() / n);
      },
      {.procs = procs});
}
