// context.hpp: the context switch, goro's twin of Go's gobuf/gogo/mcall
// (runtime/asm_amd64.s). Introduced in chapter 01; no chapter changes it.
#pragma once

#include <cstddef>

#include <boost/context/detail/fcontext.hpp>

/// What no chapter changes: the context switch, stacks, locks, notes,
/// queues, the timer heap and tracing, shared by every chapter's runtime.
namespace goro::common {

/// The C++ runtime's per-thread exception state (libstdc++'s __cxa_eh_globals:
/// the stack of caught exceptions and the count of uncaught ones). Each
/// context carries its own copy so that a goroutine that yields inside a
/// catch block, or in a destructor run by unwinding, finds its own exception
/// when it resumes, even on another thread.
struct eh_state {
  void* caught = nullptr;     ///< __cxa_eh_globals::caughtExceptions
  unsigned int uncaught = 0;  ///< __cxa_eh_globals::uncaughtExceptions
};

/// A saved execution context: what Go keeps in a G's `gobuf`, plus what the
/// C++ runtime and the sanitizers keep per thread and so must travel with a
/// goroutine.
///
/// A context is either a thread's own (the M's g0, made by
/// init_thread_context) or a goroutine's (made by make_context on a stack).
/// It is suspended exactly when `sp` is non-null; only then may another
/// thread switch to it.
struct context {
  boost::context::detail::fcontext_t sp = nullptr;  ///< saved stack pointer
  eh_state eh;                    ///< exception state while suspended
  void* stack_lo = nullptr;       ///< lowest usable address of the stack
  std::size_t stack_size = 0;     ///< usable bytes above stack_lo
  long id = 0;                    ///< who runs here (a goroutine id, 0: g0)
  void* asan_fake_stack = nullptr;  ///< ASan's fake-stack handle
  void* tsan_fiber = nullptr;       ///< TSan's fiber for this context
  unsigned tsan_runs = 0;           ///< goroutines it has run (see make_context)
  void (*entry)(void*) = nullptr;   ///< where a new context starts
};

/// The function a new context starts in. It receives the `arg` of the switch
/// that first entered it, and must never return: it leaves with exit_context.
using entry_fn = void (*)(void* arg);

/// init_thread_context makes `c` describe the calling thread's own stack, so
/// that the thread can switch to goroutines and back (Go's m->g0).
void init_thread_context(context& c);

/// make_context prepares `c` to run `entry` on the stack [lo, lo+size) the
/// first time something switches to it. `top` may be below lo+size when the
/// caller keeps data at the top of the stack (goro keeps a goroutine's
/// closure there, as Go copies a new goroutine's arguments to its stack).
void make_context(context& c, void* lo, std::size_t size, void* top,
                  entry_fn entry);

/// release_context frees what make_context acquired (TSan's fiber). The
/// context must not be running.
void release_context(context& c);

/// switch_context saves the running context into `from` and resumes `to`,
/// handing it `arg`. It returns when something switches back to `from`, with
/// that switch's arg, possibly on another thread.
void* switch_context(context& from, context& to, void* arg);

/// exit_context is switch_context for a context that will never run again:
/// it tells ASan to drop the fake stack and does not save `from`'s exception
/// state.
[[noreturn]] void exit_context(context& from, context& to, void* arg);

/// running_context is the context now running on the calling thread, as
/// recorded by the last switch (nullptr before the first one). Read by the
/// stack-overflow handler.
context* running_context() noexcept;

}  // namespace goro::common
