#!/usr/bin/env python3
"""Times one `qafila poll` round over many local sources, with its peak memory.

    python3 bench/poll_bench.py --sources 200 --items 50            # issue 2: 200 sources × 50 Arabic items
    python3 bench/poll_bench.py --sources 1000 --items 50            # issue 4: 1,000 sources answering 200
    python3 bench/poll_bench.py --sources 1000 --items 50 --mode 304 # issue 4: 1,000 sources answering 304

A threaded HTTP server on 127.0.0.1 serves generated RSS feeds (with ETag, answering 304 to a matching
If-None-Match). The release binary polls them into a fresh SQLite database under /usr/bin/time -v; in 304 mode a
first poll fills the database and the second one is timed. Per-host politeness is turned off in the generated
config, since every source is on the same loopback host. Prints wall time, items/s and peak RSS.
"""
import argparse
import hashlib
import http.server
import os
import re
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

PLACES = ["كازاخستان", "قرغيزستان", "طاجيكستان", "تركمانستان", "أوزبكستان", "أذربيجان", "أرمينيا", "جورجيا",
          "الشيشان", "داغستان", "أستانا", "بيشكيك", "دوشنبه", "عشق آباد", "طشقند", "باكو", "يريفان", "تبليسي"]
VERBS = ["تستضيف", "توقع", "تبحث", "تعلن", "تفتتح", "ترفض", "تدعم", "تستقبل", "تطلق", "تناقش"]
TOPICS = ["اتفاقية للطاقة", "منتدى للاستثمار", "محادثات حدودية", "خط أنابيب جديد", "قمة إقليمية",
          "مشروعا للسكك الحديدية", "خطة لمكافحة التضخم", "مهرجانا ثقافيا", "انتخابات برلمانية", "ممرا تجاريا"]


def feed(source: int, items: int) -> bytes:
    out = ['<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0"><channel>',
           f"<title>منفذ {source}</title><link>https://outlet{source}.example/</link><description>أخبار</description>"]
    for i in range(items):
        n = source * 1000 + i
        place, verb, topic = PLACES[n % len(PLACES)], VERBS[(n // 7) % len(VERBS)], TOPICS[(n // 13) % len(TOPICS)]
        title = f"{place} {verb} {topic} بقيمة {n % 97 + 1} مليون دولار"
        summary = (f"&lt;p&gt;قالت مصادر رسمية في {place} إن الحكومة {verb} {topic} "
                   f"في إطار خطة التنمية لعام 2027، وسط اهتمام إقليمي ودولي متزايد.&lt;/p&gt;")
        hour, minute = (n // 60) % 24, n % 60
        out.append(f"<item><title>{title}</title><link>https://outlet{source}.example/news/{n}</link>"
                   f"<guid isPermaLink=\"false\">o{source}-{n}</guid>"
                   f"<pubDate>Fri, 20 Nov 2026 {hour:02}:{minute:02}:00 GMT</pubDate>"
                   f"<description>{summary}</description></item>")
    out.append("</channel></rss>\n")
    return "".join(out).encode()


class Handler(http.server.BaseHTTPRequestHandler):
    feeds: dict = {}
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        body = self.feeds.get(self.path)
        if body is None:
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        etag = '"' + hashlib.sha1(body).hexdigest() + '"'
        if self.headers.get("If-None-Match") == etag:
            self.send_response(304)
            self.send_header("ETag", etag)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/rss+xml; charset=utf-8")
        self.send_header("ETag", etag)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def time_poll(binary: Path, config: Path) -> dict:
    proc = subprocess.run(["/usr/bin/time", "-v", str(binary), "--config", str(config), "poll"],
                          capture_output=True, text=True, env={**os.environ, "RUST_LOG": "error"})
    if proc.returncode != 0:
        sys.exit(f"poll failed ({proc.returncode}):\n{proc.stderr[-2000:]}")
    wall = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (\S+)", proc.stderr).group(1)
    parts = [float(p) for p in wall.split(":")]
    seconds = sum(p * 60 ** i for i, p in enumerate(reversed(parts)))
    rss_kb = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", proc.stderr).group(1))
    lines = proc.stdout.splitlines()
    new = sum(int(m.group(1)) for line in lines if (m := re.search(r"new (\d+)", line)))
    statuses = {}
    for line in lines:
        status = line.split("\t")[1]
        statuses[status] = statuses.get(status, 0) + 1
    return {"seconds": seconds, "rss_mb": rss_kb / 1024, "new": new, "statuses": statuses}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sources", type=int, default=200)
    ap.add_argument("--items", type=int, default=50)
    ap.add_argument("--mode", choices=["200", "304"], default="200")
    ap.add_argument("--concurrency", type=int, default=16)
    args = ap.parse_args()

    subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=ROOT, check=True)
    binary = ROOT / "target/release/qafila"
    Handler.feeds = {f"/feed/{s}.xml": feed(s, args.items) for s in range(args.sources)}
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_address[1]

    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "bench.toml"
        lines = [
            "[feed]", 'title = "قافلة"', 'description = "bench"', 'link = "http://127.0.0.1/"',
            'self_url = "http://127.0.0.1/feed.xml"', f'output = "{tmp}/feed.xml"',
            "[storage]", f'database = "{tmp}/bench.db"',
            "[fetch]", f"concurrency = {args.concurrency}", "per_host_concurrency = 64", "per_host_min_gap_ms = 0",
        ]
        for s in range(args.sources):
            lines += ["[[source]]", f'id = "s{s}"', f'name = "منفذ {s}"', f'url = "http://127.0.0.1:{port}/feed/{s}.xml"']
        config.write_text("\n".join(lines) + "\n")
        if args.mode == "304":
            time_poll(binary, config)
        r = time_poll(binary, config)
        feed_bytes = sum(len(b) for b in Handler.feeds.values())
        print(f"sources={args.sources} items_per_source={args.items} mode={args.mode} "
              f"concurrency={args.concurrency} feed_bytes={feed_bytes}")
        print(f"statuses={r['statuses']}")
        print(f"wall_seconds={r['seconds']:.2f} new_items={r['new']} "
              f"items_per_second={r['new'] / r['seconds']:.0f} peak_rss_mb={r['rss_mb']:.1f}")
    server.shutdown()


if __name__ == "__main__":
    main()
