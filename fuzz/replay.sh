#!/bin/sh
# replay.sh BIN — runs the plain fuzz replay driver BIN (build/bin/fuzz-replay
# or build/asan/bin/fuzz-replay) over the checked-in reader corpus, and its
# siblings fuzz-replay-msconv / fuzz-replay-msdiff (the converter targets)
# over fuzz/corpus/msconv and fuzz/corpus/msdiff, so every input that ever
# crashed the reader or a converter stays a regression test. The drivers
# print the PASS/FAIL lines; a crash is turned into a FAIL line naming the
# input. The converters' own error lines (damaged inputs) are not shown.
BIN=${1:?usage: replay.sh BIN}
DIR=$(cd "$(dirname "$0")" && pwd)
BINDIR=$(dirname "$BIN")
[ -x "$BIN" ] || { echo "FAIL: fuzz-replay: $BIN is not built"; exit 1; }
status=0
run() { # NAME DRIVER CORPUS
    [ -x "$2" ] || { echo "FAIL: fuzz-replay $1: $2 is not built"; status=1; return; }
    ERR=$(mktemp "${TMPDIR:-/tmp}/fuzz-replay.XXXXXX")
    "$2" "$3" 2>"$ERR"
    rc=$?
    if [ "$rc" -ne 0 ]; then
        last=$(grep '^replay ' "$ERR" | tail -1)
        echo "FAIL: fuzz-replay $1: exit status $rc after '$last'"
        grep -v '^replay \|^msconv: \|^msdiff: ' "$ERR" | head -40
        status=1
    fi
    rm -f "$ERR"
}
run reader "$BIN" "$DIR/corpus/reader"
run msconv "$BINDIR/fuzz-replay-msconv" "$DIR/corpus/msconv"
run msdiff "$BINDIR/fuzz-replay-msdiff" "$DIR/corpus/msdiff"
exit "$status"
