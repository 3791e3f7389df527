# Helpers of the real-program suite (tests/real/test_*.sh). Source after
# tests/lib.sh; this also sources tests/recorder/common.sh (record, vg,
# check_trace, sumval, check_same_output...).
#
# Every script runs a real program uninstrumented and under `msrec run`
# and checks that the recorder changed nothing (exit status, stdout, files
# written) and that every trace it wrote is complete. Where valgrind
# memcheck runs in reasonable time, the totals and leak classes are
# compared with memcheck's.
#
#   need T TOOL...        FAIL T/setup and exit when a tool is missing (make
#                         deps installs them all), else one PASS T/setup
#   run_pair N DIR [OPTS] -- CMD ARGS
#                         CMD plain (stdout $TMP/N.plain.out), then under
#                         `msrec run -q OPTS -o DIR/x.memscope` (stdout
#                         $TMP/N.rec.out); sets PRC, RC (exit statuses). The
#                         recorded run is stopped after REAL_TIMEOUT seconds
#                         (default 600): a hang fails (status 124) instead
#                         of holding the suite
#   check_pair N          exit status and stdout equal to the plain run
#   check_complete N FILE the trace's --info verdict is "complete" and it has
#                         an END record (a crash or kill leaves none)
#   check_all_complete N DIR [MIN]
#                         every DIR/*.memscope complete; at least MIN files
#   check_json N FILE     msconv --json (no --events) reads it into FILE.json
#   check_min N JSON KEY MIN
#                         the summary value KEY of JSON is at least MIN
#   vg_run N -- CMD ARGS  memcheck on CMD (tests/recorder/common.sh vg)
#   vg_compare N JSON [threads]
#                         totals and leak classes equal memcheck's (after vg_run)
#
# REAL_SCALE (make test-real sets it) multiplies the repeat counts.
. "$MS_ROOT/tests/recorder/common.sh"
REAL_SCALE=${REAL_SCALE:-1}
REAL_TIMEOUT=${REAL_TIMEOUT:-600}
export LC_ALL=C TZ=UTC
ulimit -c 0 2>/dev/null

need() {
    _n_t=$1; shift
    require "$MSREC" "$MSCONV" "$LIBMS"
    for _n_x in "$@"; do
        if ! command -v "$_n_x" > /dev/null 2>&1; then
            fail "$_n_t/setup" "$_n_x is not installed (make deps installs it)"
            exit 0
        fi
    done
    pass "$_n_t/setup"
}

tag() { printf '%s' "$1" | tr '/' '_'; }

run_pair() {
    _rp_n=$(tag "$1"); _rp_d=$2; shift 2
    _rp_o=""
    while [ $# -gt 0 ] && [ "$1" != "--" ]; do _rp_o="$_rp_o $1"; shift; done
    shift
    rm -rf "$_rp_d"; mkdir -p "$_rp_d"
    "$@" > "$TMP/$_rp_n.plain.out" 2> "$TMP/$_rp_n.plain.err" < /dev/null
    PRC=$?
    # shellcheck disable=SC2086
    timeout "$REAL_TIMEOUT" "$MSREC" run -q $_rp_o -o "$_rp_d/x.memscope" -- "$@" \
        > "$TMP/$_rp_n.rec.out" 2> "$TMP/$_rp_n.rec.err" < /dev/null
    RC=$?
}

check_pair() {
    _cp_t=$(tag "$1")
    if [ "$PRC" = "$RC" ]; then pass "$1/exit-status"
    else fail "$1/exit-status" "plain run exited $PRC, under msrec $RC ($(signame "$RC")); stderr: $(head -c 300 "$TMP/$_cp_t.rec.err" | tr '\n' ' ')"; fi
    check_same_output "$1" "$_cp_t.rec" "$_cp_t.plain"
}

# vg_run N -- CMD ARGS : memcheck (tests/recorder/common.sh vg) under N's tag
vg_run() { _vr_t=$(tag "$1"); shift; vg "$_vr_t" "$@"; }

signame() { [ "$1" -gt 128 ] 2>/dev/null && kill -l $(( $1 - 128 )) 2>/dev/null && return; echo "status $1"; }

# verdict FILE : "complete" when msconv --info says so and the trace has an
# END record (its "end:" line), else what is wrong
verdict() {
    "$MSCONV" "$1" --info --lang en 2>&1 | awk '
        /^integrity:/ { sub(/^integrity: */, ""); v = $0 }
        /^end:/ { e = 1 }
        /^process:/ { sub(/^process: */, ""); sub(/ on .*/, ""); p = $0 }
        END { if (v == "complete" && e) print "complete"
              else printf "integrity \"%s\", %s (%s)\n", v, e ? "END present" : "no END", p }'
}

check_complete() {
    _cc_v=$(verdict "$2")
    if [ "$_cc_v" = complete ]; then pass "$1"; else fail "$1" "$(basename "$2"): $_cc_v"; fi
}

check_all_complete() {
    _ac_bad=0; _ac_n=0; _ac_msg=""
    for _ac_f in "$2"/*.memscope; do
        [ -f "$_ac_f" ] || continue
        _ac_n=$((_ac_n + 1))
        _ac_v=$(verdict "$_ac_f")
        if [ "$_ac_v" != complete ]; then
            _ac_bad=$((_ac_bad + 1))
            _ac_msg="$_ac_msg $(basename "$_ac_f"): $_ac_v;"
        fi
    done
    if [ "$_ac_bad" -eq 0 ] && [ "$_ac_n" -ge "${3:-1}" ]; then pass "$1"
    else fail "$1" "$_ac_bad of $_ac_n traces incomplete (want >= ${3:-1} traces):$(printf '%s' "$_ac_msg" | head -c 600)"; fi
}

# check_json N FILE : msconv FILE --json (summary, top allocations; no
# --events: real programs make hundreds of MiB of them) into FILE.json
check_json() {
    if "$MSCONV" "$2" --json > "$2.json" 2> "$2.json.err" &&
        python3 -c 'import json,sys; json.load(open(sys.argv[1]))["summary"]' "$2.json" 2>/dev/null; then
        pass "$1/json"; return 0
    fi
    fail "$1/json" "msconv --json failed: $(head -c 300 "$2.json.err" | tr '\n' ' ')"
    return 1
}

check_min() {
    _cm_v=$(sumval "$2" "$3")
    if [ "${_cm_v:-0}" -ge "$4" ]; then pass "$1/$3"
    else fail "$1/$3" "summary $3 is '${_cm_v}', want at least $4"; fi
}

# cls JSON CLASS : "bytes blocks" of one leak class
cls() { python3 -c '
import json, sys
c = json.load(open(sys.argv[1]))["summary"]["leaks_by_class"][sys.argv[2]]
print("%d %d" % (c["bytes"], c["allocations"]))' "$1" "$2" 2>/dev/null; }

# vgl NAME KIND : "bytes blocks" of memcheck's LEAK SUMMARY line KIND
vgl() {
    if grep -q 'All heap blocks were freed' "$TMP/$1.vg"; then echo "0 0"; return; fi
    sed -n "s/.*$2: \([0-9,]*\) bytes in \([0-9,]*\) blocks.*/\1 \2/p" "$TMP/$1.vg" | tail -1 | tr -d ,
}

# vg_compare N JSON [threads]: after `vg N -- CMD`. Memcheck counts what
# its own malloc replacement sees: malloc/calloc/realloc/memalign/new...,
# a realloc as one alloc + one free, no free(NULL). memscope counts the
# same calls, so allocs, frees and bytes are equal. Leak classes:
# definite/indirect equal memcheck's definitely/indirectly lost; the
# libc/runtime class is split by memcheck into possibly lost and still
# reachable (see below).
# With "threads": glibc's per-thread DTV blocks are larger under the
# recorder (libmemscope's own TLS module adds entries), so bytes may
# differ, but only in blocks still live at exit (the same rule as
# tests/recorder/test_threads.sh), and possibly-lost is compared in blocks.
vg_compare() {
    _vc_n=$1; _vc_j=$2; _vc_t=$(tag "$1")
    if [ -z "$VG_ALLOCS" ]; then
        fail "$_vc_n/valgrind" "no memcheck summary: $(tail -3 "$TMP/$_vc_t.vg" | tr '\n' ' ')"
        return
    fi
    check "$_vc_n/memcheck/allocs" "$VG_ALLOCS" "$(sumval "$_vc_j" total_allocations)"
    check "$_vc_n/memcheck/frees" "$VG_FREES" "$(sumval "$_vc_j" total_deallocations)"
    check "$_vc_n/memcheck/blocks-in-use-at-exit" "$VG_INUSE_BLOCKS" "$(sumval "$_vc_j" active_allocations)"
    if [ "${3:-}" = threads ]; then
        check "$_vc_n/memcheck/bytes-differ-only-in-live-blocks" \
            "$(( $(sumval "$_vc_j" total_allocated_bytes) - VG_BYTES ))" \
            "$(( $(sumval "$_vc_j" active_memory) - VG_INUSE_BYTES ))"
    else
        check "$_vc_n/memcheck/bytes" "$VG_BYTES" "$(sumval "$_vc_j" total_allocated_bytes)"
        check "$_vc_n/memcheck/bytes-in-use-at-exit" "$VG_INUSE_BYTES" "$(sumval "$_vc_j" active_memory)"
    fi
    check "$_vc_n/memcheck/definitely-lost" "$(vgl "$_vc_t" 'definitely lost')" "$(cls "$_vc_j" definite)"
    check "$_vc_n/memcheck/indirectly-lost" "$(vgl "$_vc_t" 'indirectly lost')" "$(cls "$_vc_j" indirect)"
    # memcheck has no "libc/runtime" class: such a block is still reachable
    # there (libstdc++'s emergency pool) or possibly lost (the DTV of a
    # finished thread). So ours possible <= its possibly lost, ours
    # reachable <= its still reachable, and possible + reachable + libc
    # equals its possibly lost + still reachable.
    _vc_p=$(cls "$_vc_j" possible); _vc_l=$(cls "$_vc_j" libc); _vc_r=$(cls "$_vc_j" reachable)
    _vc_vp=$(vgl "$_vc_t" 'possibly lost'); _vc_vr=$(vgl "$_vc_t" 'still reachable')
    _vc_sum_b=$(( ${_vc_p#* } + ${_vc_l#* } + ${_vc_r#* } )); _vc_vsum_b=$(( ${_vc_vp#* } + ${_vc_vr#* } ))
    _vc_sum_y=$(( ${_vc_p% *} + ${_vc_l% *} + ${_vc_r% *} )); _vc_vsum_y=$(( ${_vc_vp% *} + ${_vc_vr% *} ))
    check "$_vc_n/memcheck/possible+reachable-blocks" "$_vc_vsum_b" "$_vc_sum_b"
    [ "${3:-}" = threads ] || check "$_vc_n/memcheck/possible+reachable-bytes" "$_vc_vsum_y" "$_vc_sum_y"
    if [ "${_vc_p#* }" -le "${_vc_vp#* }" ] && [ "${_vc_r#* }" -le "${_vc_vr#* }" ]; then
        pass "$_vc_n/memcheck/possible-and-reachable-within-memcheck"
    else
        fail "$_vc_n/memcheck/possible-and-reachable-within-memcheck" \
            "ours possible $_vc_p reachable $_vc_r libc $_vc_l, memcheck possibly $_vc_vp reachable $_vc_vr"
    fi
}
