// spawnjoin: a goroutine's whole life, joined with a WaitGroup.
//
// The idiomatic fan-out: main does wg.Add(1) before each of n go
// statements (1,000,000 by default); each goroutine adds its index to an
// atomic sum and calls wg.Done(); main waits in wg.Wait(). Unlike spawn,
// main does not yield between spawns: Go preempts it every 10 ms, and
// goro's sysmon asks the same of it in go(). Figure: ns per goroutine =
// wall / n, from the first spawn to main's return from Wait, at procs 1
// and 2. The checksum is the sum, n(n-1)/2. Twin: bench/cpp/spawnjoin.cpp.
package main

import (
	"flag"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

func main() {
	procs := flag.Int("procs", 1, "GOMAXPROCS")
	n := flag.Int64("n", 1_000_000, "goroutines to start")
	flag.Parse()
	runtime.GOMAXPROCS(*procs)

	var wg sync.WaitGroup
	var sum atomic.Int64

	start := time.Now()
	for i := int64(0); i < *n; i++ {
		wg.Add(1)
		go func(v int64) {
			sum.Add(v)
			wg.Done()
		}(i)
	}
	wg.Wait()
	elapsed := time.Since(start)

	fmt.Printf("RESULT spawnjoin procs=%d n=%d ns_per_op=%.1f checksum=%d\n",
		runtime.GOMAXPROCS(0), *n, float64(elapsed)/float64(*n), sum.Load())
}
