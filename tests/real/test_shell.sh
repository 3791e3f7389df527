#!/bin/sh
# Real programs: bash's fork/exec loop under `msrec run --follow-children`
#   bash -c 'for i in $(seq 50); do /bin/true; x=$(echo $i); done; echo $x'
# exit 0, the same stdout, one complete trace each for bash, seq and the 50
# /bin/true (the $(echo) subshells fork without exec and stay unrecorded,
# the default for forks). Then a forked child that execs again (same pid):
#   sh -c 'sh -c "exec /bin/true"; exec /bin/true'
# 4 images, 4 files: the parent's exec1 and the child's exec1 must not
# collide (the child's must carry its pid), nothing refused on stderr.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/common.sh"
T=real/shell
need $T bash seq

n=$T/bash-loop
run_pair $n "$TMP/loop" --follow-children -- \
    bash -c 'for i in $(seq 50); do /bin/true; x=$(echo $i); done; echo $x'
check $n/plain-run-ok 0 "$PRC"
check_pair $n
check $n/stderr-empty "" "$(head -c 300 "$TMP/$(tag $n).rec.err")"
check $n/traces 52 "$(ls "$TMP/loop" | grep -c 'memscope$')"
check_all_complete $n/all-traces-complete "$TMP/loop" 52

n=$T/fork-exec-exec
run_pair $n "$TMP/fee" --follow-children -- sh -c 'sh -c "exec /bin/true"; exec /bin/true'
check_pair $n
check $n/stderr-empty "" "$(head -c 300 "$TMP/$(tag $n).rec.err")"
check $n/traces 4 "$(ls "$TMP/fee" | grep -c 'memscope$')"
check_all_complete $n/all-traces-complete "$TMP/fee" 4
