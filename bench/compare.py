#!/usr/bin/env python3
"""Side-by-side benchmark of this service and the seed app (../shared/anchors/seed-starlette) on one PostgreSQL.

Ours runs with the container's JVM flags and a JDK AOT cache recorded first (BENCH_AOT=0: without). Each round
starts every server fresh, alternately, and measures: start to first 200, then after a 3 s warm-up
`wrk -t1 -c64` on GET /v1/robots/{random id of 100} with counting on (throughput, p50, p99, errors), server CPU per
request, RSS after the load, and the robots table's row updates per request. Our own ceiling is `/healthz` on the
same process. Prints medians (min-max) over the rounds and the ratios; writes the table to bench/results/.

  bench/compare.py --rounds 5 --seconds 10
  bench/compare.py --starts 11            (start to first 200 only)
Needs: wrk, psql, a local PostgreSQL (trust auth), target/robots-api.jar (./mvnw -B package -DskipTests), and the
seed's Debian packages (see its README).
"""
import argparse
import json
import os
import pathlib
import signal
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request

ROOT = pathlib.Path(__file__).resolve().parent.parent
SEED = (ROOT / ".." / "shared" / "anchors" / "seed-starlette").resolve()
LUA = ROOT / "bench" / "random_robot.lua"
PG_HOST = os.environ.get("PGHOST", "127.0.0.1")
PG_USER = os.environ.get("PGUSER", "postgres")
CLK_TCK = os.sysconf("SC_CLK_TCK")
JAVA = pathlib.Path(os.environ.get("JAVA_HOME", "/usr/lib/jvm/temurin-25-jdk-amd64")) / "bin" / "java"
# The container's flags (Dockerfile), with the heap limit that MaxRAMPercentage=50 gives a 512 MiB Cloud Run instance.
JAVA_OPTS = os.environ.get("BENCH_JAVA_OPTS", "-XX:+UseSerialGC -XX:+UseCompactObjectHeaders -Xms16m -Xmx256m -Xss512k "
                           "-XX:TrimNativeHeapInterval=2000 --sun-misc-unsafe-memory-access=allow "
                           "-XX:+UnlockDiagnosticVMOptions -XX:-AOTReplayTraining").split()
# The container records a JDK AOT cache at build time; here one is recorded against a scratch PostgreSQL database
# (scripts/aot-train.sh). BENCH_AOT=0 measures without.
AOT = os.environ.get("BENCH_AOT", "1") != "0"
AOT_CACHE = ROOT / "target" / "bench.aot"
# Settings for our service on top of its defaults, e.g. BENCH_ENV="ACCESS_LOG=false CACHE_MB=0".
OUR_ENV = {"MALLOC_ARENA_MAX": "2",
           **dict(item.split("=", 1) for item in os.environ.get("BENCH_ENV", "").split())}
PORTS = {"ours": 18431, "seed": 18432}
DATABASES = {"ours": "bench_ours", "seed": "bench_seed"}


def psql(db, sql):
    out = subprocess.run(["psql", "-qAtX", "-h", PG_HOST, "-U", PG_USER, "-d", db, "-c", sql],
                         check=True, capture_output=True, text=True)
    return out.stdout.strip()


def url(db):
    return f"postgresql://{PG_USER}@{PG_HOST}:5432/{db}"


def prepare():
    for db in DATABASES.values():
        psql("postgres", f"DROP DATABASE IF EXISTS {db} WITH (FORCE)")
        psql("postgres", f"CREATE DATABASE {db}")
    subprocess.run(["psql", "-qX", "-h", PG_HOST, "-U", PG_USER, "-d", DATABASES["seed"], "-f",
                    str(SEED / "schema.sql")], check=True, capture_output=True)
    psql(DATABASES["seed"], "INSERT INTO robots (name) SELECT 'seed-' || g FROM generate_series(2, 100) g")
    server = start("ours", path="/readyz")  # its migrations make the schema
    stop(server)
    if AOT:
        psql("postgres", "DROP DATABASE IF EXISTS bench_aot WITH (FORCE)")
        psql("postgres", "CREATE DATABASE bench_aot")
        AOT_CACHE.unlink(missing_ok=True)
        subprocess.run([str(ROOT / "scripts" / "aot-train.sh"), str(ROOT / "target"), str(AOT_CACHE)], check=True,
                       capture_output=True, env=dict(os.environ, DATABASE_URL=url("bench_aot"), JAVA_HOME=str(JAVA.parent.parent),
                                                     JAVA_OPTS=" ".join(JAVA_OPTS), **OUR_ENV))
        JAVA_OPTS.append(f"-XX:AOTCache={AOT_CACHE}")
    psql(DATABASES["ours"], "INSERT INTO robots (name) SELECT 'robot-' || g FROM generate_series(1, 100) g")


def start(target, path="/v1/robots/1"):
    env = dict(os.environ, PORT=str(PORTS[target]), DATABASE_URL=url(DATABASES[target]))
    if target == "ours":
        env["HOST"] = "127.0.0.1"
        env["METRICS_PORT"] = "18433"  # not the default 9090, which another process on the machine may hold
        env.update(OUR_ENV)
        command = [str(JAVA), *JAVA_OPTS, "-jar", str(ROOT / "target" / "robots-api.jar")]
    else:
        env.update(SEED_TASK_DELAY="0", WORKERS="1")
        command = [str(SEED / "run.sh")]
    log = open(ROOT / "bench" / "results" / f"{target}.log", "ab")
    started = time.monotonic()
    process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    first = first_200(PORTS[target], path, started, process)
    return {"target": target, "process": process, "first_200_ms": first}


def first_200(port, path, started, process, timeout=60):
    while time.monotonic() - started < timeout:
        if process.poll() is not None:
            sys.exit(f"server on port {port} exited with {process.returncode}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=1) as response:
                if response.status == 200:
                    return (time.monotonic() - started) * 1000
        except (urllib.error.URLError, ConnectionError, OSError):
            pass
        time.sleep(0.005)
    sys.exit(f"no 200 from port {port} within {timeout} s")


def stop(server):
    server["process"].send_signal(signal.SIGTERM)
    server["process"].wait(timeout=30)


def cpu_ticks(pid):
    fields = pathlib.Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def rss_mib(pid):
    for line in pathlib.Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def wrk(port, seconds, path=None):
    env = dict(os.environ)
    if path:
        env["WRK_PATH"] = path
    out = subprocess.run(["wrk", "-t1", "-c64", f"-d{seconds}s", "--timeout", "10s", "-s", str(LUA),
                          f"http://127.0.0.1:{port}"], check=True, capture_output=True, text=True, env=env).stdout
    line = next(l for l in out.splitlines() if l.startswith("WRKJSON "))
    result = json.loads(line[len("WRKJSON "):])
    result["rps"] = result["requests"] / (result["duration_us"] / 1e6)
    result["errors"] = sum(result[k] for k in ("err_connect", "err_read", "err_write", "err_status", "err_timeout"))
    return result


def table_stats(db):
    """Row updates and index scans (reads by id) of the robots table so far."""
    out = psql(db, "SELECT n_tup_upd, coalesce(idx_scan, 0) + coalesce(seq_scan, 0) FROM pg_stat_user_tables "
                   "WHERE relname = 'robots'")
    updated, scanned = (int(v) for v in out.split("|"))
    return updated, scanned


def measure(target, seconds):
    server = start(target)
    pid = server["process"].pid
    wrk(PORTS[target], 3)
    before_cpu, (before_upd, before_scans) = cpu_ticks(pid), table_stats(DATABASES[target])
    run = wrk(PORTS[target], seconds)
    run["cpu_ms_per_req"] = (cpu_ticks(pid) - before_cpu) * 1000 / CLK_TCK / run["requests"]
    run["rss_mib"] = rss_mib(pid)
    run["first_200_ms"] = server["first_200_ms"]
    if target == "ours":
        run["ceiling_rps"] = wrk(PORTS[target], seconds, path="/healthz")["rps"]
    stop(server)  # closing its connections also publishes its table statistics
    time.sleep(1.0)
    after_upd, after_scans = table_stats(DATABASES[target])
    run["updates_per_req"] = (after_upd - before_upd) / run["requests"]
    # Includes the ceiling run's requests for ours (no scans there): per GET request, an upper bound.
    run["scans_per_req"] = (after_scans - before_scans) / run["requests"]
    return run


def summary(values):
    return statistics.median(values), min(values), max(values)


def fmt(values, digits=0):
    median, low, high = summary(values)
    return f"{median:,.{digits}f} ({low:,.{digits}f}–{high:,.{digits}f})"


def compare_starts(count):
    """Start to first 200 only: each server started and stopped `count` times, alternating which goes first."""
    firsts = {"ours": [], "seed": []}
    for i in range(count):
        for target in (["seed", "ours"] if i % 2 == 0 else ["ours", "seed"]):
            server = start(target)
            stop(server)
            firsts[target].append(server["first_200_ms"])
        print(f"start {i + 1}: seed {firsts['seed'][-1]:.0f} ms, ours {firsts['ours'][-1]:.0f} ms", flush=True)
    ratio = statistics.median(firsts["ours"]) / statistics.median(firsts["seed"])
    print(f"start to first 200 ms, median (min–max) of {count}: seed {fmt(firsts['seed'])}, "
          f"ours {fmt(firsts['ours'])}, ours/seed {ratio:.2f}×")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--starts", type=int, default=0,
                        help="only measure start to first 200, this many times each, alternating")
    args = parser.parse_args()
    (ROOT / "bench" / "results").mkdir(exist_ok=True)
    prepare()
    if args.starts:
        return compare_starts(args.starts)
    runs = {"ours": [], "seed": []}
    for round_no in range(args.rounds):
        order = ["seed", "ours"] if round_no % 2 == 0 else ["ours", "seed"]
        for target in order:
            run = measure(target, args.seconds)
            runs[target].append(run)
            print(f"round {round_no + 1} {target}: {run['rps']:,.0f} req/s, p99 {run['p99_us'] / 1000:.1f} ms, "
                  f"errors {run['errors']}, RSS {run['rss_mib']:.0f} MiB, first 200 {run['first_200_ms']:.0f} ms"
                  + (f", ceiling {run['ceiling_rps']:,.0f} req/s" if target == "ours" else ""), flush=True)

    ours, seed = runs["ours"], runs["seed"]
    col = lambda rs, key, scale=1: [r[key] * scale for r in rs]
    med = lambda rs, key: statistics.median(col(rs, key))
    rows = [
        ("GET req/s (counting on)", fmt(col(seed, "rps")), fmt(col(ours, "rps")),
         f"{med(ours, 'rps') / med(seed, 'rps'):.1f}× faster"),
        ("p50 ms", fmt(col(seed, "p50_us", 1e-3), 2), fmt(col(ours, "p50_us", 1e-3), 2),
         f"1/{med(seed, 'p50_us') / med(ours, 'p50_us'):.0f}"),
        ("p99 ms", fmt(col(seed, "p99_us", 1e-3), 2), fmt(col(ours, "p99_us", 1e-3), 2),
         f"1/{med(seed, 'p99_us') / med(ours, 'p99_us'):.0f}"),
        ("errors", fmt(col(seed, "errors")), fmt(col(ours, "errors")), ""),
        ("server CPU ms/request", fmt(col(seed, "cpu_ms_per_req"), 3), fmt(col(ours, "cpu_ms_per_req"), 3),
         f"{med(seed, 'cpu_ms_per_req') / med(ours, 'cpu_ms_per_req'):.1f}× less"),
        ("RSS after load MiB", fmt(col(seed, "rss_mib")), fmt(col(ours, "rss_mib")), ""),
        ("start to first 200 ms", fmt(col(seed, "first_200_ms")), fmt(col(ours, "first_200_ms")),
         f"{med(ours, 'first_200_ms') / med(seed, 'first_200_ms'):.2f}×"),
        ("robots row updates per request", fmt(col(seed, "updates_per_req"), 4),
         fmt(col(ours, "updates_per_req"), 4), ""),
        ("robots row reads (index scans) per request", fmt(col(seed, "scans_per_req"), 4),
         fmt(col(ours, "scans_per_req"), 4), ""),
    ]
    ceiling = med(ours, "ceiling_rps")
    lines = [
        f"GET /v1/robots/{{random id of 100}}, wrk -t1 -c64 -d{args.seconds}s after a 3 s warm-up, "
        f"{args.rounds} rounds alternating, fresh servers each round; median (min–max).",
        f"Ours: `{' '.join(f'{k}={v}' for k, v in OUR_ENV.items())} "
        f"java {' '.join(JAVA_OPTS)} -jar target/robots-api.jar`. "
        f"Seed: one uvicorn worker, its original middleware, SEED_TASK_DELAY=0.",
        "",
        "| measure | seed (Starlette) | ours (Vert.x) | ratio |",
        "|---|---|---|---|",
        *[f"| {a} | {b} | {c} | {d} |" for a, b, c, d in rows],
        "",
        f"Our ceiling (`/healthz`, same process, same wrk): {fmt(col(ours, 'ceiling_rps'))} req/s; "
        f"the counted GET reaches {med(ours, 'rps') / ceiling:.0%} of it.",
    ]
    report = "\n".join(lines)
    print()
    print(report)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    (ROOT / "bench" / "results" / f"compare-{stamp}.md").write_text(report + "\n")
    (ROOT / "bench" / "results" / f"compare-{stamp}.json").write_text(json.dumps(runs, indent=1))


if __name__ == "__main__":
    main()
