// addele.go: the article's first program (the article is a Chinese blog
// article on goroutines), as it has it: ten goroutines each set a[i] = i in
// one slice of length 4 and print it; the six with i >= 4 panic with an
// index out of range, and each recovers in its deferred function and
// prints the error. addele.cpp is its twin against goro.
package main

import (
	"fmt"
	"time"
)

func addele(a []int, i int) {
	defer func() { // an anonymous function catches the error
		err := recover()
		if err != nil {
			fmt.Println(err)
		}
	}()
	a[i] = i
	fmt.Println(a)
}

func main() {
	Arry := make([]int, 4)
	for i := 0; i < 10; i++ {
		go addele(Arry, i)
	}
	// The article sleeps time.Second * 2 to let the goroutines finish;
	// 500 ms is still far longer than they take (addele.cpp sleeps as long).
	time.Sleep(time.Millisecond * 500)
}
