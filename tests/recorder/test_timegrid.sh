#!/bin/sh
# Recorder: the time grid of one-thread SYNC windows (spec §8.2,
# MEMSCOPE_TIME_GRID). The same deterministic programs recorded with exact
# times (=0) and with the default grid give the same msconv --json summary
# (allocations, frees, bytes, peak, temporary blocks, leaks) and a smaller
# file; in the grid trace every event of a window where one thread wrote
# events and no mark/label falls sits on the grid (or at the window's start)
# inside its window, while windows with marks (phases) and windows with two
# or more threads (threads: producers/consumers) keep exact times (about
# 1/grid of them on the grid by chance). A bad value is refused with a warning.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/common.sh"
T=timegrid
require "$LIBMS" "$MSREC" "$MSCONV" "$PROGS/randalloc" "$PROGS/phases" "$PROGS/threads"
GRID="python3 $MS_ROOT/tests/recorder/timegrid.py"
KEYS="total_allocations total_deallocations total_allocated_bytes total_deallocated_bytes
peak_memory peak_allocations temporary_allocations leaked_allocations leaked_memory
active_allocations active_memory unmatched_frees duplicate_allocations failed_allocations reallocs"

summary() {   # summary JSON: the order-derived numbers, one line
    $MSJSON sum "$1" > "$1.sum" 2>/dev/null
    for k in $KEYS; do printf '%s=%s ' "$k" "$(sed -n "s/^$k=//p" "$1.sum")"; done
}
gridval() { sed -n "s/^$2=//p" "$1"; }

for prog in randalloc phases; do
    args=; [ $prog = randalloc ] && args=30000
    for g in 0 def; do
        if [ $g = 0 ]; then export MEMSCOPE_TIME_GRID=0; else unset MEMSCOPE_TIME_GRID; fi
        record msrec $prog.$g "$TMP/$prog.$g.memscope" -- "$PROGS/$prog" $args
        unset MEMSCOPE_TIME_GRID
        check_trace timegrid/$prog-$g "$OUTFILE" || continue
        "$MSCONV" "$OUTFILE" --dump > "$TMP/$prog.$g.dump" 2>/dev/null
        $GRID "$TMP/$prog.$g.dump" 100 > "$TMP/$prog.$g.grid"
    done
    j0=$TMP/$prog.0.memscope.json j1=$TMP/$prog.def.memscope.json
    check timegrid/$prog-summary-same "$(summary "$j0")" "$(summary "$j1")"
    G=$TMP/$prog.def.grid
    check timegrid/$prog-on-grid 0 "$(gridval "$G" one_off_grid)"
    check timegrid/$prog-inside-window 0 "$(gridval "$G" one_outside)"
    # exact times: on the grid by chance only (~1/grid of them)
    E=$TMP/$prog.0.grid
    check timegrid/$prog-off-exact yes "$(awk -v n="$(gridval "$E" all_events)" -v k="$(gridval "$E" all_on_grid)" \
        'BEGIN { print (n > 0 && k * 4 < n) ? "yes" : "no (" k " of " n " on the grid)" }')"
done

# randalloc: its windows are one thread's, the grid trace is smaller and
# still counts the program's 30000 allocations
G=$TMP/randalloc.def.grid
check timegrid/randalloc-one-thread-windows yes "$([ "$(gridval "$G" one_events)" -gt 30000 ] && echo yes || echo no)"
s0=$(stat -c %s "$TMP/randalloc.0.memscope") s1=$(stat -c %s "$TMP/randalloc.def.memscope")
check timegrid/randalloc-smaller yes "$([ "$s1" -lt "$s0" ] && echo yes || echo "no ($s1 >= $s0 bytes)")"
check timegrid/randalloc-allocs-truth yes "$(awk -v a="$(sumval "$TMP/randalloc.def.memscope.json" total_allocations)" \
    'BEGIN { print (a >= 30000 && a < 30100) ? "yes" : "no (" a ")" }')"
# (phases prints "TRUTH phases all: ... temp=7 leaked=15400/7 ...")
pt=$(sed -n 's/^TRUTH phases all:.* temp=\([0-9]*\).*/\1/p' "$TMP/phases.def.out")
pl=$(sed -n 's/^TRUTH phases all:.* leaked=\([0-9]*\)\/.*/\1/p' "$TMP/phases.def.out")
check timegrid/phases-temporaries-truth 7 "$pt"
check timegrid/phases-temporaries "$pt" "$(sumval "$TMP/phases.def.memscope.json" temporary_allocations)"
check timegrid/phases-leaked-truth yes "$(awk -v l="$(sumval "$TMP/phases.def.memscope.json" leaked_memory)" -v t="$pl" \
    'BEGIN { print (t == 15400 && l >= t) ? "yes" : "no (" l " leaked, truth " t ")" }')"
# phases marks each phase right before its work: those windows keep exact times
G=$TMP/phases.def.grid
check timegrid/phases-mark-windows-exact yes "$(awk -v n="$(gridval "$G" mark_events)" -v k="$(gridval "$G" mark_on_grid)" \
    'BEGIN { print (n >= 8 && k * 2 < n) ? "yes" : "no (" k " of " n " on the grid)" }')"

# threads: producer/consumer windows hold 2+ threads and keep exact times
record msrec threads "$TMP/threads.memscope" -- "$PROGS/threads"
if check_trace timegrid/threads "$OUTFILE"; then
    "$MSCONV" "$OUTFILE" --dump > "$TMP/threads.dump" 2>/dev/null
    $GRID "$TMP/threads.dump" 100 > "$TMP/threads.grid"
    G=$TMP/threads.grid
    check timegrid/threads-multi-windows-exact yes "$(awk -v n="$(gridval "$G" multi_events)" -v k="$(gridval "$G" multi_on_grid)" \
        'BEGIN { print (n >= 1000 && k * 8 < n) ? "yes" : "no (" k " of " n " on the grid)" }')"
    check timegrid/threads-one-windows-on-grid 0 "$(gridval "$G" one_off_grid)"
    check timegrid/threads-unmatched 0 "$(sumval "$OUTFILE.json" unmatched_frees)"
fi

# a grid above 150 us is refused (warning, default used)
MEMSCOPE_TIME_GRID=500 record msrec bad "$TMP/bad.memscope" -- "$PROGS/phases"
check timegrid/bad-value-warns yes "$(grep -q 'bad MEMSCOPE_TIME_GRID=500, using default' "$TMP/bad.err" && echo yes || echo no)"
rm -rf "$TMP"
