// run.cpp: booting the runtime and tearing it down (Go's schedinit and
// runtime.main), and the public calls that wrap the scheduler. Chapter 02.
#include <stdexcept>
#include <string>

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
  if (getg() == nullptr) {
    throw std::logic_error(std::string("goro::") + what +
                           ": called outside a goroutine (use goro::run)");
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
  (void)common::resolve_procs(config.procs);  // validated; one P regardless

  // schedinit: one M (this thread), one P, an empty scheduler.
  schedt s;
  s.stacks = std::make_unique<common::stack_pool>(
      common::resolve_stack_size(config.stack_size));
  s.allp.push_back(std::make_unique<p>());
  s.allm.push_back(std::make_unique<m>());
  sched = &s;
  m* m0 = s.allm[0].get();
  p* p0 = s.allp[0].get();
  m0->p = p0;  // acquirep
  p0->m = m0;
  p0->status = pstatus::_Prunning;
  setm(m0);
  common::init_thread_context(m0->g0);
  common::overflow_handler segv_handler;
  {
    common::signal_stack altstack;
    using C = common::closure<std::function<void()>>;
    g* main_g = newproc1(p0, sizeof(C), alignof(C), &C::ops);
    ::new (main_g->closure) C(std::move(main_fn));
    newproc_start(main_g);
    schedule();
  }

  // Main returned. Goroutines still alive are abandoned, as in Go; their
  // closures are destroyed, and every stack goes with the pool.
  std::vector<std::unique_ptr<g>> gs;
  {
    common::lock_guard l(s.allglock);
    gs.swap(s.allgs);  // not held while closures' destructors (user code) run
  }
  for (auto& gp : gs) {
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
