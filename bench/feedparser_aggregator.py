#!/usr/bin/env python3
"""The Python comparison for `bench/poll_compare.py`: a minimal aggregator that fetches every URL of a list
(16 at a time, like qafila's default concurrency), parses each feed with feedparser and stores its entries with
sqlite3, one transaction per source, in a WAL database with synchronous = FULL (qafila's durability).

    python3 bench/feedparser_aggregator.py URLS_FILE DB_PATH     # feedparser must be importable
"""
import concurrent.futures
import sqlite3
import sys
import time
import urllib.request

import feedparser


def fetch(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=30) as r:
        return r.read()


def main():
    urls_file, db = sys.argv[1:3]
    urls = [u.strip() for u in open(urls_file, encoding="utf-8") if u.strip()]
    started = time.monotonic()
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = FULL")
    conn.execute("""CREATE TABLE IF NOT EXISTS items (
        id INTEGER PRIMARY KEY, source TEXT NOT NULL, guid TEXT NOT NULL, link TEXT, title TEXT NOT NULL,
        summary TEXT, published INTEGER, UNIQUE (source, guid))""")
    items = 0
    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        futures = {pool.submit(fetch, u): u for u in urls}
        for done in concurrent.futures.as_completed(futures):
            url = futures[done]
            feed = feedparser.parse(done.result())
            conn.execute("BEGIN")
            for e in feed.entries:
                published = e.get("published_parsed")
                conn.execute(
                    "INSERT OR IGNORE INTO items (source, guid, link, title, summary, published) VALUES (?,?,?,?,?,?)",
                    (url, e.get("id", e.get("link", "")), e.get("link"), e.get("title", ""), e.get("summary"),
                     int(time.mktime(published)) if published else None))
                items += 1
            conn.execute("COMMIT")
    print(f"python: {len(urls)} sources, {items} items in {time.monotonic() - started:.3f} s")


if __name__ == "__main__":
    main()
