#!/bin/sh
# The symbolizer's cache of resolved ips (recorder/symbolize/symcache.c),
# one file per build id under MEMSCOPE_SYMBOL_CACHE:
#   same      a -O2 -g program with inlined frames, recorded by preload and
#             symbolized with the cache off, into an empty cache and from
#             the filled one: the same SYMBOL records (functions, inlined
#             chains, file:line); files for the program and libc, mode 0600
#             in a 0700 directory
#   used      the program's file moved away: without the cache its ips stay
#             unnamed; with it they are named as before (msrec symbolize,
#             and msconv naming a preload trace on the fly)
#   damaged   a cache file with a flipped byte, one cut short and one of
#             random bytes: the answers are those of the debug info, and
#             the file is written anew
#   debuglink a stripped program whose debug file (.gnu_debuglink) appears
#             next to it after its ips were cached without debug info: the
#             next symbolization has file:line (the cache noticed); the same
#             without a .gnu_debuglink (NAME.debug next to it); a debug
#             file rewritten (mtime): its cache file is rewritten
#   run       msrec run twice (cold, warm): the same SYMBOL records; a new
#             program run with libc's answers cached: the same records as
#             with the cache off; --follow-children: each child's trace
#             names inl's frames
#   msconv    msconv resolving a preload trace writes the cache at exit
#   places    MEMSCOPE_SYMBOL_CACHE=0 writes nothing; without it the files go
#             to $XDG_CACHE_HOME/memscope/symbols, else ~/.cache/...; a
#             directory others may write is neither read nor written
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/common.sh"
T=symcache
require "$LIBMS" "$MSREC" "$MSCONV"

syms() {
    "$MSCONV" "$1" --dump --no-symbolize 2>/dev/null | grep '"type":"symbol"' |
        sed 's/"chunk_offset":[0-9]*,"chunk_seq":[0-9]*,"ip":[0-9]*,//' | sort
}
symz() { # FILE CACHE : msrec symbolize FILE with MEMSCOPE_SYMBOL_CACHE=CACHE
    MEMSCOPE_SYMBOL_CACHE=$2 "$MSREC" symbolize -q "$1" > "$1.symerr" 2>&1
}
bidof() { readelf -n "$1" 2>/dev/null | sed -n 's/.*Build ID: *//p' | head -1; }

l1=$(grep -n '/\* @L1 \*/' "$MS_ROOT/tests/recorder/inlined.c" | cut -d: -f1)
mkdir -p "$TMP/bin"
if ! cc -O2 -g -o "$TMP/bin/inl" "$MS_ROOT/tests/recorder/inlined.c" 2> "$TMP/cc.err"; then
    fail symcache/build "$(head -2 "$TMP/cc.err")"
    rm -rf "$TMP"; exit 0
fi
record preload sc.inl "$TMP/inl.memscope" -- "$TMP/bin/inl"
for i in 0 1 2 3 4 5 6 7 8; do cp "$TMP/inl.memscope" "$TMP/inl$i.memscope"; done

# ---- same ------------------------------------------------------------------
C=$TMP/cache
symz "$TMP/inl0.memscope" 0
syms "$TMP/inl0.memscope" > "$TMP/ref.syms"
if grep -q "\"function\":\"inl_inner\",\"file\":\"[^\"]*inlined.c\",\"line\":$l1," "$TMP/ref.syms"; then
    pass symcache/same/reference-has-inline-chain
else
    fail symcache/same/reference-has-inline-chain "no inl_inner at inlined.c:$l1"
fi
symz "$TMP/inl1.memscope" "$C"
check symcache/same/cold "" "$(syms "$TMP/inl1.memscope" | diff "$TMP/ref.syms" - | head -3)"
bid=$(bidof "$TMP/bin/inl")
libc=$(bidof "$(ldd "$TMP/bin/inl" | sed -n 's/.*libc.so.6 => \([^ ]*\).*/\1/p')")
check symcache/same/program-file 1 "$(ls "$C" | grep -c "^$bid.sym$")"
check symcache/same/libc-file 1 "$(ls "$C" | grep -c "^$libc.sym$")"
check symcache/same/dir-mode 700 "$(stat -c %a "$C")"
check symcache/same/file-mode 600 "$(stat -c %a "$C/$bid.sym")"
symz "$TMP/inl2.memscope" "$C"
check symcache/same/warm "" "$(syms "$TMP/inl2.memscope" | diff "$TMP/ref.syms" - | head -3)"

# ---- used ------------------------------------------------------------------
mv "$TMP/bin/inl" "$TMP/inl.away"
symz "$TMP/inl3.memscope" 0
check symcache/used/without-cache-unnamed 0 "$(syms "$TMP/inl3.memscope" | grep -c '"function":"outer_fn"')"
symz "$TMP/inl4.memscope" "$C"
check symcache/used/from-cache "" "$(syms "$TMP/inl4.memscope" | diff "$TMP/ref.syms" - | head -3)"
MEMSCOPE_SYMBOL_CACHE=$C "$MSCONV" "$TMP/inl.memscope" --folded "$TMP/inl.folded" 2> "$TMP/inl.folded.err"
check symcache/used/msconv-on-the-fly 1 "$(grep -c 'outer_fn;inl_middle;inl_inner' "$TMP/inl.folded")"
mv "$TMP/inl.away" "$TMP/bin/inl"

# ---- damaged -----------------------------------------------------------------
f=$C/$bid.sym
cp "$f" "$TMP/good.sym"
n=$(stat -c %s "$f")
for how in flip cut junk; do
    cp "$TMP/good.sym" "$f"
    case $how in
    flip) printf '\377' | dd of="$f" bs=1 seek=$((n / 2)) conv=notrunc 2> /dev/null ;;
    cut)  truncate -s $((n - 7)) "$f" ;;
    junk) head -c 4096 /dev/urandom > "$f" ;;
    esac
    cp "$f" "$TMP/bad.sym"
    cp "$TMP/inl.memscope" "$TMP/d.memscope"
    symz "$TMP/d.memscope" "$C"
    check "symcache/damaged/$how-answers" "" "$(syms "$TMP/d.memscope" | diff "$TMP/ref.syms" - | head -3)"
    if cmp -s "$f" "$TMP/bad.sym"; then fail "symcache/damaged/$how-rewritten" "file left as it was"
    else pass "symcache/damaged/$how-rewritten"; fi
done
cp "$TMP/inl.memscope" "$TMP/d.memscope"
mv "$TMP/bin/inl" "$TMP/inl.away"
symz "$TMP/d.memscope" "$C"
check symcache/damaged/rewritten-file-serves "" "$(syms "$TMP/d.memscope" | diff "$TMP/ref.syms" - | head -3)"
mv "$TMP/inl.away" "$TMP/bin/inl"

# ---- debuglink -------------------------------------------------------------------
mkdir -p "$TMP/dl"
# (another build id than inl's: the same code would share inl's answers)
cc -O2 -g -Wl,--build-id=0x5ca1ab1e5ca1ab1e5ca1ab1e5ca1ab1e5ca1ab1e -o "$TMP/dl/prog" \
    "$MS_ROOT/tests/recorder/inlined.c" &&
    objcopy --only-keep-debug "$TMP/dl/prog" "$TMP/dl/prog.debug" &&
    strip --strip-debug "$TMP/dl/prog" &&
    (cd "$TMP/dl" && objcopy --add-gnu-debuglink=prog.debug prog) &&
    mv "$TMP/dl/prog.debug" "$TMP/prog.debug.away"
record preload sc.dl "$TMP/dl.memscope" -- "$TMP/dl/prog"
cp "$TMP/dl.memscope" "$TMP/dl1.memscope"
cp "$TMP/dl.memscope" "$TMP/dl2.memscope"
cp "$TMP/dl.memscope" "$TMP/dl3.memscope"
symz "$TMP/dl1.memscope" "$C"
check symcache/debuglink/without-debug-file-no-line 0 \
    "$(syms "$TMP/dl1.memscope" | grep -c "\"function\":\"outer_fn\",\"file\":\"[^\"]*inlined.c\"")"
check symcache/debuglink/without-debug-file-named 1 \
    "$(syms "$TMP/dl1.memscope" | grep -c '"function":"outer_fn"' | sed 's/^[1-9][0-9]*$/1/')"
mv "$TMP/prog.debug.away" "$TMP/dl/prog.debug"
symz "$TMP/dl2.memscope" "$C"
if syms "$TMP/dl2.memscope" | grep -q "\"function\":\"inl_inner\",\"file\":\"[^\"]*inlined.c\",\"line\":$l1,"; then
    pass symcache/debuglink/debug-file-appeared
else
    fail symcache/debuglink/debug-file-appeared "no inl_inner at inlined.c:$l1 after prog.debug came"
fi
dbid=$(bidof "$TMP/dl/prog")
cp "$C/$dbid.sym" "$TMP/dl.before.sym"
sleep 1; touch "$TMP/dl/prog.debug"
symz "$TMP/dl3.memscope" "$C"
syms "$TMP/dl2.memscope" > "$TMP/dl2.syms"
check symcache/debuglink/same-answers "" "$(syms "$TMP/dl3.memscope" | diff "$TMP/dl2.syms" - | head -3)"
if cmp -s "$C/$dbid.sym" "$TMP/dl.before.sym"; then
    fail symcache/debuglink/debug-file-changed-rewritten "cache file not rewritten after the debug file changed"
else
    pass symcache/debuglink/debug-file-changed-rewritten
fi

# without a .gnu_debuglink libdwfl looks for NAME.debug next to the file:
# its appearance invalidates too
mkdir -p "$TMP/nl"
cc -O2 -g -Wl,--build-id=0x5ca1ab1e5ca1ab1e5ca1ab1e5ca1ab1e00000002 -o "$TMP/nl/prog2" \
    "$MS_ROOT/tests/recorder/inlined.c" &&
    objcopy --only-keep-debug "$TMP/nl/prog2" "$TMP/prog2.debug.away" &&
    strip --strip-debug "$TMP/nl/prog2"
record preload sc.nl "$TMP/nl.memscope" -- "$TMP/nl/prog2"
cp "$TMP/nl.memscope" "$TMP/nl1.memscope"
cp "$TMP/nl.memscope" "$TMP/nl2.memscope"
symz "$TMP/nl1.memscope" "$C"
check symcache/debuglink/no-link-without-debug-file-no-line 0 \
    "$(syms "$TMP/nl1.memscope" | grep -c "\"file\":\"[^\"]*inlined.c\"")"
mv "$TMP/prog2.debug.away" "$TMP/nl/prog2.debug"
symz "$TMP/nl2.memscope" "$C"
if syms "$TMP/nl2.memscope" | grep -q "\"function\":\"inl_inner\",\"file\":\"[^\"]*inlined.c\",\"line\":$l1,"; then
    pass symcache/debuglink/no-link-name-debug-appeared
else
    fail symcache/debuglink/no-link-name-debug-appeared "no inl_inner at inlined.c:$l1 after prog2.debug came"
fi

# ---- run -----------------------------------------------------------------------
R=$TMP/runcache
for i in 1 2; do
    MEMSCOPE_SYMBOL_CACHE=$R "$MSREC" run -q -o "$TMP/run$i.memscope" -- "$TMP/bin/inl" > /dev/null 2>&1 < /dev/null
done
check symcache/run/cold-named 1 "$(syms "$TMP/run1.memscope" | grep -c '"function":"outer_fn"' | sed 's/^[1-9][0-9]*$/1/')"
syms "$TMP/run1.memscope" > "$TMP/run1.syms"
check symcache/run/warm-same "" "$(syms "$TMP/run2.memscope" | diff "$TMP/run1.syms" - | head -3)"

# a program recorded for the first time, libc's answers cached from inl:
# its libc ips the cache lacks are named as without the cache
if [ -x "$PROGS/leaks" ]; then
    MEMSCOPE_SYMBOL_CACHE=$R "$MSREC" run -q -o "$TMP/lk1.memscope" -- "$PROGS/leaks" > /dev/null 2>&1 < /dev/null
    MEMSCOPE_SYMBOL_CACHE=0 "$MSREC" run -q -o "$TMP/lk0.memscope" -- "$PROGS/leaks" > /dev/null 2>&1 < /dev/null
    syms "$TMP/lk0.memscope" > "$TMP/lk0.syms"
    check symcache/run/new-program-libc-cached "" "$(syms "$TMP/lk1.memscope" | diff "$TMP/lk0.syms" - | head -3)"
    check symcache/run/new-program-named 1 "$(grep -c '"function":"leak_three"' "$TMP/lk0.syms" | sed 's/^[1-9][0-9]*$/1/')"
fi

# msrec run --follow-children: the traces of the children, symbolized from
# the pool of opened modules and the cache together, name what the
# reference names
rm -rf "$TMP/fc"; mkdir -p "$TMP/fc"
(cd "$TMP/fc" && MEMSCOPE_SYMBOL_CACHE=$R "$MSREC" run -q --follow-children -o 'c.%p.memscope' -- \
    sh -c "'$TMP/bin/inl' > /dev/null; '$TMP/bin/inl' > /dev/null" > /dev/null 2>&1 < /dev/null)
nfc=0
for f in "$TMP"/fc/c.*.memscope; do
    [ -f "$f" ] && syms "$f" | grep -q "\"function\":\"inl_inner\",\"file\":\"[^\"]*inlined.c\",\"line\":$l1," &&
        nfc=$((nfc + 1))
done
check symcache/run/follow-children-named 2 "$nfc"

# ---- msconv -----------------------------------------------------------------------
M=$TMP/mcache
MEMSCOPE_SYMBOL_CACHE=$M "$MSCONV" "$TMP/inl.memscope" --text > /dev/null 2>&1
check symcache/msconv/writes-at-exit 1 "$(ls "$M" 2>/dev/null | grep -c "^$bid.sym$")"

# ---- places -------------------------------------------------------------------------
symz "$TMP/inl5.memscope" 0
check symcache/places/off-writes-nothing 0 "$(find "$TMP" -name '*.sym' -newer "$TMP/inl5.memscope.symerr" | wc -l)"
mkdir -p "$TMP/home"
(unset MEMSCOPE_SYMBOL_CACHE XDG_CACHE_HOME; HOME=$TMP/home "$MSREC" symbolize -q "$TMP/inl6.memscope")
check symcache/places/home 1 "$(ls "$TMP/home/.cache/memscope/symbols" 2>/dev/null | grep -c "^$bid.sym$")"
(unset MEMSCOPE_SYMBOL_CACHE; HOME=$TMP/home XDG_CACHE_HOME=$TMP/xdg "$MSREC" symbolize -q "$TMP/inl7.memscope")
check symcache/places/xdg 1 "$(ls "$TMP/xdg/memscope/symbols" 2>/dev/null | grep -c "^$bid.sym$")"
mkdir -p "$TMP/open"; chmod 777 "$TMP/open"
cp "$TMP/good.sym" "$TMP/open/$bid.sym"
mv "$TMP/bin/inl" "$TMP/inl.away"
symz "$TMP/inl8.memscope" "$TMP/open"
check symcache/places/others-writable-not-read 0 "$(syms "$TMP/inl8.memscope" | grep -c '"function":"outer_fn"')"
check symcache/places/others-writable-not-written 1 "$(ls "$TMP/open" | wc -l)"
mv "$TMP/inl.away" "$TMP/bin/inl"

rm -rf "$TMP"
