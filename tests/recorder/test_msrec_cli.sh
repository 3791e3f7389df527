#!/bin/sh
# msrec run as a command wrapper, checked with a stand-in library (built
# here, found through $MEMSCOPE_LIB) that reports the environment it sees:
# LD_PRELOAD prepended, MEMSCOPE_* set, %p expanded to the command's pid,
# MEMSCOPE_ACTIVE_PID = that pid; stdin/stdout pass through; exit status and
# death by signal (128+N) are the command's; SIGTERM is forwarded; errors
# are one line (command not found -> 127, bad option -> 2).
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/common.sh"
T=msrec
require "$MSREC"
unset MEMSCOPE_QUIET
cat > "$TMP/fake.c" <<'C'
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
static const char *e(const char *k) { const char *v = getenv(k); return v ? v : "-"; }
__attribute__((constructor)) static void init(void)
{
    FILE *f = fopen(getenv("FAKE_LOG"), "a");
    if (!f) return;
    fprintf(f, "pid=%d root=%s auto=%s path=%s unwind=%s export=%s follow=%s quiet=%s preload=%s\n",
            (int)getpid(), e("MEMSCOPE_ACTIVE_PID"), e("MEMSCOPE_AUTO_EXPORT"), e("MEMSCOPE_EXPORT_PATH"),
            e("MEMSCOPE_UNWIND"), e("MEMSCOPE_EXPORT_FORMAT"), e("MEMSCOPE_FOLLOW_EXEC"),
            e("MEMSCOPE_QUIET"), e("LD_PRELOAD"));
    fclose(f);
}
C
if ! cc -shared -fPIC -o "$TMP/libfake.so" "$TMP/fake.c"; then fail msrec/setup "cannot build stand-in library"; exit 0; fi
export MEMSCOPE_LIB="$TMP/libfake.so" FAKE_LOG="$TMP/fake.log"
field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" "$FAKE_LOG" | head -1; }

"$MSREC" run --help > "$TMP/help" 2>&1
check msrec/help-status 0 "$?"
check msrec/help-text 1 "$(grep -c '^usage: msrec run' "$TMP/help")"

rm -f "$FAKE_LOG"
(cd "$TMP" && "$MSREC" run -q -o 'out.%p.memscope' --unwind fp --export both -- sh -c 'echo $$ > pid; exit 3')
check msrec/exit-status-3 3 "$?"
pid=$(cat "$TMP/pid")
check msrec/root-pid "$pid" "$(field root)"
check msrec/auto-export 1 "$(field auto)"
check msrec/path-absolute-%p-expanded "$TMP/out.$pid.memscope" "$(field path)"
check msrec/unwind fp "$(field unwind)"
check msrec/export both "$(field export)"
check msrec/quiet 1 "$(field quiet)"
check msrec/no-follow - "$(field follow)"
check msrec/preload "$TMP/libfake.so" "$(field preload)"

rm -f "$FAKE_LOG"
(cd "$TMP" && LD_PRELOAD=libc.so.6 "$MSREC" run -q -- sh -c 'echo $$ > pid; true')
pid=$(cat "$TMP/pid")
check msrec/preload-prepended "$TMP/libfake.so:libc.so.6" "$(grep "^pid=$pid " "$FAKE_LOG" | sed -n 's/.* preload=\([^ ]*\).*/\1/p')"
check msrec/default-path "$TMP/sh.$pid.memscope" "$(grep "^pid=$pid " "$FAKE_LOG" | sed -n 's/.* path=\([^ ]*\).*/\1/p')"

rm -f "$FAKE_LOG"
"$MSREC" run -q --follow-children -o "$TMP/f.%p.ms" -- sh -c 'true; true' 
check msrec/follow-flag 1 "$(field follow)"
check msrec/follow-path-keeps-%p "$TMP/f.%p.ms" "$(field path)"

check msrec/stdin-stdout-pass "hello" "$(echo hello | "$MSREC" run -q -- cat)"
"$MSREC" run -q -- sh -c 'echo err >&2' 2> "$TMP/err"
check msrec/stderr-pass err "$(cat "$TMP/err")"

"$MSREC" run -q -- sh -c 'kill -SEGV $$'
check msrec/signal-status 139 "$?"

"$MSREC" run -q -- sh -c 'trap "exit 42" TERM; sleep 5 & wait' &
mp=$!; sleep 0.5; kill -TERM $mp; wait $mp
check msrec/sigterm-forwarded 42 "$?"

"$MSREC" run -q -- no-such-command-xyz 2> "$TMP/err"
check msrec/not-found-status 127 "$?"
check msrec/not-found-message "msrec: no-such-command-xyz: command not found" "$(cat "$TMP/err")"

"$MSREC" run --unwind bogus -- true 2> "$TMP/err"
check msrec/bad-unwind-status 2 "$?"
check msrec/bad-unwind-one-line 1 "$(grep -c '^msrec: ' "$TMP/err")"
"$MSREC" run 2> "$TMP/err"
check msrec/no-command-status 2 "$?"
"$MSREC" run --bogus -- true 2> "$TMP/err"
check msrec/bad-option-status 2 "$?"

MEMSCOPE_LIB=/nonexistent/lib.so "$MSREC" run -- true 2> "$TMP/err"
check msrec/missing-lib-status 2 "$?"
rm -rf "$TMP"
