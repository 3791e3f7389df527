#!/usr/bin/env python3
"""Check the time grid of one-thread SYNC windows (spec §8.2) in a trace.

  timegrid.py DUMP US      DUMP = `msconv FILE --dump` output, US = the
                           MEMSCOPE_TIME_GRID the trace was recorded with

Splits the file's events into SYNC windows (file order: the records
between two SYNC records) and prints key=value lines:
  grid=G            ticks per grid step (largest power of 2 <= clock_hz*US/1e6)
  one_windows=N     windows with events of one thread and no MARK/LABEL
  one_events=N      their events
  one_off_grid=N    of those, times neither on the grid nor the window start
  one_outside=N     of those, times below the window start or not below its end
  multi_windows=N   windows with events of two or more threads
  multi_events=N    their events
  multi_on_grid=N   of those, times on the grid (exact times: ~1/G of them)
  mark_windows=N    windows with a MARK or LABEL and events
  mark_events=N / mark_on_grid=N   the same for those windows
  all_events=N / all_on_grid=N     every event of the file
"""
import json, re, sys

FIELD = re.compile(r'"(type|time|tid)":"?(\w+)')

def main():
    path, us = sys.argv[1], int(sys.argv[2])
    recs = []
    hz = 0
    with open(path) as f:
        for line in f:
            if line.startswith('{"type":"meta"'):
                hz = json.loads(line)["clock_hz"]
                continue
            r = {}
            for k, v in FIELD.findall(line[:200]):   # the leading fields only
                r.setdefault(k, v if k == "type" else int(v))
            recs.append(r)
    g = 1
    while g * 2 <= hz * us // 1000000:
        g *= 2
    out = dict.fromkeys(["one_windows", "one_events", "one_off_grid", "one_outside",
                         "multi_windows", "multi_events", "multi_on_grid", "mark_windows",
                         "mark_events", "mark_on_grid", "all_events", "all_on_grid"], 0)
    lo, evs, marks = 0, [], 0

    def close(hi):
        if not evs:
            return
        on = sum(1 for e in evs if e["time"] % g == 0)
        tids = {e["tid"] for e in evs}
        if marks:
            out["mark_windows"] += 1
            out["mark_events"] += len(evs)
            out["mark_on_grid"] += on
        elif len(tids) == 1:
            out["one_windows"] += 1
            out["one_events"] += len(evs)
            out["one_off_grid"] += sum(1 for e in evs if e["time"] % g and e["time"] != lo)
            out["one_outside"] += sum(1 for e in evs if e["time"] < lo or
                                      (hi is not None and e["time"] >= hi))
        else:
            out["multi_windows"] += 1
            out["multi_events"] += len(evs)
            out["multi_on_grid"] += on

    for r in recs:
        t = r.get("type")
        if t == "event":
            evs.append(r)
            out["all_events"] += 1
            out["all_on_grid"] += r["time"] % g == 0
        elif t in ("mark", "label"):
            marks += 1
        elif t == "sync":
            close(r["time"])
            lo, evs, marks = r["time"], [], 0
    close(None)
    print("grid=%d" % g)
    for k, v in out.items():
        print("%s=%d" % (k, v))

main()
