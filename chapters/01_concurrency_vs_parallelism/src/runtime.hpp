// runtime.hpp: chapter 01's internal structures and functions, grouped by
// the file that defines them (as xv6's defs.h does).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <thread>
#include <vector>

#include "goro/common/closure.hpp"
#include "goro/common/context.hpp"
#include "goro/common/gqueue.hpp"
#include "goro/common/lock.hpp"
#include "goro/common/note.hpp"
#include "goro/common/stack.hpp"

namespace goro::runtime {

struct m;

/// g is a goroutine: a function, a stack for it to run on, and the saved
/// context that lets a thread leave it half-way and come back later. That
/// is all a coroutine is; Go's G adds scheduling state (chapter 02).
struct g {
  common::context sched;          ///< saved registers (Go's g.sched gobuf)
  common::stack stack;            ///< where it runs
  long goid = 0;                  ///< goroutine id, 1 for main
  bool dead = true;               ///< finished, or never started
  void* closure = nullptr;        ///< the function and its arguments
  const common::closure_ops* ops = nullptr;
  m* owner = nullptr;             ///< the thread that runs it, for life
  g* schedlink = nullptr;         ///< link in a run queue or free list
};

/// A FIFO of goroutines linked through g::schedlink.
using gqueue = common::gqueue<g, &g::schedlink>;

/// m is a thread that runs goroutines (Go's M, "machine"). In this chapter
/// each m owns a run queue and a fixed share of the goroutines: the share
/// is decided when a goroutine is created and never changes.
struct m {
  int id = 0;
  std::thread thread;         ///< the OS thread (m0 is run()'s caller)
  common::context g0;         ///< the thread's own context, its scheduler
  g* curg = nullptr;          ///< the goroutine running on it, if any

  common::mutex lock;         ///< guards runq and sleeping
  gqueue runq GORO_GUARDED_BY(lock);           ///< its goroutines ready to run
  bool sleeping GORO_GUARDED_BY(lock) = false; ///< parked on `park`, waiting for work
  common::note park;          ///< where an idle m sleeps
};

/// The runtime's global state, for one call of run().
struct schedt {
  std::vector<std::unique_ptr<m>> ms;   ///< every thread; ms[0] is m0
  std::unique_ptr<common::stack_pool> stacks;
  std::atomic<long> goidgen{0};         ///< last goroutine id handed out
  std::atomic<int> ngoroutines{0};      ///< live goroutines, main included
  std::atomic<bool> main_done{false};   ///< main returned: stop everything
  common::mutex allglock;               ///< guards allgs and gfree
  /// Every g ever made, for teardown.
  std::vector<std::unique_ptr<g>> allgs GORO_GUARDED_BY(allglock);
  std::vector<g*> gfree GORO_GUARDED_BY(allglock);  ///< dead goroutines to reuse
};

// proc.cpp
extern schedt* sched;   ///< the running runtime, or nullptr outside run()
m* getm();              ///< the calling thread's m, or nullptr
void schedule(m* mp);   ///< an m's loop: run its goroutines until main ends
void gosched_m(g* gp);

}  // namespace goro::runtime
