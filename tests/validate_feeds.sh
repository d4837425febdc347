#!/usr/bin/env bash
# Validates qafila's real output as readers' tools see it: the daemon polls the fixture feeds, then the W3C Feed
# Validation Service's own code checks /feed.xml, /feed.atom and a country slice, and Python's feedparser parses
# them (both through the small checkers in tests/tools/). Needs a checkout of github w3c/feedvalidator (not part of
# this repository): FEEDVALIDATOR=/path/to/its/src; the Python packages are installed with pip.
#
#   FEEDVALIDATOR="$HOME/feedvalidator/src" bash tests/validate_feeds.sh
set -euo pipefail
cd "$(dirname "$0")/.."
: "${FEEDVALIDATOR:?set FEEDVALIDATOR to the src folder of a w3c/feedvalidator checkout}"
pip install -q html5lib rdflib feedparser >/dev/null 2>&1 || true
# shellcheck source=tests/fixture_daemon.sh
source tests/fixture_daemon.sh
fail=0
# The topic feeds: أذربيجان -"محادثات السلام", form-encoded as a reader subscribes to it.
topic="q=%D8%A3%D8%B0%D8%B1%D8%A8%D9%8A%D8%AC%D8%A7%D9%86+-%22%D9%85%D8%AD%D8%A7%D8%AF%D8%AB%D8%A7%D8%AA+%D8%A7%D9%84%D8%B3%D9%84%D8%A7%D9%85%22"
for path in /feed.xml /feed.atom /country/kz.xml /country/ge.atom "/search.xml?$topic" "/search.atom?$topic"; do
  curl -fsS "$base$path" > "$work/doc"
  echo "== W3C validator: $path"
  python3 tests/tools/w3c_validate.py "$work/doc" "$base$path" || fail=1
  echo "== feedparser: $path"
  python3 tests/tools/feedparser_view.py "$work/doc" || fail=1
done
curl -fsS "$base/feed.json" | python3 -c '
import json, sys
d = json.load(sys.stdin)
assert d["version"] == "https://jsonfeed.org/version/1.1" and d["language"] == "ar", d
assert isinstance(d["title"], str) and isinstance(d["items"], list) and d["items"]
for i in d["items"]:
    assert isinstance(i["id"], str) and ("content_html" in i or "content_text" in i), i
print("== JSON Feed: version, title, items, ids and content present and typed (%d items)" % len(d["items"]))
' || fail=1
exit $fail
