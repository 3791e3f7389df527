#!/bin/sh
# The truth about writes: on a full disk (a 256 KiB tmpfs), under a file
# size limit (RLIMIT_FSIZE, SIGXFSZ ignored: EFBIG) and when the recorder's
# buffers cannot be allocated (RLIMIT_AS), the program keeps its output and
# exit status, the exit line says how many events reached the file and why
# the rest did not, END carries events_lost / write_errors / first_errno
# (format 1.2) and msconv --info never calls the file complete; the other
# views warn once.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/common.sh"
T=writes
require "$LIBMS" "$MSCONV" "$PROGS/randalloc"
unset MEMSCOPE_QUIET
N=1500000
want_out="randalloc done $N"

# verdict NAME FILE ERRNO WHY : END fields, --info verdict, one --text warning
verdict() {
    "$MSCONV" "$2" --dump 2>/dev/null | grep '"end"' | head -1 > "$TMP/$1.end"
    check writes/$1/end-first-errno "$3" "$(sed -n 's/.*"first_errno": *\([0-9-]*\).*/\1/p' "$TMP/$1.end")"
    lost=$(sed -n 's/.*"events_lost": *\([0-9]*\).*/\1/p' "$TMP/$1.end")
    if [ -n "$lost" ] && [ "$lost" -gt 0 ]; then pass writes/$1/end-events-lost
    else fail writes/$1/end-events-lost "END: $(head -c 300 "$TMP/$1.end")"; fi
    v=$("$MSCONV" "$2" --info 2>/dev/null | sed -n 's/^integrity: *//p')
    case $v in
    "incomplete: $4, "*) pass writes/$1/info-verdict ;;
    *) fail writes/$1/info-verdict "got '$v'" ;;
    esac
    "$MSCONV" "$2" --text > /dev/null 2> "$TMP/$1.text.err"
    check writes/$1/text-one-warning 1 "$(grep -c incomplete "$TMP/$1.text.err")"
}

# exitline NAME WHY : the exit line is honest
exitline() {
    if grep -q "incomplete: $2 (errno [0-9]*) after [0-9]* of [0-9]* events" "$TMP/$1.err" &&
       ! grep -q "memscope: wrote" "$TMP/$1.err"; then pass writes/$1/exit-line
    else fail writes/$1/exit-line "$(tr '\n' ' ' < "$TMP/$1.err" | head -c 300)"; fi
}

# full disk
mnt=$TMP/mnt; mkdir -p "$mnt"
if mount -t tmpfs -o size=256k tmpfs "$mnt" 2>/dev/null; then
    LD_PRELOAD="$LIBMS" MEMSCOPE_AUTO_EXPORT=1 MEMSCOPE_EXPORT_PATH="$mnt/full.memscope" \
        "$PROGS/randalloc" $N > "$TMP/full.out" 2> "$TMP/full.err"
    check writes/full/status 7 $?
    check writes/full/stdout "$want_out" "$(cat "$TMP/full.out")"
    exitline full "disk full"
    verdict full "$mnt/full.memscope" 28 "disk full"
    umount "$mnt"
else
    echo "note: writes/full skipped (cannot mount a tmpfs: not root?)"
fi

# file size limit
(ulimit -f 100; trap '' XFSZ; LD_PRELOAD="$LIBMS" MEMSCOPE_AUTO_EXPORT=1 \
    MEMSCOPE_EXPORT_PATH="$TMP/fsize.memscope" exec "$PROGS/randalloc" $N) \
    > "$TMP/fsize.out" 2> "$TMP/fsize.err"
check writes/fsize/status 7 $?
check writes/fsize/stdout "$want_out" "$(cat "$TMP/fsize.out")"
exitline fsize "file size limit reached"
verdict fsize "$TMP/fsize.memscope" 27 "file size limit reached"

# address space limit: find a limit where recording starts but its buffers
# cannot all be allocated (the recorder reserves ~130 MB up front)
# (from below: "not recording" -> buffers failing -> everything fits)
found=
kb=110000
while [ $kb -le 260000 ]; do
    rm -f "$TMP/as.memscope"
    (ulimit -v $kb; LD_PRELOAD="$LIBMS" MEMSCOPE_AUTO_EXPORT=1 \
        MEMSCOPE_EXPORT_PATH="$TMP/as.memscope" exec "$PROGS/randalloc" $N) \
        > "$TMP/as.out" 2> "$TMP/as.err"
    rc=$?
    if grep -q "incomplete: out of memory" "$TMP/as.err"; then found=$kb; break; fi
    grep -q "memscope: wrote .* ([1-9][0-9]* events" "$TMP/as.err" && break
    kb=$((kb + 1000))
done
if [ -n "$found" ]; then
    check writes/as/status 7 $rc
    check writes/as/stdout "$want_out" "$(cat "$TMP/as.out")"
    exitline as "out of memory"
    verdict as "$TMP/as.memscope" 12 "out of memory"
else
    echo "note: writes/as: no RLIMIT_AS value made the recorder's buffers fail; last: $(head -c 200 "$TMP/as.err")"
fi
rm -rf "$TMP"
