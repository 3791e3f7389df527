#!/bin/sh
# Runtime control (MEMSCOPE_CONTROL=1; msrec attach / detach / status).
# tests/progs/service allocates what its stdin (a FIFO) tells it and
# answers "ok K" after each command, so every window below is exact: the
# test sends commands only while the recording is known to run (status
# says so) and waits for their "ok" before it stops it.
#  1. dormant, attach (no -s), 500 allocations and 450 frees in the window,
#     100 of them of blocks allocated before it: the file holds exactly the
#     window (allocations, frees, frees before the window, live blocks),
#     END stopped by detach, msconv --info/--text/--json/--html say window;
#     status while recording and after; re-attach with -s 1 and a prefix
#     (PREFIX<pid>.2.memscope, END after the duration); -c 4096 (a sampled
#     window whose estimate of 1000 allocations is within 10 %);
#     closefrom(3) in the program leaves the channel working; an allocation
#     glibc makes for the recorder's thread key is not the program's; the service
#     goes on, exits 0 and prints what it prints without memscope, nothing
#     on stderr;
#  2. the program exits, crashes (SIGSEGV) or is killed (SIGKILL) during a
#     session: finished file (END exit 3 / signal 11) or a readable prefix;
#  3. libmemscope linked in (service_linked);
#  4. fork: the child has its own channel, not the parent's; the attached
#     msrec sees the parent's exit although the child lives on;
#  5. another user (nobody) is refused; root may attach to nobody's process;
#  6. no MEMSCOPE_CONTROL (library loaded or not): a clear error naming it,
#     and no listening socket.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/common.sh"
T=attach
require "$LIBMS" "$MSREC" "$MSCONV" "$PROGS/service" "$PROGS/service_linked"
unset MEMSCOPE_CONTROL

# svc NAME PREFIX... : start PREFIX... $TMP/NAME.in (a FIFO, kept open on
# fd 3) > $TMP/NAME.out; sets SVC (pid). send LINE; ok K waits for "ok K".
svc() {
    SVCN=$1; shift
    rm -f "$TMP/$SVCN.in"; mkfifo "$TMP/$SVCN.in"
    "$@" < "$TMP/$SVCN.in" > "$TMP/$SVCN.out" 2> "$TMP/$SVCN.err" &
    SVC=$!
    exec 3> "$TMP/$SVCN.in"
}
send() { echo "$*" >&3; }
ok() {
    _i=0
    while ! grep -q "^ok $1 " "$TMP/$SVCN.out" 2>/dev/null; do
        sleep 0.02; _i=$((_i + 1))
        [ $_i -gt 500 ] && { fail "$T/$SVCN/ok-$1" "no 'ok $1' from the service"; return 1; }
    done
}
# attach_bg NAME ARGS... : msrec attach in the background (pid in ATT),
# then wait until the service says it records
attach_bg() {
    _n=$1; shift
    "$MSREC" attach "$SVC" "$@" > "$TMP/$_n.att.out" 2> "$TMP/$_n.att.err" &
    ATT=$!
    _i=0
    until "$MSREC" status "$SVC" 2>/dev/null | grep -q "recording to"; do
        sleep 0.02; _i=$((_i + 1))
        if [ $_i -gt 250 ] || ! kill -0 $ATT 2>/dev/null; then
            fail "$T/$_n/recording" "not recording: $(head -c 300 "$TMP/$_n.att.err")"; return 1
        fi
    done
}
# summary values of msconv --json without a Python start per value (the
# summary is the first object, one "key": value per line)
jsonof() { "$MSCONV" "$1" --json > "$1.json" 2> "$1.json.err"; }
jsum() { sed -n "s/^    \"$2\": \"\{0,1\}\([^\",]*\)\"\{0,1\},\{0,1\}\$/\1/p" "$1.json" | head -1; }

# the same commands without memscope: the output to compare with
svc plain "$PROGS/service"
send "alloc 100 48"; send "alloc 200 1000"; send "free 50"; send "churn 300 64"; send "free 100"
send "alloc 7 333"; send "free 7"; send "churn 5 16"; send "alloc 1000 4096"; send "closefrom"; send "alloc 10 10"
exec 3>&-
wait $SVC

# --- 1. dormant, attach, detach, re-attach ------------------------------------
n=$T/window
# (40 keys: the recorder's own thread key, made at attach, is past glibc's
# first 32 and pthread_setspecific allocates for it: not the program's)
svc s1 env -u MEMSCOPE_QUIET LD_PRELOAD="$LIBMS" MEMSCOPE_CONTROL=1 SERVICE_KEYS=40 "$PROGS/service"
send "alloc 100 48"; ok 1
st=$("$MSREC" status $SVC)
case $st in *"dormant"*"0 recording sessions"*) pass $n/status-dormant ;;
    *) fail $n/status-dormant "$st" ;; esac
W1=$TMP/w1.memscope
if attach_bg w1 -o "$W1"; then
    send "alloc 200 1000"; send "free 50"; send "churn 300 64"; send "free 100"; ok 5
    st=$("$MSREC" status $SVC)
    case $st in *"recording to $W1 since"*"window, session 1"*"until msrec detach $SVC") pass $n/status-recording ;;
        *) fail $n/status-recording "$st" ;; esac
    d=$("$MSREC" detach $SVC 2> "$TMP/detach.err"); rc=$?
    check $n/detach-status 0 "$rc"
    check $n/detach-prints-path "$W1" "$d"
    wait $ATT; rc=$?
    check $n/attach-status 0 "$rc"
    check $n/attach-prints-path "$W1" "$(cat "$TMP/w1.att.out")"
    jsonof "$W1"
    check $n/allocations 500 "$(jsum "$W1" total_allocations)"
    check $n/frees 350 "$(jsum "$W1" total_deallocations)"
    check $n/frees-before-window 100 "$(jsum "$W1" frees_before_window)"
    check $n/unmatched-frees 0 "$(jsum "$W1" unmatched_frees)"
    check $n/live-bytes-at-end 150000 "$(jsum "$W1" active_memory)"
    check $n/live-blocks-at-end 150 "$(jsum "$W1" active_allocations)"
    check $n/scope window "$(jsum "$W1" scope)"
    check $n/session 1 "$(jsum "$W1" session)"
    "$MSCONV" "$W1" --info > "$TMP/w1.info" 2>&1
    grep -q '^scope: *window (attach session 1), recording started [0-9.]* s after the process started' "$TMP/w1.info" \
        && pass $n/info-scope || fail $n/info-scope "$(grep -i scope "$TMP/w1.info")"
    grep -q '^end: *stopped (detach), 950 events written' "$TMP/w1.info" && grep -q '^integrity: *complete' "$TMP/w1.info" \
        && pass $n/info-end-complete || fail $n/info-end-complete "$(grep -E '^(end|integrity)' "$TMP/w1.info" | tr '\n' ' ')"
    "$MSCONV" "$W1" --text --lang en > "$TMP/w1.txt" 2>&1
    grep -q '^window trace (attach session 1): .* 100 frees of them are counted apart' "$TMP/w1.txt" \
        && grep -q '^live at the end of the window: 146.5 KiB in 150 blocks' "$TMP/w1.txt" \
        && pass $n/text-says-window || fail $n/text-says-window "$(tail -8 "$TMP/w1.txt" | tr '\n' ' ')"
    grep -q 'site_alloc' "$TMP/w1.txt" && pass $n/symbolized || fail $n/symbolized "no site_alloc in --text"
    "$MSCONV" "$W1" --text > "$TMP/w1.zh.txt" 2>&1
    grep -q '^时间窗口记录（第 1 次附加）' "$TMP/w1.zh.txt" && pass $n/text-zh || fail $n/text-zh "$(tail -8 "$TMP/w1.zh.txt" | head -2)"
    if command -v chromium >/dev/null 2>&1; then
        "$MSCONV" "$W1" --html "$TMP/w1.html" --lang en 2> /dev/null
        cat > "$TMP/w1.js" <<'JS'
## window row in the overview
var t = (document.getElementById("meta-scope") || {}).textContent || "";
return /^window \(attach session 1\), started [0-9.]+ ms after the process$/.test(t) || t;
## window note with the frees before it
var t = (document.getElementById("window-note") || {}).textContent || "";
return t.indexOf("100 frees of such blocks are counted apart") > 0 || t;
## live at the end, not leaked
var c = document.getElementById("card-leaked");
return (c.textContent.indexOf("Live at the end of the window") === 0 && c.getAttribute("data-v") === "150000") || c.textContent;
JS
        python3 "$MS_ROOT/tests/html/cdp.py" "file://$TMP/w1.html" "$TMP/w1.js" "$n/html"
    else
        echo "SKIP: $n/html: chromium not installed"
    fi
fi
st=$("$MSREC" status $SVC)
case $st in *"dormant"*"1 recording session so far"*) pass $n/dormant-again ;;
    *) fail $n/dormant-again "$st" ;; esac

# re-attach: a prefix, 1 s
n=$T/reattach
if attach_bg w2 -s 1 -o "$TMP/pfx_" --no-symbolize; then
    send "alloc 7 333"; send "free 7"; send "churn 5 16"; ok 8
    t0=$(date +%s%N); wait $ATT; rc=$?; t1=$(date +%s%N)
    check $n/attach-status 0 "$rc"
    W2=$TMP/pfx_$SVC.2.memscope
    check $n/prefix-path "$W2" "$(cat "$TMP/w2.att.out")"
    jsonof "$W2"
    check $n/allocations 12 "$(jsum "$W2" total_allocations)"
    check $n/frees 5 "$(jsum "$W2" total_deallocations)"
    check $n/frees-before-window 7 "$(jsum "$W2" frees_before_window)"
    check $n/session 2 "$(jsum "$W2" session)"
    "$MSCONV" "$W2" --info > "$TMP/w2.info" 2>&1
    grep -q '^end: *stopped (duration elapsed)' "$TMP/w2.info" && pass $n/info-duration \
        || fail $n/info-duration "$(grep '^end' "$TMP/w2.info")"
    # the 1 s ran from attach to END; msrec returned within 0.1..3 s of the ok
    awk -v a="$t0" -v b="$t1" 'BEGIN { exit !((b - a) / 1e9 < 3) }' && pass $n/ended-in-time \
        || fail $n/ended-in-time "waited $(( (t1 - t0) / 1000000 )) ms"
fi

# -c: a sampled window (1 in 4096 bytes): 1000 blocks of 4096 bytes are
# each recorded with p = 1 - e^-1 = 0.63 and weighted 1/p, so the estimate
# is 1000 with a standard deviation of sqrt(1000 (1-p)/p) = 24: +-10 % is
# over 4 sigma
n=$T/sample
if attach_bg c -s 0.5 -c 4096 -o "$TMP/c.memscope" --no-symbolize; then
    send "alloc 1000 4096"; ok 9
    wait $ATT; check $n/attach-status 0 "$?"
    jsonof "$TMP/c.memscope"
    check $n/mode sampled "$(jsum "$TMP/c.memscope" mode)"
    check $n/rate 4096 "$(jsum "$TMP/c.memscope" sample_rate)"
    check $n/scope window "$(jsum "$TMP/c.memscope" scope)"
    est=$(jsum "$TMP/c.memscope" total_allocations)
    [ -n "$est" ] && [ "$est" -ge 900 ] && [ "$est" -le 1100 ] && pass $n/estimate-1000-within-10pct \
        || fail $n/estimate-1000-within-10pct "estimated '$est' allocations"
fi

# closefrom(3) in the program: the channel survives
n=$T/closefrom
send "closefrom"; ok 10
"$MSREC" status $SVC > "$TMP/cf.status" 2>&1 && grep -q dormant "$TMP/cf.status" && pass $n/status-works \
    || fail $n/status-works "$(cat "$TMP/cf.status")"
send "alloc 10 10"; ok 11
exec 3>&-
wait $SVC; rc=$?
n=$T/service
check $n/exit-status 0 "$rc"
if cmp -s "$TMP/plain.out" "$TMP/s1.out"; then pass $n/stdout-unchanged
else fail $n/stdout-unchanged "$(diff "$TMP/plain.out" "$TMP/s1.out" | head -4 | tr '\n' ' ')"; fi
check $n/stderr-empty "" "$(cat "$TMP/s1.err")"

# --- 2. the program ends during a session --------------------------------------
n=$T/exit-during
svc s2 env LD_PRELOAD="$LIBMS" MEMSCOPE_CONTROL=1 "$PROGS/service"
send "alloc 1 8"; ok 1
if attach_bg s2 --no-symbolize -o "$TMP/e.memscope"; then
    send "alloc 20 100"; ok 2; send "exit 3"
    wait $SVC; check $n/exit-status 3 "$?"
    wait $ATT; check $n/attach-status 0 "$?"
    check $n/prints-path "$TMP/e.memscope" "$(cat "$TMP/s2.att.out")"
    "$MSCONV" "$TMP/e.memscope" --info > "$TMP/e.info" 2>&1
    grep -q '^end: *exit status 3' "$TMP/e.info" && grep -q '^integrity: *complete' "$TMP/e.info" \
        && pass $n/info-exit-complete || fail $n/info-exit-complete "$(grep -E '^(end|integrity)' "$TMP/e.info" | tr '\n' ' ')"
    jsonof "$TMP/e.memscope"
    check $n/allocations 20 "$(jsum "$TMP/e.memscope" total_allocations)"
fi
exec 3>&-

n=$T/crash-during
svc s3 env LD_PRELOAD="$LIBMS" MEMSCOPE_CONTROL=1 "$PROGS/service"
send "alloc 1 8"; ok 1
if attach_bg s3 --no-symbolize -o "$TMP/x.memscope"; then
    send "alloc 5 64"; ok 2; send "crash"
    wait $SVC; check $n/signal-status 139 "$?"
    wait $ATT
    "$MSCONV" "$TMP/x.memscope" --info > "$TMP/x.info" 2>&1
    grep -q '^end: *signal 11' "$TMP/x.info" && pass $n/info-signal-11 \
        || fail $n/info-signal-11 "$(grep -E '^(end|integrity)' "$TMP/x.info" | tr '\n' ' ')"
    jsonof "$TMP/x.memscope"
    check $n/allocations 5 "$(jsum "$TMP/x.memscope" total_allocations)"
fi
exec 3>&-

n=$T/kill-during
svc s4 env LD_PRELOAD="$LIBMS" MEMSCOPE_CONTROL=1 "$PROGS/service"
send "alloc 1 8"; ok 1
if attach_bg s4 --no-symbolize -o "$TMP/k.memscope"; then
    send "alloc 5 64"; ok 2
    sleep 0.15                    # > 50 ms: the writer's periodic flush
    kill -9 $SVC; wait $SVC
    wait $ATT; check $n/attach-status 1 "$?"
    grep -q "ended during the session without finishing $TMP/k.memscope" "$TMP/s4.att.err" \
        && pass $n/says-unfinished || fail $n/says-unfinished "$(cat "$TMP/s4.att.err")"
    "$MSCONV" "$TMP/k.memscope" --info > "$TMP/k.info" 2>&1; rc=$?
    check $n/info-reads-it 0 "$rc"
    grep -q '^scope: *window' "$TMP/k.info" && pass $n/info-window || fail $n/info-window "$(head -c 300 "$TMP/k.info")"
fi
exec 3>&-

# --- 3. linked in ---------------------------------------------------------------
n=$T/linked
svc s5 env MEMSCOPE_CONTROL=1 "$PROGS/service_linked"
send "alloc 1 8"; ok 1
if attach_bg s5 --no-symbolize -o "$TMP/l.memscope"; then
    send "alloc 3 10"; ok 2
    "$MSREC" detach $SVC > /dev/null 2>&1; wait $ATT
    jsonof "$TMP/l.memscope"
    check $n/allocations 3 "$(jsum "$TMP/l.memscope" total_allocations)"
fi
exec 3>&-; wait $SVC

# --- 4. fork ------------------------------------------------------------------
n=$T/fork
svc s6 env LD_PRELOAD="$LIBMS" MEMSCOPE_CONTROL=1 "$PROGS/service"
send "fork"; ok 1
CHILD=$(sed -n 's/^forked //p' "$TMP/s6.out")
"$MSREC" status "$CHILD" > "$TMP/child.status" 2>&1
case $(cat "$TMP/child.status") in "pid $CHILD: dormant"*) pass $n/child-own-channel ;;
    *) fail $n/child-own-channel "$(cat "$TMP/child.status")" ;; esac
if attach_bg s6 --no-symbolize -o "$TMP/f.memscope"; then
    "$MSREC" status "$CHILD" 2>&1 | grep -q dormant && pass $n/child-not-recording \
        || fail $n/child-not-recording "child status changed with the parent's session"
    send "alloc 2 2"; ok 2; send "exit 0"
    wait $SVC
    t0=$(date +%s)
    wait $ATT; rc=$?
    check $n/attach-ends-with-parent 0 "$rc"
    [ $(( $(date +%s) - t0 )) -le 3 ] && pass $n/not-held-by-child || fail $n/not-held-by-child "attach waited for the child"
fi
[ -n "$CHILD" ] && kill "$CHILD" 2>/dev/null
exec 3>&-

# --- 5. another user ------------------------------------------------------------
n=$T/users
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null 2>&1; then
    AS_NOBODY="setpriv --reuid=65534 --regid=65534 --clear-groups"
    svc s7 env LD_PRELOAD="$LIBMS" MEMSCOPE_CONTROL=1 "$PROGS/service"
    send "alloc 1 8"; ok 1
    $AS_NOBODY "$MSREC" status $SVC > "$TMP/nb.out" 2>&1; rc=$?
    check $n/nobody-status-refused 1 "$rc"
    grep -q "msrec: $SVC: permission denied: pid $SVC runs as uid 0" "$TMP/nb.out" && pass $n/nobody-says-why \
        || fail $n/nobody-says-why "$(cat "$TMP/nb.out")"
    mkdir -m 777 "$TMP/pub"
    (cd "$TMP/pub" && $AS_NOBODY "$MSREC" attach $SVC -s 0.2 -o nb.memscope) > "$TMP/nb2.out" 2>&1; rc=$?
    check $n/nobody-attach-refused 1 "$rc"
    [ ! -e "$TMP/pub/nb.memscope" ] && pass $n/nobody-no-file || fail $n/nobody-no-file "file left"
    "$MSREC" status $SVC | grep -q "dormant.*0 recording sessions" && pass $n/still-dormant \
        || fail $n/still-dormant "$("$MSREC" status $SVC)"
    exec 3>&-; wait $SVC
    # root attaches to a process of nobody's
    chmod 755 "$TMP"
    SVCN=s8; rm -f "$TMP/pub/s8.in"; mkfifo -m 666 "$TMP/pub/s8.in"
    $AS_NOBODY env LD_PRELOAD="$LIBMS" MEMSCOPE_CONTROL=1 "$PROGS/service" < "$TMP/pub/s8.in" > "$TMP/pub/s8.out" 2>&1 &
    SVC=$!; exec 3> "$TMP/pub/s8.in"
    SVCN=pub/s8; send "alloc 1 8"; ok 1
    if attach_bg s8 --no-symbolize -o "$TMP/root.memscope"; then
        send "alloc 4 40"; ok 2
        "$MSREC" detach $SVC > /dev/null 2>&1; wait $ATT
        jsonof "$TMP/root.memscope"
        check $n/root-attaches-to-nobody 4 "$(jsum "$TMP/root.memscope" total_allocations)"
    fi
    exec 3>&-; wait $SVC
    chmod 700 "$TMP"
else
    echo "SKIP: $n: needs root and setpriv to run msrec as another user"
fi

# --- 6. no control channel --------------------------------------------------------
n=$T/no-control
svc s9 env LD_PRELOAD="$LIBMS" "$PROGS/service"
send "alloc 1 8"; ok 1
"$MSREC" attach $SVC -s 1 -o "$TMP/n.memscope" > "$TMP/nc.out" 2>&1; rc=$?
check $n/attach-refused 1 "$rc"
check $n/error-names-variable "msrec: $SVC: libmemscope is loaded but its control channel is off: start the process with MEMSCOPE_CONTROL=1" "$(cat "$TMP/nc.out")"
[ ! -e "$TMP/n.memscope" ] && pass $n/no-file || fail $n/no-file "file left"
grep -q "@memscope-ctl\.$SVC\$" /proc/net/unix && fail $n/no-listener "a control socket exists" || pass $n/no-listener
exec 3>&-; wait $SVC
svc s10 "$PROGS/service"
send "alloc 1 8"; ok 1
"$MSREC" status $SVC > "$TMP/nl.out" 2>&1; rc=$?
check $n/no-library-status 1 "$rc"
case $(cat "$TMP/nl.out") in *"no memscope control channel"*"MEMSCOPE_CONTROL=1"*) pass $n/no-library-error ;;
    *) fail $n/no-library-error "$(cat "$TMP/nl.out")" ;; esac
exec 3>&-; wait $SVC
"$MSREC" status 999999999 > "$TMP/np.out" 2>&1
check $n/no-such-process "msrec: 999999999: no such process" "$(cat "$TMP/np.out")"
rm -rf "$TMP"
