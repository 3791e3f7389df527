#!/bin/sh
# Trace size: memscope against heaptrack on small real programs (issue 11).
#
# Runs each workload once under `msrec run` and once under `heaptrack -o`,
# side by side, and prints one table row per workload: the memscope file's
# bytes, heaptrack's output bytes (all its files), the ratio, the heap events
# of the memscope trace and its bytes per event. Then the target verdict
# (memscope <= 2x heaptrack on every workload) as MET or MISSED per row.
# TRACESIZE_COLUMNS=1 also prints, per workload, where the bytes go (per
# EVENTS column and per record type; bench/colsize.c).
#
# Environment: BUILD (default build), TRACESIZE_WORKLOADS (default
# "mapstr sqlite perl cc1 python git"), MEMSCOPE_* variables reach the
# recorder (e.g. MEMSCOPE_TICK_SHIFT=15 to compare tick lengths,
# MEMSCOPE_TIME_GRID=0 for exact times in one-thread windows, spec §8.2).
# Needs heaptrack, gcc, g++, sqlite3, perl, python3 (make deps).
cd "$(dirname "$0")/.." || exit 2
ROOT=$(pwd)
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
B=$BUILD/bin
WORKLOADS=${TRACESIZE_WORKLOADS:-mapstr sqlite perl cc1 python git}
for t in heaptrack gcc g++ sqlite3 perl /usr/bin/python3; do
    command -v "$t" > /dev/null || { echo "tracesize.sh: $t missing (make deps)" >&2; exit 1; }
done
[ -x "$B/msrec" ] || { echo "tracesize.sh: $B/msrec missing (make)" >&2; exit 1; }
TMP=$(mktemp -d "${TMPDIR:-/tmp}/mstsz.XXXXXX")
trap 'rm -rf "$TMP"' EXIT INT TERM
COLSIZE=$TMP/colsize
if [ "${TRACESIZE_COLUMNS:-0}" = 1 ]; then
    ${CC:-cc} -O2 -o "$COLSIZE" bench/colsize.c -lzstd || exit 1
fi

sh tests/real/gen_c.sh 20 > "$TMP/mid.c" && gcc -E "$TMP/mid.c" -o "$TMP/mid.i" || exit 1
CC1=$(gcc -print-prog-name=cc1)
awk 'BEGIN{print "create table t(id integer primary key, name text, v real); begin;"; for(i=0;i<20000;i++) printf "insert into t(name,v) values(%cn%d%c,%d.5);\n",39,i,39,i%1000; print "commit; select count(*) from t;"}' > "$TMP/big.sql"
cat > "$TMP/m.cc" <<'X'
#include <map>
#include <string>
#include <cstdio>
int main(){ std::map<std::string,std::string> m; for(int r=0;r<20;r++){ for(int i=0;i<5000;i++) m["key"+std::to_string(i)]=std::string(20+i%50,'x'); m.clear(); } printf("%zu\n", m.size()); }
X
g++ -O2 "$TMP/m.cc" -o "$TMP/mapstr" || exit 1
export PERL_HASH_SEED=0 PERL_PERTURB_KEYS=0
# msrec run sets PYTHONMALLOC=malloc (pymalloc arenas hide objects): heaptrack
# gets the same, so both record the same allocations
export PYTHONMALLOC=${PYTHONMALLOC:-malloc}

ROWS=$TMP/rows
: > "$ROWS"
run() { n=$1; shift
    rm -rf "$TMP/ms_$n" "$TMP/ht_$n"; mkdir "$TMP/ms_$n" "$TMP/ht_$n"
    (cd "$TMP/ms_$n" && "$B/msrec" run -q -o t.memscope -- "$@" > /dev/null 2>&1 < /dev/null)
    (cd "$TMP/ht_$n" && heaptrack -o ht "$@" > /dev/null 2>&1 < /dev/null)
    ms=$(stat -c %s "$TMP/ms_$n/t.memscope" 2>/dev/null)
    ht=$(find "$TMP/ht_$n" -type f -name 'ht*' -printf '%s\n' | awk '{s+=$1} END{print s+0}')
    ev=$("$B/msconv" "$TMP/ms_$n/t.memscope" --info --lang en 2>/dev/null | sed -n 's/^end:.*, \([0-9]*\) events written.*/\1/p')
    if [ -z "$ms" ] || [ "${ht:-0}" -eq 0 ]; then
        echo "$n - - - - - FAILED" >> "$ROWS"; return
    fi
    echo "$n $ms $ht ${ev:-0}" | awk '{ r = $2 / $3; printf "%s %d %d %.2f %d %.3f %s\n", $1, $2, $3, r, $5 = $4, ($4 > 0 ? $2 / $4 : 0), (r <= 2 ? "MET" : "MISSED") }' >> "$ROWS"
    if [ -x "$COLSIZE" ]; then echo "== $n"; "$COLSIZE" "$TMP/ms_$n/t.memscope"; fi
}
for w in $WORKLOADS; do
    case $w in
    mapstr) run mapstr "$TMP/mapstr" ;;
    sqlite) run sqlite sqlite3 :memory: ".read $TMP/big.sql" ;;
    perl)   run perl perl -e 'my %h; for my $i (1..50000) { $h{"k$i"} = [$i, "v" x ($i % 17)]; } print scalar(keys %h),"\n";' ;;
    cc1)    run cc1 "$CC1" -quiet -O2 "$TMP/mid.i" -o /dev/null ;;
    python) run python /usr/bin/python3 -c "import json; d=[json.dumps({'a':i}) for i in range(50000)]" ;;
    git)    run git git --version ;;
    *) echo "tracesize.sh: unknown workload $w" >&2 ;;
    esac
done
echo
echo "clocksource $(cat /sys/devices/system/clocksource/clocksource0/current_clocksource 2>/dev/null), $(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //')${MEMSCOPE_TICK_SHIFT:+, MEMSCOPE_TICK_SHIFT=$MEMSCOPE_TICK_SHIFT}${MEMSCOPE_TIME_GRID:+, MEMSCOPE_TIME_GRID=$MEMSCOPE_TIME_GRID}, PYTHONMALLOC=$PYTHONMALLOC"
printf '| %-8s | %12s | %12s | %7s | %10s | %8s | %s |\n' workload "memscope B" "heaptrack B" ratio events "B/event" "<= 2x"
printf '|----------|-------------:|-------------:|--------:|-----------:|---------:|-------|\n'
awk '{ printf "| %-8s | %12s | %12s | %7s | %10s | %8s | %s |\n", $1, $2, $3, $4, $5, $6, $7 }' "$ROWS"
met=$(grep -c ' MET$' "$ROWS"); all=$(wc -l < "$ROWS")
echo "target trace size <= 2x heaptrack: $([ "$met" -eq "$all" ] && echo MET || echo MISSED) ($met of $all workloads)"
