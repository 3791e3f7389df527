#!/usr/bin/python3
"""spec_reader.py -- an independent .memscope reader written from
spec/FORMAT.md alone (no code of format/ was consulted), in Python 3 with
the Debian packages python3-zstandard and python3-xxhash.

It decodes a file completely -- file header, every chunk envelope and both
checksums, zstd payloads, every record of every type with the missing-field
and extra-byte rules, EVENTS columns (1.0 deltas and the 1.1 block model of
§7.5) -- and prints the canonical dump of
tests/golden/msdump.h (the .expected files). It also checks the writer rules
the spec states (sequence numbers, record_count, t_first/t_last, shift, END's
n_chunks, shortest varints, only SYMBOL records after END and at most one per
ip, §8.7); a violation is printed on stderr as
"spec violation: ..." and the exit status is 1. Damaged input (§9) is handled
with the resync and counter rules of the spec, so the integrity line of the
dump can be compared with the C reader on damaged files too.

With --estimate it instead replays the heap events of a trace and prints
the totals §8.8 defines, weighting every recorded allocation of size n by
1/p(n), p(n) = 1 - exp(-n/R), when META says the trace is sampled (mode 1,
sample_rate R; weight 1 in a full trace), each free subtracting the weight of
its block: one "estimate" line of totals, then one "stack" line per stack id
with its allocations, bytes and bytes live at the end (real numbers, no
rounding) and the allocation events recorded there.

Usage: spec_reader.py FILE              (dump on stdout)
       spec_reader.py --estimate FILE   (§8.8 estimates on stdout)
"""
import math
import sys

import xxhash
import zstandard

MS_OK, MS_ETRUNC, MS_ECORRUPT = 0, -6, -7
MS_EEMPTY, MS_ENOTMS, MS_EVERSION, MS_EUNSUPPORTED = -12, -4, -5, -8

MAGIC = b"\x89MSC\r\n\x1a\n"
SYNC = b"MSCK"
ENV = 48
LIMIT = 64 << 20
MASK64 = (1 << 64) - 1

violations = []


def violation(msg):
    violations.append(msg)


def check32(b):
    return xxhash.xxh3_64_intdigest(bytes(b)) & 0xFFFFFFFF


def u16(b, o):
    return int.from_bytes(b[o:o + 2], "little")


def u32(b, o):
    return int.from_bytes(b[o:o + 4], "little")


def u64(b, o):
    return int.from_bytes(b[o:o + 8], "little")


class Corrupt(Exception):
    pass


class Cursor:
    """Reads the primitive encodings of §2 from a bytes object."""

    def __init__(self, data, pos=0, end=None):
        self.d = data
        self.p = pos
        self.end = len(data) if end is None else end

    def left(self):
        return self.end - self.p

    def varint(self):
        v = 0
        start = self.p
        for i in range(10):
            if self.p >= self.end:
                raise Corrupt("varint runs past the end")
            b = self.d[self.p]
            self.p += 1
            if i == 9 and b > 1:
                raise Corrupt("varint longer than 10 bytes or > 64 bits")
            v |= (b & 0x7F) << (7 * i)
            if b < 0x80:
                n = self.p - start
                if n > 1 and b == 0:
                    violation("non-shortest varint at payload byte %d" % start)
                return v
        raise Corrupt("varint longer than 10 bytes")

    def u32(self):
        v = self.varint()
        if v > 0xFFFFFFFF:
            raise Corrupt("u32 field > 2^32-1")
        return v

    def zigzag(self):
        u = self.varint()
        return (u >> 1) ^ -(u & 1)

    def string(self):
        n = self.varint()
        if n > self.left():
            raise Corrupt("string longer than the bytes left")
        s = bytes(self.d[self.p:self.p + n])
        self.p += n
        return s


# Field encodings: 'u', 'u32', 'i', 's', 'hex' (a string printed in hex),
# 'd' (delta, array elements only), ('arr', count_key, elem_name, fields).
SEGMENT = [("vaddr", "u"), ("size", "u"), ("file_offset", "u"), ("prot", "u32")]
NODE = [("parent", "u"), ("ip", "d")]
FRAME = [("function", "s"), ("file", "s"), ("line", "u32"), ("column", "u32")]
BLOCK = [("addr", "d"), ("size", "u"), ("leak_class", "u32")]
MAP = [("start", "u"), ("end", "u"), ("prot", "u32"), ("offset", "u"), ("path", "s"),
       ("rss", "u"), ("pss", "u"), ("anon", "u"), ("swap", "u")]
KV = [("key", "s"), ("value", "u")]
LIB = [("path", "s"), ("disk_size", "u"), ("mapped", "u"), ("rss", "u"), ("pss", "u")]
PERM = [("prot", "u32"), ("size", "u"), ("rss", "u"), ("pss", "u")]
FLAG = [("flags", "u32")]


def arr(count_key, elem, fields):
    return ("arr", count_key, elem, fields)


RECORDS = {
    0x01: ("meta", [("recorder_version", "s"), ("mode", "u32"), ("sample_rate", "u"),
                    ("pid", "u"), ("ppid", "u"), ("exe", "s"), ("cmdline", "s"),
                    ("hostname", "s"), ("kernel", "s"), ("page_size", "u"),
                    ("clock_hz", "u"), ("start_wall_ns", "u"), ("unwinder", "s"),
                    ("max_depth", "u32"), ("label", "s"), ("boot_id", "s"),
                    ("allocator", "s"), ("malloc_interposed", "u32"),
                    ("scope", "u32"), ("process_start_ns", "u"), ("session", "u")]),
    0x02: ("string", [("id", "u"), ("value", "s")]),
    0x03: ("module", [("id", "u"), ("time", "u"), ("path", "s"), ("build_id", "hex"),
                      ("base", "u"), ("segments", arr("nsegments", "segment", SEGMENT))]),
    0x04: ("module_unload", [("id", "u"), ("time", "u")]),
    0x05: ("stack", [("first_id", "u"), ("nodes", arr("count", "node", NODE))]),
    0x06: ("symbol", [("ip", "u"), ("module_id", "u"), ("module_offset", "u"),
                      ("frames", arr("nframes", "frame", FRAME))]),
    0x07: ("thread", [("tid", "u"), ("time", "u"), ("name", "s"), ("creator_tid", "u")]),
    0x08: ("thread_end", [("tid", "u"), ("time", "u")]),
    0x09: ("sample", [("time", "u"), ("rss", "u"), ("heap_live", "u"), ("heap_blocks", "u")]),
    0x0A: ("mark", [("time", "u"), ("tid", "u"), ("name", "s")]),
    0x0B: ("label", [("time", "u"), ("tid", "u"), ("addr", "u"), ("var_name", "s"),
                     ("type_name", "s")]),
    0x0C: ("sync", [("time", "u")]),
    0x0D: ("end", [("time", "u"), ("reason", "u32"), ("detail", "i"), ("n_events", "u"),
                   ("n_allocs", "u"), ("n_frees", "u"), ("alloc_bytes", "u"),
                   ("n_dropped", "u"), ("n_chunks", "u"), ("events_lost", "u"),
                   ("write_errors", "u"), ("first_errno", "i")]),
    0x0E: ("live_blocks", [("time", "u"), ("blocks", arr("count", "block", BLOCK))]),
    0x0F: ("maps", [("time", "u"), ("maps", arr("count", "map", MAP))]),
    0x10: ("proc_mem", [("time", "u"), ("vm_size", "u"), ("vm_rss", "u"), ("vm_hwm", "u"),
                        ("rss_anon", "u"), ("rss_file", "u"), ("rss_shmem", "u"),
                        ("vm_data", "u"), ("vm_swap", "u")]),
    0x20: ("snap_begin", [("index", "u"), ("wall_ns", "u"), ("label", "s"), ("hostname", "s"),
                          ("kernel", "s"), ("os_release", "s"), ("boot_id", "s"),
                          ("page_size", "u"), ("uptime_ms", "u"),
                          ("meminfo", arr("nmeminfo", "meminfo", KV)),
                          ("vmstat", arr("nvmstat", "vmstat", KV)),
                          ("zoneinfo", arr("nzoneinfo", "zoneinfo", KV)),
                          ("slabs", arr("nslabs", "slab", KV)), ("privilege", "u32")]),
    0x21: ("snap_proc", [("snap_index", "u"), ("pid", "u"), ("ppid", "u"), ("starttime", "u"),
                         ("name", "s"), ("cmdline", "s"), ("exe", "s"), ("exe_size", "u"),
                         ("uid", "u"), ("user", "s"), ("kind", "u32"), ("state", "u32"),
                         ("read_status", "u32"), ("threads", "u"), ("rss", "u"), ("pss", "u"),
                         ("uss", "u"), ("swap", "u"), ("swap_pss", "u"),
                         ("shared_clean", "u"), ("shared_dirty", "u"),
                         ("private_clean", "u"), ("private_dirty", "u"),
                         ("pss_anon", "u"), ("pss_file", "u"), ("pss_shmem", "u"),
                         ("rss_anon", "u"), ("rss_file", "u"), ("rss_shmem", "u"),
                         ("vm_size", "u"), ("vm_hwm", "u"), ("open_files", "i"),
                         ("libs", arr("nlibs", "lib", LIB)),
                         ("perms", arr("nperms", "perm", PERM)),
                         ("lib_flags", arr("nlib_flags", "lib_flag", FLAG)),
                         ("exe_flags", "u32")]),
    0x22: ("snap_end", [("index", "u"), ("wall_ns", "u"), ("n_procs", "u"),
                        ("n_vanished", "u"), ("n_denied", "u"), ("n_omitted", "u"),
                        ("omitted_pss", "u"), ("omitted_rss", "u"),
                        ("omitted_kernel", "u"), ("omitted_system", "u"), ("omitted_user", "u")]),
}
# END reason values (§6, 0x0D END). Readers accept any value (an unknown one
# is shown as unknown); a writer of a version <= 1.1 writes only these.
END_REASONS = {0: "exit", 1: "fatal signal", 2: "_exit", 3: "stopped by request",
               4: "end of snapshot file", 5: "exec"}
# Records with a time field (§4.1), and where it is.
TIMED = {"module": "time", "module_unload": "time", "thread": "time", "thread_end": "time",
         "sample": "time", "mark": "time", "label": "time", "sync": "time", "end": "time",
         "live_blocks": "time", "maps": "time", "proc_mem": "time",
         "snap_begin": "wall_ns", "snap_end": "wall_ns"}


def default(enc):
    if enc in ("s", "hex"):
        return b""
    if isinstance(enc, tuple):
        return []
    return 0


def read_field(c, enc, prev):
    if enc == "u":
        return c.varint()
    if enc == "u32":
        return c.u32()
    if enc == "i":
        return c.zigzag()
    if enc in ("s", "hex"):
        return c.string()
    if enc == "d":
        return (prev + c.zigzag()) & MASK64
    if isinstance(enc, tuple):
        n = c.varint()
        if n > 0xFFFFFFFF:
            raise Corrupt("array count > 2^32-1")
        fields = enc[3]
        if n > c.left():  # every element is at least one byte
            raise Corrupt("array count larger than the bytes left")
        elems = []
        prevs = {}
        for _ in range(n):
            e = {}
            for name, fenc in fields:
                e[name] = read_field(c, fenc, prevs.get(name, 0))
                prevs[name] = e[name]
            elems.append(e)
        return elems
    raise AssertionError(enc)


def decode_record(rtype, body):
    """§5.4: fields in order; a body ending at a field boundary leaves the
    rest at defaults; bytes after the known fields are ignored."""
    name, fields = RECORDS[rtype]
    c = Cursor(body)
    rec = {}
    for fname, enc in fields:
        if c.left() == 0:
            rec[fname] = default(enc)
            continue
        rec[fname] = read_field(c, enc, 0)
    if c.left():
        violation("%s record has %d extra bytes (v1.0 writer)" % (name, c.left()))
    return name, fields, rec


# ---------------------------------------------------------------- dump --

def q(s):
    out = []
    for ch in s:
        if ch in (0x22, 0x5C):
            out.append("\\" + chr(ch))
        elif 0x20 <= ch <= 0x7E:
            out.append(chr(ch))
        else:
            out.append("\\x%02x" % ch)
    return '"' + "".join(out) + '"'


def fmt_fields(fields, rec):
    parts, subs = [], []
    for fname, enc in fields:
        v = rec[fname]
        if isinstance(enc, tuple):
            parts.append("%s=%d" % (enc[1], len(v)))
            for e in v:
                subs.append("  " + enc[2] + fmt_fields(enc[3], e)[0])
        elif enc == "s":
            parts.append("%s=%s" % (fname, q(v)))
        elif enc == "hex":
            parts.append("%s=%s" % (fname, v.hex()))
        else:
            parts.append("%s=%d" % (fname, v))
    return " " + " ".join(parts), subs


def record_text(name, fields, rec):
    line, subs = fmt_fields(fields, rec)
    return "\n".join([name + line] + subs)


EVENT_FIELDS = [("time", "u"), ("tid", "u"), ("op", "u"), ("addr", "u"), ("size", "u"),
                ("old_addr", "u"), ("stack", "u"), ("align", "u")]

# ------------------------------------------------------------- chunks --

FREE_OPS = {0x00, 0x01, 0x02}
ALLOC_OPS = set(range(0x10, 0x1B))
ALIGN_OPS = set(range(0x14, 0x19))
REALLOC_OPS = {0x12, 0x13}


def decode_records_chunk(payload, record_count):
    """§5.3: validate the whole payload, then return the records (or raise
    Corrupt). Unknown optional records are skipped; an unknown
    must-understand record stops with the records before it."""
    c = Cursor(payload)
    heads = []
    while c.left():
        t = c.varint()
        n = c.varint()
        if n > c.left():
            raise Corrupt("record body past the payload")
        if t == 0:
            raise Corrupt("record of type 0")
        heads.append((t, c.p, n))
        c.p += n
    if len(heads) != record_count:
        raise Corrupt("%d records, envelope says %d" % (len(heads), record_count))
    out = []
    unsupported = False
    for t, p, n in heads:
        if t in RECORDS:
            out.append(decode_record(t, payload[p:p + n]))
        elif t < 0x40:
            unsupported = True
            break
        # optional unknown (>= 0x40, including 0x7F): skipped
    return out, unsupported


def column_varints(col, n, kind):
    c = Cursor(col)
    vals = []
    for _ in range(n):
        vals.append(c.zigzag() if kind == "z" else c.varint())
    if c.left():
        raise Corrupt("column has bytes left over")
    return vals


MODEL_K = 8          # §7.5: recent blocks
MODEL_CLASSES = 64   # §7.5: size classes


def unzigzag(u):
    return (u >> 1) ^ -(u & 1)


def size_class(s):
    return (min(s, 1000) + 23) >> 4


def decode_events_chunk(payload, record_count, flags=0):
    c = Cursor(payload)
    tid = c.varint()
    count = c.varint()
    t_base = c.varint()
    shift = c.varint()
    if count != record_count:
        raise Corrupt("events count %d, envelope says %d" % (count, record_count))
    if shift > 12:
        raise Corrupt("shift > 12")
    cols = []
    for _ in range(7):
        n = c.varint()
        if n > c.left():
            raise Corrupt("column past the payload")
        cols.append(payload[c.p:c.p + n])
        c.p += n
    ops = cols[0]
    if len(ops) != count:
        raise Corrupt("ops column is not count bytes")
    for op in ops:
        if op not in FREE_OPS and op not in ALLOC_OPS:
            raise Corrupt("unknown op 0x%02x" % op)
    nf = sum(1 for op in ops if op >= 0x10)
    na = sum(1 for op in ops if op in ALIGN_OPS)
    nr = sum(1 for op in ops if op in REALLOC_OPS)
    times = column_varints(cols[1], count, "u")
    model = bool(flags & 2)   # §4.1 chunk flag bit 1 MODEL (v1.1), §7.5
    addrs = column_varints(cols[2], count, "u" if model else "z")
    sizes = column_varints(cols[3], nf, "u")
    stacks = column_varints(cols[4], nf, "u")
    aligns = column_varints(cols[5], na, "u")
    olds = column_varints(cols[6], nr, "z")
    if any(a > 0xFFFFFFFF for a in aligns):
        raise Corrupt("align > 2^32-1")
    events = []
    t, a = t_base, 0
    it_s, it_st, it_al, it_old = iter(sizes), iter(stacks), iter(aligns), iter(olds)
    # §7.5 state: the recent-block list (address, size), most recent first,
    # always MODEL_K entries (0 = empty), and the per-size-class predictions
    lst = [(0, 0)] * MODEL_K
    pred = [0] * MODEL_CLASSES
    for i in range(count):
        op = ops[i]
        t = (t + times[i]) & MASK64
        size = 0
        if op >= 0x10:
            size = next(it_s)
        if not model:
            a = (a + addrs[i]) & MASK64
        elif op < 0x10:
            u = addrs[i]
            if u < MODEL_K:
                ba, bs = lst[u]
                lst = lst[:u] + lst[u + 1:] + [(0, 0)]
                if ba:
                    pred[size_class(bs)] = ba
                a = ba
            else:
                a = (a + unzigzag(u - MODEL_K)) & MASK64
        else:
            c = size_class(size)
            base = pred[c] if pred[c] else a
            pred[c] = 0
            a = (base + unzigzag(addrs[i])) & MASK64
            if a:
                lst = [(a, size)] + lst[:MODEL_K - 1]
        ev = {"time": t, "tid": tid, "op": op, "addr": (a << shift) & MASK64,
              "size": 0, "old_addr": 0, "stack": 0, "align": 0}
        if op >= 0x10:
            ev["size"] = size
            ev["stack"] = next(it_st)
            if op in ALIGN_OPS:
                ev["align"] = next(it_al)
            if op in REALLOC_OPS:
                ev["old_addr"] = (((a + next(it_old)) & MASK64) << shift) & MASK64
        events.append(ev)
    # writer rules (§7.4)
    if count and times[0] != 0:
        violation("EVENTS: first time delta %d, t_base should be the first event's time" % times[0])
    want_shift = 0
    for s in range(4, -1, -1):
        m = (1 << s) - 1
        if all((e["addr"] & m) == 0 and (e["old_addr"] & m) == 0 for e in events):
            want_shift = s
            break
    if shift != want_shift:
        violation("EVENTS: shift %d, writer rule gives %d" % (shift, want_shift))
    for e in events:
        if e["op"] < 0x10 and (e["size"] or e["stack"]):
            violation("free with size/stack")
    return [("event", EVENT_FIELDS, e) for e in events], t_base


class Reader:
    def __init__(self, data):
        self.d = data
        self.lines = []
        self.integ = dict(verdict=MS_OK, chunks_ok=0, chunks_bad=0, chunks_skipped=0,
                          records_lost=0, bytes_lost=0, first_bad_offset=0, trunc_offset=0,
                          has_end=0, file_size=len(data))
        self.problems = []
        self.expected_seq = 0
        self.region = None  # start offset of an open corrupt region
        self.stop = 0
        self.chunks_before = 0  # chunks seen (usable envelopes) before the current one
        self.end_seen = False   # a chunk holding END was delivered (§8.7)
        self.symbol_ips = set() # ips with a SYMBOL record so far (§8.7)
        self.records = []       # (name, rec, tid or None) of delivered chunks

    def corrupt(self, off, msg):
        if self.integ["verdict"] != MS_ECORRUPT:
            self.integ["first_bad_offset"] = off
        self.integ["verdict"] = MS_ECORRUPT
        self.problems.append((MS_ECORRUPT, off, msg))

    def trunc(self, off, msg):
        self.integ["trunc_offset"] = off
        if self.integ["verdict"] == MS_OK:
            self.integ["verdict"] = MS_ETRUNC
        self.problems.append((MS_ETRUNC, off, msg))

    def open(self):
        d = self.d
        if len(d) == 0:
            return MS_EEMPTY
        if d[:min(8, len(d))] != MAGIC[:min(8, len(d))]:
            return MS_ENOTMS
        if len(d) < 12:
            return MS_ETRUNC
        major, minor = u16(d, 8), u16(d, 10)
        if major > 1:
            return MS_EVERSION
        if major == 0:
            return MS_ECORRUPT
        if len(d) < 24:
            return MS_ETRUNC
        if u32(d, 20) != check32(d[:20]):
            return MS_ECORRUPT
        hlen = u16(d, 18)
        if hlen < 24:
            return MS_ECORRUPT
        if len(d) < hlen:
            return MS_ETRUNC
        flags = u32(d, 12)
        if flags & 0xFFFF:
            return MS_EUNSUPPORTED
        self.hdr = dict(major=major, minor=minor, flags=flags, kind=u16(d, 16), header_len=hlen)
        if hlen != 24:
            violation("file header_len %d (v1.0 writer writes 24)" % hlen)
        return MS_OK

    def usable(self, off):
        d = self.d
        if len(d) - off < ENV or d[off:off + 4] != SYNC:
            return False
        if u32(d, off + 44) != check32(d[off:off + 44]):
            return False
        hlen, raw, stored, flags = u16(d, off + 6), u32(d, off + 16), u32(d, off + 20), d[off + 5]
        if hlen < ENV or raw > LIMIT or stored > LIMIT:
            return False
        if not flags & 1 and stored != raw:
            return False
        return True

    def close_region(self, end_off, seq):
        start = self.region
        self.region = None
        if seq is None:
            self.integ["chunks_bad"] += 1
        else:
            self.integ["chunks_bad"] += max(1, seq - self.expected_seq)
        self.corrupt(start, "%d bytes skipped" % (end_off - start))

    def run(self):
        d = self.d
        off = self.hdr["header_len"]
        n = len(d)
        while True:
            left = n - off
            if left == 0:
                if self.region is not None:
                    self.close_region(off, None)
                return 0
            if left < ENV:
                if self.region is not None:
                    self.integ["bytes_lost"] += left
                    self.close_region(n, None)
                else:
                    self.integ["bytes_lost"] += left
                    self.trunc(off, "cut tail")
                return 0
            if not self.usable(off):
                if self.region is None:
                    self.region = off
                self.integ["bytes_lost"] += 1
                off += 1
                continue
            seq = u32(d, off + 8)
            if self.region is not None:
                self.close_region(off, seq)
            elif seq > self.expected_seq:
                self.integ["chunks_bad"] += seq - self.expected_seq
                self.corrupt(off, "sequence gap")
            elif seq < self.expected_seq:
                self.corrupt(off, "sequence goes back")
            self.expected_seq = seq + 1
            ctype, flags, hlen = d[off + 4], d[off + 5], u16(d, off + 6)
            count, raw_len, stored = u32(d, off + 12), u32(d, off + 16), u32(d, off + 20)
            t_first, t_last = u64(d, off + 24), u64(d, off + 32)
            size = hlen + stored
            if left < size:
                self.integ["records_lost"] += count
                self.integ["bytes_lost"] += left
                self.trunc(off, "chunk cut")
                return 0
            payload = d[off + hlen:off + size]
            if hlen != ENV:
                violation("chunk at %d: header_len %d" % (off, hlen))
            if u32(d, off + 40) != check32(payload):
                self.bad_chunk(off, count, size, "payload checksum")
                off += size
                continue
            # §4.1/§4.4 step 6: bit 1 (MODEL) is known on EVENTS chunks (1.1)
            if flags & (0x0C if ctype == 2 else 0x0E):
                return MS_EUNSUPPORTED
            if ctype >= 0x80:
                self.integ["chunks_skipped"] += 1
                self.problems.append((MS_OK, off, "optional chunk skipped"))
                off += size
                continue
            if ctype not in (1, 2):
                return MS_EUNSUPPORTED
            try:
                raw = self.decompress(payload, flags, raw_len)
                if ctype == 1:
                    recs, unsupported = decode_records_chunk(raw, count)
                else:
                    recs, t_base = decode_events_chunk(raw, count, flags)
                    unsupported = False
            except Corrupt as e:
                self.bad_chunk(off, count, size, str(e))
                off += size
                continue
            self.check_writer_rules(off, ctype, flags, seq, recs, t_first, t_last, stored,
                                    raw_len, payload)
            self.check_after_end(off, ctype, recs)
            if recs:
                self.lines.append("chunk offset=%d seq=%d type=%d flags=%d records=%d raw_len=%d "
                                  "stored_len=%d t_first=%d t_last=%d" %
                                  (off, seq, ctype, flags, count, raw_len, stored, t_first, t_last))
            for name, fields, rec in recs:
                self.records.append((name, rec))
                self.lines.append(record_text(name, fields, rec))
                if name == "end":
                    self.integ["has_end"] = 1
                    if (rec["reason"] not in END_REASONS and
                            (self.hdr["major"], self.hdr["minor"]) <= (1, 3)):
                        violation("END reason %d is not assigned in %d.%d" %
                                  (rec["reason"], self.hdr["major"], self.hdr["minor"]))
                    if rec["n_chunks"] != self.chunks_before:
                        violation("END n_chunks %d, %d chunks before it" %
                                  (rec["n_chunks"], self.chunks_before))
            # §4.4 step 10 / §5.3: a chunk cut short by an unknown
            # must-understand record still counts in chunks_ok.
            self.integ["chunks_ok"] += 1
            self.chunks_before += 1
            if unsupported:
                return MS_EUNSUPPORTED
            off += size

    def bad_chunk(self, off, count, size, why):
        self.integ["chunks_bad"] += 1
        self.integ["records_lost"] += count
        self.integ["bytes_lost"] += size
        self.corrupt(off, why)

    @staticmethod
    def decompress(payload, flags, raw_len):
        if not flags & 1:
            return payload
        if len(payload) < 4 or u32(payload, 0) != 0xFD2FB528:
            raise Corrupt("not a zstd frame")
        try:
            obj = zstandard.ZstdDecompressor().decompressobj()
            out = obj.decompress(bytes(payload))
        except zstandard.ZstdError as e:
            raise Corrupt("zstd: %s" % e)
        if not obj.eof or obj.unused_data:
            raise Corrupt("zstd frame incomplete or followed by bytes")
        if len(out) != raw_len:
            raise Corrupt("decompressed %d bytes, raw_len %d" % (len(out), raw_len))
        return out

    def check_after_end(self, off, ctype, recs):
        """§8.7: chunks after the one holding END are RECORDS chunks of
        SYMBOL records only, and an ip gets at most one SYMBOL record over
        the whole file once symbols are appended."""
        if self.end_seen:
            if ctype != 1:
                violation("chunk at %d after END is not a RECORDS chunk" % off)
            for name, _, rec in recs:
                if name != "symbol":
                    violation("chunk at %d after END holds a %s record" % (off, name))
                elif rec["ip"] in self.symbol_ips:
                    violation("chunk at %d after END: second SYMBOL record for ip %d" %
                              (off, rec["ip"]))
        for name, _, rec in recs:
            if name == "symbol":
                self.symbol_ips.add(rec["ip"])
            elif name == "end":
                self.end_seen = True

    def check_writer_rules(self, off, ctype, flags, seq, recs, t_first, t_last, stored,
                           raw_len, payload):
        if flags & 1 and stored >= raw_len:
            violation("chunk at %d compressed but not smaller" % off)
        if ctype == 1:
            times = [rec[TIMED[name]] for name, _, rec in recs if name in TIMED]
        else:
            times = [rec["time"] for _, _, rec in recs]
        want = (times[0], times[-1]) if times else (0, 0)
        if (t_first, t_last) != want:
            violation("chunk at %d: t_first/t_last %d/%d, records give %d/%d" %
                      (off, t_first, t_last, want[0], want[1]))


def dump(data):
    """Returns (dump text, stop code, spec violations) for the bytes data.
    The text is what tests/golden/msdump.h prints for the same file, or
    "open failed: RC" when the file does not open."""
    del violations[:]
    r = Reader(data)
    rc = r.open()
    if rc != MS_OK:
        return "open failed: %d\n" % rc, 0, []
    h = r.hdr
    out = ["header major=%d minor=%d flags=%d kind=%d" % (h["major"], h["minor"], h["flags"],
                                                           h["kind"])]
    rc = r.run()
    out += r.lines
    g = r.integ
    out.append("integrity verdict=%d chunks_ok=%d chunks_bad=%d chunks_skipped=%d "
               "records_lost=%d bytes_lost=%d first_bad_offset=%d trunc_offset=%d has_end=%d "
               "file_size=%d" % (g["verdict"], g["chunks_ok"], g["chunks_bad"],
                                 g["chunks_skipped"], g["records_lost"], g["bytes_lost"],
                                 g["first_bad_offset"], g["trunc_offset"], g["has_end"],
                                 g["file_size"]))
    return "\n".join(out) + "\n", rc, list(violations)


FREE_OPS = (0x00, 0x01, 0x02)
REALLOC_OPS = (0x12, 0x13)


def weight(n, rate):
    """§8.8: allocations one recorded event of size n stands for."""
    if not rate or not n:
        return 1.0
    return 1.0 / -math.expm1(-n / rate)


def estimate(data):
    """§8.8 totals of a heap trace: (totals dict, {stack: [allocs, bytes,
    live_bytes, events]}). Events are merged by time (§8.3; ties keep file
    order)."""
    r = Reader(data)
    if r.open() != MS_OK:
        raise SystemExit("open failed")
    r.run()
    rate = 0
    events = []
    for name, rec in r.records:
        if name == "meta" and rec["mode"] == 1:
            rate = rec["sample_rate"]
        elif name == "event":
            events.append(rec)
    events.sort(key=lambda e: e["time"])     # stable: each thread's order kept
    live = {}                                # addr -> (count weight, bytes weight, stack)
    stacks = {}
    tot = dict(allocations=0.0, allocated_bytes=0.0, deallocations=0.0,
               live_bytes=0.0, live_blocks=0.0, peak=0.0, events=len(events))

    def release(addr):
        b = live.pop(addr, None)
        if b is None:
            return
        tot["deallocations"] += b[0]
        tot["live_blocks"] -= b[0]
        tot["live_bytes"] -= b[1]
        stacks[b[2]][2] -= b[1]

    def allocate(addr, size, stack):
        release(addr)
        w = weight(size, rate)
        live[addr] = (w, w * size, stack)
        tot["allocations"] += w
        tot["allocated_bytes"] += w * size
        tot["live_blocks"] += w
        tot["live_bytes"] += w * size
        st = stacks.setdefault(stack, [0.0, 0.0, 0.0, 0])
        st[0] += w
        st[1] += w * size
        st[2] += w * size
        st[3] += 1

    for e in events:
        op = e["op"]
        if op in FREE_OPS:
            release(e["addr"])
        elif op in REALLOC_OPS:
            if e["old_addr"] and (e["addr"] or e["size"] == 0):
                release(e["old_addr"])
            if e["addr"]:
                allocate(e["addr"], e["size"], e["stack"])
        elif e["addr"]:
            allocate(e["addr"], e["size"], e["stack"])
        tot["peak"] = max(tot["peak"], tot["live_bytes"])
    tot["rate"] = rate
    return tot, stacks


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--estimate":
        with open(sys.argv[2], "rb") as f:
            tot, stacks = estimate(f.read())
        print("estimate " + " ".join("%s=%.1f" % (k, v) for k, v in sorted(tot.items())))
        for sid in sorted(stacks):
            a = stacks[sid]
            print("stack %d allocations=%.1f allocated_bytes=%.1f live_bytes=%.1f events=%d" %
                  (sid, a[0], a[1], a[2], a[3]))
        return 0
    if len(sys.argv) != 2:
        print("usage: spec_reader.py FILE | --estimate FILE", file=sys.stderr)
        return 2
    with open(sys.argv[1], "rb") as f:
        data = f.read()
    text, rc, viol = dump(data)
    sys.stdout.write(text)
    for v in viol:
        print("spec violation: " + v, file=sys.stderr)
    if rc != 0:
        print("stopped: %d" % rc, file=sys.stderr)
    return 1 if (viol or rc != 0 or text.startswith("open failed")) else 0


if __name__ == "__main__":
    sys.exit(main())
