#!/bin/sh
# Recorder, thread churn (issue 9, item 9): tests/progs/churn starts 10,000
# threads (half one at a time, half 8 at a time), each allocating 601,
# 602..609 and 611 bytes. With both unwinders the trace has exactly the
# 30,000 blocks of those sizes and their bytes, one THREAD and one
# THREAD_END record per thread (10,001 with main), and the recorder adds at
# most 16 MiB to the peak RSS (VmHWM traced - untraced): thread states are
# reused from exited threads and rings start small. The time is only
# guarded against a catastrophic regression (the run's CPU time, user +
# sys, <= 5x the untraced run's + 2 s: CPU time, not wall time, so a loaded
# machine does not fail it); bench/heap.sh measures it.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/common.sh"
T=churn
require "$LIBMS" "$MSCONV" "$PROGS/churn"
N=10000
[ -x /usr/bin/time ] || { fail churn/setup "/usr/bin/time missing (Debian package time)"; exit 0; }

# timed NAME CMD... : runs CMD; sets RC, KIB (max RSS), SECS (user + sys CPU)
timed() {
    _t_name=$1; shift
    /usr/bin/time -f '%M %U %S' -o "$TMP/$_t_name.time" "$@" > "$TMP/$_t_name.out" 2> "$TMP/$_t_name.err" < /dev/null
    RC=$?
    KIB=$(tail -1 "$TMP/$_t_name.time" | cut -d' ' -f1)
    SECS=$(tail -1 "$TMP/$_t_name.time" | awk '{ print $2 + $3 }')
}

timed churn.plain "$PROGS/churn" $N
base_kib=$KIB; base_s=$SECS
check churn/plain-exit-status 0 "$RC"
bytes=$(sed -n 's/^TRUTH churn .* bytes=\([0-9]*\).*/\1/p' "$TMP/churn.plain.out")

for unw in libunwind fp; do
    n=churn/$unw
    f=$TMP/churn.$unw.memscope
    timed churn.$unw env LD_PRELOAD="$LIBMS" MEMSCOPE_AUTO_EXPORT=1 MEMSCOPE_UNWIND=$unw \
        MEMSCOPE_EXPORT_PATH="$f" "$PROGS/churn" $N
    check $n/exit-status 0 "$RC"
    check_same_output $n churn.$unw churn.plain
    if ! "$MSCONV" "$f" --dump > "$f.dump" 2> "$f.dump.err"; then
        fail $n/dump "msconv --dump failed: $(head -c 200 "$f.dump.err")"
        continue
    fi
    check $n/blocks-bytes-threads-ends "30000 $bytes 10001 10001" "$(python3 - "$f.dump" <<'EOF'
import json, sys
n = b = th = te = 0
for line in open(sys.argv[1]):
    r = json.loads(line)
    t = r.get("type")
    if t == "event" and r["op"] == "malloc" and 601 <= r["size"] <= 611:
        n += 1
        b += r["size"]
    elif t == "thread":
        th += 1
    elif t == "thread_end":
        te += 1
print(n, b, th, te)
EOF
)"
    extra=$((KIB - base_kib))
    if [ "$extra" -le 16384 ]; then pass "$n/extra-rss-le-16MiB"
    else fail "$n/extra-rss-le-16MiB" "max RSS $KIB KiB vs $base_kib KiB untraced: +$((extra / 1024)) MiB"; fi
    if awk -v a="$SECS" -v b="$base_s" 'BEGIN { exit !(a <= 5 * b + 2) }'; then pass "$n/time-guard"
    else fail "$n/time-guard" "$SECS s CPU vs $base_s s untraced (more than 5x + 2 s)"; fi
done
rm -rf "$TMP"
