// closure.hpp: a goroutine's function and its copied arguments, built in
// place on the goroutine's own stack. Introduced in chapter 01; no chapter
// changes it.
#pragma once

#include <cstddef>
#include <exception>
#include <tuple>
#include <type_traits>
#include <utility>

namespace goro::common {

/// closure_ops says how to run and how to destroy a type-erased closure.
struct closure_ops {
  void (*run)(void* self);      ///< calls the function with its arguments
  void (*destroy)(void* self);  ///< destroys the closure without running it
};

/// closure holds what `go f(args...)` evaluated at spawn time: a decayed
/// copy of f and of each argument, as std::thread does. Like Go's newproc,
/// which copies the arguments into the new goroutine's first frame, goro
/// constructs the closure at the top of the new goroutine's stack, so
/// spawning allocates nothing on the heap.
template <class F, class... Args>
struct closure {
  std::decay_t<F> fn;                       ///< the function, copied
  std::tuple<std::decay_t<Args>...> args;   ///< its arguments, copied

  /// Evaluate and copy f and args now.
  template <class F2, class... A2>
  explicit closure(F2&& f, A2&&... a)
      : fn(std::forward<F2>(f)), args(std::forward<A2>(a)...) {}

  /// The operations for this closure type.
  static constexpr closure_ops ops{
      [](void* self) {
        auto* c = static_cast<closure*>(self);
        std::apply(std::move(c->fn), std::move(c->args));
      },
      [](void* self) { static_cast<closure*>(self)->~closure(); }};
};

/// panic_exit ends the program for an exception that left goroutine `goid`,
/// as Go does for an unrecovered panic: "panic: <what()>", a blank line,
/// "goroutine N [running]:" on stderr, exit status 2.
[[noreturn]] void panic_exit(long goid, std::exception_ptr e);

}  // namespace goro::common
