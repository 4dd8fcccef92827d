// producer_consumer.cpp: the article's producer/consumer program
// (producer_consumer.go beside it) against goro, from chapter 07 on: ten
// producers each send one value into a channel buffered for 100, ten
// consumers each receive one, and one WaitGroup counts all twenty. It
// prints the lines the Go program prints, in the order the goroutines run;
// `ctest -R article` checks both print the same lines.
//
// Like the article, main calls add(1) after each go(); see
// producer_consumer.go for why that is a race, and why it cannot strike
// with GOMAXPROCS=1 (chapter 07's demo puts the add first).
#include <goro/goro.hpp>

#include <cstdio>

// Go's fmt.Println puts a space between its operands, so the article's
// lines read "product data： 3". The colon is a full-width one, U+FF1A.
void productor(goro::chan<int> mychan, int data, goro::WaitGroup* wait) {
  mychan.send(data);
  std::printf("product data\uff1a %d\n", data);
  wait->done();  // the article defers Done; as the last statement it is the same
}

void consumer(goro::chan<int> mychan, goro::WaitGroup* wait) {
  const int a = *mychan.recv();  // a := <-mychan (never closed: always a value)
  std::printf("consumer data\uff1a %d\n", a);
  wait->done();
}

int main() {
  return goro::run([] {
    auto datachan = goro::make_chan<int>(100);
    goro::WaitGroup wg;
    for (int i = 0; i < 10; i++) {
      goro::go(productor, datachan, i, &wg);
      wg.add(1);
    }
    for (int j = 0; j < 10; j++) {
      goro::go(consumer, datachan, &wg);
      wg.add(1);
    }
    wg.wait();
  });
}
