#!/bin/sh
# Real programs: binutils under `msrec run --unwind fp`. binutils is built
# without frame pointers, so the frame-pointer walk meets garbage in rbp;
# it must stop safely instead of crashing the program (it used to: `as
# --version` printed "Internal error (Segmentation fault)", `ld --version`
# died of SIGSEGV). `as --version`, `ld --version`, `objdump -d` of a small
# object: exit 0, stdout identical to the plain run, a complete trace.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/common.sh"
T=real/binutils
need $T as ld objdump gcc

cd "$TMP" || exit 1
cat > small.c <<'EOF'
#include <stdlib.h>
#include <string.h>
struct s { int a; char b[16]; };
int use(int n) {
    struct s *p = calloc((size_t)n, sizeof *p);
    if (!p) return -1;
    for (int i = 0; i < n; i++) { p[i].a = i * 3; strcpy(p[i].b, "hello"); }
    int t = 0;
    for (int i = 0; i < n; i++) t += p[i].a + (int)strlen(p[i].b);
    free(p);
    return t;
}
EOF
gcc -O1 -c small.c -o small.o || { fail $T/setup-object "gcc -c small.c failed"; exit 0; }

for c in "as --version" "ld --version" "objdump -d small.o" "objdump -dr -Mintel small.o"; do
    n=$T/$(echo "$c" | tr -s ' .' '_' | sed 's/_*$//')
    # shellcheck disable=SC2086
    run_pair $n "$TMP/$(tag "$n").d" --unwind fp -- $c
    check $n/plain-run-ok 0 "$PRC"
    check_pair $n
    check_complete $n/complete "$TMP/$(tag "$n").d/x.memscope"
done
