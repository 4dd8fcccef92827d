// panic_support.hpp: what the panic tests share (recover_test.cpp,
// repanic_test.cpp, goexit_test.cpp, panic_sources_test.cpp,
// unwinding_test.cpp and panic_death_test.cpp).
#pragma once

#include <goro/goro.hpp>

#include <string>
#include <utility>

namespace goro::testing {

/// Runs `f` in a new goroutine and waits until that goroutine has ended,
/// however it ends (normally, by a recovered panic, or by goexit()): its
/// first defer, made before `f` runs, runs last and lets the caller go on.
template <class F>
void in_goroutine(F f) {
  WaitGroup wg;
  wg.add(1);
  go([&wg, f = std::move(f)]() mutable {
    defer done([&wg] { wg.done(); });
    f();
  });
  wg.wait();
}

/// Panics with `message` when `really` is true: a panic the compiler cannot
/// see is certain, so that the code after it still counts.
inline void panic_if(bool really, const std::string& message) {
  if (really) goro::panic(message);
}

}  // namespace goro::testing
