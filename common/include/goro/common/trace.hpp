// trace.hpp: a record of which goroutine ran where and when, for the demos'
// timelines (a much smaller cousin of Go's runtime/trace).
// Introduced in chapter 02; no chapter changes it.
#pragma once

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <vector>

/// A record of which goroutine ran where and when, for the demos.
namespace goro::common::trace {

/// What happened.
enum class ev : std::uint8_t {
  run,      ///< goroutine started running on a P
  stop,     ///< goroutine stopped running (yield, park, exit)
  steal,    ///< P stole `arg` goroutines from P `arg2`
  syscall,  ///< goroutine entered a blocking call
  handoff,  ///< P was handed to another M
};

/// One event.
struct event {
  std::int64_t ns;   ///< nanotime() when it happened
  int m;             ///< M id
  int p;             ///< P id, -1: none
  long g;            ///< goroutine id, 0: none
  ev kind;           ///< what happened
  long arg;          ///< kind-specific
  long arg2;         ///< kind-specific
};

/// on: whether events are being recorded now. The runtime checks it before
/// recording, so a disabled trace costs one relaxed load.
extern std::atomic<bool> on;

/// start begins recording, keeping at most `capacity` events. The buffer is
/// not touched until events are recorded (a page first touched costs
/// microseconds on a virtual machine).
void start(std::size_t capacity = 1 << 18);

/// stop ends recording and returns the events in time order.
std::vector<event> stop();

/// record adds an event if recording; thread-safe and lock-free.
void record(int m, int p, long g, ev kind, long arg = 0, long arg2 = 0);

/// print_timeline draws one row per P, showing which goroutine ran during
/// each of `columns` equal time slices, then a legend. A dot is an idle
/// slice; digits and letters are the goroutine id modulo 62. For the
/// chapter demos.
void print_timeline(const std::vector<event>& events, int nprocs,
                    int columns = 72, std::FILE* out = stdout);

}  // namespace goro::common::trace
