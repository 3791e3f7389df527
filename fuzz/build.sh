#!/bin/sh
# build.sh [SECONDS] [TARGET...] — builds the libFuzzer targets with clang
# (-fsanitize=fuzzer,address,undefined) into build/fuzz/ and runs each
# named one (default: all) for SECONDS (default 60, or $FUZZ_TIME; 0 =
# build only). Targets:
#   reader  fuzz_reader.c: the .memscope reader on any bytes
#   msconv  fuzz_msconv.c: msconv's views in-process, structure-aware
#           mutations (fuzz/structure.h) so inputs stay valid files
#   msdiff  fuzz_msdiff.c: msdiff in-process, same mutator
# `make fuzz` runs this. Longer runs: `make fuzz FUZZ_TIME=3600` or
# `sh fuzz/build.sh 3600 msconv`; several processes: FUZZ_JOBS=2.
# The checked-in corpora (fuzz/corpus/TARGET) are read-only here; inputs
# the fuzzer finds go to build/fuzz/corpus-TARGET, crashers to
# build/fuzz/TARGET-crash-*. A crasher worth keeping is copied into
# fuzz/corpus/TARGET (keep each corpus under 200 files / 2 MB) so that
# `make test` replays it forever (fuzz/replay.sh).
# The converter targets link build/gen/*.c: run `make` first.
set -e
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
SECS=${1:-${FUZZ_TIME:-60}}
[ $# -gt 0 ] && shift
TARGETS=${*:-reader msconv msdiff}
OUT=build/fuzz
CLANG=${CLANG:-clang}
CFLAGS="-std=c11 -D_GNU_SOURCE -DFUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION -g -O1 -Iformat -Ianalyze -Iconvert/common -Irecorder/symbolize -Ibuild/include -Ibuild/gen"
SAN="-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined"
LIBS="-lzstd -lxxhash"
CONV_LIBS="-lcjson -lm -lpthread"
mkdir -p "$OUT"
for t in $TARGETS; do
    echo "fuzz: building $OUT/fuzz_$t"
    case $t in
    reader) $CLANG $CFLAGS $SAN format/*.c fuzz/fuzz_reader.c -o "$OUT/fuzz_reader" $LIBS ;;
    msconv)
        [ -f build/gen/report_html.c ] && [ -f build/gen/profile.pb-c.c ] || { echo "fuzz: run make first (build/gen)"; exit 1; }
        $CLANG $CFLAGS $SAN -Dmain=msconv_main format/*.c analyze/*.c convert/common/*.c convert/msconv/*.c \
            recorder/symbolize/*.c build/gen/report_html.c build/gen/profile.pb-c.c fuzz/fuzz_msconv.c \
            -o "$OUT/fuzz_msconv" $LIBS -ldw -lelf -liberty -ldl $CONV_LIBS -lprotobuf-c -lz ;;
    msdiff)
        [ -f build/gen/report_html.c ] || { echo "fuzz: run make first (build/gen)"; exit 1; }
        $CLANG $CFLAGS $SAN -Dmain=msdiff_main format/*.c analyze/*.c convert/common/*.c convert/msdiff/*.c \
            build/gen/report_html.c fuzz/fuzz_msdiff.c -o "$OUT/fuzz_msdiff" $LIBS $CONV_LIBS ;;
    *) echo "fuzz: unknown target $t"; exit 2 ;;
    esac
done
[ "$SECS" -gt 0 ] || exit 0
JOBS=""
[ "${FUZZ_JOBS:-1}" -gt 1 ] && JOBS="-jobs=$FUZZ_JOBS -workers=$FUZZ_JOBS"
for t in $TARGETS; do
    echo "fuzz: running $t for ${SECS}s (artifacts in $OUT/)"
    mkdir -p "$OUT/corpus-$t"
    case $t in
    reader) EXTRA="-max_len=65536 -rss_limit_mb=2048" ;;
    # converters: raw (decompressed) payloads, quiet stdout/stderr, tight
    # memory and time so amplification bugs (a small file costing much) show
    # (30 s: a 90 KB file may decode to 700 k events, ~1 s for --dump
    # uninstrumented and ~20x that here)
    *) EXTRA="-max_len=262144 -close_fd_mask=3 -rss_limit_mb=1024 -malloc_limit_mb=512" ;;
    esac
    # shellcheck disable=SC2086
    "$OUT/fuzz_$t" -max_total_time="$SECS" -timeout=30 $EXTRA \
        -print_final_stats=1 $JOBS -artifact_prefix="$OUT/$t-" "$OUT/corpus-$t" "fuzz/corpus/$t"
done
