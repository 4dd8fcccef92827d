// clock.hpp: the runtime's monotonic clock, Go's nanotime().
// Introduced in chapter 01; no chapter changes it.
#pragma once

#include <chrono>
#include <cstdint>

namespace goro::common {

/// nanotime returns monotonic nanoseconds since an arbitrary origin (Go's
/// runtime.nanotime).
inline int64_t nanotime() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace goro::common
