#!/usr/bin/env python3
"""Query `msconv FILE --json` output for the recorder tests (stdlib only).

  msjson.py sum JSON                       summary scalars as key=value lines
  msjson.py count JSON [k=v ...]           allocations matching all filters
  msjson.py frames JSON [k=v ...]          function names of the first match's stack
  msjson.py field JSON KEY [k=v ...]       KEY of the first matching allocation
  msjson.py maxdepth JSON [k=v ...]        deepest stack among matches

Filters compare str(allocation[k]) == v; size=N, kind=malloc, is_leaked=true.
Version 2 documents name a stack by a node of their "stacks" table
([caller node or -1, frame index into "frames"]); version 1 ones carried
a "stack_trace" list per allocation (strings or frame objects).
"""
import json, sys

def load(path):
    with open(path) as f:
        return json.load(f)

def norm(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if v is None:
        return "null"
    return str(v)

def matches(a, filters):
    for k, v in filters:
        if norm(a.get(k)) != v:
            return False
    return True

def frame_name(fr):
    if isinstance(fr, str):
        return fr
    if isinstance(fr, dict):
        name = "?"
        for k in ("function", "func", "name", "symbol"):
            if fr.get(k):
                name = str(fr[k])
                break
        if fr.get("file"):   # as version 1 named frames: "function (file:line)"
            name += " (%s%s)" % (fr["file"], ":%d" % fr["line"] if fr.get("line") else "")
        return name
    return str(fr)

def stack(d, a):
    """Frames of allocation a, innermost first."""
    if "stacks" not in d:
        return a.get("stack_trace") or []
    out, n = [], a.get("stack")
    while n is not None and n >= 0:
        n, f = d["stacks"][n]
        out.append(d["frames"][f])
    return out

def main():
    cmd, path = sys.argv[1], sys.argv[2]
    rest = sys.argv[3:]
    key = None
    if cmd == "field":
        key, rest = rest[0], rest[1:]
    filters = [tuple(r.split("=", 1)) for r in rest]
    d = load(path)
    if cmd == "sum":
        for k, v in d.get("summary", {}).items():
            if not isinstance(v, (dict, list)):
                print("%s=%s" % (k, norm(v)))
        return
    allocs = [a for a in d.get("allocations", []) if matches(a, filters)]
    if cmd == "count":
        print(len(allocs))
    elif cmd == "frames":
        if allocs:
            for fr in stack(d, allocs[0]):
                print(frame_name(fr))
    elif cmd == "field":
        print(norm(allocs[0].get(key)) if allocs else "")
    elif cmd == "maxdepth":
        print(max([len(stack(d, a)) for a in allocs] or [0]))
    else:
        sys.exit("msjson.py: unknown command " + cmd)

if __name__ == "__main__":
    main()
