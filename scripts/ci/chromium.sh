#!/usr/bin/env bash
# CI: Debian's chromium for the dashboard's browser tests (tests/e2e/ui.browser.test.ts), which fail
# under CI=true without it. playwright-core drives it; no browser is ever downloaded by npm.
set -euo pipefail
if [ -x "${DRIFTGATE_CHROMIUM:-/usr/bin/chromium}" ]; then
  exit 0
fi
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
"${DRIFTGATE_CHROMIUM:-/usr/bin/chromium}" --version
