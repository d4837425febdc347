#!/usr/bin/env python3
"""The day archive's cost: how long `/day/YYYY-MM-DD` takes on an archive of many days, rendered and cached.

    python3 bench/day_archive.py --days 60  --per-day 100    # 6,000 items
    python3 bench/day_archive.py --days 730 --per-day 100    # 73,000 items: the same per-day cost is expected

A threaded HTTP server on 127.0.0.1 serves generated Arabic RSS feeds whose items are spread evenly over the last
`--days` days (`--per-day` items a day, from `--sources` outlets). The release binary polls them once into a fresh
SQLite database (`qafila poll`), then `qafila run` serves it. For `--samples` random days the script times, over
loopback with one keep-alive connection: the first request of the day (read from the database on the read-only
connection, rendered, compressed: a cache miss), the same request again (the cache), a conditional request
(`If-None-Match` → 304), and a request for a day outside the archive (404). Prints median, p95 and max in ms of each,
the page size, and the items stored. A day costs its own stories (index ranges), so the miss time should follow
`--per-day`, not `--days`.
"""
import argparse
import http.client
import http.server
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

PLACES = ["كازاخستان", "قرغيزستان", "طاجيكستان", "تركمانستان", "أوزبكستان", "أذربيجان", "أرمينيا", "جورجيا",
          "الشيشان", "داغستان", "أستانا", "بيشكيك", "دوشنبه", "عشق آباد", "طشقند", "باكو", "يريفان", "تبليسي"]
VERBS = ["تستضيف", "توقع", "تبحث", "تعلن", "تفتتح", "ترفض", "تدعم", "تستقبل", "تطلق", "تناقش"]
TOPICS = ["اتفاقية للطاقة", "منتدى للاستثمار", "محادثات حدودية", "خط أنابيب جديد", "قمة إقليمية",
          "مشروعا للسكك الحديدية", "خطة لمكافحة التضخم", "مهرجانا ثقافيا", "انتخابات برلمانية", "ممرا تجاريا"]


def feed(source: int, sources: int, days: int, per_day: int, start: datetime) -> bytes:
    """Source `source`'s share of every day: item n of the archive is on day n // per_day."""
    out = ['<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0"><channel>',
           f"<title>منفذ {source}</title><link>https://outlet{source}.example/</link><description>أخبار</description>"]
    for n in range(source, days * per_day, sources):
        day, k = divmod(n, per_day)
        when = start + timedelta(days=day, seconds=k * 86_000 // per_day)
        place, verb, topic = PLACES[n % len(PLACES)], VERBS[(n // 7) % len(VERBS)], TOPICS[(n // 13) % len(TOPICS)]
        title = f"{place} {verb} {topic} رقم {n} بقيمة {n % 97 + 1} مليون دولار"
        summary = (f"&lt;p&gt;قالت مصادر رسمية في {place} إن الحكومة {verb} {topic} "
                   f"في إطار خطة التنمية، وسط اهتمام إقليمي ودولي متزايد ({n}).&lt;/p&gt;")
        out.append(f"<item><title>{title}</title><link>https://outlet{source}.example/news/{n}</link>"
                   f"<guid isPermaLink=\"false\">o{source}-{n}</guid>"
                   f"<pubDate>{format_datetime(when)}</pubDate>"
                   f"<description>{summary}</description></item>")
    out.append("</channel></rss>\n")
    return "".join(out).encode()


def free_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def stats(ms: list) -> str:
    ms = sorted(ms)
    p95 = ms[min(len(ms) - 1, int(len(ms) * 0.95))]
    return f"median {statistics.median(ms):7.2f}  p95 {p95:7.2f}  max {ms[-1]:7.2f} ms"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--days", type=int, default=60)
    ap.add_argument("--per-day", type=int, default=100)
    ap.add_argument("--sources", type=int, default=50)
    ap.add_argument("--samples", type=int, default=40)
    args = ap.parse_args()

    binary = ROOT / "target/release/qafila"
    subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=ROOT, check=True)
    today = datetime.now(timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)
    # The archive ends the day before yesterday, so that no item is dated in the future.
    start = today - timedelta(days=args.days + 2)
    feeds = {f"/f/{s}.xml": feed(s, args.sources, args.days, args.per_day, start) for s in range(args.sources)}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            body = feeds.get(self.path)
            self.send_response(200 if body else 404)
            self.send_header("Content-Type", "application/rss+xml")
            self.send_header("Content-Length", str(len(body or b"")))
            self.end_headers()
            self.wfile.write(body or b"")

        def log_message(self, *a):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    fport, qport = server.server_address[1], free_port()

    with tempfile.TemporaryDirectory() as work:
        work = Path(work)
        config = work / "qafila.toml"
        text = f"""[feed]
title = "قافلة"
description = "أخبار"
link = "http://127.0.0.1:{qport}/"
self_url = "http://127.0.0.1:{qport}/feed.xml"
output = "{work}/feed.xml"
[server]
listen = "127.0.0.1:{qport}"
[storage]
database = "{work}/qafila.db"
retention_days = {args.days + 30}
[fetch]
schedule = "0 0 1 1 *"
per_host_min_gap_ms = 0
per_host_concurrency = 16
[limits]
max_items_per_fetch = 100000
"""
        for s in range(args.sources):
            text += f'\n[[source]]\nid = "o{s}"\nname = "منفذ {s}"\nurl = "http://127.0.0.1:{fport}/f/{s}.xml"\n'
        config.write_text(text)
        t0 = time.monotonic()
        poll = subprocess.run([binary, "--config", config, "poll"], capture_output=True, text=True)
        if poll.returncode != 0:
            sys.exit(poll.stderr)
        print(f"poll: {time.monotonic() - t0:.1f} s for {args.days} days × {args.per_day} items "
              f"({args.days * args.per_day} items, {args.sources} sources)")
        daemon = subprocess.Popen([binary, "--config", config, "run"], stderr=subprocess.DEVNULL,
                                  env={**os.environ, "RUST_LOG": "warn"})
        try:
            conn = None
            for _ in range(300):
                try:
                    conn = http.client.HTTPConnection("127.0.0.1", qport, timeout=30)
                    conn.request("GET", "/")
                    r = conn.getresponse()
                    r.read()
                    if r.status == 200:
                        break
                except OSError:
                    pass
                time.sleep(0.1)

            def get(path, headers=None):
                t = time.perf_counter()
                conn.request("GET", path, headers=headers or {"Accept-Encoding": "br"})
                r = conn.getresponse()
                body = r.read()
                return (time.perf_counter() - t) * 1000, r, body

            rng = random.Random(7)
            days = rng.sample(range(args.days), min(args.samples, args.days))
            miss, hit, cond, missing, sizes = [], [], [], [], []
            for d in days:
                path = f"/day/{(start + timedelta(days=d)).date().isoformat()}"
                ms, r, body = get(path)
                assert r.status == 200, (path, r.status, body[:200])
                miss.append(ms)
                sizes.append(len(body))
                ms, r, _ = get(path)
                hit.append(ms)
                etag = r.getheader("ETag")
                ms, r, _ = get(path, {"Accept-Encoding": "br", "If-None-Match": etag})
                assert r.status == 304, r.status
                cond.append(ms)
                ms, r, _ = get(f"/day/{(start - timedelta(days=400 + d)).date().isoformat()}")
                assert r.status == 404, r.status
                missing.append(ms)
            _, r, html = get(f"/day/{(start + timedelta(days=days[0])).date().isoformat()}", {"Accept-Encoding": "identity"})
            stories = html.decode().count('<li class="story">')
            print(f"day pages sampled: {len(days)}, {stories} stories on the first, "
                  f"{statistics.median(sizes) / 1024:.1f} KiB brotli (median)")
            print(f"first request (read + render + compress): {stats(miss)}")
            print(f"again (cache):                            {stats(hit)}")
            print(f"If-None-Match (304):                      {stats(cond)}")
            print(f"day before the archive (404):             {stats(missing)}")
        finally:
            daemon.terminate()
            daemon.wait(timeout=20)
    server.shutdown()


if __name__ == "__main__":
    main()
