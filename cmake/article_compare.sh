#!/usr/bin/env bash
# article_compare.sh: runs one of the article's Go programs and its C++ twin
# against a goro chapter, both with GOMAXPROCS=1, and checks that they print
# the same lines and both exit 0. The test chNN.article.<name> runs it (see
# goro_article in goro.cmake), and so does `./goro.sh article`.
#
#   cmake/article_compare.sh [--side-by-side] GO_PROGRAM CPP_PROGRAM
#
# "The same lines" means the same multiset: goroutines may print in another
# order in Go and in goro, so both outputs are sorted before they are
# compared. CPP_PROGRAM is named chNN_article_<name>, which gives the
# header's chapter. On a mismatch it prints both outputs, a diff of the
# sorted lines and each program's stderr, and exits 1. --side-by-side
# always prints the two outputs next to each other, in the order each
# printed them, then the verdict.
#
#   ARTICLE_TIMEOUT  seconds either program may run (default 60)
set -uo pipefail
export LC_ALL=C GOMAXPROCS=1

side=0
if [ "${1:-}" = --side-by-side ]; then
  side=1
  shift
fi
if [ $# -ne 2 ]; then
  echo "usage: $0 [--side-by-side] GO_PROGRAM CPP_PROGRAM" >&2
  exit 2
fi
go_prog=$1
cpp_prog=$2
limit=${ARTICLE_TIMEOUT:-60}
base=$(basename "$cpp_prog")  # chNN_article_<name>
chapter=${base%%_*}
name=${base#*_article_}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# run NAME PROGRAM: stdout, stderr and exit status into $tmp/NAME.{out,err,rc}.
run() {
  local rc=0
  timeout "$limit" "$2" >"$tmp/$1.out" 2>"$tmp/$1.err" || rc=$?
  [ "$rc" -eq 124 ] && echo "(killed after ${limit}s)" >>"$tmp/$1.err"
  echo "$rc" >"$tmp/$1.rc"
}
run go "$go_prog"
run cpp "$cpp_prog"
go_rc=$(cat "$tmp/go.rc")
cpp_rc=$(cat "$tmp/cpp.rc")
sort "$tmp/go.out" >"$tmp/go.sorted"
sort "$tmp/cpp.out" >"$tmp/cpp.sorted"

go_title="Go: $(basename "$go_prog").go"
cpp_title="C++ (goro $chapter): $name.cpp"

# side_by_side LEFT RIGHT LEFT_TITLE RIGHT_TITLE: the two files as columns.
# Padding counts terminal columns, not bytes: a UTF-8 continuation byte
# takes none, and a three-byte character takes two (for these programs,
# the full-width colon of "product data："; good enough for CJK text).
side_by_side() {
  awk -v lt="$3" -v rt="$4" '
    function width(s,   i, n, c) {
      n = 0
      for (i = 1; i <= length(s); i++) {
        c = substr(s, i, 1)
        if (c >= "\200" && c < "\300") continue
        n += (c >= "\340" && c < "\360") ? 2 : 1
      }
      return n
    }
    function pad(s, w) {
      while (width(s) < w) s = s " "
      return s
    }
    FNR == NR { l[++nl] = $0; next }
    { r[++nr] = $0 }
    END {
      w = width(lt)
      for (i = 1; i <= nl; i++) if (width(l[i]) > w) w = width(l[i])
      rule = ""
      for (i = 0; i < w; i++) rule = rule "-"
      print pad(lt, w) " | " rt
      print rule " | " substr(rule, 1, width(rt) < w ? width(rt) : w)
      n = nl > nr ? nl : nr
      for (i = 1; i <= n; i++) print pad(i <= nl ? l[i] : "", w) " | " (i <= nr ? r[i] : "")
    }' "$1" "$2"
}

problems=""  # what went wrong, "; "-separated; empty when all is well
problem() { problems="$problems${problems:+; }$1"; }
cmp -s "$tmp/go.sorted" "$tmp/cpp.sorted" || problem "the lines differ"
[ "$go_rc" -eq 0 ] || problem "Go exited $go_rc"
[ "$cpp_rc" -eq 0 ] || problem "C++ exited $cpp_rc"
status=0
[ -z "$problems" ] || status=1

if [ "$side" -eq 1 ] || [ "$status" -ne 0 ]; then
  printf 'exit status %s\n' "$go_rc" >>"$tmp/go.out"
  printf 'exit status %s\n' "$cpp_rc" >>"$tmp/cpp.out"
  side_by_side "$tmp/go.out" "$tmp/cpp.out" "$go_title" "$cpp_title"
fi
if [ "$status" -eq 0 ]; then
  order="in another order"
  cmp -s "$tmp/go.out" "$tmp/cpp.out" && order="even in the same order"
  echo "$chapter $name: the same lines ($order), both exit 0 (GOMAXPROCS=1)"
else
  echo
  echo "$chapter $name: MISMATCH (GOMAXPROCS=1): $problems"
  echo "diff of the sorted lines (< Go, > C++):"
  diff "$tmp/go.sorted" "$tmp/cpp.sorted"
  for who in go cpp; do
    if [ -s "$tmp/$who.err" ]; then
      echo "stderr of the $([ $who = go ] && echo Go || echo C++) program:"
      sed 's/^/  /' "$tmp/$who.err"
    fi
  done
fi
exit "$status"
