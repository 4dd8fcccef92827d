// death_support.hpp: what the death tests share (deadlock_test.cpp,
// sync_death_test.cpp, panic_death_test.cpp): fixtures whose children exit
// at once under ThreadSanitizer, and in_child, which runs a test's program
// in the child.
#pragma once

#include <goro/goro.hpp>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>

#include "goro/common/sanitizer.hpp"
#include "support.hpp"

namespace goro::testing {

/// ThreadSanitizer makes a process sleep for 1 s as it exits (its
/// atexit_sleep_ms), which in a death test would be most of its time. The
/// children of death tests only exit, so they may do it at once: set()
/// adds atexit_sleep_ms=0 to TSAN_OPTIONS while a test runs, and restore()
/// puts back what was there. Both do nothing in other builds.
class quick_exit_under_tsan {
 public:
  void set() {
    if (!common::san::tsan) return;
    const char* old = std::getenv("TSAN_OPTIONS");
    had_ = old != nullptr;
    saved_ = old ? old : "";
    setenv("TSAN_OPTIONS", (saved_ + (saved_.empty() ? "" : ":") + "atexit_sleep_ms=0").c_str(), 1);
  }
  void restore() {
    if (!common::san::tsan) return;
    if (had_) {
      setenv("TSAN_OPTIONS", saved_.c_str(), 1);
    } else {
      unsetenv("TSAN_OPTIONS");
    }
  }

 private:
  bool had_ = false;
  std::string saved_;
};

/// The fixture of a death test: RuntimeTest, with quick_exit_under_tsan.
class DeathTest : public RuntimeTest {
 protected:
  void SetUp() override {
    RuntimeTest::SetUp();
    env_.set();
  }
  void TearDown() override {
    env_.restore();
    RuntimeTest::TearDown();
  }

 private:
  quick_exit_under_tsan env_;
};

/// The fixture of a death test run at several GOMAXPROCS: RuntimeProcsTest,
/// with quick_exit_under_tsan.
class ProcsDeathTest : public RuntimeProcsTest {
 protected:
  void SetUp() override {
    RuntimeProcsTest::SetUp();
    env_.set();
  }
  void TearDown() override {
    env_.restore();
    RuntimeProcsTest::TearDown();
  }

 private:
  quick_exit_under_tsan env_;
};

/// Runs `main_fn` as a program of its own, in the death test's child: it
/// exits 0 if run() returns, and a hang is killed by SIGALRM after 60 s,
/// which fails the test instead of hanging the whole run.
[[noreturn]] inline void in_child(const std::function<void()>& main_fn, int procs) {
  alarm(60);
  run(main_fn, Config{.procs = procs});
  std::fflush(nullptr);
  std::exit(0);
}

}  // namespace goro::testing
