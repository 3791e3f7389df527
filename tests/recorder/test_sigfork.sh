#!/bin/sh
# Recorder: fork() from a signal handler (tests/progs/sigfork.c: a SIGALRM
# every SIGFORK_US µs forks while the main thread allocates from ever new call
# chains, so the recorder often holds its stack table's lock, or in a
# sampled trace a stripe lock, when the handler forks). The atfork handlers
# took those locks again on the thread that held them: the program hung
# for ever (3 runs of 3). Now a lock the forking thread holds is left to
# the interrupted code. Full and sampled traces, each under a 90 s
# watchdog: the program ends with status 0 and its own output, its children
# ran, and the trace is complete (the full one: every allocation).
# A fork every 100 ms (SIGFORK_US): a fork that interrupts the recorder
# copies its memory (40 MiB of stack tables here: 2^20 call chains), and
# the parent then takes a write fault on each of those pages it writes
# again, ~3 300 a fork; on a 2-vCPU VM whose faults cost ~20 us a fork
# every 5 or 20 ms took all of the program's time (never-ending, like the
# hang). The old library still hangs at 100 ms (3 runs of 3); now ~1-2 s.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/common.sh"
T=sigfork
require "$LIBMS" "$MSCONV" "$PROGS/sigfork"
N=200000

# run NAME OUT ENV... : the program under the recorder, killed after 90 s
run() {
    _n=$1; _o=$2; shift 2
    rm -f "$_o"
    env LD_PRELOAD="$LIBMS" MEMSCOPE_AUTO_EXPORT=1 MEMSCOPE_EXPORT_PATH="$_o" SIGFORK_US=100000 "$@" \
        "$PROGS/sigfork" $N > "$TMP/$_n.out" 2> "$TMP/$_n.err" < /dev/null &
    _p=$!
    _i=0
    while kill -0 $_p 2>/dev/null && [ $_i -lt 900 ]; do sleep 0.1; _i=$((_i + 1)); done
    if kill -0 $_p 2>/dev/null; then
        kill -9 $_p 2>/dev/null
        wait $_p 2>/dev/null
        RC=hang
    else
        wait $_p
        RC=$?
    fi
}

for mode in full sampled; do
    case $mode in full) set -- ;; sampled) set -- MEMSCOPE_SAMPLE_RATE=64 ;; esac
    run $mode "$TMP/$mode.memscope" "$@"
    check $T/$mode/status 0 "$RC"
    check $T/$mode/allocs-printed $N "$(sed -n 's/^TRUTH sigfork allocs=\([0-9]*\).*/\1/p' "$TMP/$mode.out")"
    f=$(sed -n 's/.* forks=\([0-9]*\).*/\1/p' "$TMP/$mode.out")
    check $T/$mode/children-ran yes "$([ "${f:-0}" -gt 0 ] && echo yes || echo "no ($f)")"
    check $T/$mode/complete complete \
        "$("$MSCONV" "$TMP/$mode.memscope" --info --lang en 2>/dev/null | sed -n 's/^integrity: *//p')"
    if [ $mode = full ]; then
        "$MSCONV" "$TMP/$mode.memscope" --json -o "$TMP/$mode.json" 2>/dev/null
        check $T/$mode/allocations $N "$(sumval "$TMP/$mode.json" total_allocations)"
    fi
done
rm -rf "$TMP"
