// run.cpp: booting the runtime and tearing it down (Go's schedinit and
// runtime.main), and the public calls that wrap the scheduler. Chapter 02;
// chapter 03 boots GOMAXPROCS Ps and joins every M's thread at the end;
// chapter 04 starts and stops sysmon; chapter 05 sets up the steal order;
// chapter 06 takes abandoned goroutines off their channels; chapter 07 off
// the semaphores.
#include <cstdlib>
#include <stdexcept>
#include <string>

#include "goro/common/clock.hpp"
#include "goro/common/env.hpp"
#include "goro/goro.hpp"
#include "runtime.hpp"

namespace goro {
using namespace runtime;

namespace {
// run() is not reentrant: one runtime at a time.
std::atomic<bool> running{false};
}  // namespace

namespace detail {

void check_goroutine(const char* what) {
  g* gp = getg();
  if (gp == nullptr) {
    throw std::logic_error(std::string("goro::") + what +
                           ": called outside a goroutine (use goro::run)");
  }
  // The function given to syscall runs with the goroutine's P given up: it
  // is outside the scheduler, like a Go syscall, and must not use it.
  if (gp->atomicstatus.load(std::memory_order_relaxed) == gstatus::_Gsyscall) {
    throw std::logic_error(std::string("goro::") + what +
                           ": called inside goro::syscall (its function must not call goro)");
  }
}

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
  s.ncpu = common::ncpu();
  if (const char* env = std::getenv("GORO_MUTEXSTARVATION")) {
    s.mutexstarvation = std::string(env) != "0";
  }
  sched = &s;
  s.stealOrder.reset(static_cast<std::uint32_t>(procs));  // Go: in procresize
  m* m0 = nullptr;
  {
    common::lock_guard l(sched->lock);
    sched->allm.push_back(std::make_unique<m>());
    sched->mcount.store(1);
    m0 = sched->allm[0].get();
    m0->fastrand = 0x9e3779b9u;
    acquirep(m0, s.allp[0].get());
    for (int i = procs - 1; i > 0; i--) pidleput(s.allp[static_cast<std::size_t>(i)].get());
  }
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

  // Main returned. Every M returns from schedule once it notices: an idle
  // one is woken, a busy one sees it at the end of its goroutine's turn,
  // and a goroutine left behind is stopped at its next call into goro
  // (abandon). One that never calls goro again delays this: goro cannot
  // preempt it; so does an M blocked in a syscall, until the call returns.
  wake_all_for_exit();
  std::vector<std::thread*> threads;
  {
    common::lock_guard l(s.lock);
    for (auto& mp : s.allm) {
      if (mp->thread.joinable()) threads.push_back(&mp->thread);
    }
  }
  for (std::thread* t : threads) t->join();
  sysmon_stop();

  // Goroutines still alive are abandoned, as in Go: first off the channels
  // and semaphores they wait on, then their closures are destroyed (which
  // may free channels), and every stack goes with the pool.
  std::vector<std::unique_ptr<g>> gs;
  {
    common::lock_guard l(s.allglock);
    gs.swap(s.allgs);  // not held while closures' destructors (user code) run
  }
  for (auto& gp : gs) chan_drop_waiters(gp.get());
  sema_drop_waiters();
  free_timers();
  for (auto& gp : gs) {
    if (gp->atomicstatus.load() != gstatus::_Gdead) gp->ops->destroy(gp->closure);
    common::release_context(gp->sched);
  }
  free_sudogs();
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
