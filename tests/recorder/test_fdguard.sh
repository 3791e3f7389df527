#!/bin/sh
# The recorder's descriptors survive the program (recorder/lib/fdguard.c):
# a daemon that closes every descriptor from 3 (close loop, close_range,
# closefrom) or dup2s its own file over every number it finds open, then
# reuses the numbers for its files and a pipe, keeps its files intact, its
# output and status, and the trace is complete with every allocation; the
# trace and libunwind's pipe sit high; under `ulimit -n 4` the recorder
# stays off and says why (its trace would take the program's only free
# number; test_procfds.sh has the case of a program using fd 3), with the
# program's output and status unchanged.
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

# ulimit -n 4: not recorded, said why, the program unchanged
M=1500000
(exec > "$TMP/lim4.out" 2> "$TMP/lim4.err"; ulimit -n 4; LD_PRELOAD="$LIBMS" MEMSCOPE_AUTO_EXPORT=1 \
    MEMSCOPE_EXPORT_PATH="$TMP/lim4.memscope" exec "$PROGS/randalloc" $M)
rc4=$?
check fdguard/ulimit4/status 7 "$rc4"
check fdguard/ulimit4/stdout "randalloc done $M" "$(cat "$TMP/lim4.out")"
check fdguard/ulimit4/no-trace no "$([ -e "$TMP/lim4.memscope" ] && echo yes || echo no)"
grep -q 'not recording: the open-file limit (RLIMIT_NOFILE, ulimit -n) is 4' "$TMP/lim4.err" &&
    pass fdguard/ulimit4/says-why || fail fdguard/ulimit4/says-why "stderr: $(head -c 300 "$TMP/lim4.err")"
rm -rf "$TMP"
