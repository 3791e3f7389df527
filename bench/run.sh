#!/bin/sh
# `make bench`: runs every bench/*.sh side by side in one run and prints
# their tables. Each script prints its own table (memscope vs the peers).
cd "$(dirname "$0")/.." || exit 2
status=0
for b in bench/*.sh; do
    [ "$b" = bench/run.sh ] && continue
    echo "=== $b"
    sh "$b" || status=1
done
exit $status
