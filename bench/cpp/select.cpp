// select: the cost of a two-case select that blocks.
//
// At procs 1, main runs n selects (1,000,000 by default), each over a
// receive from c1 and a receive from c2 (both unbuffered); a feeder
// goroutine sends the ints 0..n-1 on them alternately, even ones on c1, odd
// ones on c2. So every select either finds the feeder already waiting to
// send, or parks on both channels until it comes. Figure: ns per select =
// wall / n, from the feeder's start to main's last select. The checksum is
// the sum of what main received, n(n-1)/2. Twin: bench/go/select/main.go.
#include <cstdio>

#include "common.hpp"

namespace {
void feed(goro::chan<std::int64_t> c1, goro::chan<std::int64_t> c2, long n) {
  for (long i = 0; i < n; ++i) {
    if (i % 2 == 0) {
      c1.send(i);
    } else {
      c2.send(i);
    }
  }
}
}  // namespace

int main(int argc, char** argv) {
  const int procs = static_cast<int>(bench::arg(argc, argv, "procs", 1));
  const long n = bench::arg(argc, argv, "n", 1'000'000);

  return goro::run(
      [&] {
        auto c1 = goro::make_chan<std::int64_t>();
        auto c2 = goro::make_chan<std::int64_t>();
        std::int64_t sum = 0;
        auto add = [&sum](std::optional<std::int64_t> v) { sum += *v; };
        const auto start = bench::Clock::now();
        goro::go(feed, c1, c2, n);
        for (long i = 0; i < n; ++i) {
          goro::select(goro::recv_case(c1, add), goro::recv_case(c2, add));
        }
        const double elapsed_ns =
            static_cast<double>((bench::Clock::now() - start).count());

        std::printf("RESULT select procs=%d n=%ld ns_per_op=%.1f checksum=%lld\n",
                    goro::gomaxprocs(), n, elapsed_ns / n, static_cast<long long>(sum));
      },
      {.procs = procs});
}
