// demo.cpp: chapter 06's channels at work: the article's program that
// waits on a channel instead of guessing with sleeps, a hand-off traced
// step by step, select's fairness counted, and a deadlock caught.
#include <goro/goro.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <mutex>
#include <string>
#include <vector>

#include "goro/common/trace.hpp"

namespace {
using namespace std::chrono_literals;
using clk = std::chrono::steady_clock;
namespace trace = goro::common::trace;

double ms_since(clk::time_point t0) {
  return std::chrono::duration<double, std::milli>(clk::now() - t0).count();
}

// 1. The article's channel program: each goroutine signals on a buffered
// channel when it is done, and main takes ten signals. The article sleeps
// 2 s in cal; this demo sleeps 200 ms, which shows the same thing sooner.
void cal(int a, int b, goro::chan<bool> exitchan) {
  const int c = a + b;
  std::printf("   %d + %d = %d\n", a, b, c);
  goro::sleep_for(200ms);
  exitchan.send(true);
}

void article_program() {
  std::printf("1. The article's program: ten goroutines, one signal each on a\n"
              "   buffered channel of 10 (sleeping 200 ms where the article sleeps 2 s).\n");
  const auto t0 = clk::now();
  goro::run([] {
    auto exitchan = goro::make_chan<bool>(10);
    for (int i = 0; i < 10; i++) goro::go(cal, i, i + 1, exitchan);
    for (int j = 0; j < 10; j++) exitchan.recv();  // blocks until one is there
    exitchan.close();
  });
  std::printf("   main took ten signals in %.0f ms: the ten sleeps overlapped, and\n"
              "   main waited exactly as long as the slowest goroutine.\n\n",
              ms_since(t0));
}

// 2. A producer and a consumer on an unbuffered channel, at procs=1, with
// the scheduler's trace on: who ran when, and what each did.
void handoff_traced() {
  std::printf("2. A hand-off traced: producer G2 sends 1, 2, 3 on an unbuffered\n"
              "   channel to consumer G3, at procs=1.\n");
  std::vector<std::string> log;
  std::vector<trace::event> events;
  goro::run(
      [&] {
        auto ch = goro::make_chan<int>();
        auto done = goro::make_chan<bool>();
        trace::start();
        goro::go([&log, ch]() mutable {
          for (int v = 1; v <= 3; v++) {
            log.push_back("G2 sends " + std::to_string(v));
            ch.send(v);
          }
          ch.close();
        });
        goro::go([&log, ch, done]() mutable {
          for (int v : ch) log.push_back("G3 got " + std::to_string(v));
          done.send(true);
        });
        done.recv();
        events = trace::stop();
      },
      goro::Config{.procs = 1});
  std::printf("   what ran, in order (a G's actions are listed under its run):\n");
  std::size_t next = 0;
  for (const auto& e : events) {
    if (e.kind != trace::ev::run || e.g == 1) continue;
    std::printf("     G%ld runs:", e.g);
    // The log lines written by this G before another G ran.
    const std::string me = "G" + std::to_string(e.g);
    while (next < log.size() && log[next].compare(0, me.size(), me) == 0) {
      std::printf("  %s;", log[next].c_str() + me.size() + 1);
      next++;
    }
    std::printf("\n");
  }
  std::printf("   G3 runs first (the goroutine made last waits in runnext) and parks in\n"
              "   its receive. G2's send of 1 finds G3 parked: the value goes straight\n"
              "   into G3's slot and G3 into runnext. G2 goes on; its send of 2 finds\n"
              "   nobody waiting, so G2 parks with the value. G3 wakes holding 1, and its\n"
              "   next receive takes 2 from the parked G2 and readies it. Every value\n"
              "   passes from one goroutine's stack to the other's, with no buffer.\n\n");
}

// 3. select picks uniformly among the ready cases: three closed channels
// are always ready.
void select_fairness() {
  constexpr int rounds = 300000;
  std::array<int, 3> count{};
  goro::run([&] {
    auto a = goro::make_chan<int>(), b = goro::make_chan<int>(), c = goro::make_chan<int>();
    a.close();
    b.close();
    c.close();
    for (int i = 0; i < rounds; i++) {
      const std::size_t k = goro::select(goro::recv_case(a, [](std::optional<int>) {}),
                                         goro::recv_case(b, [](std::optional<int>) {}),
                                         goro::recv_case(c, [](std::optional<int>) {}));
      count[k]++;
    }
  });
  std::printf("3. select over three always-ready cases, %d rounds:\n", rounds);
  for (int k = 0; k < 3; k++) {
    std::printf("   case %d chosen %6d times (%.2f%%)\n", k, count[static_cast<std::size_t>(k)],
                100.0 * count[static_cast<std::size_t>(k)] / rounds);
  }
  std::printf("\n");
}

// 4. Every goroutine blocked, nothing pending: the runtime ends the
// program, in a child process here so that the demo goes on.
void deadlock() {
  std::printf("4. A deadlock, in a child process: main waits on a channel that a\n"
              "   goroutine would send on only after receiving from main.\n");
  std::fflush(stdout);
  int fds[2];
  if (pipe(fds) != 0) return;
  const pid_t pid = fork();
  if (pid == 0) {
    dup2(fds[1], 2);
    goro::run([] {
      auto request = goro::make_chan<int>(), reply = goro::make_chan<int>();
      goro::go([request, reply]() mutable { reply.send(*request.recv() * 2); });
      reply.recv();  // but nobody ever sends a request
    });
    _exit(0);
  }
  close(fds[1]);
  std::string out;
  char buf[256];
  for (ssize_t n; (n = read(fds[0], buf, sizeof buf)) > 0;) out.append(buf, static_cast<std::size_t>(n));
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  std::printf("   its stderr:\n");
  std::size_t start = 0;
  while (start < out.size()) {
    const std::size_t end = out.find('\n', start);
    std::printf("   | %s\n", out.substr(start, end - start).c_str());
    if (end == std::string::npos) break;
    start = end + 1;
  }
  std::printf("   its exit status: %d (Go's is 2 too)\n", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
}

}  // namespace

int main() {
  std::printf("Chapter 06: channels, select and deadlock\n\n");
  article_program();
  handoff_traced();
  select_fairness();
  deadlock();
}
