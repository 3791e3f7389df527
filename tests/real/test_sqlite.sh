#!/bin/sh
# Real programs: sqlite3 under `msrec run`.
#  - 100 short runs (`sqlite3 :memory: "select 1"`, x REAL_SCALE): no crash,
#    the same output as without the recorder, every trace complete (END
#    present, --info verdict "complete"). A crash here used to come from
#    libdw/debuginfod/OpenSSL loaded into the traced process (their exit
#    handlers ran after the recorder's).
#  - a bigger script (a table, 20000 inserts in one transaction, an index,
#    queries): same output; allocs, frees, bytes, blocks in use at exit and
#    leak classes equal valgrind memcheck's exactly; no unmatched frees (a
#    free of a block the trace never saw means the recorder's own heap use
#    leaked into the trace).
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/common.sh"
T=real/sqlite
need $T sqlite3

# --- many short runs
n=$T/short
N=$((100 * REAL_SCALE))
sqlite3 :memory: "select 1" > "$TMP/short.plain.out" 2>&1 < /dev/null
crashes=0; diffs=0; incomplete=0; why=""
i=0
while [ $i -lt $N ]; do
    i=$((i + 1))
    f=$TMP/s.memscope; rm -f "$f"
    "$MSREC" run -q -o "$f" -- sqlite3 :memory: "select 1" > "$TMP/short.out" 2> "$TMP/short.err" < /dev/null
    rc=$?
    if [ $rc -ne 0 ]; then
        crashes=$((crashes + 1))
        [ $crashes -le 3 ] && why="$why run $i: exit $rc ($(signame $rc)) $(head -c 120 "$TMP/short.err" | tr '\n' ' ');"
    fi
    cmp -s "$TMP/short.out" "$TMP/short.plain.out" || diffs=$((diffs + 1))
    v=$(verdict "$f")
    if [ "$v" != complete ]; then
        incomplete=$((incomplete + 1))
        [ $incomplete -le 3 ] && why="$why run $i: $v;"
    fi
done
if [ $crashes -eq 0 ]; then pass "$n/no-crash"; else fail "$n/no-crash" "$crashes of $N runs failed:$why"; fi
check "$n/stdout-unchanged-runs" "$N" "$((N - diffs))"
if [ $incomplete -eq 0 ]; then pass "$n/all-traces-complete"; else fail "$n/all-traces-complete" "$incomplete of $N traces incomplete:$why"; fi

# --- a bigger script, compared with memcheck
n=$T/inserts
sql=$TMP/big.sql
{ sh "$MS_ROOT/tests/real/gen_sql.sh"; echo "select v, count(*) from t group by v order by 2 desc, 1 limit 3;"; } > "$sql"
run_pair $n.p "$TMP/ins" -- sqlite3 -batch :memory: ".read $sql"
check_pair $n.p
f=$TMP/ins/x.memscope
check_complete $n/complete "$f"
if check_json $n "$f"; then
    check $n/no-unmatched-frees 0 "$(sumval "$f.json" unmatched_frees)"
    vg_run $n -- sqlite3 -batch :memory: ".read $sql"
    vg_compare $n "$f.json"
fi
