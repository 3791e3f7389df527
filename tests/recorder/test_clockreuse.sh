#!/bin/sh
# Recorder: reused clock readings (spec 8.2, MEMSCOPE_CLOCK_REUSE). A thread
# allocating in a burst takes its last reading for its next 3 events while
# the kernel's rseq area says it ran on undisturbed. Checked here:
# - sleeps between a burst and its frees are seen (the kernel clears the
#   rseq word when the thread blocks): every block allocated before a 2 ms
#   sleep and freed after it lives >= 1.8 ms (the 97 µs grid aside), and no
#   reused time is late by more than 1 ms (MEMSCOPE_CLOCK_CHECK=1 measures
#   each reused time against a reading); a fork (long in the kernel, no
#   descheduling) is handled by the fork handler;
# - readings are reused at all (else the rest proves nothing);
# - a stretch of computation the kernel does not report makes at most the
#   3 events after it late (the bound the spec states);
# - a producer/consumer pair spinning on a queue, where an address goes
#   free (consumer) -> malloc (producer) within the producer's spin: with
#   two threads recording every reading is published and a reused time is
#   raised to the latest published one (spec 8.2), so the trace has no
#   unmatched free and no duplicate allocation and every handed-off block
#   is freed, while the producer still reuses readings (> 10 000 of its
#   ~45 000 events; with MEMSCOPE_CLOCK=mono: with the TSC the recorder
#   takes a reading per event once two threads record, the first run
#   here on a machine with one). Reused readings taken as they were, without the
#   published maximum, gave 5 000-8 800 unmatched frees and as many
#   duplicate allocations in 15 000 rounds (test_threads.sh's two consumers
#   too), and were turned off with a second thread until the maximum came;
# - MEMSCOPE_CLOCK_REUSE=0 and a process without glibc's rseq area
#   (GLIBC_TUNABLES=glibc.pthread.rseq=0) take a reading per event; a bad
#   value is refused with a warning.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/common.sh"
T=clockreuse
require "$LIBMS" "$MSREC" "$MSCONV" "$PROGS/clockgap" "$PROGS/handoff"

dbg() {   # dbg FILE KEY: sum of a number of the debug "clock:" lines
    sed -n 's/.*debug: tid [0-9]*: clock: \([0-9]*\) readings, \([0-9]*\) reused, late by more than 0.1 ms: \([0-9]*\), more than 1 ms: \([0-9]*\).*/\1 \2 \3 \4/p' "$1" |
        awk -v k="$2" '{ s += $k } END { print s + 0 }'
}
minlife() {   # minlife JSON LO HI: the shortest lifetime (ms) of blocks LO..HI bytes
    python3 - "$1" "$2" "$3" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
lo, hi = int(sys.argv[2]), int(sys.argv[3])
v = [a["lifetime_ms"] for a in d["allocations"] if lo <= a["size"] <= hi and not a["is_leaked"]]
print("%.3f %d" % (min(v), len(v)) if v else "none 0")
PY
}

# sleeps and forks
export MEMSCOPE_DEBUG=1 MEMSCOPE_CLOCK_CHECK=1
record preload gap "$TMP/gap.memscope" -- "$PROGS/clockgap" sleep 150 2000
check_trace $T/sleep "$OUTFILE" && {
    check $T/sleep-allocs "$(sed -n 's/.* allocs=\([0-9]*\).*/\1/p' "$TMP/gap.out")" "$(sumval "$OUTFILE.json" total_allocations)"
    check $T/sleep-frees "$(sed -n 's/.* frees=\([0-9]*\).*/\1/p' "$TMP/gap.out")" "$(sumval "$OUTFILE.json" total_deallocations)"
    set -- $(minlife "$OUTFILE.json" 100 105)
    check $T/sleep-blocks 900 "$2"
    check $T/sleep-lifetimes-span-the-sleep yes "$(awk -v m="$1" 'BEGIN { print (m + 0 >= 1.8) ? "yes" : "no (shortest " m " ms)" }')"
    check $T/sleep-readings-reused yes "$([ "$(dbg "$TMP/gap.err" 2)" -gt 150 ] && echo yes || echo "no ($(grep 'clock:' "$TMP/gap.err"))")"
    check $T/sleep-none-late-1ms 0 "$(dbg "$TMP/gap.err" 4)"
}

# a stretch of computation: at most the 3 events after each are late
record preload spin "$TMP/spin.memscope" -- "$PROGS/clockgap" spin 100 1500
check_trace $T/spin "$OUTFILE" && {
    check $T/spin-allocs 500 "$(sumval "$OUTFILE.json" total_allocations)"
    late=$(dbg "$TMP/spin.err" 4)
    check $T/spin-late-bounded yes "$([ "$late" -le 300 ] && echo yes || echo "no ($late events late > 1 ms after 100 stretches)")"
}

# producer/consumer: cross-thread pairs on one address stay in order
for run in 1 2; do
    [ $run = 2 ] && export MEMSCOPE_CLOCK=mono
    record preload handoff$run "$TMP/handoff$run.memscope" -- "$PROGS/handoff" 15000 20
    unset MEMSCOPE_CLOCK
    check_trace $T/handoff$run "$OUTFILE" || continue
    J=$OUTFILE.json
    check $T/handoff$run-unmatched-frees 0 "$(sumval "$J" unmatched_frees)"
    check $T/handoff$run-duplicate-allocations 0 "$(sumval "$J" duplicate_allocations)"
    check_count $T/handoff$run-handed-off "$J" 45000 size=48
    check_count $T/handoff$run-handed-off-freed "$J" 0 size=48 is_leaked=true
    [ $run = 2 ] && check $T/handoff$run-reuse-with-two-threads yes "$([ "$(dbg "$TMP/handoff$run.err" 2)" -gt 10000 ] && echo yes || echo "no ($(grep 'clock:' "$TMP/handoff$run.err" | head -2))")"
done

# off: by setting, without glibc's rseq area; a bad value
MEMSCOPE_CLOCK_REUSE=0 record preload off "$TMP/off.memscope" -- "$PROGS/clockgap" sleep 20 1000
check $T/off-no-reuse 0 "$(dbg "$TMP/off.err" 2)"
check_trace $T/off "$OUTFILE" && check $T/off-allocs 180 "$(sumval "$OUTFILE.json" total_allocations)"
GLIBC_TUNABLES=glibc.pthread.rseq=0 record preload norseq "$TMP/norseq.memscope" -- "$PROGS/clockgap" sleep 20 1000
check $T/norseq-status 0 "$RC"
check $T/norseq-no-reuse 0 "$(dbg "$TMP/norseq.err" 2)"
check_trace $T/norseq "$OUTFILE" && check $T/norseq-allocs 180 "$(sumval "$OUTFILE.json" total_allocations)"
MEMSCOPE_CLOCK_REUSE=9 record preload bad "$TMP/bad.memscope" -- "$PROGS/clockgap" sleep 5 100
check $T/bad-value-warned yes "$(grep -q 'bad MEMSCOPE_CLOCK_REUSE=9' "$TMP/bad.err" && echo yes || echo "no ($(head -c 200 "$TMP/bad.err"))")"
check $T/bad-value-status 0 "$RC"
unset MEMSCOPE_DEBUG MEMSCOPE_CLOCK_CHECK
rm -rf "$TMP"
