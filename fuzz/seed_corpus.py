#!/usr/bin/python3
"""seed_corpus.py -- (re)creates the seed inputs of fuzz/corpus/reader from
the golden files: the goldens, a few cuts and flips, and a sample of the
structured variants of tests/spec/spec_diff.py (valid checksums: lost,
swapped, duplicated chunks, optional/unknown chunk and record types, raw
copies of every chunk, bad columns...), so the fuzzer starts deep inside
the format. Files are named seed-* and are replaced by a rerun; the others
are kept: found-* (inputs a fuzzing run found that add edge coverage,
picked with `fuzz_reader -merge=1 -use_counters=0 -use_cmp=0`) and crash-*
(inputs that once crashed the reader). Keep the corpus under 200 files.

Usage: fuzz/seed_corpus.py   (from the repository root)
"""
import hashlib
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "spec"))
import spec_diff  # noqa: E402

OUT = os.path.join(ROOT, "fuzz", "corpus", "reader")
PER_CAT = {"cut": 6, "xor-flip": 4, "bit-flip": 4, "structure": 14, "extension": 14, "records": 20}
# v1.1-heap differs from v1.0 in its EVENTS chunks (MODEL flag, spec 7.5):
# fewer variants, most of them structural ones of those chunks
PER_CAT_V11 = {"cut": 3, "xor-flip": 3, "bit-flip": 3, "structure": 6, "extension": 2, "records": 2}


def main():
    os.makedirs(OUT, exist_ok=True)
    for f in os.listdir(OUT):
        if f.startswith("seed-"):
            os.unlink(os.path.join(OUT, f))
    n = 0
    for g in ("v1.0-heap", "v1.0-snapshot", "v1.1-heap"):
        with open(os.path.join(ROOT, "tests", "golden", g + ".memscope"), "rb") as f:
            data = f.read()
        with open(os.path.join(OUT, "seed-golden-" + g), "wb") as f:
            f.write(data)
        n += 1
        for cat, vs in spec_diff.variants(data, 1).items():
            want = (PER_CAT_V11 if g.startswith("v1.1") else PER_CAT)[cat]
            step = max(1, len(vs) // want)
            for vname, vdata in vs[::step][:want]:
                h = hashlib.sha1(vdata).hexdigest()[:10]
                with open(os.path.join(OUT, "seed-%s-%s-%s" % (g, cat, h)), "wb") as f:
                    f.write(vdata)
                n += 1
    print("%d seed files in %s" % (n, OUT))


if __name__ == "__main__":
    main()
