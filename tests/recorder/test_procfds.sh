#!/bin/sh
# Processes the recorder does not record, and descriptors it must not take:
#   rawclone  children made by the clone3 and clone system calls (no fork
#             handler runs in them) allocate more than a ring holds: the run
#             ends (it once hung for ever, the child waiting for a writer it
#             does not have), same output and statuses as plain, the
#             parent's trace exact (7 blocks of 1234 bytes, 4 live) and
#             without the children's blocks; preload and msrec run
#   forkfds   a fork child that is not recorded closes every descriptor:
#             none of the recorder's stays open in it (it kept libunwind's
#             pipe, fds 1000 and 1001, and could not close them)
#   nofile    under ulimit -n 16 the recorder stays off and says why: the
#             trace took fd 3, so bash's `exec 3>file` failed and a C
#             program's writes to fd 3 landed in the trace
#   lowfd     open() keeps returning 3 in a loop of a second (the writer
#             thread's opens of /proc files took number 3 now and then: 24
#             to 130 times a second), and a thread named by prctl
#             PR_SET_NAME keeps that name in the trace; preload and msrec
#   daemon    daemon(3)'s parent leaves by glibc's internal _exit: its
#             trace is finished all the same (it had no END); the child's
#             trace too with MEMSCOPE_FOLLOW_FORK=1; preload and msrec
#   fdreuse   a limit lowered to 10 after start: a followed fork child is
#             not recorded (its trace took fds 3 and 4); after a raw
#             close_range system call the program's dup2 onto the recorder's
#             old numbers (1000..1003) succeeds (it was refused)
#   valgrind  msrec run --follow-children -- valgrind --error-exitcode=9:
#             the program valgrind runs is not recorded (the writer thread
#             showed as "possibly lost" and turned memcheck's status into
#             9, and memcheck's leak scan took 15 s more)
#   stack     under ulimit -s 256 (and 128) msrec run symbolizes perl's and
#             python3's traces and msconv reads them (msrec died of SIGSEGV
#             in libdw: its threads got the limit as their stack size)
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/common.sh"
T=procfds
require "$LIBMS" "$MSREC" "$MSCONV" "$PROGS/rawclone" "$PROGS/forkfds" "$PROGS/lowfd" "$PROGS/daemonize" "$PROGS/fdreuse" "$PROGS/nproc"

# ---- rawclone ----------------------------------------------------------------
record plain rawclone.plain - -- "$PROGS/rawclone"
check $T/rawclone/plain "TRUTH rawclone clone3=5 clone=6" "$(cat "$TMP/rawclone.plain.out")"
for mode in preload msrec; do
    n=$T/rawclone/$mode
    OUT=$TMP/rawclone.$mode.memscope
    case $mode in
    preload) timeout 120 env LD_PRELOAD="$LIBMS" MEMSCOPE_AUTO_EXPORT=1 MEMSCOPE_EXPORT_PATH="$OUT" \
                 "$PROGS/rawclone" > "$TMP/rawclone.$mode.out" 2> "$TMP/rawclone.$mode.err" < /dev/null ;;
    msrec)   timeout 120 "$MSREC" run -q -o "$OUT" -- "$PROGS/rawclone" \
                 > "$TMP/rawclone.$mode.out" 2> "$TMP/rawclone.$mode.err" < /dev/null ;;
    esac
    check $n/exit-status 0 "$?"
    check_same_output $n rawclone.$mode rawclone.plain
    if check_trace $n "$OUT"; then
        check_count $n/parent-blocks "$OUT.json" 7 size=1234
        check_count $n/parent-live "$OUT.json" 4 size=1234 is_leaked=true
        check_count $n/no-child-blocks "$OUT.json" 0 size=100
    fi
done

# ---- forkfds -----------------------------------------------------------------
record plain forkfds.plain - -- "$PROGS/forkfds"
want=$(cat "$TMP/forkfds.plain.out")
check $T/forkfds/plain "TRUTH forkfds child_fds=[] child_status=0" "$want"
for u in fp libunwind; do
    MEMSCOPE_UNWIND=$u record preload forkfds.$u "$TMP/forkfds.$u.memscope" -- "$PROGS/forkfds"
    check $T/forkfds/$u/exit-status 0 "$RC"
    check $T/forkfds/$u/child-fds "$want" "$(cat "$TMP/forkfds.$u.out")"
done

# ---- nofile: ulimit -n 16 ------------------------------------------------------
script='exec 3>"$1/out3.txt"; echo hello >&3; echo rc=$?; exec 3>&-; cat "$1/out3.txt"'
mkdir -p "$TMP/nf.plain" "$TMP/nf.pre" "$TMP/nf.msrec"
(ulimit -n 16 && bash -c "$script" x "$TMP/nf.plain") > "$TMP/nf.plain.out" 2>&1
check $T/nofile/plain "rc=0
hello" "$(cat "$TMP/nf.plain.out")"
(ulimit -n 16 && env LD_PRELOAD="$LIBMS" MEMSCOPE_AUTO_EXPORT=1 MEMSCOPE_EXPORT_PATH="$TMP/nf.pre/t.%p.memscope" \
    bash -c "$script" x "$TMP/nf.pre") > "$TMP/nf.pre.out" 2> "$TMP/nf.pre.err"
check $T/nofile/preload/output "$(cat "$TMP/nf.plain.out")" "$(cat "$TMP/nf.pre.out")"
check $T/nofile/preload/no-trace "" "$(ls "$TMP/nf.pre" | grep memscope)"
grep -q 'not recording: the open-file limit (RLIMIT_NOFILE, ulimit -n) is 16: raise it to 64' "$TMP/nf.pre.err" &&
    pass $T/nofile/preload/says-why || fail $T/nofile/preload/says-why "stderr: $(head -c 300 "$TMP/nf.pre.err")"
(ulimit -n 16 && "$MSREC" run -o "$TMP/nf.msrec/t.memscope" -- bash -c "$script" x "$TMP/nf.msrec") \
    > "$TMP/nf.msrec.out" 2> "$TMP/nf.msrec.err"
check $T/nofile/msrec/output "$(cat "$TMP/nf.plain.out")" "$(cat "$TMP/nf.msrec.out")"
grep -q 'msrec: warning: no trace was written to .* (the open-file limit is 16; the recorder needs 64)' "$TMP/nf.msrec.err" &&
    pass $T/nofile/msrec/says-why || fail $T/nofile/msrec/says-why "stderr: $(head -c 300 "$TMP/nf.msrec.err")"

# ---- stack: ulimit -s 256 and 128 --------------------------------------------
for s in 256 128; do
    for prog in perl python3; do
        n=$T/stack$s/$prog
        case $prog in
        perl) set -- perl -e 'my @a = map { "x" x $_ } 1..1000; print scalar(@a), "\n"' ;;
        python3) set -- /usr/bin/python3 -c 'print(len([str(i) for i in range(1000)]))' ;;
        esac
        (ulimit -s $s && ulimit -c 0 && "$MSREC" run -q -o "$TMP/st$s.$prog.memscope" -- "$@") \
            > "$TMP/st$s.$prog.out" 2> "$TMP/st$s.$prog.err"
        check $n/exit-status 0 "$?"
        check $n/stdout 1000 "$(cat "$TMP/st$s.$prog.out")"
        nsym=$("$MSCONV" "$TMP/st$s.$prog.memscope" --dump 2>/dev/null | grep -c '"type":"symbol"')
        [ "${nsym:-0}" -gt 0 ] && pass $n/symbolized || fail $n/symbolized "no SYMBOL record"
        (ulimit -s $s && "$MSCONV" "$TMP/st$s.$prog.memscope" --text -o "$TMP/st$s.$prog.txt") 2>/dev/null
        check $n/msconv 0 "$?"
    done
done

# ---- valgrind under --follow-children -------------------------------------------
if command -v valgrind > /dev/null; then
    vg_cmd() { valgrind -q --leak-check=full --error-exitcode=9 /bin/echo hi; }
    vg_cmd > "$TMP/vg.plain.out" 2> "$TMP/vg.plain.err"
    prc=$?
    mkdir -p "$TMP/vg"
    "$MSREC" run -q --follow-children -o "$TMP/vg/t.memscope" -- \
        valgrind -q --leak-check=full --error-exitcode=9 /bin/echo hi > "$TMP/vg.rec.out" 2> "$TMP/vg.rec.err"
    check $T/valgrind/exit-status "$prc" "$?"
    check $T/valgrind/stdout "$(cat "$TMP/vg.plain.out")" "$(cat "$TMP/vg.rec.out")"
    check $T/valgrind/no-leak-report "" "$(grep -i 'lost' "$TMP/vg.rec.err" | head -2)"
else
    echo "SKIP: $T/valgrind (no valgrind)"
fi

# ---- lowfd: the program's open() numbers ---------------------------------------
for mode in preload msrec; do
    record $mode lowfd.$mode "$TMP/lowfd.$mode.memscope" -- "$PROGS/lowfd" 1
    check $T/lowfd/$mode/exit-status 0 "$RC"
    check $T/lowfd/$mode/open-gives-3 "TRUTH lowfd misses=0" "$(cat "$TMP/lowfd.$mode.out")"
    names=$("$MSCONV" "$TMP/lowfd.$mode.memscope" --json 2>/dev/null |
            python3 -c 'import json,sys; print(" ".join(sorted(t["name"] for t in json.load(sys.stdin)["threads"])))')
    check $T/lowfd/$mode/thread-names "lowfd lowfd-prctl" "$names"
done

# ---- daemon(3) -------------------------------------------------------------------
# wait_file FILE: up to 10 s for the daemon child's line
wait_file() { i=0; while [ $i -lt 100 ] && ! grep -q TRUTH "$1" 2>/dev/null; do sleep 0.1; i=$((i + 1)); done; }
for mode in preload msrec follow; do
    d=$TMP/dz.$mode; mkdir -p "$d"
    case $mode in
    preload) LD_PRELOAD="$LIBMS" MEMSCOPE_AUTO_EXPORT=1 MEMSCOPE_EXPORT_PATH="$d/t.%p.memscope" \
                 "$PROGS/daemonize" "$d/out" > /dev/null 2>&1 < /dev/null ;;
    msrec)   "$MSREC" run -q -o "$d/t.memscope" -- "$PROGS/daemonize" "$d/out" > /dev/null 2>&1 < /dev/null ;;
    follow)  LD_PRELOAD="$LIBMS" MEMSCOPE_AUTO_EXPORT=1 MEMSCOPE_FOLLOW_FORK=1 \
                 MEMSCOPE_EXPORT_PATH="$d/t.%p.memscope" "$PROGS/daemonize" "$d/out" > /dev/null 2>&1 < /dev/null ;;
    esac
    check $T/daemon/$mode/exit-status 0 "$?"
    wait_file "$d/out"
    cpid=$(sed -n 's/^TRUTH daemonize child=\([0-9]*\).*/\1/p' "$d/out")
    check $T/daemon/$mode/child-ran yes "$([ -n "$cpid" ] && echo yes || echo no)"
    pf=$(ls "$d"/t*.memscope 2>/dev/null | grep -v "\.$cpid\.memscope" | head -1)
    if check_trace $T/daemon/$mode/parent "$pf"; then
        check $T/daemon/$mode/parent-complete complete \
            "$("$MSCONV" "$pf" --info --lang en 2>/dev/null | sed -n 's/^integrity: *//p')"
        check_count $T/daemon/$mode/parent-blocks "$pf.json" 1000 size=1111
        check_count $T/daemon/$mode/parent-live "$pf.json" 500 size=1111 is_leaked=true
    fi
    if [ $mode = follow ]; then
        i=0; while [ $i -lt 50 ] && ! "$MSCONV" "$d/t.$cpid.memscope" --info > /dev/null 2>&1; do sleep 0.1; i=$((i + 1)); done
        if check_trace $T/daemon/follow/child "$d/t.$cpid.memscope"; then
            check_count $T/daemon/follow/child-blocks "$d/t.$cpid.memscope.json" 10 size=2222
        fi
    fi
done

# ---- fdreuse ---------------------------------------------------------------------
for m in rlim rawclose; do
    record plain fdreuse.$m.plain - -- "$PROGS/fdreuse" $m
    MEMSCOPE_FOLLOW_FORK=1 record preload fdreuse.$m "$TMP/fdreuse.$m.%p.memscope" -- "$PROGS/fdreuse" $m
    check $T/fdreuse/$m/exit-status 0 "$RC"
    check $T/fdreuse/$m/output "$(cat "$TMP/fdreuse.$m.plain.out")" "$(cat "$TMP/fdreuse.$m.out")"
done

# ---- nproc ------------------------------------------------------------------------
# under a process limit of a few (ulimit -u 4, as a user the limit applies
# to), the writer thread took the thread the program's third pthread_create
# wanted ("created 2" instead of 3): below 256 the recorder stays off and
# says why, and the program creates what it does alone
if [ "$(id -u)" = 0 ] && command -v setpriv > /dev/null; then
    d=$(mktemp -d /tmp/msnproc.XXXXXX); chmod 755 "$d"
    cp "$PROGS/nproc" "$LIBMS" "$d/"
    asuser() { setpriv --reuid=65534 --regid=65534 --clear-groups bash -c "ulimit -u 4; cd '$d' && exec \"\$@\"" bash "$@"; }
    plain=$(asuser ./nproc 3 2>&1)
    rec=$(asuser env LD_PRELOAD="$d/libmemscope.so" MEMSCOPE_AUTO_EXPORT=1 MEMSCOPE_EXPORT_PATH="$d/t.memscope" ./nproc 3 2>&1)
    check $T/nproc/plain "created 3" "$plain"
    check $T/nproc/created-as-alone "created 3" "$(printf '%s\n' "$rec" | grep -v '^memscope:')"
    check $T/nproc/says-why yes "$(printf '%s\n' "$rec" | grep -q 'not recording: the process limit (RLIMIT_NPROC' && echo yes || echo "no: $rec")"
    rm -rf "$d"
else
    echo "SKIP: $T/nproc (needs root and setpriv to run as another user)"
fi
