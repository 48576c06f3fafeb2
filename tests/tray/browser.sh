#!/usr/bin/env bash
# "The browser" for the tray tests (set as $BROWSER): follows the sign-in URL with curl, as a user
# who clicks "Allow" would (fake-openai's authorize auto-approves and redirects to the app's
# loopback callback). Logs the URL to $TRAY_BROWSER_LOG. Returns at once, like a real browser.
# While the file $TRAY_BROWSER_HOLD exists it only logs the URL (the paste test follows it itself).
set -u
url=$1
[ -n "${TRAY_BROWSER_LOG:-}" ] && printf '%s\n' "$url" >>"$TRAY_BROWSER_LOG"
# A test that plays "the browser on another machine" holds it: the URL is only logged.
[ -n "${TRAY_BROWSER_HOLD:-}" ] && [ -e "$TRAY_BROWSER_HOLD" ] && exit 0
( curl -sS -L --max-time 20 -o /dev/null "$url" ) </dev/null >/dev/null 2>&1 &
exit 0
