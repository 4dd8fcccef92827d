// trace.cpp: the demos' scheduling trace. Chapter 02.
#include "goro/common/trace.hpp"

#include <algorithm>
#include <memory>
#include <string>

#include "goro/common/clock.hpp"

namespace goro::common::trace {

std::atomic<bool> on{false};

namespace {
std::unique_ptr<event[]> buf;
std::size_t cap = 0;
std::atomic<std::size_t> next{0};
}  // namespace

void start(std::size_t capacity) {
  buf.reset(new event[capacity]);  // trivially constructible: left untouched
  cap = capacity;
  next.store(0);
  on.store(true, std::memory_order_release);
}

std::vector<event> stop() {
  on.store(false, std::memory_order_release);
  std::size_t n = std::min(next.load(), cap);
  std::vector<event> out(buf.get(), buf.get() + n);
  buf.reset();
  cap = 0;
  std::stable_sort(out.begin(), out.end(),
                   [](const event& a, const event& b) { return a.ns < b.ns; });
  return out;
}

void record(int m, int p, long g, ev kind, long arg, long arg2) {
  if (!on.load(std::memory_order_relaxed)) return;
  std::size_t i = next.fetch_add(1, std::memory_order_relaxed);
  if (i >= cap) return;
  buf[i] = event{nanotime(), m, p, g, kind, arg, arg2};
}

void print_timeline(const std::vector<event>& events, int nprocs, int columns,
                    std::FILE* out) {
  if (events.empty()) return;
  const std::int64_t t0 = events.front().ns, t1 = events.back().ns + 1;
  const double slice = static_cast<double>(t1 - t0) / columns;
  static const char digits[] =
      "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
  std::vector<std::string> rows(static_cast<std::size_t>(nprocs),
                                std::string(static_cast<std::size_t>(columns), '.'));
  std::vector<long> running(static_cast<std::size_t>(nprocs), 0);
  std::vector<std::int64_t> since(static_cast<std::size_t>(nprocs), 0);
  auto paint = [&](int p, long g, std::int64_t from, std::int64_t to) {
    int a = static_cast<int>((from - t0) / slice);
    int b = static_cast<int>((to - t0) / slice);
    for (int c = a; c <= b && c < columns; c++) {
      rows[static_cast<std::size_t>(p)][static_cast<std::size_t>(c)] = digits[g % 62];
    }
  };
  for (const event& e : events) {
    if (e.p < 0 || e.p >= nprocs) continue;
    auto p = static_cast<std::size_t>(e.p);
    if (e.kind == ev::run) {
      running[p] = e.g;
      since[p] = e.ns;
    } else if (e.kind == ev::stop && running[p] == e.g) {
      paint(e.p, e.g, since[p], e.ns);
      running[p] = 0;
    }
  }
  for (std::size_t p = 0; p < rows.size(); p++) {
    if (running[p] != 0) paint(static_cast<int>(p), running[p], since[p], t1);
  }
  std::fprintf(out, "time -> (%.3f ms per column)\n", slice / 1e6);
  for (std::size_t p = 0; p < rows.size(); p++) {
    std::fprintf(out, "P%-2zu |%s|\n", p, rows[p].c_str());
  }
  std::fprintf(out, "(each character: the goroutine id, mod 62, that ran most recently in that slice; '.' idle)\n");
}

}  // namespace goro::common::trace
