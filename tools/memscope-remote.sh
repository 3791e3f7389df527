#!/bin/sh
# memscope-remote.sh — snapshot several hosts over ssh in parallel and diff
# two of them (seed 000's memory-analysis.sh). For every host, in parallel:
# copy msrec into a private temp dir on the host, run `msrec snapshot`, fetch
# the file into DIR/HOST/HOST.memscope, remove the temp dir. A failing host
# is reported and does not stop the others. With --diff, the first two hosts
# given are compared: DIR/HOST2/diff_report_中文.md and diff_report.json.
#
# Only ssh is used (no scp/sftp): files travel through `cat` on the channel.
set -u

usage() {
    cat <<'EOF'
usage: memscope-remote.sh HOST... -o DIR [options]

  HOST                 user@host or an ssh config alias (one or more)
  -o DIR               local result directory: DIR/HOST/HOST.memscope
  --diff               compare the first two hosts (needs both to succeed):
                       report in DIR/HOST2/diff_report_中文.md + diff_report.json
  --max-processes N    keep the N largest processes on each host
  --label TEXT         snapshot label (default: the host name)
  --lang zh|en         language of the diff report (default zh)
  --sudo               run msrec with sudo on the hosts (needs passwordless sudo)
  -F FILE              ssh config file
  --msrec PATH         msrec binary to copy (default: the one of this tree, or
                       msrec in PATH); it must run on the hosts (same
                       architecture; needs libzstd and libxxhash there)
  --msdiff PATH        msdiff used for --diff (default: beside msrec)
  --help               this text

Exit status: 0 when every host succeeded, 1 when some failed (the others
still produce their files), 2 on usage errors.
EOF
}

HOSTS=""; OUT=""; DIFF=0; MAXP=""; LABEL=""; LANG_OPT=""; SUDO=""; SSHCFG=""; MSREC=""; MSDIFF=""
while [ $# -gt 0 ]; do
    case "$1" in
        -h|--help) usage; exit 0 ;;
        -o) [ $# -ge 2 ] || { echo "memscope-remote: -o needs a directory" >&2; exit 2; }; OUT=$2; shift ;;
        --diff|-d) DIFF=1 ;;
        --max-processes) [ $# -ge 2 ] || { echo "memscope-remote: --max-processes needs a value" >&2; exit 2; }; MAXP=$2; shift ;;
        --label) [ $# -ge 2 ] || { echo "memscope-remote: --label needs a value" >&2; exit 2; }; LABEL=$2; shift ;;
        --lang) [ $# -ge 2 ] || { echo "memscope-remote: --lang needs a value" >&2; exit 2; }; LANG_OPT=$2; shift ;;
        --sudo) SUDO="sudo -n" ;;
        -F) [ $# -ge 2 ] || { echo "memscope-remote: -F needs a file" >&2; exit 2; }; SSHCFG=$2; shift ;;
        --msrec) [ $# -ge 2 ] || { echo "memscope-remote: --msrec needs a path" >&2; exit 2; }; MSREC=$2; shift ;;
        --msdiff) [ $# -ge 2 ] || { echo "memscope-remote: --msdiff needs a path" >&2; exit 2; }; MSDIFF=$2; shift ;;
        -*) echo "memscope-remote: unknown option '$1' (try --help)" >&2; exit 2 ;;
        *) HOSTS="$HOSTS $1" ;;
    esac
    shift
done
[ -n "$HOSTS" ] || { echo "memscope-remote: no host given (try --help)" >&2; exit 2; }
[ -n "$OUT" ] || { echo "memscope-remote: -o DIR is required" >&2; exit 2; }
case "$MAXP" in ""|*[!0-9]*) [ -z "$MAXP" ] || { echo "memscope-remote: --max-processes: invalid value '$MAXP'" >&2; exit 2; } ;; esac

ROOT=$(cd "$(dirname "$0")/.." && pwd)
if [ -z "$MSREC" ]; then
    if [ -x "$ROOT/build/bin/msrec" ]; then MSREC="$ROOT/build/bin/msrec"; else MSREC=$(command -v msrec || true); fi
fi
[ -n "$MSREC" ] && [ -f "$MSREC" ] || { echo "memscope-remote: msrec not found (build it or pass --msrec)" >&2; exit 2; }
[ -n "$MSDIFF" ] || MSDIFF="$(dirname "$MSREC")/msdiff"
[ "$DIFF" -eq 0 ] || [ -x "$MSDIFF" ] || MSDIFF=$(command -v msdiff || echo "$MSDIFF")
mkdir -p "$OUT" || exit 1

SSH="ssh -o BatchMode=yes -o ConnectTimeout=10"
[ -n "$SSHCFG" ] && SSH="$SSH -F $SSHCFG"

# Directory name for a host: user@host -> host (characters outside
# [A-Za-z0-9._-] become _).
hostdir() { printf '%s' "${1#*@}" | tr -c 'A-Za-z0-9._-' '_'; }

quote() { printf "'%s'" "$(printf '%s' "$1" | sed "s/'/'\\\\''/g")"; }

# One host, run in the background; writes DIR/HOST/status ("ok" or the reason).
collect() {
    host=$1; name=$(hostdir "$host"); dir="$OUT/$name"; log="$dir/remote.log"
    mkdir -p "$dir"; : > "$log"
    say() { echo "[$host] $*"; }
    failed() { echo "$*" > "$dir/status"; say "FAILED: $*"; exit 1; }
    rm -f "$dir/status"
    say "connecting"
    rtmp=$($SSH "$host" 'mktemp -d "${TMPDIR:-/tmp}/memscope.XXXXXX"' 2>>"$log") || failed "ssh: $(tail -1 "$log")"
    say "copying msrec"
    $SSH "$host" "cat > $rtmp/msrec && chmod 755 $rtmp/msrec" < "$MSREC" 2>>"$log" || failed "copy msrec: $(tail -1 "$log")"
    label=${LABEL:-$name}
    args="snapshot $rtmp/$name.memscope --label $(quote "$label")"
    [ -n "$MAXP" ] && args="$args --max-processes $MAXP"
    say "snapshot"
    if ! $SSH "$host" "$SUDO $rtmp/msrec $args" >>"$log" 2>&1; then
        $SSH "$host" "rm -rf $rtmp" 2>/dev/null
        failed "msrec: $(tail -1 "$log")"
    fi
    grep 'could not be fully read' "$log" | sed "s/^/[$host] /"
    say "fetching"
    if ! $SSH "$host" "cat $rtmp/$name.memscope" > "$dir/$name.memscope.part" 2>>"$log"; then
        rm -f "$dir/$name.memscope.part"
        failed "fetch: $(tail -1 "$log")"
    fi
    $SSH "$host" "$SUDO rm -rf $rtmp" 2>>"$log" || true
    [ -e "$dir/$name.memscope" ] && mv "$dir/$name.memscope" "$dir/$name.memscope.old"
    mv "$dir/$name.memscope.part" "$dir/$name.memscope" || failed "cannot write $dir/$name.memscope"
    echo ok > "$dir/status"
    say "ok: $dir/$name.memscope"
}

pids=""
for h in $HOSTS; do
    collect "$h" &
    pids="$pids $!"
done
for p in $pids; do wait "$p"; done

status=0; ok=""; nok=0
for h in $HOSTS; do
    name=$(hostdir "$h")
    if [ "$(cat "$OUT/$name/status" 2>/dev/null)" = ok ]; then ok="$ok $h"; nok=$((nok + 1))
    else status=1; fi
done
total=$(echo $HOSTS | wc -w)
echo "memscope-remote: $nok of $total hosts succeeded"

if [ "$DIFF" -eq 1 ]; then
    set -- $HOSTS
    if [ $# -lt 2 ]; then
        echo "memscope-remote: --diff needs two hosts" >&2; status=1
    else
        d1=$(hostdir "$1"); d2=$(hostdir "$2")
        if [ "$(cat "$OUT/$d1/status" 2>/dev/null)" = ok ] && [ "$(cat "$OUT/$d2/status" 2>/dev/null)" = ok ]; then
            set --
            [ -n "$LANG_OPT" ] && set -- --lang "$LANG_OPT"
            "$MSDIFF" "$OUT/$d1" "$OUT/$d2" "$@" || status=1
        else
            echo "memscope-remote: --diff: $1 or $2 failed, no diff" >&2; status=1
        fi
    fi
fi
exit $status
