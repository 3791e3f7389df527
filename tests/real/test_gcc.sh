#!/bin/sh
# Real programs: `gcc -O2 -c` of a generated mid-size C file
# (tests/real/gen_c.sh, ~1400 lines) under `msrec run --follow-children`:
# the driver, cc1 and as each record into their own file. Checks: exit 0,
# the same (empty) stdout and stderr as without the recorder, an object file
# identical (cmp) to the uninstrumented one, every trace complete, and cc1's
# trace has its heap events (cc1 allocates through GCC's own
# obstacks/ggc on top of malloc, many thousands of calls).
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/common.sh"
T=real/gcc
need $T gcc cmp

cd "$TMP" || exit 1
sh "$MS_ROOT/tests/real/gen_c.sh" $((30 * REAL_SCALE)) > mid.c
gcc -O2 -Wall -c mid.c -o plain.o > gcc.plain.out 2> gcc.plain.err < /dev/null
PRC=$?
rm -rf tr; mkdir tr
"$MSREC" run -q --follow-children -o tr/gcc.memscope -- gcc -O2 -Wall -c mid.c -o rec.o \
    > gcc.rec.out 2> gcc.rec.err < /dev/null
RC=$?
check $T/plain-run-ok 0 "$PRC"
check $T/exit-status 0 "$RC"
check $T/stderr-unchanged "$(cat gcc.plain.err)" "$(cat gcc.rec.err)"
check_same_output $T gcc.rec gcc.plain
if cmp -s plain.o rec.o; then pass $T/object-identical
else fail $T/object-identical "$(cmp plain.o rec.o 2>&1 | head -1)"; fi
# gcc (driver), cc1, as
check_all_complete $T/all-traces-complete tr 3
cc1=""
for f in tr/*.memscope; do
    "$MSCONV" "$f" --info --lang en 2>/dev/null | grep -q '^process:.*/cc1 ' && cc1=$f
done
if [ -n "$cc1" ]; then
    pass $T/cc1-recorded
    ev=$("$MSCONV" "$cc1" --info --lang en 2>/dev/null | sed -n 's/^end: .*(\([0-9]*\) allocs.*/\1/p')
    if [ "${ev:-0}" -ge 10000 ]; then pass $T/cc1-allocs; else fail $T/cc1-allocs "only '${ev}' allocations in cc1's trace"; fi
else
    fail $T/cc1-recorded "no trace of cc1 among: $(ls tr | tr '\n' ' ')"
fi
