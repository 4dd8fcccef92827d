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
// runtime has started and just before the first spawn. goro runs with its
// default stacks (256 KiB of address space each, of which only the touched
// pages are resident). Twin: bench/go/memory/main.go.
#include <unistd.h>

#include <cstdio>

#include "common.hpp"

namespace {
// The resident set size in bytes, from /proc/self/statm.
long rss() {
  long size = 0, resident = -1;
  if (std::FILE* f = std::fopen("/proc/self/statm", "r")) {
    if (std::fscanf(f, "%ld %ld", &size, &resident) != 2) resident = -1;
    std::fclose(f);
  }
  if (resident < 0) {
    std::fprintf(stderr, "memory: cannot read /proc/self/statm\n");
    std::exit(1);
  }
  return resident * sysconf(_SC_PAGESIZE);
}

// The size of the process's page tables in bytes, from VmPTE in
// /proc/self/status.
long page_tables() {
  long kb = -1;
  if (std::FILE* f = std::fopen("/proc/self/status", "r")) {
    char line[256];
    while (std::fgets(line, sizeof line, f) != nullptr) {
      if (std::sscanf(line, "VmPTE: %ld kB", &kb) == 1) break;
    }
    std::fclose(f);
  }
  if (kb < 0) {
    std::fprintf(stderr, "memory: no VmPTE in /proc/self/status\n");
    std::exit(1);
  }
  return kb * 1024;
}
}  // namespace

int main(int argc, char** argv) {
  const int procs = static_cast<int>(bench::arg(argc, argv, "procs", 2));
  const long n = bench::arg(argc, argv, "n", 100'000);

  return goro::run(
      [&] {
        auto release = goro::make_chan<int>();
        bench::Latch parked, returned;
        const long rss0 = rss(), pt0 = page_tables();
        parked.start(n);
        returned.start(n);
        for (long i = 0; i < n; ++i) {
          goro::go([&release, &parked, &returned] {
            parked.done();
            if (!release.recv()) returned.done();
          });
        }
        parked.wait_sleeping();
        goro::sleep_for(std::chrono::milliseconds(20));
        const long rss1 = rss(), pt1 = page_tables();
        release.close();
        returned.wait_sleeping();

        const double dn = static_cast<double>(n);
        std::printf(
            "RESULT memory procs=%d n=%ld rss_mib=%.1f bytes_per_op=%.0f "
            "pt_bytes_per_op=%.0f\n",
            goro::gomaxprocs(), n, static_cast<double>(rss1 - rss0) / (1 << 20),
            static_cast<double>(rss1 - rss0) / dn, static_cast<double>(pt1 - pt0) / dn);
      },
      {.procs = procs});
}
