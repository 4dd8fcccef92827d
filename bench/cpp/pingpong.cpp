// pingpong: the cost of a hand-off between two goroutines over unbuffered
// channels.
//
// main sends an int on ping; an echo goroutine receives it and sends it
// back, plus one, on pong; main receives it: one round trip, two unbuffered
// channel operations on each side, each one a hand-off to a waiting (or
// soon waiting) partner. n round trips (1,000,000 by default), at procs 1
// and 2. Figure: ns per round trip = wall / n, from main's first send to its
// last receive. The checksum is the sum of what came back on pong,
// n(n+1)/2. Twin: bench/go/pingpong/main.go.
#include <cstdio>

#include "common.hpp"

namespace {
void echo(goro::chan<std::int64_t> ping, goro::chan<std::int64_t> pong) {
  for (std::int64_t v : ping) pong.send(v + 1);
}
}  // namespace

int main(int argc, char** argv) {
  const int procs = static_cast<int>(bench::arg(argc, argv, "procs", 1));
  const long n = bench::arg(argc, argv, "n", 1'000'000);

  return goro::run(
      [&] {
        auto ping = goro::make_chan<std::int64_t>();
        auto pong = goro::make_chan<std::int64_t>();
        goro::go(echo, ping, pong);
        std::int64_t sum = 0;
        const auto start = bench::Clock::now();
        for (long i = 0; i < n; ++i) {
          ping.send(i);
          sum += *pong.recv();
        }
        const double elapsed_ns =
            static_cast<double>((bench::Clock::now() - start).count());
        ping.close();

        std::printf("RESULT pingpong procs=%d n=%ld ns_per_op=%.1f checksum=%lld\n",
                    goro::gomaxprocs(), n, elapsed_ns / n, static_cast<long long>(sum));
      },
      {.procs = procs});
}
