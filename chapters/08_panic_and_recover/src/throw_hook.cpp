// throw_hook.cpp: every exception thrown on a goroutine is a candidate
// panic, so the runtime must see each throw as it starts. C++ has no hook
// for that, but every throw goes through the C++ ABI's entry points:
// `throw x` calls __cxa_throw, `throw;` calls __cxa_rethrow, and
// std::rethrow_exception is an ordinary library function. goro defines all
// three (the program's own definitions come before the C++ library's, for
// the library's own throws too, like std::vector::at's), records the
// exception, and goes on into the library's (found with dlsym RTLD_NEXT).
// The same interposition is how folly's exception tracer sees throws.
// Chapter 08.
//
// To get the exception as a std::exception_ptr, the hook lets the
// library's __cxa_throw throw it into the hook's own handler, records it
// there, and rethrows it with the library's __cxa_rethrow: one extra
// search of the hook's frame, which handles nothing but this. This file
// must contain no throw expression of its own.
#include <cxxabi.h>
#include <dlfcn.h>

#include <exception>
#include <typeinfo>

#include "goro/common/fatal.hpp"
#include "runtime.hpp"

namespace {

using throw_fn = void (*)(void*, std::type_info*, void (*)(void*));
using rethrow_fn = void (*)();
using rethrow_exception_fn = void (*)(std::exception_ptr);

// The C++ library's definition of `name`, the one this file hides.
template <class F>
F library_fn(const char* name) {
  void* f = dlsym(RTLD_NEXT, name);
  if (f == nullptr) goro::common::fatal("goro: the C++ library's exception functions are not found (dlsym)");
  return reinterpret_cast<F>(f);
}

rethrow_fn real_rethrow() {
  static const rethrow_fn f = library_fn<rethrow_fn>("__cxa_rethrow");
  return f;
}

}  // namespace

// `throw x`: x is built, then thrown here. (In the namespace where
// <cxxabi.h> declares it, so that the two declarations are one.)
namespace __cxxabiv1 {
extern "C" void __cxa_throw(void* obj, std::type_info* tinfo, void (*dest)(void*)) {
  static const throw_fn real = library_fn<throw_fn>("__cxa_throw");
  try {
    real(obj, tinfo, dest);
  } catch (...) {
    goro::runtime::record_throw(std::current_exception(),
                                *tinfo == typeid(goro::detail::goexit_unwind));
    real_rethrow()();
  }
  __builtin_unreachable();
}
}  // namespace __cxxabiv1

// `throw;` in a catch block.
extern "C" void __cxa_rethrow() {
  goro::runtime::record_rethrow(std::current_exception());
  real_rethrow()();
  __builtin_unreachable();
}

// std::rethrow_exception(p), as std::future::get and exception_ptr users do.
namespace std {
void rethrow_exception(exception_ptr p) {
  static const rethrow_exception_fn real =
      library_fn<rethrow_exception_fn>("_ZSt17rethrow_exceptionNSt15__exception_ptr13exception_ptrE");
  goro::runtime::record_rethrow(p);
  real(std::move(p));
  __builtin_unreachable();
}
}  // namespace std
