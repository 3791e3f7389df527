#!/bin/sh
# Recorder: C++ operator new/delete/new[]/delete[] (tests/progs/cxx.cc) and a
# library loaded with dlopen and unloaded with dlclose before exit
# (tests/progs/dlhost.c + libplugin.so). Totals and bytes in use at exit
# equal valgrind's (which also counts libstdc++'s emergency pool and
# dlopen's own allocations); kinds name the C++ operators; the plugin's
# blocks are attributed to plugin_make even though the plugin is gone.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/common.sh"
T=cxx
require "$LIBMS" "$MSCONV" "$PROGS/cxx" "$PROGS/dlhost" "$PROGS/libplugin.so"

record plain cxx.plain - -- "$PROGS/cxx"
vg cxx -- "$PROGS/cxx"
n=cxx/preload
record preload cxx.preload "$TMP/cxx.memscope" -- "$PROGS/cxx"
check $n/exit-status 0 "$RC"
check_same_output $n cxx.preload cxx.plain
if check_trace $n "$OUTFILE"; then
    j=$OUTFILE.json
    check_totals $n "$j" "$VG_ALLOCS" "$VG_FREES" "$VG_BYTES" "$VG_INUSE_BYTES" "$VG_INUSE_BLOCKS"
    check_count $n/new-int "$j" 1 "kind=operator new" size=4
    check_count $n/new-array-cookie "$j" 1 "kind=operator new[]" size=168
    check_count $n/new-char-array "$j" 1 "kind=operator new[]" size=100
    check_count $n/nothrow-new-array "$j" 1 "kind=operator new[]" size=12
    check_count $n/aligned-new "$j" 1 "kind=operator new" size=128
    check_count $n/string "$j" 1 "kind=operator new" size=51
    check_count $n/leak-28 "$j" 1 size=28 is_leaked=true
    check_frame $n/stack-main "$j" main size=168
fi

record plain dlhost.plain - -- "$PROGS/dlhost"
vg dlhost -- "$PROGS/dlhost"
for mode in preload fp; do
    n=dlopen/$mode
    if [ $mode = fp ]; then export MEMSCOPE_UNWIND=fp; fi
    record preload dlhost.$mode "$TMP/dlhost.$mode.memscope" -- "$PROGS/dlhost"
    unset MEMSCOPE_UNWIND
    check $n/exit-status 0 "$RC"
    check_same_output $n dlhost.$mode dlhost.plain
    check_trace $n "$OUTFILE" || continue
    j=$OUTFILE.json
    check_totals $n "$j" "$VG_ALLOCS" "$VG_FREES" "$VG_BYTES" "$VG_INUSE_BYTES" "$VG_INUSE_BLOCKS"
    check_count $n/plugin-blocks "$j" 3 size=777
    check_count $n/plugin-leak "$j" 1 size=777 is_leaked=true
    check_frame $n/stack-plugin_make "$j" plugin_make size=777
    check_frame $n/stack-plugin_run "$j" plugin_run size=777
done
rm -rf "$TMP"
