#!/usr/bin/env bash
# Debian's Chromium and ChromeDriver for the listening page's real-browser test
# (tests/listening/test_page_browser.py). Installed when missing and this is a Debian-like
# machine where we are root; elsewhere the test is skipped and says why. `make test` calls this.
set -euo pipefail
[ -x /usr/bin/chromedriver ] && [ -x /usr/bin/chromium ] && exit 0
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
  echo "note: chromium + chromium-driver not installed (needs root and apt-get); the browser test will be skipped" >&2
  exit 0
fi
apt-get update -q
DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium chromium-driver
