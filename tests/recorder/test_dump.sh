#!/bin/sh
# msconv --dump writes EVENT lines by a fast path of its own (not through a
# cJSON object like every other record): each line must stay what cJSON
# printed, minimal JSON with the fields in record order, "old_addr" for
# the realloc ops and "align" for the ops that take one (and any event
# with an alignment). tests/progs/allocstats calls malloc, calloc,
# realloc, reallocarray, posix_memalign, aligned_alloc, memalign, valloc,
# operator new/delete: every event line of its trace is re-serialized
# compactly and compared byte for byte, its key list checked against its
# op, and the events and allocations counted against msconv --json.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/common.sh"
T=dump
require "$MSREC" "$MSCONV" "$PROGS/allocstats"

record msrec all "$TMP/all.memscope" -- "$PROGS/allocstats"
check dump/record-exit-status 0 "$RC"
if ! "$MSCONV" "$TMP/all.memscope" --dump -o "$TMP/all.jsonl" 2> "$TMP/dump.err"; then
    fail dump/runs "$(head -c 300 "$TMP/dump.err")"
    exit 0
fi
jsonof "$TMP/all.memscope"
out=$(python3 - "$TMP/all.jsonl" "$TMP/all.memscope.json" <<'PY'
import json, sys
REALLOC = {"realloc", "reallocarray"}
ALIGNED = {"memalign", "posix_memalign", "aligned_alloc", "valloc", "pvalloc"}
bad, ops, n, allocs = [], {}, 0, 0
for line in open(sys.argv[1]):
    if not line.startswith('{"type":"event"'):
        continue
    n += 1
    r = json.loads(line)
    if json.dumps(r, separators=(",", ":"), ensure_ascii=False) + "\n" != line:
        bad.append("not minimal: " + line[:120])
    op = r["op"]
    ops[op] = ops.get(op, 0) + 1
    keys = ["type", "chunk_offset", "chunk_seq", "time", "tid", "op", "addr", "size"]
    if op in REALLOC:
        keys.append("old_addr")
    keys.append("stack")
    if op in ALIGNED or r.get("align"):
        keys.append("align")
    if list(r) != keys:
        bad.append("keys of %s: %s" % (op, list(r)))
    if not any(op.startswith(f) for f in ("free", "operator delete")):
        allocs += 1
s = json.load(open(sys.argv[2]))["summary"]
print("events", n)
print("allocs", allocs)
print("json_allocs", s["total_allocations"])
print("ops", " ".join(sorted(ops)))
print("bad", len(bad))
for b in bad[:3]:
    print("example", b)
PY
)
val() { echo "$out" | sed -n "s/^$1 //p"; }
check dump/event-lines-as-cjson-printed 0 "$(val bad)"
[ "$(val bad)" = 0 ] || echo "$out" | grep '^example' | sed 's/^/    /'
check dump/every-allocation-a-line "$(val json_allocs)" "$(val allocs)"
for op in malloc calloc realloc reallocarray posix_memalign aligned_alloc memalign valloc free; do
    case " $(val ops) " in *" $op "*) pass dump/op-$op ;; *) fail dump/op-$op "no $op event in the dump ($(val ops))" ;; esac
done
[ -n "$KEEP" ] || rm -rf "$TMP"
