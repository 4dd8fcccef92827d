// parallel_test.cpp: several Ps run goroutines at the same time, never more
// than GOMAXPROCS at once, on a bounded number of threads, losing nothing.
// First chapter: 03.
#include <goro/goro.hpp>
#include <gtest/gtest.h>

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <chrono>
#include <memory>
#include <vector>

#include "goro/common/sanitizer.hpp"
#include "support.hpp"

namespace {
using namespace std::chrono_literals;
using clk = std::chrono::steady_clock;
using goro::testing::RuntimeTest;
class ParallelProcs : public goro::testing::RuntimeProcsTest {};

// Goroutines count how many of them are inside a "running" section at once:
// each enters, works a little, leaves, and yields, until `until` says stop.
struct concurrency_probe {
  std::atomic<int> inside{0};
  std::atomic<int> most{0};
  void section() {
    int now = inside.fetch_add(1) + 1;
    int m = most.load();
    while (now > m && !most.compare_exchange_weak(m, now)) {
    }
    auto end = clk::now() + 50us;
    while (clk::now() < end) {
    }
    inside.fetch_sub(1);
  }
};

// Two CPU-bound goroutines at procs=2 really run at the same time: there is
// a moment when both are inside their section. (Observed, not timed: the
// deadline only bounds how long we look.)
TEST_F(RuntimeTest, TwoGoroutinesRunInParallelAtTwoProcs) {
  concurrency_probe probe;
  goro::run(
      [&] {
        std::atomic<int> done{0};
        const auto deadline = clk::now() + 20s;
        for (int i = 0; i < 2; i++) {
          goro::go([&] {
            while (probe.most.load() < 2 && clk::now() < deadline) {
              probe.section();
              goro::gosched();
            }
            done++;
          });
        }
        while (done.load() < 2) goro::sleep_for(1ms);
      },
      goro::Config{.procs = 2});
  EXPECT_EQ(probe.most.load(), 2);
}

// With procs=N, never more than N goroutines run at once, and the number of
// threads stays near N however many goroutines there are.
TEST_P(ParallelProcs, AtMostProcsGoroutinesRunAtOnceOnBoundedThreads) {
  concurrency_probe probe;
  const int before = goro::testing::thread_count();
  int most_threads = 0;
  goro::run(
      [&] {
        std::atomic<int> done{0};
        const int n = 64;
        for (int i = 0; i < n; i++) {
          goro::go([&] {
            for (int k = 0; k < 20; k++) {
              probe.section();
              goro::gosched();
            }
            done++;
          });
        }
        while (done.load() < n) {
          most_threads = std::max(most_threads, goro::testing::thread_count());
          goro::sleep_for(1ms);
        }
      },
      goro::Config{.procs = procs()});
  EXPECT_LE(probe.most.load(), procs());
  EXPECT_GE(probe.most.load(), 1);
  // One thread per P at most, plus the runtime's own helper threads.
  EXPECT_LE(most_threads - before, procs() + 2);
}

INSTANTIATE_TEST_SUITE_P(Procs, ParallelProcs, ::testing::ValuesIn(goro::testing::proc_counts));

// Many goroutines spawning at once, on every P: every goroutine runs, and
// runs exactly once.
TEST_F(RuntimeTest, ConcurrentSpawnsLoseNothingAndRunEachOnce) {
  const int spawners = 8, each = goro::common::san::tsan ? 500 : 5000;
  auto runs = std::make_unique<std::atomic<int>[]>(spawners * each);
  goro::run(
      [&] {
        std::atomic<int> done{0};
        for (int s = 0; s < spawners; s++) {
          goro::go([&, s] {
            for (int i = 0; i < each; i++) {
              goro::go([&, id = s * each + i] {
                runs[id]++;
                done++;
              });
              if (i % 100 == 0) goro::gosched();
            }
          });
        }
        while (done.load() < spawners * each) goro::sleep_for(1ms);
      },
      goro::Config{.procs = 4});
  int wrong = 0;
  for (int i = 0; i < spawners * each; i++) wrong += runs[i].load() != 1;
  EXPECT_EQ(wrong, 0);
}

// A long run of many short goroutines at procs=2, yielding and sleeping:
// what the sanitizers watch for races and leaks.
TEST_F(RuntimeTest, ManyShortGoroutinesAtTwoProcs) {
  const int n = goro::common::san::tsan ? 20000 : 200000;
  std::atomic<long> sum{0};
  goro::run(
      [&] {
        std::atomic<int> done{0};
        for (int i = 0; i < n; i++) {
          goro::go([&, i] {
            if (i % 7 == 0) goro::gosched();
            if (i % 1000 == 0) goro::sleep_for(100us);
            sum += i;
            done++;
          });
          if (i % 512 == 0) goro::gosched();
        }
        while (done.load() < n) goro::sleep_for(1ms);
      },
      goro::Config{.procs = 2});
  EXPECT_EQ(sum.load(), static_cast<long>(n) * (n - 1) / 2);
}

// limit_address_space leaves the process `room` bytes of address space
// more than it uses now (RLIMIT_AS applies to root too).
void limit_address_space(std::size_t room) {
  long pages = 0;
  if (FILE* f = std::fopen("/proc/self/statm", "r")) {
    if (std::fscanf(f, "%ld", &pages) != 1) pages = 0;
    std::fclose(f);
  }
  const auto used = static_cast<rlim_t>(pages) * static_cast<rlim_t>(sysconf(_SC_PAGESIZE));
  rlimit r{used + room, used + room};
  setrlimit(RLIMIT_AS, &r);
}

// The OS refuses a thread (here: no address space for its stack): Go ends
// the program with "fatal error: newosproc" and what it knows. goro too: a
// P was already promised to the thread, so it cannot just go on.
TEST(ThreadDeathTest, AThreadTheOSRefusesEndsTheProgramAsGoDoes) {
  if (goro::common::san::asan || goro::common::san::tsan) {
    GTEST_SKIP() << "the sanitizers' own allocations need the address space";
  }
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT({
    goro::run([] {
      limit_address_space(1 << 20);  // a goroutine's stack fits, a thread's does not
      goro::go([] {});  // wakes an M for the idle P (chapter 05)...
      goro::gosched();  // ...or the yield does (chapters 03 and 04)
    }, goro::Config{.procs = 2});
    std::exit(0);
  }, ::testing::ExitedWithCode(2),
     "runtime: failed to create new OS thread \\(have [0-9]+ already; errno=[0-9]+\\)"
     ".*fatal error: newosproc");
}

// GORO_SCHEDTRACE=ms prints Go's schedtrace line every ms milliseconds,
// the first one as the program starts, as Go's does (goro used to wait one
// period), and a last one at the end: a 20 ms program traced every second
// prints two lines.
TEST(SchedtraceDeathTest, TheFirstLineIsPrintedAtTheStart) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT({
    setenv("GORO_SCHEDTRACE", "1000", 1);
    goro::run([] { goro::sleep_for(20ms); }, goro::Config{.procs = 2});
    std::exit(0);
  }, ::testing::ExitedWithCode(0),
     "^SCHED [0-9]+ms: gomaxprocs=2 idleprocs=[0-9]+ threads=[0-9]+ spinningthreads=[0-9]+ "
     "idlethreads=[0-9]+ runqueue=[0-9]+ \\[[0-9]+ [0-9]+\\]\n"
     "SCHED [0-9]+ms: gomaxprocs=2 ");
}

}  // namespace
