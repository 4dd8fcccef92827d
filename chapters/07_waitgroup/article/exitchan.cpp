// exitchan.cpp: the article's exit-signal program (exitchan.go beside it)
// against goro, from chapter 06 on: ten goroutines each print a sum, wait,
// and send true on a buffered channel; main receives ten times, then closes
// it. It prints the lines the Go program prints, in the order the
// goroutines run; `ctest -R article` checks both print the same lines.
#include <goro/goro.hpp>

#include <chrono>
#include <cstdio>

void cal(int a, int b, goro::chan<bool> exitchan) {
  const int c = a + b;
  std::printf("%d + %d = %d\n", a, b, c);
  // The article sleeps 2 s, standing for work; 20 ms, as exitchan.go.
  goro::sleep_for(std::chrono::milliseconds(20));
  exitchan.send(true);  // Exitchan <- true
}

int main() {
  return goro::run([] {
    auto exitchan = goro::make_chan<bool>(10);  // make(chan bool, 10)
    for (int i = 0; i < 10; i++) goro::go(cal, i, i + 1, exitchan);
    for (int j = 0; j < 10; j++) exitchan.recv();  // <-Exitchan: parks until a signal is there
    exitchan.close();
  });
}
