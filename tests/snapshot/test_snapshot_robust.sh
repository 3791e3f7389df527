#!/bin/sh
# msrec snapshot robustness: run as `nobody` (permission denied on other
# users' processes: recorded with a read status, counted, one notice line),
# processes exiting mid-scan (many short-lived processes: no crash, counted),
# and the CLI contract (one-line errors, never overwrite, no partial file).
. "${MS_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib.sh"
cd "$TMP" || exit 1
PIDS=""
cleanup() { for p in $PIDS; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; rm -rf "$TMP"; }
trap cleanup EXIT INT TERM
chmod 755 "$TMP"

# ---- permission denied: run as nobody --------------------------------------
if [ "$(id -u)" -eq 0 ] && id nobody >/dev/null 2>&1; then
    # private copies nobody can execute; output dir nobody can write
    mkdir -p bin out && cp "$MSREC" "$MSCONV" bin/ && chmod 755 bin bin/* && chmod 777 out
    sleep 30 & PIDS="$PIDS $!"
    if command -v setpriv >/dev/null; then
        AS="setpriv --reuid=nobody --regid=nogroup --clear-groups"
    else
        AS="su -s /bin/sh nobody -c"
    fi
    ls /proc | grep '^[0-9]' | sort > pids0
    $AS "$TMP/bin/msrec" snapshot "$TMP/out/nobody.memscope" > nb.out 2> nb.err
    check nobody_exit 0 $?
    ls /proc | grep '^[0-9]' | sort > pids1
    comm -12 pids0 pids1 > stable   # alive before and after: must be recorded
    grep -q "could not be fully read (permission denied: smaps [0-9]*, fd [0-9]*, exe [0-9]*).*not root.*run as root" nb.err && [ "$(grep -c 'permission denied' nb.err)" -eq 1 ] \
        && pass nobody_one_line_notice || fail nobody_one_line_notice "$(cat nb.err)"
    "$MSCONV" out/nobody.memscope --json -o nb.json
    python3 - nb.json stable <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))["snapshots"][0]
stable = {int(x) for x in open(sys.argv[2]).read().split()}
procs = s["processes"]
def ok(name, cond, why=""): print(("PASS: " + name) if cond else ("FAIL: %s: %s" % (name, why)))
missing = stable - {p["pid"] for p in procs}
ok("nobody_no_process_dropped", not missing, "alive but not recorded: %s" % sorted(missing)[:10])
den = [p for p in procs if "denied_smaps" in p["read_status"]]
ok("nobody_denied_recorded", len(den) > 0 and s["read_status"]["denied"] == len([p for p in procs if any(x.startswith("denied") for x in p["read_status"])]),
   str(s["read_status"]))
root = [p for p in den if p["uid"] == 0 and p["kind"] != "kernel"]
ok("nobody_denied_keeps_status_rss", any(p["rss"] > 0 and p["name"] for p in root), str(root[:1]))
ok("nobody_denied_pss_unknown_zero", all(p["pss"] == 0 for p in den))
PY
    "$MSCONV" out/nobody.memscope --text | grep -q "权限不足" && pass nobody_text_read_status || fail nobody_text_read_status "no 权限不足 line"
    # output to a directory nobody cannot write: one-line error, nothing left behind
    mkdir -p ro && chmod 755 ro
    $AS "$TMP/bin/msrec" snapshot "$TMP/ro/x.memscope" > /dev/null 2> ro.err
    rc=$?
    [ $rc -ne 0 ] && [ "$(wc -l < ro.err)" -eq 1 ] && grep -q "^msrec: .*ro/x.memscope.*: Permission denied" ro.err \
        && pass nobody_unwritable_output_error || fail nobody_unwritable_output_error "rc=$rc $(cat ro.err)"
    [ -z "$(ls ro)" ] && pass nobody_no_partial_file || fail nobody_no_partial_file "$(ls ro)"
    # classification (seed 000 rules): a non-root process outside system
    # directories is a user process; "daemon" in the name makes it system;
    # root or a system directory makes it system
    cp /bin/sleep bin/mysleep && cp /bin/sleep bin/mydaemon
    $AS "$TMP/bin/mysleep" 30 & U1=$!; PIDS="$PIDS $U1"
    $AS "$TMP/bin/mydaemon" 30 & U2=$!; PIDS="$PIDS $U2"
    $AS /bin/sleep 30 & U3=$!; PIDS="$PIDS $U3"
    sleep 0.2
    "$MSREC" snapshot kinds.memscope 2>/dev/null
    "$MSCONV" kinds.memscope --json | python3 -c "
import json, sys
ps = {p['pid']: p for p in json.load(sys.stdin)['snapshots'][0]['processes']}
def kind(pid):
    # setpriv execs the command in place; su forks a child
    c = [p for p in ps.values() if p['pid'] == pid or p['ppid'] == pid]
    c = [p for p in c if p['user'] == 'nobody']
    return c[0]['kind'] if c else None
for name, pid, want in (('user', $U1, 'user'), ('daemon_keyword', $U2, 'system'), ('system_dir', $U3, 'system')):
    k = kind(pid)
    print('PASS: kind_' + name if k == want else 'FAIL: kind_%s: %s' % (name, k))
print('PASS: kind_root_is_system' if ps[$$]['kind'] == 'system' or ps[$$]['uid'] != 0 else 'FAIL: kind_root_is_system')
"
else
    pass "nobody_skipped_not_root"
fi

# ---- processes exiting mid-scan ---------------------------------------------
# 4 spawners keep ~100 short-lived processes alive; the test hook delays each
# process read by 3 ms so many listed processes are gone when read.
i=0
while [ $i -lt 4 ]; do
    sh -c 'while :; do for k in 1 2 3 4 5 6 7 8; do sleep 0.05 & done; wait; done' & PIDS="$PIDS $!"
    i=$((i+1))
done
sleep 0.3
MSREC_SCAN_DELAY_US=3000 "$MSREC" snapshot churn.memscope --interval 0 --count 3 2> churn.err
check churn_exit 0 $?
"$MSCONV" churn.memscope --json -o churn.json
check churn_readable 0 $?
python3 - churn.json <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
v = sum(s["read_status"]["vanished"] for s in d["snapshots"])
print("PASS: churn_vanished_counted" if v > 0 else "FAIL: churn_vanished_counted: no vanished process in 3 scans")
bare = [p for s in d["snapshots"] for p in s["processes"] if "vanished" in p["read_status"]]
print("PASS: churn_vanished_recorded_not_dropped" if len(bare) == v else "FAIL: churn_vanished_recorded_not_dropped: %d vs %d" % (len(bare), v))
PY
grep -q "exited during the scan" churn.err && pass churn_summary_line || fail churn_summary_line "$(cat churn.err)"
for p in $PIDS; do kill "$p" 2>/dev/null; done
PIDS=""

# ---- CLI contract ---------------------------------------------------------------
"$MSREC" snapshot --help | grep -q "usage: msrec snapshot" && pass msrec_snapshot_help || fail msrec_snapshot_help ""
"$MSDIFF" --help | grep -q "usage: msdiff" && pass msdiff_help || fail msdiff_help ""
"$MSCONV" churn.memscope --help 2>/dev/null | grep -q "usage: msconv" && pass msconv_snapshot_help || fail msconv_snapshot_help ""
"$MSREC" snapshot churn.memscope 2> exist.err
rc=$?; [ $rc -ne 0 ] && grep -q "^msrec: churn.memscope: file exists" exist.err && pass msrec_never_overwrites || fail msrec_never_overwrites "rc=$rc $(cat exist.err)"
"$MSDIFF" nothere.memscope churn.memscope 2> e1.err
rc=$?; [ $rc -ne 0 ] && [ "$(cat e1.err)" = "msdiff: nothere.memscope: No such file or directory" ] && pass msdiff_missing_file_error || fail msdiff_missing_file_error "$(cat e1.err)"
printf 'garbage' > bad.memscope
"$MSDIFF" bad.memscope churn.memscope --md out.md 2> e2.err
rc=$?; [ $rc -ne 0 ] && [ "$(wc -l < e2.err)" -eq 1 ] && grep -q "^msdiff: bad.memscope: " e2.err && [ ! -e out.md ] \
    && pass msdiff_bad_file_error || fail msdiff_bad_file_error "$(cat e2.err)"
mkdir -p empty
"$MSDIFF" empty churn.memscope 2> e3.err
rc=$?; [ $rc -ne 0 ] && grep -q "^msdiff: empty: no .memscope file" e3.err && pass msdiff_empty_dir_error || fail msdiff_empty_dir_error "$(cat e3.err)"
"$MSDIFF" churn.memscope churn.memscope --md /nonexistent/dir/r.md 2> e4.err
rc=$?; [ $rc -ne 0 ] && grep -q "^msdiff: /nonexistent/dir/r.md: " e4.err && pass msdiff_unwritable_output || fail msdiff_unwritable_output "$(cat e4.err)"
ls *.tmp.* >/dev/null 2>&1 && fail no_temp_files_left "$(ls *.tmp.*)" || pass no_temp_files_left
"$MSCONV" churn.memscope --html 2> e5.err
rc=$?; [ $rc -eq 2 ] && grep -q "^msconv: usage: --html needs an output file" e5.err && pass msconv_html_needs_out || fail msconv_html_needs_out "$(cat e5.err)"
"$MSREC" snapshot x.memscope --count 0 2> e6.err
rc=$?; [ $rc -ne 0 ] && grep -q "^msrec: --count: invalid value" e6.err && [ ! -e x.memscope ] && pass msrec_bad_option || fail msrec_bad_option "$(cat e6.err)"
HEAP=$(ls "$MS_ROOT"/tests/golden/*.memscope 2>/dev/null | while read f; do "$MSCONV" "$f" --info 2>/dev/null | grep -qi heap && echo "$f" && break; done)
if [ -n "$HEAP" ]; then
    "$MSDIFF" "$HEAP" churn.memscope --md mixed.md 2> e7.err
    rc=$?; [ $rc -ne 0 ] && grep -q "^msdiff: churn.memscope: cannot compare" e7.err && [ ! -e mixed.md ] \
        && pass msdiff_mixed_kinds_refused || fail msdiff_mixed_kinds_refused "$(cat e7.err)"
fi
