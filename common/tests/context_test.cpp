// context_test.cpp: the context switch of common/context.hpp, alone.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <exception>
#include <stdexcept>
#include <thread>

#include "goro/common/context.hpp"
#include "goro/common/stack.hpp"

namespace {
using namespace goro::common;

// A context that runs `body` and then goes back to `back` for good.
struct coroutine {
  context self;
  context* back = nullptr;
  void (*body)(coroutine*) = nullptr;
  static void entry(void* arg) {
    auto* co = static_cast<coroutine*>(arg);
    co->body(co);
    exit_context(co->self, *co->back, nullptr);
  }
};

TEST(Context, SwitchesBackAndForthWithValues) {
  stack_pool pool(64 * 1024);
  stack s = pool.get();
  context main_ctx;
  init_thread_context(main_ctx);
  coroutine co;
  co.back = &main_ctx;
  co.body = [](coroutine* c) {
    for (std::intptr_t i = 0; i < 3; i++) {
      void* got = switch_context(c->self, *c->back, reinterpret_cast<void*>(i));
      EXPECT_EQ(reinterpret_cast<std::intptr_t>(got), 100 + i);
    }
  };
  make_context(co.self, s.lo, s.size, s.hi(), coroutine::entry);
  void* v = switch_context(main_ctx, co.self, &co);
  for (std::intptr_t i = 0; i < 3; i++) {
    EXPECT_EQ(reinterpret_cast<std::intptr_t>(v), i);
    v = switch_context(main_ctx, co.self, reinterpret_cast<void*>(100 + i));
  }
  EXPECT_EQ(v, nullptr);  // the final exit_context
  release_context(co.self);
}

// Each context keeps its own exception state: a coroutine suspended inside
// a catch block still sees its exception, while the thread throws and
// catches another one meanwhile.
TEST(Context, ExceptionStateTravelsWithTheContext) {
  stack_pool pool(64 * 1024);
  stack s = pool.get();
  context main_ctx;
  init_thread_context(main_ctx);
  coroutine co;
  co.back = &main_ctx;
  co.body = [](coroutine* c) {
    try {
      throw std::runtime_error("inner");
    } catch (...) {
      switch_context(c->self, *c->back, nullptr);
      std::exception_ptr e = std::current_exception();
      ASSERT_TRUE(e);
      try {
        std::rethrow_exception(e);
      } catch (const std::runtime_error& r) {
        EXPECT_STREQ(r.what(), "inner");
      }
    }
    EXPECT_FALSE(std::current_exception());
  };
  make_context(co.self, s.lo, s.size, s.hi(), coroutine::entry);
  switch_context(main_ctx, co.self, &co);
  EXPECT_FALSE(std::current_exception()) << "the coroutine's exception leaked out";
  try {
    throw std::logic_error("outer");
  } catch (const std::logic_error&) {
    EXPECT_TRUE(std::current_exception());
  }
  switch_context(main_ctx, co.self, nullptr);
  EXPECT_FALSE(std::current_exception());
  release_context(co.self);
}

// The thread_local trap: a context suspended on one thread and resumed on
// another must see the new thread's thread_locals. goro reads its own
// thread_locals through a non-inlined function (running_context() here);
// this test fails if the switch layer cached the old thread's address.
TEST(Context, ResumesOnAnotherThreadAndSeesThatThreadsState) {
  stack_pool pool(64 * 1024);
  stack s = pool.get();
  struct shared {
    coroutine co;
    context t1, t2;
    std::thread::id seen_first, seen_second;
    context* running_first = nullptr;
    context* running_second = nullptr;
  } sh;
  sh.co.body = [](coroutine* c) {
    auto* st = reinterpret_cast<shared*>(c);  // co is the first member
    st->seen_first = std::this_thread::get_id();
    st->running_first = running_context();
    switch_context(c->self, st->t1, nullptr);  // suspend on thread 1
    st->seen_second = std::this_thread::get_id();
    st->running_second = running_context();
    c->back = &st->t2;
  };
  make_context(sh.co.self, s.lo, s.size, s.hi(), coroutine::entry);
  std::thread::id id1, id2;
  std::thread a([&] {
    id1 = std::this_thread::get_id();
    init_thread_context(sh.t1);
    switch_context(sh.t1, sh.co.self, &sh.co);
  });
  a.join();
  std::thread b([&] {
    id2 = std::this_thread::get_id();
    init_thread_context(sh.t2);
    sh.co.back = &sh.t2;
    switch_context(sh.t2, sh.co.self, nullptr);
  });
  b.join();
  EXPECT_EQ(sh.seen_first, id1);
  EXPECT_EQ(sh.seen_second, id2);
  EXPECT_EQ(sh.running_first, &sh.co.self);
  EXPECT_EQ(sh.running_second, &sh.co.self);
  release_context(sh.co.self);
}

}  // namespace
