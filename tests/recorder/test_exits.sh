#!/bin/sh
# Recorder: ways a process ends that skip the usual exit path
# (tests/progs/exits.c), under LD_PRELOAD and msrec run:
#   quick  quick_exit(4): at_quick_exit handlers run, then glibc's internal
#          _exit; the trace had no END record (5 of 5). Now: END with
#          status 4, the handler's 333-byte block in it.
#   twice  two threads call exit(6) at once: the second reached glibc's
#          internal _exit while the first was finishing the trace (no END,
#          5 of 5); a second caller now waits for the first. END with
#          status 6 and both threads' blocks, 5 runs each.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/common.sh"
T=exits
require "$LIBMS" "$MSREC" "$MSCONV" "$PROGS/exits"

info() { "$MSCONV" "$1" --info --lang en 2>/dev/null | sed -n "s/^$2: *//p"; }

for mode in preload msrec; do
    record $mode quick.$mode "$TMP/quick.$mode.memscope" -- "$PROGS/exits" quick
    check $T/quick/$mode/exit-status 4 "$RC"
    check $T/quick/$mode/output "TRUTH exits mode=quick" "$(cat "$TMP/quick.$mode.out")"
    if check_trace $T/quick/$mode "$OUTFILE"; then
        check $T/quick/$mode/complete complete "$(info "$OUTFILE" integrity)"
        check $T/quick/$mode/end-status yes "$(info "$OUTFILE" end | grep -q '^exit status 4,' && echo yes || echo "no: $(info "$OUTFILE" end)")"
        check_count $T/quick/$mode/handler-block "$OUTFILE.json" 1 size=333
    fi
    for run in 1 2 3 4 5; do
        record $mode twice.$mode "$TMP/twice.$mode.$run.memscope" -- "$PROGS/exits" twice
        check $T/twice/$mode/$run/exit-status 6 "$RC"
        if check_trace $T/twice/$mode/$run "$OUTFILE"; then
            check $T/twice/$mode/$run/complete complete "$(info "$OUTFILE" integrity)"
            check_count $T/twice/$mode/$run/kept-blocks "$OUTFILE.json" 2 size=4444
        fi
    done
done
rm -rf "$TMP"
