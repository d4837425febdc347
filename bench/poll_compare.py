#!/usr/bin/env python3
"""One poll round three ways, side by side: qafila against the floor and a Python aggregator (issue 9).

    python3 bench/poll_compare.py                       # 200 sources × 50 new Arabic items, 3 runs each
    python3 bench/poll_compare.py --sources 200 --items 50 --runs 5

The feeds (bench/poll_bench.py's Arabic generator) are written to a temporary directory and each is served on
its own loopback address (127.0.0.2 … ), so no per-host limit applies (one event loop answers them all, see `serve`). Each run, into a
fresh database, under /usr/bin/time -v:
  * floor:  examples/poll_floor.rs parses the same files with feed-rs and inserts them with rusqlite, one
            transaction per source (no fetching, matching or publishing);
  * qafila: `qafila poll` (release build): fetch, parse, normalize and tag, place into stories, store, publish;
  * python: bench/feedparser_aggregator.py fetches, parses with feedparser and stores with sqlite3 (feedparser is
            installed with pip into a cache directory outside the repository at the first run).
  * baseline (with `--baseline PATH`): another qafila binary (e.g. main's, copied aside) polling the same feeds
            in the same runs, so that a change is measured before and after in one sitting on a shared machine.
Prints each run, then the median wall time, CPU time (user + system) and peak RSS of each, and the ratios the
issue asks for. The machine may be shared: compare CPU time as well as wall time.
"""
import argparse
import asyncio
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
from poll_bench import feed  # noqa: E402  (the same Arabic items as the other poll benchmark)

PYLIB = Path(tempfile.gettempdir()) / "qafila-bench-pylib"


class _Loop:
    """One asyncio event loop on one thread, serving every bench feed (started at the first `serve`)."""
    loop = None

    @classmethod
    def get(cls) -> asyncio.AbstractEventLoop:
        if cls.loop is None:
            cls.loop = asyncio.new_event_loop()
            threading.Thread(target=cls.loop.run_forever, daemon=True).start()
        return cls.loop


class _Feed(asyncio.Protocol):
    """Answers every GET on a connection with the same prebuilt response (keep-alive unless asked to close)."""

    def __init__(self, response: bytes):
        self.response, self.pending = response, b""

    def connection_made(self, transport):
        self.transport = transport

    def data_received(self, data: bytes):
        self.pending += data
        while b"\r\n\r\n" in self.pending:
            head, self.pending = self.pending.split(b"\r\n\r\n", 1)
            self.transport.write(self.response)
            if b"connection: close" in head.lower():
                self.transport.close()
                return


class FeedServer:
    """A feed served on `address` (any free port): `server_address` and `shutdown()` like http.server's."""

    def __init__(self, address: str, body: bytes):
        response = (b"HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml; charset=utf-8\r\n"
                    b"Content-Length: %d\r\n\r\n" % len(body)) + body
        loop = _Loop.get()
        self.server = asyncio.run_coroutine_threadsafe(
            loop.create_server(lambda: _Feed(response), address, 0), loop).result()
        self.server_address = self.server.sockets[0].getsockname()

    def shutdown(self):
        self.server.get_loop().call_soon_threadsafe(self.server.close)


def serve(address: str, body: bytes) -> FeedServer:
    """Serves `body` at every path of `address` on a free port.

    The 200 feeds are answered by one event loop with prebuilt responses, not by http.server (a thread and a
    parse in Python per request): the servers stand in for remote outlets, and on a 2-core machine
    http.server's ~0.12 s of CPU per round ran on the cores the measured program needed (~0.03 s this way).
    """
    return FeedServer(address, body)


def timed(cmd, env=None) -> dict:
    proc = subprocess.run(["/usr/bin/time", "-v", *cmd], capture_output=True, text=True,
                          env={**os.environ, "RUST_LOG": "error", **(env or {})})
    if proc.returncode != 0:
        sys.exit(f"{cmd[0]} failed ({proc.returncode}):\n{proc.stdout[-1500:]}\n{proc.stderr[-2500:]}")
    wall = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (\S+)", proc.stderr).group(1)
    seconds = sum(float(p) * 60 ** i for i, p in enumerate(reversed(wall.split(":"))))
    rss_kb = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", proc.stderr).group(1))
    cpu = sum(float(re.search(rf"{k} time \(seconds\): (\S+)", proc.stderr).group(1)) for k in ("User", "System"))
    return {"seconds": seconds, "cpu": cpu, "rss_mb": rss_kb / 1024, "stdout": proc.stdout}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sources", type=int, default=200)
    ap.add_argument("--items", type=int, default=50)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--concurrency", type=int, default=16)
    ap.add_argument("--no-build", action="store_true", help="use the binaries already in target/release")
    ap.add_argument("--baseline", type=Path, help="another qafila binary to run beside target/release/qafila")
    ap.add_argument("--only", choices=["floor", "qafila", "python", "baseline"], action="append",
                    help="run only these (repeatable)")
    ap.add_argument("--wrap", default="", help="prefix for the qafila command, e.g. 'perf record -g -o q.perf'")
    args = ap.parse_args()
    if args.sources > 250:
        sys.exit("at most 250 sources (one loopback address each)")

    if not args.no_build:
        subprocess.run(["cargo", "build", "--release", "--quiet", "--bin", "qafila", "--example", "poll_floor"],
                       cwd=ROOT, check=True)
    if not (PYLIB / "feedparser").exists():
        subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--target", str(PYLIB), "feedparser"],
                       check=True)
    qafila = ROOT / "target/release/qafila"
    floor = ROOT / "target/release/examples/poll_floor"

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        feeds = tmp / "feeds"
        feeds.mkdir()
        servers, urls = [], []
        for s in range(args.sources):
            body = feed(s, args.items)
            (feeds / f"s{s:03}.xml").write_bytes(body)
            server = serve(f"127.0.0.{s + 2}", body)
            servers.append(server)
            urls.append(f"http://127.0.0.{s + 2}:{server.server_address[1]}/feed.xml")
        (tmp / "urls.txt").write_text("\n".join(urls) + "\n")
        feed_bytes = sum(p.stat().st_size for p in feeds.iterdir())

        def qafila_config(run: str) -> Path:
            d = tmp / f"qafila-{run}"
            d.mkdir()
            lines = ["[feed]", 'title = "قافلة"', 'description = "bench"', 'link = "http://127.0.0.1/"',
                     'self_url = "http://127.0.0.1/feed.xml"', f'output = "{d}/feed.xml"',
                     "[storage]", f'database = "{d}/qafila.db"',
                     "[fetch]", f"concurrency = {args.concurrency}", "per_host_min_gap_ms = 0"]
            for s, url in enumerate(urls):
                lines += ["[[source]]", f'id = "s{s}"', f'name = "منفذ {s}"', f'url = "{url}"']
            path = d / "qafila.toml"
            path.write_text("\n".join(lines) + "\n")
            return path

        only = args.only or ["floor", "qafila", "python"] + (["baseline"] if args.baseline else [])
        if "baseline" in only and not args.baseline:
            sys.exit("--only baseline needs --baseline PATH")
        results = {k: [] for k in only}
        for run in range(args.runs):
            if "floor" in only:
                r = timed([str(floor), str(feeds), str(tmp / f"floor-{run}.db")])
                results["floor"].append(r)
            for name, binary in (("qafila", qafila), ("baseline", args.baseline)):
                if name not in only:
                    continue
                config = qafila_config(f"{name}-{run}")
                r = timed([*args.wrap.split(), str(binary), "--config", str(config), "poll"])
                new = sum(int(m.group(1)) for m in re.finditer(r"new (\d+)", r["stdout"]))
                if new != args.sources * args.items:
                    sys.exit(f"{name} stored {new} new items, expected {args.sources * args.items}:\n"
                             f"{r['stdout'][-1500:]}")
                results[name].append(r)
            if "python" in only:
                r = timed([sys.executable, str(ROOT / "bench/feedparser_aggregator.py"), str(tmp / "urls.txt"),
                           str(tmp / f"python-{run}.db")], env={"PYTHONPATH": str(PYLIB)})
                results["python"].append(r)
            print(f"run {run + 1}: " + "  ".join(
                f"{k} {v[-1]['seconds']:.2f} s ({v[-1]['cpu']:.2f} s CPU) / {v[-1]['rss_mb']:.1f} MB"
                for k, v in results.items()), flush=True)
        for server in servers:
            server.shutdown()

    med = {k: tuple(statistics.median(r[f] for r in v) for f in ("seconds", "cpu", "rss_mb"))
           for k, v in results.items()}
    items = args.sources * args.items
    print(f"sources={args.sources} items_per_source={args.items} items={items} feed_bytes={feed_bytes} "
          f"runs={args.runs} (medians)")
    for k, (secs, cpu, rss) in med.items():
        print(f"{k:7} wall_seconds={secs:.3f} cpu_seconds={cpu:.3f} us_per_item={secs / items * 1e6:.1f} "
              f"peak_rss_mb={rss:.1f}")
    if "baseline" in med and "qafila" in med:
        print(f"qafila/baseline wall={med['qafila'][0] / med['baseline'][0]:.2f}x "
              f"cpu={med['qafila'][1] / med['baseline'][1]:.2f}x "
              f"rss={med['qafila'][2] / med['baseline'][2]:.2f}x")
    if not all(k in med for k in ("floor", "qafila", "python")):
        return
    print(f"qafila/floor={med['qafila'][0] / med['floor'][0]:.2f}x (goal <= 2)  "
          f"python/qafila={med['python'][0] / med['qafila'][0]:.1f}x (goal >= 10)  "
          f"qafila_peak_rss_mb={med['qafila'][2]:.1f} (goal <= 64)")


if __name__ == "__main__":
    main()
