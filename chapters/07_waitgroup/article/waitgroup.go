// waitgroup.go: the article's WaitGroup program (the article is a Chinese
// blog article on goroutines), as it has it: main adds one to a WaitGroup
// per goroutine, each goroutine prints a sum and calls Done, and Wait
// blocks main until all ten are done. waitgroup.cpp is its twin against
// goro.
package main

import (
	"fmt"
	"sync"
)

func cal(a int, b int, n *sync.WaitGroup) {
	c := a + b
	fmt.Printf("%d + %d = %d\n", a, b, c)
	defer n.Done() // the goroutine is done: the WaitGroup's count goes down by 1

}

func main() {
	var go_sync sync.WaitGroup // declare a WaitGroup
	for i := 0; i < 10; i++ {
		go_sync.Add(1) // the WaitGroup's count goes up by 1
		go cal(i, i+1, &go_sync)
	}
	go_sync.Wait() // wait until every goroutine is done
}
