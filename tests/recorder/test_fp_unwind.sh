#!/bin/sh
# Recorder, --unwind fp on code without frame pointers (issue 9, item 7).
#  - tests/progs/nofp is built -O2 -fomit-frame-pointer (as Debian builds its
#    binaries) and mallocs through nofp_level1..5: under fp the stack still
#    has its full depth (the five levels, main and libc's start: >= 8 frames,
#    counted from the STACK nodes of msconv --dump), with the names once
#    msrec run has symbolized it; one stderr line names the module, none
#    with MEMSCOPE_QUIET=1.
#  - a program built with frame pointers (tests/progs/deep) keeps the fp
#    walk: no such line, and the full 64 frames.
#  - binutils (`as --version`, `ld --version`: an fp walk used to read a
#    frame pointer of 0xfffffffffffffff0 and crash) exit 0 with their
#    normal stdout, and so does `gcc -O2 -c` with cc1 and as recorded too.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/common.sh"
T=fp_unwind
require "$LIBMS" "$MSREC" "$MSCONV" "$PROGS/nofp" "$PROGS/deep"

# depth DUMP SIZE : frames of the first event of SIZE bytes
depth() {
    python3 - "$1" "$2" <<'EOF'
import json, sys
parent, stack = {}, None
for line in open(sys.argv[1]):
    r = json.loads(line)
    if r.get("type") == "stack":
        for n in r["nodes"]:
            parent[n["id"]] = n["parent"]
    elif r.get("type") == "event" and stack is None and r.get("size") == int(sys.argv[2]):
        stack = r["stack"]
d = 0
while stack:
    d += 1
    stack = parent.get(stack, 0)
print(d)
EOF
}

record plain nofp.plain - -- "$PROGS/nofp"
unset MEMSCOPE_QUIET
export MEMSCOPE_UNWIND=fp
record preload nofp.fp "$TMP/nofp.fp.memscope" -- "$PROGS/nofp"
unset MEMSCOPE_UNWIND
export MEMSCOPE_QUIET=1
check fp/nofp/exit-status 0 "$RC"
check_same_output fp/nofp nofp.fp nofp.plain
if "$MSCONV" "$OUTFILE" --dump > "$TMP/nofp.dump" 2> "$TMP/nofp.dump.err"; then
    d=$(depth "$TMP/nofp.dump" 7771)
    if [ "${d:-0}" -ge 8 ] 2>/dev/null; then pass fp/nofp/full-depth
    else fail fp/nofp/full-depth "stack of the 7771-byte malloc has ${d:-no} frames (want >= 8)"; fi
else
    fail fp/nofp/dump "msconv --dump failed: $(head -c 200 "$TMP/nofp.dump.err")"
fi
w=$(grep -c "nofp has no frame pointers" "$TMP/nofp.fp.err")
check fp/nofp/warned-once 1 "$w"

export MEMSCOPE_UNWIND=fp
record preload nofp.quiet "$TMP/nofp.quiet.memscope" -- "$PROGS/nofp"
unset MEMSCOPE_UNWIND
check fp/nofp/quiet-no-warning 0 "$(grep -c "frame pointers" "$TMP/nofp.quiet.err")"

# names: msrec run symbolizes the trace (recorder/symbolize/)
"$MSREC" run -q --unwind fp -o "$TMP/nofp.msrec.memscope" -- "$PROGS/nofp" > /dev/null 2> "$TMP/nofp.msrec.err"
if jsonof "$TMP/nofp.msrec.memscope"; then
    fr=$($MSJSON frames "$TMP/nofp.msrec.memscope.json" size=7771 | sed 's/ .*//' | tr '\n' ' ')
    case $fr in
    "nofp_level5 nofp_level4 nofp_level3 nofp_level2 nofp_level1 main "*) pass fp/nofp/names ;;
    *) fail fp/nofp/names "frames: $fr" ;;
    esac
else
    fail fp/nofp/names "msconv --json failed on the msrec trace"
fi

unset MEMSCOPE_QUIET
export MEMSCOPE_UNWIND=fp
record preload deep.fp "$TMP/deep.fp.memscope" -- "$PROGS/deep"
unset MEMSCOPE_UNWIND
export MEMSCOPE_QUIET=1
check fp/deep/exit-status 0 "$RC"
check fp/deep/no-warning 0 "$(grep -c "deep has no frame pointers" "$TMP/deep.fp.err")"
if "$MSCONV" "$OUTFILE" --dump > "$TMP/deep.dump" 2>/dev/null; then
    check fp/deep/depth 64 "$(depth "$TMP/deep.dump" 31337)"
else
    fail fp/deep/dump "msconv --dump failed"
fi

for tool in as ld; do
    command -v $tool > /dev/null || { fail fp/$tool "$tool not installed (binutils)"; continue; }
    record plain $tool.plain - -- $tool --version
    export MEMSCOPE_UNWIND=fp
    record preload $tool.fp "$TMP/$tool.fp.memscope" -- $tool --version
    unset MEMSCOPE_UNWIND
    check fp/$tool/exit-status 0 "$RC"
    check_same_output fp/$tool $tool.fp $tool.plain
    check_trace fp/$tool "$OUTFILE"
done

if command -v gcc > /dev/null; then
    mkdir -p "$TMP/gcc"
    printf 'int twice(int x) { return 2 * x; }\n' > "$TMP/gcc/x.c"
    (cd "$TMP/gcc" && "$MSREC" run -q --unwind fp --follow-children -o "$TMP/gcc/g.memscope" -- \
        gcc -O2 -c x.c -o x.o > out 2> err)
    check fp/gcc/exit-status 0 "$?"
    check_cmd fp/gcc/object-written test -s "$TMP/gcc/x.o"
    n=$(ls "$TMP/gcc"/g*.memscope 2>/dev/null | wc -l)
    if [ "$n" -ge 3 ]; then pass fp/gcc/traces-gcc-cc1-as; else fail fp/gcc/traces-gcc-cc1-as "$n trace files"; fi
else
    fail fp/gcc "gcc not installed"
fi
rm -rf "$TMP"
