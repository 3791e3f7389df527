#!/bin/sh
# Recorder stacks: an allocation 200 frames deep (tests/progs/deep.c) is
# recorded with a stack cut at MEMSCOPE_MAX_DEPTH (default 64, here also 8),
# with both unwinders, and the frames name deep_recurse. The leaks program
# under fp unwinding still names leak_three (frame pointers are kept).
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/common.sh"
T=depth
require "$LIBMS" "$MSCONV" "$PROGS/deep" "$PROGS/leaks"

record plain deep.plain - -- "$PROGS/deep"
for unw in libunwind fp; do
    for depth in default 8; do
        n=depth/$unw/$depth
        export MEMSCOPE_UNWIND=$unw
        if [ $depth = default ]; then unset MEMSCOPE_MAX_DEPTH; max=64; else export MEMSCOPE_MAX_DEPTH=$depth; max=$depth; fi
        record preload deep.$unw.$depth "$TMP/deep.$unw.$depth.memscope" -- "$PROGS/deep"
        unset MEMSCOPE_UNWIND MEMSCOPE_MAX_DEPTH
        check $n/exit-status 0 "$RC"
        check_same_output $n deep.$unw.$depth deep.plain
        check_trace $n "$OUTFILE" || continue
        j=$OUTFILE.json
        check_totals $n "$j" 1 1 31337 0 0
        d=$($MSJSON maxdepth "$j" size=31337)
        if [ "$d" -ge $((max - 2)) ] 2>/dev/null && [ "$d" -le "$max" ]; then pass $n/depth-cut-at-$max
        else fail $n/depth-cut-at-$max "stack has $d frames"; fi
        check_frame $n/stack-deep_recurse "$j" deep_recurse size=31337
    done
done

export MEMSCOPE_UNWIND=fp
record preload leaks.fp "$TMP/leaks.fp.memscope" -- "$PROGS/leaks"
unset MEMSCOPE_UNWIND
if check_trace depth/leaks-fp "$OUTFILE"; then
    check_frame depth/leaks-fp/stack-leak_three "$OUTFILE.json" leak_three size=2000
    check_frame depth/leaks-fp/stack-main "$OUTFILE.json" main size=2000
fi
rm -rf "$TMP"
