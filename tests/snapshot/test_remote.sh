#!/bin/sh
# tools/memscope-remote.sh against real sshd instances on 127.0.0.1 (host and
# user keys made in a temp dir). h1 and h2 are two sshds (two ports); h2's
# sessions get a TMPDIR mounted noexec. Seed 000's syntax
# `user@host DIR [max] -d host2` must collect both hosts into their own
# folders over one ssh connection each and diff them; an unreachable port
# and a port that never speaks ssh fail fast without a diff; a snapshot
# that outlives --timeout is killed on the host, which keeps no work dir
# and no process. Every sshd started here is killed on exit.
. "${MS_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib.sh"
PIDS=""; NOEXEC=""
cleanup() {
    for p in $PIDS; do kill "$p" 2>/dev/null; done
    wait 2>/dev/null
    [ -n "$NOEXEC" ] && umount "$NOEXEC" 2>/dev/null
    rm -rf "$TMP"
}
trap cleanup EXIT INT TERM
if [ "$(id -u)" -ne 0 ] || [ ! -x /usr/sbin/sshd ] || ! command -v ssh >/dev/null; then
    pass remote_skipped_needs_root_and_openssh
    exit 0
fi
STATIC="$MS_BUILD/bin/msrec-static"
[ -x "$STATIC" ] || { fail remote_static_built "$STATIC missing (make)"; exit 1; }
cd "$TMP" || exit 1
chmod 700 "$TMP"
ssh-keygen -q -t ed25519 -N '' -f hostkey && ssh-keygen -q -t ed25519 -N '' -f id || { fail remote_keys "ssh-keygen failed"; exit 1; }
cp id.pub authorized_keys; chmod 600 authorized_keys
freeport() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
PA=$(freeport); PB=$(freeport); DEAD=$(freeport)
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
CFG
done
echo "SetEnv TMPDIR=$TMP/noexec" >> sshd_B
/usr/sbin/sshd -f "$TMP/sshd_A" -D -p "$PA" -E "$TMP/sshd_A.log" & PIDS="$PIDS $!"
/usr/sbin/sshd -f "$TMP/sshd_B" -D -p "$PB" -E "$TMP/sshd_B.log" & PIDS="$PIDS $!"
# stuck: accepts connections and never sends the ssh banner.
python3 -c '
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 0)); s.listen(16)
open(sys.argv[1], "w").write(str(s.getsockname()[1]))
held = []
while True:
    c, _ = s.accept(); held.append(c)
' "$TMP/stuck.port" & PIDS="$PIDS $!"
i=0; until [ -s stuck.port ]; do i=$((i+1)); [ $i -gt 50 ] && break; sleep 0.1; done
cat > ssh_config <<CFG
Host h1
    HostName 127.0.0.1
    Port $PA
Host h2
    HostName 127.0.0.1
    Port $PB
Host dead
    HostName 127.0.0.1
    Port $DEAD
Host stuck
    HostName 127.0.0.1
    Port $(cat stuck.port)
Host *
    User root
    IdentityFile $TMP/id
    IdentitiesOnly yes
    StrictHostKeyChecking no
    UserKnownHostsFile /dev/null
    LogLevel ERROR
CFG
i=0; until ssh -F ssh_config -o BatchMode=yes h1 true 2>/dev/null && ssh -F ssh_config -o BatchMode=yes h2 true 2>/dev/null; do
    i=$((i+1)); [ $i -gt 50 ] && { fail remote_sshd_up "$(tail -3 sshd_A.log sshd_B.log)"; exit 1; }; sleep 0.2
done
pass remote_sshd_up
R="$MS_ROOT/tools/memscope-remote.sh"
logins() { grep -c "Accepted publickey" "$1" 2>/dev/null; }
a0=$(logins sshd_A.log); b0=$(logins sshd_B.log)

# Seed 000's syntax: user@host DIR [max] -d host2.
t0=$(date +%s)
sh "$R" root@h1 "$TMP/out" 50 -d h2 -F "$TMP/ssh_config" --msrec "$STATIC" --msdiff "$MSDIFF" > seed.out 2>&1
rc=$?
echo "memscope-remote, two hosts: $(( $(date +%s) - t0 )) s"
[ $rc -eq 0 ] && pass remote_seed_syntax_ok || fail remote_seed_syntax_ok "rc=$rc $(tail -3 seed.out)"
[ -s "out/root@h1/root@h1.memscope" ] && [ -s out/h2/h2.memscope ] && pass remote_folder_per_user_host \
    || fail remote_folder_per_user_host "$(ls out)"
grep -q "2 of 2 hosts succeeded" seed.out && pass remote_summary_line || fail remote_summary_line "$(tail -2 seed.out)"
[ -s out/h2/diff_report_中文.md ] && [ -s out/h2/diff_report.json ] && pass remote_diff_written || fail remote_diff_written "$(ls out/h2)"
grep -q "| 快照 | root@h1 | h2 |" out/h2/diff_report_中文.md && pass remote_labels_are_hosts \
    || fail remote_labels_are_hosts "$(grep 快照 out/h2/diff_report_中文.md | head -1)"
"$MSCONV" "out/root@h1/root@h1.memscope" --json | python3 -c "
import json,sys; s=json.load(sys.stdin)['snapshots'][0]
print('PASS: remote_max_processes_passed' if len(s['processes'])==50 else 'FAIL: remote_max_processes_passed: %d' % len(s['processes']))"
check remote_one_ssh_connection_per_host "1 1" "$(( $(logins sshd_A.log) - a0 )) $(( $(logins sshd_B.log) - b0 ))"
if [ -n "$NOEXEC" ]; then
    grep -q "^\[h2\] memscope-remote: .*noexec" seed.out && pass remote_noexec_tmpdir_skipped \
        || fail remote_noexec_tmpdir_skipped "$(grep '^\[h2\]' seed.out)"
else
    pass remote_noexec_tmpdir_skipped_no_mount
fi

# Unreachable and silent hosts: both reported, quickly, and no diff.
t0=$(date +%s)
sh "$R" dead "$TMP/out2" -d stuck -F "$TMP/ssh_config" --connect-timeout 3 --msrec "$STATIC" --msdiff "$MSDIFF" > bad.out 2>&1
rc=$?; dt=$(( $(date +%s) - t0 ))
[ $rc -eq 1 ] && grep -q "^\[dead\] FAILED: ssh" bad.out && grep -q "^\[stuck\] FAILED: ssh" bad.out \
    && grep -q "0 of 2 hosts succeeded" bad.out && pass remote_bad_hosts_reported || fail remote_bad_hosts_reported "rc=$rc $(cat bad.out)"
[ $dt -le 20 ] && pass remote_bad_hosts_bounded_time || fail remote_bad_hosts_bounded_time "$dt s"
[ ! -e out2/stuck/diff_report_中文.md ] && grep -q "no diff" bad.out && pass remote_no_diff_after_failure \
    || fail remote_no_diff_after_failure "$(ls out2/stuck)"

# A snapshot slower than --timeout is killed on the host (option syntax, -o).
t0=$(date +%s)
sh "$R" h1 -o "$TMP/out3" --timeout 3 -F "$TMP/ssh_config" --msrec "$STATIC" -- --interval 30 --count 3 > slow.out 2>&1
rc=$?; dt=$(( $(date +%s) - t0 ))
[ $rc -eq 1 ] && grep -q "^\[h1\] FAILED: memscope-remote: snapshot killed after 3 s" slow.out \
    && pass remote_timeout_kills_snapshot || fail remote_timeout_kills_snapshot "rc=$rc $(cat slow.out)"
[ $dt -le 25 ] && pass remote_timeout_bounded_time || fail remote_timeout_bounded_time "$dt s"
[ ! -e out3/h1/h1.memscope ] && [ ! -e out3/h1/.h1.memscope.part ] && pass remote_no_partial_file || fail remote_no_partial_file "$(ls -a out3/h1)"

# Nothing left on the hosts (this machine): no work dir, no msrec running.
sleep 1
left=$(find /tmp /var/tmp "$HOME/.cache" /dev/shm "$TMP/noexec" -maxdepth 1 -name 'memscope-remote.*' 2>/dev/null)
[ -z "$left" ] && pass remote_temp_cleaned || fail remote_temp_cleaned "$left"
procs=$(ps -eo pid,args | grep 'memscope-remote\.' | grep -v grep)
[ -z "$procs" ] && pass remote_no_processes_left || fail remote_no_processes_left "$procs"
