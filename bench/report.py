"""Prints the cold-start tables, the sizes, the decision-path timings, the soak and every
performance target as PASS/FAIL with the measured value, from what `make bench` left in
bench/target and target/criterion. A target whose measurement is missing is MISSING."""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from coldstart import DIRECT, FLOOR, PYTHON, REST, REST_WARMUP, render  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
COLD = ROOT / "bench/target/coldstart/results.json"
SIZES = ROOT / "bench/target/sizes.json"
SOAK = ROOT / "bench/target/soak.json"
CRITERION = ROOT / "target/criterion/decision"
DECISION_TARGETS = {"rest_approved": 20.0, "rest_approved_with_rs256": 60.0}


def load(p: Path):
    return json.loads(p.read_text()) if p.exists() else None


def criterion_rows() -> dict[str, float]:
    out = {}
    if CRITERION.is_dir():
        for est in sorted(CRITERION.glob("*/new/estimates.json")):
            out[est.parent.parent.name] = json.loads(est.read_text())["median"]["point_estimate"]
    return out


def med(table: dict, name: str, key: str) -> float | None:
    row = table.get(name) or {}
    return (row.get(key) or {}).get("median")


class Targets:
    def __init__(self) -> None:
        self.rows: list[tuple[str, str, str]] = []

    def add(self, name: str, value: str | None, ok: bool | None) -> None:
        verdict = "MISSING" if value is None else "info" if ok is None else "PASS" if ok else "FAIL"
        self.rows.append((name, value or "not measured", verdict))


def cold_targets(t: Targets, cold: dict | None) -> None:
    tables = (cold or {}).get("tables", {})
    limits = {"http": 2.0, "https": 2.5}
    for transport in ("http", "https"):
        table = tables.get(transport, {})
        tag = f"[{transport}]"
        f_init, f_cpu = med(table, FLOOR, "init_ms"), med(table, FLOOR, "cpu_total_ms")
        init, cpu = med(table, REST, "init_ms"), med(table, REST, "cpu_total_ms")
        row = table.get(REST) or {}
        ok_runs, runs = row.get("runs_ok", 0), row.get("runs", 0)
        t.add(f"{tag} REST runs that set the password (token verified, target CONFIRMED)",
              f"{ok_runs}/{runs}" if runs else None, runs > 0 and ok_runs == runs)
        t.add(f"{tag} init (spawn → first GET /next) ≤ 1.5× floor",
              f"{init / f_init:.2f}× ({init:.1f} vs {f_init:.1f} ms)" if init and f_init else None,
              init / f_init <= 1.5 if init and f_init else None)
        lim = limits[transport]
        t.add(f"{tag} cold CPU, init + first invocation (wait4 user+sys, all threads) "
              f"≤ {lim}× floor",
              f"{cpu / f_cpu:.2f}× ({cpu:.1f} vs {f_cpu:.1f} ms)" if cpu and f_cpu else None,
              cpu / f_cpu <= lim if cpu and f_cpu else None)
        py = med(table, PYTHON, "cpu_total_ms")
        t.add(f"{tag} ≥ 50× less cold CPU than Python/boto3 (same REST work)",
              f"{py / cpu:.1f}× ({py:.0f} vs {cpu:.1f} ms)" if py and cpu else None,
              py / cpu >= 50 if py and cpu else None)
        rss = [((table.get(n) or {}).get("vmhwm_mb") or {}).get("max") for n in (REST, DIRECT)]
        rss = [r for r in rss if r is not None]
        t.add(f"{tag} peak RSS cold ≤ 10 MB (VmHWM, max over runs)",
              f"{max(rss):.1f} MB" if rss else None, max(rss) <= 10 if rss else None)
        if transport == "http":
            rounds = row.get("rounds_before_set")
            t.add(f"{tag} sequential Cognito rounds after the token, before the set ≤ 1 "
                  "(worst of 3 probes)",
                  None if rounds is None else
                  f"{rounds} then {row.get('set_calls')} set; invoke: "
                  f"{', '.join(row.get('calls_invoke', []))}",
                  None if rounds is None else rounds <= 1 and row.get("set_calls") == 1
                  and row.get("ok_probe", False))
            wait = row.get("jwks_wait_ms")
            when = row.get("jwks_ms_from_spawn")
            t.add(f"{tag} first invocation's wait for the JWKS fetched at init (worst probe)",
                  None if wait is None else
                  f"{wait:.1f} ms (fetch {when[0]}–{when[1]} ms after spawn, "
                  f"init ended {row.get('init_end_ms_from_spawn', 0):.1f} ms)", None)
        else:
            hs = (row.get("handshakes") or {}).get("max")
            t.add(f"{tag} TLS handshakes per cold start (JWKS + Cognito, keep-alive front; max)",
                  None if hs is None else f"{hs:.0f}", None)
            hs_py = ((table.get(PYTHON) or {}).get("handshakes") or {}).get("max")
            if hs_py is not None:
                t.add(f"{tag} (context) TLS handshakes per cold start, Python", f"{hs_py:.0f}", None)
        for name in (REST_WARMUP, DIRECT):
            c = med(table, name, "cpu_total_ms")
            i = med(table, name, "init_ms")
            if c and f_cpu and i and f_init:
                t.add(f"{tag} (context) {name}: init ×floor / cold CPU ×floor",
                      f"{i / f_init:.2f}× / {c / f_cpu:.2f}×", None)


def main() -> None:
    cold, sizes, soak, crit = load(COLD), load(SIZES), load(SOAK), criterion_rows()
    t = Targets()
    if cold:
        print(render(cold["tables"], cold["meta"]))
    cold_targets(t, cold)

    for arch in ("x86_64", "arm64"):
        r = (sizes or {}).get(f"admin-set-password/{arch}")
        t.add(f"zipped bootstrap ≤ 2.0 MB ({arch})",
              f"{r['zip_bytes'] / 1e6:.2f} MB" if r else None,
              r["zip_bytes"] <= 2_000_000 if r else None)
    if sizes:
        print("### Package size (cargo lambda build --release --output-format zip)\n")
        print("| package | bootstrap.zip | bootstrap (unzipped) |\n|---|---|---|")
        for label, r in sizes.items():
            if r is None:
                print(f"| {label} | not built | - |")
            else:
                print(f"| {label} | {r['zip_bytes'] / 1e6:.2f} MB | "
                      f"{r['bootstrap_bytes'] / 1e6:.2f} MB |")
        print()

    if crit:
        print("### Decision path (criterion, median per event)\n")
        print("| benchmark | time |\n|---|---|")
        for name, ns in crit.items():
            print(f"| {name} | {ns / 1000:.2f} µs |")
        print()
    for name, limit in DECISION_TARGETS.items():
        ns = crit.get(name)
        t.add(f"decision path ≤ {limit:.0f} µs ({name})",
              f"{ns / 1000:.2f} µs" if ns else None, ns / 1000 <= limit if ns else None)

    if soak:
        print(f"### Soak ({soak['invocations']} warm invocations, one process, "
              f"Cognito = {soak['backend']})\n")
        print(json.dumps({k: v for k, v in soak.items() if k not in ("sample_bodies", "latencies_ms")}, indent=2))
        print()
    n = soak["invocations"] if soak else 0
    t.add("soak: 5,000 warm invocations in one process, no error",
          f"{n} invocations, {soak['errors']} errors (Cognito = {soak['backend']})"
          if soak else None, soak["errors"] == 0 and n >= 5000 if soak else None)
    if soak and soak.get("rss_first_kb"):
        growth = (soak["rss_last_kb"] - soak["rss_first_kb"]) / 1024
        warm = (soak["rss_last_kb"] - soak["rss_warm_kb"]) / 1024
        t.add("soak: RSS growth ≤ 1 MB (after the 1st invocation → after the last)",
              f"{growth:+.2f} MB ({soak['rss_first_kb'] / 1024:.1f} → "
              f"{soak['rss_last_kb'] / 1024:.1f} MB; {warm:+.2f} MB after invocation 100)",
              growth <= 1.0)
    else:
        t.add("soak: RSS growth ≤ 1 MB", None, None)
    if soak and soak.get("p50_ms"):
        r = soak["p99_ms"] / soak["p50_ms"]
        t.add("soak: p99 ≤ 3× p50 (event handed over → response)",
              f"{r:.2f}× (p50 {soak['p50_ms']:.2f} ms, p99 {soak['p99_ms']:.2f} ms, "
              f"max {soak['max_ms']:.1f} ms)", r <= 3)
    else:
        t.add("soak: p99 ≤ 3× p50", None, None)

    print("### Targets (REST event with a real token, every rule on)\n")
    print("| target | measured | |\n|---|---|---|")
    for name, value, verdict in t.rows:
        print(f"| {name} | {value} | {verdict} |")
    failed = [r for r in t.rows if r[2] in ("FAIL", "MISSING")]
    verdicts = Counter(verdict for _, _, verdict in t.rows)
    print(f"\n{verdicts['PASS']} PASS, {verdicts['FAIL']} FAIL, {verdicts['MISSING']} MISSING")
    return failed


if __name__ == "__main__":
    main()
