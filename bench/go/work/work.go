// Package work holds what the Go workloads share. Its twin is
// bench/cpp/common.hpp: the two define the same CPU job, the same task
// generator and the same way for main to wait, so that Go and goro do the
// same work. Change one, change the other.
package work

import (
	"runtime"
	"sync/atomic"
	"time"
)

// Spin is the CPU job: iters rounds of xorshift64 from seed, returning the
// sum of the states. The sum is used by the caller (added to a checksum that
// is printed), so the compiler cannot drop the loop, and no closed form
// exists for it.
func Spin(seed uint64, iters int64) uint64 {
	x := seed | 1 // xorshift must not start from 0
	var sum uint64
	for i := int64(0); i < iters; i++ {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		sum += x
	}
	return sum
}

// LCG is a linear congruential generator with Knuth's MMIX constants. Next
// returns the top 31 bits of the state, the well-mixed ones.
type LCG struct{ State uint64 }

func (g *LCG) Next() uint64 {
	g.State = g.State*6364136223846793005 + 1442695040888963407
	return g.State >> 33
}

// Task draws the next task of the imbalance workload: a seed for Spin and a
// size in units. One task in a hundred weighs 100 units, the rest 1 to 8.
func Task(g *LCG) (seed uint64, units int64) {
	seed = g.Next()
	r := g.Next()
	if r%100 == 0 {
		return seed, 100
	}
	return seed, int64(1 + r%8)
}

// Latch counts goroutines that are done. The one that brings the count to n
// notes the time, so the figure ends when the work ends, not when main next
// gets to look.
type Latch struct {
	n     int64
	start time.Time
	count atomic.Int64
	end   atomic.Int64 // nanoseconds after start
	done  atomic.Bool  // set after end, so Wait never reads end too early
}

// Start arms the latch for n completions and starts the clock.
func (l *Latch) Start(n int64) {
	l.n = n
	l.count.Store(0)
	l.done.Store(false)
	l.start = time.Now()
}

func (l *Latch) Done() {
	if l.count.Add(1) == l.n {
		l.end.Store(int64(time.Since(l.start)))
		l.done.Store(true)
	}
}

// Wait is how main waits in every workload: it yields until the last Done,
// as goro's first chapters have no channels or WaitGroup. It returns how
// many times main yielded.
func (l *Latch) Wait() (yields int64) {
	for !l.done.Load() {
		runtime.Gosched()
		yields++
	}
	return yields
}

// Elapsed is the time from Start to the last Done.
// WaitSleeping is how main waits in the syscall and timers workloads: it
// sleeps 1 ms at a time, so that it does not hold a P the work needs (the
// twin of Latch::wait_sleeping in common.hpp).
func (l *Latch) WaitSleeping() {
	for !l.done.Load() {
		time.Sleep(time.Millisecond)
	}
}

func (l *Latch) Elapsed() time.Duration { return time.Duration(l.end.Load()) }

// Ms converts a duration to milliseconds for the RESULT lines.
func Ms(d time.Duration) float64 { return float64(d) / 1e6 }
