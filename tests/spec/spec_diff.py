#!/usr/bin/python3
"""spec_diff.py -- differential test of the C reader against the spec.

For each golden file it builds damaged and extended variants -- cuts, byte
flips, and structured edits with correct checksums that exercise the rules
of spec/FORMAT.md one by one (lost/swapped/duplicated chunks, garbage
between chunks, optional and must-understand chunk and record types, flag
bits, longer headers, missing and extra record fields, extra EVENTS
columns, bad ops) -- and compares the canonical dump of the C library
(`make_golden --dump FILE`) with that of spec_reader.py, which follows the
spec alone. Every difference is a spec bug or a library bug.

Usage: spec_diff.py DUMPER GOLDEN... [--stride N]
Prints one PASS/FAIL line per golden and category; a FAIL names the first
variant and the first differing line.
"""
import os
import subprocess
import sys
import tempfile

import zstandard

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import spec_reader as sr  # noqa: E402


def uv(v):
    out = bytearray()
    while v >= 0x80:
        out.append((v & 0x7F) | 0x80)
        v >>= 7
    out.append(v)
    return bytes(out)


def split(data):
    """Header bytes and the list of (envelope, payload) of a clean file."""
    hlen = sr.u16(data, 18)
    chunks = []
    off = hlen
    while off < len(data):
        h = sr.u16(data, off + 6)
        stored = sr.u32(data, off + 20)
        chunks.append((bytearray(data[off:off + h]), bytes(data[off + h:off + h + stored])))
        off += h + stored
    return bytearray(data[:hlen]), chunks


def seal_header(h):
    h = bytearray(h)
    h[20:24] = sr.check32(h[:20]).to_bytes(4, "little")
    return h


def seal(env, payload, seq=None):
    """Envelope with stored_len, payload check and header check fixed."""
    env = bytearray(env)
    if seq is not None:
        env[8:12] = seq.to_bytes(4, "little")
    env[20:24] = len(payload).to_bytes(4, "little")
    env[40:44] = sr.check32(payload).to_bytes(4, "little")
    env[44:48] = sr.check32(env[:44]).to_bytes(4, "little")
    return bytes(env) + payload


def join(header, chunks, renumber=True):
    out = bytearray(header)
    for i, (env, payload) in enumerate(chunks):
        out += seal(env, payload, i if renumber else None)
    return bytes(out)


def raw_payload(env, payload):
    if env[5] & 1:
        return zstandard.ZstdDecompressor().decompress(payload, max_output_size=sr.u32(env, 16))
    return payload


def as_raw(env, raw, count=None):
    """A chunk storing raw bytes uncompressed (ZSTD flag cleared)."""
    env = bytearray(env)
    env[5] &= 0xFE
    env[16:20] = len(raw).to_bytes(4, "little")
    if count is not None:
        env[12:16] = count.to_bytes(4, "little")
    return env, bytes(raw)


def records_of(raw):
    c = sr.Cursor(raw)
    recs = []
    while c.left():
        t = c.varint()
        n = c.varint()
        recs.append((t, bytes(raw[c.p:c.p + n])))
        c.p += n
    return recs


def enc_records(recs):
    return b"".join(uv(t) + uv(len(b)) + b for t, b in recs)


def variants(data, stride):
    header, chunks = split(data)
    n = len(chunks)
    cats = {}

    cats["cut"] = [("cut at %d" % L, data[:L]) for L in range(0, len(data), stride)]
    cats["xor-flip"] = [("xor 0xFF at %d" % i, data[:i] + bytes([data[i] ^ 0xFF]) + data[i + 1:])
                        for i in range(0, len(data), stride)]
    cats["bit-flip"] = [("bit %d flipped at %d" % (i % 8, i),
                         data[:i] + bytes([data[i] ^ (1 << (i % 8))]) + data[i + 1:])
                        for i in range(0, len(data), stride)]

    s = []
    for k in range(n):
        s.append(("chunk %d deleted (seq gap)" % k,
                  join(header, chunks[:k] + chunks[k + 1:], renumber=False)))
        s.append(("chunk %d duplicated" % k,
                  join(header, chunks[:k + 1] + chunks[k:], renumber=False)))
        if k + 1 < n:
            s.append(("chunks %d and %d swapped" % (k, k + 1),
                      join(header, chunks[:k] + [chunks[k + 1], chunks[k]] + chunks[k + 2:],
                           renumber=False)))
        for g, gname in ((b"\x00" * 100, "zeros"), (b"M" * 70, "'M's"),
                         (b"MSCK" + b"\x01" * 60, "fake sync"), (b"\xab" * 13, "13 bytes")):
            s.append(("%s inserted before chunk %d" % (gname, k),
                      join(header, chunks[:k], renumber=False) + g +
                      join(b"", chunks[k:], renumber=False)))
    s.append(("100 zero bytes appended", data + b"\x00" * 100))
    s.append(("10 zero bytes appended", data + b"\x00" * 10))
    s.append(("47 bytes appended", data + b"\x4d" * 47))
    s.append(("first chunk's seq is 5",
              bytes(header) + seal(chunks[0][0], chunks[0][1], 5) + join(b"", chunks[1:], False)))
    cats["structure"] = s

    e = []
    opt = bytearray(chunks[0][0])
    opt[4] = 0x80
    opt[5] = 0
    opt[12:16] = (3).to_bytes(4, "little")
    opt, optp = as_raw(opt, b"opaque optional chunk")
    mid = n // 2
    e.append(("optional chunk 0x80 inserted", join(header, chunks[:mid] + [(opt, optp)] + chunks[mid:])))
    opt2 = bytearray(opt)
    opt2[4] = 0xFF
    opt2[5] = 0x10
    e.append(("optional chunk 0xFF (flag bit 4) at the end", join(header, chunks + [(opt2, b"")])))
    for t in (0x00, 0x03, 0x7F):
        mu = bytearray(opt)
        mu[4] = t
        e.append(("must-understand chunk type 0x%02x inserted" % t,
                  join(header, chunks[:mid] + [(mu, optp)] + chunks[mid:])))
    for bit in (1, 2, 3, 4, 7):
        c = [list(x) for x in chunks]
        env = bytearray(c[mid][0])
        env[5] |= 1 << bit
        c[mid][0] = env
        e.append(("chunk %d flag bit %d set" % (mid, bit), join(header, [tuple(x) for x in c])))
    # longer envelope (extension bytes not covered by the checksums)
    c = list(chunks)
    env = bytearray(c[1][0])
    env[6:8] = (56).to_bytes(2, "little")
    c[1] = (bytes(env) + b"EXTENDED", c[1][1])
    body = bytearray(header)
    for i, (en, pl) in enumerate(c):
        en = bytearray(en)
        en[8:12] = i.to_bytes(4, "little")
        en[20:24] = len(pl).to_bytes(4, "little")
        en[40:44] = sr.check32(pl).to_bytes(4, "little")
        en[44:48] = sr.check32(en[:44]).to_bytes(4, "little")
        body += en + pl
    e.append(("chunk 1 envelope header_len 56", bytes(body)))
    # file header variants
    for (name, off, val, width) in (("major 2", 8, 2, 2), ("major 0", 8, 0, 2),
                                    ("minor 7", 10, 7, 2), ("flag bit 0", 12, 1, 4),
                                    ("flag bit 16", 12, 1 << 16, 4), ("flag bit 31", 12, 1 << 31, 4),
                                    ("kind 99", 16, 99, 2), ("header_len 20", 18, 20, 2)):
        h = bytearray(header)
        h[off:off + width] = val.to_bytes(width, "little")
        e.append(("file header " + name, bytes(seal_header(h)) + data[24:]))
    h = bytearray(header)
    h[18:20] = (32).to_bytes(2, "little")
    e.append(("file header_len 32", bytes(seal_header(h)) + b"12345678" + data[24:]))
    e.append(("file header_len 32, file cut at 30", (bytes(seal_header(h)) + b"12345678")[:30]))
    e.append(("header only", data[:24]))
    cats["extension"] = e

    r = []
    cut_types = set()
    for k, (env, payload) in enumerate(chunks):
        raw = raw_payload(env, payload)
        if env[4] == 1:
            recs = records_of(raw)

            def put(name, new_recs, count=None):
                en, pl = as_raw(env, enc_records(new_recs), len(new_recs) if count is None else count)
                r.append(("chunk %d: %s" % (k, name), join(header, chunks[:k] + [(en, pl)] + chunks[k + 1:])))

            put("raw copy", recs)
            put("optional record 0x41 first", [(0x41, b"xyz")] + recs)
            put("record 0x7F inside", recs[:1] + [(0x7F, b"\x01\x02")] + recs[1:])
            put("must-understand record 0x3F after the first", recs[:1] + [(0x3F, b"")] + recs[1:])
            put("must-understand record 0x11 last", recs + [(0x11, b"\x00")])
            put("record of type 0", recs + [(0, b"")])
            put("record_count one too many", recs, len(recs) + 1)
            put("extra bytes after every record", [(t, b + b"\x05\xff\x00") for t, b in recs])
            put("first record's body empty", [(recs[0][0], b"")] + recs[1:])
            put("STRING record inserted", recs[:1] + [(0x02, uv(7) + uv(5) + b"he\x00lo")] + recs[1:])
            # cut one record of each type at every byte (every stride-th):
            # field boundaries give defaults, other cuts make the chunk corrupt
            for j, (tj, bj) in enumerate(recs):
                if tj in cut_types:
                    continue
                cut_types.add(tj)
                for cut in range(0, len(bj), stride):
                    put("record %d (type 0x%02x) body cut to %d bytes" % (j, tj, cut),
                        recs[:j] + [(tj, bj[:cut])] + recs[j + 1:])
            en, pl = as_raw(env, enc_records(recs) + b"\x0c", len(recs) + 1)
            r.append(("chunk %d: payload ends inside a record header" % k,
                      join(header, chunks[:k] + [(en, pl)] + chunks[k + 1:])))
            en, pl = as_raw(env, enc_records(recs) + b"\x05", len(recs))
            r.append(("chunk %d: trailing byte after the last record" % k,
                      join(header, chunks[:k] + [(en, pl)] + chunks[k + 1:])))
        else:
            c = sr.Cursor(raw)
            hdr = [c.varint() for _ in range(4)]
            cols = []
            for _ in range(7):
                ln = c.varint()
                cols.append(bytes(raw[c.p:c.p + ln]))
                c.p += ln

            def put_ev(name, hdr_, cols_, extra=b"", count=None):
                body = b"".join(uv(v) for v in hdr_) + b"".join(uv(len(x)) + x for x in cols_) + extra
                en, pl = as_raw(env, body, hdr_[1] if count is None else count)
                r.append(("chunk %d (events): %s" % (k, name),
                          join(header, chunks[:k] + [(en, pl)] + chunks[k + 1:])))

            put_ev("raw copy", hdr, cols)
            put_ev("an eighth column appended", hdr, cols, uv(3) + b"abc")
            put_ev("shift 12", hdr[:3] + [12], cols)
            put_ev("shift 13", hdr[:3] + [13], cols)
            put_ev("count one too many", hdr[:1] + [hdr[1] + 1] + hdr[2:], cols)
            put_ev("envelope count differs", hdr, cols, count=hdr[1] + 1)
            for op in (0x03, 0x0F, 0x1B, 0xFF):
                cols2 = list(cols)
                cols2[0] = bytes([op]) + cols[0][1:]
                put_ev("first op 0x%02x" % op, hdr, cols2)
            cols2 = list(cols)
            cols2[1] = cols[1] + b"\x00"
            put_ev("time column one varint too long", hdr, cols2)
            cols2 = list(cols)
            cols2[3] = cols[3][:-1]
            put_ev("size column one byte short", hdr, cols2)
            cols2 = list(cols)
            cols2[1] = b"\x80\x00" + cols[1][1:]
            put_ev("non-shortest first time varint", hdr, cols2)
            put_ev("columns missing", hdr, cols[:5])
            put_ev("zero events", [hdr[0], 0, hdr[2], hdr[3]], [b""] * 7)
    cats["records"] = r
    return cats


def c_dump(dumper, data, tmp):
    with open(tmp, "wb") as f:
        f.write(data)
    p = subprocess.run([dumper, "--dump", tmp], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if p.returncode < 0 or p.returncode > 1:
        return "CRASH (status %d): %s" % (p.returncode, p.stderr.decode(errors="replace")[-300:])
    return p.stdout.decode("latin-1")


def first_diff(a, b):
    al, bl = a.split("\n"), b.split("\n")
    for i in range(max(len(al), len(bl))):
        x = al[i] if i < len(al) else "<none>"
        y = bl[i] if i < len(bl) else "<none>"
        if x != y:
            return "line %d: spec '%s' vs library '%s'" % (i + 1, x[:300], y[:300])
    return "?"


def main():
    args = sys.argv[1:]
    stride = 1
    if "--stride" in args:
        i = args.index("--stride")
        stride = int(args[i + 1])
        del args[i:i + 2]
    verbose = "-v" in args
    args = [a for a in args if a != "-v"]
    dumper, goldens = args[0], args[1:]
    fails = 0
    with tempfile.TemporaryDirectory() as td:
        tmp = os.path.join(td, "variant.memscope")
        for g in goldens:
            name = os.path.basename(g).rsplit(".", 1)[0]
            with open(g, "rb") as f:
                data = f.read()
            for cat, vs in variants(data, stride).items():
                bad = []
                for vname, vdata in vs:
                    py = sr.dump(vdata)[0]
                    c = c_dump(dumper, vdata, tmp)
                    if py != c:
                        bad.append((vname, first_diff(py, c)))
                if bad:
                    fails += 1
                    print("FAIL: spec-diff %s %s: %d of %d variants differ; first: %s: %s" %
                          (name, cat, len(bad), len(vs), bad[0][0], bad[0][1]))
                    if verbose:
                        for vname, d in bad:
                            print("    %s: %s" % (vname, d))
                else:
                    print("PASS: spec-diff %s %s (%d variants)" % (name, cat, len(vs)))
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
