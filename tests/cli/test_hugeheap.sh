#!/bin/sh
# msconv and msdiff given a large trace re-execute themselves once with
# glibc's malloc asking for transparent huge pages (convert/common/
# hugeheap.c) where the kernel gives them on request: the reports are the
# same as without (MEMSCOPE_HUGEPAGES=0), the programs they run (dot) see
# the user's GLIBC_TUNABLES and none of ours, and a tunable the user set
# is kept. Where the kernel's mode is "[madvise]", the converter's own
# initial environment (/proc/PID/environ, read by a stand-in dot) shows
# the tunable, i.e. the second image ran with it.
. "$(dirname "$0")/../lib.sh"
trap 'rm -rf "$TMP"' EXIT
PROG="$MS_BUILD/progs/randalloc"
[ -x "$PROG" ] || { fail "hugeheap/setup" "$PROG missing"; exit 0; }
"$MSREC" run -q -o "$TMP/big.memscope" -- "$PROG" 400000 > /dev/null 2>&1
size=$(stat -c %s "$TMP/big.memscope" 2>/dev/null || echo 0)
[ "$size" -ge 1048576 ] && pass "hugeheap/trace of 1 MiB or more" ||
    { fail "hugeheap/trace of 1 MiB or more" "$size bytes"; exit 0; }

# the same reports with and without
for mode in --text --json; do
    "$MSCONV" "$TMP/big.memscope" $mode -o "$TMP/on.out" 2> "$TMP/on.err"; a=$?
    MEMSCOPE_HUGEPAGES=0 "$MSCONV" "$TMP/big.memscope" $mode -o "$TMP/off.out" 2> "$TMP/off.err"; b=$?
    check "hugeheap/msconv $mode exit" "0 0" "$a $b"
    cmp -s "$TMP/on.out" "$TMP/off.out" && pass "hugeheap/msconv $mode same report" ||
        fail "hugeheap/msconv $mode same report" "differs"
done
cp "$TMP/big.memscope" "$TMP/big2.memscope"
"$MSDIFF" "$TMP/big.memscope" "$TMP/big2.memscope" --json "$TMP/on.json" > /dev/null 2>&1; a=$?
MEMSCOPE_HUGEPAGES=0 "$MSDIFF" "$TMP/big.memscope" "$TMP/big2.memscope" --json "$TMP/off.json" > /dev/null 2>&1; b=$?
check "hugeheap/msdiff exit" "0 0" "$a $b"
cmp -s "$TMP/on.json" "$TMP/off.json" && pass "hugeheap/msdiff same report" || fail "hugeheap/msdiff same report" "differs"

# a stand-in dot: its environment, and its parent's initial one
mkdir -p "$TMP/bin"
cat > "$TMP/bin/dot" <<EOF
#!/bin/sh
cat > /dev/null
echo "GT=\${GLIBC_TUNABLES-unset} ORIG=\${MEMSCOPE_HUGEHEAP_ORIG-unset}" > "$TMP/dot.env"
tr '\\0' '\\n' < /proc/\$PPID/environ | grep '^GLIBC_TUNABLES=' > "$TMP/parent.env"
echo '<svg xmlns="http://www.w3.org/2000/svg"></svg>'
EOF
chmod +x "$TMP/bin/dot"
# svg OUT [env assignments...]: msconv --svg through the stand-in dot
svg() { o=$1; shift; rm -f "$TMP/dot.env" "$TMP/parent.env"; env "$@" PATH="$TMP/bin:$PATH" "$MSCONV" "$IN" --svg "$o" > /dev/null 2>&1; }
IN=$TMP/big.memscope
svg "$TMP/a.svg" -u GLIBC_TUNABLES
check "hugeheap/dot sees no tunable of ours" "GT=unset ORIG=unset" "$(cat "$TMP/dot.env" 2>/dev/null)"
madvise=0
grep -q '\[madvise\]' /sys/kernel/mm/transparent_hugepage/enabled 2>/dev/null && madvise=1
if [ $madvise = 1 ]; then
    check "hugeheap/msconv ran with the tunable" "GLIBC_TUNABLES=glibc.malloc.hugetlb=1" "$(cat "$TMP/parent.env" 2>/dev/null)"
else
    check "hugeheap/no re-execution without [madvise]" "" "$(cat "$TMP/parent.env" 2>/dev/null)"
fi
svg "$TMP/b.svg" GLIBC_TUNABLES=glibc.malloc.perturb=0
check "hugeheap/dot sees the user's tunable" "GT=glibc.malloc.perturb=0 ORIG=unset" "$(cat "$TMP/dot.env" 2>/dev/null)"
if [ $madvise = 1 ]; then
    # (ours first; glibc's parser cuts the string in place at the first ':',
    # so that is what /proc/PID/environ shows of it)
    check "hugeheap/user's tunable kept, ours added" "GLIBC_TUNABLES=glibc.malloc.hugetlb=1" \
        "$(cat "$TMP/parent.env" 2>/dev/null)"
fi
svg "$TMP/c.svg" GLIBC_TUNABLES=glibc.malloc.hugetlb=0
check "hugeheap/the user's hugetlb choice stands" "GLIBC_TUNABLES=glibc.malloc.hugetlb=0" "$(cat "$TMP/parent.env" 2>/dev/null)"
svg "$TMP/d.svg" -u GLIBC_TUNABLES MEMSCOPE_HUGEPAGES=0
check "hugeheap/MEMSCOPE_HUGEPAGES=0: no re-execution" "" "$(cat "$TMP/parent.env" 2>/dev/null)"
check "hugeheap/MEMSCOPE_HUGEPAGES=0: dot ran" "GT=unset ORIG=unset" "$(cat "$TMP/dot.env" 2>/dev/null)"
# a small input (under 1 MiB): no re-execution
"$MSREC" run -q -o "$TMP/small.memscope" -- "$PROG" 2000 > /dev/null 2>&1
IN=$TMP/small.memscope
svg "$TMP/e.svg" -u GLIBC_TUNABLES
check "hugeheap/small input: dot ran" "GT=unset ORIG=unset" "$(cat "$TMP/dot.env" 2>/dev/null)"
check "hugeheap/small input: no re-execution" "" "$(cat "$TMP/parent.env" 2>/dev/null)"
