// spawn: the cost of one goroutine's whole life (create, schedule, run, exit).
//
// main starts n goroutines (1,000,000 by default) that only count themselves
// done, and waits until all are. Figure: ns per goroutine = time from the
// first spawn to the last one done, divided by n.
//
// main yields once every 1,000 spawns. Go would preempt main every 10 ms
// anyway; goro cannot preempt, so without these yields it would hold all
// 1,000,000 goroutines (and their stacks) alive at once. The same yields on
// both sides keep the work identical. Twin: bench/cpp/spawn.cpp.
package main

import (
	"flag"
	"fmt"
	"runtime"

	"goro/bench/work"
)

const batch = 1000 // main yields after this many spawns

var latch work.Latch

func finish() { latch.Done() }

func main() {
	procs := flag.Int("procs", 1, "GOMAXPROCS")
	n := flag.Int64("n", 1_000_000, "goroutines to start")
	flag.Parse()
	runtime.GOMAXPROCS(*procs)

	latch.Start(*n)
	for i := int64(0); i < *n; i++ {
		go finish()
		if i%batch == batch-1 {
			runtime.Gosched()
		}
	}
	latch.Wait()

	fmt.Printf("RESULT spawn procs=%d n=%d ns_per_op=%.1f\n",
		runtime.GOMAXPROCS(0), *n, float64(latch.Elapsed())/float64(*n))
}
