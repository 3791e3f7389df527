#!/bin/sh
# Recorder and exec without fork (tests/progs/execer.c, recorder/lib/exec.c).
# A recorded process that replaces itself with exec* must leave a complete
# trace (END, LIVE_BLOCKS with leak classes, symbols) with its exact totals,
# for every exec function; a failed exec must not stop the recording (the
# events after it are in the same complete file); the exec'd program stays
# passive unless `msrec run --follow-children`, which gives it its own file
# (PATH with .exec<N> inserted, since the pid is the same); the exit status
# of the final program passes through.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/common.sh"
T=exec
require "$LIBMS" "$MSREC" "$MSCONV" "$PROGS/execer" "$PROGS/leaks"
P=$PROGS/execer

# complete FILE / endline FILE: the "integrity" / "end" (reason) lines of msconv --info
complete() { "$MSCONV" "$1" --info --lang en 2>/dev/null | sed -n 's/^integrity: *//p'; }
endline() { "$MSCONV" "$1" --info --lang en 2>/dev/null | sed -n 's/^end: *\([a-z_ ]*[a-z]\).*/\1/p'; }
nfiles() { ls "$1" | grep -c 'memscope$'; }

record plain execer.plain - -- "$P" execve /bin/true
check exec/plain-status 0 "$RC"

# every exec function, the new image /bin/true (LD_PRELOAD, path with %p:
# without the fix the file had no END and /bin/true, same pid, hit the
# existing file: "exists, not recording")
for fn in execve execv execvp execvpe execl execle execlp fexecve; do
    n=exec/$fn
    d=$TMP/$fn; mkdir -p "$d"
    tgt=/bin/true; [ $fn = execvp ] || [ $fn = execlp ] && tgt=true
    record preload execer.$fn "$d/x.%p.memscope" -- "$P" $fn $tgt
    check $n/exit-status 0 "$RC"
    check $n/one-file 1 "$(nfiles "$d")"
    check $n/no-stderr "" "$(cat "$TMP/execer.$fn.err")"
    f=$(ls "$d"/*.memscope 2>/dev/null | head -1)
    check_trace $n "$f" || continue
    check $n/complete complete "$(complete "$f")"
    check $n/end-reason exec "$(endline "$f")"
    check_totals $n "$f.json" 4 1 2277 1777 3
    check_count $n/lost-777-definite "$f.json" 1 size=777 leak_class=definite
    check_count $n/kept-500-reachable "$f.json" 2 size=500 leak_class=reachable
    check_frame $n/stack-777-before_exec "$f.json" before_exec size=777
done

# a failed exec first (ENOENT, or EACCES for fexecve on /dev/null): the
# recording goes on in the same file, then the real exec finishes it
for fn in execve execvp execl fexecve; do
    n=exec/fail-first-$fn
    d=$TMP/ff$fn; mkdir -p "$d"
    record preload execer.ff$fn "$d/x.%p.memscope" -- "$P" --fail-first $fn "$PROGS/leaks"
    check $n/exit-status 3 "$RC"
    check $n/failed-exec-returned "execer: failed exec returned -1" "$(grep '^execer: failed' "$TMP/execer.ff$fn.out")"
    check $n/one-file 1 "$(nfiles "$d")"
    f=$(ls "$d"/*.memscope 2>/dev/null | head -1)
    check_trace $n "$f" || continue
    check $n/complete complete "$(complete "$f")"
    check $n/end-reason exec "$(endline "$f")"
    check_totals $n "$f.json" 6 2 11165 6221 4
    check_count $n/after-failed-exec-4444 "$f.json" 2 size=4444
    check_frame $n/stack-4444-after_failed_exec "$f.json" after_failed_exec size=4444
done

# a failed exec of a file that exists and is executable but is no program
# (ENOEXEC): the trace is finished, the exec fails, the file is cut back
# and the recording goes on (a missing file never gets that far: the
# recorder sees that no file could run and does not finish the trace)
printf '\177ELF not really\n' > "$TMP/badexe"; chmod +x "$TMP/badexe"
d=$TMP/enoexec; mkdir -p "$d"
EXECER_BAD=$TMP/badexe; export EXECER_BAD
record preload execer.enoexec "$d/x.%p.memscope" -- "$P" --fail-first execve "$PROGS/leaks"
unset EXECER_BAD
check exec/fail-enoexec/exit-status 3 "$RC"
check exec/fail-enoexec/one-file 1 "$(nfiles "$d")"
f=$(ls "$d"/*.memscope 2>/dev/null | head -1)
if check_trace exec/fail-enoexec "$f"; then
    check exec/fail-enoexec/complete complete "$(complete "$f")"
    check_totals exec/fail-enoexec "$f.json" 6 2 11165 6221 4
fi

# a shell exec'ing a command tries each $PATH directory: one "wrote" line,
# not one per directory (each failed try used to finish the trace, fork and
# cut it back), and a note that the exec'd program is not recorded
d=$TMP/shexec; mkdir -p "$d"
record plain execer.sh - -- env -u MEMSCOPE_QUIET PATH=/nonexistent/a:/nonexistent/b:/usr/bin:/bin \
    "$MSREC" run -o "$d/x.memscope" -- /bin/sh -c 'exec true'
check exec/sh-exec/exit-status 0 "$RC"
check exec/sh-exec/one-wrote-line 1 "$(grep -c '^memscope: wrote' "$TMP/execer.sh.err")"
check exec/sh-exec/note-names-program 1 "$(grep -c "^memscope: note: the traced process exec'd /usr/bin/true, which is not recorded" "$TMP/execer.sh.err")"
check exec/sh-exec/complete complete "$(complete "$d/x.memscope")"
check exec/sh-exec/end-reason exec "$(endline "$d/x.memscope")"

# exec fails for good: the process goes on and exits normally
d=$TMP/never; mkdir -p "$d"
record preload execer.never "$d/x.memscope" -- "$P" --fail-first execv /nonexistent/prog
check exec/never/exit-status 99 "$RC"
if check_trace exec/never "$d/x.memscope"; then
    check exec/never/complete complete "$(complete "$d/x.memscope")"
    check exec/never/end-reason "exit status" "$(endline "$d/x.memscope")"
    check_totals exec/never "$d/x.memscope.json" 6 2 11165 6221 4
fi

# msrec run without --follow-children: only the first image records
d=$TMP/nofollow; mkdir -p "$d"
record plain execer.nf - -- "$MSREC" run -q -o "$d/x.%p.memscope" -- "$P" execv "$PROGS/leaks"
check exec/msrec/exit-status 3 "$RC"
check exec/msrec/one-file 1 "$(nfiles "$d")"
check exec/msrec/no-stderr "" "$(cat "$TMP/execer.nf.err")"
f=$(ls "$d"/*.memscope 2>/dev/null | head -1)
if check_trace exec/msrec "$f"; then
    check exec/msrec/complete complete "$(complete "$f")"
    check_totals exec/msrec "$f.json" 4 1 2277 1777 3
fi

# --follow-children: execer -> execer -> leaks, one file per image
d=$TMP/follow; mkdir -p "$d"
record plain execer.fo - -- "$MSREC" run -q --follow-children -o "$d/x.%p.memscope" -- \
    "$P" execv "$P" execvp "$PROGS/leaks"
check exec/follow/exit-status 3 "$RC"
check exec/follow/three-files 3 "$(nfiles "$d")"
pid=$(ls "$d" | sed -n 's/^x\.\([0-9]*\)\.memscope$/\1/p')
for f in "$d/x.$pid.memscope" "$d/x.$pid.exec1.memscope"; do
    n=exec/follow/$(basename "$f" .memscope | sed 's/^x\.[0-9]*/x/')
    check_trace $n "$f" || continue
    check $n/complete complete "$(complete "$f")"
    check_totals $n "$f.json" 4 1 2277 1777 3
done
f=$d/x.$pid.exec2.memscope
if check_trace exec/follow/leaks "$f"; then
    check exec/follow/leaks/complete complete "$(complete "$f")"
    check exec/follow/leaks/end-reason "exit status" "$(endline "$f")"
    check exec/follow/leaks/leaked_memory 6000 "$(sumval "$f.json" leaked_memory)"
    check_frame exec/follow/leaks/stack-1000-leak_three "$f.json" leak_three size=1000
fi

# --follow-children with a fixed path (no %p): FILE, then FILE.exec1
d=$TMP/fixed; mkdir -p "$d"
record plain execer.fx - -- "$MSREC" run -q --follow-children -o "$d/out.memscope" -- "$P" execve "$PROGS/leaks"
check exec/follow-fixed/files "out.exec1.memscope out.memscope" "$(ls "$d" | grep 'memscope$' | sort | tr '\n' ' ' | sed 's/ $//')"
check exec/follow-fixed/exit-status 3 "$RC"

# children of the command that ran unrecorded (a shell script, make, a
# program that forks): msrec run names them in one line, by the program
# they ran (a fork child of sh shows as leaks once it exec'd it; forker's
# child never execs); not with -q, not when --follow-children records
# them, not for the command's own exec (the recorder's note says that)
note() { grep '^msrec: note: ' "$TMP/$1.err"; }
d=$TMP/kids; mkdir -p "$d"
record plain kids.sh - -- env -u MEMSCOPE_QUIET "$MSREC" run -o "$d/a.memscope" -- \
    /bin/sh -c "$PROGS/leaks; $PROGS/leaks; exit 4"
check exec/children/exit-status 4 "$RC"
check exec/children/note "msrec: note: 2 child processes of the command were not recorded (leaks); msrec run --follow-children records the programs they exec, MEMSCOPE_FOLLOW_FORK=1 msrec run ... the forked copies that exec nothing" "$(note kids.sh)"
record plain kids.fork - -- env -u MEMSCOPE_QUIET "$MSREC" run -o "$d/b.memscope" -- "$PROGS/forker"
check exec/children/fork-note "msrec: note: 1 child process of the command was not recorded (forker); msrec run --follow-children records the programs they exec, MEMSCOPE_FOLLOW_FORK=1 msrec run ... the forked copies that exec nothing" "$(note kids.fork)"
record plain kids.q - -- env -u MEMSCOPE_QUIET "$MSREC" run -q -o "$d/c.memscope" -- /bin/sh -c "$PROGS/leaks; true"
check exec/children/quiet "" "$(cat "$TMP/kids.q.err")"
record plain kids.fo - -- env -u MEMSCOPE_QUIET "$MSREC" run --follow-children -o "$d/d.%p.memscope" -- /bin/sh -c "$PROGS/leaks; true"
check exec/children/follow-no-note "" "$(note kids.fo)"
check exec/children/follow-two-files 2 "$(ls "$d" | grep -c '^d\..*memscope$')"
record plain kids.none - -- env -u MEMSCOPE_QUIET "$MSREC" run -o "$d/e.memscope" -- "$PROGS/leaks"
check exec/children/none "" "$(note kids.none)"
record plain kids.exec - -- env -u MEMSCOPE_QUIET "$MSREC" run -o "$d/f.memscope" -- /bin/sh -c "exec $PROGS/leaks"
check exec/children/own-exec-not-a-child "" "$(note kids.exec)"
check exec/children/own-exec-recorder-note 1 "$(grep -c "^memscope: note: the traced process exec'd $PROGS/leaks" "$TMP/kids.exec.err")"

# what msrec added to LD_PRELOAD does not reach programs that do not
# record (exec.c, strip_wanted): a shell's fork child, python3's
# subprocess (vfork), the program the command itself execs; the user's
# own entries stay; --follow-children keeps it (they record)
record plain kids.env - -- "$MSREC" run -q -o "$d/g.memscope" -- /bin/sh -c 'env; true'
check exec/children/env-no-libmemscope 0 "$(grep -c libmemscope "$TMP/kids.env.out")"
record plain kids.envu - -- env LD_PRELOAD=/lib/x86_64-linux-gnu/libc.so.6 "$MSREC" run -q -o "$d/h.memscope" -- /bin/sh -c 'env; true'
check exec/children/env-user-preload "LD_PRELOAD=/lib/x86_64-linux-gnu/libc.so.6" "$(grep '^LD_PRELOAD=' "$TMP/kids.envu.out")"
record plain kids.py - -- "$MSREC" run -q -o "$d/i.memscope" -- /usr/bin/python3 -c 'import subprocess; subprocess.run(["env"])'
check exec/children/vfork-env-no-libmemscope "0 1" "$(grep -c libmemscope "$TMP/kids.py.out") $(grep -c '^PATH=' "$TMP/kids.py.out")"
record plain kids.ex - -- "$MSREC" run -q -o "$d/j.memscope" -- /bin/sh -c 'exec env'
check exec/children/exec-env-no-libmemscope "0 1" "$(grep -c libmemscope "$TMP/kids.ex.out") $(grep -c '^PATH=' "$TMP/kids.ex.out")"
record plain kids.fe - -- "$MSREC" run -q --follow-children -o "$d/k.%p.memscope" -- /bin/sh -c 'env; true'
check exec/children/follow-keeps-libmemscope 1 "$(grep -c '^LD_PRELOAD=.*libmemscope' "$TMP/kids.fe.out")"
# msrec's PYTHONMALLOC=malloc is for the recorded command: a program that
# does not record gets it out of its environment (a python3 it runs kept
# msrec's allocator choice), a recorded one keeps it, and the user's own
# value stays everywhere
check exec/children/pythonmalloc-dropped-unrecorded 0 "$(grep -c 'PYTHONMALLOC' "$TMP/kids.ex.out")"
check exec/children/pythonmalloc-follow-kept 1 "$(grep -c '^PYTHONMALLOC=malloc' "$TMP/kids.fe.out")"
PYTHONMALLOC=debug record plain kids.pu - -- "$MSREC" run -q -o "$d/u.memscope" -- /bin/sh -c 'exec env'
check exec/children/pythonmalloc-user-kept 1 "$(grep -c '^PYTHONMALLOC=debug' "$TMP/kids.pu.out")"
# a followed child's stderr stays its own (autoconf's `cc -c t.c 2>err;
# test -s err` took "memscope: wrote ..." for a compiler warning), with and
# without -q; msrec names every trace itself. A followed fork child too.
for q in "" -q; do
    rm -f "$d"/q*.memscope "$d/q.err" "$d/q2.err"
    record plain kids.q$q - -- env -u MEMSCOPE_QUIET "$MSREC" run $q --follow-children -o "$d/q.memscope" -- \
        /bin/sh -c "/bin/true 2> '$d/q.err'; /bin/echo hi 2> '$d/q2.err' > /dev/null"
    check exec/children/follow-stderr-untouched$q "0 0" "$(wc -c < "$d/q.err") $(wc -c < "$d/q2.err")"
    check exec/children/follow-traces-named$q yes "$([ "$(ls "$d"/q*.memscope 2>/dev/null | wc -l)" -ge 3 ] && echo yes || echo "no: $(ls "$d")")"
done
rm -f "$d/qf.err" "$d"/qf*.memscope
MEMSCOPE_FOLLOW_FORK=1 record plain kids.qf - -- env -u MEMSCOPE_QUIET "$MSREC" run --follow-children -o "$d/qf.memscope" -- \
    /bin/sh -c "( /bin/true ) 2> '$d/qf.err'"
check exec/children/follow-fork-stderr-untouched 0 "$(wc -c < "$d/qf.err")"
rm -rf "$TMP"
