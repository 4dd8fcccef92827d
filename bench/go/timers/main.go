// timers: many sleeping goroutines at once.
//
// main starts n goroutines (100,000 by default) that each sleep 10 ms, then
// waits for all. Figure: wall ms from the first spawn to the last one done
// (10 ms is the floor). Every 64th goroutine checks that it did not wake
// early; the rest skip the clock reads so they cost nothing extra.
// Twin: bench/cpp/timers.cpp.
package main

import (
	"flag"
	"fmt"
	"os"
	"runtime"
	"sync/atomic"
	"time"

	"goro/bench/work"
)

const nap = 10 * time.Millisecond

func main() {
	procs := flag.Int("procs", 1, "GOMAXPROCS")
	n := flag.Int64("n", 100_000, "sleeping goroutines")
	flag.Parse()
	runtime.GOMAXPROCS(*procs)

	var early atomic.Int64
	var latch work.Latch
	latch.Start(*n)
	for i := int64(0); i < *n; i++ {
		go func(check bool) {
			var t0 time.Time
			if check {
				t0 = time.Now()
			}
			time.Sleep(nap)
			if check && time.Since(t0) < nap {
				early.Add(1)
			}
			latch.Done()
		}(i%64 == 0)
	}
	latch.WaitSleeping()
	if early.Load() != 0 {
		fmt.Fprintln(os.Stderr, "timers: a goroutine woke early")
		os.Exit(1)
	}

	fmt.Printf("RESULT timers procs=%d n=%d wall_ms=%.1f\n",
		runtime.GOMAXPROCS(0), *n, work.Ms(latch.Elapsed()))
}
