#!/bin/sh
# Recorder and fork (tests/progs/forker.c): the parent's trace is valid and
# holds only the parent's events (sizes 1111 and 3333, never the child's
# 2222); without MEMSCOPE_FOLLOW_FORK the child writes nothing; with it the
# child writes its own valid file holding its 5 allocations of 2222 bytes.
# Also: msrec run does not trace exec'd grandchildren unless
# --follow-children; a fork whose child does not record leaves the parent
# no more page faults than without the recorder (tests/progs/forkfaults.c:
# 20 forks, each followed by 4 096 allocations; the recorder's memory used
# to be copied into the child, so the parent faulted on every recorder page
# it wrote after each fork: 4 352 faults against 84).
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/common.sh"
T=fork
require "$LIBMS" "$MSREC" "$MSCONV" "$PROGS/forker" "$PROGS/leaks" "$PROGS/forkfaults"
P=$PROGS/forker

record plain forker.plain - -- "$P"

for follow in 0 1; do
    n=fork/follow$follow
    d=$TMP/f$follow; mkdir -p "$d"
    if [ $follow = 1 ]; then export MEMSCOPE_FOLLOW_FORK=1; else unset MEMSCOPE_FOLLOW_FORK; fi
    record preload forker.f$follow "$d/forker.%p.memscope" -- "$P"
    unset MEMSCOPE_FOLLOW_FORK
    check $n/exit-status 0 "$RC"
    ppid=$(sed -n 's/^TRUTH forker-parent pid=\([0-9]*\).*/\1/p' "$TMP/forker.f$follow.out")
    cpid=$(sed -n 's/^TRUTH forker-child pid=\([0-9]*\).*/\1/p' "$TMP/forker.f$follow.out")
    check $n/child-status 0 "$(sed -n 's/.*child_status=\([0-9-]*\).*/\1/p' "$TMP/forker.f$follow.out")"
    pf=$d/forker.$ppid.memscope; cf=$d/forker.$cpid.memscope
    if check_trace $n/parent "$pf"; then
        j=$pf.json
        check_totals $n/parent "$j" 5 3 9999 2222 2
        check_count $n/parent-no-child-events "$j" 0 size=2222
        check_count $n/parent-1111 "$j" 3 size=1111
        check_count $n/parent-3333 "$j" 2 size=3333
    fi
    if [ $follow = 0 ]; then
        check $n/no-child-file "" "$(ls "$d" | grep -v "^forker.$ppid.memscope" | grep -v json)"
    elif check_trace $n/child "$cf"; then
        j=$cf.json
        check_count $n/child-2222 "$j" 5 size=2222
        check_count $n/child-2222-live "$j" 3 size=2222 is_leaked=true
        check_count $n/child-no-parent-after-fork "$j" 0 size=3333
    fi
done

# msrec run: a shell that runs leaks as an exec'd child. Without
# --follow-children only the shell (root pid) records.
d=$TMP/ex; mkdir -p "$d"
"$MSREC" run -q -o "$d/x.%p.memscope" -- sh -c "$PROGS/leaks; exit 0" > /dev/null 2>&1
check fork/msrec-exec-status 0 "$?"
check fork/msrec-no-grandchild-file 1 "$(ls "$d" | grep -c 'memscope$')"
d=$TMP/exf; mkdir -p "$d"
"$MSREC" run -q --follow-children -o "$d/x.%p.memscope" -- sh -c "$PROGS/leaks; exit 0" > /dev/null 2>&1
check fork/msrec-follow-status 0 "$?"
check fork/msrec-follow-grandchild-file 2 "$(ls "$d" | grep -c 'memscope$')"
found=no
for f in "$d"/*.memscope; do
    [ -e "$f" ] || continue
    jsonof "$f"
    [ "$(sumval "$f.json" leaked_memory)" = 6000 ] && found=yes
done
check fork/msrec-follow-grandchild-recorded yes $found
# --follow-children with -o FILE without %p: the root writes FILE, each
# exec'd descendant FILE with .<pid> inserted (as fork children do)
d=$TMP/exfix; mkdir -p "$d"
"$MSREC" run -q --follow-children -o "$d/fixed.memscope" -- sh -c "$PROGS/leaks; exit 0" > /dev/null 2> "$TMP/exfix.err"
check fork/msrec-follow-fixed-path-files 2 "$(ls "$d" | grep -c 'memscope$')"

# plain LD_PRELOAD: a recorded shell's exec'd child stays passive too
d=$TMP/pl; mkdir -p "$d"
LD_PRELOAD="$LIBMS" MEMSCOPE_AUTO_EXPORT=1 MEMSCOPE_EXPORT_PATH="$d/x.%p.memscope" \
    sh -c "$PROGS/leaks; exit 0" > /dev/null 2>&1
check fork/preload-exec-child-passive 1 "$(ls "$d" | grep -c 'memscope$')"

# msrec run inside a recorded process (inherited MEMSCOPE_ACTIVE_PID): the
# command msrec starts records all the same
d=$TMP/nest; mkdir -p "$d"
MEMSCOPE_ACTIVE_PID=1 "$MSREC" run -q -o "$d/n.memscope" -- "$PROGS/leaks" > /dev/null 2>&1
check fork/msrec-overrides-inherited-active-pid yes "$([ -s "$d/n.memscope" ] && echo yes || echo no)"
# page faults after a fork: at most 64 a fork more than the plain run
record plain ff.plain - -- "$PROGS/forkfaults" 20
fp=$(sed -n 's/^TRUTH forkfaults forks=20 faults=\([0-9]*\)$/\1/p' "$TMP/ff.plain.out")
record preload ff.rec "$TMP/ff.memscope" -- "$PROGS/forkfaults" 20
check fork/faults-status 0 "$RC"
fr=$(sed -n 's/^TRUTH forkfaults forks=20 faults=\([0-9]*\)$/\1/p' "$TMP/ff.rec.out")
check fork/faults-after-fork yes "$([ -n "$fp" ] && [ -n "$fr" ] && [ "$fr" -le $((fp + 64 * 20)) ] && echo yes || echo "no (plain ${fp:-?}, recorded ${fr:-?})")"
check_trace fork/faults-trace "$TMP/ff.memscope" && check_totals fork/faults "$TMP/ff.memscope.json" 101920 101920 4428720 0 0
rm -rf "$TMP"
