#!/bin/sh
# msrec run never lets the command run silently unrecorded because of its
# output: an existing FILE is refused before CMD starts (exit 2, one line
# "msrec: FILE: exists (use --force to replace it)"), --force replaces it, an
# unwritable directory is refused the same way. The library on its own
# (LD_PRELOAD) keeps O_EXCL: it does not record and claims no write.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/common.sh"
T=msrec-output
require "$MSREC" "$LIBMS" "$PROGS/leaks"
unset MEMSCOPE_QUIET
marker=$TMP/ran
f=$TMP/exists.memscope
echo precious > "$f"
"$MSREC" run -o "$f" -- sh -c "touch $marker" > "$TMP/o1" 2> "$TMP/e1"
check msrec-output/exists/status 2 $?
check msrec-output/exists/message "msrec: $f: exists (use --force to replace it)" "$(cat "$TMP/e1")"
check msrec-output/exists/not-started absent "$([ -e "$marker" ] && echo present || echo absent)"
check msrec-output/exists/kept precious "$(cat "$f")"

"$MSREC" run --no-symbolize --force -o "$f" -- "$PROGS/leaks" > "$TMP/o2" 2> "$TMP/e2"
check msrec-output/force/status 3 $?
v=$("$MSCONV" "$f" --info 2>/dev/null | sed -n 's/^integrity: *//p')
check msrec-output/force/replaced complete "$v"

mkdir -p "$TMP/ro"; chmod 555 "$TMP/ro"
if [ "$(id -u)" = 0 ]; then
    # root writes anywhere: a path under a regular file cannot be created
    bad=$f/sub/x.memscope
else
    bad=$TMP/ro/x.memscope
fi
"$MSREC" run -o "$bad" -- sh -c "touch $marker" > "$TMP/o3" 2> "$TMP/e3"
check msrec-output/unwritable/status 2 $?
check msrec-output/unwritable/not-started absent "$([ -e "$marker" ] && echo present || echo absent)"
check msrec-output/unwritable/one-line 1 "$(wc -l < "$TMP/e3")"

echo precious > "$TMP/pre.memscope"
LD_PRELOAD="$LIBMS" MEMSCOPE_AUTO_EXPORT=1 MEMSCOPE_EXPORT_PATH="$TMP/pre.memscope" \
    "$PROGS/leaks" > /dev/null 2> "$TMP/e4"
check msrec-output/preload/no-claim 0 "$(grep -c 'memscope: wrote' "$TMP/e4")"
check msrec-output/preload/kept precious "$(cat "$TMP/pre.memscope")"
chmod 755 "$TMP/ro"
rm -rf "$TMP"
