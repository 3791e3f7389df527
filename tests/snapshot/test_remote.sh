#!/bin/sh
# tools/memscope-remote.sh against a real sshd started here on 127.0.0.1
# (host and user keys generated in a temp dir, root key login only on
# 127.0.0.1). Hosts: two aliases of that sshd and one unreachable port; the
# failing host must not stop the others, and --diff compares the first two.
. "${MS_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib.sh"
SSHD_PID=""
cleanup() { [ -n "$SSHD_PID" ] && kill "$SSHD_PID" 2>/dev/null; wait 2>/dev/null; rm -rf "$TMP"; }
trap cleanup EXIT INT TERM
if [ "$(id -u)" -ne 0 ] || [ ! -x /usr/sbin/sshd ] || ! command -v ssh >/dev/null; then
    pass remote_skipped_needs_root_and_openssh
    exit 0
fi
cd "$TMP" || exit 1
chmod 700 "$TMP"
ssh-keygen -q -t ed25519 -N '' -f hostkey || { fail remote_keys "ssh-keygen failed"; exit 1; }
ssh-keygen -q -t ed25519 -N '' -f id || { fail remote_keys "ssh-keygen failed"; exit 1; }
cp id.pub authorized_keys; chmod 600 authorized_keys
freeport() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
PORT=$(freeport); DEAD=$(freeport)
cat > sshd_config <<CFG
ListenAddress 127.0.0.1
HostKey $TMP/hostkey
PidFile $TMP/sshd.pid
AuthorizedKeysFile $TMP/authorized_keys
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
AllowUsers root@127.0.0.1
CFG
[ -d /run/sshd ] || mkdir -p /run/sshd
/usr/sbin/sshd -f "$TMP/sshd_config" -D -p "$PORT" -E "$TMP/sshd.log" &
SSHD_PID=$!
cat > ssh_config <<CFG
Host h1 h2
    HostName 127.0.0.1
    Port $PORT
Host deadhost
    HostName 127.0.0.1
    Port $DEAD
    ConnectTimeout 3
Host *
    User root
    IdentityFile $TMP/id
    IdentitiesOnly yes
    StrictHostKeyChecking no
    UserKnownHostsFile /dev/null
    LogLevel ERROR
CFG
i=0; until ssh -F ssh_config -o BatchMode=yes h1 true 2>/dev/null; do
    i=$((i+1)); [ $i -gt 50 ] && { fail remote_sshd_up "$(tail -3 sshd.log)"; exit 1; }; sleep 0.1
done
pass remote_sshd_up

start=$(date +%s)
sh "$MS_ROOT/tools/memscope-remote.sh" -F "$TMP/ssh_config" h1 h2 deadhost -o "$TMP/out" --diff --max-processes 50 \
    --msrec "$MSREC" > remote.out 2>&1
rc=$?
[ $rc -eq 1 ] && pass remote_exit_1_when_one_host_fails || fail remote_exit_1_when_one_host_fails "rc=$rc $(tail -3 remote.out)"
[ -s out/h1/h1.memscope ] && [ -s out/h2/h2.memscope ] && pass remote_good_hosts_collected || fail remote_good_hosts_collected "$(cat remote.out)"
grep -q "^\[deadhost\] FAILED: ssh" remote.out && pass remote_failing_host_reported || fail remote_failing_host_reported "$(grep deadhost remote.out)"
grep -q "2 of 3 hosts succeeded" remote.out && pass remote_summary_line || fail remote_summary_line "$(tail -2 remote.out)"
[ -s out/h2/diff_report_中文.md ] && [ -s out/h2/diff_report.json ] && pass remote_diff_written || fail remote_diff_written "$(ls out/h2)"
grep -q "| 快照 | h1 | h2 |" out/h2/diff_report_中文.md && pass remote_labels_are_hosts || fail remote_labels_are_hosts "$(grep 快照 out/h2/diff_report_中文.md | head -1)"
"$MSCONV" out/h1/h1.memscope --json | python3 -c "
import json,sys; s=json.load(sys.stdin)['snapshots'][0]
print('PASS: remote_max_processes_passed' if len(s['processes'])==50 else 'FAIL: remote_max_processes_passed: %d' % len(s['processes']))"
ssh -F ssh_config -o BatchMode=yes h1 'ls -d ${TMPDIR:-/tmp}/memscope.* 2>/dev/null' | grep -q . \
    && fail remote_temp_cleaned "left on host" || pass remote_temp_cleaned
