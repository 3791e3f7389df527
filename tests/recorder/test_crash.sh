#!/bin/sh
# Recorder durability: a segfaulting program (same signal, trace complete
# up to the crash, 6000 bytes live), one calling _exit(7) (status kept, trace
# complete), and one killed with SIGKILL after printing "ready" (the trace
# is a readable prefix: msconv --info says it is truncated/incomplete, and
# the 1000 blocks allocated before "ready" are in it).
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/common.sh"
T=crash
require "$LIBMS" "$MSREC" "$MSCONV" "$PROGS/segv" "$PROGS/uexit" "$PROGS/killme"

# --- segfault: compare the status a shell sees (139) with and without
record plain segv.plain - -- "$PROGS/segv"; plain_rc=$RC
check crash/segv/plain-status-139 139 "$plain_rc"
vg segv -- "$PROGS/segv"
for mode in preload msrec; do
    n=crash/segv/$mode
    record $mode segv.$mode "$TMP/segv.$mode.memscope" -- "$PROGS/segv"; rc=$RC
    check $n/same-signal "$plain_rc" "$rc"
    check_same_output $n segv.$mode segv.plain
    check_trace $n "$TMP/segv.$mode.memscope" || continue
    j=$TMP/segv.$mode.memscope.json
    check_totals $n "$j" "$VG_ALLOCS" "$VG_FREES" "$VG_BYTES" "$VG_INUSE_BYTES" "$VG_INUSE_BLOCKS"
    check $n/peak_memory 10000 "$(sumval "$j" peak_memory)"
    "$MSCONV" "$TMP/segv.$mode.memscope" --info --lang en > "$TMP/segv.$mode.info" 2>&1
    if grep -Eq 'end: *signal 11' "$TMP/segv.$mode.info"; then
        pass $n/info-says-signal-11
    else fail $n/info-says-signal-11 "$(grep -i 'end\|signal\|reason' "$TMP/segv.$mode.info" | head -3 | tr '\n' ' ')"; fi
done

# --- _exit(7), and syscall(SYS_exit_group, 7)
record plain uexit.plain - -- "$PROGS/uexit"
vg uexit -- "$PROGS/uexit"
for how in _exit syscall; do
    arg=; [ $how = syscall ] && arg=syscall
    for mode in preload msrec; do
        n=crash/uexit/$how/$mode
        [ $how = _exit ] && n=crash/uexit/$mode
        record $mode uexit.$mode "$TMP/uexit.$how.$mode.memscope" -- "$PROGS/uexit" $arg
        check $n/exit-status 7 "$RC"
        check_same_output $n uexit.$mode uexit.plain
        check_trace $n "$OUTFILE" || continue
        j=$OUTFILE.json
        check_totals $n "$j" "$VG_ALLOCS" "$VG_FREES" "$VG_BYTES" "$VG_INUSE_BYTES" "$VG_INUSE_BLOCKS"
        "$MSCONV" "$OUTFILE" --info --lang en > "$TMP/uexit.$mode.info" 2>&1
        if grep -Eq 'integrity: *complete' "$TMP/uexit.$mode.info"; then pass $n/complete
        else fail $n/complete "msconv --info: $(grep -E 'integrity|end:' "$TMP/uexit.$mode.info" | tr '\n' ' ')"; fi
        if grep -Eq 'end: *_exit status 7' "$TMP/uexit.$mode.info"; then pass $n/info-says-_exit-7
        else fail $n/info-says-_exit-7 "msconv --info: $(grep -E 'end:' "$TMP/uexit.$mode.info" | tr '\n' ' ')"; fi
    done
done

# --- SIGKILL after "ready"
for mode in preload msrec; do
    n=crash/kill9/$mode
    f=$TMP/killme.$mode.memscope; rm -f "$f"
    if [ $mode = preload ]; then
        LD_PRELOAD="$LIBMS" MEMSCOPE_AUTO_EXPORT=1 MEMSCOPE_EXPORT_PATH="$f" \
            "$PROGS/killme" > "$TMP/killme.$mode.out" 2>&1 &
        pid=$!
    else
        # msrec forwards only SIGINT/TERM/HUP/QUIT; kill the command itself
        "$MSREC" run -q -o "$f" -- "$PROGS/killme" > "$TMP/killme.$mode.out" 2>&1 &
        pid=$!
    fi
    i=0
    while ! grep -q '^ready' "$TMP/killme.$mode.out" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
    sleep 2     # chunks are flushed at least every second
    if [ $mode = msrec ]; then
        kill -9 "$(pgrep -P "$pid" killme 2>/dev/null || pgrep -P "$pid")" 2>/dev/null
        wait $pid; rc=$?
        check $n/msrec-status-137 137 "$rc"
    else
        kill -9 $pid; wait $pid 2>/dev/null
    fi
    if [ ! -s "$f" ]; then fail $n/file "no trace at $f"; continue; fi
    pass $n/file
    "$MSCONV" "$f" --info --lang en > "$TMP/killme.$mode.info" 2>&1
    if grep -Eqi 'truncat|incomplete|no end' "$TMP/killme.$mode.info"; then pass $n/info-says-incomplete
    else fail $n/info-says-incomplete "$(head -c 400 "$TMP/killme.$mode.info" | tr '\n' ' ')"; fi
    jsonof "$f"
    check_count $n/blocks-before-ready "$f.json" 1000 size=4242
    check_frame $n/stack-fill_before_ready "$f.json" fill_before_ready size=4242
done
rm -rf "$TMP"
