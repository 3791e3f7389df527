#!/usr/bin/env python3
"""Drives headless Chromium over the DevTools protocol to test an HTML
report the way a user opens it. Uses --remote-debugging-pipe (JSON messages
ending in NUL on file descriptors 3 and 4), so it needs only python3 and
chromium, no websocket or npm package.

Loads URL, runs each check of the CHECKS file in order (a line "## name"
starts a check; the lines after it are the body of a page JavaScript
function returning true or a failure reason; checks may click things), then
checks that no console error, exception or network request other than the
page itself happened. Prints "PASS: prefix: name" / "FAIL: prefix: name: why"
lines for tests/run.sh; exits 1 if anything failed.

CDP_SCREENSHOT=FILE.png also saves screenshots of the whole page (1400 px
wide, in 1200 px slices FILE-0.png, FILE-1.png, ...) after the checks.

Usage: cdp.py URL CHECKS [PREFIX]"""
import json, os, select, shutil, subprocess, sys, tempfile, time

url, checks_file = sys.argv[1], sys.argv[2]
prefix = sys.argv[3] if len(sys.argv) > 3 else "html"
checks = []
for line in open(checks_file, encoding="utf-8").read().split("\n"):
    if line.startswith("## "):
        checks.append([line[3:].strip(), ""])
    elif checks:
        checks[-1][1] += line + "\n"

profile = tempfile.mkdtemp(prefix="mscdp-")
to_r, to_w = os.pipe()      # we write commands -> chromium's fd 3
from_r, from_w = os.pipe()  # chromium's fd 4 -> we read
def child_fds():
    a, b = os.dup(to_r), os.dup(from_w)   # never clobber one with the other
    os.dup2(a, 3)
    os.dup2(b, 4)
chrome = subprocess.Popen(
    [os.environ.get("CHROMIUM", "chromium"), "--headless", "--no-sandbox", "--disable-gpu",
     "--disable-background-networking", "--disable-component-update", "--disable-sync",
     "--no-first-run", "--disable-extensions", "--remote-debugging-pipe",
     "--user-data-dir=" + profile, "about:blank"],
    stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    preexec_fn=child_fds, pass_fds=(3, 4))
os.close(to_r)
os.close(from_w)

buf = b""
events = []
next_id = [1]
deadline = time.time() + 90
failed = 0

def out(s):
    print(s, flush=True)

def read_messages(timeout):
    global buf
    msgs = []
    r, _, _ = select.select([from_r], [], [], timeout)
    if r:
        data = os.read(from_r, 1 << 20)
        if not data:
            raise RuntimeError("chromium closed the pipe")
        buf += data
    while b"\0" in buf:
        raw, buf = buf.split(b"\0", 1)
        msgs.append(json.loads(raw.decode("utf-8")))
    return msgs

def send(method, params=None, session=None):
    i = next_id[0]
    next_id[0] += 1
    m = {"id": i, "method": method, "params": params or {}}
    if session:
        m["sessionId"] = session
    os.write(to_w, json.dumps(m).encode() + b"\0")
    while True:
        if time.time() > deadline:
            raise RuntimeError("timeout waiting for " + method)
        for msg in read_messages(0.5):
            if msg.get("id") == i:
                if "error" in msg:
                    raise RuntimeError(method + ": " + msg["error"].get("message", "?"))
                return msg.get("result", {})
            events.append(msg)

def wait_event(name):
    while True:
        for k, e in enumerate(events):
            if e.get("method") == name:
                del events[k]
                return e
        if time.time() > deadline:
            raise RuntimeError("timeout waiting for " + name)
        events.extend(read_messages(0.5))

try:
    target = send("Target.createTarget", {"url": "about:blank"})["targetId"]
    sess = send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
    for d in ("Runtime", "Log", "Network", "Page"):
        send(d + ".enable", {}, sess)
    send("Page.navigate", {"url": url}, sess)
    wait_event("Page.loadEventFired")
    time.sleep(0.3)
    for name, body in checks:
        expr = ('(function(){try{var r=(function(){' + body + '})();return r===true?"ok":String(r);}'
                'catch(e){return "exception: "+e;}})()')
        r = send("Runtime.evaluate", {"expression": expr, "returnByValue": True}, sess)
        v = r.get("result", {}).get("value")
        if v == "ok":
            out("PASS: %s: %s" % (prefix, name))
        else:
            out("FAIL: %s: %s: %s" % (prefix, name, v))
            failed += 1
    shot = os.environ.get("CDP_SCREENSHOT")
    if shot:  # the whole page, 1400 px wide, for a person to look at
        send("Emulation.setDeviceMetricsOverride", {"width": 1400, "height": 900, "deviceScaleFactor": 1, "mobile": False}, sess)
        # a sticky header would be painted once per slice: pin it to the top
        send("Runtime.evaluate", {"expression": "var h = document.querySelector('header'); if (h) h.style.position = 'static';"}, sess)
        time.sleep(0.3)
        size = send("Page.getLayoutMetrics", {}, sess)["cssContentSize"]
        import base64
        for k in range(0, min(int(size["height"]), 16000), 1200):  # FILE-0.png, FILE-1.png, ...
            png = send("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True,
                       "clip": {"x": 0, "y": k, "width": 1400, "height": min(1200, size["height"] - k), "scale": 1}}, sess)["data"]
            open(shot.replace(".png", "-%d.png" % (k // 1200)), "wb").write(base64.b64decode(png))
    time.sleep(0.2)
    events.extend(read_messages(0.2))
    problems, requests = [], []
    for e in events:
        m, p = e.get("method"), e.get("params", {})
        if m == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert"):
            problems.append("console.%s: %s" % (p["type"], " ".join(str(a.get("value", a.get("description"))) for a in p.get("args", []))))
        elif m == "Runtime.exceptionThrown":
            d = p.get("exceptionDetails", {})
            problems.append("exception: %s %s" % (d.get("exception", {}).get("description", ""), d.get("text", "")))
        elif m == "Log.entryAdded" and p.get("entry", {}).get("level") == "error":
            problems.append("log: %s %s" % (p["entry"].get("text"), p["entry"].get("url", "")))
        elif m == "Network.requestWillBeSent":
            requests.append(p["request"]["url"])
    if problems:
        out("FAIL: %s: no console errors: %s" % (prefix, " | ".join(problems[:5])))
        failed += 1
    else:
        out("PASS: %s: no console errors" % prefix)
    net = [u for u in requests if u != url.split("#")[0] and not u.startswith("data:")]
    if net:
        out("FAIL: %s: no network requests: %s" % (prefix, " ".join(net[:5])))
        failed += 1
    else:
        out("PASS: %s: no network requests" % prefix)
except Exception as e:  # report, never hang
    out("FAIL: %s: %s" % (prefix, e))
    failed += 1
finally:
    try:
        os.write(to_w, json.dumps({"id": 999999, "method": "Browser.close"}).encode() + b"\0")
    except OSError:
        pass
    try:
        chrome.wait(timeout=5)
    except subprocess.TimeoutExpired:
        chrome.kill()
        chrome.wait()
    shutil.rmtree(profile, ignore_errors=True)
sys.exit(1 if failed else 0)
