#!/bin/sh
# Recorder, rings of idle threads (recorder/lib/drain.c, hold_idle): a
# thread's ring grows to 1 MiB in a burst; tests/progs/idleburst's 48
# threads burst, sit idle 1.5 s (main reads its VmRSS then), and burst
# again. The recorder gives an idle thread's ring pages back (before: the
# process held ~54 MiB more than untraced while idle; now ≤ 16 MiB more,
# issue 9's bound for any traced process), and the second burst, written
# into the given-back pages, is recorded whole: the allocations and bytes
# of the burst sites equal what the program made, every block freed.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/common.sh"
T=idlering
require "$LIBMS" "$MSCONV" "$PROGS/idleburst"

rss() { sed -n 's/^IDLE_RSS_KB //p' "$TMP/$1.out"; }
record plain idleburst.plain - -- "$PROGS/idleburst"
check idlering/plain-exit-status 0 "$RC"
f=$TMP/ib.memscope
record preload idleburst.rec "$f" -- "$PROGS/idleburst"
check idlering/exit-status 0 "$RC"
check idlering/stdout-truth "$(grep TRUTH "$TMP/idleburst.plain.out")" "$(grep TRUTH "$TMP/idleburst.rec.out")"
base=$(rss idleburst.plain); traced=$(rss idleburst.rec)
if [ -n "$base" ] && [ -n "$traced" ] && [ $((traced - base)) -le 16384 ]; then
    pass idlering/idle-rss-within-16MiB
else
    fail idlering/idle-rss-within-16MiB "idle VmRSS $traced kB traced, $base kB untraced"
fi
if "$MSCONV" "$f" --json > "$f.json" 2> "$f.err"; then
    got=$(python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
s = [x for x in d["sites"] if x["path"].startswith("burst ")]
print(sum(x["allocations"] for x in s), sum(x["allocated_bytes"] for x in s),
      sum(x["deallocations"] for x in s), sum(x["leaked_allocations"] for x in s))' "$f.json")
    a=$(truth idleburst allocs); b=$(truth idleburst bytes)
    check idlering/burst-sites "$a $b $a 0" "$got"
else
    fail idlering/json "$(head -c 300 "$f.err")"
fi
[ -n "$KEEP" ] || rm -rf "$TMP"
