#!/bin/sh
# Real programs: Debian's ripgrep (Rust) searching a tree of 600 files
# with 2 worker threads (-j2) under `msrec run`: exit status and matches
# (sorted: -j2 prints files in the order the workers finish them) equal to
# a plain run, and a complete trace with the workers' allocations. Rust's
# std asks pthread_getattr_np for a thread's stack bounds before anything
# else, and glibc allocates inside it while holding the thread's lock:
# every Rust program hung under the recorder until it stopped asking
# pthread_getattr_np from inside (tests/recorder/test_getattr.sh). A hang
# shows here as exit status 124 (timeout 120 s).
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/common.sh"
T=real/ripgrep
need $T rg timeout

cd "$TMP" || exit 1
mkdir -p tree
for d in $(seq 1 30); do
    mkdir -p tree/d$d
    for f in $(seq 1 20); do
        seq $((d * 100)) $((d * 100 + 200 + f * 10)) | sed "s/^/line $f of $d: /" > tree/d$d/f$f.txt
    done
done
n=$T/j2
REAL_TIMEOUT=120 run_pair $n "$TMP/rg" -- rg -j2 -c 'line 1[0-9] of' tree
check $n/plain-run-ok 0 "$PRC"
check $n/exit-status "$PRC" "$RC"
t=$(tag $n)
if [ -s "$TMP/$t.plain.out" ] && [ "$(sort "$TMP/$t.plain.out")" = "$(sort "$TMP/$t.rec.out")" ]; then
    pass $n/matches-unchanged
else
    fail $n/matches-unchanged "$(sort "$TMP/$t.plain.out" | head -3 | tr '\n' ' ') vs $(sort "$TMP/$t.rec.out" | head -3 | tr '\n' ' ')"
fi
f=$TMP/rg/x.memscope
check_complete $n/complete "$f"
if check_json $n "$f"; then
    check_min $n "$f.json" threads 3           # main + 2 workers
    check_min $n "$f.json" total_allocations 600
fi
