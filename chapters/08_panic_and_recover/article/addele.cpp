// addele.cpp: the article's first program (addele.go beside it) against
// goro, from chapter 08 on: ten goroutines each set a[i] = i in one slice
// of length 4 and print it; the six with i >= 4 panic with Go's "runtime
// error: index out of range [i] with length 4", and each recovers in its
// deferred function and prints the error. It prints the lines the Go
// program prints, in the order the goroutines run; `ctest -R article`
// checks both print the same lines. As in the article, the goroutines share
// the array with no lock: a data race once there is more than one P, and
// lines that vary from run to run; the tests run it with GOMAXPROCS=1.
#include <goro/goro.hpp>

#include <chrono>
#include <cstddef>
#include <cstdio>
#include <span>
#include <string>
#include <vector>

// println_slice prints a as Go's fmt.Println prints a slice, "[0 1 0 0]",
// in one write, so that the lines of two goroutines never mix.
void println_slice(std::span<const int> a) {
  std::string line = "[";
  for (std::size_t k = 0; k < a.size(); k++) {
    if (k > 0) line += ' ';
    line += std::to_string(a[k]);
  }
  line += "]\n";
  std::fputs(line.c_str(), stdout);
}

// A std::span is Go's slice here: a copy of it, like a copy of a slice,
// shares the array it views.
void addele(std::span<int> a, int i) {
  goro::defer catch_error([] {  // the article's anonymous function that catches the error
    if (goro::recovered err = goro::recover()) std::printf("%s\n", err.what().c_str());
  });
  goro::at(a, i) = i;  // a[i] = i, with Go's bounds check: panics if i >= 4
  println_slice(a);
}

int main() {
  return goro::run([] {
    std::vector<int> arry(4);  // make([]int, 4)
    for (int i = 0; i < 10; i++) goro::go(addele, std::span<int>(arry), i);
    // The article sleeps 2 s to let the goroutines finish; 500 ms, as addele.go.
    goro::sleep_for(std::chrono::milliseconds(500));
  });
}
