// producer_consumer.go: the article's producer/consumer program (the
// article is a Chinese blog article on goroutines), as it has it: ten
// producers each send one value into a channel buffered for 100, ten
// consumers each receive one, and one WaitGroup counts all twenty.
// producer_consumer.cpp is its twin against goro.
//
// The article calls wg.Add(1) after each go statement: a goroutine that
// ran to its Done before that Add would take the counter below zero, and
// Go would panic. With GOMAXPROCS=1, as the tests run it, a new goroutine
// waits for main to give up the only P, which main does in wg.Wait (Go
// preempts a goroutine only once it has run for 10 ms). Go's documentation
// asks for the Add before the go statement.
package main

import (
	"fmt"
	"sync"
)

func Productor(mychan chan int, data int, wait *sync.WaitGroup) {
	mychan <- data
	fmt.Println("product data：", data)
	defer wait.Done()
}
func Consumer(mychan chan int, wait *sync.WaitGroup) {
	a := <-mychan
	fmt.Println("consumer data：", a)
	defer wait.Done()
}
func main() {

	datachan := make(chan int, 100) // the channel the data goes through
	var wg sync.WaitGroup

	for i := 0; i < 10; i++ {
		go Productor(datachan, i, &wg) // produce data
		wg.Add(1)
	}
	for j := 0; j < 10; j++ {
		go Consumer(datachan, &wg) // consume data
		wg.Add(1)
	}
	wg.Wait()
}
