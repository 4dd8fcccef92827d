// demo.cpp: chapter 07's WaitGroup and Mutex at work: the article's
// WaitGroup program and its producer/consumer program, the Mutex's
// starvation mode measured by switching it off, and a WaitGroup that nobody
// finishes, caught as a deadlock.
#include <goro/goro.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace {
using namespace std::chrono_literals;
using clk = std::chrono::steady_clock;

double ms_between(clk::time_point a, clk::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

// 1. The article's WaitGroup program: main counts each goroutine in with
// add(1) before starting it, each counts itself out with done(), and
// wait() parks main until the count is 0. No sleep, no guess.
void cal(int a, int b, goro::WaitGroup& n) {
  const int c = a + b;
  std::printf("   %d + %d = %d\n", a, b, c);
  n.done();  // the article defers Done; chapter 08 brings defer
}

void article_waitgroup() {
  std::printf("1. The article's WaitGroup program: ten goroutines, main waits for\n"
              "   all of them.\n");
  goro::run([] {
    goro::WaitGroup go_sync;
    for (int i = 0; i < 10; i++) {
      go_sync.add(1);
      goro::go(cal, i, i + 1, std::ref(go_sync));
    }
    go_sync.wait();  // parks main until the ten done() calls
  });
  std::printf("   ten lines, in whatever order the goroutines ran: Go prints the same\n"
              "   lines (its order varies too).\n\n");
}

// 2. The article's producer/consumer program: ten producers each send one
// value into a buffered channel of 100, ten consumers each receive one, and
// one WaitGroup counts all twenty. The article calls Add after each go
// statement; here add comes first, as Go's documentation asks: a goroutine
// that ran and called Done before the Add would take the counter below 0.
void producer(goro::chan<int> mychan, int data, goro::WaitGroup& wait) {
  mychan.send(data);
  std::printf("   product data\uff1a %d\n", data);  // the article's colon is full-width
  wait.done();
}

void consumer(goro::chan<int> mychan, goro::WaitGroup& wait) {
  const int a = *mychan.recv();
  std::printf("   consumer data\uff1a %d\n", a);
  wait.done();
}

void article_producer_consumer() {
  std::printf("2. The article's producer/consumer program: ten producers, ten\n"
              "   consumers, a buffered channel of 100, one WaitGroup.\n");
  goro::run([] {
    auto datachan = goro::make_chan<int>(100);
    goro::WaitGroup wg;
    for (int i = 0; i < 10; i++) {
      wg.add(1);
      goro::go(producer, datachan, i, std::ref(wg));
    }
    for (int j = 0; j < 10; j++) {
      wg.add(1);
      goro::go(consumer, datachan, std::ref(wg));
    }
    wg.wait();
  });
  std::printf("   every value is produced once and consumed once; which consumer gets\n"
              "   which value varies from run to run, in Go as here.\n\n");
}

// 3. A hog locks a Mutex in a loop and holds it 100 us each time; another
// goroutine locks it now and then (Go's TestMutexFairness). Its longest
// wait, with starvation mode and without (GORO_MUTEXSTARVATION=0). The hog
// gives up after 300 ms, so that the run without ends.
struct fairness {
  double longest_ms = 0;  // the occasional locker's longest wait for lock()
  int locks = 0;          // how many of its 10 locks it got before the hog stopped
};

fairness measure_fairness(bool starvation) {
  if (starvation) {
    unsetenv("GORO_MUTEXSTARVATION");
  } else {
    setenv("GORO_MUTEXSTARVATION", "0", 1);
  }
  fairness f;
  goro::run(
      [&f] {
        goro::Mutex mu;
        std::atomic<bool> stop{false};
        goro::WaitGroup wg;
        wg.add(2);
        goro::go([&] {
          const auto end = clk::now() + 300ms;
          while (!stop.load() && clk::now() < end) {
            std::lock_guard l(mu);
            goro::sleep_for(100us);
          }
          stop = true;
          wg.done();
        });
        goro::go([&] {
          for (int i = 0; i < 10; i++) {
            goro::sleep_for(100us);
            const auto t0 = clk::now();
            mu.lock();
            const auto t1 = clk::now();
            mu.unlock();
            f.longest_ms = std::max(f.longest_ms, ms_between(t0, t1));
            if (!stop.load()) f.locks++;
          }
          stop = true;
          wg.done();
        });
        wg.wait();
      },
      goro::Config{.procs = 1});
  unsetenv("GORO_MUTEXSTARVATION");
  return f;
}

void starvation() {
  std::printf("3. Starvation mode: a hog holds a Mutex 100 us at a time in a loop,\n"
              "   another goroutine wants it ten times (procs=1; the hog stops after\n"
              "   300 ms).\n");
  const fairness with = measure_fairness(true);
  const fairness without = measure_fairness(false);
  std::printf("                           longest wait   its locks while the hog ran\n");
  std::printf("   with starvation mode   %9.2f ms   %2d of 10\n", with.longest_ms, with.locks);
  std::printf("   without                %9.2f ms   %2d of 10\n", without.longest_ms, without.locks);
  std::printf("   Without it, the woken waiter loses every race to the hog, which is\n"
              "   already running when it unlocks and locks again; with it, a waiter\n"
              "   that has waited 1 ms gets the mutex handed to it.\n\n");
}

// 4. A WaitGroup nobody finishes: every goroutine asleep, the runtime ends
// the program (in a child process here, so that the demo goes on).
void deadlock() {
  std::printf("4. A deadlock, in a child process: main waits for two goroutines, but\n"
              "   only one calls done().\n");
  std::fflush(stdout);
  int fds[2];
  if (pipe(fds) != 0) return;
  const pid_t pid = fork();
  if (pid == 0) {
    dup2(fds[1], 2);
    goro::run([] {
      goro::WaitGroup wg;
      wg.add(2);
      goro::go([&wg] { wg.done(); });
      wg.wait();
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
  std::printf("   its exit status: %d (Go 1.19 prints the same, [semacquire] included)\n",
              WIFEXITED(status) ? WEXITSTATUS(status) : -1);
}

}  // namespace

int main() {
  std::printf("Chapter 07: the runtime semaphore, WaitGroup and Mutex\n\n");
  article_waitgroup();
  article_producer_consumer();
  starvation();
  deadlock();
}
