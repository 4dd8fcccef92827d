// exitchan.go: the article's exit-signal program (the article is a Chinese
// blog article on goroutines), as it has it: ten goroutines each print a
// sum, wait, and send an exit signal on a buffered channel; main takes ten
// signals, so it ends only when all ten are done. exitchan.cpp is its twin
// against goro.
package main

import (
	"fmt"
	"time"
)

func cal(a int, b int, Exitchan chan bool) {
	c := a + b
	fmt.Printf("%d + %d = %d\n", a, b, c)
	// The article sleeps time.Second*2, standing for work; 20 ms shows the
	// same (exitchan.cpp sleeps as long).
	time.Sleep(time.Millisecond * 20)
	Exitchan <- true
}

func main() {

	Exitchan := make(chan bool, 10) // declare the channel and allocate it
	for i := 0; i < 10; i++ {
		go cal(i, i+1, Exitchan)
	}
	for j := 0; j < 10; j++ {
		<-Exitchan // take one signal; blocks until there is one
	}
	close(Exitchan) // close the channel
}
