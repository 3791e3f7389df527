#!/bin/sh
# `make bench`: runs every bench/*.sh side by side in one run and prints
# their tables. Each script prints its own table (memscope vs the peers).
# Order matters when BENCH_RESULTS=FILE is set for all of them: heap.sh
# writes its tables into FILE (all of FILE when it has no heap.sh marker
# comments), convert.sh then replaces only its "### Converters" section;
# snapshot.sh does not write FILE. So heap.sh runs first, convert.sh after
# it, and any other script after those.
cd "$(dirname "$0")/.." || exit 2
status=0
seen=" bench/run.sh "
for b in bench/heap.sh bench/convert.sh bench/*.sh; do
    case $seen in *" $b "*) continue ;; esac
    seen="$seen$b "
    [ -f "$b" ] || continue
    echo "=== $b"
    sh "$b" || status=1
done
exit $status
