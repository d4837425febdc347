#!/usr/bin/env python3
"""The daemon's first round, measured: `qafila run` polls 200 loopback sources × 50 new Arabic items (the feeds
of bench/poll_compare.py, each source on its own address 127.0.0.2 …), stores them and publishes every document;
the script waits until `/feed.xml` carries the round's stories, gives the publish a second to finish, and reads the
process's CPU time and peak RSS from /proc. This is the path `qafila poll` does not take: rendering ~200 documents
(every format of the feed and of each country slice) and compressing what is served at once.

    python3 bench/daemon_round.py                                   # target/release/qafila, 3 runs
    python3 bench/daemon_round.py --baseline /tmp/qafila-before     # and another binary, run for run beside it

Prints each run and the medians. The machine may be shared: compare CPU time as well as wall time.
"""
import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
from poll_bench import feed  # noqa: E402
from poll_compare import serve  # noqa: E402


def free_port() -> int:
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def one_round(binary: Path, d: Path, urls: list, items: int) -> dict:
    port = free_port()
    lines = ["[feed]", 'title = "قافلة"', 'description = "bench"', 'link = "http://127.0.0.1/"',
             'self_url = "http://127.0.0.1/feed.xml"', f'output = "{d}/feed.xml"',
             "[server]", f'listen = "127.0.0.1:{port}"',
             "[storage]", f'database = "{d}/qafila.db"',
             "[fetch]", "concurrency = 16", "per_host_min_gap_ms = 0"]
    for s, url in enumerate(urls):
        # Due at once (never fetched), then not before next year: one round.
        lines += ["[[source]]", f'id = "s{s}"', f'name = "منفذ {s}"', f'url = "{url}"', 'schedule = "0 0 0 1 1 *"']
    (d / "qafila.toml").write_text("\n".join(lines) + "\n")
    started = time.monotonic()
    proc = subprocess.Popen([str(binary), "--config", str(d / "qafila.toml"), "run"], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, env={**os.environ, "RUST_LOG": "error"})
    try:
        stories = 0
        while time.monotonic() - started < 300:
            try:
                body = urllib.request.urlopen(f"http://127.0.0.1:{port}/feed.xml", timeout=5).read()
                stories = body.count(b"<item>")
                if stories >= min(items, 100):
                    break
            except OSError:
                pass
            time.sleep(0.05)
        else:
            sys.exit(f"{binary}: the round was not published within 300 s")
        seconds = time.monotonic() - started
        time.sleep(1.0)  # the publish swaps the documents, then writes the feed file
        status = Path(f"/proc/{proc.pid}/status").read_text().splitlines()
        kb = {l.split(":")[0]: int(l.split()[1]) for l in status if l.startswith(("VmHWM", "VmRSS"))}
        fields = Path(f"/proc/{proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        cpu = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    finally:
        proc.terminate()
        proc.wait()
    return {"seconds": seconds, "cpu": cpu, "peak_mb": kb["VmHWM"] / 1024, "rss_mb": kb["VmRSS"] / 1024}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sources", type=int, default=200)
    ap.add_argument("--items", type=int, default=50)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--baseline", type=Path, help="another qafila binary to run beside target/release/qafila")
    args = ap.parse_args()
    if args.sources > 250:
        sys.exit("at most 250 sources (one loopback address each)")
    binaries = {"qafila": ROOT / "target/release/qafila"}
    if args.baseline:
        binaries["baseline"] = args.baseline
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        servers, urls = [], []
        for s in range(args.sources):
            server = serve(f"127.0.0.{s + 2}", feed(s, args.items))
            servers.append(server)
            urls.append(f"http://127.0.0.{s + 2}:{server.server_address[1]}/feed.xml")
        results = {k: [] for k in binaries}
        for run in range(args.runs):
            for name, binary in binaries.items():
                d = tmp / f"{name}-{run}"
                d.mkdir()
                results[name].append(one_round(binary, d, urls, args.items))
            print(f"run {run + 1}: " + "  ".join(
                f"{k} {v[-1]['seconds']:.2f} s ({v[-1]['cpu']:.2f} s CPU) / peak {v[-1]['peak_mb']:.1f} MB, "
                f"{v[-1]['rss_mb']:.1f} MB after" for k, v in results.items()), flush=True)
        for server in servers:
            server.shutdown()
    print(f"sources={args.sources} items_per_source={args.items} runs={args.runs} (medians)")
    for name, runs in results.items():
        med = {f: statistics.median(r[f] for r in runs) for f in ("seconds", "cpu", "peak_mb", "rss_mb")}
        print(f"{name:8} published_after_seconds={med['seconds']:.2f} cpu_seconds={med['cpu']:.2f} "
              f"peak_rss_mb={med['peak_mb']:.1f} rss_after_publish_mb={med['rss_mb']:.1f}")


if __name__ == "__main__":
    main()
