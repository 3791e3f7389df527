#!/bin/sh
# Recorder: a signal handler that allocates (tests/progs/sigalloc.c: a
# malloc/free pair in a SIGALRM handler every 200 µs while the main thread
# makes 3 M pairs). A handler that interrupts the recorder's hook cannot be
# recorded; such events were dropped without a word and the trace said
# "complete" (~70 % of a 1 kHz handler's allocations were missing). Now
# END counts them (n_dropped) and msconv says "incomplete: N events seen
# but not recorded": recorded allocations + dropped pairs = the program's
# allocations, and the verdict is incomplete exactly when some were
# dropped. preload and msrec run.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/common.sh"
T=sigalloc
require "$LIBMS" "$MSREC" "$MSCONV" "$PROGS/sigalloc"

for mode in preload msrec; do
    record $mode $mode "$TMP/$mode.memscope" -- "$PROGS/sigalloc" 3000000
    check $T/$mode/status 0 "$RC"
    truth=$(sed -n 's/^TRUTH sigalloc allocs=\([0-9]*\).*/\1/p' "$TMP/$mode.out")
    hn=$(sed -n 's/.* handlers=\([0-9]*\).*/\1/p' "$TMP/$mode.out")
    check $T/$mode/handlers-ran yes "$([ "${hn:-0}" -gt 0 ] && echo yes || echo "no ($hn)")"
    if check_trace $T/$mode "$OUTFILE"; then
        a=$(sumval "$OUTFILE.json" total_allocations)
        dr=$("$MSCONV" "$OUTFILE" --dump 2>/dev/null | sed -n 's/.*"n_dropped": *\([0-9]*\).*/\1/p' | head -1)
        # (+1: the program's own stdio buffer for nothing; its out() uses write(2))
        check $T/$mode/recorded-plus-dropped "$truth" "$(( ${a:-0} + ${dr:-0} / 2 ))"
        v=$("$MSCONV" "$OUTFILE" --info --lang en 2>/dev/null | sed -n 's/^integrity: *//p')
        if [ "${dr:-0}" -gt 0 ]; then
            check $T/$mode/says-incomplete yes "$(case $v in "incomplete: $dr events seen but not recorded"*) echo yes ;; *) echo "no: $v" ;; esac)"
        else
            check $T/$mode/says-complete complete "$v"
        fi
        check $T/$mode/unmatched 0 "$(sumval "$OUTFILE.json" unmatched_frees)"
    fi
done
rm -rf "$TMP"
