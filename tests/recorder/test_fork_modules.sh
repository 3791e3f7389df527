#!/bin/sh
# Recorder, MEMSCOPE_FOLLOW_FORK: a child forked after the parent wrote its
# module map (tests/progs/forkmods.c) starts a new file that must carry its
# own MODULE records (msr_modules_reset in recorder/lib/modules.c) — before,
# the child's table said "already written" and its file had none, so the
# SYMBOL records named module ids that the file never defined. Checks: the
# child's file has MODULE records, one of them the program itself, every
# SYMBOL's module id (added by msrec symbolize from the file's own MODULE
# records) is defined in the file, and msconv --text / --json name
# child_work and main.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/common.sh"
T=fork_modules
require "$LIBMS" "$MSCONV" "$MSREC" "$PROGS/forkmods"
d=$TMP/fm; mkdir -p "$d"
export MEMSCOPE_FOLLOW_FORK=1
record preload forkmods "$d/f.%p.memscope" -- "$PROGS/forkmods"
unset MEMSCOPE_FOLLOW_FORK
check fork_modules/exit-status 0 "$RC"
cpid=$(sed -n 's/^TRUTH forkmods-child pid=\([0-9]*\).*/\1/p' "$TMP/forkmods.out")
ppid=$(sed -n 's/^TRUTH forkmods-parent pid=\([0-9]*\).*/\1/p' "$TMP/forkmods.out")
for who in parent child; do
    if [ $who = child ]; then f=$d/f.$cpid.memscope; else f=$d/f.$ppid.memscope; fi
    n=fork_modules/$who
    check_trace $n "$f" || continue
    "$MSREC" symbolize -q "$f" > /dev/null 2>&1
    "$MSCONV" "$f" --dump > "$f.dump" 2> /dev/null
    res=$(python3 - "$f.dump" "$(readlink -f "$PROGS/forkmods")" <<'PY'
import json, sys
mods, syms, exe = {}, [], False
for line in open(sys.argv[1]):
    line = line.strip()
    if not line.startswith("{"):
        continue
    try:
        r = json.loads(line)
    except ValueError:
        continue
    if r.get("type") == "module":
        mods[r.get("id")] = r.get("path", "")
        exe = exe or r.get("path", "") == sys.argv[2]
    elif r.get("type") == "symbol":
        syms.append(r.get("module_id"))
undef = [m for m in syms if m and m not in mods]
print("modules=%s exe=%s symbols=%s undefined=%d" % ("yes" if mods else "no", "yes" if exe else "no",
      "yes" if syms else "no", len(undef)))
PY
)
    check $n/module-records "modules=yes exe=yes symbols=yes undefined=0" "$res"
done
f=$d/f.$cpid.memscope
if [ -s "$f.json" ]; then
    check_count fork_modules/child-4321 "$f.json" 4 size=4321
    check_frame fork_modules/child-json-child_work "$f.json" child_work size=4321
    check_frame fork_modules/child-json-main "$f.json" main size=4321
    "$MSCONV" "$f" --text --lang en > "$f.txt" 2>&1
    check fork_modules/child-text-child_work 1 "$(grep -c 'child_work (.*forkmods.c:[0-9]*)' "$f.txt")"
fi
rm -rf "$TMP"
