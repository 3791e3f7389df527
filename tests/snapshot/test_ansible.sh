#!/bin/sh
# tools/ansible/snapshot.yml against real sshd instances on 127.0.0.1 (host
# and user keys made in a temp dir). Inventory: h1 on one sshd, h2 on a
# second sshd (another port) whose sessions get a TMPDIR mounted noexec,
# "slow" whose snapshot outlives memscope_timeout, "dead" (a port nobody
# listens on) and "stuck" (a port that accepts TCP and never speaks). One
# ansible-playbook run must collect h1 and h2 into their own folders,
# compare h1 with h2, report slow/dead/stuck without stopping the others,
# in bounded time, leave no work dir or msrec process behind, and compare
# h1 with its earlier "before" snapshot. The binary the
# role copies must be static (no PT_INTERP, no DT_NEEDED).
. "${MS_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib.sh"
PIDS=""; NOEXEC=""
cleanup() {
    # ssh ControlPersist masters (ansible.cfg) and their sshd sessions would
    # outlive the listeners by 60 s: close them first.
    for s in "$TMP"/cp/*; do [ -S "$s" ] && ssh -o ControlPath="$s" -O exit x >/dev/null 2>&1; done
    for p in $PIDS; do kill "$p" 2>/dev/null; done
    wait 2>/dev/null
    [ -n "$NOEXEC" ] && umount "$NOEXEC" 2>/dev/null
    rm -rf "$TMP"
}
trap cleanup EXIT INT TERM
if [ "$(id -u)" -ne 0 ] || [ ! -x /usr/sbin/sshd ] || ! command -v ssh >/dev/null || ! command -v ansible-playbook >/dev/null; then
    pass ansible_skipped_needs_root_openssh_ansible
    exit 0
fi
STATIC="$MS_BUILD/bin/msrec-static"
[ -x "$STATIC" ] || { fail ansible_static_built "$STATIC missing (make)"; exit 1; }

# The binary copied to the hosts is static: no program interpreter, no
# needed libraries (read from the ELF program and dynamic headers).
python3 - "$STATIC" <<'PY' && pass ansible_msrec_static_no_interp || fail ansible_msrec_static_no_interp "$(file "$STATIC")"
import struct, sys
d = open(sys.argv[1], 'rb').read()
assert d[:4] == b'\x7fELF' and d[4] == 2
phoff, = struct.unpack_from('<Q', d, 0x20); phentsize, phnum = struct.unpack_from('<HH', d, 0x36)
types = [struct.unpack_from('<I', d, phoff + i * phentsize)[0] for i in range(phnum)]
sys.exit(1 if 3 in types or 2 in types else 0)   # PT_INTERP = 3, PT_DYNAMIC = 2
PY
"$STATIC" --version >/dev/null 2>&1 && case "$(file -b "$STATIC")" in *static*) true ;; *) false ;; esac \
    && pass ansible_msrec_static_file || fail ansible_msrec_static_file "$(file -b "$STATIC")"

cd "$TMP" || exit 1
chmod 700 "$TMP"
ssh-keygen -q -t ed25519 -N '' -f hostkey && ssh-keygen -q -t ed25519 -N '' -f id || { fail ansible_keys "ssh-keygen failed"; exit 1; }
cp id.pub authorized_keys; chmod 600 authorized_keys
freeport() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
PA=$(freeport); PB=$(freeport); DEAD=$(freeport)
# A TMPDIR where nothing may run, like hosts that mount /tmp noexec.
mkdir -p noexec
if mount -t tmpfs -o noexec,size=16m tmpfs "$TMP/noexec" 2>/dev/null; then NOEXEC="$TMP/noexec"; fi
[ -d /run/sshd ] || mkdir -p /run/sshd
for s in A B; do
    cat > sshd_$s <<CFG
ListenAddress 127.0.0.1
HostKey $TMP/hostkey
PidFile $TMP/sshd_$s.pid
AuthorizedKeysFile $TMP/authorized_keys
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
AllowUsers root@127.0.0.1
Subsystem sftp internal-sftp
CFG
done
echo "SetEnv TMPDIR=$TMP/noexec" >> sshd_B
/usr/sbin/sshd -f "$TMP/sshd_A" -D -p "$PA" -E "$TMP/sshd_A.log" & PIDS="$PIDS $!"
/usr/sbin/sshd -f "$TMP/sshd_B" -D -p "$PB" -E "$TMP/sshd_B.log" & PIDS="$PIDS $!"
# stuck: accepts connections and never sends the ssh banner.
python3 -c '
import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 0)); s.listen(16)
open(sys.argv[1], "w").write(str(s.getsockname()[1]))
held = []
while True:
    c, _ = s.accept(); held.append(c)
' "$TMP/stuck.port" & PIDS="$PIDS $!"

i=0; until [ -s stuck.port ] && ssh -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR -i id -p "$PA" root@127.0.0.1 true 2>/dev/null \
        && ssh -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR -i id -p "$PB" root@127.0.0.1 true 2>/dev/null; do
    i=$((i+1)); [ $i -gt 50 ] && { fail ansible_sshd_up "$(tail -3 sshd_A.log sshd_B.log)"; exit 1; }; sleep 0.2
done
STUCK=$(cat stuck.port)
pass ansible_sshd_up

cat > hosts.ini <<INV
[fleet]
h1    ansible_port=$PA
h2    ansible_port=$PB
slow  ansible_port=$PA memscope_timeout=3 memscope_snapshot_args='["--interval", "30", "--count", "3"]'
dead  ansible_port=$DEAD
stuck ansible_port=$STUCK

[fleet:vars]
ansible_host=127.0.0.1
ansible_user=root
ansible_python_interpreter=/usr/bin/python3
ansible_ssh_private_key_file=$TMP/id
ansible_ssh_common_args='-o UserKnownHostsFile=/dev/null -o StrictHostKeyChecking=no -o IdentitiesOnly=yes -o LogLevel=ERROR'
INV
export ANSIBLE_CONFIG="$MS_ROOT/tools/ansible/ansible.cfg" ANSIBLE_TIMEOUT=4 ANSIBLE_HOST_KEY_CHECKING=False \
    ANSIBLE_REMOTE_TMP="$TMP/rtmp" ANSIBLE_LOCAL_TEMP="$TMP/ltmp" ANSIBLE_SSH_CONTROL_PATH_DIR="$TMP/cp" \
    ANSIBLE_NOCOLOR=1 ANSIBLE_FORCE_COLOR=0
PLAY="$MS_ROOT/tools/ansible/snapshot.yml"
COMMON="-e memscope_out=$TMP/out -e memscope_become=false -e memscope_max_processes=40 -e memscope_msrec=$STATIC -e memscope_msdiff=$MSDIFF"

# h1 already has a "before" snapshot (taken here: the hosts are this
# machine); the run takes phase "after", compares h1 with its before (h2
# has none: a note, not a failure) and h1 with h2.
mkdir -p out/h1/before
"$STATIC" snapshot out/h1/before/before.memscope --label "h1 before" --max-processes 40 2>/dev/null
t0=$(date +%s)
ansible-playbook -i hosts.ini "$PLAY" $COMMON -e memscope_phase=after -e memscope_diff_before=before \
    -e memscope_diff_hosts=h1:h2,h2:dead > run.out 2>&1
rc=$?
t1=$(date +%s)
echo "ansible-playbook: $((t1 - t0)) s"
[ $rc -ne 0 ] && grep -q "3 of 5 hosts failed: slow, dead, stuck" run.out \
    && pass ansible_failures_reported_rc || fail ansible_failures_reported_rc "rc=$rc $(grep -i 'memscope:' run.out | tail -3)"
# The hung hosts are bounded by their timeouts (checked above: slow would take
# 60 s, stuck forever); this only catches a run that waits for them anyway.
[ $((t1 - t0)) -le 180 ] && pass ansible_bounded_time || fail ansible_bounded_time "$((t1 - t0)) s"
ok=1
for h in h1 h2; do
    f="out/$h/after/after.memscope"
    [ -s "$f" ] && "$MSCONV" "$f" --json 2>/dev/null | python3 -c "
import json,sys; s=json.load(sys.stdin)['snapshots'][0]
sys.exit(0 if len(s['processes'])==40 and s['label']=='$h after' else 1)" || { ok=0; echo "bad $f"; }
done
[ $ok = 1 ] && pass ansible_good_hosts_own_folders || fail ansible_good_hosts_own_folders "$(find out | head -20)"
grep -q "^slow	failed (msrec snapshot): snapshot killed after 3 s" out/summary.txt \
    && pass ansible_slow_host_killed || fail ansible_slow_host_killed "$(grep slow out/summary.txt)"
grep -q "^dead	unreachable" out/summary.txt && grep -q "^stuck	unreachable" out/summary.txt \
    && pass ansible_bad_hosts_reported || fail ansible_bad_hosts_reported "$(grep -E 'dead|stuck' out/summary.txt)"
[ ! -e out/slow/after/after.memscope ] && [ ! -e out/dead/after/after.memscope ] \
    && pass ansible_failed_hosts_no_file || fail ansible_failed_hosts_no_file "$(ls out/slow/after out/dead/after 2>&1)"
md="out/h2/after/vs_h1/diff_report_中文.md"
[ -s "$md" ] && [ -s out/h2/after/vs_h1/diff_report.json ] && grep -q "| 快照 | h1 after | h2 after |" "$md" \
    && pass ansible_host_pair_diff || fail ansible_host_pair_diff "$(ls out/h2/after/vs_h1 2>&1; grep -m1 快照 "$md" 2>&1)"
grep -q "^diff h2:dead	skipped: no snapshot of dead" out/summary.txt \
    && pass ansible_pair_with_failed_host_skipped || fail ansible_pair_with_failed_host_skipped "$(grep '^diff' out/summary.txt)"
grep -q "| 快照 | h1 before | h1 after |" out/h1/after/diff_report_中文.md 2>/dev/null \
    && grep -q "^h1	ok: .*diff with before in " out/summary.txt \
    && pass ansible_before_after_diff || fail ansible_before_after_diff "$(grep ^h1 out/summary.txt; ls out/h1/after)"
grep -q "^h2	ok: .*diff with before failed" out/summary.txt \
    && pass ansible_missing_before_is_a_note || fail ansible_missing_before_is_a_note "$(grep ^h2 out/summary.txt)"
if [ -n "$NOEXEC" ]; then
    grep -q "^h2	ok: .*noexec.*does not let programs run" out/summary.txt && pass ansible_noexec_tmpdir_skipped \
        || fail ansible_noexec_tmpdir_skipped "$(grep ^h2 out/summary.txt)"
else
    pass ansible_noexec_tmpdir_skipped_no_mount
fi

# Nothing left on the "hosts": no work dir anywhere, no msrec still running.
left=$(find /tmp /var/tmp "$HOME/.cache" /dev/shm "$TMP/noexec" -maxdepth 1 -name 'memscope-ansible.*' 2>/dev/null)
[ -z "$left" ] && pass ansible_work_dirs_removed || fail ansible_work_dirs_removed "$left"
sleep 1
procs=$(ps -eo pid,args | grep 'memscope-ansible\.' | grep -v grep)
[ -z "$procs" ] && pass ansible_no_remote_processes || fail ansible_no_remote_processes "$procs"
[ -z "$(ls -A rtmp 2>/dev/null)" ] && pass ansible_module_tmp_clean || fail ansible_module_tmp_clean "$(ls rtmp)"
