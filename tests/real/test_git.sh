#!/bin/sh
# Real programs: git under `msrec run --follow-children`. One shell runs
# init, add, commit, a second commit, gc --aggressive --prune=now and fsck in
# a fresh repository; git starts many children (git-core helpers,
# pack-objects, repack, prune, worktree, rerere...), each exec'd image
# records into its own file. Checks: exit status 0 and the same stdout (log,
# object ids, count-objects) as without the recorder, the same repository
# contents, and every trace complete (a crash in an exit handler, e.g. the
# old SIGSEGV in "git worktree", leaves a trace without END).
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/common.sh"
T=real/git
need $T git

export GIT_AUTHOR_NAME=memscope GIT_AUTHOR_EMAIL=t@example.invalid \
    GIT_COMMITTER_NAME=memscope GIT_COMMITTER_EMAIL=t@example.invalid \
    GIT_AUTHOR_DATE='2026-01-01T00:00:00Z' GIT_COMMITTER_DATE='2026-01-01T00:00:00Z' \
    GIT_CONFIG_NOSYSTEM=1 HOME=$TMP GIT_CONFIG_GLOBAL=/dev/null
script='set -e
git init -q -b main .
for i in $(seq 1 40); do seq $i 3 $((i * 200)) > f$i.txt; done
git add .
git commit -q -m first
for i in $(seq 1 40 | sed -n "1~3p"); do seq 5 $i 4000 >> f$i.txt; done
git rm -q -f f8.txt
git add .
git commit -q -m second
git gc -q --aggressive --prune=now
git fsck --no-progress --strict
git count-objects -v | grep -v size
git log --format="%H %s" --stat
git rev-parse HEAD^{tree}'

mkdir -p "$TMP/plain" "$TMP/rec"
(cd "$TMP/plain" && sh -c "$script") > "$TMP/real_git_gc.plain.out" 2> "$TMP/real_git_gc.plain.err" < /dev/null
PRC=$?
mkdir -p "$TMP/tr"
(cd "$TMP/rec" && "$MSREC" run -q --follow-children -o "$TMP/tr/git.memscope" -- sh -c "$script") \
    > "$TMP/real_git_gc.rec.out" 2> "$TMP/real_git_gc.rec.err" < /dev/null
RC=$?
check $T/plain-run-ok 0 "$PRC"
check_pair $T/gc
[ "$PRC" = 0 ] || echo "plain run: $(head -c 300 "$TMP/real_git_gc.plain.err")"
if [ -d "$TMP/rec/.git" ] && git -C "$TMP/rec" rev-parse HEAD > "$TMP/h.rec" 2>/dev/null &&
    git -C "$TMP/plain" rev-parse HEAD > "$TMP/h.plain" 2>/dev/null && cmp -s "$TMP/h.rec" "$TMP/h.plain" &&
    diff -r -x .git "$TMP/plain" "$TMP/rec" > /dev/null; then
    pass $T/same-repository
else
    fail $T/same-repository "HEAD or work tree differ (plain $(cat "$TMP/h.plain" 2>/dev/null), recorded $(cat "$TMP/h.rec" 2>/dev/null))"
fi
# sh + git init/add/commit/rm/gc (+ its helpers)/fsck/count-objects/log/rev-parse
check_all_complete $T/all-traces-complete "$TMP/tr" 12
