// buffered: throughput of a buffered channel shared by several producers
// and consumers.
//
// One channel of capacity 128; --pairs P producers and P consumers (1 and 4
// are measured, as separate runs), at procs 2. Producer p sends the ints
// [p*n/P, (p+1)*n/P); the last producer to finish closes the channel. Each
// consumer ranges over the channel, adding up what it receives, and sends
// its sum to main on an unbuffered results channel. Figure: ns per item =
// wall / n (n is 1,000,000 by default), from the first spawn to main's last
// receive of a sum. The checksum is the sum of every item received,
// n(n-1)/2. Twin: bench/cpp/buffered.cpp.
package main

import (
	"flag"
	"fmt"
	"os"
	"runtime"
	"sync/atomic"
	"time"
)

const capacity = 128

func main() {
	procs := flag.Int("procs", 2, "GOMAXPROCS")
	n := flag.Int("n", 1_000_000, "items in all")
	pairs := flag.Int("pairs", 1, "producers, and as many consumers")
	flag.Parse()
	runtime.GOMAXPROCS(*procs)
	if *pairs < 1 {
		fmt.Fprintln(os.Stderr, "buffered: --pairs must be at least 1")
		os.Exit(1)
	}
	p := *pairs

	items := make(chan int, capacity)
	results := make(chan int)
	var producing atomic.Int64
	producing.Store(int64(p))

	start := time.Now()
	for c := 0; c < p; c++ {
		go func() {
			sum := 0
			for v := range items {
				sum += v
			}
			results <- sum
		}()
	}
	for w := 0; w < p; w++ {
		go func(lo, hi int) {
			for i := lo; i < hi; i++ {
				items <- i
			}
			if producing.Add(-1) == 0 {
				close(items)
			}
		}(w**n/p, (w+1)**n/p)
	}
	sum := 0
	for c := 0; c < p; c++ {
		sum += <-results
	}
	elapsed := time.Since(start)

	fmt.Printf("RESULT buffered procs=%d n=%d pairs=%d ns_per_op=%.1f checksum=%d\n",
		runtime.GOMAXPROCS(0), *n, p, float64(elapsed)/float64(*n), sum)
}
