// proc.cpp: the goroutine scheduler, after Go's runtime/proc.go. Chapter 03:
// several Ps and Ms (the Ms and Ps themselves are managed in mp.cpp);
// chapter 04: syscalls (syscall.cpp) and sysmon (sysmon.cpp); chapter 05:
// the lock-free local queue (runq.cpp) and stealing (steal.cpp).
//
// Go's scheduler has three kinds of object (see the glossary at the top of
// proc.go):
//   G - a goroutine: a stack, a saved context, a state;
//   M - an OS thread ("machine"), which runs Gs;
//   P - a processor, the right to run Gs: an M must hold a P to run one.
//       Each P has its own run queue, so most scheduling touches no shared
//       state; GOMAXPROCS is the number of Ps.
// and the global scheduler state, sched, with a global run queue and free
// lists under one lock.
//
// Every M has a g0: its own context, on the thread's stack, where the
// scheduler runs. A goroutine never picks its successor itself: it switches
// to g0 (mcall) and g0 runs the step it asked for (park_m, gosched_m,
// goexit0), then schedule() picks the next G and switches to it (gogo).
// Two switches per hand-over is the price of keeping all scheduling on one
// stack that no goroutine can overflow.
//
// Where goro differs: Go's schedule() never returns (gogo jumps away), so an
// mcall function ends by calling schedule() again. In goro the switch to a
// goroutine returns when the goroutine switches back, so schedule() is a
// loop and an mcall function returns the G to run next, if it has one. And
// schedule() does return, once main has returned, so that run() can free
// everything and return to its caller.
//
// This chapter has GOMAXPROCS Ps and as many Ms as it needs to run them.
// An M with nothing to do gives its P back to the idle list and parks on its
// note (findRunnable, stopm); new work anywhere wakes one (wakep), which
// steals from the P that has it, so no P idles while another has a queue.
#include <stdexcept>
#include <string>
#include <tuple>

#include "goro/common/clock.hpp"
#include "goro/common/env.hpp"
#include "goro/common/fatal.hpp"
#include "goro/common/sanitizer.hpp"
#include "goro/common/trace.hpp"
#include "goro/goro.hpp"
#include "runtime.hpp"

namespace goro::runtime {

schedt* sched = nullptr;

namespace {

thread_local m* tls_m = nullptr;

// run() is not reentrant: one runtime at a time.
std::atomic<bool> running{false};

// A new goroutine's closure sits at the top of its stack, its g just below.
struct alignas(16) closure_header {
  g* gp;
};

g* g_of_closure(void* mem) { return (static_cast<closure_header*>(mem) - 1)->gp; }

// ---- G allocation and free lists (Go's malg, gfget, gfput) ----

// malg allocates a new G with a stack, published in allgs as _Gdead.
g* malg() {
  auto owned = std::make_unique<g>();
  g* gp = owned.get();
  gp->stack = sched->stacks->get();
  {
    std::lock_guard<common::mutex> l(sched->allglock);
    sched->allgs.push_back(std::move(owned));
  }
  casgstatus(gp, gstatus::_Gidle, gstatus::_Gdead);
  return gp;
}

// gfput puts a dead G on pp's free list; past 64 it moves Gs to the global
// list until fewer than 32 remain, so one P cannot hoard them.
void gfput(p* pp, g* gp) {
  pp->gFree.push(gp);
  add_counter(pp->gFreeCount, 1);
  if (pp->gFreeCount.load(std::memory_order_relaxed) < 64) return;
  std::lock_guard<common::mutex> l(sched->lock);
  while (pp->gFreeCount.load(std::memory_order_relaxed) >= 32) {
    sched->gFree.list.push(pp->gFree.pop());
    add_counter(pp->gFreeCount, -1);
    add_counter(sched->gFree.n, 1);
  }
}

// gfget takes a dead G from pp's free list, refilling it from the global
// one (up to 32) when it is empty. Returns nullptr if there is none.
g* gfget(p* pp) {
  if (pp->gFree.empty() && sched->gFree.n.load(std::memory_order_relaxed) > 0) {
    std::lock_guard<common::mutex> l(sched->lock);
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
  if (align < alignof(closure_header)) align = alignof(closure_header);
  auto top = reinterpret_cast<std::uintptr_t>(gp->stack.hi());
  auto mem = (top - size) & ~(static_cast<std::uintptr_t>(align) - 1);
  auto* hdr = reinterpret_cast<closure_header*>(mem) - 1;
  hdr->gp = gp;
  gp->closure = reinterpret_cast<void*>(mem);
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

}  // namespace

// dropg disassociates the M from its current G (Go's dropg).
void dropg(m* mp) {
  mp->curg->m = nullptr;
  mp->curg = nullptr;
}

namespace {


// ---- mcall functions: run on g0 after a goroutine switched away ----

// goexit0 finishes a goroutine that returned: it goes on the free list with
// its stack, ready for the next go(). Main's return ends the program.
g* goexit0(g* gp) {
  m* mp = getm();
  const bool is_main = gp->goid == 1;
  casgstatus(gp, gstatus::_Grunning, gstatus::_Gdead);
  dropg(mp);
  gp->waitreason = wait_reason::none;
  gfput(mp->p, gp);
  if (is_main) wake_all_for_exit();
  return nullptr;
}

// gosched_m puts a G that yielded on the global run queue, as Go does, so
// that a goroutine that keeps yielding cannot starve others of the P; any
// idle P may take it from there, so wake one.
g* gosched_m(g* gp) {
  casgstatus(gp, gstatus::_Grunning, gstatus::_Grunnable);
  dropg(getm());
  {
    std::lock_guard<common::mutex> l(sched->lock);
    globrunqput(gp);
  }
  wakep();
  return nullptr;
}

//! [park_m]
// park_m finishes gopark on g0: the G is _Gwaiting before the unlock
// function runs, so whoever takes the lock next and wakes it finds it
// parked (the lost wake-up rule). If unlockf says no, the G runs again.
g* park_m(g* gp) {
  m* mp = getm();
  casgstatus(gp, gstatus::_Grunning, gstatus::_Gwaiting);
  dropg(mp);
  if (auto fn = mp->waitunlockf) {
    bool ok = fn(gp, mp->waitlock);
    mp->waitunlockf = nullptr;
    mp->waitlock = nullptr;
    if (!ok) {
      casgstatus(gp, gstatus::_Gwaiting, gstatus::_Grunnable);
      return gp;  // Go: execute(gp, true)
    }
  }
  return nullptr;
}
//! [park_m]

// goentry is where every goroutine starts: it runs the closure, destroys it
// on the goroutine's own stack (its destructors are user code), and leaves
// for good (Go: the closure returns into goexit, which calls goexit1).
void goentry(void*) {
  g* gp = getg();
  try {
    gp->ops->run(gp->closure);
  } catch (...) {
    common::panic_exit(gp->goid, std::current_exception());
  }
  gp->ops->destroy(gp->closure);
  m* mp = getm();  // read again: user code ran since (see getm)
  common::exit_context(gp->sched, mp->g0, reinterpret_cast<void*>(&goexit0));
}

//! [findRunnable]
// exiting says whether main has returned: every M then returns from
// schedule, and run() joins their threads.
bool exiting() { return sched->main_done.load(std::memory_order_acquire); }

// findRunnable finds a goroutine to run, in Go's order: due timers, the
// global queue every 61st tick, the local queue, the global queue, other
// Ps' due timers, then stealing from the other Ps (as a spinning M). With
// nothing to run, it gives its P back and stops the M (stopm), or, if some
// P has timers and no other M is waiting for them, sleeps until the
// earliest one. Returns nullptr once main has returned.
std::pair<g*, bool> findRunnable(m* mp) {
top:
  p* pp = mp->p;
  if (exiting()) return {nullptr, false};
  std::int64_t now = 0;
  if (pp->timer0When.load(std::memory_order_relaxed) != 0) {
    now = common::nanotime();
    checkTimers(pp, now);
  }

  // Check the global queue once in a while, or two goroutines that keep
  // respawning each other would hold the local queue forever.
  if (pp->schedtick % 61 == 0 && sched->runqsize.load(std::memory_order_relaxed) > 0) {
    std::lock_guard<common::mutex> l(sched->lock);
    if (g* gp = globrunqget(pp, 1)) return {gp, false};
  }
  if (auto [gp, inheritTime] = runqget(pp); gp != nullptr) return {gp, inheritTime};
  if (sched->runqsize.load(std::memory_order_relaxed) != 0) {
    std::lock_guard<common::mutex> l(sched->lock);
    if (g* gp = globrunqget(pp, 0)) return {gp, false};
  }
  // Idle Ps cannot run their own timers: run them here (Go does this in
  // stealWork). Woken Gs land on our queue.
  if (now == 0) now = common::nanotime();
  checkTimersAllP(pp, now);
  if (auto [gp, inheritTime] = runqget(pp); gp != nullptr) return {gp, inheritTime};

  // Steal, as a spinning M. Limit the spinning Ms to half the busy Ps, or
  // with GOMAXPROCS >> the program's parallelism they would burn CPUs.
  const auto procs = static_cast<std::int32_t>(sched->allp.size());
  if (mp->spinning || 2 * sched->nmspinning.load() < procs - sched->npidle.load()) {
    if (!mp->spinning) {
      mp->spinning = true;
      sched->nmspinning.fetch_add(1);
    }
    if (g* gp = stealWork(mp, now)) return {gp, false};
  }

  // Nothing to do: give the P back, unless the global queue got work.
  {
    std::lock_guard<common::mutex> l(sched->lock);
    if (exiting()) return {nullptr, false};
    if (g* gp = globrunqget(pp, 0)) return {gp, false};
    releasep(mp);
    pidleput(pp);
  }

  // The delicate dance: a spinning M must stop spinning before it parks,
  // then look again everywhere work may have appeared (every P's queue, the
  // global queue): work submitted after our last look but before the
  // decrement saw nmspinning > 0 and woke nobody (see wakep).
  if (mp->spinning) {
    mp->spinning = false;
    if (sched->nmspinning.fetch_sub(1, std::memory_order_seq_cst) - 1 < 0) {
      common::throw_("findrunnable: negative nmspinning");
    }
    p* p2 = checkRunqsNoP();
    if (p2 == nullptr && sched->runqsize.load(std::memory_order_seq_cst) != 0) {
      std::lock_guard<common::mutex> l(sched->lock);
      p2 = pidleget();
    }
    if (p2 != nullptr) {
      acquirep(mp, p2);
      mp->spinning = true;
      sched->nmspinning.fetch_add(1);
      goto top;
    }
  }

  // Sleep until the earliest timer if nobody else does; otherwise park.
  if (std::int64_t when = earliestTimer(); when != 0) {
    bool sleeper = false;
    {
      std::lock_guard<common::mutex> l(sched->lock);
      if (!exiting() && (sched->timerm == nullptr ||
                         when < sched->timerwhen.load(std::memory_order_relaxed))) {
        if (sched->timerm != nullptr) sched->timerm->park.wakeup();  // we take over
        sched->timerm = mp;
        sched->timerwhen.store(when, std::memory_order_relaxed);
        sleeper = true;
      }
    }
    if (sleeper) {
      // (If the deadline has passed already, do not sleep at all: a
      // negative timeout would mean "no limit".)
      const std::int64_t wait = when - common::nanotime();
      if (wait > 0) mp->park.tsleep(wait);
      p* p2 = nullptr;
      {
        std::lock_guard<common::mutex> l(sched->lock);
        if (sched->timerm == mp) {
          sched->timerm = nullptr;
          sched->timerwhen.store(0, std::memory_order_relaxed);
        }
        if (!exiting()) p2 = pidleget();
      }
      mp->park.clear();  // nobody can wake us now: we are on no list
      if (p2 != nullptr) {
        acquirep(mp, p2);
        goto top;
      }
    }
  }
  stopm(mp);
  if (mp->p == nullptr) return {nullptr, false};  // woken to exit
  goto top;
}
//! [findRunnable]

}  // namespace

// getm returns the calling thread's M. Deliberately not inlined, with a
// compiler barrier: once goroutines move between threads (chapter 03) a
// goroutine can leave a switch on another thread, and a thread_local's
// address computed before the switch would then be the old thread's. Every
// read of tls_m goes through here, and runtime code reads it again after
// anything that may switch.
[[gnu::noinline]] m* getm() {
  asm volatile("" ::: "memory");
  return tls_m;
}

void setm(m* mp) {
  asm volatile("" ::: "memory");
  tls_m = mp;
}

g* getg() {
  m* mp = getm();
  return mp != nullptr ? mp->curg : nullptr;
}

// casgstatus changes a G's state; any transition from a state the G is not
// in is a runtime bug. Go needs a compare-and-swap here because the garbage
// collector sets a scan bit in the status concurrently; goro has no GC and
// only the G's owner changes its state, so a checked load and a store do
// (a locked instruction is the dearest thing on the scheduler's path).
void casgstatus(g* gp, gstatus oldval, gstatus newval) {
  gstatus cur = gp->atomicstatus.load(std::memory_order_relaxed);
  if (cur == oldval) {
    gp->atomicstatus.store(newval, std::memory_order_release);
  } else {
    char a[24], b[24], c[24];
    std::string msg = std::string("casgstatus: bad incoming values: goroutine ") +
                      common::format_long(gp->goid, a) + " is in state " +
                      common::format_long(static_cast<long>(cur), b) + ", expected " +
                      common::format_long(static_cast<long>(oldval), c);
    common::throw_(msg.c_str());
  }
}

// mcall switches from the running goroutine to its M's g0, which then runs
// fn(gp). It returns when the goroutine is next scheduled, maybe on
// another M.
void mcall(mcall_fn fn) {
  m* mp = getm();
  common::switch_context(mp->curg->sched, mp->g0, reinterpret_cast<void*>(fn));
}

//! [execute]
// execute runs gp on the current M until it switches back, then runs the
// mcall function it asked for and returns that function's result (a G to
// run at once, or nullptr). inheritTime: gp continues the current time
// slice instead of starting a new one (schedtick is not incremented).
g* execute(g* gp, bool inheritTime) {
  m* mp = getm();
  mp->curg = gp;
  gp->m = mp;
  casgstatus(gp, gstatus::_Grunnable, gstatus::_Grunning);
  if (!inheritTime) {
    add_counter(mp->p->schedtick, 1u);
    mp->p->preempt.store(false, std::memory_order_relaxed);  // a new time slice
  }
  const int pid = mp->p->id;
  if (common::trace::on.load(std::memory_order_relaxed)) {
    common::trace::record(static_cast<int>(mp->id), pid, gp->goid, common::trace::ev::run);
  }
  // gogo: run gp until it mcalls back to this g0.
  auto fn = reinterpret_cast<mcall_fn>(common::switch_context(mp->g0, gp->sched, nullptr));
  if (common::trace::on.load(std::memory_order_relaxed)) {
    common::trace::record(static_cast<int>(mp->id), pid, gp->goid, common::trace::ev::stop);
  }
  if (fn != &goexit0) common::check_stack(gp->stack, gp->sched.sp, gp->goid);
  return fn(gp);
}
//! [execute]

//! [schedule]
// schedule is the M's scheduler loop, on g0: find a runnable G, run it,
// repeat. Returns when main has returned.
void schedule() {
  m* mp = getm();
  g* gp = nullptr;
  bool inheritTime = false;
  for (;;) {
    if (gp == nullptr) {
      std::tie(gp, inheritTime) = findRunnable(mp);
      if (gp == nullptr) return;
      // A spinning M that found work stops spinning, and wakes another to
      // look for more (Go's resetspinning).
      if (mp->spinning) resetspinning(mp);
    }
    gp = execute(gp, inheritTime);
    inheritTime = true;
  }
}
//! [schedule]

// gopark puts the running goroutine to sleep until goready(gp). On g0,
// after the G is _Gwaiting, unlockf(gp, lock) runs: it can release the lock
// that guards whatever list gp was put on, and return false to cancel the
// park. Wait reason: what gp is waiting for, as Go prints it.
void gopark(bool (*unlockf)(g*, void*), void* lock, wait_reason reason) {
  m* mp = getm();
  g* gp = mp->curg;
  if (gp->atomicstatus.load(std::memory_order_relaxed) != gstatus::_Grunning) {
    common::throw_("gopark: bad g status");
  }
  mp->waitlock = lock;
  mp->waitunlockf = unlockf;
  gp->waitreason = reason;
  mcall(park_m);
}

// gopreempt yields because sysmon asked (Go's gopreempt_m, which does what
// gosched does: the G goes to the global queue).
void gopreempt() {
  getm()->p->preempt.store(false, std::memory_order_relaxed);
  mcall(gosched_m);
}

// goready makes a parked G runnable on the current P, in runnext, and wakes
// an idle P to steal if there is one (Go's ready).
void goready(g* gp) {
  casgstatus(gp, gstatus::_Gwaiting, gstatus::_Grunnable);
  gp->waitreason = wait_reason::none;
  runqput(getm()->p, gp, true);
  wakep();
}

// globrunqput puts gp at the tail of the global run queue. sched.lock held.
void globrunqput(g* gp) {
  sched->runq.push_back(gp);
  add_counter(sched->runqsize, 1);
}

// globrunqget takes a batch from the global queue for pp: its fair share
// (size/gomaxprocs + 1), at most `max` if max > 0, at most 128. Returns
// the first and puts the rest on pp's local queue. sched.lock held.
g* globrunqget(p* pp, int max) {
  int size = sched->runqsize.load(std::memory_order_relaxed);
  if (size == 0) return nullptr;
  int n = size / static_cast<int>(sched->allp.size()) + 1;
  if (n > size) n = size;
  if (max > 0 && n > max) n = max;
  if (n > static_cast<int>(runq_capacity / 2)) n = static_cast<int>(runq_capacity / 2);
  add_counter(sched->runqsize, -n);
  g* gp = sched->runq.pop();
  while (--n > 0) runqput(pp, sched->runq.pop(), false);
  return gp;
}

// gcount is the number of live goroutines: every G ever made, less the
// dead ones on free lists (Go's gcount; approximate while Gs come and go).
int gcount() {
  int n;
  {
    std::lock_guard<common::mutex> l(sched->allglock);
    n = static_cast<int>(sched->allgs.size());
  }
  n -= sched->gFree.n.load(std::memory_order_relaxed);
  for (auto& pp : sched->allp) n -= pp->gFreeCount.load(std::memory_order_relaxed);
  return n < 1 ? 1 : n;
}

const char* to_string(wait_reason r) {
  switch (r) {
    case wait_reason::none: return "";
    case wait_reason::sleep: return "sleep";
  }
  return "?";
}

}  // namespace goro::runtime

namespace goro {
using namespace runtime;

namespace detail {

void check_goroutine(const char* what) {
  if (getg() == nullptr) {
    throw std::logic_error(std::string("goro::") + what +
                           ": called outside a goroutine (use goro::run)");
  }
}

void* newproc_alloc(std::size_t size, std::size_t align,
                    const common::closure_ops* ops) {
  check_goroutine("go");
  return newproc1(getm()->p, size, align, ops)->closure;
}

void newproc_commit(void* mem) {
  newproc_start(g_of_closure(mem));
  wakep();  // an idle P may steal it
  // A goroutine spawning in a loop would never yield: honour sysmon's
  // request here (Go would preempt it at any function call).
  if (getm()->p->preempt.load(std::memory_order_relaxed)) gopreempt();
}

void newproc_abort(void* mem) noexcept { gfput(getm()->p, g_of_closure(mem)); }

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

  // schedinit and procresize: GOMAXPROCS Ps; this thread is m0 and holds
  // P0, the other Ps start idle. Other Ms are made when needed (startm).
  schedt s;
  s.start = common::nanotime();
  s.stacks = std::make_unique<common::stack_pool>(
      common::resolve_stack_size(config.stack_size));
  for (int i = 0; i < procs; i++) {
    s.allp.push_back(std::make_unique<p>());
    s.allp.back()->id = i;
  }
  s.allm.push_back(std::make_unique<m>());
  s.mcount.store(1);
  sched = &s;
  steal_order_init();
  m* m0 = s.allm[0].get();
  m0->fastrand = 0x9e3779b9u;
  acquirep(m0, s.allp[0].get());
  for (int i = procs - 1; i > 0; i--) pidleput(s.allp[static_cast<std::size_t>(i)].get());
  setm(m0);
  common::init_thread_context(m0->g0);
  common::overflow_handler segv_handler;
  sysmon_start();
  {
    common::signal_stack altstack;
    using C = common::closure<std::function<void()>>;
    g* main_g = newproc1(m0->p, sizeof(C), alignof(C), &C::ops);
    ::new (main_g->closure) C(std::move(main_fn));
    newproc_start(main_g);
    schedule();
  }

  // Main returned. Every M returns from schedule once it notices (a
  // goroutine that never yields delays that: goro cannot preempt it; so
  // does an M blocked in a syscall, until the call returns).
  wake_all_for_exit();
  std::vector<std::thread*> threads;
  {
    std::lock_guard<common::mutex> l(s.lock);
    for (auto& mp : s.allm) {
      if (mp->thread.joinable()) threads.push_back(&mp->thread);
    }
  }
  for (std::thread* t : threads) t->join();
  sysmon_stop();

  // Goroutines still alive are abandoned, as in Go; their closures are
  // destroyed, and every stack goes with the pool.
  for (auto& gp : s.allgs) {
    if (gp->atomicstatus.load() != gstatus::_Gdead) gp->ops->destroy(gp->closure);
    common::release_context(gp->sched);
  }
  setm(nullptr);
  sched = nullptr;
  return 0;
}

void gosched() {
  detail::check_goroutine("gosched");
  mcall(gosched_m);
}

int gomaxprocs() {
  detail::check_goroutine("gomaxprocs");
  return static_cast<int>(sched->allp.size());
}

int num_goroutine() {
  detail::check_goroutine("num_goroutine");
  return gcount();
}

}  // namespace goro
