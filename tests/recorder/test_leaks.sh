#!/bin/sh
# Recorder: known leaks (tests/progs/leaks.c: leak_three() leaks 1000, 2000
# and 3000 bytes) recorded three ways — LD_PRELOAD, msrec run and linked
# with -lmemscope (MEMSCOPE_AUTO_EXPORT=1). Totals and bytes in use at exit
# must equal valgrind's; the leaked blocks are flagged and their stacks name
# leak_three; the ms_label'd block carries its name and type; exit status 3
# and the output are unchanged; linked but not enabled, nothing is written.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/common.sh"
T=leaks
require "$LIBMS" "$MSREC" "$MSCONV" "$PROGS/leaks" "$PROGS/leaks_linked"

record plain leaks.plain - -- "$PROGS/leaks"
check leaks/plain-exit-status 3 "$RC"
vg leaks -- "$PROGS/leaks"
check leaks/valgrind-agrees-with-truth "$(truth leaks allocs) $(truth leaks bytes) $(truth leaks live_bytes)" \
    "$VG_ALLOCS $VG_BYTES $VG_INUSE_BYTES"

for mode in preload msrec linked; do
    n=leaks/$mode
    P=$PROGS/leaks; [ $mode = linked ] && P=$PROGS/leaks_linked
    record $mode leaks.$mode "$TMP/leaks.$mode.memscope" -- "$P"
    check $n/exit-status 3 "$RC"
    check_same_output $n leaks.$mode leaks.plain
    check_trace $n "$OUTFILE" || continue
    j=$OUTFILE.json
    check_totals $n "$j" "$VG_ALLOCS" "$VG_FREES" "$VG_BYTES" "$VG_INUSE_BYTES" "$VG_INUSE_BLOCKS"
    check $n/leaked_memory 6000 "$(sumval "$j" leaked_memory)"
    check $n/leaked_allocations 3 "$(sumval "$j" leaked_allocations)"
    check $n/peak_memory "$(truth leaks peak)" "$(sumval "$j" peak_memory)"
    for s in 1000 2000 3000; do
        check_count $n/leaked-$s "$j" 1 size=$s is_leaked=true
        check_frame $n/stack-$s-leak_three "$j" leak_three size=$s
    done
    check_frame $n/stack-64-churn "$j" churn size=64
    check_frame $n/stack-64-main "$j" main size=64
    "$MSCONV" "$OUTFILE" --info --lang en > "$TMP/leaks.$mode.info" 2>&1
    check $n/ms_mark-records 2 "$(sed -n 's/^ *mark  *\([0-9]*\)$/\1/p' "$TMP/leaks.$mode.info")"
    if [ $mode != msrec ]; then   # ms_label resolves when libmemscope is loaded
        check $n/var_name cache "$($MSJSON field "$j" var_name size=3000)"
        check $n/type_name "struct cache" "$($MSJSON field "$j" type_name size=3000)"
    fi
done

# msrec run --export both: reports written next to the trace at exit
d=$TMP/exp; mkdir -p "$d"
"$MSREC" run -q --export both -o "$d/l.memscope" -- "$PROGS/leaks" > /dev/null 2>&1
check leaks/export-status 3 "$?"
check leaks/export-json-leaked 6000 "$(sumval "$d/l.memscope.json" leaked_memory)"
check leaks/export-html yes "$([ -s "$d/l.memscope.html" ] && echo yes || echo no)"

# without MEMSCOPE_QUIET: exactly one stderr line, naming the file
rm -f "$TMP/loud.memscope"
env -u MEMSCOPE_QUIET LD_PRELOAD="$LIBMS" MEMSCOPE_AUTO_EXPORT=1 MEMSCOPE_EXPORT_PATH="$TMP/loud.memscope" \
    "$PROGS/leaks" > /dev/null 2> "$TMP/loud.err"
check leaks/one-stderr-line 1 "$(wc -l < "$TMP/loud.err" | tr -d ' ')"
check leaks/stderr-names-file 1 "$(grep -c "$TMP/loud.memscope" "$TMP/loud.err")"

# linked but not enabled: pass-through, no file
rm -f "$TMP/off.memscope"
MEMSCOPE_EXPORT_PATH="$TMP/off.memscope" "$PROGS/leaks_linked" > "$TMP/off.out" 2>&1
check leaks/linked-disabled-exit-status 3 "$?"
check leaks/linked-disabled-no-file no "$( [ -e "$TMP/off.memscope" ] && echo yes || echo no)"
rm -rf "$TMP"
