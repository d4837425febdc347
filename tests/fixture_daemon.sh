# Sourced by the hand-run checks (browser_check.sh, validate_feeds.sh): builds qafila, serves tests/fixtures/e2e/
# on a loopback port, starts the real daemon polling six fixture sources (one with pictures and a podcast episode), and waits until
# its feed carries all 11 stories. Sets: work (temporary folder, removed on exit), base (the daemon's URL), items (stories in /feed.xml).
# The daemon's log goes to $work/qafila.log.

cargo build --quiet
work=$(mktemp -d)
cleanup() { kill "${qafila_pid:-}" "${fixtures_pid:-}" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
fport=$(free_port); qport=$(free_port)
base="http://127.0.0.1:$qport"
python3 -m http.server "$fport" --bind 127.0.0.1 --directory tests/fixtures/e2e >/dev/null 2>&1 &
fixtures_pid=$!
for _ in $(seq 100); do curl -fsS -o /dev/null "http://127.0.0.1:$fport/outlet-a.xml" 2>/dev/null && break; sleep 0.1; done
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
[[source]]
id = "pictures"
name = "صور القوافل"
url = "http://127.0.0.1:$fport/pictures.xml"
TOML
RUST_LOG=warn target/debug/qafila --config "$work/qafila.toml" run 2>"$work/qafila.log" &
qafila_pid=$!
items=0
for _ in $(seq 100); do
  items=$(curl -fsS "$base/feed.xml" 2>/dev/null | grep -c "<item>" || true)
  [ "${items:-0}" -ge 11 ] && break
  sleep 0.1
done
echo "feed items: $items"
