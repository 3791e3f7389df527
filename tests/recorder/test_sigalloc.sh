#!/bin/sh
# Recorder: a signal handler that allocates (tests/progs/sigalloc.c: a
# malloc(48)/free pair in a SIGALRM handler every 200 µs while the main
# thread makes 3 M pairs). Most handler runs interrupt the recorder's hook;
# their events used to vanish from a trace that said "complete" (40-75 % of
# the handler's pairs). Now the interrupted hook records them after its own
# event (one frame: the handler's call site): every allocation is in the
# trace, every free matches, and every 48-byte block's stack names the
# handler (what does not fit the thread's 64 waiting events is counted). preload and msrec run; a sampled trace cannot
# defer (the hook may be updating its sampling state): there END counts
# what it could not record and msconv says "incomplete: N events seen but
# not recorded" exactly when N > 0.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/common.sh"
T=sigalloc
require "$LIBMS" "$MSREC" "$MSCONV" "$PROGS/sigalloc"

dropped() { "$MSCONV" "$1" --dump 2>/dev/null | sed -n 's/.*"n_dropped": *\([0-9]*\).*/\1/p' | head -1; }

for mode in preload msrec; do
    record $mode $mode "$TMP/$mode.memscope" -- "$PROGS/sigalloc" 3000000
    check $T/$mode/status 0 "$RC"
    truth=$(sed -n 's/^TRUTH sigalloc allocs=\([0-9]*\).*/\1/p' "$TMP/$mode.out")
    hn=$(sed -n 's/.* handlers=\([0-9]*\).*/\1/p' "$TMP/$mode.out")
    check $T/$mode/handlers-ran yes "$([ "${hn:-0}" -gt 0 ] && echo yes || echo "no ($hn)")"
    # (no --events: 3 M allocations)
    if ! "$MSCONV" "$OUTFILE" --json -o "$OUTFILE.json" 2>"$TMP/$mode.jerr"; then
        fail $T/$mode/json "$(head -c 300 "$TMP/$mode.jerr")"
        continue
    fi
    a=$(sumval "$OUTFILE.json" total_allocations)
    f=$(sumval "$OUTFILE.json" total_deallocations)
    dr=$(dropped "$OUTFILE")
    v=$("$MSCONV" "$OUTFILE" --info --lang en 2>/dev/null | sed -n 's/^integrity: *//p')
    # every event recorded or counted; counted only when a hook of the
    # main thread outlasts 32 handler runs (6.4 ms: the writer stalled)
    check $T/$mode/recorded-or-counted $((2 * truth)) $((a + f + ${dr:-0}))
    check $T/$mode/few-dropped yes "$([ $((${dr:-0} * 20)) -le "$hn" ] && echo yes || echo "no: $dr of $hn handler pairs' events")"
    if [ "${dr:-0}" -eq 0 ]; then
        check $T/$mode/allocations "$truth" "$a"
        check $T/$mode/unmatched 0 "$(sumval "$OUTFILE.json" unmatched_frees)"
        check $T/$mode/complete complete "$v"
        # allocations whose innermost frame is the handler; of them the
        # deferred ones (that frame alone)
        "$MSCONV" "$OUTFILE" --folded "$TMP/$mode.folded" --metric count 2>/dev/null
        check $T/$mode/handler-allocations "$hn" \
            "$(awk '$1 ~ /(^|;)on_alarm$/ { n += $2 } END { print n + 0 }' "$TMP/$mode.folded")"
        check $T/$mode/deferred-seen yes \
            "$(awk '$1 == "on_alarm" && $2 > 0 { y = 1 } END { print y ? "yes" : "no" }' "$TMP/$mode.folded")"
    else
        check $T/$mode/says-incomplete yes "$(case $v in "incomplete: $dr events seen but not recorded"*) echo yes ;; *) echo "no: $v" ;; esac)"
    fi
done

# sampled: what could not be recorded is counted and said
record preload sampled "$TMP/s.memscope" -- env MEMSCOPE_SAMPLE_RATE=64 "$PROGS/sigalloc" 3000000
check $T/sampled/status 0 "$RC"
if [ -s "$TMP/s.memscope" ]; then
    dr=$(dropped "$TMP/s.memscope")
    v=$("$MSCONV" "$TMP/s.memscope" --info --lang en 2>/dev/null | sed -n 's/^integrity: *//p')
    if [ "${dr:-0}" -gt 0 ]; then
        check $T/sampled/says-incomplete yes "$(case $v in "incomplete: $dr events seen but not recorded"*) echo yes ;; *) echo "no: $v" ;; esac)"
    else
        check $T/sampled/says-complete complete "$v"
    fi
else
    fail $T/sampled/file "no trace"
fi
rm -rf "$TMP"
