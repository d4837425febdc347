#!/usr/bin/env python3
"""Slow clients: normal readers' latency while many clients read a large document through a tiny TCP window.

    python3 bench/slow_clients.py [--bin target/debug/qafila] [--attackers 100] [--seconds 30]

A local feed server (127.0.0.1 only) serves one source of 100 Arabic stories with long texts, so that the daemon's
`/feed.xml` is several MB. `--attackers` connections (100) each ask for `/feed.xml` uncompressed with a 1 KiB
receive buffer and then read 1 KiB per second. Meanwhile one normal reader fetches `/` (the HTML page) and
`/feed.xml` (gzip) back to back for `--seconds` (30). Prints the document size, the normal readers' p50/p99/max
latency and failures, and how many attack connections the daemon still held open at the end. Bounded: at most
`--attackers` sockets and `--seconds` + about 20 s in all; everything is stopped at the end.
"""
import argparse
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import http.server
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORDS = ("كازاخستان أستانا قرغيزستان بيشكيك طاجيكستان دوشنبه أوزبكستان طشقند أذربيجان باكو أرمينيا يريفان جورجيا "
         "تبليسي الشيشان غروزني داغستان محج قلعة اتفاقية تعاون اقتصادي الطاقة الغاز النفط الحدود وزير الخارجية "
         "الرئيس البرلمان الانتخابات مشروع بقيمة مليون دولار قمة منتدى استثمار").split()


def big_feed(items: int, text_bytes: int) -> bytes:
    """Items that share no words (random Arabic letter strings), so that none joins another's story."""
    rnd = random.Random(7)
    letters = "ابتثجحخدذرزسشصضطظعغفقكلمنهوي"

    def word():
        return "".join(rnd.choice(letters) for _ in range(rnd.randint(4, 8)))
    out = ['<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>منفذ</title>'
           '<link>https://big.example/</link><description>أخبار</description>']
    for i in range(items):
        title = rnd.choice(WORDS) + " " + " ".join(word() for _ in range(8))
        text = []
        size = 0
        while size < text_bytes:
            w = word()
            text.append(w)
            size += len(w.encode()) + 1
        out.append(f"<item><title>{title}</title><link>https://big.example/{i}</link><guid>big-{i}</guid>"
                   f"<pubDate>Fri, 27 Nov 2026 {i % 24:02}:{i % 60:02}:00 GMT</pubDate>"
                   f"<description>{' '.join(text)}</description></item>")
    out.append("</channel></rss>")
    return "".join(out).encode()


def free_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def serve_feed(body: bytes) -> int:
    class H(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Type", "application/rss+xml; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *a):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server.server_address[1]


def get(url: str, gzip: bool = False, timeout: float = 30) -> int:
    req = urllib.request.Request(url, headers={"Accept-Encoding": "gzip"} if gzip else {})
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return len(r.read())


class Attacker(threading.Thread):
    def __init__(self, port: int, stop: threading.Event):
        super().__init__(daemon=True)
        self.port, self.stop, self.open, self.read = port, stop, False, 0

    def run(self):
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1024)
        try:
            s.connect(("127.0.0.1", self.port))
            s.sendall(b"GET /feed.xml HTTP/1.1\r\nHost: q\r\n\r\n")
            self.open = True
            s.settimeout(1.0)
            while not self.stop.is_set():
                try:
                    chunk = s.recv(1024)
                except socket.timeout:
                    continue
                if not chunk:
                    break
                self.read += len(chunk)
                time.sleep(1.0)
        except OSError:
            pass
        finally:
            self.open = self.open and not self.closed_by_peer(s)
            s.close()

    @staticmethod
    def closed_by_peer(s: socket.socket) -> bool:
        """True when the daemon has closed (or reset) the connection."""
        try:
            s.setblocking(False)
            while True:
                data = s.recv(65536)
                if not data:
                    return True
        except BlockingIOError:
            return False
        except OSError:
            return True


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=str(ROOT / "target/debug/qafila"))
    ap.add_argument("--attackers", type=int, default=100)
    ap.add_argument("--seconds", type=int, default=30)
    args = ap.parse_args()
    args.attackers = min(args.attackers, 500)

    feed_port = serve_feed(big_feed(100, 35_000))
    port = free_port()
    tmp = tempfile.TemporaryDirectory()
    d = Path(tmp.name)
    (d / "qafila.toml").write_text(f"""[feed]
title = "قافلة"
description = "أخبار"
link = "http://q.test/"
self_url = "http://q.test/feed.xml"
output = "{d}/out/feed.xml"
[server]
listen = "127.0.0.1:{port}"
[storage]
database = "{d}/state/qafila.db"
[fetch]
schedule = "0 0 1 1 *"
[[source]]
id = "big"
name = "منفذ"
url = "http://127.0.0.1:{feed_port}/feed.xml"
""")
    log = open(d / "daemon.log", "w")
    daemon = subprocess.Popen([args.bin, "--config", str(d / "qafila.toml"), "run"],
                              stdout=subprocess.DEVNULL, stderr=log)
    base = f"http://127.0.0.1:{port}"
    try:
        size = 0
        deadline = time.time() + 120
        while time.time() < deadline:
            try:
                size = get(base + "/feed.xml")
                if size > 1_000_000:
                    break
            except OSError:
                pass
            time.sleep(0.5)
        if size <= 1_000_000:
            print("the daemon never served the large feed; its log:\n" + (d / "daemon.log").read_text()[-3000:])
            return 1
        print(f"binary: {args.bin}")
        print(f"/feed.xml: {size} bytes uncompressed")
        stop = threading.Event()
        attackers = [Attacker(port, stop) for _ in range(args.attackers)]
        for a in attackers:
            a.start()
        time.sleep(1.0)
        latencies, failures = [], 0
        end = time.time() + args.seconds
        while time.time() < end:
            for path, gz in (("/", False), ("/feed.xml", True)):
                t = time.perf_counter()
                try:
                    get(base + path, gzip=gz, timeout=10)
                    latencies.append((time.perf_counter() - t) * 1000)
                except OSError:
                    failures += 1
        stop.set()
        for a in attackers:
            a.join(timeout=5)
        still_open = sum(1 for a in attackers if a.open)
        latencies.sort()
        p99 = latencies[max(0, int(len(latencies) * 0.99) - 1)] if latencies else float("nan")
        print(f"normal requests: {len(latencies)} ok, {failures} failed in {args.seconds} s")
        if latencies:
            print(f"latency ms: p50 {statistics.median(latencies):.1f}  p99 {p99:.1f}  max {latencies[-1]:.1f}")
        print(f"attack connections still open after {args.seconds} s: {still_open} of {args.attackers} "
              f"(read {sum(a.read for a in attackers) // 1024} KiB in all)")
    finally:
        daemon.terminate()
        try:
            daemon.wait(timeout=15)
        except subprocess.TimeoutExpired:
            daemon.kill()
        tmp.cleanup()


if __name__ == "__main__":
    sys.exit(main())
