# Shared helpers for test scripts: source "$MS_ROOT/tests/lib.sh".
# pass NAME / fail NAME WHY print the lines tests/run.sh counts.
: "${MS_ROOT:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${MS_BUILD:=$MS_ROOT/build}"
MSREC="$MS_BUILD/bin/msrec"; MSCONV="$MS_BUILD/bin/msconv"; MSDIFF="$MS_BUILD/bin/msdiff"
LIBMS="$MS_BUILD/lib/libmemscope.so"
# (as tests/run.sh: no symbol cache unless a test sets one)
export MEMSCOPE_SYMBOL_CACHE="${MEMSCOPE_SYMBOL_CACHE:-0}"
TMP=$(mktemp -d "${TMPDIR:-/tmp}/mstest.XXXXXX")
pass() { echo "PASS: $1"; }
fail() { echo "FAIL: $1: $2"; }
# check NAME EXPECTED ACTUAL
check() { if [ "$2" = "$3" ]; then pass "$1"; else fail "$1" "expected '$2', got '$3'"; fi; }
# check_cmd NAME command... : passes when the command exits 0
check_cmd() { n=$1; shift; if "$@" >/dev/null 2>&1; then pass "$n"; else fail "$n" "command failed: $*"; fi; }
