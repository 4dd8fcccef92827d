// gosched: the cost of one yield, a switch from one goroutine to the next.
//
// At procs=1, two goroutines each call Gosched n times (1,000,000 by
// default). main waits by yielding too (see work.Latch.Wait), so it takes
// part in the rotation; its yields are counted and included:
//
//	ns per yield = wall time / (2n + main's yields).
//
// Twin: bench/cpp/gosched.cpp.
package main

import (
	"flag"
	"fmt"
	"runtime"

	"goro/bench/work"
)

func main() {
	procs := flag.Int("procs", 1, "GOMAXPROCS")
	n := flag.Int64("n", 1_000_000, "yields per goroutine")
	flag.Parse()
	runtime.GOMAXPROCS(*procs)

	var latch work.Latch
	latch.Start(2)
	for w := 0; w < 2; w++ {
		go func() {
			for i := int64(0); i < *n; i++ {
				runtime.Gosched()
			}
			latch.Done()
		}()
	}
	mainYields := latch.Wait()

	yields := 2**n + mainYields
	fmt.Printf("RESULT gosched procs=%d n=%d main_yields=%d ns_per_op=%.1f\n",
		runtime.GOMAXPROCS(0), *n, mainYields,
		float64(latch.Elapsed())/float64(yields))
}
