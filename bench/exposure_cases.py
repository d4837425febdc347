#!/usr/bin/env python3
"""Issue 10's exposure and fault cases, measured on one binary (run it on an old and a new build to compare).

    python3 bench/exposure_cases.py [--bin target/debug/qafila] [--seconds 20]

Everything runs on 127.0.0.1 against a small local feed server; each case prints one line with its figure:
- credentials: how many times a source URL's password and api_key show in the feed file, `export-opml`,
  `qafila sources` and the served `/sources.opml`;
- ssrf-name: fetches of a source configured as `http://localhost:PORT/…` (no allow_private);
- ssrf-moved: fetches of a loopback URL stored as a public source's permanent-redirect target;
- headers: the security headers `/` carries;
- db-full: fetches in `--seconds` while the database cannot be written (a full tmpfs; needs root for `mount`)
  with a 1-second schedule and no per-host gap, and what `/healthz` answers;
- output: whether `/feed.xml` keeps changing while `[feed] output` cannot be written;
- two-writers: what a second `poll` does while `run` has the database.
"""
import argparse
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import http.server
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HITS: dict = {}


class Feeds(http.server.BaseHTTPRequestHandler):
    """`/fresh.xml`: 20 items, a new one every second; `/static.xml`: 3 items; `/hub`: accepts POSTs."""

    def do_GET(self):
        HITS[self.path] = HITS.get(self.path, 0) + 1
        now = int(time.time())
        stamps = range(now - 19, now + 1) if self.path.startswith("/fresh") else range(3)
        items = "".join(
            f"<item><title>باكو: تحديث رقم {t} عن الطاقة والغاز {t * 7}</title><link>https://f.example/{t}</link>"
            f"<guid>f-{t}</guid><description>تفاصيل التحديث {t}</description></item>" for t in stamps)
        body = (f'<?xml version="1.0"?><rss version="2.0"><channel><title>منفذ</title><link>https://f.example/'
                f'</link><description>-</description>{items}</channel></rss>').encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/rss+xml; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *a):
        pass


def start_feeds() -> int:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Feeds)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server.server_address[1]


def free_port() -> int:
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def config(d: Path, port: int, sources: list, fetch: str = "", db: Path = None, output: Path = None) -> Path:
    text = f"""[feed]
title = "قافلة"
description = "أخبار"
link = "http://q.test/"
self_url = "http://q.test/feed.xml"
output = "{output or d / 'out/feed.xml'}"
[server]
listen = "127.0.0.1:{port}"
[storage]
database = "{db or d / 'state/qafila.db'}"
[fetch]
timeout_secs = 2
per_host_min_gap_ms = 0
per_host_concurrency = 8
{fetch}
"""
    for sid, url, extra in sources:
        text += f'\n[[source]]\nid = "{sid}"\nname = "منفذ {sid}"\nurl = "{url}"\n{extra}\n'
    path = d / "qafila.toml"
    path.write_text(text)
    return path


def run(binary, cfg, *args, timeout=120):
    return subprocess.run([binary, "--config", str(cfg), *args], capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, "RUST_LOG": "info"})


class Daemon:
    def __init__(self, binary, cfg, port):
        self.log = open(Path(cfg).parent / "daemon.log", "w")
        self.p = subprocess.Popen([binary, "--config", str(cfg), "run"], stdout=subprocess.DEVNULL, stderr=self.log)
        self.base = f"http://127.0.0.1:{port}"

    def get(self, path, timeout=5):
        try:
            with urllib.request.urlopen(self.base + path, timeout=timeout) as r:
                return r.status, dict(r.headers), r.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as e:
            return e.code, dict(e.headers), e.read().decode("utf-8", "replace")
        except OSError:
            return None, {}, ""

    def wait(self, path="/", status=200, seconds=60):
        end = time.time() + seconds
        while time.time() < end:
            if self.p.poll() is not None:
                return False
            if self.get(path)[0] == status:
                return True
            time.sleep(0.3)
        return False

    def stop(self):
        self.p.terminate()
        try:
            self.p.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.p.kill()


def case_credentials(binary, feeds):
    with tempfile.TemporaryDirectory() as t:
        d, port = Path(t), free_port()
        url = f"http://reader:hunter2@127.0.0.1:{feeds}/static.xml?api_key=K3YK3Y&lang=ar"
        cfg = config(d, port, [("secret", url, "")])
        run(binary, cfg, "poll")
        shown = {
            "feed file": (d / "out/feed.xml").read_text() if (d / "out/feed.xml").exists() else "",
            "export-opml": run(binary, cfg, "export-opml").stdout,
            "sources": run(binary, cfg, "sources", "--json").stdout,
        }
        daemon = Daemon(binary, cfg, port)
        daemon.wait()
        shown["/sources.opml"] = daemon.get("/sources.opml")[2]
        daemon.stop()
        counts = {k: v.count("hunter2") + v.count("K3YK3Y") for k, v in shown.items()}
        print(f"credentials: secrets shown {counts}")


def case_ssrf(binary, feeds):
    with tempfile.TemporaryDirectory() as t:
        d = Path(t)
        HITS.clear()
        cfg = config(d, free_port(), [("by-name", f"http://localhost:{feeds}/static.xml?n", ""),
                                      ("public", "http://feeds.invalid/rss.xml", "")])
        run(binary, cfg, "poll")
        print(f"ssrf-name: fetches of a name resolving to loopback without allow_private: "
              f"{HITS.get('/static.xml?n', 0)}")
        db = sqlite3.connect(d / "state/qafila.db")
        db.execute("UPDATE sources SET moved_to = ? WHERE id = 'public'", (f"http://127.0.0.1:{feeds}/static.xml?m",))
        db.commit()
        db.close()
        run(binary, cfg, "poll")
        print(f"ssrf-moved: fetches of a public source's stored moved_to on 127.0.0.1: {HITS.get('/static.xml?m', 0)}")


def case_headers(binary, feeds):
    with tempfile.TemporaryDirectory() as t:
        d, port = Path(t), free_port()
        cfg = config(d, port, [("a", f"http://127.0.0.1:{feeds}/static.xml", "")])
        daemon = Daemon(binary, cfg, port)
        daemon.wait()
        _, headers, _ = daemon.get("/")
        headers = {k.lower(): v for k, v in headers.items()}
        daemon.stop()
        names = ["Content-Security-Policy", "X-Content-Type-Options", "Referrer-Policy", "X-Frame-Options"]
        print("headers: " + ", ".join(f"{n}={'yes' if n.lower() in headers else 'no'}" for n in names))


def case_db_full(binary, feeds, seconds):
    if os.geteuid() != 0 or shutil.which("mount") is None:
        print("db-full: skipped (needs root to mount a small tmpfs)")
        return
    with tempfile.TemporaryDirectory() as t:
        d, port = Path(t), free_port()
        mnt = d / "small"
        mnt.mkdir()
        if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mnt)]).returncode != 0:
            print("db-full: skipped (mount failed)")
            return
        try:
            cfg = config(d, port, [("fresh", f"http://127.0.0.1:{feeds}/fresh.xml", "")],
                         fetch='schedule = "* * * * * *"', db=mnt / "qafila.db")
            run(binary, cfg, "poll")
            # Fill the file system, leaving a little room for the WAL and shared-memory files to open.
            with open(mnt / "filler", "wb") as f:
                try:
                    while True:
                        f.write(b"\0" * 65536)
                        f.flush()
                except OSError:
                    pass
            os.truncate(mnt / "filler", os.path.getsize(mnt / "filler") - 96 * 1024)
            HITS.clear()
            daemon = Daemon(binary, cfg, port)
            daemon.wait("/healthz")
            time.sleep(seconds)
            fetches = HITS.get("/fresh.xml", 0)
            status, _, body = daemon.get("/healthz")
            daemon.stop()
            print(f"db-full: {fetches} fetches in {seconds} s with the database full; /healthz {status} {body[:160]}")
        finally:
            subprocess.run(["umount", str(mnt)])


def case_output(binary, feeds):
    with tempfile.TemporaryDirectory() as t:
        d, port = Path(t), free_port()
        (d / "blocker").write_text("a file where a directory should be")
        cfg = config(d, port, [("fresh", f"http://127.0.0.1:{feeds}/fresh.xml", "")],
                     fetch='schedule = "* * * * * *"', output=d / "blocker/feed.xml")
        daemon = Daemon(binary, cfg, port)
        started = daemon.wait("/feed.xml")
        first = daemon.get("/feed.xml")[2]
        time.sleep(4)
        later = daemon.get("/feed.xml")[2]
        alive = daemon.p.poll() is None
        daemon.stop()
        print(f"output: daemon serving: {started and alive}; /feed.xml changed in 4 s with the file unwritable: "
              f"{bool(first) and later != first}")


def case_two_writers(binary, feeds):
    with tempfile.TemporaryDirectory() as t:
        d, port = Path(t), free_port()
        cfg = config(d, port, [("a", f"http://127.0.0.1:{feeds}/static.xml", "")])
        daemon = Daemon(binary, cfg, port)
        daemon.wait()
        second = run(binary, cfg, "poll")
        reader = run(binary, cfg, "stories")
        daemon.stop()
        print(f"two-writers: second `poll` exit {second.returncode} ({second.stderr.strip()[:120]!r}); "
              f"`stories` beside it exit {reader.returncode}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=str(ROOT / "target/debug/qafila"))
    ap.add_argument("--seconds", type=int, default=20)
    args = ap.parse_args()
    feeds = start_feeds()
    print(f"binary: {args.bin}")
    case_credentials(args.bin, feeds)
    case_ssrf(args.bin, feeds)
    case_headers(args.bin, feeds)
    case_db_full(args.bin, feeds, min(args.seconds, 60))
    case_output(args.bin, feeds)
    case_two_writers(args.bin, feeds)


if __name__ == "__main__":
    sys.exit(main())
