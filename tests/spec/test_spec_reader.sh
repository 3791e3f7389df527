#!/bin/sh
# Decodes every golden .memscope file with tests/spec/spec_reader.py — an
# independent reader written from spec/FORMAT.md alone, in Python — and
# compares its canonical dump with the checked-in .expected file (which the
# C library reproduces in tests/unit/test_golden.c). A mismatch means the
# spec and the library disagree: one of them is wrong.
. "${MS_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib.sh"
PY=/usr/bin/python3
if ! $PY -c 'import zstandard, xxhash' 2>/dev/null; then
    fail "spec-reader" "python3-zstandard / python3-xxhash missing (make deps)"
    exit 1
fi
n=0
for f in "$MS_ROOT"/tests/golden/*.memscope; do
    [ -f "$f" ] || continue
    name=$(basename "$f" .memscope)
    exp="${f%.memscope}.expected"
    n=$((n + 1))
    if ! $PY "$MS_ROOT/tests/spec/spec_reader.py" "$f" > "$TMP/$name.dump" 2> "$TMP/$name.err"; then
        fail "spec-reader $name" "spec_reader.py failed: $(tail -1 "$TMP/$name.err")"
        continue
    fi
    if cmp -s "$exp" "$TMP/$name.dump"; then
        pass "spec-reader $name: dump equals $name.expected"
    else
        fail "spec-reader $name" "dump differs from $name.expected: $(diff "$exp" "$TMP/$name.dump" | head -3 | tr '\n' ' ' | cut -c1-400)"
    fi
done
[ "$n" -ge 2 ] && pass "spec-reader: goldens found" || fail "spec-reader" "fewer than 2 goldens"

# Differential test on damaged and extended variants of the goldens: the C
# library (make_golden --dump) against the spec reader (tests/spec/spec_diff.py).
# SPEC_DIFF_STRIDE=1 tests every byte offset (about 20 s); the default samples.
DUMPER="$MS_BUILD/bin/make_golden"
if [ -x "$DUMPER" ]; then
    $PY "$MS_ROOT/tests/spec/spec_diff.py" "$DUMPER" "$MS_ROOT"/tests/golden/*.memscope \
        --stride "${SPEC_DIFF_STRIDE:-5}"
else
    fail "spec-diff" "$DUMPER not built (make tests builds it)"
fi
rm -rf "$TMP"
