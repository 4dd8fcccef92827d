// buffered: throughput of a buffered channel shared by several producers
// and consumers.
//
// One channel of capacity 128; --pairs P producers and P consumers (1 and 4
// are measured, as separate runs), at procs 2. Producer p sends the ints
// [p*n/P, (p+1)*n/P); the last producer to finish closes the channel. Each
// consumer ranges over the channel, adding up what it receives, and sends
// its sum to main on an unbuffered results channel. Figure: ns per item =
// wall / n (n is 1,000,000 by default), from the first spawn to main's last
// receive of a sum. The checksum is the sum of every item received,
// n(n-1)/2. Twin: bench/go/buffered/main.go.
#include <cstdio>

#include "common.hpp"

namespace {
constexpr std::size_t kCapacity = 128;
}

int main(int argc, char** argv) {
  const int procs = static_cast<int>(bench::arg(argc, argv, "procs", 2));
  const long n = bench::arg(argc, argv, "n", 1'000'000);
  const long p = bench::arg(argc, argv, "pairs", 1);
  if (p < 1) {
    std::fprintf(stderr, "buffered: --pairs must be at least 1\n");
    return 1;
  }

  return goro::run(
      [&] {
        auto items = goro::make_chan<std::int64_t>(kCapacity);
        auto results = goro::make_chan<std::int64_t>();
        std::atomic<long> producing{p};

        const auto start = bench::Clock::now();
        for (long c = 0; c < p; ++c) {
          goro::go([items, results]() mutable {
            std::int64_t sum = 0;
            for (std::int64_t v : items) sum += v;
            results.send(sum);
          });
        }
        for (long w = 0; w < p; ++w) {
          goro::go(
              [items, &producing](long lo, long hi) mutable {
                for (long i = lo; i < hi; ++i) items.send(i);
                if (producing.fetch_sub(1) == 1) items.close();
              },
              w * n / p, (w + 1) * n / p);
        }
        std::int64_t sum = 0;
        for (long c = 0; c < p; ++c) sum += *results.recv();
        const double elapsed_ns =
            static_cast<double>((bench::Clock::now() - start).count());

        std::printf("RESULT buffered procs=%d n=%ld pairs=%ld ns_per_op=%.1f checksum=%lld\n",
                    goro::gomaxprocs(), n, p, elapsed_ns / n, static_cast<long long>(sum));
      },
      {.procs = procs});
}
