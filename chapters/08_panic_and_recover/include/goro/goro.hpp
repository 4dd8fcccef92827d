// goro.hpp: the public API of goro, chapter 08 (panic, defer and recover).
// The same header name and namespace in every chapter, so a program builds
// against any chapter that has the calls it uses: the API only grows from
// one chapter to the next, and no call changes its meaning.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <new>
#include <utility>

#include "goro/common/closure.hpp"

/// goro: Go's goroutine runtime, rebuilt in C++20 one chapter at a time.
namespace goro {

/// How run() sets up the runtime.
struct Config {
  /// The number of Ps (Go's GOMAXPROCS), at most 256. 0: the value of
  /// $GOMAXPROCS if it is a positive number, else the number of CPUs this process
  /// may run on (its affinity mask).
  int procs = 0;
  /// The usable size of each goroutine stack in bytes. 0: 256 KiB.
  std::size_t stack_size = 0;
};

/// run boots the runtime, runs main_fn as goroutine 1 and returns 0 when
/// main_fn returns. Goroutines still alive then are abandoned, as in Go, and
/// the runtime frees everything it made before returning. run may be called
/// again afterwards; calling it while it runs throws std::logic_error.
int run(std::function<void()> main_fn, Config config = {});

/// Internals the templates below need; not part of the API.
namespace detail {
/// newproc_alloc makes a new goroutine and returns `size` bytes, aligned to
/// `align`, at the top of its stack for its closure. Throws
/// std::logic_error outside a goroutine.
void* newproc_alloc(std::size_t size, std::size_t align,
                    const common::closure_ops* ops);
/// newproc_commit makes the goroutine whose closure is at `mem` runnable.
void newproc_commit(void* mem);
/// newproc_abort frees the goroutine of `mem`: its closure failed to build.
void newproc_abort(void* mem) noexcept;
/// check_goroutine throws std::logic_error naming `what` unless the caller
/// is a goroutine.
void check_goroutine(const char* what);
/// entersyscall: the calling goroutine is about to block its thread; its P
/// may be handed to another thread meanwhile. Throws std::logic_error
/// outside a goroutine.
void entersyscall(const char* what);
/// exitsyscall: the blocking call returned; get a P back, waiting for one
/// if need be.
void exitsyscall() noexcept;
}  // namespace detail

/// go starts f(args...) in a new goroutine, like Go's `go f(args...)`:
/// f and the arguments are copied now (use std::ref to pass a reference),
/// and the call runs later, concurrently with the caller.
/// Throws std::logic_error when called outside run().
template <class F, class... Args>
void go(F&& f, Args&&... args) {
  using C = common::closure<F, Args...>;
  void* mem = detail::newproc_alloc(sizeof(C), alignof(C), &C::ops);
  try {
    ::new (mem) C(std::forward<F>(f), std::forward<Args>(args)...);
  } catch (...) {
    detail::newproc_abort(mem);
    throw;
  }
  detail::newproc_commit(mem);
}

/// gosched yields the processor to other goroutines, like runtime.Gosched:
/// the caller goes to the global run queue and resumes later.
void gosched();

/// sleep_for parks the calling goroutine for at least `d`, like time.Sleep:
/// the thread runs other goroutines meanwhile. A d <= 0 returns at once.
void sleep_for(std::chrono::nanoseconds d);

/// syscall runs a blocking call f (a read, a sleep, a lock of the OS) and
/// returns its result, or lets its exception through. While f blocks the
/// thread, the goroutine's P is handed to another thread, so the other
/// goroutines keep running on every P: sysmon takes the P once it has seen
/// the same call at two of its looks (after 20 us while sysmon is busy, up
/// to about 20 ms once it has backed off). f must not call goro itself
/// (go, gosched, sleep_for...): that throws std::logic_error.
template <class F>
auto syscall(F&& f) {
  detail::entersyscall("syscall");
  struct exit_on_scope_end {
    ~exit_on_scope_end() { detail::exitsyscall(); }
  } guard;
  return std::forward<F>(f)();
}

/// gomaxprocs returns the number of Ps (runtime.GOMAXPROCS(0)): how many
/// goroutines can run at once.
int gomaxprocs();

/// num_goroutine returns the number of goroutines that exist, main included
/// (runtime.NumGoroutine).
int num_goroutine();

}  // namespace goro

// Chapter 06: channels, select and after (the templates over the runtime's
// type-erased chansend, chanrecv and selectgo).
#include "goro/chan.hpp"

// Chapter 07: WaitGroup and Mutex (Go's sync package, on the runtime's
// semaphore).
#include "goro/sync.hpp"

// Chapter 08: panic, defer and recover (Go's panic.go, over C++ unwinding).
#include "goro/panic.hpp"
