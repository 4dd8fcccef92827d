// env.hpp: reading the runtime's settings from Config and the environment.
// Introduced in chapter 01; no chapter changes it.
#pragma once

#include <cstddef>

namespace goro::common {

/// Go's _MaxGomaxprocs: the most Ps a program may have.
inline constexpr int max_gomaxprocs = 256;

/// ncpu returns the number of CPUs this process may run on: those of its
/// affinity mask (Go's getproccount), at least 1.
int ncpu();

/// resolve_procs returns the number of Ps to use: `configured` if positive,
/// else $GOMAXPROCS if it holds a positive integer, else ncpu();
/// at most max_gomaxprocs, as Go's schedinit does. Throws
/// std::invalid_argument for a negative `configured`.
int resolve_procs(int configured);

/// resolve_stack_size returns the stack size to use for `configured` bytes
/// (0: the default).
std::size_t resolve_stack_size(std::size_t configured);

}  // namespace goro::common
