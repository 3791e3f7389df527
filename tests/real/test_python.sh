#!/bin/sh
# Real programs: python3 with 4 threads allocating (dicts, strings, bytes,
# hashlib) under `msrec run`: exit 0, the same stdout, a complete trace with
# the 5 threads (main + 4). No memcheck comparison: which thread frees what,
# and so pymalloc's arena use, depends on GIL switches. The Debian
# interpreter /usr/bin/python3 is used when present (a pyenv-style shim
# would exec it, and exec'd images record only with --follow-children).
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/common.sh"
T=real/python
PY=/usr/bin/python3; [ -x "$PY" ] || PY=python3
need $T "$PY"

cat > "$TMP/thr.py" <<'EOF'
import threading, hashlib
res = [None] * 4
def work(k):
    d = {}
    for i in range(20000):
        d[i] = ("x%d" % (i * k)) * (1 + i % 7)
        if i % 3 == 0:
            d.pop(i // 2, None)
    l = [bytes(100 + j % 50) for j in range(5000)]
    res[k] = hashlib.sha256(repr(sorted(d.items())[:100]).encode() + b"".join(l)).hexdigest()
ts = [threading.Thread(target=work, args=(k,)) for k in range(4)]
for t in ts: t.start()
for t in ts: t.join()
for k, r in enumerate(res): print(k, r)
EOF
n=$T/threads
run_pair $n "$TMP/py" -- "$PY" "$TMP/thr.py"
check $n/plain-run-ok 0 "$PRC"
check_pair $n
f=$TMP/py/x.memscope
check_complete $n/complete "$f"
if check_json $n "$f"; then
    check $n/threads 5 "$(sumval "$f.json" threads)"
    a=$(sumval "$f.json" total_allocations)
    if [ "${a:-0}" -ge 2000 ]; then pass $n/allocations; else fail $n/allocations "only '${a}' allocations"; fi
fi

# msrec run sets PYTHONMALLOC=malloc unless the user set it: each small
# object is then one recorded malloc, where pymalloc would serve 40,000
# strings from a handful of 256 KiB arenas; a user's PYTHONMALLOC is kept.
n=$T/pythonmalloc
unset PYTHONMALLOC
cat > "$TMP/small.py" <<'EOF2'
import os
keep = ["s%d" % i * 2 for i in range(40000)]
print(os.environ.get("PYTHONMALLOC", "-"), len(keep))
EOF2
"$MSREC" run -q -o "$TMP/pm_default.memscope" -- "$PY" "$TMP/small.py" > "$TMP/pm_default.out" 2>&1
check $n/default-env "malloc 40000" "$(cat "$TMP/pm_default.out")"
PYTHONMALLOC=pymalloc "$MSREC" run -q -o "$TMP/pm_user.memscope" -- "$PY" "$TMP/small.py" > "$TMP/pm_user.out" 2>&1
check $n/user-value-kept "pymalloc 40000" "$(cat "$TMP/pm_user.out")"
if check_json $n/default "$TMP/pm_default.memscope" && check_json $n/user "$TMP/pm_user.memscope"; then
    am=$(sumval "$TMP/pm_default.memscope.json" total_allocations)
    ap=$(sumval "$TMP/pm_user.memscope.json" total_allocations)
    # 40,000 kept strings are >= 40,000 mallocs; pymalloc's arenas are far fewer
    if [ "${am:-0}" -ge 40000 ] && [ "${am:-0}" -ge $(( ${ap:-0} * 4 )) ]; then pass $n/more-allocations
    else fail $n/more-allocations "malloc: '$am' allocations, pymalloc: '$ap'"; fi
fi
