#!/usr/bin/env bash
# Validates qafila's real output as readers' tools see it: the daemon polls the fixture feeds, then the W3C Feed
# Validation Service's own code checks /feed.xml, /feed.atom and a country slice, and Python's feedparser parses
# them. Needs a checkout of github w3c/feedvalidator (not part of this repository): FEEDVALIDATOR=/path/to/src,
# and the wrappers in ../shared/tools.
#
#   FEEDVALIDATOR=/work/fv/feedvalidator/src bash tests/validate_feeds.sh
set -euo pipefail
cd "$(dirname "$0")/.."
: "${FEEDVALIDATOR:?set FEEDVALIDATOR to the src folder of a w3c/feedvalidator checkout}"
tools=${SHARED_TOOLS:-../shared/tools}
pip install -q html5lib rdflib feedparser >/dev/null 2>&1 || true
cargo build --quiet
work=$(mktemp -d)
cleanup() { kill "${qafila_pid:-}" "${fixtures_pid:-}" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
fport=$(free_port); qport=$(free_port)
python3 -m http.server "$fport" --bind 127.0.0.1 --directory tests/fixtures/e2e >/dev/null 2>&1 &
fixtures_pid=$!
for _ in $(seq 100); do curl -fsS -o /dev/null "http://127.0.0.1:$fport/outlet-a.xml" 2>/dev/null && break; sleep 0.1; done
base="http://127.0.0.1:$qport"
cat > "$work/qafila.toml" <<TOML
[feed]
title = "قافلة: أخبار آسيا الوسطى والقوقاز"
description = "أخبار آسيا الوسطى والقوقاز من الصحافة العربية"
link = "$base/"
self_url = "$base/feed.xml"
output = "$work/feed.xml"
[server]
listen = "127.0.0.1:$qport"
[storage]
database = "$work/qafila.db"
[fetch]
per_host_min_gap_ms = 0
[[source]]
id = "asia"
name = "وكالة آسيا"
url = "http://127.0.0.1:$fport/outlet-a.xml"
[[source]]
id = "caucasus"
name = "قناة القوقاز"
url = "http://127.0.0.1:$fport/outlet-b.atom"
[[source]]
id = "tashkent"
name = "صحيفة طشقند"
url = "http://127.0.0.1:$fport/cp1256.xml"
[[source]]
id = "ashgabat"
name = "أخبار عشق آباد"
url = "http://127.0.0.1:$fport/iso-8859-6.xml"
[[source]]
id = "tbilisi"
name = "أخبار تبليسي"
url = "http://127.0.0.1:$fport/no-guid.xml"
TOML
RUST_LOG=warn target/debug/qafila --config "$work/qafila.toml" run 2>/dev/null &
qafila_pid=$!
for _ in $(seq 100); do
  [ "$(curl -fsS "$base/feed.xml" 2>/dev/null | grep -c '<item>' || true)" -ge 8 ] && break
  sleep 0.1
done
fail=0
for path in /feed.xml /feed.atom /country/kz.xml /country/ge.atom; do
  curl -fsS "$base$path" > "$work/doc"
  echo "== W3C validator: $path"
  python3 "$tools/fv_check.py" --base "$base$path" "$work/doc" || fail=1
  echo "== feedparser: $path"
  python3 "$tools/fp_check.py" "$work/doc" | head -5 || fail=1
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
