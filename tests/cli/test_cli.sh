#!/bin/sh
# CLI contract of msconv (and msdiff when built): bad inputs and outputs
# give exactly one stderr line "msconv: FILE: reason", a non-zero exit and
# no output file; a truncated file gives its valid prefix plus a warning;
# --help exits 0. Uses the golden heap trace as the valid input. msconv's
# note naming the modules it could not symbolize from (the golden's
# /usr/bin/demo is on no machine) is information, not one of these lines.
. "${MS_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib.sh"
GOLD="$MS_ROOT/tests/golden/v1.0-heap.memscope"
SNAP="$MS_ROOT/tests/golden/v1.0-snapshot.memscope"
[ -x "$MSCONV" ] || { fail "cli/msconv built" "$MSCONV missing"; exit 1; }
[ -f "$GOLD" ] || { fail "cli/golden present" "$GOLD missing"; exit 1; }

# expect_err NAME TOOL FILE-IN-MESSAGE OUTDIR args... : non-zero exit,
# exactly one stderr line starting "TOOL: FILE: ", nothing left in OUTDIR
nosym() { sed -i '/: [0-9]* stack addresses have no symbols (/d' "$1"; }
expect_err() {
    n=$1; tool=$2; what=$3; outdir=$4; shift 4
    "$@" >"$TMP/out" 2>"$TMP/err"; rc=$?
    nosym "$TMP/err"
    lines=$(wc -l <"$TMP/err" | tr -d ' ')
    first=$(head -n 1 "$TMP/err")
    left=""
    [ -n "$outdir" ] && [ -d "$outdir" ] && left=$(ls -A "$outdir")
    if [ "$rc" -eq 0 ]; then fail "$n" "exit status 0"
    elif [ "$lines" != 1 ]; then fail "$n" "expected 1 stderr line, got $lines: $(head -c 300 "$TMP/err")"
    else case "$first" in
        "$tool: $what: "*) if [ -n "$left" ]; then fail "$n" "output left behind: $left"; else pass "$n"; fi ;;
        *) fail "$n" "stderr line '$first' does not start with '$tool: $what: '" ;;
    esac; fi
}

# ---- inputs ----
mkdir -p "$TMP/in" "$TMP/o"
: >"$TMP/in/empty.memscope"
cp /etc/passwd "$TMP/in/passwd.memscope"
mkdir "$TMP/in/dir.memscope"
for mode in --info --dump --json; do
    expect_err "cli/missing file $mode" msconv "$TMP/in/nope.memscope" "$TMP/o" \
        "$MSCONV" "$TMP/in/nope.memscope" $mode -o "$TMP/o/x"
    expect_err "cli/empty file $mode" msconv "$TMP/in/empty.memscope" "$TMP/o" \
        "$MSCONV" "$TMP/in/empty.memscope" $mode -o "$TMP/o/x"
    expect_err "cli/directory $mode" msconv "$TMP/in/dir.memscope" "$TMP/o" \
        "$MSCONV" "$TMP/in/dir.memscope" $mode -o "$TMP/o/x"
    expect_err "cli/not memscope $mode" msconv "$TMP/in/passwd.memscope" "$TMP/o" \
        "$MSCONV" "$TMP/in/passwd.memscope" $mode -o "$TMP/o/x"
done

# major version 2: patch u16 major at offset 8, recompute the header check
# (u32 at offset 20 = low 32 bits of XXH3_64 over bytes 0..19)
V2="$TMP/in/v2.memscope"
cp "$GOLD" "$V2"
patched=0
if python3 -c 'import xxhash' 2>/dev/null; then
    python3 - "$V2" <<'EOF' && patched=1
import sys, struct, xxhash
p = sys.argv[1]
b = bytearray(open(p, 'rb').read())
b[8:10] = struct.pack('<H', 2)
b[20:24] = struct.pack('<I', xxhash.xxh3_64_intdigest(bytes(b[0:20])) & 0xffffffff)
open(p, 'wb').write(b)
EOF
fi
if [ "$patched" = 0 ] && command -v cc >/dev/null 2>&1; then
    cat >"$TMP/patch.c" <<'EOF'
#include <stdio.h>
#include <xxhash.h>
int main(int argc, char **argv) {
    unsigned char h[24];
    FILE *f = fopen(argv[1], "r+b");
    if (!f || fread(h, 1, 24, f) != 24) return 1;
    h[8] = 2; h[9] = 0;
    unsigned v = (unsigned)XXH3_64bits(h, 20);
    for (int i = 0; i < 4; i++) h[20 + i] = (unsigned char)(v >> (8 * i));
    if (fseek(f, 0, SEEK_SET) || fwrite(h, 1, 24, f) != 24) return 1;
    return fclose(f) != 0;
}
EOF
    cc -o "$TMP/patch" "$TMP/patch.c" -lxxhash 2>/dev/null && "$TMP/patch" "$V2" && patched=1
fi
if [ "$patched" = 1 ]; then
    for mode in --info --dump --json; do
        expect_err "cli/major version 2 $mode" msconv "$V2" "$TMP/o" "$MSCONV" "$V2" $mode -o "$TMP/o/x"
    done
    grep -q "version 2" "$TMP/err" && pass "cli/major version 2 named in message" ||
        fail "cli/major version 2 named in message" "$(cat "$TMP/err")"
else
    fail "cli/major version 2" "could not patch the header (no python3 xxhash, no cc)"
fi

# ---- outputs ----
expect_err "cli/unwritable output path" msconv "/nonexistent/dir/x.json" "" \
    "$MSCONV" "$GOLD" --json -o /nonexistent/dir/x.json
[ -e /nonexistent/dir/x.json ] && fail "cli/unwritable output left nothing" "file exists" ||
    pass "cli/unwritable output left nothing"
if [ "$(id -u)" = 0 ]; then
    RO=/proc                # root ignores directory permissions; /proc refuses new files
else
    RO="$TMP/ro"; mkdir -p "$RO"; chmod 555 "$RO"
fi
for mode in --info --dump --json; do
    expect_err "cli/read-only output dir $mode" msconv "$RO/x.out" "" "$MSCONV" "$GOLD" $mode -o "$RO/x.out"
    [ -e "$RO/x.out" ] && fail "cli/read-only output dir $mode: nothing left" "file exists" ||
        pass "cli/read-only output dir $mode: nothing left"
done
[ "$RO" != /proc ] && chmod 755 "$RO"

# ---- usage ----
"$MSCONV" --help >"$TMP/out" 2>"$TMP/err"; check "cli/--help exits 0" 0 $?
grep -q -- "--json" "$TMP/out" && pass "cli/--help lists modes" || fail "cli/--help lists modes" "no --json"
"$MSCONV" --version >"$TMP/out" 2>&1; check "cli/--version exits 0" 0 $?
"$MSCONV" >/dev/null 2>"$TMP/err"; check "cli/no arguments is a usage error" 2 $?
"$MSCONV" "$GOLD" --frobnicate >/dev/null 2>"$TMP/err"; check "cli/unknown option exit 2" 2 $?
check "cli/unknown option one line" 1 "$(wc -l <"$TMP/err" | tr -d ' ')"
"$MSCONV" "$GOLD" --json --top x >/dev/null 2>&1; check "cli/bad --top exit 2" 2 $?
"$MSCONV" "$GOLD" --info --lang fr >/dev/null 2>&1; check "cli/bad --lang exit 2" 2 $?
"$MSCONV" --lang zh --info "$GOLD" >/dev/null 2>&1; check "cli/input after options" 0 $?

# ---- valid input ----
# (the v1.0 golden's END has n_dropped 2: incomplete, spec 8.5; v1.1's is complete)
"$MSCONV" "$GOLD" --info --lang en >"$TMP/info" 2>"$TMP/err"; check "cli/info golden exit" 0 $?
check "cli/info golden warns once" "msconv: $GOLD: incomplete: 2 events seen but not recorded" "$(cut -d'(' -f1 "$TMP/err" | sed 's/ *$//')"
grep -q "integrity: *incomplete: 2 events seen but not recorded" "$TMP/info" && pass "cli/info golden dropped" || fail "cli/info golden dropped" "$(cat "$TMP/info")"
"$MSCONV" "$MS_ROOT/tests/golden/v1.1-heap.memscope" --info --lang en >"$TMP/info" 2>"$TMP/err"; check "cli/info v1.1 golden exit" 0 $?
check "cli/info v1.1 golden quiet stderr" "" "$(cat "$TMP/err")"
grep -q "^integrity: *complete$" "$TMP/info" && pass "cli/info v1.1 golden complete" || fail "cli/info v1.1 golden complete" "$(cat "$TMP/info")"
"$MSCONV" "$GOLD" --json -o "$TMP/o/g.json" 2>"$TMP/err"; check "cli/json golden exit" 0 $?
ls -A "$TMP/o" | grep -q tmp && fail "cli/json no temp file left" "$(ls -A "$TMP/o")" || pass "cli/json no temp file left"
if python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["summary"]["total_allocations"] > 0 and d["integrity"]["verdict"] == "incomplete"' "$TMP/o/g.json" 2>"$TMP/err"; then
    pass "cli/json golden parses"; else fail "cli/json golden parses" "$(tail -1 "$TMP/err")"; fi
"$MSCONV" "$GOLD" --json --events -o "$TMP/o/e.json" 2>/dev/null; check "cli/json --events exit" 0 $?
if python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert len(d["allocations"]) == d["summary"]["total_allocations"]' "$TMP/o/e.json" 2>"$TMP/err"; then
    pass "cli/json --events lists every allocation"; else fail "cli/json --events lists every allocation" "$(tail -1 "$TMP/err")"; fi
"$MSCONV" "$GOLD" --dump -o "$TMP/o/d.jsonl" 2>/dev/null; check "cli/dump golden exit" 0 $?
if python3 -c '
import json,sys
n=0
for line in open(sys.argv[1]): json.loads(line); n+=1
assert n > 10
' "$TMP/o/d.jsonl" 2>"$TMP/err"; then pass "cli/dump is JSON Lines"; else fail "cli/dump is JSON Lines" "$(tail -1 "$TMP/err")"; fi
grep -q 'u0000' "$TMP/o/d.jsonl" && pass "cli/dump keeps NUL in cmdline" || fail "cli/dump keeps NUL in cmdline" "no \\u0000"
"$MSCONV" "$GOLD" --dump -o "$TMP/o/d.jsonl" 2>/dev/null; check "cli/output replaced atomically" 0 $?
if [ -f "$SNAP" ]; then
    "$MSCONV" "$SNAP" --info >/dev/null 2>&1; check "cli/info snapshot" 0 $?
    "$MSCONV" "$SNAP" --dump >/dev/null 2>&1; check "cli/dump snapshot" 0 $?
fi

# ---- truncated file: valid prefix + one warning line ----
size=$(wc -c <"$GOLD")
head -c $((size - 100)) "$GOLD" >"$TMP/in/cut.memscope"
for mode in --info --dump --json; do
    "$MSCONV" "$TMP/in/cut.memscope" $mode -o "$TMP/o/cut.out" 2>"$TMP/err"; rc=$?
    nosym "$TMP/err"
    check "cli/truncated $mode exit 0" 0 $rc
    check "cli/truncated $mode one warning" 1 "$(wc -l <"$TMP/err" | tr -d ' ')"
    case "$(cat "$TMP/err")" in
        "msconv: $TMP/in/cut.memscope: truncated at offset "*) pass "cli/truncated $mode warning text" ;;
        *) fail "cli/truncated $mode warning text" "$(cat "$TMP/err")" ;;
    esac
    [ -s "$TMP/o/cut.out" ] && pass "cli/truncated $mode output written" || fail "cli/truncated $mode output written" "empty"
done
if python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["integrity"]["verdict"] == "truncated", d["integrity"]; assert d["summary"]["events"] > 0' "$TMP/o/cut.out" 2>"$TMP/err"; then
    pass "cli/truncated json keeps the prefix"; else fail "cli/truncated json keeps the prefix" "$(tail -1 "$TMP/err")"; fi

# ---- many allocations: top-N selection and --events (synthetic trace) ----
GEN="$MS_BUILD/tests/test_analyze"
if [ -x "$GEN" ] && "$GEN" --bench 30000 2 "$TMP/in/big.memscope" >/dev/null 2>&1; then
    "$MSCONV" "$TMP/in/big.memscope" --json -o "$TMP/o/top.json" 2>/dev/null; check "cli/json top exit" 0 $?
    "$MSCONV" "$TMP/in/big.memscope" --json --top 5 -o "$TMP/o/top5.json" 2>/dev/null
    "$MSCONV" "$TMP/in/big.memscope" --json --events -o "$TMP/o/all.json" 2>/dev/null
    if python3 - "$TMP/o" <<'EOF' 2>"$TMP/err"
import json, sys
d = json.load(open(sys.argv[1] + "/top.json"))
assert d["summary"]["total_allocations"] == 15000, d["summary"]["total_allocations"]
assert d["allocations_selection"] == "top_by_size" and len(d["allocations"]) == 1000
sizes = [a["size"] for a in d["allocations"]]
assert sizes == sorted(sizes, reverse=True)
d5 = json.load(open(sys.argv[1] + "/top5.json"))
assert [a["size"] for a in d5["allocations"]] == sizes[:5]
e = json.load(open(sys.argv[1] + "/all.json"))
assert len(e["allocations"]) == 15000 and e["allocations_selection"] == "all"
assert all(a["lifetime_ms"] is not None for a in e["allocations"])
EOF
    then pass "cli/json top-N and --events on 15000 allocations"
    else fail "cli/json top-N and --events on 15000 allocations" "$(tail -1 "$TMP/err")"; fi
fi

# ---- msdiff, when built ----
if [ -x "$MSDIFF" ]; then
    expect_err "cli/msdiff missing file" msdiff "$TMP/in/nope.memscope" "$TMP/o2" \
        "$MSDIFF" "$TMP/in/nope.memscope" "$GOLD"
    expect_err "cli/msdiff empty file" msdiff "$TMP/in/empty.memscope" "$TMP/o2" \
        "$MSDIFF" "$GOLD" "$TMP/in/empty.memscope"
    expect_err "cli/msdiff not memscope" msdiff "$TMP/in/passwd.memscope" "$TMP/o2" \
        "$MSDIFF" "$TMP/in/passwd.memscope" "$GOLD"
    expect_err "cli/msdiff directory" msdiff "$TMP/in/dir.memscope" "$TMP/o2" \
        "$MSDIFF" "$TMP/in/dir.memscope" "$GOLD"
    "$MSDIFF" --help >/dev/null 2>&1; check "cli/msdiff --help exits 0" 0 $?
fi
rm -rf "$TMP"
exit 0
