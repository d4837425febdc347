#!/usr/bin/env python3
"""Measures qafila against the hostile feeds of issue 10 (input side), through the real binary.

    cargo build --release
    python3 bench/hostile_cases.py                       # every case, target/release/qafila
    python3 bench/hostile_cases.py --bin /tmp/old/qafila --case items --timeout 60

A threaded HTTP server on 127.0.0.1 serves one generated hostile feed per case; the binary polls it into a fresh
SQLite database under /usr/bin/time -v (or runs as the daemon, for the cases that concern `run`). For each case it
prints what happened and the figures: wall time, peak RSS, database growth, document sizes, time to /healthz.

Cases:
  nested   one item whose description is <div> x 100,000 + x + </div> x 100,000 (1.1 MB): `poll`, then `run` on
           that database (seconds until /healthz answers)
  items    1,000,000 empty <item/> (7 MB): `poll`
  jsonitems  a JSON Feed of 1,000,000 items {"id":"n"} (16 MB; the body cap is raised to 20 MB): `poll`
  title    one item whose title is 9 MB naming every country: `run` (peak RSS, size of /feed.atom)
  guids    331,141 items with only a <guid> (9.9 MB): `poll` (database growth, peak RSS)
  laughs   a DTD declaring nested entities (billion laughs): `poll` (the source's poll line)
  bidi     a title with an unbalanced U+202E: `poll` (is the override closed in /feed.xml?)
"""
import argparse
import http.server
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

COUNTRIES = ["كازاخستان", "قرغيزستان", "طاجيكستان", "تركمانستان", "أوزبكستان", "أذربيجان", "أرمينيا", "جورجيا",
             "أبخازيا", "أوسيتيا الجنوبية", "الشيشان", "داغستان", "إنغوشيا", "ناغورنو كاراباخ"]


def rss(items: str, channel_extra: str = "", prolog: str = "") -> bytes:
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n{prolog}<rss version="2.0"><channel><title>hostile</title>'
            f"<link>http://hostile.test/</link><description>d</description>{channel_extra}{items}"
            "</channel></rss>\n").encode()


def case_feed(case: str) -> bytes:
    now = time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime())
    if case == "nested":
        n = 100_000
        desc = "<div>" * n + "x" + "</div>" * n
        return rss(f"<item><title>طاجيكستان تعلن</title><link>http://hostile.test/n</link><pubDate>{now}</pubDate>"
                   f"<description><![CDATA[{desc}]]></description></item>")
    if case == "items":
        return rss("<item/>" * 1_000_000)
    if case == "jsonitems":
        items = ",".join('{"id":"%d"}' % i for i in range(1_000_000))
        return ('{"version":"https://jsonfeed.org/version/1.1","title":"t","items":[%s]}' % items).encode()
    if case == "title":
        words = " ".join(COUNTRIES) + " "
        title = (words * (9_000_000 // len(words.encode()) + 1))
        return rss(f"<item><title>{title}</title><link>http://hostile.test/t</link><pubDate>{now}</pubDate></item>")
    if case == "guids":
        return rss("".join(f"<item><guid>{i}</guid></item>" for i in range(331_141)))
    if case == "laughs":
        dtd = ('<!DOCTYPE rss [\n<!ENTITY lol "lol">\n'
               + "".join(f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">\n'
                         for i in range(1, 10))
               + "]>\n")
        return rss(f"<item><title>&lol9;</title><link>http://hostile.test/l</link></item>", prolog=dtd)
    if case == "bidi":
        return rss(f"<item><title>باكو \u202Eتعلن خطة</title><author>x@y (\u202Bمراسل)</author>"
                   f"<link>http://hostile.test/b</link><pubDate>{now}</pubDate></item>")
    raise SystemExit(f"unknown case {case}")


class Handler(http.server.BaseHTTPRequestHandler):
    body = b""
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Type", "application/rss+xml; charset=utf-8")
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args):
        pass


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def write_config(d: Path, feed_port: int, listen_port: int) -> Path:
    cfg = d / "qafila.toml"
    cfg.write_text(f"""[feed]
title = "قافلة"
description = "d"
link = "http://qafila.test/"
self_url = "http://qafila.test/feed.xml"
output = "{d}/feed.xml"

[server]
listen = "127.0.0.1:{listen_port}"

[storage]
database = "{d}/qafila.db"

[fetch]
timeout_secs = 60
per_host_min_gap_ms = 0
allow_private = true

[[source]]
id = "hostile"
name = "منفذ"
url = "http://127.0.0.1:{feed_port}/feed.xml"
""")
    return cfg


def timed(cmd, timeout):
    """Runs cmd under /usr/bin/time -v; returns (exit code or 'timeout', seconds, peak RSS MB, stdout)."""
    start = time.monotonic()
    p = subprocess.Popen(["/usr/bin/time", "-v"] + cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        out, err = p.communicate(timeout=timeout)
        code = p.returncode
    except subprocess.TimeoutExpired:
        # Kill the measured process (time's child) first: time then reports its peak and exits.
        for kid in subprocess.run(["pgrep", "-P", str(p.pid)], capture_output=True, text=True).stdout.split():
            os.kill(int(kid), signal.SIGKILL)
        out, err = p.communicate()
        code = "timeout"
    secs = time.monotonic() - start
    m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", err)
    rss_mb = int(m.group(1)) / 1024 if m else float("nan")
    return code, secs, rss_mb, out


def get(url, timeout=5):
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.status, r.read()
    except Exception:
        return None, b""


def run_daemon(binary, cfg, listen_port, timeout, ready):
    """Starts `run` under /usr/bin/time -v; waits for ready(port) (or timeout), then SIGTERM. Returns
    (seconds until /healthz answered or None, ready result, peak RSS MB)."""
    p = subprocess.Popen(["/usr/bin/time", "-v", binary, "--config", str(cfg), "run"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                         env={**os.environ, "RUST_LOG": "warn"})
    start = time.monotonic()
    healthz, result = None, None
    while time.monotonic() - start < timeout:
        if healthz is None and get(f"http://127.0.0.1:{listen_port}/healthz", 1)[0] == 200:
            healthz = time.monotonic() - start
        if healthz is not None:
            result = ready(listen_port)
            if result is not None:
                break
        time.sleep(0.2)
    # /usr/bin/time's child is the daemon: signal it, not time itself.
    kids = subprocess.run(["pgrep", "-P", str(p.pid)], capture_output=True, text=True).stdout.split()
    for k in kids:
        os.kill(int(k), signal.SIGTERM)
    try:
        _, err = p.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        for k in kids:
            os.kill(int(k), signal.SIGKILL)
        _, err = p.communicate()
    m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", err)
    return healthz, result, (int(m.group(1)) / 1024 if m else float("nan"))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=str(ROOT / "target/release/qafila"))
    ap.add_argument("--case", action="append", help="nested, items, jsonitems, title, guids, laughs, bidi (default: all)")
    ap.add_argument("--timeout", type=float, default=120)
    args = ap.parse_args()
    cases = args.case or ["nested", "items", "jsonitems", "title", "guids", "laughs", "bidi"]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_address[1]
    for case in cases:
        Handler.body = case_feed(case)
        with tempfile.TemporaryDirectory() as tmp:
            d = Path(tmp)
            listen = free_port()
            cfg = write_config(d, port, listen)
            size = len(Handler.body) / 1e6
            if case == "jsonitems":
                text = cfg.read_text().replace("[fetch]\n", "[fetch]\nmax_body_bytes = 20000000\n")
                cfg.write_text(text)
            if case in ("nested", "items", "jsonitems", "guids", "laughs", "bidi"):
                code, secs, rss_mb, out = timed([args.bin, "--config", str(cfg), "poll"], args.timeout)
                db = sum(f.stat().st_size for f in d.glob("qafila.db*")) / 1e6
                line = out.strip().replace("\t", " ")[:160]
                print(f"{case}: body {size:.1f} MB; poll exit {code}, {secs:.1f} s, peak RSS {rss_mb:.0f} MB, "
                      f"database {db:.1f} MB; poll line: {line}")
                if case == "bidi" and (d / "feed.xml").exists():
                    text = (d / "feed.xml").read_text()
                    title = re.findall(r"<item>.*?<title>(.*?)</title>", text, re.S)
                    print(f"bidi: published title {title[0]!r}" if title else "bidi: no item published")
                if case == "nested":
                    healthz, _, rss_run = run_daemon(args.bin, cfg, listen, args.timeout, lambda p: True)
                    print(f"nested: run on that database: /healthz after "
                          f"{'%.1f s' % healthz if healthz is not None else 'never (%.0f s)' % args.timeout}, "
                          f"peak RSS {rss_run:.0f} MB")
            if case == "title":
                def ready(p):
                    status, body = get(f"http://127.0.0.1:{p}/feed.atom", 30)
                    return len(body) if status == 200 and b"<entry" in body else None
                healthz, atom, rss_run = run_daemon(args.bin, cfg, listen, args.timeout, ready)
                print(f"title: body {size:.1f} MB; run: /healthz after "
                      f"{'%.1f s' % healthz if healthz is not None else 'never'}, "
                      f"/feed.atom {atom if atom else float('nan')} bytes, peak RSS {rss_run:.0f} MB")
    server.shutdown()


if __name__ == "__main__":
    sys.exit(main())
