// fiber_traps_test.cpp: the two classic traps of running coroutines on
// threads. (1) The C++ runtime keeps the exception being handled, and the
// count of exceptions in flight, per thread: a goroutine that yields inside
// a catch block or inside a destructor run by unwinding must find its own
// exception state when it resumes, whatever other goroutines did meanwhile.
// (2) A thread_local's address must not be reused across a switch after
// which the goroutine runs on another thread.
// First chapter: 01.
#include <goro/goro.hpp>
#include <gtest/gtest.h>

#include <atomic>
#include <exception>
#include <stdexcept>
#include <string>

#include "support.hpp"

namespace {
class FiberTraps : public goro::testing::RuntimeProcsTest {};

std::string what_of(std::exception_ptr e) {
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    return ex.what();
  } catch (...) {
    return "?";
  }
}

TEST_P(FiberTraps, EachGoroutineKeepsItsOwnCaughtException) {
  std::atomic<int> failures{0}, done{0};
  goro::run(
      [&] {
        for (int i = 0; i < 8; i++) {
          goro::go([&, i] {
            const std::string mine = "goroutine " + std::to_string(i);
            try {
              throw std::runtime_error(mine);
            } catch (...) {
              for (int k = 0; k < 20; k++) {
                goro::gosched();  // others throw and catch meanwhile
                if (what_of(std::current_exception()) != mine) failures++;
              }
              try {
                throw;  // rethrows *our* exception
              } catch (const std::runtime_error& e) {
                if (e.what() != mine) failures++;
              }
            }
            if (std::current_exception()) failures++;
            done++;
          });
        }
        while (done.load() < 8) goro::gosched();
      },
      goro::Config{.procs = GetParam()});
  EXPECT_EQ(done.load(), 8);
  EXPECT_EQ(failures.load(), 0);
}

// A destructor that runs during unwinding yields; meanwhile other
// goroutines see no exception in flight, and it still sees one.
struct yields_in_destructor {
  std::atomic<int>* failures;
  ~yields_in_destructor() {
    for (int k = 0; k < 10; k++) {
      if (std::uncaught_exceptions() != 1) (*failures)++;
      goro::gosched();
    }
    if (std::uncaught_exceptions() != 1) (*failures)++;
  }
};

TEST_P(FiberTraps, UncaughtExceptionsIsPerGoroutine) {
  std::atomic<int> failures{0}, done{0};
  goro::run(
      [&] {
        for (int i = 0; i < 4; i++) {
          goro::go([&] {
            try {
              yields_in_destructor d{&failures};
              throw std::runtime_error("unwinding");
            } catch (const std::runtime_error&) {
            }
            if (std::uncaught_exceptions() != 0) failures++;
            done++;
          });
          goro::go([&] {
            for (int k = 0; k < 10; k++) {
              if (std::uncaught_exceptions() != 0) failures++;
              try {
                throw 1;
              } catch (int) {
                goro::gosched();
              }
            }
            done++;
          });
        }
        while (done.load() < 8) goro::gosched();
      },
      goro::Config{.procs = GetParam()});
  EXPECT_EQ(done.load(), 8);
  EXPECT_EQ(failures.load(), 0);
}

// The runtime reads its own thread_locals (the current M) after every
// switch; if it reused an address computed before a switch that moved the
// goroutine to another thread, it would file goroutines under the wrong
// thread and lose or run them twice. Goroutines that yield thousands of
// times across threads must each resume exactly where they left off.
TEST_P(FiberTraps, GoroutinesResumeIntactAcrossThreads) {
  std::atomic<int> failures{0}, done{0};
  std::atomic<long> resumes{0};
  goro::run(
      [&] {
        for (int i = 0; i < 16; i++) {
          goro::go([&, i] {
            volatile int mine = i * 1000;  // lives on this goroutine's stack
            for (int k = 0; k < 500; k++) {
              goro::gosched();
              resumes++;
              if (mine != i * 1000 + k) failures++;
              mine = mine + 1;
            }
            done++;
          });
        }
        while (done.load() < 16) goro::gosched();
      },
      goro::Config{.procs = GetParam()});
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(resumes.load(), 16 * 500);
}

INSTANTIATE_TEST_SUITE_P(Procs, FiberTraps, ::testing::Values(1, 2, 4));

}  // namespace
