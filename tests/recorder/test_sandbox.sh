#!/bin/sh
# Recorder, a program that sandboxes itself with seccomp
# (tests/progs/sandbox: 1 000 allocations from before_sandbox, then a filter
# that kills the process on any system call outside its own list, then
# 0.3 s of allocations and a normal exit). The recorder's system calls
# (membarrier and the trace's writes at exit, /proc reads) are not on such
# a list: the program was killed by SIGSYS (status 159) where it exits 0
# alone. Now the recorder finishes the trace just before the filter goes in
# and stays off: for each way of installing it (prctl(PR_SET_SECCOMP),
# seccomp(2) through libc's syscall as libseccomp does, and with TSYNC: the
# filter on every thread), under LD_PRELOAD and msrec run: exit status and
# stdout of the plain run, one line saying so, a complete trace that ends
# "stopped ... seccomp sandbox" and holds the 1 000 allocations before it.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/common.sh"
T=sandbox
require "$LIBMS" "$MSREC" "$MSCONV" "$PROGS/sandbox"
unset MEMSCOPE_QUIET        # the line that says why recording stopped

for how in prctl seccomp tsync; do
    record plain sb.$how.plain - -- "$PROGS/sandbox" $how
    check sandbox/$how/plain-exit-status 0 "$RC"
    for mode in preload msrec; do
        n=sandbox/$how/$mode
        f=$TMP/sb.$how.$mode.memscope
        record $mode sb.$how.$mode "$f" -- "$PROGS/sandbox" $how
        check $n/exit-status 0 "$RC"
        check $n/stdout "$(cat "$TMP/sb.$how.plain.out")" "$(cat "$TMP/sb.$how.$mode.out")"
        if [ $mode = preload ]; then
            if grep -q 'entering a seccomp sandbox: recording stops here' "$TMP/sb.$how.$mode.err"; then pass $n/says-so
            else fail $n/says-so "stderr: $(head -c 300 "$TMP/sb.$how.$mode.err")"; fi
        fi
        info=$("$MSCONV" "$f" --info --lang en 2>&1)
        check $n/complete "complete" "$(printf '%s\n' "$info" | sed -n 's/^integrity: *//p')"
        if printf '%s\n' "$info" | grep -q '^end: *stopped (the program was entering a seccomp sandbox'; then pass $n/end-reason
        else fail $n/end-reason "$(printf '%s\n' "$info" | grep '^end:')"; fi
        if "$MSCONV" "$f" --json > "$f.json" 2> "$f.err"; then
            check $n/before-site "$(sed -n 's/^TRUTH sandbox before=\([0-9]*\).*/\1/p' "$TMP/sb.$how.plain.out")" "$(python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
print(sum(x["allocations"] for x in d["sites"] if x["path"].startswith("before_sandbox")))' "$f.json")"
        else
            fail $n/json "$(head -c 300 "$f.err")"
        fi
    done
done
[ -n "$KEEP" ] || rm -rf "$TMP"
