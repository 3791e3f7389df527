#!/bin/sh
# Recorder settings and the output file: default ./<exe>.<pid>.memscope in
# the working directory, %e/%p expansion, an existing file is never
# clobbered, a symlink at the path is not followed, and a bad setting value
# gives one warning line while recording goes on with the default.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/common.sh"
T=output
require "$LIBMS" "$MSCONV" "$PROGS/leaks"
unset MEMSCOPE_QUIET
# rec VAR=VALUE... : run leaks recorded (only leaks is preloaded, not env)
rec() { env "$@" LD_PRELOAD="$LIBMS" MEMSCOPE_AUTO_EXPORT=1 "$PROGS/leaks" > /dev/null 2> "$TMP/err"; }

d=$TMP/def; mkdir -p "$d"
(cd "$d" && LD_PRELOAD="$LIBMS" MEMSCOPE_AUTO_EXPORT=1 MEMSCOPE_QUIET=1 "$PROGS/leaks" > /dev/null 2>&1 & echo $! > "$d/pid"; wait)
pid=$(cat "$d/pid")
check output/default-path yes "$([ -s "$d/leaks.$pid.memscope" ] && echo yes || echo no)"

rec MEMSCOPE_EXPORT_PATH="$TMP/x-%e.memscope" MEMSCOPE_QUIET=1
check output/percent-e yes "$([ -s "$TMP/x-leaks.memscope" ] && echo yes || echo no)"

echo precious > "$TMP/exists.memscope"
rec MEMSCOPE_EXPORT_PATH="$TMP/exists.memscope"
check output/no-clobber precious "$(cat "$TMP/exists.memscope")"
check output/no-clobber-says-so 1 "$(grep -c 'exists' "$TMP/err")"

echo target > "$TMP/target"
ln -s "$TMP/target" "$TMP/link.memscope"
rec MEMSCOPE_EXPORT_PATH="$TMP/link.memscope"
check output/symlink-not-followed target "$(cat "$TMP/target")"

rm -f "$TMP/bad.memscope"
rec MEMSCOPE_EXPORT_PATH="$TMP/bad.memscope" MEMSCOPE_UNWIND=bogus MEMSCOPE_QUIET=1
check output/bad-value-one-warning 1 "$(grep -c 'MEMSCOPE_UNWIND' "$TMP/err")"
check output/bad-value-still-records yes "$([ -s "$TMP/bad.memscope" ] && echo yes || echo no)"
rm -rf "$TMP"
