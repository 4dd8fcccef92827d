// select: the cost of a two-case select that blocks.
//
// At procs 1, main runs n selects (1,000,000 by default), each over a
// receive from c1 and a receive from c2 (both unbuffered); a feeder
// goroutine sends the ints 0..n-1 on them alternately, even ones on c1, odd
// ones on c2. So every select either finds the feeder already waiting to
// send, or parks on both channels until it comes. Figure: ns per select =
// wall / n, from the feeder's start to main's last select. The checksum is
// the sum of what main received, n(n-1)/2. Twin: bench/cpp/select.cpp.
package main

import (
	"flag"
	"fmt"
	"runtime"
	"time"
)

func feed(c1, c2 chan<- int, n int) {
	for i := 0; i < n; i++ {
		if i%2 == 0 {
			c1 <- i
		} else {
			c2 <- i
		}
	}
}

func main() {
	procs := flag.Int("procs", 1, "GOMAXPROCS")
	n := flag.Int("n", 1_000_000, "selects")
	flag.Parse()
	runtime.GOMAXPROCS(*procs)

	c1, c2 := make(chan int), make(chan int)
	sum := 0
	start := time.Now()
	go feed(c1, c2, *n)
	for i := 0; i < *n; i++ {
		select {
		case v := <-c1:
			sum += v
		case v := <-c2:
			sum += v
		}
	}
	elapsed := time.Since(start)

	fmt.Printf("RESULT select procs=%d n=%d ns_per_op=%.1f checksum=%d\n",
		runtime.GOMAXPROCS(0), *n, float64(elapsed)/float64(*n), sum)
}
