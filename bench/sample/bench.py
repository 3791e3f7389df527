#!/usr/bin/env python3
"""Sampling benchmark, driven by bench/sample.sh (which builds the programs).

Cost: runs each workload side by side, interleaved, REPEAT times and keeps
the best wall time and the best CPU time (user + sys of all threads, from
wait4): uninstrumented, the passthrough floor (passthrough.so: malloc/free
forwarded with a TLS byte counter), memscope sampled at 512 KiB
(LD_PRELOAD + MEMSCOPE_SAMPLE_RATE, no symbolization: the traced process
only), and the allocator profilers on the same workload: jemalloc plain and
with its sampling profiler (MALLOC_CONF=prof:true,lg_prof_sample:19: 512
KiB, dump at exit), tcmalloc plain and with its heap profiler (HEAPPROFILE=,
which tracks every allocation with a backtrace: one run, pairs at 1/20 of
the work, at most BENCH_TC_TIMEOUT s, default 60). Workloads: bench/heap/pairs (10 M
malloc/free pairs, 8-256 B), sqlite3 (200,000 inserts + index + queries),
python3 (dicts, lists and strings; PYTHONHASHSEED=0). A run includes the
recorder's start and its exit work (last epoch, maps, leak scan of the
heap: ~5-8 ms on sqlite3), which weighs most on short runs.

Accuracy: bench/sample/sites (known per-site totals, 16 B - 64 KiB, MIB MiB
allocated) under `msrec run --sample 512K` with SEEDS seeds, jemalloc's
profiler (SEEDS runs; estimates per stack as jeprof makes them: scaled by
1/(1-exp(-avg/R)), avg = the stack's mean sampled size) and tcmalloc's heap
profiler (exact); then once more at MIB_BIG MiB (memscope and jemalloc, one
run each), where the per-site standard deviation allows the 5 % target. For
each site: the truth, the standard deviation any
unbiased Poisson byte sampler has there (sqrt(sum n^2 (1-p)/p), spec §8.8),
and every run's error.

usage: bench.py BIN_DIR BUILD_DIR   (env: see bench/sample.sh)
"""
import json
import math
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "recorder"))
import msjson  # noqa: E402  (the reader of both --json layouts)

BIN, BUILD = sys.argv[1], sys.argv[2]
REPEAT = int(os.environ.get("BENCH_REPEAT_SAMPLE", os.environ.get("BENCH_REPEAT", "7")))
MIB = float(os.environ.get("BENCH_SAMPLE_MIB", "1024"))
MIB_BIG = float(os.environ.get("BENCH_SAMPLE_MIB_BIG", "16384"))
SEEDS = int(os.environ.get("BENCH_SAMPLE_SEEDS", "3"))
PAIRS = int(float(os.environ.get("BENCH_SCALE", "1")) * 10000000)
RATE = 524288
LIB = os.path.join(BUILD, "lib", "libmemscope.so")
MSREC = os.path.join(BUILD, "bin", "msrec")
MSCONV = os.path.join(BUILD, "bin", "msconv")
JE = "/usr/lib/x86_64-linux-gnu/libjemalloc.so.2"
TC = "/usr/lib/x86_64-linux-gnu/libtcmalloc.so.4"
TMP = tempfile.mkdtemp(prefix="msbench-sample.")
os.environ["PYTHONHASHSEED"] = "0"   # python3's dict layouts and GC work vary ~10 % with the hash seed
out_md = []


def emit(line=""):
    print(line)
    out_md.append(line)


def run(cmd, env=None, stdin=None, cwd=None):
    """(wall s, cpu s, rc) of one run"""
    e = dict(os.environ)
    e.update(env or {})
    t0 = time.time()
    with open(stdin or os.devnull, "rb") as fin:
        p = subprocess.Popen(cmd, env=e, stdin=fin, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL, cwd=cwd or TMP)
        _, st, ru = os.wait4(p.pid, 0)
    return time.time() - t0, ru.ru_utime + ru.ru_stime, os.waitstatus_to_exitcode(st)


def ms_env(tag):
    return {"LD_PRELOAD": LIB, "MEMSCOPE_AUTO_EXPORT": "1", "MEMSCOPE_QUIET": "1",
            "MEMSCOPE_SAMPLE_RATE": str(RATE),
            "MEMSCOPE_EXPORT_PATH": os.path.join(TMP, "cost-%s.%%p.memscope" % tag)}


def tools():
    t = [("uninstrumented", {}), ("passthrough floor", {"LD_PRELOAD": os.path.join(BIN, "passthrough.so")}),
         ("memscope --sample 512K", None)]
    if os.path.exists(JE):
        t += [("jemalloc", {"LD_PRELOAD": JE}),
              ("jemalloc prof 512K", {"LD_PRELOAD": JE, "MALLOC_CONF":
                                      "prof:true,prof_accum:true,lg_prof_sample:19,prof_final:true,prof_prefix:" +
                                      os.path.join(TMP, "jecost")})]
    if os.path.exists(TC):
        t += [("tcmalloc", {"LD_PRELOAD": TC})]
    return t


def tc_heapprofile(name, cmd, stdin, base, tcbest):
    """tcmalloc's heap profiler records every allocation with a backtrace
    (~20 us each here): one run, pairs at 1/20 of the work (the ratio is
    extrapolated x20 and marked ~), at most TC_TIMEOUT s."""
    env = {"LD_PRELOAD": TC, "HEAPPROFILE": os.path.join(TMP, "tccost")}
    scale = 1
    if name.startswith("pairs"):
        scale = 20
        cmd = cmd[:1] + [str(int(cmd[1]) // scale)] + cmd[2:]
    e = dict(os.environ, **env)
    t0 = time.time()
    with open(stdin or os.devnull, "rb") as fin:
        p = subprocess.Popen(cmd, env=e, stdin=fin, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=TMP)
        try:
            p.wait(timeout=TC_TIMEOUT)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
            cleanup_outputs()
            emit("| %s | tcmalloc HEAPPROFILE | > %d | > %.0fx | - | - | stopped after %d s (1 run%s) |" % (
                name, TC_TIMEOUT, TC_TIMEOUT * scale / base[0], TC_TIMEOUT, ", 1/20 of the work" if scale > 1 else ""))
            return
    w = (time.time() - t0) * scale
    cleanup_outputs()
    emit("| %s | tcmalloc HEAPPROFILE | %s%.3f | %s%.1fx | - | - | 1 run%s; vs tcmalloc %.1fx; tracks every allocation |" % (
        name, "~" if scale > 1 else "", w, "~" if scale > 1 else "", w / base[0],
        ", 1/20 of the work, x20" if scale > 1 else "", w / tcbest[0]))


TC_TIMEOUT = int(os.environ.get("BENCH_TC_TIMEOUT", "60"))


def cleanup_outputs():
    for f in os.listdir(TMP):
        if f.startswith(("cost-", "jecost", "tccost")):
            os.unlink(os.path.join(TMP, f))


def cost(name, cmd, stdin=None):
    best = {}
    fails = set()
    for r in range(REPEAT):
        for tool, env in tools():
            w, c, rc = run(cmd, env if env is not None else ms_env(name), stdin)
            cleanup_outputs()
            if rc != 0:
                fails.add(tool)
            b = best.setdefault(tool, [w, c])
            b[0], b[1] = min(b[0], w), min(b[1], c)
    base = best["uninstrumented"]
    rows = {}
    for tool, _ in tools():
        w, c = best[tool]
        rows[tool] = (w / base[0], c / base[1])
        note = "FAILED (exit status)" if tool in fails else ""
        if tool == "jemalloc prof 512K":
            jw, jc = best["jemalloc"]
            note = "vs jemalloc: wall %.2fx, cpu %.2fx" % (w / jw, c / jc)
        elif tool == "memscope --sample 512K":
            fw, fc = best["passthrough floor"]
            note = "vs passthrough floor: wall %.2fx, cpu %.2fx" % (w / fw, c / fc)
        emit("| %s | %s | %.3f | %.2fx | %.3f | %.2fx | %s |" % (name, tool, w, w / base[0], c, c / base[1], note))
    if os.path.exists(TC):
        tc_heapprofile(name, cmd, stdin, base, best["tcmalloc"])
    return best


# ---------------------------------------------------------------- cost --
def workloads():
    sql = os.path.join(TMP, "big.sql")
    with open(sql, "w") as f:
        f.write("create table t(id integer primary key, name text, v real);\nbegin;\n")
        for i in range(200000):
            f.write("insert into t(name, v) values('name%d', %d.5);\n" % (i, (i * 7) % 1000))
        f.write("commit;\ncreate index ti on t(name);\n"
                "select count(*), sum(v), max(name) from t where v > 100;\n"
                "select name from t order by v desc, id limit 5;\n")
    py = os.path.join(TMP, "work.py")
    with open(py, "w") as f:
        f.write("d = {}\nfor i in range(300000):\n    d['k%d' % i] = [i, str(i) * (i % 7), (i, i + 1)]\n"
                "s = sum(len(v[1]) for v in d.values())\nl = sorted(d.items(), key=lambda kv: kv[1][0] % 1000)\n"
                "print(len(d), s, len(l))\n")
    w = [("pairs 10M", [os.path.join(BIN, "pairs"), str(PAIRS), "1"], None)]
    if os.path.exists("/usr/bin/sqlite3"):
        w.append(("sqlite3", ["/usr/bin/sqlite3", "-batch", ":memory:"], sql))
    if os.path.exists("/usr/bin/python3"):
        w.append(("python3", ["/usr/bin/python3", py], None))
    return w


# ------------------------------------------------------------ accuracy --
def truth(mib):
    t = subprocess.run([os.path.join(BIN, "sites"), str(mib), str(RATE)], capture_output=True, text=True).stdout
    sites = {}
    for line in t.splitlines():
        w = line.split()
        if w[0] == "SITE":
            sites[w[1]] = (int(w[2]), int(w[3]), float(w[4]))
    return sites


def stack_names(js, s):
    """function names of a site, innermost first (either --json version)"""
    return [fr if isinstance(fr, str) else fr.get("function", "") for fr in msjson.stack(js, s)]


def memscope_estimates(seed, mib):
    f = os.path.join(TMP, "acc-%d.memscope" % seed)
    subprocess.run([MSREC, "run", "-q", "--force", "--sample", str(RATE), "-o", f, "--", os.path.join(BIN, "sites"),
                    str(mib)], env=dict(os.environ, MEMSCOPE_SAMPLE_SEED=str(seed)), stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    js = json.loads(subprocess.run([MSCONV, f, "--json", "--top", "0"], capture_output=True, text=True).stdout)
    est = {}
    for s in js["sites"]:
        names = stack_names(js, s)
        n = next((x for x in names if x.startswith("site_")), None)
        if n:
            est[n] = est.get(n, 0) + s["allocated_bytes"]
    os.unlink(f)
    return est, js["summary"]["events"]


def symbols():
    """sorted (address, name) of the sites binary (built -no-pie)"""
    out = subprocess.run(["nm", "-n", os.path.join(BIN, "sites")], capture_output=True, text=True).stdout
    syms = []
    for line in out.splitlines():
        w = line.split()
        if len(w) == 3 and w[1] in "tT":
            syms.append((int(w[0], 16), w[2]))
    return syms


def site_of(addrs, syms):
    for a in addrs:
        a -= 1                      # a return address: the call is before it
        name = None
        for s, n in syms:
            if s > a:
                break
            name = n
        if name and name.startswith("site_"):
            return name
    return None


def parse_profile(path, syms, jemalloc):
    """site -> estimated bytes allocated. jemalloc: heap_v2 with raw sampled
    sums, scaled per stack as jeprof does; tcmalloc: exact sums."""
    est = {}
    period = 1
    stack = None
    for line in open(path):
        line = line.strip()
        if line.startswith("heap_v2/"):
            period = int(line.split("/")[1])
        elif jemalloc and line.startswith("@"):
            stack = [int(x, 16) for x in line.split()[1:]]
        elif jemalloc and line.startswith("t*:") and stack is not None:
            # t*: curobjs: curbytes [accumobjs: accumbytes]
            acc = line.split("[")[1].rstrip("]").split(":")
            n, b = int(acc[0]), int(acc[1])
            if n:
                ratio = (b / n) / period
                b = b / -math.expm1(-ratio)
            s = site_of(stack, syms)
            if s:
                est[s] = est.get(s, 0) + b
            stack = None
        elif not jemalloc and "@" in line and line[0].isdigit():
            left, _, right = line.partition("@")
            acc = left.split("[")[1].rstrip("] ").split(":")
            s = site_of([int(x, 16) for x in right.split()], syms)
            if s:
                est[s] = est.get(s, 0) + int(acc[1])
        elif line.startswith("MAPPED_LIBRARIES"):
            break
    return est


def jemalloc_estimates(k, mib):
    pre = os.path.join(TMP, "jeacc%d" % k)
    subprocess.run([os.path.join(BIN, "sites"), str(mib)], stdout=subprocess.DEVNULL, env=dict(
        os.environ, LD_PRELOAD=JE,
        MALLOC_CONF="prof:true,prof_accum:true,lg_prof_sample:19,prof_final:true,prof_prefix:" + pre))
    f = [x for x in os.listdir(TMP) if x.startswith("jeacc%d." % k) and x.endswith(".heap")]
    if not f:
        return None
    est = parse_profile(os.path.join(TMP, f[-1]), symbols(), True)
    for x in f:
        os.unlink(os.path.join(TMP, x))
    return est


def tcmalloc_estimates(mib):
    pre = os.path.join(TMP, "tcacc")
    subprocess.run([os.path.join(BIN, "sites"), str(mib)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   env=dict(os.environ, LD_PRELOAD=TC, HEAPPROFILE=pre))
    f = sorted(x for x in os.listdir(TMP) if x.startswith("tcacc") and x.endswith(".heap"))
    if not f:
        return None
    est = parse_profile(os.path.join(TMP, f[-1]), symbols(), False)
    for x in f:
        os.unlink(os.path.join(TMP, x))
    return est


def accuracy(mib, seeds, with_tc):
    tr = truth(mib)
    total = sum(b for b, _, _ in tr.values())
    ms = [memscope_estimates(s + 1, mib) for s in range(seeds)]
    je = [jemalloc_estimates(k, mib) for k in range(seeds)] if os.path.exists(JE) else []
    je = [x for x in je if x]
    tc = tcmalloc_estimates(mib) if with_tc and os.path.exists(TC) else None
    emit("")
    emit("Accuracy: bench/sample/sites, %.0f MiB allocated (%s bytes), rate %d (512 KiB); error = estimate / truth - 1 "
         "of each run's allocated bytes per site; SD = the standard deviation of an unbiased Poisson byte sampler at "
         "that site (spec §8.8); memscope: %d seeds (%s sampled events), jemalloc prof: %d runs (jeprof's per-stack "
         "scaling)%s." % (mib, "{:,}".format(total), RATE, len(ms),
                                                              "/".join(str(e) for _, e in ms), len(je),
                                                              ", tcmalloc HEAPPROFILE: exact tracking" if tc else ""))
    emit("")
    emit("| site | share | truth bytes | SD | memscope errors | jemalloc prof errors |%s" % (" tcmalloc errors |" if tc else ""))
    emit("|---|---:|---:|---:|---|---|%s" % ("---|" if tc else ""))
    within = [0, 0]
    je_within = [0, 0]
    for name in sorted(tr, key=lambda n: -tr[n][0]):
        b, n, var = tr[name]
        sd = math.sqrt(var) / b
        errs = [est.get(name, 0) / b - 1 for est, _ in ms]
        jerrs = [est.get(name, 0) / b - 1 for est in je]
        if b >= 0.049 * total:             # the sites of 5 % (bench/sample/sites.c)
            within[0] += sum(abs(e) <= 0.05 for e in errs)
            within[1] += len(errs)
            je_within[0] += sum(abs(e) <= 0.05 for e in jerrs)
            je_within[1] += len(jerrs)
        fmt = lambda es: " ".join("%+.1f%%" % (100 * e) for e in es) or "-"
        emit("| %s | %.1f%% | %s | %.1f%% | %s | %s |%s" % (
            name, 100.0 * b / total, "{:,}".format(b), 100 * sd, fmt(errs), fmt(jerrs),
            (" %s |" % fmt([tc.get(name, 0) / b - 1])) if tc else ""))
    # how often an unbiased sampler lands within 5 %: P(|Z| <= 0.05/SD)
    expect = [math.erf(0.05 / (math.sqrt(v) / b) / math.sqrt(2)) for b, _, v in tr.values() if b >= 0.049 * total]
    emit("")
    emit("Sites holding >= 5 %% of the bytes estimated within 5 %%: memscope %d of %d runs x sites, jemalloc prof "
         "%d of %d; an unbiased Poisson byte sampler at this rate and volume is expected to land within 5 %% in "
         "%.0f %% of the cases (from each site's SD; the target needs SD <= 2.5 %% everywhere, i.e. ~1,600 x R = "
         "800 MiB at the smallest such site)." % (within[0], within[1], je_within[0], je_within[1],
                                                  100 * sum(expect) / len(expect)))
    return within


def main():
    emit("### Sampling (bench/sample.sh)")
    emit("")
    load = open("/proc/loadavg").read().split()[:3]
    try:
        clock = open("/sys/devices/system/clocksource/clocksource0/current_clocksource").read().strip()
    except OSError:
        clock = "unknown"
    emit("Run: %d cores, %s, clocksource %s, best of %d (interleaved), load %s, %s" % (
        os.cpu_count(), os.uname().release, clock, REPEAT, " ".join(load),
        time.strftime("%Y-%m-%dT%H:%MZ", time.gmtime())))
    emit("")
    emit("| workload | tool | wall s | vs uninstrumented | cpu s | vs uninstrumented | note |")
    emit("|---|---|---:|---:|---:|---:|---|")
    results = {}
    for name, cmd, stdin in workloads():
        results[name] = cost(name, cmd, stdin)
    within = accuracy(MIB, SEEDS, True)
    within_big = accuracy(MIB_BIG, 1, False) if MIB_BIG > 0 else None
    emit("")
    emit("| target | | measured |")
    emit("|---|---|---|")

    def target(label, ok, text):
        emit("| %s | %s | %s |" % (label, "MET" if ok else "MISSED", text))

    p = results["pairs 10M"]
    u, f, m = p["uninstrumented"], p["passthrough floor"], p["memscope --sample 512K"]
    target("sampled <= 1.35x uninstrumented (pairs 10M, wall)", m[0] <= 1.35 * u[0],
           "%.2fx (cpu %.2fx)" % (m[0] / u[0], m[1] / u[1]))
    target("sampled within 5 % of the passthrough floor (pairs 10M, wall)", m[0] <= 1.05 * f[0],
           "%.2fx the floor's wall (cpu %.2fx); floor %.2fx uninstrumented" % (m[0] / f[0], m[1] / f[1], f[0] / u[0]))
    for w in ("sqlite3", "python3"):
        if w in results:
            r = results[w]
            a, b = r["memscope --sample 512K"], r["uninstrumented"]
            target("sampled <= 1.05x uninstrumented (%s, wall)" % w, a[0] <= 1.05 * b[0],
                   "%.3fx (cpu %.3fx)" % (a[0] / b[0], a[1] / b[1]))
    target("sites >= 5 %% within 5 %% (%.0f MiB, 512 KiB)" % MIB, within[0] == within[1],
           "%d of %d (runs x sites)" % tuple(within))
    if within_big:
        target("sites >= 5 %% within 5 %% (%.0f MiB, 512 KiB)" % MIB_BIG, within_big[0] == within_big[1],
               "%d of %d (runs x sites)" % tuple(within_big))
    res = os.environ.get("BENCH_RESULTS")
    if res:
        text = open(res).read() if os.path.exists(res) else ""
        begin, end = "<!-- sample.sh: begin -->", "<!-- sample.sh: end -->"
        block = begin + "\n" + "\n".join(out_md) + "\n" + end
        if begin in text and end in text:
            text = text[:text.index(begin)] + block + text[text.index(end) + len(end):]
        else:
            text = text.rstrip("\n") + "\n\n" + block + "\n"
        open(res, "w").write(text)
    subprocess.run(["rm", "-rf", TMP])


main()
