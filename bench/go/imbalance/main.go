// imbalance: can the other Ps take a share of work that one goroutine made?
//
// main alone starts n CPU-bound tasks (2,000 by default) of skewed sizes
// (work.Task: most weigh 1-8 units, one in a hundred 100 units), then waits.
// Run at procs 1 and 2; figure: wall ms from the first spawn to the last task
// done. procs1/procs2 is the speedup (the runner computes it; 2 is ideal).
// The checksum (sum of every task's result) must equal the C++ side's.
// Twin: bench/cpp/imbalance.cpp.
package main

import (
	"flag"
	"fmt"
	"runtime"
	"sync/atomic"

	"goro/bench/work"
)

const unit = 40_000 // Spin iterations per unit of task size

func main() {
	procs := flag.Int("procs", 1, "GOMAXPROCS")
	n := flag.Int64("n", 2000, "tasks")
	flag.Parse()
	runtime.GOMAXPROCS(*procs)

	var checksum atomic.Uint64
	var latch work.Latch
	rng := work.LCG{State: 1}
	latch.Start(*n)
	for i := int64(0); i < *n; i++ {
		seed, units := work.Task(&rng)
		go func() {
			checksum.Add(work.Spin(seed, units*unit))
			latch.Done()
		}()
	}
	latch.Wait()

	fmt.Printf("RESULT imbalance procs=%d n=%d wall_ms=%.1f checksum=%d\n",
		runtime.GOMAXPROCS(0), *n, work.Ms(latch.Elapsed()), checksum.Load())
}
