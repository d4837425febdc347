#!/usr/bin/env python3
"""Checks one feed document with the W3C Feed Validation Service's code, without any network.

usage: w3c_validate.py DOCUMENT SERVED_AT

DOCUMENT is a file; SERVED_AT is the URL it was served from, so that the feed's self link is judged against the
place it really came from. The validator is not part of this repository: FEEDVALIDATOR names the `src` folder of
a checkout of github w3c/feedvalidator, and it needs `pip install html5lib rdflib`.
Prints one line per error or warning and a summary; exits 1 when there is an error.
"""
import os
import sys


def main(document, served_at):
    root = os.environ.get("FEEDVALIDATOR")
    if not root:
        sys.exit("set FEEDVALIDATOR to the src folder of a w3c/feedvalidator checkout")
    sys.path.insert(0, root)
    # The validator's package uses urllib.request and urllib.error while importing only urllib.
    import urllib.error  # noqa: F401
    import urllib.request  # noqa: F401
    import feedvalidator
    from feedvalidator import logging as events
    from feedvalidator.formatter.text_plain import Formatter

    try:
        with open(document, "rb") as stream:
            found = feedvalidator.validateStream(stream, firstOccurrenceOnly=1, base=served_at)["loggedEvents"]
    except events.ValidationFailure as failure:
        found = [failure.event]
    text = Formatter([])
    errors = [e for e in found if isinstance(e, events.Error)]
    warnings = [e for e in found if isinstance(e, events.Warning)]
    for level, group in (("error", errors), ("warning", warnings)):
        for event in group:
            where = (text.getLineAndColumn(event) or "-").rstrip(":")
            print(f"{level}: {where}: {text.getMessage(event)} ({type(event).__name__})")
    print(f"W3C validator: {served_at}: {len(errors)} errors, {len(warnings)} warnings")
    return 1 if errors else 0


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1], sys.argv[2]))
