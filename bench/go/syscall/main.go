// syscall: does a goroutine blocked in a system call hold up the others?
//
// At procs=2, two goroutines run a fixed CPU job (work.Spin, -cpu million
// iterations each). Phase 1 runs the job alone; phase 2 runs it again while
// 16 goroutines each make n (50 by default) blocking 1 ms nanosleep calls.
// syscall.Nanosleep really blocks the thread inside a system call, so Go's
// entersyscall / sysmon hand-off path is used (time.Sleep would only park the
// goroutine). Figures: the CPU job's wall ms alone and with the blockers,
// and their ratio, the slowdown (1 is ideal).
// Twin: bench/cpp/syscall.cpp, which calls goro::syscall(sleep 1 ms).
package main

import (
	"flag"
	"fmt"
	"os"
	"runtime"
	"sync/atomic"
	"syscall"
	"time"

	"goro/bench/work"
)

const blockers = 16

var checksum atomic.Uint64 // of the CPU job; the same in both phases
var sleeps atomic.Int64    // blocking calls that returned

// nanosleep blocks the thread in the nanosleep system call for d. A signal
// (Go sends SIGURG to preempt) can cut the call short with EINTR; then it
// sleeps for the rest, as C++'s std::this_thread::sleep_for does.
func nanosleep(d time.Duration) error {
	ts := syscall.NsecToTimespec(int64(d))
	for {
		var rest syscall.Timespec
		err := syscall.Nanosleep(&ts, &rest)
		if err != syscall.EINTR {
			return err
		}
		ts = rest
	}
}

// phase runs the CPU job, with the blockers if asked, and returns the CPU
// job's wall time (from the start of the phase to the CPU job's end).
func phase(withBlockers bool, n, cpuIters int64) time.Duration {
	var cpu, blocked work.Latch
	checksum.Store(0)
	cpu.Start(2)
	if withBlockers {
		blocked.Start(blockers)
		for b := 0; b < blockers; b++ {
			go func() {
				for i := int64(0); i < n; i++ {
					if nanosleep(time.Millisecond) == nil {
						sleeps.Add(1)
					}
				}
				blocked.Done()
			}()
		}
	}
	for w := uint64(1); w <= 2; w++ {
		go func(seed uint64) {
			checksum.Add(work.Spin(seed, cpuIters))
			cpu.Done()
		}(w)
	}
	cpu.WaitSleeping()
	if withBlockers {
		blocked.WaitSleeping()
	}
	return cpu.Elapsed()
}

func main() {
	procs := flag.Int("procs", 2, "GOMAXPROCS")
	n := flag.Int64("n", 50, "blocking calls per blocker")
	cpuM := flag.Int64("cpu", 60, "CPU job size per goroutine, million iterations")
	flag.Parse()
	runtime.GOMAXPROCS(*procs)

	alone := phase(false, *n, *cpuM*1_000_000)
	sumAlone := checksum.Load()
	with := phase(true, *n, *cpuM*1_000_000)
	if checksum.Load() != sumAlone || sleeps.Load() != blockers**n {
		fmt.Fprintln(os.Stderr, "syscall: wrong checksum or sleep count")
		os.Exit(1)
	}

	fmt.Printf("RESULT syscall procs=%d n=%d alone_ms=%.1f blocked_ms=%.1f slowdown=%.2f checksum=%d\n",
		runtime.GOMAXPROCS(0), *n, work.Ms(alone), work.Ms(with),
		float64(with)/float64(alone), sumAlone)
}
