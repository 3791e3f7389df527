#!/bin/sh
# Hostile but valid inputs (checksums right, made by tests/hostile/
# gen_hostile.c through the public writer) and the converters' output
# rules. Bounds are the issue's targets with margins for a loaded machine;
# each check prints what it measured.
#   - a 20,000-deep recursive chain: --text <= 5 s, msdiff <= 10 s (they were
#     quadratic: 40 s and > 30 s / 4.6 GB)
#   - 500,000 live blocks: <= 64 bytes a live block above msconv's baseline
#     (<= 104 without SYNC records, whose events are buffered until EOF)
#   - 50,000 threads: <= 1 KiB a thread (merge buffers are given back)
#   - 2 M libraries in one snapshot record: --info within one chunk
#   - 262,144 unique stacks: --json <= 64 MiB (interned stacks, --top),
#     flame graph <= 4 MiB with the folded frames said, HTML blob bounded;
#     <= 512 bytes a stack for the flame graph, <= 448 for --text, msdiff
#     --json <= 1 KiB a site
#   - control characters from names escaped in --text/--leaks/--info,
#     --json/--dump, msdiff and stderr
#   - outputs 0666 & ~umask, a replaced file keeps its mode, another user's
#     file is never replaced, temp files removed on SIGTERM, ENOSPC named
#   - sizes and times near 2^64: no sanitizer report (ASan/UBSan build)
#   - 300,000 distinct ms_mark names: --phase of the last one <= 5 s and
#     <= 160 bytes a mark (one live block each); an unknown phase's error
#     is one line of at most ~1 KB
. "$(dirname "$0")/../lib.sh"
GEN="$MS_BUILD/bin/gen_hostile"
[ -x "$GEN" ] || { fail hostile/gen "$GEN not built (make tests)"; exit 1; }
cd "$TMP" || exit 1
trap 'rm -rf "$TMP"' EXIT

# measure NAME cmd... : runs cmd with a 120 s timeout; sets SECS and KB
measure() {
    n=$1; shift
    /usr/bin/time -f '%e %M' -o "$TMP/time.$n" timeout 120 "$@" > "$TMP/out.$n" 2> "$TMP/err.$n"
    RC=$?
    SECS=$(cut -d' ' -f1 "$TMP/time.$n" | tail -1); KB=$(cut -d' ' -f2 "$TMP/time.$n" | tail -1)
}
# le NAME VALUE LIMIT WHAT : passes when VALUE <= LIMIT (decimals allowed)
le() {
    if awk -v v="$2" -v l="$3" 'BEGIN { exit !(v <= l) }'; then pass "$1 ($4: $2 <= $3)"
    else fail "$1" "$4: $2 > $3"; fi
}

# ---- baseline: msconv's own footprint on a tiny trace ------------------------
"$GEN" live base.memscope 10 || fail hostile/gen-base "exit $?"
measure base "$MSCONV" base.memscope --text -o /dev/null
BASE_KB=$KB

# ---- deep chain ---------------------------------------------------------------
"$GEN" chain chain.memscope 20000 rec || fail hostile/gen-chain "exit $?"
measure chain "$MSCONV" chain.memscope --text --lang en
check hostile/chain-text-exit 0 "$RC"
le hostile/chain-text-time "$SECS" 5 "seconds"
grep -q 'recurse (chain.c:1)' out.chain && grep -q '320,000 B\|312.5 KiB\|320000' out.chain \
    && pass hostile/chain-text-content || fail hostile/chain-text-content "$(head -8 out.chain)"
measure chaindiff "$MSDIFF" chain.memscope chain.memscope --md chain.md --json chain.json
check hostile/chain-msdiff-exit 0 "$RC"
le hostile/chain-msdiff-time "$SECS" 10 "seconds"
le hostile/chain-msdiff-memory "$KB" 1048576 "KB max RSS"
python3 - chain.json <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
deep = max(d["sites"], key=lambda s: s["depth"])
n, k = deep["stack"], 0
while n >= 0:
    n, f = d["stacks"][n]; k += 1
ok = d["version"] == 2 and len(d["sites"]) == 20000 and deep["depth"] == 20000 and k == 20000 \
     and len(d["stacks"]) == 20000 and len(d["frames"]) == 1 and d["summary"]["sites_unchanged"] == 20000
print("PASS: hostile/chain-msdiff-json (20000 sites, one interned frame, 20000 nodes)" if ok else
      "FAIL: hostile/chain-msdiff-json: %d sites, %d nodes, %d frames, depth %d" %
      (len(d["sites"]), len(d["stacks"]), len(d["frames"]), deep["depth"]))
EOF

# ---- live set -----------------------------------------------------------------
N=500000
"$GEN" live live.memscope $N || fail hostile/gen-live "exit $?"
measure live "$MSCONV" live.memscope --text --lang en
check hostile/live-exit 0 "$RC"
grep -q "total memory leaked: 15.3 MiB in 500,000 blocks" out.live \
    && pass hostile/live-count || fail hostile/live-count "$(tail -2 out.live)"
le hostile/live-bytes-per-block "$(( (KB - BASE_KB) * 1024 / N ))" 64 "bytes a live block"
"$GEN" live livens.memscope $N nosync || fail hostile/gen-live-nosync "exit $?"
measure livens "$MSCONV" livens.memscope --text --lang en
le hostile/live-nosync-bytes-per-block "$(( (KB - BASE_KB) * 1024 / N ))" 104 "bytes a block, events buffered"

# ---- 300,000 distinct marks: --phase stays linear ------------------------------------
M=300000
"$GEN" marks marks.memscope $M || fail hostile/gen-marks "exit $?"
measure marks "$MSCONV" marks.memscope --json --phase "phase-$((M - 1))"
check hostile/marks-phase-exit 0 "$RC"
check hostile/marks-phase-content "1 16 phase-$((M - 1))" "$(python3 -c '
import json, sys; d = json.load(open(sys.argv[1])); s = d["summary"]
print(s["total_allocations"], s["peak_memory"], d["range"]["phase"])' out.marks 2>&1)"
le hostile/marks-phase-time "$SECS" 5 "seconds"
le hostile/marks-phase-bytes-per-mark "$(( (KB - BASE_KB) * 1024 / M ))" 160 "bytes a mark"
measure marksnope "$MSCONV" marks.memscope --text --phase nope
check hostile/marks-unknown-exit 2 "$RC"
check hostile/marks-unknown-one-line 1 "$(wc -l < err.marksnope | tr -d ' ')"
case $(cat err.marksnope) in
*"(phases: phase-0, phase-1, phase-2, "*", ...)") pass hostile/marks-unknown-lists-some ;;
*) fail hostile/marks-unknown-lists-some "$(head -c 300 err.marksnope)" ;;
esac
le hostile/marks-unknown-length "$(wc -c < err.marksnope | tr -d ' ')" 1200 "bytes of error"

# ---- many threads ---------------------------------------------------------------
T=50000
"$GEN" threads threads.memscope $T || fail hostile/gen-threads "exit $?"
# the bound is on msconv's own tables: measured on 4 KiB pages; with the
# huge pages of a large input (convert/common/hugeheap.c) the freed merge
# buffers leave partly used 2 MiB pages resident, checked separately
measure threads env MEMSCOPE_HUGEPAGES=0 "$MSCONV" threads.memscope --text --lang en
check hostile/threads-exit 0 "$RC"
le hostile/threads-bytes-per-thread "$(( (KB - BASE_KB) * 1024 / T ))" 1024 "bytes a thread"
SMALL_KB=$KB
measure threadsh "$MSCONV" threads.memscope --text --lang en
check hostile/threads-hugepages-exit 0 "$RC"
le hostile/threads-hugepages-rss "$KB" "$((SMALL_KB * 2 + 8192))" "KiB with huge pages (4 KiB pages: $SMALL_KB)"

# ---- many libraries: --info stays within a chunk -----------------------------------
"$GEN" libs libs.memscope 2000000 || fail hostile/gen-libs "exit $?"
measure libs "$MSCONV" libs.memscope --info
check hostile/libs-info-exit 0 "$RC"
grep -q 'snapshots: *1 (1 process records)' out.libs && pass hostile/libs-info-content || fail hostile/libs-info-content "$(cat out.libs)"
# the chunk is 10 MB raw; its 2 M libraries would decode into 96 MB
le hostile/libs-info-memory "$(( KB - BASE_KB ))" 32768 "KB above baseline"

# ---- sparse stack node ids: memory follows the nodes, not the largest id ------------
"$GEN" sparse sparse.memscope || fail hostile/gen-sparse "exit $?"
measure sparse "$MSCONV" sparse.memscope --text --lang en
check hostile/sparse-exit 0 "$RC"
grep -q 'sparse_leaf' out.sparse && grep -q 'Showing nodes accounting for 300B' out.sparse \
    && pass hostile/sparse-content || fail hostile/sparse-content "$(head -6 out.sparse)"
le hostile/sparse-memory "$(( KB - BASE_KB ))" 16384 "KB above baseline (node id 60,000,000)"

# ---- 262,144 unique stacks: bounded outputs ----------------------------------------
"$GEN" stacks stacks.memscope 262144 || fail hostile/gen-stacks "exit $?"
measure stjson "$MSCONV" stacks.memscope --json -o st.json
check hostile/stacks-json-exit 0 "$RC"
le hostile/stacks-json-size "$(wc -c < st.json)" 67108864 "bytes"
python3 - st.json <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
s = d["sites"][0]
n, fr = s["stack"], []
while n >= 0:
    n, f = d["stacks"][n]; fr.append(d["frames"][f]["function"])
ok = (d["version"] == 2 and d["sites_total"] == 262144 and d["sites_shown"] == 1000 and len(d["sites"]) == 1000
      and d["sites_selection"] == "top_by_peak" and len(fr) == 16 and fr[-1] == "main" and fr[0].startswith("L5_"))
print("PASS: hostile/stacks-json-content (1000 of 262144 sites, 16-frame stacks)" if ok else
      "FAIL: hostile/stacks-json-content: %s %s %s" % (d.get("sites_total"), d.get("sites_shown"), fr))
EOF
measure stflame "$MSCONV" stacks.memscope --flamegraph st.svg --lang en
check hostile/stacks-flame-exit 0 "$RC"
# memory a stack: the sites and the call tree, no per-block model (905
# bytes a stack when the tree views built the dashboard's models too, 535
# for --text when a tree node carried 80 bytes of totals)
le hostile/stacks-flame-bytes-per-stack "$(( (KB - BASE_KB) * 1024 / 262144 ))" 512 "bytes a stack"
measure sttext "$MSCONV" stacks.memscope --text -o /dev/null
check hostile/stacks-text-exit 0 "$RC"
le hostile/stacks-text-bytes-per-stack "$(( (KB - BASE_KB) * 1024 / 262144 ))" 448 "bytes a stack"
le hostile/stacks-flame-size "$(wc -c < st.svg)" 4194304 "bytes"
grep -q '<text id="folded"[^>]*>[0-9,]* frames under 0.1% of the total folded' st.svg \
    && pass hostile/stacks-flame-says-folded || fail hostile/stacks-flame-says-folded "no folded line"
# msdiff's JSON is written as it goes: 262 144 sites against themselves
# (a 160 MB document) took 1.3 GB as a cJSON tree, ~4.9 KB a site
measure stdiff "$MSDIFF" stacks.memscope stacks.memscope --json st-diff.json --md st-diff.md
check hostile/stacks-msdiff-exit 0 "$RC"
le hostile/stacks-msdiff-bytes-per-site "$(( (KB - BASE_KB) * 1024 / 262144 ))" 1024 "bytes a site"
python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); sys.exit(not (len(d["sites"]) == 262144 and d["summary"]["sites_unchanged"] == 262144))' st-diff.json \
    && pass hostile/stacks-msdiff-json || fail hostile/stacks-msdiff-json "not 262144 unchanged sites"
rm -f st-diff.json st-diff.md
measure sthtml "$MSCONV" stacks.memscope --html st.html
check hostile/stacks-html-exit 0 "$RC"
blob=$(python3 -c '
import re, sys
t = open(sys.argv[1], encoding="utf-8").read()
print(len(re.search(r"<script type=\"application/json\" id=\"msdata\">(.*?)</script>", t, re.S).group(1)))' st.html)
le hostile/stacks-html-data "$blob" 8388608 "bytes of embedded data"

# ---- control characters ----------------------------------------------------------
"$GEN" names names.memscope || fail hostile/gen-names "exit $?"
CTL=$(printf '[\033\007\r\010\177]')
C1=$(printf '\302\233')
raw_ctl() { # FILE : 0 when FILE holds ESC, BEL, CR, BS, DEL or the UTF-8 C1 control CSI
    LC_ALL=C grep -q -e "$CTL" -e "$C1" "$1"
}
for m in --text --leaks --info --json --dump; do
    "$MSCONV" names.memscope $m --lang en > "names$m.out" 2> "names$m.err"
    if raw_ctl "names$m.out" || raw_ctl "names$m.err"; then fail "hostile/escape$m" "raw control character in the output"
    else pass "hostile/escape$m"; fi
done
grep -qF 'evil\x1b]0;pwned\x07\x1b[31m\x07\x0d\x08\x7f\u009b (evil' names--text.out \
    && pass hostile/escape-text-shows-escapes || fail hostile/escape-text-shows-escapes "$(grep evil names--text.out)"
python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
fn = [f.get("function") for f in d["frames"]]
sys.exit(0 if "evil\x1b]0;pwned\x07\x1b[31m\x07\r\x08\x7f\x9b" in fn else 1)' names--json.out \
    && pass hostile/escape-json-keeps-names || fail hostile/escape-json-keeps-names "names changed in --json"
"$MSDIFF" names.memscope names.memscope --md - --json names.json > names-md.out 2> names-md.err
if raw_ctl names-md.out || raw_ctl names.json || raw_ctl names-md.err; then fail hostile/escape-msdiff "raw control character"
else pass hostile/escape-msdiff; fi

# ---- output files ----------------------------------------------------------------
mkdir o
(umask 077; "$MSCONV" names.memscope --text -o o/a.txt 2>/dev/null)
(umask 022; "$MSCONV" names.memscope --json -o o/b.json 2>/dev/null)
(umask 002; "$MSCONV" names.memscope --html o/c.html 2>/dev/null)
check hostile/umask-modes "600 644 664" "$(stat -c %a o/a.txt o/b.json o/c.html | tr '\n' ' ' | sed 's/ $//')"
chmod 640 o/b.json
(umask 000; "$MSCONV" names.memscope --json -o o/b.json 2>/dev/null)
check hostile/replaced-keeps-mode 640 "$(stat -c %a o/b.json)"
if [ "$(id -u)" = 0 ] && id nobody >/dev/null 2>&1; then
    echo theirs > o/theirs && chown nobody o/theirs
    "$MSCONV" names.memscope --text -o o/theirs 2> theirs.err; rc=$?
    if [ $rc = 1 ] && [ "$(cat o/theirs)" = theirs ] && grep -q 'owned by another user' theirs.err \
       && [ "$(ls o | grep -c tmp)" = 0 ]; then pass hostile/refuse-other-users-file
    else fail hostile/refuse-other-users-file "rc=$rc $(cat theirs.err) $(ls o)"; fi
    "$MSDIFF" names.memscope names.memscope --md o/theirs --json o/d.json 2> theirs2.err; rc=$?
    [ $rc = 1 ] && [ ! -e o/d.json ] && pass hostile/msdiff-refuse-other-users-file \
        || fail hostile/msdiff-refuse-other-users-file "rc=$rc $(cat theirs2.err)"
else
    pass "hostile/refuse-other-users-file (skipped: not root)"
fi
"$MSCONV" names.memscope --text -o /dev/full 2> full.err; rc=$?
if [ $rc = 1 ] && grep -q 'No space left on device' full.err && ! grep -q 'out of memory' full.err; then
    pass hostile/enospc-named; else fail hostile/enospc-named "rc=$rc $(cat full.err)"; fi
"$MSDIFF" names.memscope names.memscope --md o/full.md --json /dev/full 2> full2.err; rc=$?
if [ $rc = 1 ] && grep -q 'No space left on device' full2.err && [ ! -e o/full.md ]; then
    pass hostile/msdiff-enospc-named-nothing-committed; else fail hostile/msdiff-enospc-named-nothing-committed "rc=$rc $(cat full2.err) $(ls o)"; fi
"$MSCONV" names.memscope --text -o /dev/null 2>/dev/null && [ -c /dev/null ] \
    && pass hostile/device-written-in-place || fail hostile/device-written-in-place "/dev/null replaced"
# SIGTERM while the report is being written: no temp file, no report
mkdir sig
"$MSCONV" live.memscope --json --events -o sig/e.json 2>/dev/null &
pid=$!
i=0; while [ $i -lt 200 ] && ! ls sig | grep -q tmp; do sleep 0.05; i=$((i + 1)); done
seen=$(ls sig)
kill -TERM $pid; wait $pid 2>/dev/null; rc=$?
if [ -n "$seen" ] && [ $rc = 143 ] && [ -z "$(ls sig)" ]; then pass "hostile/sigterm-removes-temp ($seen)"
else fail hostile/sigterm-removes-temp "saw '$seen', rc=$rc, left: $(ls sig)"; fi

# ---- numbers near 2^64 under the sanitizers ----------------------------------------
ASAN="$MS_ROOT/build/asan/bin"
if [ -x "$ASAN/msconv" ] && [ -x "$ASAN/msdiff" ]; then
    "$GEN" overflow over.memscope
    bad=""
    for m in --text --leaks --json --html --pprof; do
        case $m in --folded|--flamegraph|--html|--pprof) set -- "$m" over.out ;; *) set -- "$m" -o over.out ;; esac
        "$ASAN/msconv" over.memscope "$@" 2> over.err
        grep -q 'runtime error\|AddressSanitizer\|LeakSanitizer' over.err && bad="$bad $m: $(grep -m1 'runtime error\|Sanitizer' over.err)"
    done
    "$ASAN/msdiff" over.memscope chain.memscope --md over.md --json over.json 2> over.err
    grep -q 'runtime error\|AddressSanitizer\|LeakSanitizer' over.err && bad="$bad msdiff: $(grep -m1 'runtime error\|Sanitizer' over.err)"
    [ -z "$bad" ] && pass hostile/overflow-sanitizers-clean || fail hostile/overflow-sanitizers-clean "$bad"
fi
