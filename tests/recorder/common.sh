# Helpers of the recorder integration tests (tests/recorder/test_*.sh).
# Source after tests/lib.sh. Programs live in $MS_BUILD/progs (make tests).
#
#   record MODE NAME OUT -- PROG ARGS   run PROG under the recorder;
#        MODE preload (LD_PRELOAD + MEMSCOPE_AUTO_EXPORT=1), msrec (msrec run),
#        linked (the program links libmemscope; MEMSCOPE_AUTO_EXPORT=1), plain.
#        Sets $OUTFILE (trace), $RC (exit status as a shell sees it),
#        stdout in $TMP/NAME.out, stderr in $TMP/NAME.err.
#   jsonof FILE                       msconv FILE --json --events > FILE.json
#   sumval JSON KEY                   one summary value
#   vg NAME -- PROG ARGS              valgrind memcheck without freeres; sets
#        VG_ALLOCS VG_FREES VG_BYTES VG_INUSE_BYTES VG_INUSE_BLOCKS
#   truth NAME KEY                    KEY=value from the program's TRUTH line
PROGS="$MS_BUILD/progs"
MSJSON="python3 $MS_ROOT/tests/recorder/msjson.py"
export MEMSCOPE_QUIET=1
unset MEMSCOPE_AUTO_EXPORT MEMSCOPE_EXPORT_PATH MEMSCOPE_UNWIND MEMSCOPE_MAX_DEPTH MEMSCOPE_FOLLOW_FORK \
    MEMSCOPE_FOLLOW_EXEC MEMSCOPE_ACTIVE_PID MEMSCOPE_EXPORT_FORMAT LD_PRELOAD
ulimit -c 0 2>/dev/null     # crash tests: no core files

# require FILE... : fail the whole script (one FAIL line) when a piece is missing
require() {
    for f in "$@"; do
        if [ ! -e "$f" ]; then
            fail "${T:-recorder}/setup" "missing $f (not built yet?)"
            exit 0
        fi
    done
}

record() {
    _r_mode=$1; name=$2; OUTFILE=$3; shift 4
    [ "$_r_mode" != plain ] && rm -f "$OUTFILE"
    case $_r_mode in
    preload)
        LD_PRELOAD="$LIBMS" MEMSCOPE_AUTO_EXPORT=1 MEMSCOPE_EXPORT_PATH="$OUTFILE" \
            "$@" > "$TMP/$name.out" 2> "$TMP/$name.err" < /dev/null ;;
    linked)
        MEMSCOPE_AUTO_EXPORT=1 MEMSCOPE_EXPORT_PATH="$OUTFILE" \
            "$@" > "$TMP/$name.out" 2> "$TMP/$name.err" < /dev/null ;;
    msrec)
        "$MSREC" run -q -o "$OUTFILE" -- "$@" > "$TMP/$name.out" 2> "$TMP/$name.err" < /dev/null ;;
    plain)
        "$@" > "$TMP/$name.out" 2> "$TMP/$name.err" < /dev/null ;;
    esac
    RC=$?
    # a shell reports death by signal N as 128+N; so does msrec run
    return 0
}

jsonof() {
    "$MSCONV" "$1" --json --events > "$1.json" 2> "$1.json.err"
}

sumval() { $MSJSON sum "$1" 2>/dev/null | sed -n "s/^$2=//p"; }

vg() {
    _vg_name=$1; shift 2
    valgrind --run-libc-freeres=no --run-cxx-freeres=no "$@" > /dev/null 2> "$TMP/$_vg_name.vg" < /dev/null
    VG_ALLOCS=$(sed -n 's/.*total heap usage: \([0-9,]*\) allocs.*/\1/p' "$TMP/$_vg_name.vg" | tail -1 | tr -d ,)
    VG_FREES=$(sed -n 's/.*allocs, \([0-9,]*\) frees.*/\1/p' "$TMP/$_vg_name.vg" | tail -1 | tr -d ,)
    VG_BYTES=$(sed -n 's/.*frees, \([0-9,]*\) bytes allocated.*/\1/p' "$TMP/$_vg_name.vg" | tail -1 | tr -d ,)
    VG_INUSE_BYTES=$(sed -n 's/.*in use at exit: \([0-9,]*\) bytes.*/\1/p' "$TMP/$_vg_name.vg" | tail -1 | tr -d ,)
    VG_INUSE_BLOCKS=$(sed -n 's/.*in use at exit: [0-9,]* bytes in \([0-9,]*\) blocks.*/\1/p' "$TMP/$_vg_name.vg" | tail -1 | tr -d ,)
}

truth() { sed -n "s/^TRUTH $1.* $2=\([0-9]*\).*/\1/p" "$TMP/$1.plain.out" | head -1; }

# check_trace NAME FILE : the trace exists and msconv --json reads it
check_trace() {
    if [ ! -s "$2" ]; then
        fail "$1/file" "no trace written at $2 ($(head -c 300 "$TMP/$1.err" 2>/dev/null | tr '\n' ' '))"
        return 1
    fi
    if ! jsonof "$2" || ! python3 -c 'import json,sys; json.load(open(sys.argv[1]))["summary"]' "$2.json" 2>/dev/null; then
        fail "$1/json" "msconv --json failed: $(head -c 300 "$2.json.err" | tr '\n' ' ')"
        return 1
    fi
    pass "$1/file"
    return 0
}

# check_totals NAME JSON ALLOCS FREES BYTES LIVE_BYTES LIVE_BLOCKS
check_totals() {
    check "$1/total_allocations" "$3" "$(sumval "$2" total_allocations)"
    check "$1/total_deallocations" "$4" "$(sumval "$2" total_deallocations)"
    check "$1/total_allocated_bytes" "$5" "$(sumval "$2" total_allocated_bytes)"
    check "$1/active_memory" "$6" "$(sumval "$2" active_memory)"
    check "$1/active_allocations" "$7" "$(sumval "$2" active_allocations)"
}

# check_frame NAME JSON FUNCTION FILTER... : FUNCTION is in the stack of the
# first allocation matching FILTER
check_frame() {
    _cf_name=$1; _cf_json=$2; _cf_fn=$3; shift 3
    _cf_fr=$($MSJSON frames "$_cf_json" "$@" 2>/dev/null)
    if printf "%s\n" "$_cf_fr" | grep -qw -- "$_cf_fn"; then pass "$_cf_name"
    else fail "$_cf_name" "no frame '$_cf_fn' in stack of allocation $* (frames: $(printf '%s' "$_cf_fr" | tr '\n' ' ' | head -c 300))"; fi
}

# check_same_output NAME : stdout and status equal to the plain run
check_same_output() { # name mode-tag plain-tag
    if cmp -s "$TMP/$2.out" "$TMP/$3.out"; then pass "$1/stdout-unchanged"
    else fail "$1/stdout-unchanged" "$(diff "$TMP/$3.out" "$TMP/$2.out" | head -5 | tr '\n' ' ')"; fi
}

# check_count NAME JSON EXPECTED FILTER... : number of matching allocations
check_count() {
    _cc_name=$1; _cc_json=$2; _cc_exp=$3; shift 3
    check "$_cc_name" "$_cc_exp" "$($MSJSON count "$_cc_json" "$@" 2>/dev/null)"
}

# stacks FILE OUT : OUT gets a line "size frame frame ..." per malloc of 1000..2199
# bytes (frames innermost first, as module:offset:function), sorted; the
# stack-equality tests (test_unwcache.sh, test_memo.sh) compare these
stacks() {
    "$MSCONV" "$1" --dump | python3 -c '
import json, sys
parent, ipof, sym, mods, out = {}, {}, {}, {}, []
events = []
for line in sys.stdin:
    r = json.loads(line)
    t = r.get("type")
    if t == "module":
        mods[r["id"]] = r["path"].rsplit("/", 1)[-1]
    elif t == "stack":
        for n in r["nodes"]:
            parent[n["id"]] = n["parent"]
            ipof[n["id"]] = n["ip"]
    elif t == "symbol":
        fn = r["frames"][-1]["function"] if r.get("frames") else "?"  # the real function of an inline chain
        sym[r["ip"]] = (mods.get(r.get("module_id"), "?"), r.get("module_offset", 0), fn)
    elif t == "event" and r.get("op") == "malloc" and 1000 <= r.get("size", 0) < 2200:
        events.append((r["size"], r["stack"]))
for size, s in events:
    fr = []
    while s:
        m, off, fn = sym.get(ipof[s], ("raw", ipof[s], "?"))
        fr.append("%s:%x:%s" % (m, off, fn))
        s = parent.get(s, 0)
    out.append("%d %s" % (size, " ".join(fr)))
print("\n".join(sorted(out)))
' > "$2"
}
