#!/usr/bin/env python3
"""How Python's feedparser (a widely used reader library, `pip install feedparser`) sees one feed document.

usage: feedparser_view.py DOCUMENT

Prints the format it recognised, the feed title and language, and the first entries with their parsed dates;
exits 1 when feedparser flags the document as malformed ("bozo") or finds no entries.
"""
import sys

import feedparser


def main(document):
    parsed = feedparser.parse(document)
    print(f"format {parsed.get('version') or '?'}, title {parsed.feed.get('title')!r}, "
          f"language {parsed.feed.get('language')!r}, {len(parsed.entries)} entries")
    for entry in parsed.entries[:3]:
        when = entry.get("published_parsed") or entry.get("updated_parsed")
        stamp = "no date" if when is None else "%04d-%02d-%02dT%02d:%02d:%02dZ" % tuple(when[:6])
        print(f"  {entry.get('title')!r} <{entry.get('link')}> {stamp}")
    if parsed.bozo:
        print(f"malformed: {parsed.get('bozo_exception')!r}")
        return 1
    return 0 if parsed.entries else 1


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1]))
