// pingpong: the cost of a hand-off between two goroutines over unbuffered
// channels.
//
// main sends an int on ping; an echo goroutine receives it and sends it
// back, plus one, on pong; main receives it: one round trip, two unbuffered
// channel operations on each side, each one a hand-off to a waiting (or
// soon waiting) partner. n round trips (1,000,000 by default), at procs 1
// and 2. Figure: ns per round trip = wall / n, from main's first send to its
// last receive. The checksum is the sum of what came back on pong,
// n(n+1)/2. Twin: bench/cpp/pingpong.cpp.
package main

import (
	"flag"
	"fmt"
	"runtime"
	"time"
)

func echo(ping <-chan int, pong chan<- int) {
	for v := range ping {
		pong <- v + 1
	}
}

func main() {
	procs := flag.Int("procs", 1, "GOMAXPROCS")
	n := flag.Int("n", 1_000_000, "round trips")
	flag.Parse()
	runtime.GOMAXPROCS(*procs)

	ping, pong := make(chan int), make(chan int)
	go echo(ping, pong)
	sum := 0
	start := time.Now()
	for i := 0; i < *n; i++ {
		ping <- i
		sum += <-pong
	}
	elapsed := time.Since(start)
	close(ping)

	fmt.Printf("RESULT pingpong procs=%d n=%d ns_per_op=%.1f checksum=%d\n",
		runtime.GOMAXPROCS(0), *n, float64(elapsed)/float64(*n), sum)
}
