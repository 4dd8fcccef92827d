// env.cpp: Config and environment settings. Chapter 01.
#include "goro/common/env.hpp"

#include <sched.h>

#include <cstdlib>
#include <stdexcept>
#include <thread>

#include "goro/common/stack.hpp"

namespace goro::common {

int ncpu() {
  // Go's getproccount: the CPUs in the affinity mask, not the machine's,
  // so that `taskset -c 0` gives one P.
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) == 0) {
    const int n = CPU_COUNT(&set);
    if (n > 0) return n;
  }
  const int n = static_cast<int>(std::thread::hardware_concurrency());
  return n > 0 ? n : 1;
}

int resolve_procs(int configured) {
  if (configured < 0) {
    throw std::invalid_argument("goro::run: Config::procs must not be negative");
  }
  int n = configured;
  if (n == 0) {
    // Like Go: a GOMAXPROCS that is not a positive number is ignored.
    if (const char* s = std::getenv("GOMAXPROCS")) {
      char* end = nullptr;
      long v = std::strtol(s, &end, 10);
      if (end != s && *end == '\0' && v > 0) n = v > max_gomaxprocs ? max_gomaxprocs : static_cast<int>(v);
    }
  }
  if (n == 0) n = ncpu();
  return n > max_gomaxprocs ? max_gomaxprocs : n;
}

std::size_t resolve_stack_size(std::size_t configured) {
  return configured == 0 ? default_stack_size : configured;
}

}  // namespace goro::common
