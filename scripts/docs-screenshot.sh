#!/usr/bin/env bash
# Writes a screenshot of /docs as headless Chromium renders it from the packaged service (build it first:
# ./mvnw -B package -DskipTests). The service runs on a scratch embedded database; Chromium may reach no host but it.
#   scripts/docs-screenshot.sh [OUT]      default: target/docs.png
# Needs Debian's chromium (apt-get install -y chromium). PORT: where the service listens (default 18998).
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-target/docs.png}
port=${PORT:-18998}
java=${JAVA_HOME:+$JAVA_HOME/bin/}java
scratch=$(mktemp -d)
pid=
cleanup() {
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true; fi
  rm -rf "$scratch"
}
trap cleanup EXIT

DATA_DIR="$scratch/data" PORT="$port" HOST=127.0.0.1 API_TOKENS=screenshot-token-0123456789 ACCESS_LOG=false \
  "$java" -jar target/robots-api.jar >"$scratch/service.log" 2>&1 &
pid=$!
for _ in $(seq 1 300); do
  curl -fs "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break
  kill -0 "$pid" 2>/dev/null || { cat "$scratch/service.log" >&2; exit 1; }
  sleep 0.1
done

mkdir -p "$(dirname "$out")"
chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run --disable-background-networking \
  --disable-component-update --disable-sync --user-data-dir="$scratch/profile" \
  --host-resolver-rules="MAP * ~NOTFOUND, EXCLUDE 127.0.0.1" --hide-scrollbars \
  --window-size=1280,2200 --virtual-time-budget=20000 --screenshot="$(realpath -m "$out")" \
  "http://127.0.0.1:$port/docs" 2>"$scratch/chromium.log" || { cat "$scratch/chromium.log" >&2; exit 1; }
echo "$out"
