// skynet: the classic skynet benchmark (github.com/atemerev/skynet).
//
// A tree of goroutines of fan-out 10 with n leaves (1,000,000 by default, a
// power of 10): each inner node starts its 10 children, each with a slice
// of the numbers below it, and receives one sum from each on its own
// unbuffered channel; each leaf sends its number. The root's sum is
// n(n-1)/2, 499999500000 for a million leaves. 1,111,111 goroutines and as
// many channel hand-offs; at procs 1 and 2. Figure: wall ms, from starting
// the root to main's receive of its sum. Twin: bench/go/skynet/main.go.
#include <cstdio>

#include "common.hpp"

namespace {
constexpr std::int64_t kFanout = 10;

void skynet(goro::chan<std::int64_t> c, std::int64_t num, std::int64_t size) {
  if (size == 1) {
    c.send(num);
    return;
  }
  auto rc = goro::make_chan<std::int64_t>();
  for (std::int64_t i = 0; i < kFanout; ++i) {
    goro::go(skynet, rc, num + i * (size / kFanout), size / kFanout);
  }
  std::int64_t sum = 0;
  for (std::int64_t i = 0; i < kFanout; ++i) sum += *rc.recv();
  c.send(sum);
}
}  // namespace

int main(int argc, char** argv) {
  const int procs = static_cast<int>(bench::arg(argc, argv, "procs", 1));
  const long n = bench::arg(argc, argv, "n", 1'000'000);
  for (long m = n; m != 1; m /= kFanout) {
    if (m < 1 || m % kFanout != 0) {
      std::fprintf(stderr, "skynet: --n must be a power of 10\n");
      return 1;
    }
  }

  return goro::run(
      [&] {
        auto c = goro::make_chan<std::int64_t>();
        const auto start = bench::Clock::now();
        goro::go(skynet, c, std::int64_t{0}, std::int64_t{n});
        const std::int64_t sum = *c.recv();
        const double elapsed_ms =
            static_cast<double>((bench::Clock::now() - start).count()) / 1e6;

        std::printf("RESULT skynet procs=%d n=%ld wall_ms=%.1f checksum=%lld\n",
                    goro::gomaxprocs(), n, elapsed_ms, static_cast<long long>(sum));
      },
      {.procs = procs});
}
