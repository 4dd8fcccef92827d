#!/usr/bin/env bash
# goro.sh: one entry point to set up, build, run and test goro.
#
#   ./goro.sh main            build everything, run every chapter's demo in
#                             order, build the docs (prints where the HTML is)
#   ./goro.sh test [PRESET..] build and run every test (default preset; also
#                             asan, tsan, clang, or "all" for default+asan+tsan)
#   ./goro.sh build [PRESET]  only build (default preset; or asan, tsan, clang)
#   ./goro.sh bench           run the benchmarks, goro against Go, as a table
#   ./goro.sh diff NN         chapter NN's lesson, as a diff against NN-1
#                             (new files shown in full)
#   ./goro.sh article [NN]    the article's programs in chapter NN (default:
#                             the latest): Go and goro side by side, GOMAXPROCS=1
#
# Missing Debian packages are installed when run as root; otherwise the
# script prints the apt-get command to run.
set -euo pipefail
cd "$(dirname "$0")"

PACKAGES=(cmake make g++ libboost-context-dev libgtest-dev doxygen graphviz golang-go)

need_packages() {
  local missing=() p
  for p in "${PACKAGES[@]}" "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" -eq 0 ]; then
    echo "goro: installing ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
  else
    echo "goro: missing packages. Run, then try again:" >&2
    echo "  sudo apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
}

build() {  # build PRESET [TARGET...]
  local preset=$1
  shift
  cmake --preset "$preset" >/dev/null
  cmake --build --preset "$preset" -j "$(nproc)" "$@"
}

has_target() {  # has_target PRESET TARGET: is TARGET defined in that build?
  local targets
  targets=$(cmake --build --preset "$1" --target help 2>/dev/null) || return 1
  grep -Eq "^(\.\.\. )?$2(:| |\$)" <<<"$targets"
}

cmd=${1:-help}
shift || true
case "$cmd" in
  main)
    need_packages
    build default
    # The docs target runs every demo first (it depends on run_demos, whose
    # output the chapter pages quote), so it is built alone: building
    # run_demos as well would run each demo twice. Without Doxygen there is
    # no docs target, and run_demos runs the demos.
    if has_target default docs; then
      cmake --build --preset default --target docs
      echo
      echo "Docs: $(pwd)/build/default/docs/html/index.html"
    else
      cmake --build --preset default --target run_demos
      echo
      echo "goro: this build has no docs target (it needs Doxygen 1.9.4+ and Graphviz): demos run, no docs built"
    fi
    ;;
  test)
    presets=("$@")
    [ ${#presets[@]} -eq 0 ] && presets=(default)
    [ "${presets[0]}" = all ] && presets=(default asan tsan)
    extra=()
    for p in "${presets[@]}"; do [ "$p" = clang ] && extra+=(clang); done
    need_packages "${extra[@]}"
    for p in "${presets[@]}"; do
      echo "== goro: tests, $p build =="
      build "$p"
      ctest --preset "$p"
    done
    ;;
  build)
    preset=${1:-default}
    extra=()
    [ "$preset" = clang ] && extra+=(clang)
    need_packages "${extra[@]}"
    build "$preset"
    ;;
  bench)
    need_packages
    build default
    bench/run.sh build/default
    ;;
  diff)
    n=${1:?usage: ./goro.sh diff NN}
    n=$((10#$n))
    [ "$n" -ge 2 ] || { echo "chapter 01 is the first chapter: nothing to diff" >&2; exit 1; }
    prev=$(ls -d chapters/"$(printf %02d $((n - 1)))"_* 2>/dev/null | head -1)
    this=$(ls -d chapters/"$(printf %02d "$n")"_* 2>/dev/null | head -1)
    [ -n "$prev" ] && [ -n "$this" ] || { echo "no chapter $n" >&2; exit 1; }
    diff -ruN "$prev" "$this" || true
    ;;
  article)
    if [ $# -gt 0 ]; then
      this=$(ls -d chapters/"$(printf %02d "$((10#$1))")"_* 2>/dev/null | head -1 || true)
      [ -n "$this" ] || { echo "no chapter $1" >&2; exit 1; }
    else
      this=$(ls -d chapters/[0-9][0-9]_* | tail -1)
    fi
    nn=$(basename "$this" | cut -c1-2)
    names=()
    for src in "$this"/article/*.cpp; do
      [ -e "$src" ] && names+=("$(basename "$src" .cpp)")
    done
    if [ ${#names[@]} -eq 0 ]; then
      echo "chapter $nn has none of the article's programs (the first is in chapter 06)" >&2
      exit 1
    fi
    need_packages
    targets=()
    for name in "${names[@]}"; do targets+=("ch${nn}_article_$name" "ch${nn}_article_${name}_go"); done
    build default --target "${targets[@]}"
    bin=build/default/$this
    status=0
    for name in "${names[@]}"; do
      echo
      cmake/article_compare.sh --side-by-side "$bin/article-go/$name" \
        "$bin/ch${nn}_article_$name" || status=1
    done
    exit "$status"
    ;;
  *)
    sed -n "2,16p" "$0" | sed 's/^# \{0,1\}//'
    [ "$cmd" = help ] || exit 1
    ;;
esac
