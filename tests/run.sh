#!/bin/sh
# Runs every test suite and prints one closing line "N passed, N failed".
# Each test program or script prints lines "PASS: name" or "FAIL: name: why";
# a program that exits non-zero without printing a FAIL line counts as one
# failure. Suites:
#   build/tests/*         unit tests (normal build)
#   build/asan/tests/*    the same under ASan+UBSan
#   fuzz corpus replay    normal and ASan builds
#   tests/*/test_*.sh     integration and CLI scripts (use build/)
# Set TESTS=pattern to run only suites whose name contains pattern.
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT" || exit 2
export MS_ROOT="$ROOT" MS_BUILD="$ROOT/build"
# no symbol cache unless a test sets one (tests/recorder/test_symcache.sh):
# answers cached by one test would name the ips another test expects
# unnamed (a module file missing or rebuilt), and ~/.cache stays untouched
export MEMSCOPE_SYMBOL_CACHE=0
LOG=$(mktemp -d "${TMPDIR:-/tmp}/memscope-test.XXXXXX")
pass=0; fail=0

run_suite() { # name, command...
    name=$1; shift
    case "$name" in *"${TESTS:-}"*) ;; *) return ;; esac
    out="$LOG/$(echo "$name" | tr '/ ' '__').log"
    start=$(date +%s)
    "$@" > "$out" 2>&1
    rc=$?
    p=$(grep -c '^PASS: ' "$out"); f=$(grep -c '^FAIL: ' "$out")
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
        f=1; echo "FAIL: $name: exited with status $rc" >> "$out"
    fi
    pass=$((pass + p)); fail=$((fail + f))
    printf '%-48s %4d passed %3d failed  (%ss)\n' "$name" "$p" "$f" "$(( $(date +%s) - start ))"
    if [ "$f" -ne 0 ]; then grep '^FAIL: ' "$out" | head -20 | sed 's/^/    /'; tail -5 "$out" | sed 's/^/    | /'; fi
}

for t in build/tests/*; do [ -x "$t" ] && run_suite "unit/$(basename "$t")" "$t"; done
for t in build/asan/tests/*; do [ -x "$t" ] && run_suite "asan/$(basename "$t")" "$t"; done
[ -x build/bin/fuzz-replay ] && run_suite "fuzz/replay" sh fuzz/replay.sh build/bin/fuzz-replay
[ -x build/asan/bin/fuzz-replay ] && run_suite "asan/fuzz/replay" sh fuzz/replay.sh build/asan/bin/fuzz-replay
for t in tests/*/test_*.sh; do [ -f "$t" ] && run_suite "${t#tests/}" sh "$t"; done

echo "logs: $LOG"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ] && [ "$pass" -gt 0 ]
