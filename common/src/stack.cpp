// stack.cpp: goroutine stacks and stack-overflow detection. Chapter 01.
//
// A goroutine stack is anonymous memory mapped with MAP_NORESERVE: the
// kernel commits a page only when the goroutine first touches it, so a
// 256 KiB stack that holds a few frames costs a few pages. Stacks are never
// unmapped while the runtime runs; they are reused (Go keeps a dead G's
// stack with it on the free list, and so does goro).
#include "goro/common/stack.hpp"

#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstring>

#include "goro/common/context.hpp"
#include "goro/common/fatal.hpp"

namespace goro::common {

namespace {

constexpr std::size_t slab_stacks = 64;  // unguarded stacks per mapping
// The bottom of a stack is a red zone that a goroutine must not have
// entered when it switches out. (No canary word is written there: on a
// virtual machine the first touch of a page costs 10-20 us, and a canary
// would double the pages a new goroutine touches.)
constexpr std::size_t red_zone = 4096;

std::size_t page_size() {
  static const std::size_t ps = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
  return ps;
}

std::size_t round_up(std::size_t n, std::size_t to) {
  return (n + to - 1) / to * to;
}

// The guard budget: a quarter of vm.max_map_count, in guarded stacks (each
// costs two mappings).
std::size_t guard_budget() {
  long max_maps = 65530;
  if (FILE* f = std::fopen("/proc/sys/vm/max_map_count", "r")) {
    if (std::fscanf(f, "%ld", &max_maps) != 1) max_maps = 65530;
    std::fclose(f);
  }
  return static_cast<std::size_t>(max_maps / 4 / 2);
}

void* map_or_die(std::size_t len) {
  void* p = mmap(nullptr, len, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (p == MAP_FAILED) fatal("runtime: cannot allocate goroutine stack (mmap failed)");
  return p;
}

std::atomic<std::size_t> live_mappings{0};

}  // namespace

std::size_t stack_mappings_alive() { return live_mappings.load(); }

stack_pool::stack_pool(std::size_t stack_size)
    : size_(round_up(stack_size < min_stack_size ? min_stack_size : stack_size,
                     page_size())),
      guard_budget_(guard_budget()) {}

stack_pool::~stack_pool() {
  for (const mapping& m : mappings_) munmap(m.addr, m.len);
  live_mappings.fetch_sub(mappings_.size());
}

stack stack_pool::get() {
  stack s;
  {
    lock_guard g(lock_);
    if (!free_.empty()) {
      s = free_.back();
      free_.pop_back();
      return s;
    }
    s = guarded_ < guard_budget_ ? map_guarded() : take_from_slab();
    made_++;
  }
  return s;
}

void stack_pool::put(stack s) {
  lock_guard g(lock_);
  free_.push_back(s);
}

std::size_t stack_pool::allocated() const {
  lock_guard g(lock_);
  return made_;
}

stack stack_pool::map_guarded() {
  const std::size_t guard = page_size();
  char* p = static_cast<char*>(map_or_die(guard + size_));
  if (mprotect(p, guard, PROT_NONE) != 0) fatal("runtime: mprotect of stack guard failed");
  mappings_.push_back({p, guard + size_});
  live_mappings.fetch_add(1);
  guarded_++;
  return stack{p + guard, size_, true};
}

stack stack_pool::take_from_slab() {
  if (slab_left_ == 0) {
    const std::size_t len = size_ * slab_stacks;
    slab_next_ = static_cast<char*>(map_or_die(len));
    mappings_.push_back({slab_next_, len});
    live_mappings.fetch_add(1);
    slab_left_ = slab_stacks;
  }
  stack s{slab_next_, size_, false};
  slab_next_ += size_;
  slab_left_--;
  return s;
}

void* place_closure(const stack& s, std::size_t size, std::size_t align) {
  if (size > s.size / 2) {
    fatal("newproc: function arguments too large for new goroutine");
  }
  if (align < 16) align = 16;
  const auto top = reinterpret_cast<std::uintptr_t>(s.hi());
  return reinterpret_cast<void*>((top - size) & ~(static_cast<std::uintptr_t>(align) - 1));
}

void check_stack(const stack& s, const void* sp, long goid) {
  const char* p = static_cast<const char*>(sp);
  const char* lo = static_cast<const char*>(s.lo);
  if (p < lo + red_zone || p > s.hi()) stack_overflow(goid, s.size);
}

void stack_overflow(long goid, std::size_t size) {
  char a[24], b[24];
  write_err("runtime: goroutine ");
  write_err(format_long(goid, a));
  write_err(" stack exceeds ");
  write_err(format_long(static_cast<long>(size), b));
  write_err("-byte limit\nfatal error: stack overflow\n\ngoroutine ");
  write_err(a);
  write_err(" [running]:\n");
  _exit(2);
}

// ---- SIGSEGV: a fault in the running goroutine's guard page ----

namespace {

struct sigaction old_segv, old_bus;
int handler_users = 0;
mutex handler_lock;

void on_fault(int sig, siginfo_t* info, void* uctx) {
  context* c = running_context();
  if (c != nullptr && c->id != 0 && c->stack_lo != nullptr) {
    auto addr = reinterpret_cast<std::uintptr_t>(info->si_addr);
    auto lo = reinterpret_cast<std::uintptr_t>(c->stack_lo);
    // The guard page, and anything a large frame skipped over below it.
    if (addr < lo + red_zone && addr + 64 * 1024 >= lo) stack_overflow(c->id, c->stack_size);
  }
  // Not ours: give the fault to whoever handled it before.
  const struct sigaction& old = sig == SIGSEGV ? old_segv : old_bus;
  if (old.sa_flags & SA_SIGINFO) {
    if (old.sa_sigaction != nullptr) {
      old.sa_sigaction(sig, info, uctx);
      return;
    }
  } else if (old.sa_handler != SIG_DFL && old.sa_handler != SIG_IGN) {
    old.sa_handler(sig);
    return;
  }
  // Default action: restore it and return; the faulting access repeats.
  signal(sig, SIG_DFL);
}

}  // namespace

overflow_handler::overflow_handler() {
  lock_guard g(handler_lock);
  if (handler_users++ > 0) return;
  struct sigaction sa;
  std::memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_fault;
  sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGSEGV, &sa, &old_segv);
  sigaction(SIGBUS, &sa, &old_bus);
}

overflow_handler::~overflow_handler() {
  lock_guard g(handler_lock);
  if (--handler_users > 0) return;
  sigaction(SIGSEGV, &old_segv, nullptr);
  sigaction(SIGBUS, &old_bus, nullptr);
}

signal_stack::signal_stack() {
  len_ = 64 * 1024;
  mem_ = mmap(nullptr, len_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (mem_ == MAP_FAILED) fatal("runtime: cannot allocate signal stack");
  stack_t ss;
  ss.ss_sp = mem_;
  ss.ss_size = len_;
  ss.ss_flags = 0;
  had_old_ = sigaltstack(&ss, &old_) == 0;
}

signal_stack::~signal_stack() {
  if (had_old_) {
    if (old_.ss_flags & SS_DISABLE) {
      stack_t off;
      std::memset(&off, 0, sizeof off);
      off.ss_flags = SS_DISABLE;
      sigaltstack(&off, nullptr);
    } else {
      sigaltstack(&old_, nullptr);
    }
  }
  munmap(mem_, len_);
}

}  // namespace goro::common
