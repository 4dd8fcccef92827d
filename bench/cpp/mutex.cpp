// mutex: the cost of a contended Mutex.
//
// Four goroutines each lock and unlock one shared goro::Mutex n times
// (1,000,000 by default), adding one to a shared counter while they hold
// it; at procs 2, so two of them run at once and fight for the lock. main
// starts them with wg.add(1) before each go and waits in wg.wait() (a
// goro::WaitGroup). Figure: ns per lock+unlock pair = wall / (4n), from the
// first spawn to main's return from wait(). The checksum is the final
// counter, 4n (4,000,000): any lost update would change it. Twin:
// bench/go/mutex/main.go.
#include <cstdio>

#include "common.hpp"

namespace {
constexpr long kWorkers = 4;  // goroutines sharing the mutex
}

int main(int argc, char** argv) {
  const int procs = static_cast<int>(bench::arg(argc, argv, "procs", 2));
  const long n = bench::arg(argc, argv, "n", 1'000'000);

  return goro::run(
      [&] {
        goro::Mutex mu;
        goro::WaitGroup wg;
        std::int64_t counter = 0;  // guarded by mu

        const auto start = bench::Clock::now();
        for (long w = 0; w < kWorkers; ++w) {
          wg.add(1);
          goro::go([&mu, &wg, &counter, n] {
            for (long i = 0; i < n; ++i) {
              mu.lock();
              ++counter;
              mu.unlock();
            }
            wg.done();
          });
        }
        wg.wait();
        const double elapsed_ns =
            static_cast<double>((bench::Clock::now() - start).count());

        std::printf("RESULT mutex procs=%d n=%ld goroutines=%ld ns_per_op=%.1f checksum=%lld\n",
                    goro::gomaxprocs(), n, kWorkers, elapsed_ns / (kWorkers * n),
                    static_cast<long long>(counter));
      },
      {.procs = procs});
}
