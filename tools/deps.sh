#!/bin/sh
# Installs the Debian packages memscope needs that are missing; quiet when
# everything is there. Libraries: zstd, xxHash, libunwind, cJSON, libdw,
# libiberty (the demangler of C++ and Rust names, in msrec and msconv only).
# Tools for tests, demo and benchmarks: graphviz, valgrind, heaptrack, smem,
# jemalloc, tcmalloc (tests/recorder/test_allocators.sh), gperftools, chromium and a CJK font (dashboard screenshots), clang (fuzzing), openssh (remote tests),
# ansible-core (tools/ansible fleet snapshots and their test),
# time (/usr/bin/time: max RSS in bench/heap.sh), python3.11-dbg (separate
# debug info of /usr/bin/python3.11: the symbolizer tests find it by build id),
# protobuf-c, zlib and pprof's profile.proto (msconv --pprof), Go (builds the
# real pprof from the Debian sources for tests/views/test_pprof.sh),
# the programs of the real-program suite tests/real (sqlite3, git, gcc, g++,
# binutils, python3, bash, perl, zstd, ripgrep (Rust), OpenJDK (the JVM);
# valgrind and heaptrack compare).
PKGS="build-essential pkg-config libzstd-dev libxxhash-dev libunwind-dev libcjson-dev libdw-dev libelf-dev libiberty-dev
graphviz valgrind heaptrack smem libjemalloc2 libtcmalloc-minimal4 google-perftools chromium fonts-wqy-microhei clang libclang-rt-14-dev
python3 python3-lxml python3-zstandard python3-xxhash openssh-server openssh-client ansible-core zstd procps time
python3.11-dbg
sqlite3 git gcc g++ binutils bash perl sudo ripgrep openjdk-17-jdk-headless
libprotobuf-c-dev protobuf-c-compiler zlib1g-dev golang-github-google-pprof-dev golang-go"
missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "deps: installing:$missing"
SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq || exit 1
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null || {
    echo "deps: apt-get install failed for:$missing" >&2; exit 1; }
