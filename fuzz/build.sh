#!/bin/sh
# build.sh [SECONDS] — builds the libFuzzer target for the .memscope reader
# with clang (-fsanitize=fuzzer,address,undefined) into build/fuzz/fuzz_reader
# and runs it for SECONDS (default 60, or $FUZZ_TIME; 0 = build only).
# `make fuzz` runs this. Longer runs: `make fuzz FUZZ_TIME=3600` or
# `sh fuzz/build.sh 3600`; several processes: `FUZZ_JOBS=2 sh fuzz/build.sh 3600`.
# The checked-in seeds (fuzz/corpus/reader) are read-only here; inputs the
# fuzzer finds go to build/fuzz/corpus-reader, crashers to build/fuzz/crash-*.
# A crasher worth keeping is copied into fuzz/corpus/reader (keep the corpus
# under 200 files / 2 MB) so that `make test` replays it forever.
set -e
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
SECS=${1:-${FUZZ_TIME:-60}}
OUT=build/fuzz
CLANG=${CLANG:-clang}
mkdir -p "$OUT/corpus-reader"
echo "fuzz: building $OUT/fuzz_reader"
$CLANG -std=c11 -D_GNU_SOURCE -g -O1 -Iformat \
    -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
    format/*.c fuzz/fuzz_reader.c -o "$OUT/fuzz_reader" -lzstd -lxxhash
[ "$SECS" -gt 0 ] || exit 0
echo "fuzz: running for ${SECS}s (artifacts in $OUT/)"
JOBS=""
[ "${FUZZ_JOBS:-1}" -gt 1 ] && JOBS="-jobs=$FUZZ_JOBS -workers=$FUZZ_JOBS"
# shellcheck disable=SC2086
"$OUT/fuzz_reader" -max_total_time="$SECS" -timeout=10 -rss_limit_mb=2048 \
    -max_len=65536 -print_final_stats=1 $JOBS \
    -artifact_prefix="$OUT/" "$OUT/corpus-reader" fuzz/corpus/reader
