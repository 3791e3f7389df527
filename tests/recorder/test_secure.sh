#!/bin/sh
# Secure execution: a setuid-root program linked with -lmemscope, run by an
# unprivileged user who sets MEMSCOPE_AUTO_EXPORT=1, MEMSCOPE_EXPORT_PATH in
# /root and MEMSCOPE_EXPORT_FORMAT=json with a fake msconv first in PATH,
# records nothing: no file appears, the fake msconv never runs, the program's
# output and status are unchanged, at most one stderr line. And a recording
# process never looks msconv up through PATH (reports: only the msconv next
# to libmemscope, else one line and no report).
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/common.sh"
T=secure
require "$LIBMS" "$PROGS/leaks_linked"
unset MEMSCOPE_QUIET
chmod 755 "$TMP"
mkdir -p "$TMP/lib" "$TMP/fakebin"
cp "$LIBMS" "$TMP/lib/"            # a library with no ../bin/msconv next to it
printf '#!/bin/sh\ntouch %s/MARKER\n' "$TMP" > "$TMP/fakebin/msconv"
chmod 755 "$TMP/fakebin/msconv" "$TMP/lib" "$TMP/fakebin"
if ! cc -std=c11 -D_GNU_SOURCE -Iformat -I"$MS_ROOT/format" -o "$TMP/suid" "$MS_ROOT/tests/progs/leaks.c" \
        -L"$TMP/lib" -Wl,--no-as-needed -lmemscope -Wl,-rpath,"$TMP/lib" 2> "$TMP/cc.err"; then
    fail secure/build "$(head -c 300 "$TMP/cc.err")"
    rm -rf "$TMP"; exit 0
fi

# not setuid, not root: the msconv next to the library is missing -> one line
(cd "$TMP" && PATH="$TMP/fakebin:$PATH" MEMSCOPE_AUTO_EXPORT=1 MEMSCOPE_EXPORT_FORMAT=json \
    MEMSCOPE_EXPORT_PATH="$TMP/plain.memscope" ./suid > "$TMP/plain.out" 2> "$TMP/plain.err")
check secure/no-path-lookup/marker absent "$([ -e "$TMP/MARKER" ] && echo present || echo absent)"
check secure/no-path-lookup/one-line 1 "$(grep -c 'no msconv next to libmemscope' "$TMP/plain.err")"
check secure/no-path-lookup/trace yes "$([ -s "$TMP/plain.memscope" ] && echo yes || echo no)"

if [ "$(id -u)" != 0 ]; then
    echo "note: secure/setuid skipped (needs root to make a setuid-root copy)"
    rm -rf "$TMP"; exit 0
fi
if command -v setpriv > /dev/null 2>&1; then
    asuser() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
elif command -v su > /dev/null 2>&1; then
    asuser() { su nobody -s /bin/sh -c "$(printf '%s ' "$@")"; }
else
    echo "note: secure/setuid skipped (neither setpriv nor su)"
    rm -rf "$TMP"; exit 0
fi
chown root:root "$TMP/suid" && chmod 4755 "$TMP/suid"
rm -f "$TMP/MARKER" /root/memscope-secure-test.memscope
"$TMP/suid" > "$TMP/root.out" 2>&1
want_rc=$?
for target in /root/memscope-secure-test.memscope /etc/memscope-secure-test.memscope; do
    n=$(basename "$(dirname "$target")")
    (cd /tmp && asuser env PATH="$TMP/fakebin:$PATH" MEMSCOPE_AUTO_EXPORT=1 \
        MEMSCOPE_EXPORT_PATH="$target" MEMSCOPE_EXPORT_FORMAT=json "$TMP/suid" \
        > "$TMP/suid-$n.out" 2> "$TMP/suid-$n.err")
    rc=$?
    check secure/setuid-$n/status "$want_rc" "$rc"
    check secure/setuid-$n/no-file absent "$([ -e "$target" ] && echo present || echo absent)"
    check secure/setuid-$n/no-report absent "$([ -e "$target.json" ] && echo present || echo absent)"
    check secure/setuid-$n/no-fake-msconv absent "$([ -e "$TMP/MARKER" ] && echo present || echo absent)"
    check secure/setuid-$n/stdout "$(cat "$TMP/root.out")" "$(cat "$TMP/suid-$n.out")"
    l=$(wc -l < "$TMP/suid-$n.err")
    if [ "$l" -le 1 ]; then pass secure/setuid-$n/at-most-one-line
    else fail secure/setuid-$n/at-most-one-line "$(tr '\n' ' ' < "$TMP/suid-$n.err" | head -c 300)"; fi
    rm -f "$target" "$target.json"
done
rm -rf "$TMP"
