// context.cpp: the context switch over Boost.Context's fcontext, with the
// C++ exception state and the sanitizers carried along. Chapter 01.
//
// Why fcontext: Boost.Context offers three layers. `fiber` (and the older
// `callcc`/`execution_context`) owns its stack and allocates a control block
// per fiber; `fcontext_t` (make_fcontext / jump_fcontext in
// boost/context/detail/fcontext.hpp) is the assembly underneath: one saved
// stack pointer, a switch that pushes the callee-saved registers, stores sp
// and pops the other side's. That is exactly Go's gobuf + gogo, it leaves
// stacks to us (pooled, see stack.cpp) and costs a few nanoseconds a switch
// (measured: see the chapter 01 README and bench/). The price is that the
// saved context comes back to the *resumed* side (transfer_t::fctx), so the
// resumed side must store it into the context that just left: arrive() does.
#include "goro/common/context.hpp"

#include <pthread.h>

#include <cxxabi.h>

#include "goro/common/sanitizer.hpp"

namespace goro::common {
namespace bc = boost::context::detail;

namespace {

// What a switch hands to the other side: who left (so the arriving side can
// store the left context's stack pointer), who is entered, and the argument.
struct transfer_record {
  context* from;
  context* to;
  void* arg;
};

// Per-thread state of the switch layer.
struct thread_state {
  context* running = nullptr;  // the context running on this thread
  eh_state* eh = nullptr;      // this thread's __cxa_eh_globals
};
thread_local thread_state tls_state;

// this_thread returns the calling thread's state. The thread_local trap: a
// goroutine can leave a switch on another thread than it entered it, and a
// compiler that computed a thread_local's address before the switch may
// reuse it after (clang does, for code it sees whole). Here every read
// happens before the jump, in leave(); nothing after the jump touches a
// thread_local, so the compiler has nothing stale to reuse. The runtime's
// own thread_local (the current M) is read through a non-inlined function
// instead, because it is read after switches (see getm in proc.cpp).
inline thread_state& this_thread() { return tls_state; }

eh_state* thread_eh(thread_state& ts) {
  if (ts.eh == nullptr) {
    // libstdc++ (and libc++abi) lay __cxa_eh_globals out as
    // { caughtExceptions; uncaughtExceptions; }: our eh_state mirrors it.
    ts.eh = reinterpret_cast<eh_state*>(abi::__cxa_get_globals());
  }
  return ts.eh;
}

// arrive finishes a switch on the arriving side: ASan first, then the left
// context's stack pointer is stored, which makes it resumable.
void* arrive(bc::transfer_t t, context* self) {
  san::finish_switch(self ? self->asan_fake_stack : nullptr, nullptr, nullptr);
  auto* rec = static_cast<transfer_record*>(t.data);
  void* arg = rec->arg;
  if (rec->from != nullptr) rec->from->sp = t.fctx;
  return arg;
}

// leave does the departing half shared by switch_context and exit_context.
bc::transfer_t leave(context* from, context& to, void* arg, bool save_eh) {
  thread_state& ts = this_thread();
  eh_state* eh = thread_eh(ts);
  if (save_eh) from->eh = *eh;
  *eh = to.eh;
  ts.running = &to;
  transfer_record rec{save_eh ? from : nullptr, &to, arg};
  san::start_switch(save_eh ? &from->asan_fake_stack : nullptr, to.stack_lo,
                    to.stack_size);
  san::tsan_switch(to.tsan_fiber);
  bc::fcontext_t target = to.sp;
  to.sp = nullptr;
  return bc::jump_fcontext(target, &rec);
}

// trampoline is where every goroutine context begins.
void trampoline(bc::transfer_t t) {
  auto* rec = static_cast<transfer_record*>(t.data);
  context* self = rec->to;
  void* arg = arrive(t, nullptr);
  self->entry(arg);
  __builtin_trap();  // entry functions leave with exit_context
}

}  // namespace

void init_thread_context(context& c) {
  c = context{};
  pthread_attr_t attr;
  if (pthread_getattr_np(pthread_self(), &attr) == 0) {
    pthread_attr_getstack(&attr, &c.stack_lo, &c.stack_size);
    pthread_attr_destroy(&attr);
  }
  c.tsan_fiber = san::tsan_current();
  this_thread().running = &c;
}

void make_context(context& c, void* lo, std::size_t size, void* top,
                  entry_fn entry) {
  c.stack_lo = lo;
  c.stack_size = size;
  c.entry = entry;
  c.eh = eh_state{};
  c.asan_fake_stack = nullptr;
  // A goroutine never returns through its first frames (it leaves with
  // exit_context), so ThreadSanitizer's shadow call stack of a reused fiber
  // keeps a few entries of every goroutine it ran: after some 20,000 it
  // overflows into TSan's own state and the process crashes. A fresh fiber
  // every 1,000 goroutines keeps it short.
  if (san::tsan && c.tsan_fiber != nullptr && ++c.tsan_runs >= 1000) {
    san::tsan_destroy(c.tsan_fiber);
    c.tsan_fiber = nullptr;
    c.tsan_runs = 0;
  }
  if (san::tsan && c.tsan_fiber == nullptr) c.tsan_fiber = san::tsan_create();
  auto* hi = static_cast<char*>(top);
  c.sp = bc::make_fcontext(hi, hi - static_cast<char*>(lo), trampoline);
}

void release_context(context& c) {
  if (san::tsan && c.tsan_fiber != nullptr) san::tsan_destroy(c.tsan_fiber);
  c.tsan_fiber = nullptr;
  c.sp = nullptr;
}

void* switch_context(context& from, context& to, void* arg) {
  bc::transfer_t t = leave(&from, to, arg, true);
  return arrive(t, &from);
}

void exit_context(context& from, context& to, void* arg) {
  leave(&from, to, arg, false);
  __builtin_trap();  // nothing switches back to a context that exited
}

// running_context is read by the fault handler, never across a switch.
context* running_context() noexcept { return this_thread().running; }

}  // namespace goro::common
