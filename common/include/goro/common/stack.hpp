// stack.hpp: goroutine stacks, pooled, with stack-overflow detection.
// Go's twin is runtime/stack.go (stackalloc/stackfree); goro's stacks
// cannot grow, so they are made large and committed lazily by the kernel.
// Introduced in chapter 01; no chapter changes it.
#pragma once

#include <cstddef>
#include <mutex>
#include <vector>

#include <csignal>

#include "goro/common/lock.hpp"

namespace goro::common {

/// The default size of a goroutine stack: 256 KiB of address space, of which
/// only the pages a goroutine touches are ever committed (a goroutine that
/// just sleeps uses two or three 4 KiB pages). Config::stack_size overrides it.
inline constexpr std::size_t default_stack_size = 256 * 1024;

/// The smallest stack goro accepts (smaller requests are rounded up).
inline constexpr std::size_t min_stack_size = 16 * 1024;

/// A goroutine stack: usable memory [lo, lo+size). A guarded stack has an
/// inaccessible page just below lo, so running off its end faults at once;
/// an unguarded one is checked at every switch (see check_stack).
struct stack {
  void* lo = nullptr;      ///< lowest usable byte
  std::size_t size = 0;    ///< usable bytes
  bool guarded = false;    ///< has a PROT_NONE page below lo
  /// One past the highest usable byte.
  char* hi() const { return static_cast<char*>(lo) + size; }
};

/// stack_pool hands out stacks and takes them back for reuse; its
/// destructor unmaps every stack it ever made, so nothing outlives it.
///
/// Linux limits a process to vm.max_map_count mappings (65530 by default),
/// and a guard page splits a mapping in two, so guarding every stack would
/// stop at about 32,000 goroutines. The pool therefore guards stacks only
/// while the guarded ones use less than a quarter of that limit; past it,
/// stacks are carved 64 at a time from one unguarded mapping and overflow
/// is caught by check_stack at the next switch instead: later, and only if
/// the goroutine lived to switch.
class stack_pool {
 public:
  /// A pool of stacks of `stack_size` usable bytes (rounded up to pages,
  /// at least min_stack_size).
  explicit stack_pool(std::size_t stack_size);
  ~stack_pool();
  stack_pool(const stack_pool&) = delete;
  stack_pool& operator=(const stack_pool&) = delete;

  /// get returns a stack, reused if one is free. Thread-safe.
  stack get();
  /// put returns a stack for reuse. Thread-safe.
  void put(stack s);
  /// The usable size of every stack of this pool.
  std::size_t stack_size() const { return size_; }
  /// How many stacks the pool has made (for tests and statistics).
  std::size_t allocated() const;

 private:
  stack map_guarded() GORO_REQUIRES(lock_);
  stack take_from_slab() GORO_REQUIRES(lock_);

  struct mapping {
    void* addr;
    std::size_t len;
  };
  std::size_t size_;
  std::size_t guard_budget_;
  mutable mutex lock_;  // guards the fields below
  std::vector<stack> free_ GORO_GUARDED_BY(lock_);
  std::vector<mapping> mappings_ GORO_GUARDED_BY(lock_);
  std::size_t guarded_ GORO_GUARDED_BY(lock_) = 0;
  std::size_t made_ GORO_GUARDED_BY(lock_) = 0;
  char* slab_next_ GORO_GUARDED_BY(lock_) = nullptr;
  std::size_t slab_left_ GORO_GUARDED_BY(lock_) = 0;
};

/// place_closure returns where a closure of `size` bytes, aligned to
/// `align` (at least 16, so that the runtime can keep a 16-byte header just
/// below it), goes at the top of stack `s`. A closure may take at
/// most half the stack: calling its function moves the arguments once more,
/// and the function needs room to run. A larger one ends the program with
/// Go's words, "fatal error: newproc: function arguments too large for new
/// goroutine" (placed anyway, it would overwrite what lies below the stack).
void* place_closure(const stack& s, std::size_t size, std::size_t align);

/// stack_mappings_alive returns how many stack mappings exist in the whole
/// process, over every pool. Tests check that it is 0 after run().
std::size_t stack_mappings_alive();

/// check_stack verifies, after goroutine `goid` switched out with saved
/// stack pointer `sp`, that it did not run past the end of `s`: sp must be
/// above the 4 KiB red zone at the bottom. On failure it ends the program
/// like Go: "fatal error: stack overflow". (A guarded stack faults at once
/// instead; for an unguarded one this check at every switch is the net.)
void check_stack(const stack& s, const void* sp, long goid);

/// Ends the program reporting that goroutine `goid` overflowed a stack of
/// `size` bytes, in Go's words. Async-signal-safe.
[[noreturn]] void stack_overflow(long goid, std::size_t size);

/// overflow_handler installs, for the lifetime of the object, a SIGSEGV
/// handler that recognises a fault in the guard page of the running
/// goroutine's stack and reports it as a stack overflow naming the
/// goroutine. Other faults go to the handler that was there before.
class overflow_handler {
 public:
  /// Installs the handler.
  overflow_handler();
  /// Restores the handler that was there before.
  ~overflow_handler();
  overflow_handler(const overflow_handler&) = delete;
  overflow_handler& operator=(const overflow_handler&) = delete;
};

/// signal_stack gives the calling thread an alternate signal stack for its
/// lifetime (a goroutine that overflowed has no stack left to handle the
/// fault on). Restores the thread's previous one on destruction.
class signal_stack {
 public:
  /// Gives the thread its alternate stack.
  signal_stack();
  /// Restores the thread's previous one.
  ~signal_stack();
  signal_stack(const signal_stack&) = delete;
  signal_stack& operator=(const signal_stack&) = delete;

 private:
  void* mem_ = nullptr;
  std::size_t len_ = 0;
  bool had_old_ = false;
  stack_t old_{};  // the previous alternate stack
};

}  // namespace goro::common
