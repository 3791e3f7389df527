#!/bin/sh
# Languages of msconv and msdiff (issue 12, polish). Messages (help, errors,
# --info, "wrote" lines) follow --lang, else LC_ALL / LC_MESSAGES / LANG: a
# zh locale gives Chinese, anything else (C, unset: the other suites)
# English; reports stay Chinese by default. The Chinese reports of a real
# trace (threads, leaks, a label, marks) and of a snapshot hold no English
# word beyond the trace's own names and a short list of technical terms
# (units, /proc field names, tool names).
. "${MS_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib.sh"
T=lang
unset LC_ALL LC_MESSAGES
ZH=zh_CN.UTF-8

# ---- messages: the same error, --help and an --info field in both ---------------
err() { "$@" 2>&1 >/dev/null | head -1; }
check $T/error-en "msconv: $TMP/none.memscope: No such file or directory" \
    "$(LANG=C err "$MSCONV" "$TMP/none.memscope" --info)"
check $T/error-zh "msconv: $TMP/none.memscope: 没有那个文件或目录" \
    "$(LANG=$ZH err "$MSCONV" "$TMP/none.memscope" --info)"
check $T/error-zh-lang-en "msconv: $TMP/none.memscope: No such file or directory" \
    "$(LANG=$ZH err "$MSCONV" "$TMP/none.memscope" --info --lang en)"
check $T/error-lc-all-wins "msconv: $TMP/none.memscope: No such file or directory" \
    "$(LC_ALL=C LANG=$ZH err "$MSCONV" "$TMP/none.memscope" --info)"
check $T/error-lc-messages "msconv: $TMP/none.memscope: 没有那个文件或目录" \
    "$(LANG=C LC_MESSAGES=$ZH err "$MSCONV" "$TMP/none.memscope" --info)"
printf 'not a trace' > "$TMP/junk.memscope"
check $T/reason-zh "msconv: $TMP/junk.memscope: 不是 .memscope 文件（文件头标识不符）" \
    "$(LANG=$ZH err "$MSCONV" "$TMP/junk.memscope" --text)"
check $T/usage-en "msconv: usage: --metric must be peak, leaked, allocated, count or temporary, not 'x' (see msconv --help)" \
    "$(LANG=C err "$MSCONV" "$MS_ROOT/tests/golden/v1.3-heap.memscope" --text --metric x)"
check $T/usage-zh "msconv: 用法错误：--metric 只能是 peak、leaked、allocated、count 或 temporary，而不是 'x'（见 msconv --help）" \
    "$(LANG=$ZH err "$MSCONV" "$MS_ROOT/tests/golden/v1.3-heap.memscope" --text --metric x)"
check $T/help-en "usage: msconv FILE MODE [options]     (FILE may also follow the options)" \
    "$(LANG=C "$MSCONV" --help | head -1)"
check $T/help-zh "用法：msconv FILE MODE [选项]     （FILE 也可以放在选项之后）" \
    "$(LANG=$ZH "$MSCONV" --help | head -1)"
check $T/help-zh-lang-en "usage: msconv FILE MODE [options]     (FILE may also follow the options)" \
    "$(LANG=$ZH "$MSCONV" --help --lang en | head -1)"
check $T/msdiff-help-en "usage: msdiff A B [--md [OUT]] [--json [OUT]] [options]" "$(LANG=C "$MSDIFF" --help | head -1)"
check $T/msdiff-help-zh "用法：msdiff A B [--md [OUT]] [--json [OUT]] [选项]" "$(LANG=$ZH "$MSDIFF" --help | head -1)"
check $T/msdiff-error-zh "msdiff: $TMP/none: 没有那个文件或目录" "$(LANG=$ZH err "$MSDIFF" "$TMP/none" "$TMP/none")"
check $T/msdiff-error-en "msdiff: $TMP/none: No such file or directory" "$(LANG=$ZH err "$MSDIFF" "$TMP/none" "$TMP/none" --lang en)"

# ---- a real trace: threads, leaks with a label, phases ------------------------
P=$MS_BUILD/progs
[ -x "$P/leaks" ] && [ -x "$P/threads" ] || { fail $T/progs "tests/progs not built"; exit 0; }
(cd "$TMP" && "$MSREC" run -q -o l.memscope -- "$P/leaks" > /dev/null 2>&1
             "$MSREC" run -q -o t.memscope -- "$P/threads" > /dev/null 2>&1)
L=$TMP/l.memscope; TT=$TMP/t.memscope
check $T/info-field-en "integrity:    complete" "$(LANG=C "$MSCONV" "$L" --info | grep '^integrity:')"
check $T/info-field-zh "文件完整性：  完整" "$(LANG=$ZH "$MSCONV" "$L" --info | grep '^文件完整性')"
check $T/info-field-zh-lang "文件完整性：  完整" "$(LANG=C "$MSCONV" "$L" --info --lang zh | grep '^文件完整性')"
check $T/info-mode-zh 1 "$(LANG=$ZH "$MSCONV" "$L" --info | grep -c '^记录器：.*模式：完整记录')"
(cd "$TMP" && LANG=C "$MSDIFF" "$TT" "$L" --md d.md --json d.json 2> wrote.en; LANG=$ZH "$MSDIFF" "$TT" "$L" --md d.md --json d.json 2> wrote.zh)
check $T/wrote-en "msdiff: wrote d.md" "$(head -1 "$TMP/wrote.en")"
check $T/wrote-zh "msdiff: 已写出 d.md" "$(head -1 "$TMP/wrote.zh")"
# reports keep their language whatever the locale
check $T/report-default-zh 1 "$(LANG=C "$MSCONV" "$L" --leaks | grep -c '^泄漏：')"

# ---- the unit rule and the Chinese reports' words ---------------------------------
for f in "$L" "$TT"; do
    b=${f%.memscope}
    "$MSCONV" "$f" --dump > "$b.dump"
    "$MSCONV" "$f" --text --sort all > "$b.text"
    "$MSCONV" "$f" --text --granularity lines --metric allocated > "$b.lines"
    "$MSCONV" "$f" --leaks > "$b.leaks"
    "$MSCONV" "$f" --info --lang zh > "$b.info"
done
check $T/units-text 1 "$(grep -c '^单位：KiB = 1024 字节，MiB = 1024 KiB，GiB = 1024 MiB$' "$TMP/l.text")"
check $T/units-leaks 1 "$(grep -c '^单位：KiB = 1024 字节' "$TMP/l.leaks")"
check $T/units-md 1 "$(grep -c '^> 单位：KiB = 1024 字节' "$TMP/d.md")"
check $T/units-en 1 "$("$MSCONV" "$L" --text --lang en | grep -c '^units: KiB = 1024 bytes, MiB = 1024 KiB, GiB = 1024 MiB$')"
# 3,000 + 2,000 + 1,000 leaked bytes: 5.9 KiB, never "KB" or "MB"
check $T/leaked-kib 1 "$(grep -c '^泄漏：5.9 KiB，3 个内存块，来自 3 个分配点' "$TMP/l.leaks")"
check $T/no-kb-mb 0 "$(cat "$TMP"/l.text "$TMP"/l.leaks "$TMP"/t.text "$TMP"/d.md | grep -c '[0-9] *[KMG]B\b')"
check $T/zh-colons 0 "$(cat "$TMP"/l.text "$TMP"/l.leaks "$TMP"/l.info | grep -c '^[^ -~]*[^ -~]: ')"
cat "$TMP/l.dump" "$TMP/t.dump" > "$TMP/all.dump"
# technical terms a Chinese report may carry as they are
TERMS="B KiB MiB GiB pid PID RSS cum flat sum memscope UTC heaptrack pprof inline malloc realloc calloc free
       fp libunwind exit $(echo "$TMP" | tr '/._-' '    ') l t"   # and the input files' own paths
if python3 "$MS_ROOT/tests/cli/zh_words.py" "$TMP/all.dump" $TERMS -- "$TMP"/l.text "$TMP"/l.lines "$TMP"/l.leaks \
        "$TMP"/l.info "$TMP"/t.text "$TMP"/t.lines "$TMP"/t.leaks "$TMP"/t.info "$TMP"/d.md > "$TMP/words" 2>&1
then pass $T/zh-heap-reports-no-english
else fail $T/zh-heap-reports-no-english "$(head -5 "$TMP/words" | tr '\t\n' ' |')"; fi

# ---- a snapshot pair: --text, --pid and msdiff --md in Chinese ------------------
S1=$TMP/s1.memscope; S2=$TMP/s2.memscope
"$MSREC" snapshot "$S1" --max-processes 5 > /dev/null 2>&1 && "$MSREC" snapshot "$S2" --max-processes 5 > /dev/null 2>&1 \
    || { fail $T/snapshot "msrec snapshot failed"; exit 0; }
"$MSCONV" "$S2" --text > "$TMP/s.text"
SP=$(sed -n '/^ *PID /{n;p;q}' "$TMP/s.text" | awk '{print $1}')
"$MSCONV" "$S2" --pid "$SP" > "$TMP/s.pid" 2>&1
check $T/snapshot-pid-zh 1 "$(grep -c "^进程信息（PID：$SP）$" "$TMP/s.pid")"
(cd "$TMP" && "$MSDIFF" "$S1" "$S2" --md sd.md --json sd.json 2> /dev/null)
"$MSCONV" "$S1" --dump > "$TMP/s.dump"; "$MSCONV" "$S2" --dump >> "$TMP/s.dump"
check $T/snapshot-units 1 "$(grep -c '^单位：KiB = 1024 字节' "$TMP/s.text")"
check $T/snapshot-colons 0 "$(grep -c '^[^ -~]*[^ -~]: ' "$TMP/s.text" "$TMP/sd.md" | awk -F: '{n += $2} END {print n}')"
# /proc field names, tools and options stay as the kernel and the CLI spell them
PROC="B KiB MiB GiB PID pid RSS PSS USS Swap UTC uid JSON CPU proc meminfo MemTotal MemAvailable MemFree Shmem
      SwapTotal SwapFree SwapPss Pss_Anon Pss_Shmem RssShmem AnonPages Slab SUnreclaim SReclaimable Cached
      PageTables KernelStack Vmalloc VmallocUsed Percpu HugeTLB tmpfs dev shm SysV POSIX lowmem boot_id
      msrec snapshot lib memory max processes memscope p r w x s"
if python3 "$MS_ROOT/tests/cli/zh_words.py" "$TMP/s.dump" $PROC $(echo "$TMP" | tr '/._-' '    ') s1 s2 \
        -- "$TMP/s.text" "$TMP/s.pid" "$TMP/sd.md" > "$TMP/swords" 2>&1
then pass $T/zh-snapshot-reports-no-english
else fail $T/zh-snapshot-reports-no-english "$(head -5 "$TMP/swords" | tr '\t\n' ' |')"; fi
