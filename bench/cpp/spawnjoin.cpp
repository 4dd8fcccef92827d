// spawnjoin: a goroutine's whole life, joined with a WaitGroup.
//
// The idiomatic fan-out: main does wg.add(1) before each of n go()s
// (1,000,000 by default); each goroutine adds its index to an atomic sum
// and calls wg.done(); main waits in wg.wait(). Unlike spawn, main does not
// yield between spawns: from chapter 04 on, sysmon's preemption request,
// honoured in go(), lets the goroutines run and exit while main spawns, as
// Go's preemption does. Figure: ns per goroutine = wall / n, from the first
// spawn to main's return from wait(), at procs 1 and 2. The checksum is the
// sum, n(n-1)/2. Twin: bench/go/spawnjoin/main.go.
#include <cstdio>

#include "common.hpp"

int main(int argc, char** argv) {
  const int procs = static_cast<int>(bench::arg(argc, argv, "procs", 1));
  const long n = bench::arg(argc, argv, "n", 1'000'000);

  return goro::run(
      [&] {
        goro::WaitGroup wg;
        std::atomic<std::int64_t> sum{0};

        const auto start = bench::Clock::now();
        for (long i = 0; i < n; ++i) {
          wg.add(1);
          goro::go(
              [&wg, &sum](std::int64_t v) {
                sum.fetch_add(v);
                wg.done();
              },
              std::int64_t{i});
        }
        wg.wait();
        const double elapsed_ns =
            static_cast<double>((bench::Clock::now() - start).count());

        std::printf("RESULT spawnjoin procs=%d n=%ld ns_per_op=%.1f checksum=%lld\n",
                    goro::gomaxprocs(), n, elapsed_ns / n,
                    static_cast<long long>(sum.load()));
      },
      {.procs = procs});
}
