#!/usr/bin/env bash
# Browser test of the Arabic page: the real daemon serves stories polled from the fixture feeds, headless Chromium
# (Debian's `chromium`) renders `/`, and we check what a reader sees: right-to-left Arabic, one entry per story,
# working links. Saves a phone-sized and a desktop screenshot to target/browser/.
#
#   bash tests/browser_check.sh
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v chromium >/dev/null; then
  echo "installing chromium (Debian package)…"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
cargo build --quiet
out=target/browser
rm -rf "$out"; mkdir -p "$out"
work=$(mktemp -d)
cleanup() { kill "${qafila_pid:-}" "${fixtures_pid:-}" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
fport=$(free_port); qport=$(free_port)
python3 -m http.server "$fport" --bind 127.0.0.1 --directory tests/fixtures/e2e >/dev/null 2>&1 &
fixtures_pid=$!
for _ in $(seq 100); do curl -fsS -o /dev/null "http://127.0.0.1:$fport/outlet-a.xml" 2>/dev/null && break; sleep 0.1; done
cat > "$work/qafila.toml" <<TOML
[feed]
title = "قافلة: أخبار آسيا الوسطى والقوقاز"
description = "اختبار المتصفح"
link = "http://127.0.0.1:$qport/"
self_url = "http://127.0.0.1:$qport/feed.xml"
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
TOML
RUST_LOG=warn target/debug/qafila --config "$work/qafila.toml" run 2>"$out/qafila.log" &
qafila_pid=$!
base="http://127.0.0.1:$qport"
for _ in $(seq 100); do
  items=$(curl -fsS "$base/feed.xml" 2>/dev/null | grep -c "<item>" || true)
  [ "${items:-0}" -ge 5 ] && break
  sleep 0.1
done
echo "feed items: $items"

chrome=(chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run --disable-background-networking
        --disable-component-update --disable-sync --user-data-dir="$work/chrome" --lang=ar)
"${chrome[@]}" --dump-dom "$base/" > "$out/page.dom.html" 2>/dev/null
"${chrome[@]}" --window-size=412,915 --screenshot="$out/page-phone.png" "$base/" >/dev/null 2>&1
"${chrome[@]}" --window-size=1280,900 --screenshot="$out/page-desktop.png" "$base/" >/dev/null 2>&1

fail=0
check() { if eval "$2"; then echo "ok: $1"; else echo "FAIL: $1"; fail=1; fi; }
stories=$(grep -c '<li class="story">' "$out/page.dom.html" || true)
check 'the page renders as right-to-left Arabic' "grep -q '<html lang=\"ar\" dir=\"rtl\">' '$out/page.dom.html'"
check "one entry per story in the feed ($stories on the page, $items in the feed)" "[ '$stories' = '$items' ]"
check 'no script on the page' "! grep -qi '<script' '$out/page.dom.html'"
check 'the feeds are advertised' "grep -q 'rel=\"alternate\" type=\"application/rss+xml\"' '$out/page.dom.html'"
check 'Arabic from the windows-1256 source is readable' "grep -q 'طشقند تستضيف منتدى الاستثمار' '$out/page.dom.html'"
for href in $(grep -o 'href="/country/[a-z-]*"' "$out/page.dom.html" | sort -u | sed 's/href="//; s/"$//'); do
  check "country link $href answers 200" "curl -fsS -o /dev/null '$base$href'"
done
check 'story titles link to the articles' "grep -q 'href=\"https://asia.example/news/101\"' '$out/page.dom.html'"
check 'screenshots were taken' "[ -s '$out/page-phone.png' ] && [ -s '$out/page-desktop.png' ]"
echo "screenshots: $out/page-phone.png $out/page-desktop.png"
exit $fail
