#!/usr/bin/env bash
# Browser test of the Arabic pages: the real daemon serves stories polled from the fixture feeds, headless Chromium
# (Debian's `chromium`) renders `/` and a day of the archive (`/day/2026-11-20`, reached through the home page's
# link), and we check what a reader sees: right-to-left Arabic, one entry per story, working links. Saves phone-sized
# and desktop screenshots of both to target/browser/ (the `-full` ones are tall enough to show the links at the end).
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

# The day archive: the home page's last link leads back in time, one day at a time.
older=$(grep -o '<a class="older" rel="prev" href="/day/[0-9-]*"' "$out/page.dom.html" | sed 's/.*href="//; s/"$//' || true)
check "the home page links to older stories by day ($older)" "[ -n '$older' ]"
check 'that day answers 200' "curl -fsS -o /dev/null '$base$older'"
day=/day/2026-11-20
"${chrome[@]}" --dump-dom "$base$day" > "$out/day.dom.html" 2>/dev/null
"${chrome[@]}" --window-size=412,915 --screenshot="$out/day-phone.png" "$base$day" >/dev/null 2>&1
"${chrome[@]}" --window-size=1280,900 --screenshot="$out/day-desktop.png" "$base$day" >/dev/null 2>&1
"${chrome[@]}" --window-size=412,3600 --screenshot="$out/day-phone-full.png" "$base$day" >/dev/null 2>&1
"${chrome[@]}" --window-size=1280,3000 --screenshot="$out/page-desktop-full.png" "$base/" >/dev/null 2>&1
day_stories=$(grep -c '<li class="story">' "$out/day.dom.html" || true)
on_that_day=$(grep -c '<time datetime="2026-11-20T' "$out/day.dom.html" || true)
check 'the day page renders as right-to-left Arabic' "grep -q '<html lang=\"ar\" dir=\"rtl\">' '$out/day.dom.html'"
check "the day page has the day's stories ($day_stories), all of that day ($on_that_day)" "[ '$day_stories' -ge 5 ] && [ '$day_stories' = '$on_that_day' ]"
check 'the day page has no script' "! grep -qi '<script' '$out/day.dom.html'"
check 'the day page shows sized, lazy pictures' "grep '<img class=\"pic\"' '$out/day.dom.html' | grep -q 'loading=\"lazy\" decoding=\"async\" alt=\"\"'"
check 'the day page shows snippets' "grep -q '<p class=\"snippet\"' '$out/day.dom.html'"
check 'the day page has absolute times only' "! grep -q 'class=\"ago\"' '$out/day.dom.html'"
for rel in prev next; do
  href=$(grep -o "rel=\"$rel\" href=\"[^\"]*\"" "$out/day.dom.html" | sed 's/.*href="//; s/"$//' || true)
  check "the day page links to the $rel day with stories ($href) and it answers 200" "[ -n '$href' ] && curl -fsS -o /dev/null '$base$href'"
done
check 'a malformed day is 400' "[ \"\$(curl -s -o /dev/null -w '%{http_code}' '$base/day/2026-13-01')\" = 400 ]"
check 'a day before the archive is 404' "[ \"\$(curl -s -o /dev/null -w '%{http_code}' '$base/day/2000-01-01')\" = 404 ]"
check 'day screenshots were taken' "[ -s '$out/day-phone.png' ] && [ -s '$out/day-desktop.png' ] && [ -s '$out/day-phone-full.png' ]"
echo "screenshots: $(ls "$out"/*.png | tr '\n' ' ')"
exit $fail
