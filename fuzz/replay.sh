#!/bin/sh
# replay.sh BIN — runs the plain fuzz replay driver BIN (build/bin/fuzz-replay
# or build/asan/bin/fuzz-replay) over the checked-in reader corpus, so every
# input that ever crashed the reader stays a regression test. BIN prints the
# PASS/FAIL lines; a crash is turned into a FAIL line naming the input.
BIN=${1:?usage: replay.sh BIN}
DIR=$(cd "$(dirname "$0")" && pwd)
CORPUS="$DIR/corpus/reader"
[ -x "$BIN" ] || { echo "FAIL: fuzz-replay: $BIN is not built"; exit 1; }
ERR=$(mktemp "${TMPDIR:-/tmp}/fuzz-replay.XXXXXX")
"$BIN" "$CORPUS" 2>"$ERR"
rc=$?
if [ "$rc" -ne 0 ]; then
    last=$(grep '^replay ' "$ERR" | tail -1)
    echo "FAIL: fuzz-replay reader: exit status $rc after '$last'"
    grep -v '^replay ' "$ERR" | head -40
fi
rm -f "$ERR"
exit "$rc"
