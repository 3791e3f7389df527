#!/bin/sh
# Recorder, under an address-space limit (RLIMIT_AS, `ulimit -v`, as
# fuzzers and batch systems set): tests/progs/aslimit maps most of its limit
# (250 MiB in a 390 MiB limit), then 3 threads allocate and free 6 000 small
# blocks. The recorder used to reserve a 256 MiB region and a 128 MiB node
# table beside it whatever the limit, so the program's own malloc failed
# (exit status 1 where the plain run succeeded, even in 600 MiB). Now it
# keeps to 1/8 of the limit: under LD_PRELOAD and msrec run the program
# ends as it does alone and the trace holds all of it (the small_alloc site:
# 6 000 allocations, all freed; the big block). With a limit too small to
# record under (100 MiB: 1/8 is under 16 MiB) the program runs unrecorded
# and one line says why. The same under a data limit (RLIMIT_DATA, `ulimit
# -d`, which counts every private writable mapping since Linux 4.7): the
# recorder's 64 GiB region made the program's own mappings fail there.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/common.sh"
T=aslimit
require "$LIBMS" "$MSREC" "$MSCONV" "$PROGS/aslimit"

# limited KB OUT ERR CMD... : CMD under `ulimit -v KB` (-d with LIMIT=d; sets RC)
limited() {
    _l_kb=$1 _l_out=$2 _l_err=$3; shift 3
    (ulimit -"${LIMIT:-v}" "$_l_kb" && exec "$@") > "$_l_out" 2> "$_l_err" < /dev/null
    RC=$?
}

limited 400000 "$TMP/plain.out" "$TMP/plain.err" "$PROGS/aslimit" 250
check aslimit/plain-exit-status 0 "$RC"
for mode in preload msrec; do
    f=$TMP/as.$mode.memscope
    rm -f "$f"
    if [ $mode = preload ]; then
        limited 400000 "$TMP/$mode.out" "$TMP/$mode.err" \
            env LD_PRELOAD="$LIBMS" MEMSCOPE_AUTO_EXPORT=1 MEMSCOPE_EXPORT_PATH="$f" "$PROGS/aslimit" 250
    else
        limited 400000 "$TMP/$mode.out" "$TMP/$mode.err" "$MSREC" run -q -o "$f" -- "$PROGS/aslimit" 250
    fi
    check aslimit/$mode/exit-status 0 "$RC"
    check aslimit/$mode/stdout "$(cat "$TMP/plain.out")" "$(cat "$TMP/$mode.out")"
    if [ ! -s "$f" ]; then fail aslimit/$mode/trace "no trace: $(head -c 300 "$TMP/$mode.err")"; continue; fi
    check aslimit/$mode/complete "complete" "$("$MSCONV" "$f" --info --lang en 2>&1 | sed -n 's/^integrity: *//p')"
    if "$MSCONV" "$f" --json > "$f.json" 2> "$f.err"; then
        check aslimit/$mode/sites "6000 6000 1" "$(python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
s = [x for x in d["sites"] if x["path"].startswith("small_alloc")]
big = [x for x in d["sites"] if x["max_size"] == 250 << 20]
print(sum(x["allocations"] for x in s), sum(x["deallocations"] for x in s), len(big))' "$f.json")"
    else
        fail aslimit/$mode/json "$(head -c 300 "$f.err")"
    fi
done

# too small a limit: unrecorded, same result, one line
limited 100000 "$TMP/small.plain.out" "$TMP/small.plain.err" "$PROGS/aslimit" 10
check aslimit/small/plain-exit-status 0 "$RC"
rm -f "$TMP/small.memscope"
limited 100000 "$TMP/small.out" "$TMP/small.err" \
    env LD_PRELOAD="$LIBMS" MEMSCOPE_AUTO_EXPORT=1 MEMSCOPE_EXPORT_PATH="$TMP/small.memscope" "$PROGS/aslimit" 10
check aslimit/small/exit-status 0 "$RC"
check aslimit/small/stdout "$(cat "$TMP/small.plain.out")" "$(cat "$TMP/small.out")"
if grep -q 'not recording: the address-space or data limit' "$TMP/small.err"; then pass aslimit/small/says-why
else fail aslimit/small/says-why "stderr: $(head -c 300 "$TMP/small.err")"; fi

# the data limit: the program's 250 MiB and its threads' blocks, recorded
LIMIT=d limited 400000 "$TMP/data.plain.out" "$TMP/data.plain.err" "$PROGS/aslimit" 250
check aslimit/data/plain-exit-status 0 "$RC"
for mode in preload msrec; do
    f=$TMP/data.$mode.memscope
    rm -f "$f"
    if [ $mode = preload ]; then
        LIMIT=d limited 400000 "$TMP/data.$mode.out" "$TMP/data.$mode.err" \
            env LD_PRELOAD="$LIBMS" MEMSCOPE_AUTO_EXPORT=1 MEMSCOPE_EXPORT_PATH="$f" "$PROGS/aslimit" 250
    else
        LIMIT=d limited 400000 "$TMP/data.$mode.out" "$TMP/data.$mode.err" "$MSREC" run -q -o "$f" -- "$PROGS/aslimit" 250
    fi
    check aslimit/data/$mode/exit-status 0 "$RC"
    check aslimit/data/$mode/stdout "$(cat "$TMP/data.plain.out")" "$(cat "$TMP/data.$mode.out")"
    check aslimit/data/$mode/complete "complete" "$("$MSCONV" "$f" --info --lang en 2>&1 | sed -n 's/^integrity: *//p')"
done
[ -n "$KEEP" ] || rm -rf "$TMP"
