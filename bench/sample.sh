#!/bin/sh
# Sampling benchmark (run by `make bench` through bench/run.sh): the cost of
# `msrec run --sample` (Poisson byte sampling at 512 KiB) side by side with
# the uninstrumented program, a bare passthrough interposer (the floor of
# any LD_PRELOAD profiler) and the allocators' own profilers (jemalloc
# prof, tcmalloc HEAPPROFILE) on 10 M malloc/free pairs, sqlite3 and
# python3; then the accuracy of the estimates on a workload with known
# per-site totals (bench/sample/sites.c, 16 B - 64 KiB, 1 GiB) against
# jemalloc's profiler and tcmalloc's exact heap profile. Ends with one
# MET/MISSED line per target of the sampling issue. The driver is
# bench/sample/bench.py (its docstring says what is measured and how).
#
# Environment: BENCH_REPEAT_SAMPLE (best of N interleaved runs, default 7;
# else BENCH_REPEAT), BENCH_SCALE (pairs = 10 M x scale), BENCH_SAMPLE_MIB
# (accuracy volume, default 1024), BENCH_SAMPLE_SEEDS (accuracy runs per
# profiler, default 3), BENCH_SAMPLE_MIB_BIG (second accuracy volume, one
# run each, default 16384; 0 skips it), BENCH_TC_TIMEOUT (seconds a
# tcmalloc HEAPPROFILE run may take, default 60), BENCH_RESULTS=FILE (also write the tables into FILE
# between "sample.sh" marker comments, keeping the rest).
cd "$(dirname "$0")/.." || exit 2
ROOT=$(pwd)
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
BIN=$BUILD/bench
for f in "$BUILD/lib/libmemscope.so" "$BUILD/bin/msrec" "$BUILD/bin/msconv"; do
    [ -e "$f" ] || { echo "sample.sh: $f missing (make)" >&2; exit 1; }
done
mkdir -p "$BIN"
CFLAGS="-std=c11 -D_GNU_SOURCE -O2 -g -fno-omit-frame-pointer -Wall -Wextra -Werror"
newer() { [ ! -e "$1" ] || [ "$2" -nt "$1" ]; }
if newer "$BIN/pairs" bench/heap/pairs.c || newer "$BIN/pairs" bench/heap/common.h; then
    ${CC:-cc} $CFLAGS -pthread -o "$BIN/pairs" bench/heap/pairs.c || exit 1
fi
if newer "$BIN/passthrough.so" bench/sample/passthrough.c; then
    ${CC:-cc} $CFLAGS -fPIC -shared -o "$BIN/passthrough.so" bench/sample/passthrough.c || exit 1
fi
# -no-pie: the profilers' raw addresses are the symbol table's (bench.py)
if newer "$BIN/sites" bench/sample/sites.c; then
    ${CC:-cc} $CFLAGS -no-pie -o "$BIN/sites" bench/sample/sites.c -lm || exit 1
fi
[ -e /usr/lib/x86_64-linux-gnu/libjemalloc.so.2 ] || echo "sample.sh: libjemalloc2 missing (make deps): no jemalloc rows"
[ -e /usr/lib/x86_64-linux-gnu/libtcmalloc.so.4 ] || echo "sample.sh: google-perftools missing (make deps): no tcmalloc rows"
exec python3 bench/sample/bench.py "$BIN" "$BUILD"
