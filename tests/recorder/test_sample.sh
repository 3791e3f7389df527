#!/bin/sh
# Poisson byte sampling (MEMSCOPE_SAMPLE_RATE, msrec run --sample; spec
# §8.8) on tests/progs/sampled, whose sites have known totals (it prints
# them: SITE name bytes count inv, LEAK, PEAK).
#   - estimates: every site's allocated bytes and allocation count lie within
#     5 standard deviations of the truth. At rate R a byte estimate of B bytes
#     has variance <= R*B, a count estimate of allocations of sizes n_i
#     variance <= R * sum(1/n_i) (spec §8.8): at R = 4096 and ~12 MiB a site
#     that is <= 0.9 % of B per SD, so the bound is ~4.5 % (a 4 % error is
#     then a real bias, not bad luck). Peak and leaked bytes likewise;
#   - frees balance: a program freeing everything leaves 0 estimated bytes
#     at its sites (exactly: each free subtracts its block's weight);
#   - the trace says mode sampled / rate R; the same seed gives the same
#     trace, another seed another; the program's output and exit status are
#     unchanged; msrec run --sample defaults to 512 KiB;
#   - every report says "estimated, sampled 1 in R bytes" (zh by default, en
#     with --lang en): --text, --leaks, --info, --json, --svg (DOT),
#     --flamegraph, --html (page in Chromium when installed), msdiff --md/--json;
#   - the spec reader's estimates (tests/spec/spec_reader.py --estimate,
#     written from the spec alone) equal msconv's per stack;
#   - a bad MEMSCOPE_SAMPLE_RATE warns once and records everything.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/common.sh"
T=sample
P=$PROGS/sampled
require "$LIBMS" "$MSREC" "$MSCONV" "$MSDIFF" "$P"
R=4096
SCALE=0.25          # ~12 MiB per site, ~75 MiB in all: ~20k sampled events

rec_sampled() { # NAME OUT SEED ARGS... (msrec run: symbolized once)
    _n=$1; _o=$2; _s=$3; shift 3
    rm -f "$_o"
    MEMSCOPE_SAMPLE_SEED=$_s "$MSREC" run -q --sample $R -o "$_o" -- "$P" "$@" \
        > "$TMP/$_n.out" 2> "$TMP/$_n.err" < /dev/null
    RC=$?
}

record plain free.plain - -- "$P" free $SCALE
rec_sampled free "$TMP/free.memscope" 7 free $SCALE
check sample/exit-status 0 "$RC"
check_same_output sample/free free free.plain
check sample/stderr-empty "" "$(cat "$TMP/free.err")"
check_trace sample/free "$TMP/free.memscope" || exit 0
rec_sampled leak "$TMP/leak.memscope" 11 leak $SCALE
check_trace sample/leak "$TMP/leak.memscope" || exit 0
"$MSCONV" "$TMP/free.memscope" --info --lang en > "$TMP/free.info" 2>&1
check sample/meta-mode "mode sampled (mean $R bytes between samples)" \
    "$(sed -n 's/.*, \(mode sampled ([^)]*)\).*/\1/p' "$TMP/free.info")"

# ---- estimates vs the program's truth -----------------------------------------
python3 - "$TMP/free.out" "$TMP/free.memscope.json" "$TMP/leak.out" "$TMP/leak.memscope.json" $R <<'PY'
import json, math, sys
out_free, js_free, out_leak, js_leak, R = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])

def truth(path):
    sites, leak, peak = {}, None, None
    for line in open(path):
        w = line.split()
        if w[0] == "SITE": sites[w[1]] = (int(w[2]), int(w[3]), float(w[4]))
        elif w[0] == "LEAK": leak = (int(w[1]), int(w[2]))
        elif w[0] == "PEAK": peak = int(w[1])
    return sites, leak, peak

def by_site(js):
    """site function name -> summed numbers of the stacks whose innermost
    site_* frame it is"""
    acc = {}
    for s in js["sites"]:
        if "stack_trace" in s:   # --json version 1
            names = [f.get("function", "") for f in s["stack_trace"]]
        else:                    # version 2: a node of the shared stacks table
            names, n = [], s.get("stack")
            while n is not None and n >= 0:
                n, fi = js["stacks"][n]
                names.append(js["frames"][fi].get("function") or "")
        name = next((n for n in names if n.startswith("site_")), None)
        if not name: continue
        a = acc.setdefault(name, dict(allocated_bytes=0, allocations=0, leaked_bytes=0, deallocations=0))
        for k in a: a[k] += s[k]
    return acc

def ok(name, cond, detail):
    print(("PASS: %s" if cond else "FAIL: %s: " + detail) % name)

for tag, out, jpath in (("free", out_free, js_free), ("leak", out_leak, js_leak)):
    sites, leak, peak = truth(out)
    js = json.load(open(jpath))
    est = by_site(js)
    for name, (b, n, inv) in sorted(sites.items()):
        if not n: continue
        e = est.get(name)
        if not e:
            ok("sample/%s/%s-found" % (tag, name), False, "no site with %s in the trace" % name); continue
        tol_b = 5 * math.sqrt(R * b)
        tol_n = 5 * math.sqrt(R * inv) + 1
        ok("sample/%s/%s-bytes" % (tag, name), abs(e["allocated_bytes"] - b) <= tol_b,
           "estimate %d, truth %d, 5 SD = %d" % (e["allocated_bytes"], b, tol_b))
        ok("sample/%s/%s-count" % (tag, name), abs(e["allocations"] - n) <= tol_n,
           "estimate %d, truth %d, 5 SD = %.0f" % (e["allocations"], n, tol_n))
        if name != "site_leak":
            ok("sample/%s/%s-frees-balance" % (tag, name),
               e["leaked_bytes"] == 0 and e["deallocations"] == e["allocations"],
               "leaked %d, %d frees of %d allocations" % (e["leaked_bytes"], e["deallocations"], e["allocations"]))
    s = js["summary"]
    ok("sample/%s/estimated-flag" % tag, s["estimated"] is True and s["sample_rate"] == R, str(s["estimated"]))
    ok("sample/%s/peak" % tag, abs(s["peak_memory"] - peak) <= 5 * math.sqrt(R * peak) + 8192,
       "estimate %d, truth %d" % (s["peak_memory"], peak))
    nonlibc = s["leaked_memory"] - s["leaks_by_class"]["libc"]["bytes"]
    if tag == "free":
        ok("sample/free/nothing-leaked", nonlibc == 0, "%d bytes outside libc" % nonlibc)
        ok("sample/free/temporaries-unknown", s["temporary_allocations"] == 0, str(s["temporary_allocations"]))
    else:
        ok("sample/leak/leaked", abs(nonlibc - leak[0]) <= 5 * math.sqrt(R * leak[0]),
           "estimate %d, truth %d" % (nonlibc, leak[0]))
        lost = s["leaks_by_class"]["definite"]["bytes"] + s["leaks_by_class"]["indirect"]["bytes"]
        ok("sample/leak/classified-lost", lost == nonlibc, "definite+indirect %d of %d" % (lost, nonlibc))
    w = [a["weight"] for a in js["allocations"]]
    ok("sample/%s/weights" % tag, w and all(x >= 1 for x in w), "weights %s" % w[:3])
PY

# ---- the spec reader's estimates = msconv's ---------------------------------------
if /usr/bin/python3 -c 'import zstandard, xxhash' 2>/dev/null; then
    /usr/bin/python3 "$MS_ROOT/tests/spec/spec_reader.py" --estimate "$TMP/leak.memscope" > "$TMP/leak.spec" 2>&1
    python3 - "$TMP/leak.spec" "$TMP/leak.memscope.json" <<'PY'
import json, sys
spec = {}
for line in open(sys.argv[1]):
    w = line.split()
    if w[0] == "stack":
        spec[int(w[1])] = {k: float(v) for k, v in (x.split("=") for x in w[2:])}
js = json.load(open(sys.argv[2]))
bad = []
for s in js["sites"]:
    e = spec.get(s["stack_id"])
    if e is None: bad.append("stack %d missing" % s["stack_id"]); continue
    # msconv rounds each recorded block's weights down or up at random
    # (unbiased, heap.h): each block then differs by less than 1, with a
    # variance <= 1/4: allow 5 SD of the sum over the stack's events
    tol = 2 + 2.5 * e["events"] ** 0.5
    for k, j in (("allocated_bytes", "allocated_bytes"), ("allocations", "allocations"), ("live_bytes", "leaked_bytes")):
        if abs(e[k] - s[j]) > tol: bad.append("stack %d %s %g vs %d" % (s["stack_id"], k, e[k], s[j]))
print("PASS: sample/spec-reader-estimates" if not bad and spec else "FAIL: sample/spec-reader-estimates: %s" % bad[:3])
PY
else
    fail sample/spec-reader-estimates "python3-zstandard / python3-xxhash missing (make deps)"
fi

# ---- determinism of the seed ------------------------------------------------------
ev() { "$MSCONV" "$1" --info --lang en 2>/dev/null | sed -n 's/^end:.*, \([0-9]*\) events written.*/\1/p'; }
rec_sampled again "$TMP/again.memscope" 7 free $SCALE
check sample/same-seed-same-trace "$(ev "$TMP/free.memscope")" "$(ev "$TMP/again.memscope")"
rec_sampled other "$TMP/other.memscope" 8 free $SCALE
[ "$(ev "$TMP/free.memscope")" != "$(ev "$TMP/other.memscope")" ] && pass sample/other-seed-other-trace \
    || fail sample/other-seed-other-trace "same event count $(ev "$TMP/other.memscope")"

# ---- msrec run --sample -----------------------------------------------------------
"$MSREC" run -q --sample -o "$TMP/def.memscope" -- "$P" free 0.05 > "$TMP/def.out" 2>&1
check sample/msrec-default-status 0 "$?"
check sample/msrec-default-rate "mode sampled (mean 524288 bytes between samples)" \
    "$("$MSCONV" "$TMP/def.memscope" --info --lang en 2>&1 | sed -n 's/.*, \(mode sampled ([^)]*)\).*/\1/p')"
"$MSREC" run -q --sample 64K -o "$TMP/k.memscope" -- "$P" free 0.05 > /dev/null 2>&1
check sample/msrec-rate-64K "mode sampled (mean 65536 bytes between samples)" \
    "$("$MSCONV" "$TMP/k.memscope" --info --lang en 2>&1 | sed -n 's/.*, \(mode sampled ([^)]*)\).*/\1/p')"
"$MSREC" run -q --sample=lots -- "$P" > /dev/null 2> "$TMP/bad.err"
check sample/msrec-bad-rate-status 2 "$?"
check sample/msrec-bad-rate-one-line 1 "$(wc -l < "$TMP/bad.err" | tr -d ' ')"
rm -f "$TMP/full.memscope"
env -u MEMSCOPE_QUIET LD_PRELOAD="$LIBMS" MEMSCOPE_AUTO_EXPORT=1 MEMSCOPE_EXPORT_PATH="$TMP/full.memscope" \
    MEMSCOPE_SAMPLE_RATE=lots "$P" free 0.02 > /dev/null 2> "$TMP/full.err"
check sample/bad-env-warns-once "memscope: bad MEMSCOPE_SAMPLE_RATE=lots, using default" "$(grep SAMPLE "$TMP/full.err")"
check sample/bad-env-records-all "mode full" \
    "$("$MSCONV" "$TMP/full.memscope" --info --lang en 2>&1 | sed -n 's/.*, \(mode full\).*/\1/p')"

# ---- every report says it is an estimate -----------------------------------------
ZH="估算值，按每 4,096 字节（4.0 KiB）采样 1 次"
EN="estimated, sampled 1 in 4,096 bytes (4.0 KiB)"
says() { # NAME FILE TEXT
    if grep -qF "$3" "$2" 2>/dev/null; then pass "$1"; else fail "$1" "'$3' not in $(basename "$2")"; fi
}
L=$TMP/leak.memscope
"$MSCONV" "$L" --text > "$TMP/r.text" 2>&1;                 says sample/report-text-zh "$TMP/r.text" "$ZH"
"$MSCONV" "$L" --text --lang en > "$TMP/r.text.en" 2>&1;    says sample/report-text-en "$TMP/r.text.en" "$EN"
says sample/report-text-temporaries-na "$TMP/r.text.en" "temporary memory allocations: n/a (sampled trace)"
"$MSCONV" "$L" --leaks > "$TMP/r.leaks" 2>&1;               says sample/report-leaks-zh "$TMP/r.leaks" "$ZH"
"$MSCONV" "$L" --leaks --lang en > "$TMP/r.leaks.en" 2>&1;  says sample/report-leaks-en "$TMP/r.leaks.en" "$EN"
"$MSCONV" "$L" --info --lang zh > "$TMP/r.info" 2>&1;       says sample/report-info-zh "$TMP/r.info" "$ZH"
"$MSCONV" "$L" --info --lang en > "$TMP/r.info.en" 2>&1;    says sample/report-info-en "$TMP/r.info.en" "$EN"
"$MSCONV" "$L" --json --lang en > "$TMP/r.json" 2>&1;       says sample/report-json-en "$TMP/r.json" "$EN"
"$MSCONV" "$L" --json > "$TMP/r.json.zh" 2>&1;              says sample/report-json-zh "$TMP/r.json.zh" "$ZH"
"$MSCONV" "$L" --svg "$TMP/r.dot" > /dev/null 2>&1;         says sample/report-svg-zh "$TMP/r.dot" "$ZH"
"$MSCONV" "$L" --svg "$TMP/r.en.dot" --lang en > /dev/null 2>&1; says sample/report-svg-en "$TMP/r.en.dot" "$EN"
"$MSCONV" "$L" --flamegraph "$TMP/r.flame.svg" > /dev/null 2>&1; says sample/report-flame-zh "$TMP/r.flame.svg" "$ZH"
"$MSCONV" "$L" --flamegraph "$TMP/r.flame.en.svg" --lang en > /dev/null 2>&1; says sample/report-flame-en "$TMP/r.flame.en.svg" "$EN"
(cd "$TMP" && "$MSDIFF" "$TMP/free.memscope" "$L" --md d.md --json d.json > /dev/null 2>&1)
says sample/report-msdiff-md-zh "$TMP/d.md" "$ZH"
check sample/report-msdiff-json "True True $ZH" "$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["before"]["estimated"], d["after"]["estimated"], d["after"]["estimate_note"].split("：")[0])' "$TMP/d.json" 2>&1)"
(cd "$TMP" && "$MSDIFF" "$TMP/free.memscope" "$L" --md d.en.md --lang en > /dev/null 2>&1)
says sample/report-msdiff-md-en "$TMP/d.en.md" "$EN"
"$MSCONV" "$L" --html "$TMP/r.html" > /dev/null 2>&1
says sample/report-html-data "$TMP/r.html" '"mode":"sampled","sample_rate":4096'
if command -v chromium > /dev/null 2>&1; then
    cat > "$TMP/note.js" <<'JS'
## sampled note (zh, then en after the language switch)
var n = document.getElementById("sampled-note"), zh = n && n.textContent;
document.getElementById("lang-en").click();
var m = document.getElementById("sampled-note"), en = m && m.textContent;
var tmp = document.querySelector("#card-temporary .v").textContent;
return (zh.indexOf("估算值，按每 4,096 字节（4.0 KiB）采样 1 次") === 0 &&
        en.indexOf("estimated, sampled 1 in 4,096 bytes (4.0 KiB)") === 0 && tmp === "n/a (sampled trace)") || [zh, en, tmp].join(" | ");
JS
    python3 "$MS_ROOT/tests/html/cdp.py" "file://$TMP/r.html" "$TMP/note.js" "sample/report-html-page"
fi
# a full trace says nothing of the kind
record msrec fulltrace "$TMP/plain.memscope" -- "$P" free 0.02
"$MSCONV" "$TMP/plain.memscope" --text --lang en > "$TMP/p.text" 2>&1
check sample/full-trace-no-estimate-line 0 "$(grep -c 'estimated, sampled' "$TMP/p.text")"
