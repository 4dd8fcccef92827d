// note_test.cpp: Go's note and the runtime mutex.
#include <gtest/gtest.h>

#include <chrono>
#include <mutex>
#include <thread>
#include <vector>

#include "goro/common/lock.hpp"
#include "goro/common/note.hpp"

namespace {
using namespace goro::common;

TEST(Note, AWakeupBeforeTheSleepIsNotLost) {
  note n;
  n.wakeup();
  n.sleep();  // returns at once
  EXPECT_TRUE(n.woken());
  n.clear();
  EXPECT_FALSE(n.woken());
}

TEST(Note, TimedSleepTimesOutWithoutAWakeup) {
  note n;
  EXPECT_FALSE(n.tsleep(1000000));  // 1 ms, nobody wakes it
  n.wakeup();
  EXPECT_TRUE(n.tsleep(1000000000));  // woken: returns at once, true
}

TEST(Note, WakesASleeperOnAnotherThread) {
  note n;
  std::thread t([&] { n.sleep(); });
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  n.wakeup();
  t.join();
  EXPECT_TRUE(n.woken());
}

TEST(NoteDeathTest, DoubleWakeupIsARuntimeBug) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(
      {
        note n;
        n.wakeup();
        n.wakeup();
      },
      ::testing::ExitedWithCode(2), "fatal error: notewakeup - double wakeup");
}

TEST(Mutex, ExcludesUnderContention) {
  mutex mu;
  long counter = 0;
  std::vector<std::thread> ts;
  for (int t = 0; t < 4; t++) {
    ts.emplace_back([&] {
      for (int i = 0; i < 100000; i++) {
        std::lock_guard<mutex> g(mu);
        counter++;
      }
    });
  }
  for (auto& t : ts) t.join();
  EXPECT_EQ(counter, 400000);
}

}  // namespace
