// proc.cpp: goroutines as coroutines, and threads that run them. Chapter 01;
// the first sketch of what Go keeps in runtime/proc.go.
//
// The problem. A thread is an expensive unit of concurrency: creating one
// costs tens of microseconds and a switch between two goes through the
// kernel. A coroutine is a function with its own stack and a saved context
// (registers and stack pointer); switching between two is a user-space jump
// of a few nanoseconds. Go's goroutines are coroutines, run by a few threads.
//
// This chapter's runtime is the smallest one that shows both concurrency
// and parallelism:
//   * concurrency: one thread (procs = 1) runs many goroutines, switching
//     between them only where they call gosched();
//   * parallelism: procs threads each run their own loop over a fixed share
//     of the goroutines (goroutine k belongs to thread (k-1) % procs,
//     decided when it is created), so goroutines of different threads run at
//     the same time on different CPUs.
// The fixed share is also this chapter's flaw: when one thread's share is
// done it sits idle while another's queue is still long. Go's answer, a
// queue per P and stealing between them, takes chapters 02 to 05.
#include <cstdio>
#include <stdexcept>

#include "goro/goro.hpp"
#include "goro/common/env.hpp"
#include "goro/common/sanitizer.hpp"
#include "runtime.hpp"

namespace goro::runtime {

schedt* sched = nullptr;

namespace {

// Why a goroutine switched back to its thread's g0.
enum class reason : std::uintptr_t { yield = 1, exit = 2, abandon = 3 };

thread_local m* tls_m = nullptr;

void setm(m* mp) {
  asm volatile("" ::: "memory");
  tls_m = mp;
}

std::atomic<bool> running{false};

// A goroutine's closure sits at the top of its stack, with its g just below.
struct alignas(16) closure_header {
  g* gp;
};

g* g_of_closure(void* mem) {
  return (static_cast<closure_header*>(mem) - 1)->gp;
}

// wakem_locked gives work to an m: it is woken if it sleeps. mp->lock held.
void wakem_locked(m* mp) GORO_REQUIRES(mp->lock) {
  if (mp->sleeping) {
    mp->sleeping = false;
    mp->park.wakeup();
  }
}

// goentry is where every goroutine starts and ends: it runs the closure,
// then leaves the goroutine's stack for good.
void goentry(void*) {
  g* gp = getm()->curg;
  try {
    gp->ops->run(gp->closure);
  } catch (...) {
    common::panic_exit(gp->goid, std::current_exception());
  }
  gp->ops->destroy(gp->closure);
  gp->dead = true;
  sched->ngoroutines.fetch_sub(1, std::memory_order_relaxed);
  if (gp->goid == 1) {
    // Main returned: the program is over. Wake every thread so it notices.
    sched->main_done.store(true, std::memory_order_release);
    for (auto& mp : sched->ms) {
      common::lock_guard l(mp->lock);
      wakem_locked(mp.get());
    }
  }
  m* mp = getm();  // fetched again after user code: see getm()
  common::exit_context(gp->sched, mp->g0,
                       reinterpret_cast<void*>(reason::exit));
}

// gfput keeps a dead goroutine, with its stack, for reuse. One list for
// all threads: a goroutine is made by one thread and may die on another.
void gfput(g* gp) {
  common::lock_guard l(sched->allglock);
  sched->gfree.push_back(gp);
}

// newg returns a dead g with a stack, reused from the free list if it can.
g* newg() {
  common::lock_guard l(sched->allglock);
  if (!sched->gfree.empty()) {
    g* gp = sched->gfree.back();
    sched->gfree.pop_back();
    return gp;
  }
  auto owned = std::make_unique<g>();
  g* gp = owned.get();
  gp->stack = sched->stacks->get();
  sched->allgs.push_back(std::move(owned));
  return gp;
}

// newproc_on prepares a new goroutine and returns room for its closure at
// the top of its stack.
void* newproc_on(std::size_t size, std::size_t align,
                 const common::closure_ops* ops) {
  g* gp = newg();
  // A reused stack may hold ASan's marks from the frames its last goroutine
  // left on it when it exited (goentry and the switch, at the very top:
  // every other frame had returned): clear the top of the stack.
  common::san::unpoison_top(gp->stack.lo, gp->stack.size);
  void* mem = common::place_closure(gp->stack, size, align);
  auto* hdr = static_cast<closure_header*>(mem) - 1;
  hdr->gp = gp;
  gp->closure = mem;
  gp->ops = ops;
  gp->goid = sched->goidgen.fetch_add(1, std::memory_order_relaxed) + 1;
  common::make_context(gp->sched, gp->stack.lo, gp->stack.size, hdr, goentry);
  gp->sched.id = gp->goid;
  return gp->closure;
}

//! [newproc_start]
// newproc_start makes gp runnable on the thread whose share it is.
void newproc_start(g* gp) {
  m* owner = sched->ms[static_cast<std::size_t>(gp->goid - 1) % sched->ms.size()].get();
  gp->owner = owner;
  gp->dead = false;
  sched->ngoroutines.fetch_add(1, std::memory_order_relaxed);
  common::lock_guard l(owner->lock);
  owner->runq.push_back(gp);
  wakem_locked(owner);
}
//! [newproc_start]

// execute runs gp on mp until it yields or exits, then files it away.
void execute(m* mp, g* gp) {
  mp->curg = gp;
  auto why = static_cast<reason>(reinterpret_cast<std::uintptr_t>(
      common::switch_context(mp->g0, gp->sched, nullptr)));
  mp->curg = nullptr;
  if (why == reason::exit) {
    gfput(gp);
    return;
  }
  common::check_stack(gp->stack, gp->sched.sp, gp->goid);
  if (why == reason::abandon) return;  // left behind: on no queue, ever
  gosched_m(gp);
}

// abandon stops the calling goroutine for good, once main has returned: a
// goroutine left behind must not keep its thread from returning, since
// run() joins every thread. It switches to its thread's loop, which sees
// main_done and returns, and is never resumed; run() destroys its closure
// like every other goroutine's left behind.
void abandon() {
  m* mp = getm();
  common::switch_context(mp->curg->sched, mp->g0, reinterpret_cast<void*>(reason::abandon));
}

m* current_g_m(const char* what) {
  m* mp = getm();
  if (mp == nullptr || mp->curg == nullptr) {
    throw std::logic_error(std::string("goro::") + what +
                           ": called outside a goroutine (use goro::run)");
  }
  return mp;
}

// mstart is the body of every thread but m0.
void mstart(m* mp) {
  setm(mp);
  common::init_thread_context(mp->g0);
  common::signal_stack altstack;
  schedule(mp);
  setm(nullptr);
}

}  // namespace

// getm returns the calling thread's m. Not inlined, with a compiler
// barrier: in later chapters a goroutine can leave a switch on another
// thread, and a thread_local address computed before the switch would then
// be the old thread's. Every read of tls_m goes through here.
[[gnu::noinline]] m* getm() {
  asm volatile("" ::: "memory");
  return tls_m;
}

//! [schedule]
// schedule is an m's loop: take the next goroutine of its own queue and run
// it; sleep on the m's note when the queue is empty. Returns once main has
// returned.
void schedule(m* mp) {
  for (;;) {
    g* gp;
    mp->lock.lock();
    for (;;) {
      if (sched->main_done.load(std::memory_order_acquire)) {
        mp->lock.unlock();
        return;
      }
      gp = mp->runq.pop();
      if (gp != nullptr) break;
      mp->sleeping = true;
      mp->park.clear();  // safe: nobody wakes us until sleeping is set
      mp->lock.unlock();
      mp->park.sleep();
      mp->lock.lock();
    }
    mp->lock.unlock();
    execute(mp, gp);
  }
}
//! [schedule]

// gosched_m puts a goroutine that yielded at the back of its own thread's
// queue. Runs on g0 (Go's gosched_m puts it on the global queue instead:
// chapter 02).
void gosched_m(g* gp) {
  common::lock_guard l(gp->owner->lock);
  gp->owner->runq.push_back(gp);
}

}  // namespace goro::runtime

namespace goro {
using namespace runtime;

namespace detail {

void* newproc_alloc(std::size_t size, std::size_t align,
                    const common::closure_ops* ops) {
  current_g_m("go");
  return newproc_on(size, align, ops);
}

void newproc_commit(void* mem) {
  newproc_start(g_of_closure(mem));
  // Main has returned: the program is over, and this goroutine is one of
  // those left behind. Stop it here, at a call into the runtime, so that
  // its thread can return (see abandon).
  if (sched->main_done.load(std::memory_order_acquire)) abandon();
}

void newproc_abort(void* mem) noexcept { gfput(g_of_closure(mem)); }

}  // namespace detail

int run(std::function<void()> main_fn, Config config) {
  if (running.exchange(true)) {
    throw std::logic_error("goro::run: the runtime is already running");
  }
  struct release {
    ~release() { running.store(false); }
  } release_running;
  if (!main_fn) throw std::invalid_argument("goro::run: main function is empty");
  const int procs = common::resolve_procs(config.procs);

  schedt s;
  s.stacks = std::make_unique<common::stack_pool>(
      common::resolve_stack_size(config.stack_size));
  for (int i = 0; i < procs; i++) {
    s.ms.push_back(std::make_unique<m>());
    s.ms.back()->id = i;
  }
  sched = &s;
  m* m0 = s.ms[0].get();
  setm(m0);
  common::init_thread_context(m0->g0);
  common::overflow_handler segv_handler;
  {
    common::signal_stack altstack;
    // Goroutine 1 runs main_fn; then the other threads start their loops.
    using C = common::closure<std::function<void()>>;
    void* mem = newproc_on(sizeof(C), alignof(C), &C::ops);
    ::new (mem) C(std::move(main_fn));
    newproc_start(g_of_closure(mem));
    for (int i = 1; i < procs; i++) {
      m* mp = s.ms[static_cast<std::size_t>(i)].get();
      mp->thread = std::thread(mstart, mp);
    }
    schedule(m0);
    for (int i = 1; i < procs; i++) s.ms[static_cast<std::size_t>(i)]->thread.join();
  }

  // Abandon the goroutines still alive, as Go does when main returns: they
  // never run again. Their closures are destroyed and every stack unmapped.
  std::vector<std::unique_ptr<g>> gs;
  {
    common::lock_guard l(s.allglock);
    gs.swap(s.allgs);  // not held while closures' destructors (user code) run
  }
  for (auto& gp : gs) {
    if (!gp->dead) gp->ops->destroy(gp->closure);
    common::release_context(gp->sched);
  }
  setm(nullptr);
  sched = nullptr;
  return 0;
}

void gosched() {
  m* mp = current_g_m("gosched");
  common::switch_context(mp->curg->sched, mp->g0,
                         reinterpret_cast<void*>(reason::yield));
}

int gomaxprocs() {
  current_g_m("gomaxprocs");
  return static_cast<int>(sched->ms.size());
}

int num_goroutine() {
  current_g_m("num_goroutine");
  return sched->ngoroutines.load(std::memory_order_relaxed);
}

}  // namespace goro
