// demo.cpp: chapter 08's panic, defer and recover at work: the article's
// program whose goroutines recover from an index out of range, deferred
// calls run last in first out, a panic replaced by a panic in a deferred
// call, goro::call as Go's recovery point, goexit, and three panics nobody
// recovers, each crashing a child process as Go crashes.
#include <goro/goro.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <functional>
#include <string>
#include <vector>

namespace {

// go_print formats a slice as Go's fmt.Println does: [0 1 2 3].
std::string go_print(const std::vector<int>& a) {
  std::string s = "[";
  for (std::size_t i = 0; i < a.size(); i++) s += (i ? " " : "") + std::to_string(a[i]);
  return s + "]";
}

// 1. The article's program: ten goroutines write a[i] = i into a slice of
// four. Six of them index past its end; each one's deferred call recovers
// the panic and prints it, and the program goes on. The article sleeps
// 2 s for its goroutines; here a WaitGroup waits, its done() deferred.
void addele(std::vector<int>& a, int i, goro::WaitGroup& wg) {
  goro::defer done([&wg] { wg.done(); });
  goro::defer catcher([] {
    if (auto err = goro::recover()) std::printf("   %s\n", err.what().c_str());
  });
  goro::at(a, i) = i;  // a[i] = i, with Go's bounds check
  std::printf("   %s\n", go_print(a).c_str());
}

void article_program() {
  std::printf("1. The article's program: ten goroutines write into a slice of four;\n"
              "   each recovers from its own index out of range (procs=1).\n");
  goro::run(
      [] {
        std::vector<int> arry(4);
        goro::WaitGroup wg;
        for (int i = 0; i < 10; i++) {
          wg.add(1);
          goro::go(addele, std::ref(arry), i, std::ref(wg));
        }
        wg.wait();
      },
      goro::Config{.procs = 1});
  std::printf("   Go 1.19 with GOMAXPROCS=1 prints these lines in this order: the\n"
              "   last goroutine started runs first (runnext), then the rest in order.\n\n");
}

// 2. Deferred calls run last in first out, at a normal exit and while a
// panic unwinds; the first one made runs last, and it recovers.
void lifo_and_recover() {
  std::printf("2. Three defers, then a panic: they run last in first out, and the\n"
              "   last to run recovers.\n");
  goro::run(
      [] {
        goro::WaitGroup wg;
        wg.add(1);
        goro::go([&wg] {
          goro::defer done([&wg] { wg.done(); });
          goro::defer first([] {
            auto r = goro::recover();
            std::printf("   defer 1: recover() returns \"%s\"\n", r.what().c_str());
          });
          goro::defer second([] { std::printf("   defer 2\n"); });
          goro::defer third([] { std::printf("   defer 3\n"); });
          goro::panic("boom");
        });
        wg.wait();
        std::printf("   main goes on: the goroutine ended normally\n\n");
      },
      goro::Config{.procs = 1});
}

// 3. A deferred call panics while the first panic unwinds: in C++ that
// would be std::terminate; in Go, and in goro, the new panic replaces the
// old one, and an older defer recovers the new one.
void replaced() {
  std::printf("3. A panic in a deferred call during a panic replaces it.\n");
  goro::run([] {
    goro::defer outer([] { std::printf("   recovered: %s\n\n", goro::recover().what().c_str()); });
    goro::defer inner([] { goro::panic("second"); });
    goro::panic("first");
  });
}

// 4. goro::call is Go's recovery point: the function whose defer recovered
// returns its zero value to its caller, which goes on.
int element(const std::vector<int>& v, int i) {
  goro::defer d([] {
    if (auto r = goro::recover()) std::printf("   element recovered: %s\n", r.what().c_str());
  });
  return goro::at(v, i);
}

void recovery_point() {
  std::printf("4. goro::call(element, v, 7): element recovers, call returns 0.\n");
  goro::run([] {
    const std::vector<int> v{10, 20, 30};
    const int x = goro::call(element, v, 7);
    std::printf("   call returned %d, and main goes on\n\n", x);
  });
}

// 5. goexit ends the calling goroutine from deep inside it: its defers run
// (recover returns nothing in them), and the other goroutines go on.
void leave() { goro::goexit(); }

void goexit_demo() {
  std::printf("5. goexit() from a nested call: the goroutine's defers run.\n");
  goro::run([] {
    goro::WaitGroup wg;
    wg.add(1);
    goro::go([&wg] {
      goro::defer done([&wg] { wg.done(); });
      goro::defer d([] {
        const bool empty = !goro::recover();
        std::printf("   its defer runs; recover() is %s\n", empty ? "empty" : "not empty (it must be)");
      });
      leave();
      std::printf("   (never printed)\n");
    });
    wg.wait();
    std::printf("   main goes on\n\n");
  });
}

// 6. Panics nobody recovers, and main's goexit, each in a child process
// (so that the demo goes on): what it prints on stdout and stderr, and its
// exit status.
std::string crash(const char* title, std::function<void()> main_fn) {
  std::printf("   %s\n", title);
  std::fflush(stdout);
  int fds[2];
  if (pipe(fds) != 0) return "";
  const pid_t pid = fork();
  if (pid == 0) {
    dup2(fds[1], 1);
    dup2(fds[1], 2);
    goro::run(std::move(main_fn), goro::Config{.procs = 1});
    std::fflush(stdout);
    _exit(0);
  }
  close(fds[1]);
  std::string out;
  char buf[256];
  for (ssize_t n; (n = read(fds[0], buf, sizeof buf)) > 0;) out.append(buf, static_cast<std::size_t>(n));
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  std::size_t start = 0;
  while (start < out.size()) {
    const std::size_t end = out.find('\n', start);
    std::string line = out.substr(start, end - start);
    for (std::size_t t; (t = line.find('\t')) != std::string::npos;) line.replace(t, 1, "<tab>");
    std::printf("   |%s%s\n", line.empty() ? "" : " ", line.c_str());
    if (end == std::string::npos) break;
    start = end + 1;
  }
  std::printf("   exit status %d\n", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
  return out;
}

void crashes() {
  std::printf("6. Panics nobody recovers, and main's goexit, each in a child process\n"
              "   (a tab shows as <tab>).\n\n");
  const std::string a = crash("a) goroutine 3 panics; goroutine 2 is asleep with a defer pending:", [] {
    goro::go([] {
      goro::defer d([] { std::printf("goroutine 2's defer ran\n"); });
      goro::sleep_for(std::chrono::seconds(1));
    });
    goro::go([] { goro::panic("boom"); });
    goro::sleep_for(std::chrono::seconds(2));
  });
  const bool ran = a.find("defer ran") != std::string::npos;
  std::printf("   goroutine 2's defer %s\n\n", ran ? "ran (it must not)" : "did not run");
  crash("b) a deferred call panics during a panic, nobody recovers:", [] {
    goro::defer d([] { goro::panic("second"); });
    goro::panic("first");
  });
  std::printf("\n");
  crash("c) a deferred call recovers, then panics again with the value:", [] {
    goro::defer d([] {
      auto r = goro::recover();
      goro::panic(r.what());
    });
    goro::panic("first");
  });
  std::printf("\n");
  crash("d) main calls goexit(): its defer runs, the other goroutine finishes:", [] {
    goro::go([] {
      goro::sleep_for(std::chrono::milliseconds(1));
      std::printf("goroutine 2 done\n");
    });
    goro::defer d([] { std::printf("main's defer\n"); });
    goro::goexit();
  });
}

}  // namespace

int main() {
  std::printf("Chapter 08: panic, defer and recover\n\n");
  article_program();
  lifo_and_recover();
  replaced();
  recovery_point();
  goexit_demo();
  crashes();
}
