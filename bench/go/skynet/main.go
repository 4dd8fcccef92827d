// skynet: the classic skynet benchmark (github.com/atemerev/skynet).
//
// A tree of goroutines of fan-out 10 with n leaves (1,000,000 by default, a
// power of 10): each inner node starts its 10 children, each with a slice
// of the numbers below it, and receives one sum from each on its own
// unbuffered channel; each leaf sends its number. The root's sum is
// n(n-1)/2, 499999500000 for a million leaves. 1,111,111 goroutines and as
// many channel hand-offs; at procs 1 and 2. Figure: wall ms, from starting
// the root to main's receive of its sum. Twin: bench/cpp/skynet.cpp.
package main

import (
	"flag"
	"fmt"
	"os"
	"runtime"
	"time"
)

const fanout = 10

func skynet(c chan<- int, num, size int) {
	if size == 1 {
		c <- num
		return
	}
	rc := make(chan int)
	for i := 0; i < fanout; i++ {
		go skynet(rc, num+i*(size/fanout), size/fanout)
	}
	sum := 0
	for i := 0; i < fanout; i++ {
		sum += <-rc
	}
	c <- sum
}

func main() {
	procs := flag.Int("procs", 1, "GOMAXPROCS")
	n := flag.Int("n", 1_000_000, "leaves, a power of 10")
	flag.Parse()
	runtime.GOMAXPROCS(*procs)
	for m := *n; m != 1; m /= fanout {
		if m < 1 || m%fanout != 0 {
			fmt.Fprintln(os.Stderr, "skynet: --n must be a power of 10")
			os.Exit(1)
		}
	}

	c := make(chan int)
	start := time.Now()
	go skynet(c, 0, *n)
	sum := <-c
	elapsed := time.Since(start)

	fmt.Printf("RESULT skynet procs=%d n=%d wall_ms=%.1f checksum=%d\n",
		runtime.GOMAXPROCS(0), *n, float64(elapsed)/1e6, sum)
}
