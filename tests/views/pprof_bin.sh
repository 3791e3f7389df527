# The real pprof for the view tests (source after tests/lib.sh): built once
# from Debian's golang-github-google-pprof-dev sources with golang-go into
# $MS_BUILD/pprof (GO111MODULE=off, GOPATH=/usr/share/gocode; later runs
# reuse it). Sets PPROF; returns non-zero after a FAIL line ($T/setup) when
# it cannot be built. pp ARGS runs it (stderr in $TMP/pprof.err), pp_total
# ARGS prints the total of `pprof -top` without its unit.
PPROF="$MS_BUILD/pprof"
pprof_bin() {
    [ -x "$PPROF" ] && return 0
    command -v go >/dev/null 2>&1 || { fail "$T/setup" "go not installed (make deps: golang-go)"; return 1; }
    [ -d /usr/share/gocode/src/github.com/google/pprof ] \
        || { fail "$T/setup" "pprof sources missing (make deps: golang-github-google-pprof-dev)"; return 1; }
    if GO111MODULE=off GOPATH=/usr/share/gocode GOCACHE="$MS_BUILD/go-cache" GOFLAGS= \
        go build -o "$PPROF.tmp.$$" github.com/google/pprof > "$TMP/gobuild.log" 2>&1; then
        mv -f "$PPROF.tmp.$$" "$PPROF"
    else
        rm -f "$PPROF.tmp.$$"
        fail "$T/setup" "go build of pprof failed: $(head -c 300 "$TMP/gobuild.log" | tr '\n' ' ')"
        return 1
    fi
}
export HOME="$TMP" PPROF_TMPDIR="$TMP"
pp() { "$PPROF" "$@" 2> "$TMP/pprof.err"; }
# "Showing nodes accounting for X, P% of TOTAL total" -> TOTAL without unit
pp_total() { pp -top -nodecount=1 "$@" | sed -n 's/.* of \([0-9.]*\)B\{0,1\} total$/\1/p' | head -1; }
