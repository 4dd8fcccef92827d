// sudog.cpp: the records of goroutines waiting on channels, and their
// caches, after Go's acquireSudog and releaseSudog (runtime/proc.go).
// Chapter 06.
//
// Every blocking channel operation needs a sudog, and a select one per
// case, so they are recycled the way Gs are: each P keeps up to 128 free
// ones that only its M touches, without a lock, and trades them in halves
// with a central cache under sched.sudogs.lock. A sudog comes back to the
// cache clean; the checks below catch one that is still linked somewhere,
// the classic channel bug.
#include "goro/common/fatal.hpp"
#include "runtime.hpp"

namespace goro::runtime {

//! [acquireSudog]
// acquireSudog takes a free sudog from the P's cache. An empty cache is
// refilled to half from the central one, or a new sudog is made.
sudog* acquireSudog() {
  p* pp = getm()->p;
  if (pp->nsudogcache == 0) {
    common::lock_guard l(sched->sudogs.lock);
    while (pp->nsudogcache < pp->sudogcache.size() / 2 && sched->sudogs.cache != nullptr) {
      sudog* s = sched->sudogs.cache;
      sched->sudogs.cache = s->next;
      s->next = nullptr;
      pp->sudogcache[pp->nsudogcache++] = s;
    }
    if (pp->nsudogcache == 0) {
      sched->sudogs.all.push_back(std::make_unique<sudog>());
      pp->sudogcache[pp->nsudogcache++] = sched->sudogs.all.back().get();
    }
  }
  sudog* s = pp->sudogcache[--pp->nsudogcache];
  if (s->elem != nullptr) common::throw_("acquireSudog: found s.elem != nil in cache");
  return s;
}
//! [acquireSudog]

// releaseSudog gives a sudog back to the P's cache; a full cache first
// moves half of itself to the central one.
void releaseSudog(sudog* s) {
  if (s->elem != nullptr) common::throw_("runtime: sudog with non-nil elem");
  if (s->isSelect) common::throw_("runtime: sudog with non-false isSelect");
  if (s->next != nullptr) common::throw_("runtime: sudog with non-nil next");
  if (s->prev != nullptr) common::throw_("runtime: sudog with non-nil prev");
  if (s->waitlink != nullptr) common::throw_("runtime: sudog with non-nil waitlink");
  if (s->c != nullptr) common::throw_("runtime: sudog with non-nil c");
  g* gp = getg();
  if (gp != nullptr && gp->param != nullptr) common::throw_("runtime: releaseSudog with non-nil gp.param");
  s->g = nullptr;
  p* pp = getm()->p;
  if (pp->nsudogcache == pp->sudogcache.size()) {
    common::lock_guard l(sched->sudogs.lock);
    while (pp->nsudogcache > pp->sudogcache.size() / 2) {
      sudog* t = pp->sudogcache[--pp->nsudogcache];
      t->next = sched->sudogs.cache;
      sched->sudogs.cache = t;
    }
  }
  pp->sudogcache[pp->nsudogcache++] = s;
}

// free_sudogs frees every sudog at the end of run(), cached or not: the
// ones of abandoned goroutines were taken off their channels first
// (chan_drop_waiters).
void free_sudogs() {
  for (auto& pp : sched->allp) pp->nsudogcache = 0;
  common::lock_guard l(sched->sudogs.lock);
  sched->sudogs.cache = nullptr;
  sched->sudogs.all.clear();
}

}  // namespace goro::runtime
