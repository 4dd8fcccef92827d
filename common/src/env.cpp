// env.cpp: Config and environment settings. Chapter 01.
#include "goro/common/env.hpp"

#include <cstdlib>
#include <stdexcept>
#include <thread>

#include "goro/common/stack.hpp"

namespace goro::common {

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
  if (n == 0) n = static_cast<int>(std::thread::hardware_concurrency());
  if (n <= 0) n = 1;
  return n > max_gomaxprocs ? max_gomaxprocs : n;
}

std::size_t resolve_stack_size(std::size_t configured) {
  return configured == 0 ? default_stack_size : configured;
}

}  // namespace goro::common
