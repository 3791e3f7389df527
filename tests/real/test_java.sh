#!/bin/sh
# Real programs: the JVM (Debian's OpenJDK 17) running a program with 4
# threads, 100 000 NullPointerExceptions (the JVM takes them as SIGSEGV in
# its own handler) and collections, under `msrec run`: exit status and
# stdout equal to a plain run, a complete trace naming the JVM's threads
# and the allocations of HotSpot's os::malloc. Every thread the JVM starts
# asks pthread_getattr_np for its stack bounds first, and glibc allocates
# inside it while holding the thread's lock: the JVM hung under the
# recorder until it stopped asking from inside
# (tests/recorder/test_getattr.sh). A hang shows as exit status 124.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/common.sh"
T=real/java
need $T java javac timeout

cd "$TMP" || exit 1
cat > Work.java <<'JAVA'
import java.util.*;
public class Work {
    public static void main(String[] a) throws Exception {
        List<Thread> ts = new ArrayList<>();
        long[] lens = new long[4];
        for (int t = 0; t < 4; t++) {
            final int k = t;
            Thread th = new Thread(() -> {
                StringBuilder sb = new StringBuilder();
                for (int i = 0; i < 200000; i++) { sb.append(i * (k + 1)); if (sb.length() > 10000) { lens[k] += sb.length(); sb.setLength(0); } }
            });
            th.start();
            ts.add(th);
        }
        for (Thread th : ts) th.join();
        Object o = null;
        int npe = 0;
        for (int i = 0; i < 100000; i++) { try { o.hashCode(); } catch (NullPointerException e) { npe++; } }
        Map<String, Integer> m = new HashMap<>();
        for (int i = 0; i < 50000; i++) m.put("k" + i, i);
        System.out.println("npe " + npe + " map " + m.size() + " lens " + Arrays.toString(lens));
    }
}
JAVA
if ! javac Work.java > javac.err 2>&1; then
    fail $T/javac "$(head -c 300 javac.err)"
    exit 0
fi
n=$T/work
REAL_TIMEOUT=120 run_pair $n "$TMP/jv" -- java -cp "$TMP" Work
check $n/plain-run-ok 0 "$PRC"
check_pair $n
f=$TMP/jv/x.memscope
check_complete $n/complete "$f"
if check_json $n "$f"; then
    check_min $n "$f.json" threads 8           # the JVM runs more than 8
    if python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
sys.exit(0 if any("os::malloc" in x["path"] for x in d["sites"]) else 1)' "$f.json"; then pass $n/hotspot-stacks
    else fail $n/hotspot-stacks "no allocation site through os::malloc"; fi
fi
