#!/bin/sh
# Recorder with other allocators (issue 10, item 1): tests/progs/allocstats
# keeps 20 MiB live in known sizes (malloc, calloc, realloc, posix_memalign,
# aligned_alloc, memalign, valloc; with jemalloc also mallocx/rallocx/
# xallocx, freed by sdallocx/dallocx; operator new/delete of the allocator)
# and prints what the allocator's own statistics say is allocated (jemalloc
# stats.allocated, tcmalloc generic.current_allocated_bytes).
# With Debian's jemalloc and tcmalloc, in every supported order —
# LD_PRELOAD=libmemscope.so:ALLOC, and msrec run with ALLOC in LD_PRELOAD
# (also when the user listed libmemscope after it) — the allocator keeps
# serving the program (its statistics within 5% of the run without
# memscope, and at least 95% of the 20 MiB), and the trace holds exactly the
# program's allocations: count and bytes of the blocks allocated under main
# equal the program's TRUTH line, no free is unmatched, nothing of main's is
# live at exit; --info names the allocator. The unsupported orders
# (ALLOC:libmemscope.so, and a program defining malloc itself,
# tests/progs/ownmalloc) print exactly one stderr line saying malloc is
# not recorded and write META.malloc_interposed = 2 with the allocator's
# file (read by the spec reader) and --info says so. tests/progs/tcdirect:
# the allocator extras are visible to the program only where the allocator
# has them, and tcmalloc's tc_* names are recorded. Leak classes of
# tests/progs/leakclass are the same with jemalloc and tcmalloc as with glibc.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/common.sh"
T=allocators
require "$LIBMS" "$MSREC" "$MSCONV" "$PROGS/allocstats" "$PROGS/ownmalloc" "$PROGS/tcdirect" "$PROGS/leakclass"
LIBDIR=/usr/lib/x86_64-linux-gnu
JE=$LIBDIR/libjemalloc.so.2
TC=$LIBDIR/libtcmalloc_minimal.so.4
PY=/usr/bin/python3

truth_of() { sed -n "s/^TRUTH [a-z]*.* $2=\([0-9]*\).*/\1/p" "$TMP/$1.out"; }
stat_of() { sed -n "s/^STATS $2 live=\([0-9]*\) expected=\([0-9]*\)$/\1 \2/p" "$TMP/$1.out"; }

# main_totals JSON: "count bytes live_blocks" of the allocations whose stack
# holds the program's main; then the summary's unmatched_frees
main_totals() {
    $PY - "$1" "$MS_ROOT/tests/recorder" <<'EOF'
import json, sys
sys.path.insert(0, sys.argv[2])
import msjson
d = json.load(open(sys.argv[1]))
n = b = live = 0
def names(a):
    return [f if isinstance(f, str) else (f.get("function") or "") for f in msjson.stack(d, a)]
for a in d["allocations"]:
    fr = names(a)
    if any(f == "main" or f.startswith("main ") for f in fr):
        n += 1
        b += a["size"]
        live += a["timestamp_dealloc"] is None
print(n, b, live, d["summary"]["unmatched_frees"])
EOF
}

# stats_close NAME PLAIN_TAG TAG ALLOC: the allocator's count within 5%
stats_close() {
    set -- "$1" $(stat_of "$2" "$4") $(stat_of "$3" "$4")
    if [ $# -ne 5 ]; then fail "$1" "no STATS line"; return; fi
    if awk -v a="$2" -v b="$4" -v e="$3" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(d <= a * 0.05 && b >= e * 0.95) }'
    then pass "$1"
    else fail "$1" "allocator reports $4 bytes live under memscope, $2 without (program: $3)"; fi
}

# check_complete NAME FILE ALLOC_TAG LIB: LIB = the allocator's path (or its end)
check_complete() {
    if ! "$MSCONV" "$2" --json --events -o "$2.ev.json" 2> "$2.err"; then
        fail "$1/json" "no trace or msconv failed: $(head -c 300 "$2.err")"
        return
    fi
    check "$1/main-allocs-bytes-live-unmatched" \
        "$(truth_of "$3" allocs) $(truth_of "$3" bytes) 0 0" "$(main_totals "$2.ev.json")"
    check "$1/info-allocator" 1 "$("$MSCONV" "$2" --info | grep -c "^allocator:    .*$4, malloc interposed\$")"
}

for a in jemalloc tcmalloc; do
    lib=$JE; [ $a = tcmalloc ] && lib=$TC
    if [ ! -e "$lib" ]; then
        fail $a/setup "$lib missing (make deps: libjemalloc2, libtcmalloc-minimal4)"
        continue
    fi
    LD_PRELOAD=$lib "$PROGS/allocstats" $a > "$TMP/$a.plain.out" 2> "$TMP/$a.plain.err" < /dev/null
    check $a/plain-exit-status 0 $?
    set -- $(stat_of $a.plain $a)
    if [ "${1:-0}" -ge "$((${2:-1} * 95 / 100))" ]; then pass $a/plain-stats-see-20MiB
    else fail $a/plain-stats-see-20MiB "allocator reports ${1:-?} bytes live, program holds ${2:-?}"; fi

    # LD_PRELOAD=libmemscope.so:ALLOC
    n=$a/preload-first
    f=$TMP/$a.first.memscope
    LD_PRELOAD="$LIBMS:$lib" MEMSCOPE_AUTO_EXPORT=1 MEMSCOPE_EXPORT_PATH="$f" \
        "$PROGS/allocstats" $a > "$TMP/$a.first.out" 2> "$TMP/$a.first.err" < /dev/null
    check $n/exit-status 0 $?
    check $n/truth-unchanged "$(grep ^TRUTH "$TMP/$a.plain.out")" "$(grep ^TRUTH "$TMP/$a.first.out")"
    stats_close $n/allocator-stats-kept $a.plain $a.first $a
    check_complete $n "$f" $a.first "$lib"

    # msrec run with ALLOC in LD_PRELOAD, once after libmemscope's own
    # entry (msrec puts libmemscope first)
    for pre in "$lib" "$lib:$LIBMS"; do
        n=$a/msrec; [ "$pre" != "$lib" ] && n=$a/msrec-reordered
        tag=$a.$(basename $n)
        f=$TMP/$tag.memscope
        LD_PRELOAD="$pre" "$MSREC" run -q -o "$f" -- "$PROGS/allocstats" $a \
            > "$TMP/$tag.out" 2> "$TMP/$tag.err" < /dev/null
        check $n/exit-status 0 $?
        stats_close $n/allocator-stats-kept $a.plain $tag $a
        check_complete $n "$f" $tag "$lib"
    done

    # unsupported: the allocator before libmemscope
    n=$a/allocator-first
    f=$TMP/$a.last.memscope
    env -u MEMSCOPE_QUIET LD_PRELOAD="$lib:$LIBMS" MEMSCOPE_AUTO_EXPORT=1 MEMSCOPE_EXPORT_PATH="$f" \
        "$PROGS/allocstats" $a > "$TMP/$a.last.out" 2> "$TMP/$a.last.err" < /dev/null
    check $n/exit-status 0 $?
    stats_close $n/allocator-stats-kept $a.plain $a.last $a
    check $n/one-warning-line 1 "$(grep -c 'not recorded' "$TMP/$a.last.err")"
    check $n/warning-names-allocator \
        "memscope: malloc comes from $lib, loaded before libmemscope: malloc/free calls are not recorded (put libmemscope.so first in LD_PRELOAD, or use msrec run)" \
        "$(grep 'not recorded' "$TMP/$a.last.err")"
    check $n/meta "allocator=\"$lib\" malloc_interposed=2" \
        "$($PY "$MS_ROOT/tests/spec/spec_reader.py" "$f" 2>&1 | sed -n 's/^meta .* \(allocator=".*" malloc_interposed=[0-9]*\).*$/\1/p')"
    check $n/info-says-not-interposed 1 "$("$MSCONV" "$f" --info | grep -c "^allocator:    $lib, malloc NOT interposed")"
    # quiet: no line
    env LD_PRELOAD="$lib:$LIBMS" MEMSCOPE_AUTO_EXPORT=1 MEMSCOPE_EXPORT_PATH="$f.q" \
        "$PROGS/allocstats" $a > /dev/null 2> "$TMP/$a.lastq.err" < /dev/null
    check $n/quiet-no-line 0 "$(wc -l < "$TMP/$a.lastq.err" | tr -d ' ')"
done

# The extras (jemalloc's mallocx..., C23's free_sized, tcmalloc's tc_*) are
# found by a program's weak references and dlsym exactly where they are
# found without libmemscope (tests/progs/tcdirect's PROBE line); tcmalloc's
# tc_* called by name are recorded like malloc/free/new/delete (exact
# counts and bytes, tcmalloc's statistics and usable sizes unchanged).
for a in glibc jemalloc tcmalloc; do
    lib=; pre=$LIBMS
    [ $a = jemalloc ] && lib=$JE
    [ $a = tcmalloc ] && lib=$TC
    [ -n "$lib" ] && pre=$LIBMS:$lib
    [ -n "$lib" ] && [ ! -e "$lib" ] && continue
    LD_PRELOAD=$lib "$PROGS/tcdirect" > "$TMP/td.$a.plain.out" 2>&1 < /dev/null
    LD_PRELOAD=$pre MEMSCOPE_AUTO_EXPORT=1 MEMSCOPE_EXPORT_PATH="$TMP/td.$a.memscope" \
        "$PROGS/tcdirect" > "$TMP/td.$a.out" 2> "$TMP/td.$a.err" < /dev/null
    check extras/$a/exit-status 0 $?
    check extras/$a/probes-unchanged "$(grep ^PROBE "$TMP/td.$a.plain.out")" "$(grep ^PROBE "$TMP/td.$a.out")"
done
want="mallocx=0/0 sdallocx=0/0 free_sized=0/0 free_aligned_sized=0/0 tc_malloc=0/0"
check extras/glibc/probes-absent 1 "$(grep -c "^PROBE $want " "$TMP/td.glibc.out")"
if [ -e "$TC" ]; then
    n=tcmalloc/tc-names
    f=$TMP/td.msrec.memscope
    LD_PRELOAD=$TC "$MSREC" run -q -o "$f" -- "$PROGS/tcdirect" > "$TMP/td.msrec.out" 2> "$TMP/td.msrec.err" < /dev/null
    check $n/exit-status 0 $?
    check $n/probes-present 1 "$(grep -c '^PROBE .* tc_malloc=1/1 tc_delete_sized=1/1 tc_malloc_skip_new_handler=1/1$' "$TMP/td.msrec.out")"
    check $n/truth-unchanged "$(grep ^TRUTH "$TMP/td.tcmalloc.plain.out")" "$(grep ^TRUTH "$TMP/td.msrec.out")"
    check $n/usable-size-unchanged "$(grep ^USABLE "$TMP/td.tcmalloc.plain.out")" "$(grep ^USABLE "$TMP/td.msrec.out")"
    stats_close $n/allocator-stats-kept td.tcmalloc.plain td.msrec tcmalloc
    check_complete $n "$f" td.msrec "$TC"
    check_complete $n/preload-first "$TMP/td.tcmalloc.memscope" td.tcmalloc "$TC"
fi

# Leak classes with jemalloc / tcmalloc equal glibc's on tests/progs/
# leakclass (definite 8552 B in 5 blocks, indirect 96/2, possible 900/1,
# reachable 700/1, as test_leakclass.sh checks against valgrind): the
# allocator's own mappings are not roots (jemalloc's extent metadata holds
# each slab's first block) and its constructors' blocks are runtime-internal.
lclasses() { $PY -c '
import json, sys
c = json.load(open(sys.argv[1]))["summary"]["leaks_by_class"]
print(" ".join("%s=%d/%d" % (k, c[k]["bytes"], c[k]["allocations"]) for k in ("definite", "indirect", "possible", "reachable")))' "$1" 2>&1; }
"$MSREC" run -q -o "$TMP/lc.glibc.memscope" -- "$PROGS/leakclass" > /dev/null 2>&1 < /dev/null
"$MSCONV" "$TMP/lc.glibc.memscope" --json -o "$TMP/lc.glibc.json" 2> /dev/null
check leakclass/glibc "definite=8552/5 indirect=96/2 possible=900/1 reachable=700/1" "$(lclasses "$TMP/lc.glibc.json")"
for a in jemalloc tcmalloc; do
    lib=$JE; [ $a = tcmalloc ] && lib=$TC
    [ -e "$lib" ] || continue
    LD_PRELOAD=$lib "$MSREC" run -q -o "$TMP/lc.$a.memscope" -- "$PROGS/leakclass" > /dev/null 2>&1 < /dev/null
    "$MSCONV" "$TMP/lc.$a.memscope" --json -o "$TMP/lc.$a.json" 2> /dev/null
    check leakclass/$a/classes-as-glibc "$(lclasses "$TMP/lc.glibc.json")" "$(lclasses "$TMP/lc.$a.json")"
done

# glibc: libc.so.6 is the allocator; the trace is exactly the program's
n=glibc/preload
f=$TMP/glibc.memscope
LD_PRELOAD="$LIBMS" MEMSCOPE_AUTO_EXPORT=1 MEMSCOPE_EXPORT_PATH="$f" \
    "$PROGS/allocstats" glibc > "$TMP/glibc.out" 2> "$TMP/glibc.err" < /dev/null
check $n/exit-status 0 $?
check_complete $n "$f" glibc /libc.so.6
check $n/meta-interposed 1 "$($PY "$MS_ROOT/tests/spec/spec_reader.py" "$f" 2>&1 | sed -n 's/^meta .* malloc_interposed=\([0-9]*\).*$/\1/p')"

# a program defining malloc itself
n=ownmalloc
f=$TMP/own.memscope
exe=$(readlink -f "$PROGS/ownmalloc")
"$PROGS/ownmalloc" > "$TMP/own.plain.out" 2>&1 < /dev/null
env -u MEMSCOPE_QUIET LD_PRELOAD="$LIBMS" MEMSCOPE_AUTO_EXPORT=1 MEMSCOPE_EXPORT_PATH="$f" \
    "$PROGS/ownmalloc" > "$TMP/own.out" 2> "$TMP/own.err" < /dev/null
check $n/exit-status 0 $?
check $n/stdout-unchanged "$(cat "$TMP/own.plain.out")" "$(cat "$TMP/own.out")"
check $n/one-warning-line \
    "memscope: malloc is defined by the program itself ($exe): its malloc/free calls are not recorded" \
    "$(grep 'not recorded' "$TMP/own.err")"
check $n/meta "allocator=\"$exe\" malloc_interposed=2" \
    "$($PY "$MS_ROOT/tests/spec/spec_reader.py" "$f" 2>&1 | sed -n 's/^meta .* \(allocator=".*" malloc_interposed=[0-9]*\).*$/\1/p')"
rm -rf "$TMP"
