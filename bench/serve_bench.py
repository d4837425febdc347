#!/usr/bin/env python3
"""Serving speed: qafila's /feed.xml (gzip) against nginx serving the very same bytes as a static file.

    python3 bench/serve_bench.py [--seconds 10] [--connections 64]

The release binary polls 20 generated local sources (100 stories in the feed), then wrk (Debian package) loads
`/feed.xml` with `Accept-Encoding: gzip` over 64 connections, first on qafila, then on nginx (Debian package) serving
the same feed with `gzip_static` (a precompressed .gz beside it, as qafila keeps it in memory). Both on 127.0.0.1,
each with 2 worker threads/processes on this 2-core machine. Prints requests/s and p99 latency for each and the ratio.
"""
import argparse
import gzip
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import http.server  # noqa: E402
from poll_bench import Handler, feed  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def need(tool: str, package: str):
    if shutil.which(tool) is None:
        subprocess.run(["apt-get", "install", "-y", "-qq", package], check=True,
                       env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})


def free_port() -> int:
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wrk(url: str, seconds: int, connections: int) -> dict:
    out = subprocess.run(["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency",
                          "-H", "Accept-Encoding: gzip", url], capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", out)
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}[p99.group(2)]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {"rps": rps, "p99_ms": float(p99.group(1)) * scale, "non2xx": int(errors.group(1)) if errors else 0}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--connections", type=int, default=64)
    args = ap.parse_args()
    need("wrk", "wrk")
    need("nginx", "nginx-light")
    subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=ROOT, check=True)

    Handler.feeds = {f"/feed/{s}.xml": feed(s, 5) for s in range(20)}
    source_server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=source_server.serve_forever, daemon=True).start()
    tmp = Path(tempfile.mkdtemp())
    qport, nport = free_port(), free_port()
    lines = ["[feed]", 'title = "قافلة"', 'description = "bench"', f'link = "http://127.0.0.1:{qport}/"',
             f'self_url = "http://127.0.0.1:{qport}/feed.xml"', f'output = "{tmp}/feed.xml"',
             "[server]", f'listen = "127.0.0.1:{qport}"', "[storage]", f'database = "{tmp}/q.db"',
             "[fetch]", "per_host_min_gap_ms = 0", "per_host_concurrency = 16"]
    for s in range(20):
        lines += ["[[source]]", f'id = "s{s}"', f'name = "منفذ {s}"',
                  f'url = "http://127.0.0.1:{source_server.server_address[1]}/feed/{s}.xml"']
    (tmp / "q.toml").write_text("\n".join(lines) + "\n")
    qafila = subprocess.Popen([str(ROOT / "target/release/qafila"), "--config", str(tmp / "q.toml"), "run"],
                              env={**os.environ, "RUST_LOG": "error"})
    nginx = None
    try:
        url = f"http://127.0.0.1:{qport}/feed.xml"
        body = b""
        for _ in range(200):
            try:
                body = urllib.request.urlopen(url).read()
                if body.count(b"<item>") >= 100:
                    break
            except OSError:
                pass
            time.sleep(0.1)
        root = tmp / "www"
        root.mkdir()
        (root / "feed.xml").write_bytes(body)
        (root / "feed.xml.gz").write_bytes(gzip.compress(body, 9))
        # nginx's workers run as an unprivileged user: let them read the files.
        for p in (tmp, root, root / "feed.xml", root / "feed.xml.gz"):
            p.chmod(0o755 if p.is_dir() else 0o644)
        (tmp / "nginx.conf").write_text(f"""
worker_processes 2;
pid {tmp}/nginx.pid;
error_log {tmp}/nginx-error.log;
events {{ worker_connections 1024; }}
http {{
  access_log off;
  types {{ application/rss+xml xml; }}
  sendfile on; tcp_nopush on; keepalive_requests 100000;
  gzip_static on;
  server {{ listen 127.0.0.1:{nport}; root {root}; etag on; }}
}}
""")
        nginx = subprocess.Popen(["nginx", "-c", str(tmp / "nginx.conf"), "-g", "daemon off;"])
        time.sleep(0.5)
        print(f"feed: {len(body)} bytes, {body.count(b'<item>')} items; gzip {len((root / 'feed.xml.gz').read_bytes())} bytes")
        q = wrk(url, args.seconds, args.connections)
        n = wrk(f"http://127.0.0.1:{nport}/feed.xml", args.seconds, args.connections)
        print(f"command: wrk -t2 -c{args.connections} -d{args.seconds}s --latency -H 'Accept-Encoding: gzip' URL")
        print(f"qafila: {q['rps']:.0f} req/s  p99 {q['p99_ms']:.2f} ms  non-2xx {q['non2xx']}")
        print(f"nginx:  {n['rps']:.0f} req/s  p99 {n['p99_ms']:.2f} ms  non-2xx {n['non2xx']}")
        if q["non2xx"] or n["non2xx"]:
            sys.exit("a server answered errors: the comparison is void")
        print(f"ratio qafila/nginx: {q['rps'] / n['rps']:.2f}")
    finally:
        qafila.terminate()
        qafila.wait()
        if nginx:
            nginx.terminate()
            nginx.wait()
        source_server.shutdown()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
