#!/usr/bin/env bash
# Installs the Debian packages the test suite uses, only when missing:
# iproute2 (network namespaces for serve-mode traffic tests), chromium (the
# real-browser CORS test), redis-server (shared rate limits; tests run their
# own redis-server on a loopback port, never the system service).
set -euo pipefail
need=()
command -v ip >/dev/null 2>&1 || need+=(iproute2)
[ -x /usr/bin/chromium ] || need+=(chromium)   # headless browser of the CORS test (test/browser)
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)   # shared limiter tests start their own (never the service)
command -v node >/dev/null 2>&1 || need+=(nodejs)   # test/websocket: the AWS SDK for JavaScript
command -v npm >/dev/null 2>&1 || need+=(npm)
command -v kubectl >/dev/null 2>&1 || echo "note: kubectl not found; tests that apply YAML with kubectl will fail" >&2
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then echo "missing packages ${need[*]} and not root: install them" >&2; exit 1; fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}"
fi
