#!/usr/bin/env bash
# Records a JDK 25 AOT cache (JEP 483/514) for the packaged service: starts it once on a scratch embedded database
# (or DATABASE_URL) to create the schema, then again with the cache being recorded, sends one of each kind of
# request, and stops it with SIGTERM; the JVM writes the cache as it exits. Training on an up-to-date schema, as nearly
# every start finds it, keeps Flyway out of the cache: 40 MB instead of 47, and ~70 ms off the start.
#   scripts/aot-train.sh [APP_DIR] [CACHE]      defaults: target  target/robots-api.aot
# Run the service with the same JVM, flags and class path:
#   java -XX:AOTCache=target/robots-api.aot -jar target/robots-api.jar
# JAVA_OPTS: JVM flags for the training run; APP_ARGS: how to launch (default: -jar APP_DIR/robots-api.jar).
# Uses only bash (its /dev/tcp), so it runs in the JRE image's build stage too.
set -euo pipefail
app=${1:-target}
cache=${2:-$app/robots-api.aot}
port=${AOT_TRAINING_PORT:-18999}
metrics_port=$((port - 1))
java=${JAVA_HOME:+$JAVA_HOME/bin/}java
launch=${APP_ARGS:-"-jar $app/robots-api.jar"}
data=$(mktemp -d)
trap 'rm -rf "$data"' EXIT

request() { # METHOD PATH [CONTENT_TYPE BODY]: prints the status line; TO_PORT=... for another port than the API's
  local body=${4:-}
  exec 3<>"/dev/tcp/127.0.0.1/${TO_PORT:-$port}" || return 1
  printf '%s %s HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nAuthorization: Bearer training-token-0123456789\r\n' \
    "$1" "$2" >&3
  if [ -n "${3:-}" ]; then printf 'Content-Type: %s\r\n' "$3" >&3; fi
  printf 'Content-Length: %d\r\n\r\n%s' "${#body}" "$body" >&3
  head -n 1 <&3
  exec 3<&-
}

start() { # extra JVM flags...: starts the service in the background, sets pid
  # shellcheck disable=SC2086 # JAVA_OPTS and APP_ARGS are lists of words
  DATA_DIR="$data" PORT="$port" METRICS_PORT="$metrics_port" HOST=127.0.0.1 API_TOKENS=training-token-0123456789 \
    "$java" ${JAVA_OPTS:-} "$@" $launch >>"$data/training.log" 2>&1 &
  pid=$!
  for _ in $(seq 1 300); do
    request GET /readyz 2>/dev/null | grep -q ' 200 ' && return 0
    kill -0 "$pid" 2>/dev/null || { cat "$data/training.log"; exit 1; }
    sleep 0.1
  done
  cat "$data/training.log"
  exit 1
}

start
kill -TERM "$pid"
wait "$pid"

# Without the JIT's training data (JEP 515 profiles): replaying them has C2 recompile the start-up code during the
# next start, on the cores that start needs. Measured with bench/compare.py --starts: ~40 ms and ~130 ms of CPU less
# to first 200; the first second under load is a little slower (2.3k against 2.9k req/s), steady state the same.
start -XX:AOTCacheOutput="$cache" -XX:+UnlockDiagnosticVMOptions -XX:-AOTRecordTraining
for _ in 1 2 3; do
  request POST /v1/robots application/json '{"name": "R2-D2"}'
  request GET /v1/robots/1
  request GET '/v1/robots?limit=10'
  request PATCH /v1/robots/1 application/json '{"name": "C-3PO"}'
  request POST /v1/robots/1/repair
  request POST /v1/robots/repair application/x-www-form-urlencoded 'robot_id=1'
  request GET /v1/robots/abc
  request POST /v1/robots application/json '{"name": 42}'
  request GET /v1/robots/999
  request DELETE /v1/robots/999
  request GET /healthz
  TO_PORT=$metrics_port request GET /metrics
done >/dev/null
kill -TERM "$pid"
wait "$pid"
ls -l "$cache"
