#!/usr/bin/env python3
"""One of our servers under one of scale.py's workloads, measured per request rather than per second.

Throughput on a shared two-core machine swings by a third between identical runs; what a request costs the JVM in
bytes allocated, bytes promoted and young-collection pauses does not. This script starts the server as scale.py does
(same flags, same databases: run `bench/scale.py --prepare` first), runs wrk for --warmup seconds, then reads
/metrics before and after a measured wrk run of --seconds and prints, per request: bytes allocated and promoted
(Micrometer's jvm_gc_memory_* counters), young-collection pause, CPU of the JVM and of all PostgreSQL processes, the
cache's hit ratio and the mean size of a miss batch; then the server's RSS split into anonymous and file-backed.

  flock -x /tmp/robots-heavy.lock python3 bench/probe.py zipf --warmup 30 --seconds 15
  python3 bench/probe.py uniform -- -Xmn32m         # JVM options after "--" are added to the container's
"""
import argparse
import json
import pathlib
import re
import subprocess
import sys
import urllib.request

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import compare  # noqa: E402
import scale  # noqa: E402

PORT = 18441
METRICS = "http://127.0.0.1:18433/metrics"  # compare.start's METRICS_PORT


def metrics():
    values = {}
    for line in urllib.request.urlopen(METRICS, timeout=10).read().decode().splitlines():
        match = re.match(r"([a-zA-Z_:]+(?:\{[^}]*\})?) (\S+)", line)
        if match and not line.startswith("#"):
            values[match.group(1)] = float(match.group(2))
    return values


def postgres_ticks():
    ticks = 0
    for proc in pathlib.Path("/proc").iterdir():
        try:
            if proc.name.isdigit() and (proc / "comm").read_text().startswith("postgres"):
                ticks += compare.cpu_ticks(int(proc.name))
        except OSError:
            pass  # a backend that ended meanwhile
    return ticks


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("workload", choices=sorted(scale.WORKLOADS))
    parser.add_argument("--warmup", type=int, default=30)
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--memory", action="store_true",
                        help="also print where the memory is: the JVM's native memory summary and the heap's "
                             "generations after the load (adds -XX:NativeMemoryTracking=summary)")
    # JVM options come after "--" (split off by hand: argparse does not take "-XX:..." as a positional value there).
    argv = sys.argv[1:]
    java_options = argv[argv.index("--") + 1:] if "--" in argv else []
    args = parser.parse_args(argv[:argv.index("--")] if "--" in argv else argv)
    compare.JAVA_OPTS = compare.JAVA_OPTS + java_options
    if args.memory:
        compare.JAVA_OPTS = compare.JAVA_OPTS + ["-XX:NativeMemoryTracking=summary"]
    if compare.AOT and compare.AOT_CACHE.exists():
        compare.JAVA_OPTS = compare.JAVA_OPTS + [f"-XX:AOTCache={compare.AOT_CACHE}"]
    size, env = scale.WORKLOADS[args.workload]
    compare.DATABASES["ours"] = scale.DBS[("ours", size)]
    compare.PORTS["ours"] = PORT
    server = compare.start("ours")
    pid = server["process"].pid
    try:
        scale.wrk(PORT, args.warmup, env)
        before, jvm0, pg0 = metrics(), compare.cpu_ticks(pid), postgres_ticks()
        run = scale.wrk(PORT, args.seconds, env)
        after, jvm1, pg1 = metrics(), compare.cpu_ticks(pid), postgres_ticks()
        n = run["requests"]

        def moved(prefix, contains=""):
            return sum(after[k] - before.get(k, 0) for k in after if k.startswith(prefix) and contains in k)

        hits = moved("robots_cache_requests_total", 'result="hit"')
        misses = moved("robots_cache_requests_total", 'result="miss"')
        batches = moved("robots_cache_load_batch_count")
        report = {
            "workload": args.workload, "requests_per_s": round(run["rps"]), "p99_ms": run["p99_us"] / 1000,
            "allocated_bytes_per_request": round(moved("jvm_gc_memory_allocated_bytes_total") / n),
            "promoted_bytes_per_request": round(moved("jvm_gc_memory_promoted_bytes_total") / n, 1),
            "young_pause_us_per_request": round(moved("jvm_gc_pause_seconds_sum", "minor") / n * 1e6, 2),
            "jvm_cpu_us_per_request": round((jvm1 - jvm0) / compare.CLK_TCK / n * 1e6, 1),
            "postgres_cpu_us_per_request": round((pg1 - pg0) / compare.CLK_TCK / n * 1e6, 1),
            "hit_ratio": round(hits / max(1, hits + misses), 3),
            "mean_miss_batch": round(moved("robots_cache_load_batch_sum") / batches, 1) if batches else None,
        }
        status = pathlib.Path(f"/proc/{pid}/status").read_text()
        for key in ("VmRSS", "RssAnon", "RssFile"):
            report[f"{key}_MiB"] = int(status.split(key + ":")[1].split()[0]) // 1024
        print(json.dumps(report))
        if args.memory:
            jcmd = pathlib.Path(compare.JAVA).parent / "jcmd"
            for command in (["GC.heap_info"], ["VM.native_memory", "summary"], ["GC.class_histogram", "-all"]):
                print(subprocess.run([str(jcmd), str(pid), *command], capture_output=True, text=True).stdout)
    finally:
        compare.stop(server)


if __name__ == "__main__":
    main()
