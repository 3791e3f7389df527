#!/bin/sh
# Tests of recorder/lib/{modules,procmaps,leakscan}.c, the process
# inspection used by libmemscope. The sources are compiled straight into two
# test programs (no recorder: plain libc malloc) with the format library:
#   leakprog     known reachable/definite/indirect/possible blocks, a block
#                held on another thread's stack, in TLS, on the stack of a
#                thread that blocks all signals, behind an excluded root;
#                built again with leakscan.c in a shared object whose own
#                globals and TLS must not count as roots;
#   inspectprog  modules (exe, libc build id, vdso, dlopen/dlclose), symbols
#                resolved from them by recorder/symbolize/ (inlined chain,
#                file:line, unloaded module), maps and
#                PROC_MEM, written with ms_writer and read back with
#                ms_reader.
# Also prints the measured costs (leak scan of 110k blocks, 1000 ips).
. "$(dirname "$0")/../lib.sh"
cd "$MS_ROOT" || exit 2
CC=${CC:-cc}
CF="-std=c11 -D_GNU_SOURCE -g -O2 -Wall -Wextra -Werror -Iformat -Irecorder/lib -Irecorder/symbolize -pthread"
if [ -f "$MS_BUILD/lib/libmsformat.a" ]; then FMT="$MS_BUILD/lib/libmsformat.a"; else FMT="format/*.c"; fi
LIBS="-lzstd -lxxhash -ldw -lelf -liberty -ldl"

build() { # name, command...
    n=$1; shift
    if "$@" > "$TMP/$n.build.log" 2>&1; then return 0; fi
    fail "inspect/build_$n" "$(head -5 "$TMP/$n.build.log" | tr '\n' ' ')"
    return 1
}

if build leakprog $CC $CF -o "$TMP/leakprog" tests/inspect/leakprog.c recorder/lib/leakscan.c $FMT $LIBS; then
    "$TMP/leakprog" 2> "$TMP/leak.err"
    rc=$?
    [ $rc -eq 0 ] || fail inspect/leakprog "exit status $rc: $(tail -3 "$TMP/leak.err" | tr '\n' ' ')"
    # run it a few more times: stopping threads must be reliable
    bad=0
    for i in 1 2 3 4 5; do "$TMP/leakprog" > "$TMP/leak.$i.out" 2>&1 || bad=$((bad + 1)); done
    check inspect/leakprog_repeat 0 "$bad"
    out=$("$TMP/leakprog" --bench 100000)
    echo "$out"
    if echo "$out" | grep -q 'reachable 100000 definite 10000 indirect 0 possible 0'; then
        pass inspect/leak_bench_100k
    else
        fail inspect/leak_bench_100k "$out"
    fi
fi

# leakscan.c inside a shared object (as in libmemscope.so): that object's
# globals and static TLS are not roots
if build lsdso $CC $CF -fPIC -shared -o "$TMP/libinspect_ls.so" recorder/lib/leakscan.c tests/inspect/lsdso.c &&
   build leakprog_dso $CC $CF -DLS_DSO -o "$TMP/leakprog_dso" tests/inspect/leakprog.c \
       -L"$TMP" -linspect_ls -Wl,-rpath,"$TMP" $FMT $LIBS; then
    "$TMP/leakprog_dso" > "$TMP/leakdso.out" 2> "$TMP/leakdso.err"
    rc=$?
    sed 's/^\(PASS\|FAIL\): leak\//\1: leak_dso\//' "$TMP/leakdso.out"
    [ $rc -eq 0 ] || fail inspect/leakprog_dso "exit status $rc"
fi

# main thread gone (pthread_exit): /proc/self views empty, zombie not waited for
if build zombiemain $CC $CF -o "$TMP/zombiemain" tests/inspect/zombiemain.c \
       recorder/lib/leakscan.c recorder/lib/procmaps.c $FMT $LIBS; then
    "$TMP/zombiemain" > "$TMP/zombie.out" 2>&1
    rc=$?
    cat "$TMP/zombie.out"
    [ $rc -eq 0 ] || fail inspect/zombiemain "exit status $rc"
fi

if build dlib $CC -std=c11 -g -O2 -fPIC -shared -o "$TMP/libinspect_dl.so" tests/inspect/dlib.c &&
   build inspectprog $CC $CF -o "$TMP/inspectprog" tests/inspect/inspectprog.c \
       recorder/lib/modules.c recorder/symbolize/mssym.c recorder/symbolize/mssym_file.c recorder/symbolize/symcache.c \
       recorder/lib/procmaps.c $FMT $LIBS; then
    "$TMP/inspectprog" "$TMP/inspect.memscope" "$TMP/libinspect_dl.so" 2> "$TMP/inspect.err"
    rc=$?
    [ $rc -eq 0 ] || fail inspect/inspectprog "exit status $rc: $(tail -3 "$TMP/inspect.err" | tr '\n' ' ')"
    out=$("$TMP/inspectprog" --bench 1000)
    rc=$?
    echo "$out"
    check inspect/symbols_bench_1000 0 "$rc"
fi
rm -rf "$TMP"
