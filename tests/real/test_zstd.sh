#!/bin/sh
# Real programs: zstd -T2 (a worker pool of 2 threads) compressing ~4.5 MB
# under `msrec run`: exit 0, a byte-identical compressed stream on stdout, a
# complete trace naming the worker threads, and allocation counts equal
# valgrind memcheck's. Bytes: glibc's per-thread DTV blocks are larger under
# the recorder (libmemscope's TLS), so the byte totals may differ only in
# blocks still live at exit (vg_compare ... threads). The input is not
# scaled by REAL_SCALE: ~4.5 MB is one zstd job, so the pool's buffer
# allocations do not depend on how the two workers are scheduled (at 5x the
# size several jobs race for pooled buffers and the number of allocations
# differs from run to run, natively as under memcheck: 110 vs 113 seen).
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/common.sh"
T=real/zstd
need $T zstd valgrind

cd "$TMP" || exit 1
seq 1 700000 > data.txt
n=$T/T2
run_pair $n "$TMP/z" -- zstd -T2 -q -c data.txt
check $n/plain-run-ok 0 "$PRC"
check_pair $n
f=$TMP/z/x.memscope
check_complete $n/complete "$f"
if check_json $n "$f"; then
    check_min $n "$f.json" threads 2           # main + workers
    vg_run $n -- zstd -T2 -q -c data.txt
    vg_compare $n "$f.json" threads
fi
