# Seed 000's "自动处理 sudo": `msrec snapshot` run by an ordinary user re-runs
# itself through `sudo -n` when sudo allows that without a password, so the
# snapshot sees every process, and gives the file back to that user; with
# --no-sudo, or when sudo would ask for a password, it stays unprivileged
# and says why. The user is nobody (setpriv); sudo is allowed for it by a
# sudoers drop-in that this test writes and always removes, limited to the
# msrec binary under test and /usr/bin/true (the probe msrec runs first).
. "${MS_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib.sh"
T=snapshot/sudo
for tool in sudo setpriv visudo; do
    if ! command -v $tool >/dev/null 2>&1; then fail $T/setup "$tool missing (make deps installs sudo)"; exit 0; fi
done
[ "$(id -u)" -eq 0 ] || { fail $T/setup "must run as root (writes a sudoers drop-in)"; exit 0; }
[ -x "$MSREC" ] || { fail $T/setup "missing $MSREC"; exit 0; }
# nobody must reach the binary wherever the checkout is: run a copy
chmod 755 "$TMP"; mkdir "$TMP/bin"; cp "$MSREC" "$TMP/bin/msrec"; chmod 755 "$TMP/bin" "$TMP/bin/msrec"
MSREC=$TMP/bin/msrec

DROPIN=/etc/sudoers.d/memscope-test-$$
trap 'rm -f "$DROPIN"; rm -rf "$TMP"' EXIT INT TERM
OUT=$TMP/out; mkdir "$OUT"; chmod 777 "$OUT"
as_nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
priv() { "$MSCONV" "$1" --json 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["snapshots"][0]["privilege"])'; }
# A root process the test starts: its memory is readable only with privilege
sleep 300 & ROOTPID=$!
trap 'kill $ROOTPID 2>/dev/null; rm -f "$DROPIN"; rm -rf "$TMP"' EXIT INT TERM
known() { "$MSCONV" "$1" --json 2>/dev/null | python3 -c '
import json,sys
for p in json.load(sys.stdin)["snapshots"][0]["processes"]:
    if p["pid"] == int(sys.argv[1]): print(1 if p["memory_known"] and p["pss"] > 0 else 0); break
else: print("absent")' "$ROOTPID"; }

# 1. sudo not allowed for nobody: unprivileged, and the reason is said
as_nobody "$MSREC" snapshot "$OUT/nosudo.memscope" > "$TMP/n.out" 2> "$TMP/n.err" < /dev/null
check $T/denied/exit 0 "$?"
check $T/denied/privilege user "$(priv "$OUT/nosudo.memscope")"
if grep -q "sudo -n needs a password or is not allowed" "$TMP/n.err"; then pass $T/denied/says-why
else fail $T/denied/says-why "stderr: $(tr '\n' ' ' < "$TMP/n.err")"; fi

# 2. sudo allowed without a password: the snapshot is taken as root
printf 'nobody ALL=(root) NOPASSWD: %s, /usr/bin/true\n' "$MSREC" > "$DROPIN.tmp"
chmod 440 "$DROPIN.tmp"
if ! visudo -cq -f "$DROPIN.tmp"; then fail $T/setup "sudoers drop-in rejected"; rm -f "$DROPIN.tmp"; exit 0; fi
mv "$DROPIN.tmp" "$DROPIN"
as_nobody "$MSREC" snapshot "$OUT/sudo.memscope" > "$TMP/s.out" 2> "$TMP/s.err" < /dev/null
check $T/allowed/exit 0 "$?"
check $T/allowed/privilege root "$(priv "$OUT/sudo.memscope")"
check $T/allowed/root-process-readable 1 "$(known "$OUT/sudo.memscope")"
check $T/allowed/file-given-back-to-user 65534 "$(stat -c %u "$OUT/sudo.memscope")"
if grep -q "not root" "$TMP/s.err"; then fail $T/allowed/no-root-advice "stderr: $(tr '\n' ' ' < "$TMP/s.err")"
else pass $T/allowed/no-root-advice; fi

# 3. --no-sudo: stays unprivileged although sudo would work
as_nobody "$MSREC" snapshot "$OUT/forced.memscope" --no-sudo > /dev/null 2> "$TMP/f.err" < /dev/null
check $T/no-sudo/exit 0 "$?"
check $T/no-sudo/privilege user "$(priv "$OUT/forced.memscope")"
check $T/no-sudo/root-process-unknown 0 "$(known "$OUT/forced.memscope")"
