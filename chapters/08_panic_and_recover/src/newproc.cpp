// newproc.cpp: making goroutines and ending them, after Go's runtime/proc.go
// (newproc, newproc1, malg, gfget, gfput, goexit0). Chapter 02.
//
// A goroutine is a G, a stack and a closure. Making one must be cheap, so a
// dead G keeps its stack and goes on a free list: first its P's, without a
// lock, and past 64 the global one, so that a P that only ever receives
// finished goroutines does not hoard them. `go f(args...)` then costs a
// free-list pop, building the closure at the top of the reused stack, and a
// push on the run queue.
#include "goro/common/sanitizer.hpp"
#include "goro/goro.hpp"
#include "runtime.hpp"

namespace goro::runtime {

namespace {

// malg allocates a new G with a stack, published in allgs as _Gdead.
g* malg() {
  auto owned = std::make_unique<g>();
  g* gp = owned.get();
  gp->stack = sched->stacks->get();
  {
    common::lock_guard l(sched->allglock);
    sched->allgs.push_back(std::move(owned));
  }
  casgstatus(gp, gstatus::_Gidle, gstatus::_Gdead);
  return gp;
}

// gfget takes a dead G from pp's free list, refilling it from the global
// one (up to 32) when it is empty. Returns nullptr if there is none.
g* gfget(p* pp) {
  if (pp->gFree.empty() && sched->gFree.n.load(std::memory_order_relaxed) > 0) {
    common::lock_guard l(sched->gFree.lock);
    while (pp->gFreeCount.load(std::memory_order_relaxed) < 32 && !sched->gFree.list.empty()) {
      pp->gFree.push(sched->gFree.list.pop());
      add_counter(sched->gFree.n, -1);
      add_counter(pp->gFreeCount, 1);
    }
  }
  g* gp = pp->gFree.pop();
  if (gp != nullptr) add_counter(pp->gFreeCount, -1);
  return gp;
}

void goentry(void*);

}  // namespace

// gfput puts a dead G on pp's free list; past 64 it moves Gs to the global
// list until fewer than 32 remain, so one P cannot hoard them.
void gfput(p* pp, g* gp) {
  pp->gFree.push(gp);
  add_counter(pp->gFreeCount, 1);
  if (pp->gFreeCount.load(std::memory_order_relaxed) < 64) return;
  common::lock_guard l(sched->gFree.lock);
  while (pp->gFreeCount.load(std::memory_order_relaxed) >= 32) {
    sched->gFree.list.push(pp->gFree.pop());
    add_counter(pp->gFreeCount, -1);
    add_counter(sched->gFree.n, 1);
  }
}

// newproc1 makes a G (reused if it can) ready to run a closure of `size`
// bytes, which the caller builds at gp->closure. The G stays _Gdead until
// newproc_start. Go's newproc1 copies the arguments to the new stack; goro
// builds the whole closure there.
g* newproc1(p* pp, std::size_t size, std::size_t align,
            const common::closure_ops* ops) {
  g* gp = gfget(pp);
  if (gp == nullptr) gp = malg();
  // A reused stack may hold ASan's marks from the frames its last goroutine
  // left on it when it exited (goentry and the switch, at the very top:
  // every other frame had returned): clear the top of the stack.
  common::san::unpoison_top(gp->stack.lo, gp->stack.size);
  void* mem = common::place_closure(gp->stack, size, align);
  auto* hdr = static_cast<closure_header*>(mem) - 1;
  hdr->gp = gp;
  gp->closure = mem;
  gp->ops = ops;
  if (pp->goidcache == pp->goidcacheend) {
    // Take ids 16 at a time, so Ps do not all fight over one counter
    // (Go's _GoidCacheBatch).
    constexpr long batch = 16;
    pp->goidcache = sched->goidgen.fetch_add(batch, std::memory_order_relaxed) + 1;
    pp->goidcacheend = pp->goidcache + batch;
  }
  gp->goid = pp->goidcache++;
  common::make_context(gp->sched, gp->stack.lo, gp->stack.size, hdr, goentry);
  gp->sched.id = gp->goid;
  return gp;
}

// newproc_start makes a new G runnable on the current P, in runnext: it runs
// next, and its spawner's other Gs wait (Go's newproc, after newproc1).
void newproc_start(g* gp) {
  casgstatus(gp, gstatus::_Gdead, gstatus::_Grunnable);
  runqput(getm()->p, gp, true);
}

//! [goexit0]
// goexit0 finishes a goroutine that returned, on g0: it goes on the free
// list with its stack, ready for the next go(). Main's return ends the
// program.
std::pair<g*, bool> goexit0(g* gp) {
  m* mp = getm();
  const bool is_main = gp->goid == 1;
  const bool by_goexit = goexit_started(gp);
  casgstatus(gp, gstatus::_Grunning, gstatus::_Gdead);
  dropg(mp);
  gp->waitreason.store(wait_reason::none, std::memory_order_relaxed);
  gfput(mp->p, gp);
  // Main ended by goexit(): the others go on, and checkdead reports it
  // when they are done (Go's "main called runtime.Goexit").
  if (is_main && !by_goexit) wake_all_for_exit();
  return {nullptr, false};
}
//! [goexit0]

namespace {

// goentry is where every goroutine starts: it runs the closure, destroys it
// on the goroutine's own stack (its destructors are user code), and leaves
// for good (Go: the closure returns into goexit, which calls goexit1).
void goentry(void*) {
  g* gp = getg();
  try {
    gp->ops->run(gp->closure);
  } catch (...) {
    gopanic_exit(gp, std::current_exception());  // returns if it was recovered
  }
  gp->ops->destroy(gp->closure);
  clear_panics(gp);  // records of panics its function caught itself
  m* mp = getm();  // read again: user code ran since (see getm)
  common::exit_context(gp->sched, mp->g0, reinterpret_cast<void*>(&goexit0));
}

}  // namespace

// gcount is the number of live goroutines: every G ever made, less the
// dead ones on free lists (Go's gcount; approximate while Gs come and go).
int gcount() {
  int n;
  {
    common::lock_guard l(sched->allglock);
    n = static_cast<int>(sched->allgs.size());
  }
  n -= sched->gFree.n.load(std::memory_order_relaxed);
  for (auto& pp : sched->allp) n -= pp->gFreeCount.load(std::memory_order_relaxed);
  return n < 1 ? 1 : n;
}

}  // namespace goro::runtime

namespace goro::detail {

using namespace runtime;

// The go statement, in three steps because C++ builds the closure in
// between (see go() in goro.hpp).

void* newproc_alloc(std::size_t size, std::size_t align,
                    const common::closure_ops* ops) {
  check_goroutine("go");
  return newproc1(getm()->p, size, align, ops)->closure;
}

void newproc_commit(void* mem) {
  newproc_start(g_of_closure(mem));
  wakep();  // an idle P may steal it
  // A goroutine left behind when main returned must not run on: its M
  // could never return from schedule, and run() joins every M.
  if (exiting()) abandon();
  // A goroutine spawning in a loop would never yield: honour sysmon's
  // request here (Go would preempt it at any function call).
  if (getm()->p->preempt.load(std::memory_order_relaxed)) gopreempt();
}

void newproc_abort(void* mem) noexcept { gfput(getm()->p, g_of_closure(mem)); }

}  // namespace goro::detail
