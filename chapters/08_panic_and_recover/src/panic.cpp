// panic.cpp: panic, defer and recover (Go's runtime/panic.go). Chapter 08.
//
// Go's gopanic walks the goroutine's _defer list itself, calls each
// deferred function, and on recover jumps back into the frame that
// deferred it. goro lets C++ do the walking: a panic is an exception, and
// unwinding destroys each goro::defer on the way, which makes its call.
// What C++ does not know is Go's bookkeeping, so the runtime keeps it
// beside the unwinding, per goroutine:
//   - g._defer, the pending defers (deferproc pushes, deferreturn pops);
//   - g._panic, the panics: throw_hook.cpp records every exception thrown
//     on a goroutine as a candidate panic (record_throw);
//   - g.running_defer, the deferred call in progress, which recover() asks.
// A record is matched to the unwinding by depth, the number of exceptions
// in flight (std::uncaught_exceptions()): one thrown while n others unwind
// has depth n+1, and once fewer than that are in flight, user code caught
// it and the record is stale (prune). Each goroutine has its own count:
// execute switches the C++ runtime's exception state with the goroutine.
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdio>
#include <new>
#include <string>
#include <typeinfo>

#include "goro/common/fatal.hpp"
#include "runtime.hpp"

namespace goro::runtime {

namespace {

// Set while the runtime rethrows a panic's value to read its text: those
// throws are not panics. The thread's, since nothing switches meanwhile.
thread_local bool hooks_off = false;

// thrower is the goroutine an exception thrown by our caller belongs to:
// the running G, if the caller is on its stack; nullptr on g0 (the runtime
// itself) and on threads outside goro.
g* thrower() {
  g* gp = getg();
  if (gp == nullptr || hooks_off) return nullptr;
  auto* sp = static_cast<char*>(__builtin_frame_address(0));
  if (sp < static_cast<char*>(gp->stack.lo) || sp >= gp->stack.hi()) return nullptr;
  return gp;
}

// prune drops the records of exceptions that user code has caught: those
// deeper than the `live` exceptions in flight now.
void prune(g* gp, int live) {
  while (gp->_panic != nullptr && gp->_panic->depth > live) {
    _panic* p = gp->_panic;
    gp->_panic = p->link;
    delete p;
  }
}

void push(g* gp, std::exception_ptr e, int depth, bool goexit) {
  auto* p = new (std::nothrow) _panic;
  if (p == nullptr) common::fatal("out of memory recording a panic");
  p->arg = e;
  p->carrier = std::move(e);
  p->depth = depth;
  p->goexit = goexit;
  p->link = gp->_panic;
  gp->_panic = p;
}

bool is_goexit(const std::exception_ptr& e) {
  return e && *e.__cxa_exception_type() == typeid(goro::detail::goexit_unwind);
}

// A goexit() under a recovered panic of the same unwinding goes on (Go:
// "if the recovered panic was covering a Goexit, recovery resumes the
// Goexit"). Returns that goexit's record, or nullptr.
_panic* covered_goexit(_panic* p) {
  for (_panic* q = p->link; q != nullptr && q->depth == p->depth; q = q->link) {
    if (q->goexit) return q;
  }
  return nullptr;
}

//! [repanic]
// repanic: the deferred call `d`, run because panic `p` unwinds its scope
// at depth `live`, let exception y out. C++ would call std::terminate (a
// destructor throwing during unwinding); Go's rule instead is that the
// new panic replaces p. The unwinding already under way carries on, now
// on behalf of y's records, which move down to depth `live`; p stays
// below them, aborted, for the crash report. If y was recovered inside
// the call (by a defer of a function it called), the call simply ends:
// returns true.
bool repanic(g* gp, _panic* p, int live, const std::exception_ptr& y) {
  prune(gp, live + 1);
  _panic* top = gp->_panic;
  if (top == nullptr || top->depth != live + 1) {  // thrown where no hook saw it
    push(gp, y, live + 1, is_goexit(y));
    top = gp->_panic;
  }
  if (top->recovered) {
    _panic* ge = covered_goexit(top);
    if (ge == nullptr) {
      prune(gp, live);
      return true;
    }
    while (gp->_panic != ge) {  // the goexit goes on, the panic over it ends
      _panic* q = gp->_panic;
      gp->_panic = q->link;
      delete q;
    }
    ge->aborted = false;
  }
  // A panic recovered by an earlier defer of this unwinding is over (Go
  // removed it when it resumed), and so are the ones it had aborted.
  // The unwinding under way is p's (whatever happens to p's record below).
  const std::exception_ptr carrier = p != nullptr ? p->carrier : nullptr;
  _panic* last = nullptr;  // the oldest of y's records (they link to p)
  for (_panic* q = gp->_panic; q != nullptr && q->depth == live + 1; q = q->link) last = q;
  _panic* below = p;
  while (below != nullptr && below->depth == live && below->done) {
    _panic* q = below;
    below = q->link;
    while (below != nullptr && below->depth == live && below->aborted && !below->goexit) {
      _panic* a = below;
      below = a->link;
      delete a;
    }
    delete q;
  }
  if (below != nullptr && below->depth == live) below->aborted = true;
  for (_panic* q = gp->_panic;; q = q->link) {  // y's records join depth live
    q->depth = live;
    if (carrier) q->carrier = carrier;
    if (q == last) break;
  }
  last->link = below;
  return false;
}
//! [repanic]

// panic_text is what Go's printpanicval prints for a panic's value.
std::string panic_text(const std::exception_ptr& e) {
  hooks_off = true;
  std::string s = "unknown C++ exception";
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    s = ex.what();
  } catch (...) {
  }
  hooks_off = false;
  return s;
}

//! [printpanics]
// printpanics prints the panics of a crashing goroutine, oldest first, as
// Go does: "panic: <value>", " [recovered]" after one that was recovered
// before a deferred call panicked again, a tab before each later one.
void printpanics(_panic* p) {
  if (p->link != nullptr) {
    printpanics(p->link);
    if (!p->link->goexit) common::write_err("\t");
  }
  if (p->goexit) return;
  common::write_err("panic: ");
  common::write_err(panic_text(p->arg).c_str());
  if (p->recovered) common::write_err(" [recovered]");
  common::write_err("\n");
}
//! [printpanics]

}  // namespace

// record_throw: exception e was just thrown on this thread (throw_hook.cpp).
// On a goroutine it is a candidate panic, recorded at its depth; whatever
// deeper records remain were caught by user code.
void record_throw(std::exception_ptr e, bool goexit) {
  g* gp = thrower();
  if (gp == nullptr) return;
  const int depth = std::uncaught_exceptions() + 1;  // in flight once thrown
  prune(gp, depth - 1);
  push(gp, std::move(e), depth, goexit);
}

// record_rethrow: the exception being handled is thrown again (`throw;`,
// std::rethrow_exception). If it is the one whose unwinding a record
// carries, its panic goes on as it was; else, or if that panic was
// recovered (it is over), it starts a new one.
void record_rethrow(const std::exception_ptr& e) {
  g* gp = thrower();
  if (gp == nullptr) return;
  const int depth = std::uncaught_exceptions() + 1;
  _panic* p = gp->_panic;
  if (p != nullptr && p->depth == depth && p->carrier == e && !p->recovered) return;
  prune(gp, depth - 1);
  push(gp, e, depth, is_goexit(e));
}

//! [gopanic_exit]
// gopanic_exit: exception e left goroutine gp's function (goentry's
// handler). A recovered panic, or goexit(), ends the goroutine normally;
// anything else is an unrecovered panic, which ends the program as Go's
// fatalpanic does: the panics, a blank line, the goroutine's header, exit
// status 2. Other goroutines' deferred calls do not run.
void gopanic_exit(g* gp, std::exception_ptr e) {
  _panic* p = gp->_panic;
  if (p != nullptr && p->depth == 1 && p->carrier == e) {
    if (p->recovered || p->goexit) {
      gp->goexiting = p->goexit || covered_goexit(p) != nullptr;
      prune(gp, 0);
      return;
    }
  } else {
    prune(gp, 0);  // not seen by the hooks: e alone is the panic
    push(gp, e, 1, is_goexit(e));
    p = gp->_panic;
    if (p->goexit) {
      gp->goexiting = true;
      prune(gp, 0);
      return;
    }
  }
  std::fflush(nullptr);  // what the program printed before goes out first
  printpanics(p);
  char buf[24];
  common::write_err("\ngoroutine ");
  common::write_err(common::format_long(gp->goid, buf));
  common::write_err(" [running]:\n");
  // exit_group at once, not _exit: a sanitizer's _exit does its own checks
  // first, long enough for other goroutines to run on and their deferred
  // calls with them, which Go's crash never lets happen.
  ::syscall(SYS_exit_group, 2);
  _exit(2);
}
//! [gopanic_exit]

void clear_panics(g* gp) noexcept {
  prune(gp, -1);
  gp->_defer = nullptr;
  gp->running_defer = nullptr;
}

// goexit_started: gp's function ended by goexit() (main then waits for
// the others, see goexit0). Clears the flag for the G's next life.
bool goexit_started(g* gp) {
  const bool r = gp->goexiting;
  gp->goexiting = false;
  return r;
}

}  // namespace goro::runtime

namespace goro {

using namespace runtime;

void panic(std::string message) { throw panic_error(std::move(message)); }

void goexit() {
  detail::check_goroutine("goexit");
  throw detail::goexit_unwind{};
}

std::string recovered::what() const { return e_ ? panic_text(e_) : std::string(); }

//! [gorecover]
// recover is Go's gorecover: it stops the newest panic if the deferred
// call asking is the one that panic is running, and if the panic is not
// already recovered and not a goexit. Go also checks that recover is called
// by that deferred function itself (argp); goro cannot see frames.
recovered recover() {
  g* gp = getg();
  if (gp == nullptr) return {};
  prune(gp, std::uncaught_exceptions());
  _panic* p = gp->_panic;
  detail::defer_record* d = gp->running_defer;
  if (p == nullptr || d == nullptr || d->panic != p || p->recovered || p->goexit) return {};
  p->recovered = true;
  return recovered(p->arg);
}
//! [gorecover]

namespace detail {

//! [deferproc]
// deferproc links a new defer on top of the goroutine's list and notes how
// many exceptions are in flight as its scope begins.
void deferproc(defer_record* d) {
  check_goroutine("defer");
  g* gp = getg();
  d->owner = gp;
  d->uncaught = std::uncaught_exceptions();
  d->link = gp->_defer;
  gp->_defer = d;
}
//! [deferproc]

//! [deferreturn]
// deferreturn makes the call of defer d as its scope ends. More exceptions
// in flight than when d was made means one is unwinding the scope: d then
// runs for the newest panic (gopanic's loop), which recover() may stop,
// and a panic out of d replaces that one instead of escaping (repanic).
// At a normal exit d runs with no panic, and what it throws escapes.
void deferreturn(defer_record* d) noexcept(false) {
  g* gp = getg();
  if (gp != d->owner) common::fatal("goro::defer ended on another goroutine than the one that made it");
  defer_record** pp = &gp->_defer;  // pop d: the top, unless defers end out of order
  while (*pp != d) {
    if (*pp == nullptr) common::fatal("goro::defer ended twice");
    pp = &(*pp)->link;
  }
  *pp = d->link;
  const int live = std::uncaught_exceptions();
  prune(gp, live);
  struct running {  // d is the call recover() asks, until it ends
    g* gp;
    defer_record* outer;
    ~running() { gp->running_defer = outer; }
  } scope{gp, gp->running_defer};
  d->started = true;
  gp->running_defer = d;
  if (live <= d->uncaught) {
    d->panic = nullptr;
    d->invoke(d->fn);
    return;
  }
  _panic* p = gp->_panic != nullptr && gp->_panic->depth == live ? gp->_panic : nullptr;
  d->panic = p;
  try {
    d->invoke(d->fn);
  } catch (...) {
    if (!repanic(gp, p, live, std::current_exception())) return;
  }
  if (p != nullptr && p->recovered) p->done = true;
}
//! [deferreturn]

//! [call_catch]
// call_catch: the handler of goro::call, entered with `depth` exceptions in
// flight outside it, caught the current exception. If its panic was
// recovered (and covers no goexit), the call is its recovery point: the
// records end and call returns. Otherwise it rethrows, and the record goes
// on with the unwinding (record_rethrow).
bool call_catch(int depth) noexcept {
  g* gp = getg();
  if (gp == nullptr) return false;
  _panic* p = gp->_panic;
  if (p == nullptr || p->depth != depth + 1 || p->carrier != std::current_exception()) return false;
  if (!p->recovered || covered_goexit(p) != nullptr) return false;
  prune(gp, depth);
  return true;
}
//! [call_catch]

void panic_index(long long i, std::size_t len) {
  std::string s = "runtime error: index out of range [" + std::to_string(i) + "]";
  if (i >= 0) s += " with length " + std::to_string(len);
  throw goro::runtime_error(s);
}

}  // namespace detail
}  // namespace goro
