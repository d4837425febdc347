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
out=target/browser
rm -rf "$out"; mkdir -p "$out"
# shellcheck source=tests/fixture_daemon.sh
source tests/fixture_daemon.sh

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
pics=$(grep -c '<img class="pic"' "$out/page.dom.html" || true)
check "pictures are shown beside their stories ($pics)" "[ '$pics' -ge 3 ]"
check 'every picture is sized, lazy and has an alt' "! grep '<img class=\"pic\"' '$out/page.dom.html' | grep -v 'width=\"[0-9]*\" height=\"[0-9]*\" loading=\"lazy\" decoding=\"async\" alt=\"\"'"
check 'pictures load (served by the fixture server)' "curl -fsS -o /dev/null \"\$(grep -o 'src=\"[^\"]*caspian.png\"' '$out/page.dom.html' | head -1 | sed 's/src=\"//; s/\"\$//')\""
check 'stories show a snippet of their text' "grep -q '<p class=\"snippet\" dir=\"auto\">بحث وزيرا الطاقة' '$out/page.dom.html'"
check 'no data: or javascript: picture' "! grep -Eq '<img[^>]+src=\"(data|javascript):' '$out/page.dom.html'"
check 'screenshots were taken' "[ -s '$out/page-phone.png' ] && [ -s '$out/page-desktop.png' ]"
echo "screenshots: $out/page-phone.png $out/page-desktop.png"
exit $fail
