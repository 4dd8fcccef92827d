// parked_test.cpp: many goroutines parked on channels at once, half in a
// receive and half in a two-case select, with small stacks: they cost no
// thread, num_goroutine counts them, and a close wakes every one.
// First chapter: 06.
#include <goro/goro.hpp>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>

#include "goro/common/sanitizer.hpp"
#include "support.hpp"

namespace {
using namespace std::chrono_literals;
using goro::testing::RuntimeTest;

TEST_F(RuntimeTest, AHundredThousandGoroutinesParkOnChannels) {
  // TSan gives every fiber a vector-clock slot, ASan a shadow stack: fewer
  // goroutines there, the same program.
  const int n = goro::common::san::tsan ? 2000 : goro::common::san::asan ? 20000 : 100000;
  std::atomic<int> started{0}, got_value{0}, woke_closed{0};
  int seen_goroutines = 0, threads_while_parked = 0;
  goro::run(
      [&] {
        auto in = goro::make_chan<int>();
        auto quit = goro::make_chan<int>();
        for (int i = 0; i < n; i++) {
          if (i % 2 == 0) {
            goro::go([&, in]() mutable {
              started++;
              (in.recv() ? got_value : woke_closed)++;
            });
          } else {
            goro::go([&, in, quit]() mutable {
              started++;
              auto got = [&](std::optional<int> v) { (v ? got_value : woke_closed)++; };
              goro::select(goro::recv_case(in, got), goro::recv_case(quit, got));
            });
          }
        }
        while (started.load() < n) goro::sleep_for(1ms);
        seen_goroutines = goro::num_goroutine();
        threads_while_parked = goro::testing::thread_count();
        // A quarter get a value, each from whoever is first in the queue;
        // the close wakes the rest.
        for (int i = 0; i < n / 4; i++) in.send(i);
        in.close();
        while (got_value.load() + woke_closed.load() < n) goro::sleep_for(1ms);
      },
      goro::Config{.procs = 2, .stack_size = 64 * 1024});
  EXPECT_EQ(seen_goroutines, n + 1);
  // Ms for 2 Ps, sysmon, perhaps the timer sleeper and a spare: parked
  // goroutines cost no thread.
  EXPECT_LE(threads_while_parked, 8);
  EXPECT_EQ(got_value.load(), n / 4);
  EXPECT_EQ(woke_closed.load(), n - n / 4);
}

}  // namespace
