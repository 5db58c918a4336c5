#!/usr/bin/env python3
"""Large key spaces, side by side with the seed app, in one run on the same database state.

Workloads (each round runs every workload on a fresh server of each app, alternating which app goes first):
  hundred   GET /v1/robots/{uniform id of 100}           (compare.py's workload, for regressions)
  uniform   GET /v1/robots/{uniform id of 1,000,000}
  zipf      GET /v1/robots/{Zipf s=1.0 rank over 1,000,000, ranks scattered over the ids}
plus pgbench's primary-key SELECT on our 1M table (the physical limit of a read that misses the cache), and at the
end three of our instances on one database under the Zipf load.

Each measurement has two phases, each on a fresh server:
  1. throughput: wrk -t1 -c64, --warmup seconds (default 3) then --seconds, counting on; throughput, p50/p99, the
     per-second series (stalls: seconds below half the run's median), server CPU per request, RSS after the load, and
     ours' /metrics (cache hits, references pending, flush rows, notifications). wrk stops at its duration with up to
     -c requests in flight that the server answered and counted but wrk never read, so the counts moved in this phase
     exceed the 200s wrk read by up to 64 per wrk run: printed as "wrk cut-off", for information only.
  2. exact counts: a fresh server answers N requests (--exact-requests, default about 3 s worth at the phase-1 rate)
     drawn from the same distribution, sent by h2load, which completes every request it sends and reports its status
     codes: 64 one-client h2load processes (h2load's clients all walk its URI file from the first line, so each
     process gets its own file). The sum of the robots' counts before the server started and after it stopped
     (SIGTERM: it flushes) must have moved by exactly h2load's 2xx plus the start probe's one 200.

  bench/scale.py --prepare            load the rows (1M + 100 per app) and record the AOT cache; not timed
  flock -x /tmp/robots-heavy.lock bench/scale.py --rounds 3 --seconds 10 [--warmup 10]
"""
import argparse
import itertools
import json
import os
import pathlib
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import compare  # noqa: E402  (servers, wrk, psql helpers and the container's flags)

ROOT = compare.ROOT
# The seed beside the repository (../shared), or two levels up from a worktree under wt/; SEED_DIR overrides.
for seed in (os.environ.get("SEED_DIR"), compare.SEED, ROOT.parent.parent / "shared" / "anchors" / "seed-starlette"):
    if seed and (pathlib.Path(seed) / "schema.sql").exists():
        compare.SEED = pathlib.Path(seed).resolve()
        break
LUA = ROOT / "bench" / "skewed_robot.lua"
BIG = 1_000_000
compare.PORTS.update({"ours": 18441, "seed": 18442})
DBS = {("ours", "big"): "bench_big_ours", ("seed", "big"): "bench_big_seed",
       ("ours", "small"): "bench_small_ours", ("seed", "small"): "bench_small_seed"}
WORKLOADS = {"hundred": ("small", {"ROBOTS": "100", "DIST": "uniform"}),
             "uniform": ("big", {"ROBOTS": str(BIG), "DIST": "uniform"}),
             "zipf": ("big", {"ROBOTS": str(BIG), "DIST": "zipf", "ZIPF_S": "1.0"})}
MULTI_PORTS = [18451, 18452, 18453]


def load_rows(target, size, n):
    db = DBS[(target, size)]
    compare.psql("postgres", f"DROP DATABASE IF EXISTS {db} WITH (FORCE)")
    compare.psql("postgres", f"CREATE DATABASE {db}")
    subprocess.run(["psql", "-qX", "-h", compare.PG_HOST, "-U", compare.PG_USER, "-d", db, "-f",
                    str(compare.SEED / "schema.sql")], check=True, capture_output=True)
    if target == "ours":  # our migrations take the seed's schema over, as in production
        compare.DATABASES["ours"] = db
        compare.stop(compare.start("ours", path="/readyz"))
    # The same rows for both: the seed's robot 1 'Robo', then 'seed-2' ...
    compare.psql(db, f"INSERT INTO robots (name) SELECT 'seed-' || g FROM generate_series(2, {n}) g")
    compare.psql(db, "VACUUM ANALYZE robots")


def prepare(rows=True):
    if compare.AOT:
        compare.psql("postgres", "DROP DATABASE IF EXISTS bench_aot WITH (FORCE)")
        compare.psql("postgres", "CREATE DATABASE bench_aot")
        compare.AOT_CACHE.unlink(missing_ok=True)
        subprocess.run([str(ROOT / "scripts" / "aot-train.sh"), str(ROOT / "target"), str(compare.AOT_CACHE)],
                       check=True, capture_output=True,
                       env=dict(os.environ, DATABASE_URL=compare.url("bench_aot"),
                                JAVA_HOME=str(compare.JAVA.parent.parent), JAVA_OPTS=" ".join(compare.JAVA_OPTS),
                                **compare.OUR_ENV))
    for target in ("seed", "ours") if rows else ():
        load_rows(target, "small", 100)
        load_rows(target, "big", BIG)


def wrk(port, seconds, env, connections=64):
    out = subprocess.run(["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s", "-s", str(LUA),
                          f"http://127.0.0.1:{port}"], check=True, capture_output=True, text=True,
                         env=dict(os.environ, **env)).stdout
    line = next(l for l in out.splitlines() if l.startswith("WRKJSON "))
    result = json.loads(line[len("WRKJSON "):])
    result["rps"] = result["requests"] / (result["duration_us"] / 1e6)
    result["errors"] = sum(result[k] for k in ("err_connect", "err_read", "err_write", "err_status", "err_timeout"))
    return result


_ZIPF_CDF = {}


def ids(env, n, rng):
    """n robot ids drawn like skewed_robot.lua draws them: uniform, or Zipf ranks scattered by SCATTER."""
    robots = int(env["ROBOTS"])
    if env["DIST"] == "uniform":
        return [rng.randint(1, robots) for _ in range(n)]
    key = (robots, float(env.get("ZIPF_S", "1.0")))
    if key not in _ZIPF_CDF:
        _ZIPF_CDF[key] = list(itertools.accumulate(1 / r ** key[1] for r in range(1, robots + 1)))
    scatter = int(os.environ.get("SCATTER", "611953"))
    ranks = rng.choices(range(1, robots + 1), cum_weights=_ZIPF_CDF[key], k=n)
    return [(rank * scatter) % robots + 1 for rank in ranks]


def h2load(ports, requests, env, seed, clients=64):
    """Exactly `requests` GETs (split over `ports`), every one completed, from `clients` one-client h2load processes.

    h2load's clients all walk its URI file from the first line, so one process with -c64 would send 64 identical
    sequences at once; one process per connection, each with its own file, keeps the connections independent.
    Returns h2load's status counts summed over the processes and the phase's wall-clock rate."""
    rng = random.Random(seed)
    procs = []
    with tempfile.TemporaryDirectory(prefix="scale-h2load-") as tmp:
        jobs = [(port, requests // len(ports) + (1 if i < requests % len(ports) else 0))
                for i, port in enumerate(ports)]
        started = time.monotonic()
        for port, n in jobs:
            per = clients // len(ports)
            for c in range(per):
                count = n // per + (1 if c < n % per else 0)
                if count == 0:
                    continue
                uris = pathlib.Path(tmp) / f"{port}-{c}.txt"
                uris.write_text("".join(f"http://127.0.0.1:{port}/v1/robots/{i}\n" for i in ids(env, count, rng)))
                procs.append(subprocess.Popen(["h2load", "--h1", "-n", str(count), "-c", "1", "-t", "1", "-i",
                                               str(uris)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                              text=True))
        outs = [(p, p.communicate()[0]) for p in procs]
        elapsed = time.monotonic() - started
    total = {"requests": requests, "2xx": 0, "3xx": 0, "4xx": 0, "5xx": 0, "done": 0, "succeeded": 0,
             "failed": 0, "errored": 0, "timeout": 0}
    for p, out in outs:
        if p.returncode != 0:
            sys.exit(f"h2load exited with {p.returncode}:\n{out}")
        for line in out.splitlines():
            # "requests: 469 total, 469 started, 469 done, 469 succeeded, 0 failed, 0 errored, 0 timeout"
            # "status codes: 469 2xx, 0 3xx, 0 4xx, 0 5xx"
            if line.startswith(("requests:", "status codes:")):
                for part in line.split(":", 1)[1].split(","):
                    value, name = part.split()
                    if name in total and name != "requests":
                        total[name] += int(value)
    total["rps"] = requests / elapsed
    return total


def metrics_port(port):
    """Where the instance serving API port `port` serves /metrics (METRICS_PORT): compare.py's, or port + 100."""
    return 18433 if port == compare.PORTS["ours"] else port + 100


def metrics(port):
    """Our /metrics (on the METRICS_PORT of the instance at API port `port`) as {name{labels}: value}; {} if none."""
    values = {}
    for path in ("/metrics",):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{metrics_port(port)}{path}", timeout=2) as response:
                text = response.read().decode()
        except OSError:
            continue
        for line in text.splitlines():
            if line and not line.startswith("#"):
                key, _, value = line.rpartition(" ")
                try:
                    values[key] = float(value)
                except ValueError:
                    pass
    return values


def metric(values, prefix):
    return sum(v for k, v in values.items() if k.startswith(prefix))


def count_sum(db):
    return int(compare.psql(db, "SELECT coalesce(sum(count), 0) FROM robots"))


def stalls(series):
    """Seconds below half the median, the first and last (partial) seconds left out."""
    inner = series[1:-1]
    if not inner:
        return 0, 0
    median = statistics.median(inner)
    return sum(1 for n in inner if n < median / 2), min(inner)


def exact_requests(rps, wanted):
    """Requests for the exact-count phase: --exact-requests, or about 3 s at the throughput phase's rate."""
    return wanted or max(1_000, min(30_000, int(rps * 3)))


def measure(workload, target, seconds, warmup, wanted, seed):
    size, env = WORKLOADS[workload]
    db = DBS[(target, size)]
    compare.DATABASES[target] = db
    before_sum = count_sum(db)
    server = compare.start(target)
    pid = server["process"].pid
    port = compare.PORTS[target]
    warm_ok = wrk(port, warmup, env)["ok"] if warmup > 0 else 0
    before_cpu, (before_upd, before_scans) = compare.cpu_ticks(pid), compare.table_stats(db)
    pending = []
    sampling = threading.Event()

    def sample():
        while not sampling.wait(1.0):
            pending.append(metric(metrics(port), "robots_references_pending"))

    sampler = threading.Thread(target=sample, daemon=True)
    if target == "ours":
        sampler.start()
    m0 = metrics(port) if target == "ours" else {}
    run = wrk(port, seconds, env)
    m1 = metrics(port) if target == "ours" else {}
    sampling.set()
    run["cpu_ms_per_req"] = (compare.cpu_ticks(pid) - before_cpu) * 1000 / compare.CLK_TCK / run["requests"]
    run["rss_mib"] = compare.rss_mib(pid)
    if target == "ours":
        hits = metric(m1, 'robots_cache_requests_total{result="hit"') - metric(m0, 'robots_cache_requests_total{result="hit"')
        misses = metric(m1, 'robots_cache_requests_total{result="miss"') - metric(m0, 'robots_cache_requests_total{result="miss"')
        run["hit_ratio"] = hits / max(1, hits + misses)
        run["pending_max"] = max(pending) if pending else float("nan")
        run["flush_rows_per_s"] = (metric(m1, "robots_count_flush_rows_total") - metric(m0, "robots_count_flush_rows_total")) / seconds
    compare.stop(server)
    time.sleep(1.0)
    after_upd, after_scans = compare.table_stats(db)
    run["updates_per_req"] = (after_upd - before_upd) / run["requests"]
    run["scans_per_req"] = (after_scans - before_scans) / run["requests"]
    # wrk's figures: counts moved beyond the 200s wrk read are its cut-off (answers in flight when it stopped).
    mid_sum = count_sum(db)
    run["wrk_oks"] = 1 + warm_ok + run["ok"]  # 1: the start's probe
    run["wrk_count_moved"] = mid_sum - before_sum
    run["wrk_cutoff"] = run["wrk_count_moved"] - run["wrk_oks"]
    run["stall_seconds"], run["min_second"] = stalls(run["per_second"])
    # The exact phase: a fresh server, h2load reads every answer, the server flushes when stopped.
    server = compare.start(target)
    exact = h2load([port], exact_requests(run["rps"], wanted), env, seed)
    compare.stop(server)
    run["exact"] = exact
    run["oks"] = 1 + exact["2xx"]  # 1: the start's probe
    run["count_moved"] = count_sum(db) - mid_sum
    run["counts_exact"] = run["count_moved"] == run["oks"]
    return run


def pgbench(seconds):
    script = ROOT / "target" / "pk_select.sql"
    script.write_text(f"\\set id random(1, {BIG})\nSELECT id, name, count, created_at FROM robots WHERE id = :id;\n")
    out = subprocess.run(["pgbench", "-n", "-M", "prepared", "-c16", "-j2", f"-T{seconds}", "-f", str(script),
                          "-h", compare.PG_HOST, "-U", compare.PG_USER, DBS[("ours", "big")]],
                         check=True, capture_output=True, text=True).stdout
    tps = next(l for l in out.splitlines() if l.startswith("tps"))
    return float(tps.split("=")[1].split()[0])


def start_multi(db):
    """Three of our instances on `db`, one event loop each; each answered its start probe (GET /v1/robots/1)."""
    opts = [o for o in compare.JAVA_OPTS] + ["-XX:ActiveProcessorCount=1"]
    processes = []
    for port in MULTI_PORTS:
        env = dict(os.environ, PORT=str(port), METRICS_PORT=str(metrics_port(port)), HOST="127.0.0.1",
                   DATABASE_URL=compare.url(db), **compare.OUR_ENV)
        log = open(ROOT / "bench" / "results" / f"multi-{port}.log", "ab")
        started = time.monotonic()
        p = subprocess.Popen([str(compare.JAVA), *opts, "-jar", str(ROOT / "target" / "robots-api.jar")],
                             env=env, stdout=log, stderr=subprocess.STDOUT)
        compare.first_200(port, "/v1/robots/1", started, p)
        processes.append(p)
    return processes


def stop_multi(processes):
    for p in processes:
        p.send_signal(compare.signal.SIGTERM)
    for p in processes:
        p.wait(timeout=30)


def multi(seconds, warmup, wanted, seed):
    """Three instances on one database, one event loop each, under the Zipf load: 21 connections each."""
    db = DBS[("ours", "big")]
    before_sum = count_sum(db)
    processes = start_multi(db)
    env = WORKLOADS["zipf"][1]
    results = [None] * 3
    oks = [len(MULTI_PORTS)]  # the start probes

    warmups = [None] * 3

    def load(i, secs, keep):
        r = wrk(MULTI_PORTS[i], secs, env, connections=21)
        (results if keep else warmups)[i] = r
        oks[0] += r["ok"]

    def all_load(secs, keep):
        threads = [threading.Thread(target=load, args=(i, secs, keep)) for i in range(3)]
        [t.start() for t in threads]
        [t.join() for t in threads]

    if warmup > 0:
        all_load(warmup, False)
    m0 = [metrics(p) for p in MULTI_PORTS]
    all_load(seconds, True)
    m1 = [metrics(p) for p in MULTI_PORTS]
    for i, r in enumerate(results):
        r["notifications_per_s"] = (metric(m1[i], "robots_changes_notifications_total")
                                    - metric(m0[i], "robots_changes_notifications_total")) / seconds
        hits = metric(m1[i], 'robots_cache_requests_total{result="hit"') - metric(m0[i], 'robots_cache_requests_total{result="hit"')
        misses = metric(m1[i], 'robots_cache_requests_total{result="miss"') - metric(m0[i], 'robots_cache_requests_total{result="miss"')
        r["hit_ratio"] = hits / max(1, hits + misses)
        r["rss_mib"] = compare.rss_mib(processes[i].pid)
        r["stall_seconds"], r["min_second"] = stalls(r["per_second"])
    stop_multi(processes)
    mid_sum = count_sum(db)
    wrk_moved = mid_sum - before_sum
    # The exact phase: three fresh instances, h2load's 63 connections on all three at once.
    processes = start_multi(db)
    exact = h2load(MULTI_PORTS, exact_requests(sum(r["rps"] for r in results), wanted), env, seed, clients=63)
    stop_multi(processes)
    moved = count_sum(db) - mid_sum
    oks_exact = len(MULTI_PORTS) + exact["2xx"]
    # The three instances' rate together during the warm-up, per 10 s: how long fresh JVMs sharing two cores take
    # to reach it (their JIT compilers share the cores with the load; bench/README.md, "Session 10").
    warmup_series = []
    if warmup > 0:
        together = [sum(w["per_second"][k] for w in warmups if k < len(w["per_second"]))
                    for k in range(max(len(w["per_second"]) for w in warmups))]
        warmup_series = [round(statistics.mean(together[k:k + 10])) for k in range(0, len(together), 10)]
    return {"instances": results, "warmup_seconds": warmup, "warmup_per_10s": warmup_series, "wrk_oks": oks[0], "wrk_count_moved": wrk_moved, "wrk_cutoff": wrk_moved - oks[0],
            "exact": exact, "count_moved": moved, "oks": oks_exact, "counts_exact": moved == oks_exact}


def fmt(values, digits=0):
    return compare.fmt(values, digits)


EXACT_NOTE = ("Counts exact: per run, after the wrk phase, a fresh server answers N GETs from the same distribution "
              "sent by h2load (64 one-client processes, each its own URI sequence; h2load reads every answer and "
              "counts its status codes); the sum of the robots' counts, read before that server starts and after "
              "it stopped (it flushes on SIGTERM), must have moved by exactly h2load's 2xx + 1 (the start probe's "
              "GET /v1/robots/1). wrk cut-off: the counts moved in the wrk phase minus the 200s wrk read (answers "
              "in flight when wrk stopped, up to 64 per wrk run), for information only.")


def exact_line(run):
    e = run["exact"]
    return (f"exact phase: h2load {e['requests']:,} requests at {e['rps']:,.0f} req/s, 2xx {e['2xx']:,}, "
            f"4xx {e['4xx']}, 5xx {e['5xx']}, failed {e['failed']}, errored {e['errored']}; 200s incl. start "
            f"probes {run['oks']:,}, count moved {run['count_moved']:,}, exact {run['counts_exact']}; "
            f"wrk cut-off {run['wrk_cutoff']} (wrk 200s {run['wrk_oks']:,}, count moved {run['wrk_count_moved']:,})")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=3,
                        help="seconds of wrk before each measured run (the cache fills from traffic; 0: none)")
    parser.add_argument("--exact-requests", type=int, default=0,
                        help="requests of each exact-count phase (default: about 3 s at the measured rate, "
                             "1,000-30,000)")
    parser.add_argument("--prepare", action="store_true", help="only load the rows and record the AOT cache")
    parser.add_argument("--aot", action="store_true", help="only record the AOT cache (after a new jar)")
    parser.add_argument("--workloads", default="hundred,uniform,zipf")
    parser.add_argument("--no-multi", action="store_true")
    parser.add_argument("--multi-warmup", type=int, default=90,
                        help="seconds of wrk before the three instances' measured run (default 90: three fresh JVMs "
                             "on two cores were still compiling at 30-45 s)")
    args = parser.parse_args()
    (ROOT / "bench" / "results").mkdir(exist_ok=True)
    if args.prepare or args.aot:
        prepare(rows=args.prepare)
        return
    if compare.AOT:
        if not compare.AOT_CACHE.exists():
            sys.exit("no AOT cache: run bench/scale.py --prepare first (or BENCH_AOT=0)")
        compare.JAVA_OPTS.append(f"-XX:AOTCache={compare.AOT_CACHE}")
    workloads = args.workloads.split(",")
    runs = {w: {"ours": [], "seed": []} for w in workloads}
    pg = []
    for round_no in range(args.rounds):
        for workload in workloads:
            order = ["seed", "ours"] if round_no % 2 == 0 else ["ours", "seed"]
            for target in order:
                run = measure(workload, target, args.seconds, args.warmup, args.exact_requests,
                              f"{workload}-{round_no}")
                runs[workload][target].append(run)
                print(f"round {round_no + 1} {workload} {target}: {run['rps']:,.0f} req/s, p99 "
                      f"{run['p99_us'] / 1000:.1f} ms, errors {run['errors']}, RSS {run['rss_mib']:.0f} MiB, "
                      f"stall seconds {run['stall_seconds']}"
                      + (f", hit ratio {run['hit_ratio']:.3f}, pending max {run['pending_max']:.0f}"
                         if target == "ours" else ""), flush=True)
                print(f"  per second: {run['per_second']}", flush=True)
                print(f"  {exact_line(run)}", flush=True)
            if workload == "uniform":
                pg.append(pgbench(args.seconds))
                print(f"round {round_no + 1} pgbench PK SELECT -M prepared -c16 -j2: {pg[-1]:,.0f} tps", flush=True)
    multi_result = None if args.no_multi else multi(args.seconds, args.multi_warmup, args.exact_requests, "multi")
    if multi_result:
        for i, r in enumerate(multi_result["instances"]):
            print(f"instance {i + 1}: {r['rps']:,.0f} req/s, p99 {r['p99_us'] / 1000:.1f} ms, notifications/s "
                  f"{r['notifications_per_s']:.1f}, hit ratio {r['hit_ratio']:.3f}, RSS {r['rss_mib']:.0f} MiB, "
                  f"stall seconds {r['stall_seconds']}; per second {r['per_second']}", flush=True)
        print(f"3 instances: {exact_line(multi_result)}", flush=True)

    col = lambda rs, key, scale=1: [r[key] * scale for r in rs]
    med = lambda rs, key: statistics.median(col(rs, key))
    lines = [f"wrk -t1 -c64 -d{args.seconds}s after a {args.warmup} s warm-up (--warmup {args.warmup}), "
             f"{args.rounds} rounds, fresh servers, apps "
             f"alternating; median (min–max). Ours: `{' '.join(f'{k}={v}' for k, v in compare.OUR_ENV.items())} "
             f"java {' '.join(compare.JAVA_OPTS)}`. Seed: one uvicorn worker, original middleware, SEED_TASK_DELAY=0.",
             "", "| workload | seed req/s | ours req/s | ratio | seed p99 ms | ours p99 ms | p99 ratio | ours RSS MiB "
             "| hit ratio | pending max | stall s (ours) | counts exact (ours, seed) | wrk cut-off (ours, seed) |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for w in workloads:
        o, s = runs[w]["ours"], runs[w]["seed"]
        if not o or not s:
            continue  # --rounds 0: the three instances only
        lines.append(f"| {w} | {fmt(col(s, 'rps'))} | {fmt(col(o, 'rps'))} | {med(o, 'rps') / med(s, 'rps'):.1f}× "
                     f"| {fmt(col(s, 'p99_us', 1e-3), 1)} | {fmt(col(o, 'p99_us', 1e-3), 1)} "
                     f"| 1/{med(s, 'p99_us') / med(o, 'p99_us'):.1f} | {fmt(col(o, 'rss_mib'))} "
                     f"| {med(o, 'hit_ratio'):.3f} | {fmt(col(o, 'pending_max'))} | {fmt(col(o, 'stall_seconds'))} "
                     f"| {sum(r['counts_exact'] for r in o)}/{len(o)}, {sum(r['counts_exact'] for r in s)}/{len(s)} "
                     f"| {fmt(col(o, 'wrk_cutoff'))}, {fmt(col(s, 'wrk_cutoff'))} |")
    lines += ["", EXACT_NOTE]
    if pg:
        lines += ["", f"pgbench PK SELECT on the 1M table (-M prepared -c16 -j2 -T{args.seconds}): {fmt(pg)} tps; "
                      + (f"ours uniform = {med(runs['uniform']['ours'], 'rps') / statistics.median(pg):.0%} of it."
                         if "uniform" in runs else "")]
    if multi_result:
        lines += ["", "Three instances on one database (each -XX:ActiveProcessorCount=1: one event loop; the OS "
                      "shares the 2 cores between them, their three wrk -c21 and PostgreSQL), Zipf:", "",
                  "| instance | req/s | p99 ms | notifications/s received | hit ratio | RSS MiB | stall s |",
                  "|---|---|---|---|---|---|---|"]
        for i, r in enumerate(multi_result["instances"]):
            lines.append(f"| {i + 1} | {r['rps']:,.0f} | {r['p99_us'] / 1000:.1f} | {r['notifications_per_s']:.1f} "
                         f"| {r['hit_ratio']:.3f} | {r['rss_mib']:.0f} | {r['stall_seconds']} |")
        lines.append(f"\nTotal {sum(r['rps'] for r in multi_result['instances']):,.0f} req/s, after a warm-up of "
                     f"{multi_result['warmup_seconds']} s (the three together, mean per 10 s of it: "
                     f"{multi_result['warmup_per_10s']}). Three fresh instances, h2load's 63 "
                     f"connections spread over them; {exact_line(multi_result)}.")
    report = "\n".join(lines)
    print()
    print(report)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    (ROOT / "bench" / "results" / f"scale-{stamp}.md").write_text(report + "\n")
    (ROOT / "bench" / "results" / f"scale-{stamp}.json").write_text(
        json.dumps({"runs": runs, "pgbench": pg, "multi": multi_result}, indent=1))


if __name__ == "__main__":
    main()
