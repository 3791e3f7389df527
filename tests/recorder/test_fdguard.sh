#!/bin/sh
# The recorder's descriptors survive the program (recorder/lib/fdguard.c):
# a daemon that closes every descriptor from 3 (close loop, close_range,
# closefrom) or dup2s its own file over every number it finds open, then
# reuses the numbers for its files and a pipe, keeps its files intact, its
# output and status, and the trace is complete with every allocation; the
# trace and libunwind's pipe sit high; `ulimit -n 4` records completely and
# costs no more than the default limit (it used to be 40-60x slower).
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/common.sh"
T=fdguard
require "$LIBMS" "$MSCONV" "$PROGS/daemon" "$PROGS/randalloc"
N=20000

for m in close range from dup2; do
    mkdir -p "$TMP/plain-$m" "$TMP/rec-$m"
    record plain "$m.plain" - -- "$PROGS/daemon" $m "$TMP/plain-$m" $N
    prc=$RC
    record preload "$m.rec" "$TMP/$m.memscope" -- "$PROGS/daemon" $m "$TMP/rec-$m" $N
    check fdguard/$m/status "$prc" "$RC"
    check fdguard/$m/files-intact "files ok" "$(grep '^files' "$TMP/$m.rec.out")"
    check_same_output fdguard/$m "$m.rec" "$m.plain"
    v=$("$MSCONV" "$TMP/$m.memscope" --info 2>/dev/null | sed -n 's/^integrity: *//p')
    check fdguard/$m/trace-complete complete "$v"
    if check_trace fdguard/$m "$TMP/$m.memscope"; then
        check_count fdguard/$m/all-allocations "$TMP/$m.memscope.json" $N size=4321
    fi
done

# a program whose stderr is closed and whose first file takes number 2,
# open at exit: the recorder's exit line went into that file; now its lines
# go out only while fd 2 is the stderr the process started with
mkdir -p "$TMP/plain-err" "$TMP/rec-err"
record plain err.plain - -- "$PROGS/daemon" stderr "$TMP/plain-err" $N
prc=$RC
unset MEMSCOPE_QUIET
record preload err.rec "$TMP/err.memscope" -- "$PROGS/daemon" stderr "$TMP/rec-err" $N
export MEMSCOPE_QUIET=1
check fdguard/stderr/status "$prc" "$RC"
if cmp -s "$TMP/plain-err/f0" "$TMP/rec-err/f0"; then pass fdguard/stderr/file-on-fd2-unchanged
else fail fdguard/stderr/file-on-fd2-unchanged "$(diff "$TMP/plain-err/f0" "$TMP/rec-err/f0" | head -3 | tr '\n' ' ')"; fi
v=$("$MSCONV" "$TMP/err.memscope" --info 2>/dev/null | sed -n 's/^integrity: *//p')
check fdguard/stderr/trace-complete complete "$v"

# descriptors: the trace and libunwind's pipe (two ends) at 900 or above
# with the default limit of 1024
high=$(ulimit -n 1024; LD_PRELOAD="$LIBMS" MEMSCOPE_AUTO_EXPORT=1 MEMSCOPE_QUIET=1 \
      MEMSCOPE_EXPORT_PATH="$TMP/fds.memscope" sh -c 'ls -l /proc/$$/fd' 2>/dev/null |
      awk '$(NF-2)+0 >= 900 && $NF ~ /pipe:/ {p++} $(NF-2)+0 >= 900 && $NF ~ /fds.memscope/ {t++}
           END {print p+0, t+0}')
check fdguard/descriptors-high "2 1" "$high"

# ulimit -n 4: complete trace, no catastrophic slowdown (was 40-60x)
M=1500000
t2=$(date +%s%N)
(exec > "$TMP/lim4.out" 2> "$TMP/lim4.err"; ulimit -n 4; LD_PRELOAD="$LIBMS" MEMSCOPE_AUTO_EXPORT=1 \
    MEMSCOPE_EXPORT_PATH="$TMP/lim4.memscope" exec "$PROGS/randalloc" $M)
rc4=$?
t3=$(date +%s%N)
(ulimit -n 1024; LD_PRELOAD="$LIBMS" MEMSCOPE_AUTO_EXPORT=1 MEMSCOPE_EXPORT_PATH="$TMP/lim1024.memscope" \
    "$PROGS/randalloc" $M > "$TMP/lim1024.out" 2>/dev/null)
t4=$(date +%s%N)
check fdguard/ulimit4/status 7 "$rc4"
check fdguard/ulimit4/stdout "randalloc done $M" "$(cat "$TMP/lim4.out")"
v=$("$MSCONV" "$TMP/lim4.memscope" --info 2>/dev/null | sed -n 's/^integrity: *//p')
check fdguard/ulimit4/trace-complete complete "$v"
ev4=$("$MSCONV" "$TMP/lim4.memscope" --info 2>/dev/null | sed -n 's/^end:.*, \([0-9]*\) events written.*/\1/p')
ev1=$("$MSCONV" "$TMP/lim1024.memscope" --info 2>/dev/null | sed -n 's/^end:.*, \([0-9]*\) events written.*/\1/p')
check fdguard/ulimit4/events "$ev1" "$ev4"
d4=$(( (t3 - t2) / 1000000 )); d1=$(( (t4 - t3) / 1000000 ))
if [ "$d4" -lt $(( 3 * d1 + 200 )) ]; then pass fdguard/ulimit4/time
else fail fdguard/ulimit4/time "ulimit -n 4 took ${d4} ms, default limit ${d1} ms"; fi
rm -rf "$TMP"
