#!/bin/sh
# Recorder: allocations on small stacks (tests/progs/smallstack.c, call
# depth 60): 16 KiB thread stacks, a coroutine on a 16 KiB stack and a
# handler on an 8 KiB sigaltstack, each with a canary below. The hook used
# to need ~11 KiB (libunwind off the thread's own stack, 4 KiB of frame
# arrays in every capture, lazy binding of its first calls): at depth 40
# 772 / 936 / 1 872 bytes below the stacks were overwritten, from depth 80
# SIGSEGV. Now it keeps to the room it has (the caller's return address
# alone where there is little), so nothing below a stack is written, the
# status is the plain run's and every allocation is in the trace.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/common.sh"
T=smallstack
require "$LIBMS" "$MSREC" "$MSCONV" "$PROGS/smallstack"

record plain plain - -- "$PROGS/smallstack" 60
check $T/plain/status 0 "$RC"
for mode in preload msrec; do
    record $mode $mode "$TMP/$mode.memscope" -- "$PROGS/smallstack" 60
    check $T/$mode/status 0 "$RC"
    check $T/$mode/output "$(cat "$TMP/plain.out")" "$(cat "$TMP/$mode.out")"
    if check_trace $T/$mode "$OUTFILE"; then
        a=$(sumval "$OUTFILE.json" total_allocations)
        check $T/$mode/allocations yes "$([ "${a:-0}" -ge 8600 ] && [ "${a:-0}" -lt 8700 ] && echo yes || echo "no ($a)")"
        check $T/$mode/unmatched 0 "$(sumval "$OUTFILE.json" unmatched_frees)"
    fi
done
rm -rf "$TMP"
