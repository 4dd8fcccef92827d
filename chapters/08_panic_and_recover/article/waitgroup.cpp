// waitgroup.cpp: the article's WaitGroup program (waitgroup.go beside it)
// against goro, from chapter 07 on: main adds one to a WaitGroup per
// goroutine, each goroutine prints a sum and calls done(), and wait() parks
// main until the count is 0. It prints the lines the Go program prints, in
// the order the goroutines run; `ctest -R article` checks both print the
// same lines.
#include <goro/goro.hpp>

#include <cstdio>

void cal(int a, int b, goro::WaitGroup* n) {
  const int c = a + b;
  std::printf("%d + %d = %d\n", a, b, c);
  n->done();  // the article defers Done; as the last statement it is the same
}

int main() {
  return goro::run([] {
    goro::WaitGroup go_sync;
    for (int i = 0; i < 10; i++) {
      go_sync.add(1);
      goro::go(cal, i, i + 1, &go_sync);  // go cal(i, i+1, &go_sync)
    }
    go_sync.wait();  // parks main until the ten done() calls
  });
}
