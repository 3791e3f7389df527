#!/bin/sh
# Recorder and SIGTERM (tests/progs/sigterm.c): without a handler the
# program dies by SIGTERM, with its own handler (which allocates) it prints
# "handled" and exits 5. Under LD_PRELOAD and msrec run (which forwards the
# SIGTERM it receives) output and status are the same as without the
# recorder, and the trace ends with the signal or the exit status, totals
# exact.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/common.sh"
T=signals
require "$LIBMS" "$MSREC" "$MSCONV" "$PROGS/sigterm"

# start MODE TAG ARGS... : starts sigterm in the background, waits for "ready"
start() {
    m=$1; tag=$2; shift 2
    f=$TMP/$tag.memscope; rm -f "$f"
    case $m in
    plain)   "$PROGS/sigterm" "$@" > "$TMP/$tag.out" 2> "$TMP/$tag.err" & ;;
    preload) LD_PRELOAD="$LIBMS" MEMSCOPE_AUTO_EXPORT=1 MEMSCOPE_EXPORT_PATH="$f" \
                 "$PROGS/sigterm" "$@" > "$TMP/$tag.out" 2> "$TMP/$tag.err" & ;;
    msrec)   "$MSREC" run -q -o "$f" -- "$PROGS/sigterm" "$@" > "$TMP/$tag.out" 2> "$TMP/$tag.err" & ;;
    esac
    bg=$!
    i=0
    while ! grep -q '^ready' "$TMP/$tag.out" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
    sleep 0.2
    kill -TERM $bg
    wait $bg
    ST=$?
}

for variant in default handler; do
    arg=""; [ $variant = handler ] && arg=handler
    # shellcheck disable=SC2086
    start plain $variant.plain $arg; plain_st=$ST
    if [ $variant = handler ]; then check signals/$variant/plain-status 5 "$plain_st"
    else check signals/$variant/plain-status 143 "$plain_st"; fi
    for mode in preload msrec; do
        n=signals/$variant/$mode
        # shellcheck disable=SC2086
        start $mode $variant.$mode $arg
        check $n/status "$plain_st" "$ST"
        check_same_output $n $variant.$mode $variant.plain
        check_trace $n "$f" || continue
        "$MSCONV" "$f" --info --lang en > "$f.info" 2>&1
        if [ $variant = handler ]; then
            check_totals $n "$f.json" 5 4 3723 900 1
            check $n/end-exit-5 1 "$(grep -Ec 'end: *exit status 5' "$f.info")"
        else
            check_totals $n "$f.json" 4 3 3600 900 1
            check $n/end-signal-15 1 "$(grep -Ec 'end: *signal 15' "$f.info")"
        fi
        check $n/complete 1 "$(grep -Ec 'integrity: *complete' "$f.info")"
    done
done
rm -rf "$TMP"
