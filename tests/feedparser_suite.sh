#!/usr/bin/env bash
# Runs Python feedparser's own test feeds through the real qafila binary and compares what qafila stores with what
# feedparser reads (see tests/feedparser_suite.py). The suite is downloaded at run time (never committed):
#
#   bash tests/feedparser_suite.sh              # debug build
#   PROFILE=release bash tests/feedparser_suite.sh
#   bash tests/feedparser_suite.sh --verbose    # extra arguments go to the Python helper
#
# Needs python3 and pip. feedparser's one dependency (its sgmllib) is installed with pip if missing.
set -euo pipefail
cd "$(dirname "$0")/.."
profile="${PROFILE:-debug}"
cache="${FEEDPARSER_SUITE_DIR:-target/feedparser-suite}"
mkdir -p "$cache"
if ! ls "$cache"/feedparser-*/tests >/dev/null 2>&1; then
    pip download --quiet --no-deps --no-binary :all: --dest "$cache" feedparser
    tar -xzf "$cache"/feedparser-*.tar.gz -C "$cache"
fi
suite="$(ls -d "$cache"/feedparser-*/ | grep -v '\.tar' | head -1)"
if ! python3 -c 'import feedparser_sgmllib' 2>/dev/null && ! python3 -c 'import sgmllib' 2>/dev/null; then
    pip install --quiet feedparser-sgmllib 2>/dev/null || pip install --quiet sgmllib3k
fi
if [ "$profile" = release ]; then cargo build --release --quiet; else cargo build --quiet; fi
exec python3 tests/feedparser_suite.py --suite "$suite" --binary "target/$profile/qafila" "$@"
