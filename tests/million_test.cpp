// million_test.cpp: a million tiny goroutines at procs=2, spawned by one,
// stolen by the other P: each runs exactly once.
// First chapter: 05.
#include <goro/goro.hpp>
#include <gtest/gtest.h>

#include <atomic>
#include <memory>

#include "goro/common/sanitizer.hpp"
#include "support.hpp"

namespace {
using goro::testing::RuntimeTest;

TEST_F(RuntimeTest, AMillionTinyGoroutinesRunExactlyOnce) {
  // (Fewer under the sanitizers, ThreadSanitizer above all: see sleep_test.)
  const int n = goro::common::san::tsan ? 20000 : goro::common::san::asan ? 200000 : 1000000;
  auto runs = std::make_unique<std::atomic<unsigned char>[]>(static_cast<std::size_t>(n));
  std::atomic<int> done{0};
  goro::run(
      [&] {
        for (int i = 0; i < n; i++) {
          goro::go([&runs, &done](int id) {
            runs[static_cast<std::size_t>(id)]++;
            done++;
          }, i);
        }
        while (done.load() < n) goro::gosched();
      },
      goro::Config{.procs = 2});
  int wrong = 0;
  for (int i = 0; i < n; i++) wrong += runs[static_cast<std::size_t>(i)].load() != 1;
  EXPECT_EQ(wrong, 0);
  EXPECT_EQ(done.load(), n);
}

}  // namespace
