#!/bin/sh
# memscope-remote.sh — snapshot one or two hosts over ssh and diff them, with
# seed 000's syntax (memory-analysis.sh):
#
#   memscope-remote.sh user@host DIR [max] [-d user@host2]
#
# For fleets use the Ansible playbook in tools/ansible/ (forks, retries,
# inventories); this script is the thin front end for one or two hosts.
# Each host gets exactly one ssh session: the static msrec (msrec-static,
# no library needed on the host) goes up on its stdin, a small sh script
# makes a private work dir where programs may run (a noexec TMPDIR is
# skipped), runs `msrec snapshot` under `timeout` (with sudo when it needs
# no password), sends the file back on stdout and removes the work dir on
# every exit path (also when the session dies). The local side bounds each
# host's whole session too. Results: DIR/<user@host>/<user@host>.memscope —
# one folder per user@host, so two users of one machine never share one;
# with -d the diff report is DIR/<host2>/diff_report_中文.md (+ .json).
set -u

usage() {
    cat <<'EOF'
usage: memscope-remote.sh user@host DIR [max] [-d user@host2] [options] [-- msrec options]
       memscope-remote.sh HOST [HOST2] -o DIR [--diff] [options]

  user@host            host to snapshot (or an ssh config alias)
  DIR                  local result directory: DIR/<user@host>/<user@host>.memscope
  max                  keep the N largest processes (same as --max-processes N)
  -d user@host2        second host, compared with the first: the report is
                       DIR/<host2>/diff_report_中文.md and diff_report.json
  -o DIR, --diff       the same with options (--diff compares HOST and HOST2)
  --max-processes N    keep the N largest processes on each host
  --label TEXT         snapshot label (default: the host as given)
  --lang zh|en         language of the diff report (default zh)
  --sudo | --no-sudo   always | never run msrec with `sudo -n` (default: when
                       passwordless sudo works; else what /proc allows)
  --timeout SEC        snapshot time limit on each host (default 120); the
                       whole ssh session gets SEC + 60
  --connect-timeout SEC  ssh connect timeout (default 10)
  -F FILE              ssh config file
  --msrec PATH         snapshot binary copied to the hosts (default: the
                       static build/bin/msrec-static of this tree, or
                       msrec-static in PATH)
  --msdiff PATH        msdiff for the diff (default: beside --msrec, or PATH)
  -- OPTIONS           more `msrec snapshot` options (e.g. -- --lib-memory)
  --help               this text

Exit status: 0 when every host succeeded (and the diff), 1 when something
failed (the other host still produces its file), 2 on usage errors.
More than two hosts: tools/ansible/README.md.
EOF
}

die() { echo "memscope-remote: $*" >&2; exit 2; }
need() { [ $# -ge 2 ] || die "$1 needs a value"; }

H1=""; H2=""; OUT=""; DIFF=0; MAXP=""; LABEL=""; LANG_OPT=""; SUDOMODE=auto; SSHCFG=""
MSREC=""; MSDIFF=""; TMO=120; CTMO=10; EXTRA=""; npos=0
quote() { printf "'%s'" "$(printf '%s' "$1" | sed "s/'/'\\\\''/g")"; }
while [ $# -gt 0 ]; do
    case "$1" in
        -h|--help) usage; exit 0 ;;
        -o) need "$@"; OUT=$2; shift ;;
        -d) need "$@"; [ -z "$H2" ] || die "-d given twice"; H2=$2; DIFF=1; shift ;;
        --diff) DIFF=1 ;;
        --max-processes) need "$@"; MAXP=$2; shift ;;
        --label) need "$@"; LABEL=$2; shift ;;
        --lang) need "$@"; LANG_OPT=$2; shift ;;
        --sudo) SUDOMODE=yes ;;
        --no-sudo) SUDOMODE=no ;;
        --timeout) need "$@"; TMO=$2; shift ;;
        --connect-timeout) need "$@"; CTMO=$2; shift ;;
        -F) need "$@"; SSHCFG=$2; shift ;;
        --msrec) need "$@"; MSREC=$2; shift ;;
        --msdiff) need "$@"; MSDIFF=$2; shift ;;
        --) shift; for a in "$@"; do EXTRA="$EXTRA $(quote "$a")"; done; break ;;
        -*) die "unknown option '$1' (try --help)" ;;
        *)  npos=$((npos + 1))
            # Seed form: HOST DIR [N]; option form (-o DIR): HOST [HOST2].
            case $npos in
                1) H1=$1 ;;
                2) P2=$1 ;;
                3) P3=$1 ;;
                *) die "too many arguments: '$1' (more than two hosts: use tools/ansible)" ;;
            esac ;;
    esac
    shift
done
[ -n "$H1" ] || die "no host given (usage: user@host DIR [max] [-d user@host2]; try --help)"
if [ -n "$OUT" ]; then                     # HOST [HOST2] -o DIR
    [ "$npos" -le 2 ] || die "too many hosts (more than two hosts: use tools/ansible)"
    if [ "$npos" -eq 2 ]; then [ -z "$H2" ] || die "two second hosts given"; H2=$P2; fi
else                                       # HOST DIR [N] [-d HOST2]
    [ "$npos" -ge 2 ] || die "no result directory (usage: user@host DIR [max] [-d user@host2])"
    OUT=$P2
    if [ "$npos" -eq 3 ]; then
        case "$P3" in *[!0-9]*|"") die "'$P3' is not a process count (more than two hosts: use tools/ansible)" ;; esac
        [ -z "$MAXP" ] || die "process count given twice"
        MAXP=$P3
    fi
fi
[ "$DIFF" -eq 0 ] || [ -n "$H2" ] || die "--diff needs a second host"
case "$MAXP" in *[!0-9]*) die "--max-processes: invalid value '$MAXP'" ;; esac
case "$TMO" in ""|*[!0-9]*|0) die "--timeout: invalid value '$TMO'" ;; esac
case "$CTMO" in ""|*[!0-9]*|0) die "--connect-timeout: invalid value '$CTMO'" ;; esac
case "$LANG_OPT" in ""|zh|en) ;; *) die "--lang: '$LANG_OPT' (zh or en)" ;; esac

# Folder of a host: the user@host as given ([A-Za-z0-9._@-], others -> _).
hostdir() { printf '%s' "$1" | tr -c 'A-Za-z0-9._@-' '_' | sed 's/^\./_/'; }
[ -z "$H2" ] || [ "$(hostdir "$H1")" != "$(hostdir "$H2")" ] || die "$H1 and $H2 are the same host: nothing to compare"

ROOT=$(cd "$(dirname "$0")/.." && pwd)
if [ -z "$MSREC" ]; then
    if [ -x "$ROOT/build/bin/msrec-static" ]; then MSREC="$ROOT/build/bin/msrec-static"
    else MSREC=$(command -v msrec-static || true); fi
fi
[ -n "$MSREC" ] && [ -f "$MSREC" ] || die "msrec-static not found (run make, or pass --msrec)"
if [ "$DIFF" -eq 1 ]; then
    [ -n "$MSDIFF" ] || MSDIFF="$(dirname "$MSREC")/msdiff"
    [ -x "$MSDIFF" ] || MSDIFF=$(command -v msdiff || echo "$MSDIFF")
    [ -x "$MSDIFF" ] || die "msdiff not found (pass --msdiff)"
fi
command -v timeout >/dev/null || die "timeout (coreutils) is needed"
mkdir -p "$OUT" || exit 1

# Run on the host by `sh -c` (whatever the login shell): $1 time limit,
# $2 max processes, $3 label, $4 sudo mode, $5 file name, then more msrec
# options. stdin: the binary; stdout: the snapshot; stderr: messages.
# No single quote may appear in it (it is sent inside single quotes).
REMOTE='
T=$1 MAXP=$2 LABEL=$3 SUDOMODE=$4 NAME=$5; shift 5
d=""
cleanup() { [ -z "$d" ] || rm -rf "$d"; d=""; }
trap cleanup EXIT
trap "cleanup; exit 1" HUP INT TERM PIPE
umask 077
for p in "${TMPDIR:-}" "$HOME/.cache" /var/tmp /tmp /dev/shm; do
    [ -n "$p" ] && [ -d "$p" ] && [ -w "$p" ] || continue
    find "$p" -maxdepth 1 -name "memscope-remote.*" -user "$(id -u)" -mmin +1440 -exec rm -rf {} + 2>/dev/null
    d=$(mktemp -d "$p/memscope-remote.XXXXXX" 2>/dev/null) || { d=""; continue; }
    if printf "#!/bin/sh\nexit 0\n" > "$d/probe" && chmod 700 "$d/probe" && "$d/probe" 2>/dev/null; then break; fi
    echo "memscope-remote: $p does not let programs run (noexec); trying the next directory" >&2
    cleanup
done
[ -n "$d" ] || { echo "memscope-remote: no writable directory lets programs run (TMPDIR, ~/.cache, /var/tmp, /tmp, /dev/shm)" >&2; exit 3; }
cat > "$d/msrec" && chmod 700 "$d/msrec" || { echo "memscope-remote: cannot write $d/msrec" >&2; exit 3; }
S=""
if [ "$(id -u)" -ne 0 ] && [ "$SUDOMODE" != no ]; then
    if sudo -n true 2>/dev/null; then S="sudo -n"
    elif [ "$SUDOMODE" = yes ]; then echo "memscope-remote: sudo -n does not work here (--sudo)" >&2; exit 3
    else echo "memscope-remote: no passwordless sudo: other users processes are read as far as /proc allows" >&2; fi
fi
TO="timeout -k 5 $T"; command -v timeout >/dev/null || TO=""
[ "$MAXP" = 0 ] || set -- --max-processes "$MAXP" "$@"
$S $TO "$d/msrec" snapshot "$d/$NAME.memscope" --label "$LABEL" "$@" >&2
rc=$?
if [ $rc -eq 124 ] || [ $rc -eq 137 ]; then echo "memscope-remote: snapshot killed after $T s (--timeout)" >&2; exit 4; fi
[ $rc -eq 0 ] || exit 5
$S cat "$d/$NAME.memscope" || exit 5
'
case "$REMOTE" in *"'"*) echo "memscope-remote: internal error: quote in the remote script" >&2; exit 2 ;; esac

# One host in the background; DIR/HOST/status gets "ok" or the reason.
collect() {
    host=$1; name=$(hostdir "$host"); dir="$OUT/$name"; log="$dir/remote.log"
    mkdir -p "$dir" || { echo "[$host] FAILED: cannot create $dir"; return 1; }
    rm -f "$dir/status"
    say() { echo "[$host] $*"; }
    failed() { echo "$*" > "$dir/status"; say "FAILED: $*"; rm -f "$dir/.$name.memscope.part"; return 1; }
    label=${LABEL:-$host}
    say "snapshot"
    rcmd="sh -c '$REMOTE' memscope-remote $TMO ${MAXP:-0} $(quote "$label") $SUDOMODE $(quote "$name")$EXTRA"
    set -- -o BatchMode=yes -o ConnectTimeout="$CTMO" -o ServerAliveInterval=5 -o ServerAliveCountMax=3
    [ -z "$SSHCFG" ] || set -- "$@" -F "$SSHCFG"
    timeout -k 5 $((TMO + 60)) ssh "$@" "$host" "$rcmd" < "$MSREC" > "$dir/.$name.memscope.part" 2> "$log"
    rc=$?
    grep -E 'could not be fully read|noexec|passwordless' "$log" | sed "s/^/[$host] /"
    case $rc in
        0) [ -s "$dir/.$name.memscope.part" ] || { failed "empty snapshot: $(tail -1 "$log")"; return 1; } ;;
        124|137) failed "no answer within $((TMO + 60)) s (--timeout $TMO)"; return 1 ;;
        255) m=$(tail -1 "$log"); case "$m" in ssh:*) ;; *) m="ssh: $m" ;; esac; failed "$m"; return 1 ;;
        *) failed "$(tail -1 "$log")"; return 1 ;;
    esac
    [ -e "$dir/$name.memscope" ] && mv -f "$dir/$name.memscope" "$dir/$name.memscope.old"
    mv "$dir/.$name.memscope.part" "$dir/$name.memscope" || { failed "cannot write $dir/$name.memscope"; return 1; }
    echo ok > "$dir/status"
    say "ok: $dir/$name.memscope"
}

collect "$H1" & p1=$!
[ -z "$H2" ] || { collect "$H2" & p2=$!; }
wait "$p1"; s1=$?; s2=0
[ -z "$H2" ] || { wait "$p2"; s2=$?; }
status=0; [ $s1 -eq 0 ] && [ $s2 -eq 0 ] || status=1
n=1; [ -z "$H2" ] || n=2
echo "memscope-remote: $(( (s1 == 0) + (n == 2 && s2 == 0) )) of $n hosts succeeded"

if [ "$DIFF" -eq 1 ]; then
    if [ $s1 -eq 0 ] && [ $s2 -eq 0 ]; then
        # two hosts collected at once: compared as named, never by time
        set -- --as-given; [ -n "$LANG_OPT" ] && set -- --as-given --lang "$LANG_OPT"
        "$MSDIFF" "$OUT/$(hostdir "$H1")" "$OUT/$(hostdir "$H2")" "$@" || status=1
    else
        echo "memscope-remote: $H1 or $H2 failed: no diff" >&2; status=1
    fi
fi
exit $status
