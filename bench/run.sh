#!/usr/bin/env bash
# bench/run.sh [BUILD_DIR]: runs every benchmark workload for Go and for each
# goro chapter that was built, and prints a table of medians.
#
#   BUILD_DIR      CMake build folder (default: build/default at the repo
#                  root); the C++ binaries are BUILD_DIR/bench/bench_*_chNN
#                  (target goro_bench; GORO_BUILD_BENCH must be ON). The Go
#                  programs are built here into BUILD_DIR/bench/go-bin.
#   BENCH_REPS     runs of each program; the median is shown (default 5)
#   BENCH_QUICK=1  small sizes: a smoke test of the suite, not a measurement
#   BENCH_TIMEOUT  seconds one program may run before it counts as failed
#                  (default 120)
#
# Each repetition runs Go and then every chapter, workload by workload, so
# that a slow patch of the machine hits all columns alike. The table and the
# raw figures are also saved as BUILD_DIR/bench/report.txt and raw.txt.
# Exit status: 1 if a program failed or computed a different checksum.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../build/default}
mkdir -p "$build/bench"
build=$(cd "$build" && pwd)
out=$build/bench
reps=${BENCH_REPS:-5}
quick=${BENCH_QUICK:-0}
limit=${BENCH_TIMEOUT:-120}
export LC_ALL=C

# The programs' runs: name, procs, and any more flags for the program. The
# name is the workload (the program) or workload.variant when one program is
# run more than once at the same procs with other flags (buffered: 1 and 4
# producer/consumer pairs); the table rows below use the name.
runs=("spawn 1" "spawn 2" "gosched 1" "imbalance 1" "imbalance 2"
      "syscall 2" "timers 1" "timers 2"
      "pingpong 1" "pingpong 2" "buffered.1x1 2 --pairs 1"
      "buffered.4x4 2 --pairs 4" "skynet 1" "skynet 2" "select 1" "memory 2"
      "mutex 2" "spawnjoin 1" "spawnjoin 2")

# The table, one line a row: run name, procs ("-": from both), the RESULT
# key shown, its number format, the label. speedup is computed here.
rows="\
spawn        1 ns_per_op       %.1f spawn, procs=1 (ns/goroutine)
spawn        2 ns_per_op       %.1f spawn, procs=2 (ns/goroutine)
gosched      1 ns_per_op       %.1f gosched, procs=1 (ns/yield)
imbalance    1 wall_ms         %.1f imbalance, procs=1 (ms)
imbalance    2 wall_ms         %.1f imbalance, procs=2 (ms)
imbalance    - speedup         %.2f imbalance speedup (x)
syscall      2 alone_ms        %.1f syscall: CPU job alone (ms)
syscall      2 blocked_ms      %.1f syscall: CPU job + blockers (ms)
syscall      2 slowdown        %.2f syscall slowdown (x)
timers       1 wall_ms         %.1f timers, procs=1 (ms)
timers       2 wall_ms         %.1f timers, procs=2 (ms)
pingpong     1 ns_per_op       %.1f pingpong, procs=1 (ns/round trip)
pingpong     2 ns_per_op       %.1f pingpong, procs=2 (ns/round trip)
buffered.1x1 2 ns_per_op       %.1f buffered 1x1, procs=2 (ns/item)
buffered.4x4 2 ns_per_op       %.1f buffered 4x4, procs=2 (ns/item)
skynet       1 wall_ms         %.1f skynet, procs=1 (ms)
skynet       2 wall_ms         %.1f skynet, procs=2 (ms)
select       1 ns_per_op       %.1f select, procs=1 (ns/select)
memory       2 bytes_per_op    %.0f memory: RSS per parked G (bytes)
memory       2 pt_bytes_per_op %.0f memory: page tables per G (bytes)
mutex        2 ns_per_op       %.1f mutex, procs=2 (ns/lock+unlock)
spawnjoin    1 ns_per_op       %.1f spawnjoin, procs=1 (ns/goroutine)
spawnjoin    2 ns_per_op       %.1f spawnjoin, procs=2 (ns/goroutine)"

# Sizes: the programs' defaults (the real benchmark), or small ones. By
# workload (the program), so both buffered runs get the same.
declare -A sizes=()
if [ "$quick" = 1 ]; then
  sizes=([spawn]="--n 20000" [gosched]="--n 20000" [imbalance]="--n 200"
         [syscall]="--n 5 --cpu 10" [timers]="--n 5000"
         [pingpong]="--n 20000" [buffered]="--n 20000" [skynet]="--n 10000"
         [select]="--n 20000" [memory]="--n 5000"
         [mutex]="--n 20000" [spawnjoin]="--n 20000")
fi

# --- Build the Go programs (standard library only; no network needed). ---
impls=()
if command -v go >/dev/null 2>&1; then
  export GOCACHE=$out/go-cache GOPATH=$out/go-path GOPROXY=off \
         GOFLAGS=-buildvcs=false GO111MODULE=on
  echo "building the Go programs into $out/go-bin" >&2
  (cd "$here/go" && go build -o "$out/go-bin/" ./...)
  impls+=(go)
else
  echo "warning: no 'go' command; the Go column stays empty" >&2
fi

# --- The chapters that were built: one column each. ---
latest=""
for nn in 01 02 03 04 05 06 07 08; do
  if compgen -G "$out/bench_*_ch$nn" >/dev/null; then
    impls+=("ch$nn")
    latest=ch$nn
  fi
done
if [ -z "$latest" ]; then
  echo "warning: no goro bench binaries in $out (build the goro_bench" \
       "target, with GORO_BUILD_BENCH=ON)" >&2
fi

binary() {  # binary IMPL WORKLOAD
  if [ "$1" = go ]; then echo "$out/go-bin/$2"; else echo "$out/bench_$2_$1"; fi
}

# --- Run. Each program prints one "RESULT workload key=value ..." line;
# every key=value becomes a record "impl name procs key value". ---
raw=$out/raw.txt
: >"$raw"
declare -A failed=()
outlog=$(mktemp)
errlog=$(mktemp)
rowsfile=$(mktemp)
trap 'rm -f "$outlog" "$errlog" "$rowsfile"' EXIT

for rep in $(seq 1 "$reps"); do
  for run in "${runs[@]}"; do
    read -r w p flags <<<"$run"
    prog=${w%%.*}
    echo "rep $rep/$reps: $w procs=$p" >&2
    for impl in "${impls[@]}"; do
      bin=$(binary "$impl" "$prog")
      [ -x "$bin" ] || continue
      [ -z "${failed[$impl $w $p]:-}" ] || continue
      rc=0
      # shellcheck disable=SC2086  # sizes and flags are meant to split into words
      timeout "$limit" "$bin" --procs "$p" ${sizes[$prog]:-} $flags \
        >"$outlog" 2>"$errlog" || rc=$?
      result=$(grep -m 1 '^RESULT ' "$outlog" || true)
      if [ "$rc" -ne 0 ] || [ -z "$result" ]; then
        status=FAIL
        [ "$rc" -eq 124 ] && status=TIMEOUT
        echo "  $impl $w procs=$p: $status (exit $rc)" >&2
        tail -n 5 "$errlog" | sed 's/^/    /' >&2
        echo "$impl $w $p status $status" >>"$raw"
        failed[$impl $w $p]=1
        continue
      fi
      echo "$result" | awk -v impl="$impl" -v w="$w" -v p="$p" '{
        for (i = 3; i <= NF; i++) {
          eq = index($i, "=")
          print impl, w, p, substr($i, 1, eq - 1), substr($i, eq + 1)
        }
      }' >>"$raw"
    done
  done
done

# --- Report. ---
cpu=$(lscpu 2>/dev/null | awk -F: '/^Model name/ { sub(/^ +/, "", $2); print $2; exit }')
report=$out/report.txt
printf '%s\n' "$rows" >"$rowsfile"
{
  echo "goro benchmarks, $(date '+%Y-%m-%d %H:%M:%S %z')"
  echo "CPU:      ${cpu:-unknown}, nproc $(nproc)"
  echo "kernel:   $(uname -sr)"
  echo "Go:       $(go version 2>/dev/null || echo 'not found')"
  echo "C++:      $(cat "$out/compiler.txt" 2>/dev/null || echo 'unknown (no compiler.txt)')"
  echo "runs:     median of $reps$([ "$quick" = 1 ] && echo ', QUICK sizes: a smoke test, not a measurement')"
  echo

  # Medians: sort each record group's values, then take the middle one.
  # "checksum", "procs" and "status" are not averaged: checksum keeps its
  # string if all runs agree (else "mismatch"), procs keeps the smallest.
  sort -k1,1 -k2,2 -k3,3n -k4,4 -k5,5g "$raw" | awk '
    function flush() {
      if (k == 0) return
      if (key == "checksum") {
        v = vals[1]
        for (i = 2; i <= k; i++) if ((vals[i] "") != (v "")) v = "mismatch"
      } else if (key == "procs" || key == "status") {
        v = vals[1]
      } else if (k % 2) {
        v = vals[(k + 1) / 2]
      } else {
        v = (vals[k / 2] + vals[k / 2 + 1]) / 2
      }
      print group, v
      k = 0
    }
    { g = $1 " " $2 " " $3 " " $4
      if (g != group) { flush(); group = g; key = $4 }
      vals[++k] = $5 }
    END { flush() }' |
  awk -v impls="${impls[*]}" -v latest="$latest" '
    # First input: the table rows; then the medians, on stdin.
    FNR == NR {
      label = $5; for (i = 6; i <= NF; i++) label = label " " $i
      nrow++; rw[nrow] = $1; rp[nrow] = $2; rk[nrow] = $3; rf[nrow] = $4
      rl[nrow] = label
      next
    }
    { med[$1, $2, $3, $4] = $5 }
    # The value of one cell, or "" when there is none.
    function value(impl, w, p, key,   a, b) {
      if (key == "speedup") {
        a = value(impl, w, 1, "wall_ms"); b = value(impl, w, 2, "wall_ms")
        return (a != "" && b != "" && b > 0) ? a / b : ""
      }
      return ((impl, w, p, key) in med) ? med[impl, w, p, key] : ""
    }
    # Footnote marks: fewer Ps than asked; checksum not the same as Go.
    function marks(impl, w, p,   m, q, c) {
      m = ""
      for (q = 1; q <= 2; q++) {
        if (p != "-" && q != p) continue
        if (((impl, w, q, "procs") in med) && med[impl, w, q, "procs"] + 0 < q && !index(m, "*")) m = m "*"
        c = (impl, w, q, "checksum") in med ? med[impl, w, q, "checksum"] : ""
        if (c != "" && (c == "mismatch" || \
            (("go", w, q, "checksum") in med && (c "") != (med["go", w, q, "checksum"] ""))) && \
            !index(m, "!"))
          m = m "!"
      }
      if (index(m, "*")) note_procs = 1
      if (index(m, "!")) { note_sum = 1; bad = 1 }
      return m
    }
    function cell(impl, r,   v, s, q) {
      q = (rp[r] == "-") ? 1 : rp[r]
      s = med[impl, rw[r], q, "status"]
      if (s == "" && rp[r] == "-") s = med[impl, rw[r], 2, "status"]
      if (s != "") { bad = 1; return s }
      v = value(impl, rw[r], rp[r], rk[r])
      if (v == "") return "-"
      return sprintf(rf[r], v) marks(impl, rw[r], rp[r])
    }
    END {
      n = split(impls, col, " ")
      printf "%-36s", "workload"
      for (c = 1; c <= n; c++) printf " %10s", (col[c] == "go" ? "Go" : col[c])
      if (latest != "") printf " %9s", latest "/Go"
      printf "\n"
      for (r = 1; r <= nrow; r++) {
        printf "%-36s", rl[r]
        for (c = 1; c <= n; c++) printf " %10s", cell(col[c], r)
        a = value(latest, rw[r], rp[r], rk[r]); b = value("go", rw[r], rp[r], rk[r])
        if (latest != "")
          printf " %9s", (a != "" && b != "" && b > 0) ? sprintf("%.2f", a / b) : "-"
        printf "\n"
      }
      print ""
      print "Time rows: lower is better; ratio > 1 means goro is slower than Go."
      print "speedup: procs=1 time / procs=2 time (2 is ideal); slowdown: CPU job"
      print "time with blocking syscalls / without (1 is ideal). memory: bytes"
      print "per parked goroutine; lower is better there too."
      if (note_procs) print "*  ran with fewer Ps than asked (gomaxprocs() said so)."
      if (note_sum) print "!  checksum differs from Go or between runs: not the same work (a bug)."
      exit bad
    }' "$rowsfile" -
} >"$report" && status=0 || status=$?
cat "$report"
exit "$status"
