"""Soak: thousands of warm invocations in one process of the release function.

N REST events, one after the other, each a full API invocation, against bench/fake_cognito.py
(fast enough that the percentiles are the function's, not moto's 3-11 ms) or `--backend moto`,
with one token minted by the backend. Reports errors, latency percentiles (event handed over ->
response posted), VmRSS after the first invocation, the warm-up and the last, CPU per invocation.

Usage: .venv/bin/python bench/soak.py [--invocations 5000] [--backend fake|moto]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import urllib.request
import uuid
from pathlib import Path

from coldstart import ADMIN, ROOT, WORK, Moto, function_env, lambda_env, rest_event
from runtime_api import RuntimeApi

OUT = ROOT / "bench" / "target" / "soak.json"
WARMUP = 100  # invocations after which RSS is taken as the warm baseline


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--invocations", type=int, default=5000)
    p.add_argument("--backend", choices=("fake", "moto"), default="fake")
    p.add_argument("--rust-bin", type=Path, default=ROOT / "target/release/admin-set-password")
    p.add_argument("--json", type=Path, default=OUT)
    args = p.parse_args()
    (WORK / "logs").mkdir(parents=True, exist_ok=True)
    (WORK / "home").mkdir(parents=True, exist_ok=True)

    moto = fake = None
    sys.setswitchinterval(0.0005)  # the emulator's threads hand over the GIL promptly
    if args.backend == "fake":
        fake = subprocess.Popen([sys.executable, str(Path(__file__).parent / "fake_cognito.py"),
                                 ADMIN, "admins"], stdout=subprocess.PIPE, text=True)
        info = json.loads(fake.stdout.readline())
        token = info["token"]
        seed = {"pool_id": info["pool_id"], "client_id": info["client_id"]}
        endpoint = info["endpoint"]
    else:
        moto = Moto(tls=False)
        seed = moto.seed()
        token = seed["token"]
        endpoint = moto.endpoint
    env = {**lambda_env(endpoint, None), **function_env(seed)}
    # permanent=false keeps the target in FORCE_CHANGE_PASSWORD: every invocation is alike.
    payload = json.dumps(rest_event(token, permanent=False)).encode()
    events = [(str(uuid.uuid4()), payload) for _ in range(args.invocations)]

    api = RuntimeApi()
    log = WORK / "logs" / f"soak-{args.backend}.log"
    try:
        soak = api.run([str(args.rust_bin)], env, events, log_path=log, timeout_s=600)
        stats = {}
        if fake:
            with urllib.request.urlopen(f"{endpoint}/_stats") as resp:
                stats = json.loads(resp.read())
    finally:
        api.shutdown()
        if moto:
            moto.stop()
        if fake:
            fake.kill()
            fake.wait()

    lat_ms = [(end - start) / 1e6 for start, end in zip(soak.sent_at, soak.answered_at)]
    # An API answer other than 2xx is an error too.
    failed = [body[:300] for _, kind, body in soak.answers
              if kind != "response" or not 200 <= json.loads(body).get("statusCode", 0) < 300]
    rss = [r for r in soak.rss_kb if r is not None]
    warm = lat_ms[1:]  # the first invocation is the cold one
    result = {
        "backend": args.backend,
        "invocations": len(lat_ms),
        "requested": args.invocations,
        "outcome": soak.outcome,
        # An operation the fake does not know was answered with an error: counted here even
        # if the function turned it into a success.
        "errors": (len(failed) + (args.invocations - len(lat_ms))
                   + sum(stats.get("unknown", {}).values())),
        "unknown_operations": stats.get("unknown", {}),
        "calls": stats.get("calls", {}),
        "connections": stats.get("connections"),
        "first_ms": lat_ms[0] if lat_ms else None,
        "p50_ms": statistics.median(warm) if warm else None,
        "p90_ms": percentile(warm, 0.90) if warm else None,
        "p99_ms": percentile(warm, 0.99) if warm else None,
        "max_ms": max(warm) if warm else None,
        "rss_first_kb": rss[0] if rss else None,
        "rss_warm_kb": rss[min(WARMUP, len(rss)) - 1] if rss else None,
        "rss_last_kb": rss[-1] if rss else None,
        "rss_max_kb": max(rss) if rss else None,
        "cpu_ms_total": soak.cpu_total_ns / 1e6 if soak.cpu_total_ns else None,
        "cpu_ms_per_invocation": (soak.cpu_total_ns / 1e6 / len(lat_ms)
                                  if soak.cpu_total_ns and lat_ms else None),
        "sample_bodies": [b[:300].decode(errors="replace") for b in
                          (failed or [body for _, _, body in soak.answers])[:3]],
        # Every latency in order, to tell periodic stalls (the function's timers, a pool
        # reaper) from scattered ones (the machine's scheduler).
        "latencies_ms": [round(x, 3) for x in lat_ms],
        "log": str(log),
        "load": " ".join(f"{x:.2f}" for x in os.getloadavg()),
        "commit": subprocess.run(["git", "-C", str(ROOT), "describe", "--always", "--dirty"],
                                 capture_output=True, text=True).stdout.strip(),
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=2))
    print(json.dumps({k: v for k, v in result.items() if k not in ("sample_bodies", "latencies_ms")}, indent=2))
    if result["errors"]:
        print("soak: errors; first bodies:", result["sample_bodies"], file=sys.stderr)


if __name__ == "__main__":
    main()
