#!/usr/bin/env bash
# Start to first 200 of GET /v1/robots/1, with and without the JDK 25 AOT cache (scripts/aot-train.sh), alternating,
# on the embedded database (a fresh copy of one prepared data directory per run). Prints each run and the medians.
#   bench/startup.sh [RUNS]        (default 9)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-9}
export MALLOC_ARENA_MAX=2 # as the container
java=${JAVA_HOME:+$JAVA_HOME/bin/}java
port=18998
opts=${JAVA_OPTS:-"-XX:+UseSerialGC -XX:+UseCompactObjectHeaders -Xms16m -Xmx256m -Xss512k -XX:TrimNativeHeapInterval=2000 --sun-misc-unsafe-memory-access=allow -XX:+UnlockDiagnosticVMOptions -XX:-AOTReplayTraining"}
[ -f target/robots-api.aot ] || JAVA_OPTS="$opts" scripts/aot-train.sh >/dev/null
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# One robot in a prepared database, so that every run answers 200 at once.
# shellcheck disable=SC2086
DATA_DIR="$work/seed" PORT=$port METRICS_PORT=$((port + 1)) HOST=127.0.0.1 API_TOKENS=bench-token-0123456789 "$java" $opts -jar target/robots-api.jar \
  >/dev/null 2>&1 &
pid=$!
until curl -sf -m 2 "localhost:$port/readyz" >/dev/null; do sleep 0.05; done
curl -sf -X POST "localhost:$port/v1/robots" -H 'Authorization: Bearer bench-token-0123456789' -H 'Content-Type: application/json' \
  -d '{"name": "R2-D2"}' >/dev/null
kill -TERM $pid; wait $pid || true

first_200_ms() { # extra JVM flags...
  rm -rf "$work/run" && cp -r "$work/seed" "$work/run"
  local start end
  start=$(date +%s%N)
  # shellcheck disable=SC2086
  DATA_DIR="$work/run" PORT=$port METRICS_PORT=$((port + 1)) HOST=127.0.0.1 ACCESS_LOG=false "$java" $opts "$@" -jar target/robots-api.jar \
    >/dev/null 2>&1 &
  local pid=$!
  until curl -sf -m 2 -o /dev/null "localhost:$port/v1/robots/1"; do sleep 0.005; done
  end=$(date +%s%N)
  kill -TERM $pid; wait $pid || true
  echo $(((end - start) / 1000000))
}

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

: >"$work/plain"; : >"$work/aot"
for i in $(seq 1 "$runs"); do
  p=$(first_200_ms); a=$(first_200_ms -XX:AOTCache=target/robots-api.aot)
  echo "run $i: without AOT cache ${p} ms, with ${a} ms"
  echo "$p" >>"$work/plain"; echo "$a" >>"$work/aot"
done
echo "median start to first 200: without AOT cache $(median <"$work/plain") ms, with $(median <"$work/aot") ms ($runs runs, JVM flags: $opts)"
