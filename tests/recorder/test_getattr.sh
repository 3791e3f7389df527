#!/bin/sh
# Recorder, threads whose first heap event happens inside
# pthread_getattr_np (tests/progs/getattr: 6 threads that ask for their own
# stack bounds first, as the JVM, Rust's std and V8 do; the main thread
# asks before it allocates; one thread asks for the main thread's). glibc
# holds the thread's descriptor lock while it allocates there, and the
# recorder used to ask pthread_getattr_np for the bounds of a thread it met
# at that allocation: the program hung for ever (every Rust program,
# `java`, Debian's ripgrep). Now: the program ends (a 60 s timeout would
# show a hang as exit status 124) with the output of a plain run, under
# LD_PRELOAD and msrec run, and the trace holds each thread's blocks with
# their call stacks: the getattr_alloc site has threads x 500 allocations,
# their bytes, every one freed, called from worker (the stack of a thread
# attached without bounds, and its bounds read at its next allocation).
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/common.sh"
T=getattr
require "$LIBMS" "$MSREC" "$MSCONV" "$PROGS/getattr"

record plain getattr.plain - -- "$PROGS/getattr"
check getattr/plain-exit-status 0 "$RC"
for mode in preload msrec; do
    f=$TMP/ga.$mode.memscope
    rm -f "$f"
    # the timeout runs outside the recorded process
    if [ $mode = preload ]; then
        timeout 60 env LD_PRELOAD="$LIBMS" MEMSCOPE_AUTO_EXPORT=1 MEMSCOPE_EXPORT_PATH="$f" "$PROGS/getattr" \
            > "$TMP/getattr.$mode.out" 2> "$TMP/getattr.$mode.err" < /dev/null
    else
        timeout 60 "$MSREC" run -q -o "$f" -- "$PROGS/getattr" \
            > "$TMP/getattr.$mode.out" 2> "$TMP/getattr.$mode.err" < /dev/null
    fi
    RC=$?
    check getattr/$mode/exit-status 0 "$RC"
    check getattr/$mode/stdout "$(cat "$TMP/getattr.plain.out")" "$(cat "$TMP/getattr.$mode.out")"
    check_trace getattr/$mode "$f" || continue
    a=$(truth getattr allocs); b=$(truth getattr bytes)
    check getattr/$mode/site "$a $b $a 0 worker" "$(python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
s = [x for x in d["sites"] if x["path"].startswith("getattr_alloc")]
callers = sorted({x["path"].split(" ← ")[1].split(" ")[0] for x in s if " ← " in x["path"]})
print(sum(x["allocations"] for x in s), sum(x["allocated_bytes"] for x in s),
      sum(x["deallocations"] for x in s), sum(x["leaked_allocations"] for x in s), " ".join(callers))' "$f.json")"
    check getattr/$mode/threads "$(( $(truth getattr threads) + 1 ))" "$(sumval "$f.json" threads)"
done
[ -n "$KEEP" ] || rm -rf "$TMP"
