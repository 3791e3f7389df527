#!/bin/sh
# Symbols out of process (spec/FORMAT.md 8.7; recorder/symbolize/):
#   needed    libmemscope.so needs only libc (+ld.so/libdl/libpthread),
#             libunwind, libzstd, libxxhash (readelf -d)
#   maps      a traced program (preload and msrec run, DEBUGINFOD_URLS set)
#             maps none of libdw, libelf, libdebuginfod, libcurl, libssl,
#             libcrypto, gnutls, nor its own symbolizer thread (/proc/PID)
#   run       msrec run's trace has SYMBOL records after END naming the
#             program's functions with file:line; the file is complete
#   preload   a preload trace has no SYMBOL record; msconv names its frames
#             on the fly; msrec symbolize adds them (the same as msrec run
#             writes for the same program), keeps the file complete, adds
#             nothing the second time, never damages the original when it
#             fails (file size limit; read-only directory), refuses -o onto
#             an existing file
#   inline    a -O2 -g program with always_inline functions: every inlined
#             frame with its own line, innermost first (addr2line -i); the
#             same built with -flto (inlined calls whose abstract origin is
#             in another CU), with -gsplit-dwarf (two .dwo files), and by
#             clang (no .debug_aranges), also split
#   pool      msrec run --follow-children of three runs of the inline
#             program: each trace's chain right (modules reused across
#             processes at other load bases)
#   replaced  a program whose file is rebuilt while it runs under msrec
#             run: its frames named from the build that ran
#   rust      a Rust program built with symbol-mangling-version v0 and
#             legacy: its function and std's named, nothing left mangled
#   separate  python3.11 (stripped, debug info by build id under
#             /usr/lib/debug/.build-id): frames named with file:line, and
#             its inlined frames (an LTO build: PyObject_Malloc inlined)
#   debuginfod DEBUGINFOD_URLS pointing at a local HTTP server: no request
#             unless --debuginfod is given (then the server is asked)
#   mismatch  a module file replaced by another build: its ips stay unnamed
#             and the summary names the module
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/common.sh"
T=symbols
require "$LIBMS" "$MSREC" "$MSCONV" "$PROGS/killme" "$PROGS/leaks" "$PROGS/threads"

HEAVY='libdw[.-]|libelf[.-]|libdebuginfod|libcurl|libssl|libcrypto|gnutls'

# syms FILE: SYMBOL records without chunk position and ip, sorted
syms() {
    "$MSCONV" "$1" --dump 2>/dev/null | grep '"type":"symbol"' |
        sed 's/"chunk_offset":[0-9]*,"chunk_seq":[0-9]*,"ip":[0-9]*,//' | sort
}
nsyms() { "$MSCONV" "$1" --dump 2>/dev/null | grep -c '"type":"symbol"'; }
verdict() { "$MSCONV" "$1" --info --lang en 2>/dev/null | sed -n 's/^integrity: *//p'; }

# ---- needed: DT_NEEDED of libmemscope.so --------------------------------
needed=$(readelf -d "$LIBMS" | sed -n 's/.*Shared library: \[\(.*\)\]/\1/p' | sort | tr '\n' ' ')
extra=$(echo "$needed" | tr ' ' '\n' | grep -v '^$' |
        grep -Ev '^(libc\.so\.6|ld-linux-x86-64\.so\.2|libdl\.so\.2|libpthread\.so\.0|libunwind\.so\.8|liblzma\.so\.5|libzstd\.so\.1|libxxhash\.so\.0)$' |
        tr '\n' ' ')
check symbols/needed/only-allowed "" "$extra"
for lib in libc.so.6 libunwind.so.8 libzstd.so.1 libxxhash.so.0; do
    case " $needed " in *" $lib "*) pass "symbols/needed/$lib" ;;
    *) fail "symbols/needed/$lib" "not in NEEDED: $needed" ;; esac
done

# ---- maps: nothing heavy in a running traced program ---------------------
# waitready OUTFILE: until the program printed "ready" (10 s at most)
waitready() {
    for _i in $(seq 100); do grep -q ready "$1" 2>/dev/null && return 0; sleep 0.1; done
    return 1
}
checkmaps() { # name pid
    if [ ! -r "/proc/$2/maps" ]; then fail "symbols/maps/$1" "no /proc/$2/maps"; return; fi
    m=$(cat "/proc/$2/maps")
    case $m in *libmemscope*) ;; *) fail "symbols/maps/$1" "libmemscope not mapped: not traced?"; return ;; esac
    heavy=$(echo "$m" | awk '{print $6}' | grep -E "$HEAVY" | sort -u | tr '\n' ' ')
    check "symbols/maps/$1" "" "$heavy"
    # only the recorder's writer thread besides the program's own
    thr=$(cat /proc/$2/task/*/comm 2>/dev/null | grep -c memscope-sym)
    check "symbols/maps/$1-no-sym-thread" 0 "$thr"
}
export DEBUGINFOD_URLS=http://127.0.0.1:9/
rm -f "$TMP/mp.memscope"
LD_PRELOAD="$LIBMS" MEMSCOPE_AUTO_EXPORT=1 MEMSCOPE_EXPORT_PATH="$TMP/mp.memscope" \
    "$PROGS/killme" > "$TMP/mp.out" 2>&1 &
pid=$!
if waitready "$TMP/mp.out"; then checkmaps preload $pid; else fail symbols/maps/preload "not ready"; fi
kill -9 $pid 2>/dev/null; wait $pid 2>/dev/null

"$MSREC" run -q -o "$TMP/mr.memscope" -- "$PROGS/killme" > "$TMP/mr.out" 2>&1 &
mpid=$!
if waitready "$TMP/mr.out"; then
    cpid=$(ps -o pid= --ppid $mpid | tr -d ' ' | head -1)
    checkmaps msrec "$cpid"
    kill -9 "$cpid" 2>/dev/null
else
    fail symbols/maps/msrec "not ready"
fi
wait $mpid 2>/dev/null
unset DEBUGINFOD_URLS

# ---- run: msrec run writes SYMBOL records after END ----------------------
record msrec sym.run "$TMP/run.memscope" -- "$PROGS/leaks"
check symbols/run/verdict complete "$(verdict "$TMP/run.memscope")"
"$MSCONV" "$TMP/run.memscope" --dump > "$TMP/run.dump" 2>/dev/null
for fn in leak_three main; do
    n=$(grep '"type":"symbol"' "$TMP/run.dump" |
        grep -c "\"function\":\"$fn\",\"file\":\"/[^\"]*tests/progs/leaks.c\",\"line\":[1-9]")
    [ "$n" -ge 1 ] && pass symbols/run/$fn || fail symbols/run/$fn "no SYMBOL frame $fn (leaks.c:LINE)"
done
after=$(awk '/"type":"end"/ { e = 1; next } e && /"type":"symbol"/ { n++ } END { print n + 0 }' "$TMP/run.dump")
total=$(grep -c '"type":"symbol"' "$TMP/run.dump")
check symbols/run/all-after-end "$total" "$after"
[ "$total" -gt 0 ] && pass symbols/run/some || fail symbols/run/some "no SYMBOL record"
check symbols/run/no-stderr "" "$(cat "$TMP/sym.run.err")"

# ---- preload: symbolize later ---------------------------------------------
record preload sym.pre "$TMP/pre.memscope" -- "$PROGS/leaks"
check symbols/preload/none 0 "$(nsyms "$TMP/pre.memscope")"
"$MSCONV" "$TMP/pre.memscope" --text --lang en > "$TMP/pre.text" 2> "$TMP/pre.text.err"
# a function row names a line only when all of its bytes come from that line
check symbols/preload/msconv-on-the-fly 1 "$(grep -c 'leak_three (.*leaks.c\(:[0-9]*\)\{0,1\})' "$TMP/pre.text")"
check symbols/preload/msconv-no-stderr "" "$(cat "$TMP/pre.text.err")"
"$MSCONV" "$TMP/pre.memscope" --text --lang en --no-symbolize > "$TMP/pre.raw" 2>&1
check symbols/preload/no-symbolize-option 0 "$(grep -c leak_three "$TMP/pre.raw")"
cp "$TMP/pre.memscope" "$TMP/pre.orig"

# a failure while writing (file size limit below the trace's size) leaves it as it was
sz=$(wc -c < "$TMP/pre.memscope")
( trap '' XFSZ; ulimit -f $(( sz / 1024 / 2 )); "$MSREC" symbolize "$TMP/pre.memscope" ) \
    > "$TMP/xfsz.out" 2>&1
rc=$?
[ $rc -ne 0 ] && pass symbols/preload/fail-rc || fail symbols/preload/fail-rc "exit 0 under ulimit -f"
check_cmd symbols/preload/fail-keeps-original cmp "$TMP/pre.orig" "$TMP/pre.memscope"
check symbols/preload/fail-no-temp "" "$(ls -A "$TMP" | grep '\.sym\.')"
if [ "$(id -u)" != 0 ]; then
    mkdir "$TMP/ro" && cp "$TMP/pre.orig" "$TMP/ro/t.memscope" && chmod 555 "$TMP/ro"
    "$MSREC" symbolize "$TMP/ro/t.memscope" > /dev/null 2>&1
    [ $? -ne 0 ] && pass symbols/preload/ro-dir-fails || fail symbols/preload/ro-dir-fails "exit 0"
    check_cmd symbols/preload/ro-dir-keeps-original cmp "$TMP/pre.orig" "$TMP/ro/t.memscope"
    chmod 755 "$TMP/ro"
fi
cp "$TMP/pre.orig" "$TMP/other.memscope"
"$MSREC" symbolize "$TMP/pre.memscope" -o "$TMP/other.memscope" > /dev/null 2>&1
[ $? -ne 0 ] && pass symbols/preload/o-refuses-existing || fail symbols/preload/o-refuses-existing "exit 0"

"$MSREC" symbolize "$TMP/pre.memscope" > "$TMP/sym1.out" 2>&1
check symbols/preload/symbolize-rc 0 "$?"
check symbols/preload/summary 1 "$(grep -c '^msrec: symbolized .*: [0-9]* ips, [0-9]* named' "$TMP/sym1.out")"
check symbols/preload/verdict complete "$(verdict "$TMP/pre.memscope")"
[ "$(nsyms "$TMP/pre.memscope")" -gt 0 ] && pass symbols/preload/added ||
    fail symbols/preload/added "no SYMBOL record after msrec symbolize"
syms "$TMP/pre.memscope" > "$TMP/pre.syms"
syms "$TMP/run.memscope" > "$TMP/run.syms"
check symbols/preload/same-as-run "" "$(diff "$TMP/run.syms" "$TMP/pre.syms" | head -4)"
cp "$TMP/pre.memscope" "$TMP/pre.once"
"$MSREC" symbolize "$TMP/pre.memscope" > "$TMP/sym2.out" 2>&1
check_cmd symbols/preload/second-run-unchanged cmp "$TMP/pre.once" "$TMP/pre.memscope"
# the spec's independent reader agrees (records after END, sequence continued)
if python3 -c 'import xxhash, zstandard' 2>/dev/null; then
    python3 "$MS_ROOT/tests/spec/spec_reader.py" "$TMP/pre.memscope" > "$TMP/spec.out" 2>&1
    check symbols/preload/spec-reader 0 "$?"
fi

# ---- inline: always_inline chain built -O2 -g, and with -flto -------------
# (LTO puts every inlined call's abstract origin in another CU, where libdw's
# dwarf_getscopes finds no scope at all: python3.11 and gcc's cc1 are built so)
l1=$(grep -n '/\* @L1 \*/' "$MS_ROOT/tests/recorder/inlined.c" | cut -d: -f1)
l2=$(grep -n '/\* @L2 \*/' "$MS_ROOT/tests/recorder/inlined.c" | cut -d: -f1)
l3=$(grep -n '/\* @L3 \*/' "$MS_ROOT/tests/recorder/inlined.c" | cut -d: -f1)
# chain TRACE FUNC SOURCE: "function:line ..." of the first SYMBOL record
# naming FUNC, its frames in SOURCE only
chain() {
    "$MSCONV" "$1" --dump 2>/dev/null | grep '"type":"symbol"' | grep "$2" | python3 -c '
import json, sys
for l in sys.stdin:
    r = json.loads(l)
    print(" ".join("%s:%d" % (f["function"], f["line"]) for f in r["frames"]
                   if f["file"].endswith("/" + sys.argv[1])))' "$3" | head -1
}
inline_case() { # NAME CFLAGS...
    n=$1; shift
    if ! (cd "$TMP" && ${CCX:-cc} -O2 -g "$@" -o "$TMP/$n" "$MS_ROOT/tests/recorder/inlined.c") 2> "$TMP/$n.cc.err"; then
        fail symbols/$n/build "$(head -3 "$TMP/$n.cc.err")"
        return
    fi
    record msrec sym.$n "$TMP/$n.memscope" -- "$TMP/$n"
    want="inl_inner:$l1 inl_middle:$l2 outer_fn:$l3"
    got=$(chain "$TMP/$n.memscope" inl_inner inlined.c)
    check symbols/$n/chain "$want" "$got"
    # addr2line -i agrees on the same address (binutils 2.40 reads no .dwo)
    case $n in *-split) return ;; esac
    off=$("$MSCONV" "$TMP/$n.memscope" --dump 2>/dev/null | grep '"type":"symbol"' | grep inl_inner |
          sed -n 's/.*"module_offset":\([0-9]*\).*/\1/p' | head -1)
    if [ -n "$off" ]; then
        a2l=$(addr2line -f -i -e "$TMP/$n" $(printf '0x%x' $((off - 1))) |
              paste - - | awk '{ split($2, a, ":"); sub(/ .*/, "", a[2]); printf "%s%s:%s", s, $1, a[2]; s = " " }')
        check symbols/$n/addr2line "$a2l" "$got"
    else
        fail symbols/$n/addr2line "no symbol record names inl_inner"
    fi
}
inline_case inline
inline_case inline-lto -flto
inline_case inline-split -gsplit-dwarf -DINLINED_OTHER "$MS_ROOT/tests/recorder/inlined_other.c"
# split DWARF: the second unit's chain too (its .dwo's offsets repeat the first's)
o1=$(grep -n '/\* @O1 \*/' "$MS_ROOT/tests/recorder/inlined_other.c" | cut -d: -f1)
o2=$(grep -n '/\* @O2 \*/' "$MS_ROOT/tests/recorder/inlined_other.c" | cut -d: -f1)
check symbols/inline-split/second-unit "oth_inner:$o1 other_fn:$o2" \
    "$(chain "$TMP/inline-split.memscope" oth_inner inlined_other.c)"
# clang writes no .debug_aranges, through which libdw finds an address's CU
if command -v clang > /dev/null; then
    CCX=clang inline_case inline-clang
    CCX=clang inline_case inline-clang-split -gsplit-dwarf -DINLINED_OTHER "$MS_ROOT/tests/recorder/inlined_other.c"
    check symbols/inline-clang-split/second-unit "oth_inner:$o1 other_fn:$o2" \
        "$(chain "$TMP/inline-clang-split.memscope" oth_inner inlined_other.c)"
else
    echo "SKIP: symbols/inline-clang (no clang)"
fi

# ---- pool: one run's processes share opened modules --------------------------
# msrec run --follow-children symbolizes each process's trace with the
# modules an earlier trace opened, at another load base (ASLR): the chains
# must come out the same in every trace
mkdir -p "$TMP/pool"
"$MSREC" run -q --follow-children -o "$TMP/pool/t.memscope" -- \
    sh -c '"$1"; "$1"; "$1"' sh "$TMP/inline" > /dev/null 2>&1
np=0
for f in "$TMP"/pool/t.*.memscope; do
    [ -f "$f" ] || continue
    c=$(chain "$f" inl_inner inlined.c)
    [ -n "$c" ] || continue
    np=$((np + 1))
    check symbols/pool/chain-$np "inl_inner:$l1 inl_middle:$l2 outer_fn:$l3" "$c"
done
check symbols/pool/traces 3 "$np"

# ---- replaced: the program's file rebuilt while it runs ---------------------
# msrec run opened it while it ran; the symbols come from that build (the
# file on disk, a new build, is refused by its build id)
cat > "$TMP/rep_a.c" <<'EOF2'
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
__attribute__((noinline)) void *first_build_alloc(int n) { return malloc((size_t)n); }
int main(void) { void *p = first_build_alloc(1234); usleep(900000); printf("%p\n", p); return 0; }
EOF2
sed 's/first_build_alloc/second_build_alloc/g' "$TMP/rep_a.c" > "$TMP/rep_b.c"
if cc -g -O1 -o "$TMP/rep" "$TMP/rep_a.c" && cc -g -O1 -o "$TMP/rep_b" "$TMP/rep_b.c"; then
    (sleep 0.4; cp "$TMP/rep_b" "$TMP/rep.new" && mv "$TMP/rep.new" "$TMP/rep") &
    "$MSREC" run -q -o "$TMP/rep.memscope" -- "$TMP/rep" > /dev/null 2> "$TMP/rep.err"
    wait
    check symbols/replaced/first-build-named yes \
        "$("$MSCONV" "$TMP/rep.memscope" --text --lang en 2>/dev/null | grep -q 'first_build_alloc' && echo yes || echo no)"
    check symbols/replaced/no-second-build "" "$("$MSCONV" "$TMP/rep.memscope" --dump 2>/dev/null | grep -o second_build_alloc | head -1)"
else
    fail symbols/replaced/build "cc failed"
fi

# ---- rust: names of both mangling schemes demangled -------------------------
RUSTC=$(command -v rustc || true)
[ -z "$RUSTC" ] && [ -x "$HOME/.cargo/bin/rustc" ] && RUSTC=$HOME/.cargo/bin/rustc
if [ -n "$RUSTC" ]; then
    for mv in v0 legacy; do
        # (legacy is stable where it is the default; rustc >= 1.9x, where v0
        # is, takes it only as an unstable option)
        if "$RUSTC" -O -g -C symbol-mangling-version=$mv -o "$TMP/rdemo-$mv" \
                "$MS_ROOT/tests/recorder/rdemo.rs" 2> "$TMP/rdemo-$mv.err" ||
           RUSTC_BOOTSTRAP=1 "$RUSTC" -O -g -Z unstable-options -C symbol-mangling-version=$mv \
                -o "$TMP/rdemo-$mv" "$MS_ROOT/tests/recorder/rdemo.rs" 2>> "$TMP/rdemo-$mv.err"; then
            record msrec sym.rust-$mv "$TMP/rdemo-$mv.memscope" -- "$TMP/rdemo-$mv"
            "$MSCONV" "$TMP/rdemo-$mv.memscope" --dump 2>/dev/null | grep '"type":"symbol"' |
                sed 's/.*"frames"://' > "$TMP/rdemo-$mv.frames"
            grep -q '"function":"rdemo::build_map","file":"[^"]*rdemo.rs","line":[1-9]' "$TMP/rdemo-$mv.frames" &&
                pass symbols/rust-$mv/program-function ||
                fail symbols/rust-$mv/program-function "no frame rdemo::build_map with rdemo.rs:line"
            grep -q '"function":"alloc::' "$TMP/rdemo-$mv.frames" &&
                pass symbols/rust-$mv/std-function || fail symbols/rust-$mv/std-function "no alloc:: frame"
            # nothing left mangled, no legacy hash suffix
            left=$(grep -o '"function":"\(_R\|_ZN\)[^"]*"\|"function":"[^"]*::h[0-9a-f]\{16\}"' "$TMP/rdemo-$mv.frames" | head -2)
            check symbols/rust-$mv/all-demangled "" "$left"
        else
            fail symbols/rust-$mv/build "$(head -3 "$TMP/rdemo-$mv.err")"
        fi
    done
else
    echo "SKIP: symbols/rust (no rustc)"
fi

# ---- separate: debug info found by build id --------------------------------
PY=$(command -v python3.11 || true)
[ -x /usr/bin/python3.11 ] && PY=/usr/bin/python3.11
bid=$([ -n "$PY" ] && readelf -n "$PY" 2>/dev/null | sed -n 's/.*Build ID: \([0-9a-f]*\).*/\1/p')
dbg=/usr/lib/debug/.build-id/$(echo "$bid" | cut -c1-2)/$(echo "$bid" | cut -c3-).debug
if [ -n "$bid" ] && [ -f "$dbg" ]; then
    record msrec sym.py "$TMP/py.memscope" -- "$PY" -S -c 'x = [bytes(100 + i) for i in range(300)]'
    n=$("$MSCONV" "$TMP/py.memscope" --dump 2>/dev/null | grep '"type":"symbol"' |
        grep -c '"function":"_\?Py[A-Za-z_]*","file":"[^"]*\.[ch]","line":[1-9]')
    [ "$n" -gt 0 ] && pass symbols/separate/python-file-line ||
        fail symbols/separate/python-file-line "no Py* frame with file:line"
    # an address of python3.11 inside inlined code has its whole chain, each
    # frame named with file:line (addr2line -i agrees on one of them)
    inl=$("$MSCONV" "$TMP/py.memscope" --dump 2>/dev/null | grep '"type":"symbol"' | python3 -c '
import json, sys
for l in sys.stdin:
    r = json.loads(l)
    fr = r["frames"]
    if len(fr) >= 2 and fr[0]["function"] == "PyObject_Malloc" and \
            all(f["function"] and f["file"].endswith((".c", ".h")) and f["line"] > 0 for f in fr):
        print("%d %s" % (r["module_offset"], " ".join("%s:%d" % (f["function"], f["line"]) for f in fr)))
        break')
    if [ -n "$inl" ]; then
        off=${inl%% *}
        a2l=$(addr2line -f -i -e "$dbg" $(printf '0x%x' $((off - 1))) |
              paste - - | awk '{ split($2, a, ":"); sub(/ .*/, "", a[2]); printf "%s%s:%s", s, $1, a[2]; s = " " }')
        check symbols/separate/python-inline-chain "$a2l" "${inl#* }"
    else
        fail symbols/separate/python-inline-chain "no python3.11 address with PyObject_Malloc inlined (all frames: $(nsyms "$TMP/py.memscope") records)"
    fi
else
    echo "SKIP: symbols/separate (python3.11 or its /usr/lib/debug/.build-id file missing)"
fi

# ---- debuginfod: never asked unless --debuginfod -----------------------------
cat > "$TMP/srv.py" <<'EOF'
import http.server, socketserver, sys, time
log, portf = sys.argv[1], sys.argv[2]
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        with open(log, "a") as f: f.write(self.path + "\n")
        self.send_response(404); self.end_headers()
    def log_message(self, *a): pass
s = socketserver.TCPServer(("127.0.0.1", 0), H)
with open(portf, "w") as f: f.write(str(s.server_address[1]))
s.timeout = 0.5
end = time.time() + float(sys.argv[3])
while time.time() < end: s.handle_request()
EOF
python3 "$TMP/srv.py" "$TMP/dreq.log" "$TMP/dport" 60 &
spid=$!
for i in $(seq 100); do [ -s "$TMP/dport" ] && break; sleep 0.1; done
if [ -s "$TMP/dport" ]; then
    url=http://127.0.0.1:$(cat "$TMP/dport")/
    export DEBUGINFOD_CACHE_PATH="$TMP/dcache"
    # msrec run with the variable set: no request, no wait
    t0=$(date +%s%N)
    DEBUGINFOD_URLS=$url "$MSREC" run -q -o "$TMP/di.memscope" -- "$PROGS/cxx" > /dev/null 2>&1
    t1=$(date +%s%N)
    DEBUGINFOD_URLS=$url "$MSCONV" "$TMP/di.memscope" --text > /dev/null 2>&1
    check symbols/debuginfod/no-request-run "" "$(cat "$TMP/dreq.log" 2>/dev/null)"
    [ $(( (t1 - t0) / 1000000 )) -lt 10000 ] && pass symbols/debuginfod/no-delay ||
        fail symbols/debuginfod/no-delay "msrec run took $(( (t1 - t0) / 1000000 )) ms"
    record preload sym.di "$TMP/di2.memscope" -- "$PROGS/cxx"
    cp "$TMP/di2.memscope" "$TMP/di3.memscope"
    DEBUGINFOD_URLS=$url "$MSCONV" "$TMP/di2.memscope" --text > /dev/null 2>&1
    DEBUGINFOD_URLS=$url "$MSREC" symbolize "$TMP/di2.memscope" > /dev/null 2>&1
    check symbols/debuginfod/no-request-symbolize "" "$(cat "$TMP/dreq.log" 2>/dev/null)"
    # positive control: asked with --debuginfod (libstdc++ has no local debug info)
    DEBUGINFOD_URLS=$url "$MSREC" symbolize --debuginfod "$TMP/di3.memscope" > /dev/null 2>&1
    n=$(grep -c '^/buildid/' "$TMP/dreq.log" 2>/dev/null)
    [ "${n:-0}" -gt 0 ] && pass symbols/debuginfod/asked-when-enabled ||
        echo "SKIP: symbols/debuginfod/asked-when-enabled (every module has local debug info)"
    unset DEBUGINFOD_CACHE_PATH
else
    fail symbols/debuginfod/server "the local HTTP server did not start"
fi
kill $spid 2>/dev/null; wait $spid 2>/dev/null

# ---- mismatch: another build of the program --------------------------------
cp "$PROGS/leaks" "$TMP/leaks2"
record preload sym.mm "$TMP/mm.memscope" -- "$TMP/leaks2"
rm -f "$TMP/leaks2"
cc -std=c11 -D_GNU_SOURCE -g -O0 -Wl,--build-id=0x0123456789abcdef0123456789abcdef01234567 \
    -o "$TMP/leaks2" "$MS_ROOT/tests/progs/leaks.c" -I"$MS_ROOT/format" 2> "$TMP/mm.cc.err" ||
    fail symbols/mismatch/build "$(head -2 "$TMP/mm.cc.err")"
"$MSREC" symbolize "$TMP/mm.memscope" > "$TMP/mm.out" 2>&1
check symbols/mismatch/named-in-summary 1 "$(grep -c "build id differs: $TMP/leaks2" "$TMP/mm.out")"
"$MSCONV" "$TMP/mm.memscope" --dump 2>/dev/null | grep '"type":"symbol"' > "$TMP/mm.syms"
check symbols/mismatch/no-wrong-names 0 "$(grep -c leak_three "$TMP/mm.syms")"
"$MSCONV" "$TMP/mm.memscope" --text > /dev/null 2> "$TMP/mm.conv.err"
check symbols/mismatch/msconv-one-line 1 "$(grep -c 'leaks2' "$TMP/mm.conv.err")"

rm -rf "$TMP"
