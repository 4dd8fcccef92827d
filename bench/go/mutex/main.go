// mutex: the cost of a contended Mutex.
//
// Four goroutines each lock and unlock one shared sync.Mutex n times
// (1,000,000 by default), adding one to a shared counter while they hold
// it; at procs 2, so two of them run at once and fight for the lock. main
// starts them with wg.Add(1) before each go and waits in wg.Wait() (a
// sync.WaitGroup). Figure: ns per lock+unlock pair = wall / (4n), from the
// first spawn to main's return from Wait. The checksum is the final
// counter, 4n (4,000,000): any lost update would change it. Twin:
// bench/cpp/mutex.cpp.
package main

import (
	"flag"
	"fmt"
	"runtime"
	"sync"
	"time"
)

const workers = 4 // goroutines sharing the mutex

func main() {
	procs := flag.Int("procs", 2, "GOMAXPROCS")
	n := flag.Int("n", 1_000_000, "lock/unlock pairs per goroutine")
	flag.Parse()
	runtime.GOMAXPROCS(*procs)

	var mu sync.Mutex
	var wg sync.WaitGroup
	counter := 0 // guarded by mu

	start := time.Now()
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			for i := 0; i < *n; i++ {
				mu.Lock()
				counter++
				mu.Unlock()
			}
			wg.Done()
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)

	fmt.Printf("RESULT mutex procs=%d n=%d goroutines=%d ns_per_op=%.1f checksum=%d\n",
		runtime.GOMAXPROCS(0), *n, workers, float64(elapsed)/float64(workers**n), counter)
}
