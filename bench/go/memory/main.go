// memory: what a goroutine parked on a channel costs in memory.
//
// At procs 2, main starts n goroutines (100,000 by default) that each count
// themselves and then block receiving from one shared channel. Once all
// have counted, main sleeps 20 ms (so that the last ones are parked), reads
// the process's resident set size and its page tables again, and prints the
// growth divided by n. Then it closes the channel, which wakes them all, and
// waits until every one has returned.
//
// Both sides read the same numbers from the kernel: the resident pages in
// /proc/self/statm (what the goroutines' stacks, Gs and sudogs really
// occupy, whatever allocator holds them) and VmPTE in /proc/self/status
// (page tables, which statm does not count). The baseline is read after the
// runtime has started and just before the first spawn.
// Twin: bench/cpp/memory.cpp.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"time"

	"goro/bench/work"
)

// rss returns the resident set size in bytes, from /proc/self/statm.
func rss() int64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		panic(err)
	}
	f := bytes.Fields(b)
	pages, err := strconv.ParseInt(string(f[1]), 10, 64)
	if err != nil {
		panic(err)
	}
	return pages * int64(os.Getpagesize())
}

// pageTables returns the size of the process's page tables in bytes, from
// VmPTE in /proc/self/status.
func pageTables() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		panic(err)
	}
	for _, line := range bytes.Split(b, []byte("\n")) {
		if bytes.HasPrefix(line, []byte("VmPTE:")) {
			f := bytes.Fields(line[len("VmPTE:"):]) // "123", "kB"
			kb, err := strconv.ParseInt(string(f[0]), 10, 64)
			if err != nil {
				panic(err)
			}
			return kb * 1024
		}
	}
	panic("no VmPTE in /proc/self/status")
}

func main() {
	procs := flag.Int("procs", 2, "GOMAXPROCS")
	n := flag.Int64("n", 100_000, "parked goroutines")
	flag.Parse()
	runtime.GOMAXPROCS(*procs)

	release := make(chan int)
	var parked, returned work.Latch
	rss0, pt0 := rss(), pageTables()
	parked.Start(*n)
	returned.Start(*n)
	for i := int64(0); i < *n; i++ {
		go func() {
			parked.Done()
			if _, ok := <-release; !ok {
				returned.Done()
			}
		}()
	}
	parked.WaitSleeping()
	time.Sleep(20 * time.Millisecond)
	rss1, pt1 := rss(), pageTables()
	close(release)
	returned.WaitSleeping()

	fmt.Printf("RESULT memory procs=%d n=%d rss_mib=%.1f bytes_per_op=%.0f pt_bytes_per_op=%.0f\n",
		runtime.GOMAXPROCS(0), *n, float64(rss1-rss0)/(1<<20),
		float64(rss1-rss0)/float64(*n), float64(pt1-pt0)/float64(*n))
}
