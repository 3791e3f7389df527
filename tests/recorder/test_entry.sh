#!/bin/sh
# Recorder: every heap entry point (tests/progs/entry.c) under LD_PRELOAD and
# msrec run. Totals, live bytes and peak must equal the program's truth and
# valgrind's "total heap usage" exactly (plus pvalloc, which valgrind 3.19
# does not intercept); each allocation kind is recorded under its own name;
# output and exit status are unchanged.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/common.sh"
T=entry
require "$LIBMS" "$MSREC" "$MSCONV" "$PROGS/entry"
P=$PROGS/entry

record plain entry.plain - -- "$P"
vg entry -- "$P"
check entry/valgrind-agrees-with-truth \
    "$(truth entry allocs) $(truth entry frees) $(truth entry bytes)" "$VG_ALLOCS $VG_FREES $VG_BYTES"
# memscope = valgrind + the pvalloc(5000) block valgrind misses
A=$((VG_ALLOCS + 1)); F=$((VG_FREES + 1)); B=$((VG_BYTES + 5000))

for mode in preload msrec; do
    n=entry/$mode
    record $mode entry.$mode "$TMP/entry.$mode.memscope" -- "$P"
    check $n/exit-status 0 "$RC"
    check_same_output $n entry.$mode entry.plain
    check_trace $n "$OUTFILE" || continue
    j=$OUTFILE.json
    check_totals $n "$j" $A $F $B "$VG_INUSE_BYTES" "$VG_INUSE_BLOCKS"
    check $n/peak_memory "$(truth entry peak)" "$(sumval "$j" peak_memory)"
    check $n/leaked_memory 0 "$(sumval "$j" leaked_memory)"
    check_count $n/kind-calloc "$j" 1 kind=calloc size=300
    check_count $n/kind-realloc-grow "$j" 1 kind=realloc size=4096
    check_count $n/kind-realloc-shrink "$j" 1 kind=realloc size=32
    check_count $n/kind-realloc-inplace "$j" 1 kind=realloc size=1008
    check_count $n/kind-realloc-null "$j" 1 kind=realloc size=200
    check_count $n/kind-reallocarray "$j" 1 kind=reallocarray size=400
    check_count $n/kind-posix_memalign "$j" 1 kind=posix_memalign size=500
    check_count $n/kind-aligned_alloc "$j" 1 kind=aligned_alloc size=1024
    check_count $n/kind-memalign "$j" 1 kind=memalign size=700
    check_count $n/kind-valloc "$j" 1 kind=valloc size=300
    check_count $n/kind-pvalloc "$j" 1 kind=pvalloc size=5000
    check_count $n/malloc-0 "$j" 1 kind=malloc size=0
    check_count $n/strdup-seen "$j" 1 kind=malloc size=6
    check_count $n/nothing-leaked "$j" 0 is_leaked=true
    check_frame $n/stack-has-main "$j" main size=100000
done
rm -rf "$TMP"
