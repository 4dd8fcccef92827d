// panic.hpp: panic, defer and recover, chapter 08 (Go's panic.go). Included
// by goro.hpp. A panic is a C++ exception: goro::panic throws one, and so
// does any throw in a goroutine. C++ unwinding runs the destructors of
// goro::defer objects, the deferred calls; while it does, recover() can
// stop the panic. The runtime keeps Go's _defer and _panic lists beside
// the unwinding to decide what recover returns and what a crash prints.
#pragma once

#include <cstddef>
#include <exception>
#include <functional>
#include <iterator>
#include <memory>
#include <new>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>

namespace goro {

/// panic_error is a panic whose value is a message, as Go's `panic("...")`
/// with a string: what goro::panic throws, and what misusing a WaitGroup
/// throws. Uncaught, it ends the program as Go's panic does: `panic:
/// <what>`, a blank line, `goroutine N [running]:`, exit status 2.
class panic_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// panic starts a panic with `message` as its value, like Go's
/// `panic("message")`: it throws panic_error(message). The deferred calls
/// of the goroutine run as the panic unwinds its stack; unless one of them
/// recovers it, the program ends: `panic: <message>`, a blank line,
/// `goroutine N [running]:`, exit status 2. Any other exception that
/// leaves a goroutine's function is a panic too, with its what() as text.
[[noreturn]] void panic(std::string message);

/// recovered is what recover() returns: empty (false) when there was no
/// panic to stop, else the panic's value.
class recovered {
 public:
  /// An empty recovered: no panic was stopped.
  recovered() noexcept = default;
  /// true: recover() stopped a panic.
  explicit operator bool() const noexcept { return static_cast<bool>(e_); }
  /// The panic's text: a panic_error's message, a std::exception's
  /// what(), "unknown C++ exception" for any other thrown type, and ""
  /// when empty. Go's `fmt.Println(recover())` prints the same text.
  std::string what() const;
  /// The exception the panic threw (a null exception_ptr when empty), to
  /// rethrow or to inspect with std::rethrow_exception.
  std::exception_ptr exception() const noexcept { return e_; }

 private:
  friend recovered recover();
  explicit recovered(std::exception_ptr e) noexcept : e_(std::move(e)) {}
  std::exception_ptr e_;
};

/// recover stops the panic that is unwinding the calling goroutine, like
/// Go's recover(), and returns its value. It does so only when called
/// from a deferred function (a goro::defer) that runs because that panic
/// unwinds the defer's scope, and only once per panic. Anywhere else it
/// returns an empty recovered: with no panic, in a catch block (the
/// exception caught there is no panic any more), in a deferred function
/// run at a normal scope exit, during goexit(), and outside a goroutine. Once a panic is recovered, its unwinding goes on
/// (running the remaining defers, which see no panic) up to the goroutine's
/// function, and the goroutine ends normally; see call() to stop it sooner.
/// Where goro differs: Go accepts recover only when the deferred function
/// calls it directly; goro accepts it anywhere inside the deferred call.
recovered recover();

/// Internals the templates below need; not part of the API.
namespace detail {

/// defer_record is Go's _defer: one pending deferred call of a goroutine,
/// on the goroutine's LIFO list g._defer. It lives inside its goro::defer.
struct defer_record {
  void (*invoke)(void* fn) = nullptr;  ///< calls the deferred function
  void* fn = nullptr;                  ///< the function object
  defer_record* link = nullptr;        ///< the next older defer of the G
  void* owner = nullptr;               ///< the G that made it (runtime::g*)
  /// The panic this call runs for (runtime::_panic*), nullptr at a normal
  /// exit (Go's _defer._panic).
  void* panic = nullptr;
  /// std::uncaught_exceptions() when the defer was made: more at its
  /// destruction means an exception is unwinding through its scope.
  int uncaught = 0;
  bool started = false;  ///< its call has begun (Go's _defer.started)
};

/// deferproc pushes `d` on the calling goroutine's defer list (Go's
/// deferprocStack). Throws std::logic_error outside a goroutine.
void deferproc(defer_record* d);
/// deferreturn pops `d` and makes its call (Go's deferreturn, and gopanic's
/// loop when an exception unwinds the scope). At a normal exit an exception
/// from the call goes on as a new panic; during unwinding it replaces the
/// panic being unwound, as in Go, and never reaches std::terminate.
void deferreturn(defer_record* d) noexcept(false);
/// call_catch decides, in the handler of call() whose caller had `depth`
/// uncaught exceptions, whether the exception caught there is a panic that
/// a deferred call recovered: true ends it there; false means rethrow.
bool call_catch(int depth) noexcept;
/// The type goexit() throws; not a std::exception.
struct goexit_unwind {};
/// panic_index throws goro::runtime_error with Go's index-out-of-range
/// text (Go's panicIndex).
[[noreturn]] void panic_index(long long i, std::size_t len);

}  // namespace detail

/// defer runs a function when its scope ends, like Go's `defer f()`:
/// normally, and also while a panic or goexit() unwinds the scope. Defers
/// run last in first out, as C++ destroys locals. The function may call
/// recover() to stop the panic, block, yield, and use channels. A panic in
/// it at a normal exit is a new panic; a panic in it while another panic
/// unwinds replaces that one, as in Go (the crash prints both). Make a
/// defer on the goroutine's stack and only there: not copyable, not
/// movable. Throws std::logic_error outside a goroutine.
class defer {
 public:
  /// Defers fn(): a copy (or move) of fn is called when the scope ends.
  template <class F>
  explicit defer(F fn) {
    using Fn = std::decay_t<F>;
    static_assert(std::is_invocable_v<Fn&>, "goro::defer needs a function callable with no arguments");
    if constexpr (sizeof(Fn) <= sizeof(buf_) && alignof(Fn) <= alignof(std::max_align_t)) {
      rec_.fn = ::new (static_cast<void*>(buf_)) Fn(std::move(fn));
      destroy_ = [](void* p) { static_cast<Fn*>(p)->~Fn(); };
    } else {
      rec_.fn = new Fn(std::move(fn));
      destroy_ = [](void* p) { delete static_cast<Fn*>(p); };
    }
    rec_.invoke = [](void* p) { std::invoke(*static_cast<Fn*>(p)); };
    try {
      detail::deferproc(&rec_);
    } catch (...) {
      destroy_(rec_.fn);
      throw;
    }
  }
  /// Makes the deferred call (see detail::deferreturn).
  ~defer() noexcept(false) {
    struct free_on_scope_end {
      defer* d;
      ~free_on_scope_end() { d->destroy_(d->rec_.fn); }
    } guard{this};
    detail::deferreturn(&rec_);
  }
  defer(const defer&) = delete;             ///< a defer belongs to its scope
  defer& operator=(const defer&) = delete;  ///< a defer belongs to its scope

 private:
  detail::defer_record rec_;
  void (*destroy_)(void*) = nullptr;
  alignas(std::max_align_t) unsigned char buf_[48];
};

/// goexit ends the calling goroutine like Go's runtime.Goexit: its deferred
/// calls run (recover() returns empty in them), then it ends; other
/// goroutines go on. In main, the program goes on until the other
/// goroutines are done, then ends with Go's `fatal error: no goroutines
/// (main called runtime.Goexit) - deadlock!`. goexit throws
/// detail::goexit_unwind: a `catch (...)` on the way must rethrow it.
/// Throws std::logic_error outside a goroutine.
[[noreturn]] void goexit();

/// call calls f(args...) and returns its result, like a Go function call
/// with a recovery point: if a panic inside f is recovered by one of f's
/// deferred calls, call returns a value-initialized result (Go's zero
/// value) at once, as Go returns from the function whose defer recovered.
/// A panic nobody recovered, and goexit(), go on through call. Without
/// call, a recovered panic unwinds to the goroutine's function and ends
/// the goroutine. f's result must be void or default-constructible.
template <class F, class... Args>
std::invoke_result_t<F, Args...> call(F&& f, Args&&... args) {
  using R = std::invoke_result_t<F, Args...>;
  static_assert(std::is_void_v<R> || std::is_default_constructible_v<R>,
                "goro::call needs a result with a zero value (void or default-constructible)");
  const int depth = std::uncaught_exceptions();
  try {
    return std::invoke(std::forward<F>(f), std::forward<Args>(args)...);
  } catch (...) {
    if (!detail::call_catch(depth)) throw;
    if constexpr (!std::is_void_v<R>) return R{};
  }
}

/// at returns c[i] after checking i as Go checks an index: outside [0,
/// size) it panics with Go's `runtime error: index out of range [i] with
/// length n` (`index out of range [-1]` when negative), a goro::runtime_error.
/// Works on any container with size() and operator[], and on arrays.
template <class C>
decltype(auto) at(C& c, long long i) {
  const std::size_t n = std::size(c);
  if (i < 0 || static_cast<unsigned long long>(i) >= n) detail::panic_index(i, n);
  return c[static_cast<std::size_t>(i)];
}

}  // namespace goro
