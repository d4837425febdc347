#!/usr/bin/env python3
"""Compares what qafila stores with what Python's feedparser reads, over feedparser's own test feeds.

    bash tests/feedparser_suite.sh                      # downloads the suite, builds, runs, prints the ratio
    python3 tests/feedparser_suite.py --suite DIR --binary target/debug/qafila [--verbose]

DIR is an unpacked feedparser source distribution (its `tests/` folder holds ~2,200 small feeds); its own
`feedparser` package is imported from there, so the reference is exactly that release. The script:

1. serves DIR/tests on 127.0.0.1 with the headers each file asks for in its `Header:` comment lines (as
   feedparser's own test server does), so that both readers see the same bytes and the same Content-Type;
2. lets feedparser read every file of wellformed/, illformed/, encoding/ and entities/ and keeps the files in which
   it finds entries with a title or a link;
3. polls each kept file as the only source of a fresh qafila database (one `qafila poll` per file, so that two
   files sharing a link cannot hide each other's items), and reads the stored items back from SQLite;
4. compares, entry by entry, title, link, date and summary with feedparser's reading (titles and summaries as plain
   text: tags removed, entities decoded, whitespace collapsed) and checks the written feed for unsafe markup;
5. prints every miss and the ratio of files whose entries all came through.
"""
import argparse
import calendar
import html
import http.server
import os
import re
import sqlite3
import subprocess
import sys
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit

FOLDERS = ["wellformed", "illformed", "encoding", "entities"]
HEADER_RE = re.compile(rb"^Header:\s+([^:]+):(.+)$", re.MULTILINE)
UNSAFE_RE = re.compile(r"<script|<iframe|<object|<embed|\son[a-z]+\s*=|javascript:|vbscript:|data:text/html",
                       re.IGNORECASE)


class SuiteHandler(http.server.SimpleHTTPRequestHandler):
    """Serves the suite's files with the headers their `Header:` comment lines ask for."""

    def send_head(self):
        path = self.translate_path(self.path)
        if not os.path.isfile(path):
            self.send_error(404)
            return None
        with open(path, "rb") as f:
            blob = f.read()
        headers = {k.decode().strip(): v.decode().strip() for k, v in HEADER_RE.findall(blob)}
        status = int(headers.pop("Status", 200))
        self.send_response(status)
        content_type = headers.pop("Content-type", None) or headers.pop("Content-Type", None)
        self.send_header("Content-Type", content_type or self.guess_type(path))
        self.send_header("Content-Length", str(len(blob)))
        for k, v in headers.items():
            if k.lower() not in ("content-length", "content-encoding", "last-modified", "etag"):
                self.send_header(k, v)
        self.end_headers()
        return open(path, "rb")

    def log_message(self, *args):
        pass


def serve(root: Path):
    handler = lambda *a, **kw: SuiteHandler(*a, directory=str(root), **kw)  # noqa: E731
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd


def plain(text) -> str:
    """HTML or text as comparable plain text."""
    if not text:
        return ""
    text = re.sub(r"(?is)<(script|style)\b.*?</\1\s*>", " ", text)
    text = re.sub(r"(?s)<!--.*?-->", " ", text)
    text = re.sub(r"(?s)<[a-zA-Z/!?][^>]*>", " ", text)
    # Twice: a title written `&amp;lt;` is `&lt;` to both readers, but one of them may decode a level further.
    text = html.unescape(html.unescape(text))
    return " ".join(text.split())


def reading(entry) -> dict:
    """feedparser's reading of one entry, in comparable form."""
    parsed = entry.get("published_parsed") or entry.get("updated_parsed")
    summary = entry.get("summary") or ""
    if not summary and entry.get("content"):
        summary = entry["content"][0].get("value", "")
    # A title declared plain text is compared as it is; any other is HTML to feedparser (sanitized markup).
    title = entry.get("title") or ""
    if (entry.get("title_detail") or {}).get("type") == "text/plain":
        title = " ".join(title.split())
    else:
        title = plain(title)
    return {
        "title": title,
        "link": entry.get("link") or "",
        "date": calendar.timegm(parsed) if parsed else None,
        "summary": plain(summary),
    }


def stored(db: Path) -> list:
    if not db.exists():
        return []
    conn = sqlite3.connect(str(db))
    try:
        rows = conn.execute(
            "SELECT title, link, summary, content, published, sort_time, first_seen FROM items ORDER BY id"
        ).fetchall()
    finally:
        conn.close()
    out = []
    for title, link, summary, content, published, sort_time, first_seen in rows:
        date = published if published is not None else (sort_time if sort_time != first_seen else None)
        out.append({
            # qafila's titles are plain text already: only whitespace is normalized.
            "title": " ".join((title or "").split()),
            "link": link or "",
            "date": date,
            "summary": plain(summary or content),
        })
    return out


def same_text(want: str, got: str) -> bool:
    if want == got:
        return True
    # feedparser cuts nothing, but it drops some markup-looking text it cannot parse; accept a reading that
    # holds all of feedparser's words in order.
    return bool(want) and want.replace(" ", "") == got.replace(" ", "")


def same_link(want: str, got: str) -> bool:
    """Equal URLs: scheme and host are case-insensitive, and qafila writes them in lower case."""
    def norm(u):
        p = urlsplit(u)
        return (p.scheme.lower(), p.netloc.lower(), p.path or "/", p.query, p.fragment)
    return want == got or (bool(want) and norm(want) == norm(got))


def compare(want: list, got: list) -> list:
    """The differences between feedparser's entries and the stored items, as text; [] when all came through."""
    problems = []
    remaining = list(got)
    matched = []
    for i, w in enumerate(want):
        match = None
        for g in remaining:
            if (w["link"] and same_link(w["link"], g["link"])) or (w["title"] and same_text(w["title"], g["title"])):
                match = g
                break
        if match is None and not w["title"] and not w["link"] and remaining:
            # Nothing to match on (a title that was only markup): take the next stored item.
            match = remaining[0]
        if match is None:
            # qafila keeps one item for entries identical in title, link and text (one source's duplicate).
            twin = next((g for v, g in matched if v == w), None)
            if twin is not None:
                continue
            problems.append(f"entry {i}: not stored (title {w['title'][:60]!r}, link {w['link']!r})")
            continue
        remaining.remove(match)
        matched.append((w, match))
        if w["link"] and not same_link(w["link"], match["link"]):
            problems.append(f"entry {i}: link {match['link'][:80]!r} != feedparser {w['link'][:80]!r}")
        for field in ("title", "summary"):
            if w[field] and not same_text(w[field], match[field]):
                problems.append(f"entry {i}: {field} {match[field][:80]!r} != feedparser {w[field][:80]!r}")
        if w["date"] is not None and w["date"] != match["date"]:
            problems.append(f"entry {i}: date {match['date']} != feedparser {w['date']}")
    return problems


def run_one(binary: Path, work: Path, n: int, url: str) -> tuple:
    d = work / f"f{n}"
    d.mkdir()
    config = d / "qafila.toml"
    config.write_text(f"""[feed]
title = "suite"
description = "suite"
link = "http://qafila.test/"
self_url = "http://qafila.test/feed.xml"
max_items = 1000
output = "{d / 'feed.xml'}"

[server]
listen = "127.0.0.1:0"

[storage]
database = "{d / 'qafila.db'}"

[fetch]
timeout_secs = 5
connect_timeout_secs = 5
per_host_min_gap_ms = 0
allow_private = true

[[source]]
id = "f{n}"
name = "suite file {n}"
url = "{url}"
""")
    run = subprocess.run([str(binary), "--config", str(config), "poll"], capture_output=True, text=True,
                         env={**os.environ, "RUST_LOG": "error"}, timeout=120)
    out = run.stdout.strip() + (" " + run.stderr.strip() if run.stderr.strip() else "")
    items = stored(d / "qafila.db")
    feed = (d / "feed.xml").read_text(encoding="utf-8") if (d / "feed.xml").exists() else ""
    return items, feed, out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--suite", required=True, type=Path, help="unpacked feedparser sdist")
    ap.add_argument("--binary", required=True, type=Path, help="the qafila binary")
    ap.add_argument("--verbose", action="store_true", help="also list the files that came through")
    ap.add_argument("--only", help="only files whose path contains this text")
    args = ap.parse_args()

    sys.path.insert(0, str(args.suite))
    import feedparser  # noqa: E402  (the suite's own release)

    tests = args.suite / "tests"
    httpd = serve(args.suite)
    base = f"http://127.0.0.1:{httpd.server_address[1]}"
    files = []
    for folder in FOLDERS:
        for path in sorted((tests / folder).rglob("*.xml")):
            rel = path.relative_to(args.suite).as_posix()
            if args.only and args.only not in rel:
                continue
            url = f"{base}/{rel}"
            result = feedparser.parse(url)
            want = [reading(e) for e in result.entries if e.get("title") or e.get("link")]
            if want:
                files.append((rel, url, want))
    print(f"feedparser {feedparser.__version__}: {len(files)} files with entries that have a title or link",
          flush=True)

    with tempfile.TemporaryDirectory(prefix="qafila-fpsuite-") as tmp:
        work = Path(tmp)
        with ThreadPoolExecutor(max_workers=2) as pool:
            results = list(pool.map(lambda a: run_one(args.binary, work, *a),
                                    [(n, url) for n, (_, url, _) in enumerate(files)]))
    httpd.shutdown()

    passed = with_items = 0
    unsafe = []
    for (rel, _, want), (items, feed, out) in zip(files, results):
        if UNSAFE_RE.search(feed):
            unsafe.append(rel)
        if items:
            with_items += 1
        problems = compare(want, items) if items else [f"no items stored ({out})"]
        if problems:
            print(f"MISS {rel}")
            for p in problems:
                print(f"     {p}")
        else:
            passed += 1
            if args.verbose:
                print(f"ok   {rel}")
    total = len(files)
    print(f"files with items stored: {with_items}/{total} = {100 * with_items / max(total, 1):.1f} %")
    print(f"files whose entries all match feedparser (title, link, date, summary): "
          f"{passed}/{total} = {100 * passed / max(total, 1):.1f} %")
    print(f"published feeds with unsafe markup: {len(unsafe)}" + (f" ({', '.join(unsafe)})" if unsafe else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
