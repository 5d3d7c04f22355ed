"""Prints the cold-start tables, the sizes, the decision-path timings and issue 5's
targets with PASS/FAIL, from what `make bench` left in bench/target and target/criterion."""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from coldstart import render  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
COLD = ROOT / "bench/target/coldstart/results.json"
SIZES = ROOT / "bench/target/sizes.json"
CRITERION = ROOT / "target/criterion/decision"
FLOOR = "floor (hello-world)"
# Both COGNITO_WARMUP settings are judged; docs/performance.md says which one to ship.
HEADLINES = ("rust REST, all rules, warm-up off", "rust REST, all rules, warm-up on")
PYTHON = "python/boto3 direct (awslambdaric)"
RUST_DIRECT = "rust direct, warm-up off"


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


def main() -> None:
    cold, sizes, crit = load(COLD), load(SIZES), criterion_rows()
    targets: list[tuple[str, str, bool | None]] = []
    if cold:
        print(render(cold["tables"], cold["meta"]))
        for transport, table in cold["tables"].items():
            f_init, f_total = med(table, FLOOR, "init_ms"), med(table, FLOOR, "total_ms")
            py, rd = med(table, PYTHON, "total_ms"), med(table, RUST_DIRECT, "total_ms")
            if py and rd:
                targets.append((f"[{transport}] ≥ 30× faster cold total than Python "
                                "(direct event, both)", f"{py / rd:.1f}×", py / rd >= 30))
                pc, rc = med(table, PYTHON, "cpu_total_ms"), med(table, RUST_DIRECT, "cpu_total_ms")
                if pc and rc:
                    targets.append((f"[{transport}] (context) CPU time, Python ÷ Rust, direct",
                                    f"{pc / rc:.1f}×", None))
            for headline in HEADLINES:
                init, total = med(table, headline, "init_ms"), med(table, headline, "total_ms")
                rss = (table.get(headline) or {}).get("vmhwm_mb", {}).get("max")
                t = f"[{transport}, {headline.split(', ')[-1]}]"
                if init and f_init:
                    targets.append((f"{t} init ≤ 1.5× floor", f"{init / f_init:.2f}×",
                                    init / f_init <= 1.5))
                if total and f_total:
                    targets.append((f"{t} cold total ≤ 3× floor", f"{total / f_total:.2f}×",
                                    total / f_total <= 3))
                cpu, f_cpu = med(table, headline, "cpu_total_ms"), med(table, FLOOR, "cpu_total_ms")
                if cpu and f_cpu:
                    targets.append((f"{t} (context) CPU time ÷ floor's", f"{cpu / f_cpu:.2f}×",
                                    None))
                if rss:
                    targets.append((f"{t} peak RSS ≤ 10 MB (max over runs)", f"{rss:.1f} MB",
                                    rss <= 10))
                seq = (table.get(headline) or {}).get("sequential_invoke")
                if transport == "http" and seq is not None:
                    targets.append((f"{t} ≤ 2 sequential Cognito round trips, all rules on "
                                    "(worst of 3 passes)", str(seq), seq <= 2))
    if sizes:
        print("### Package size (cargo lambda build --release --output-format zip)\n")
        print("| package | bootstrap.zip | bootstrap (unzipped) |\n|---|---|---|")
        for label, r in sizes.items():
            if r is None:
                print(f"| {label} | not built | - |")
                continue
            print(f"| {label} | {r['zip_bytes'] / 1e6:.2f} MB | {r['bootstrap_bytes'] / 1e6:.2f} MB |")
            if label.startswith("admin-set-password"):
                targets.append((f"zipped bootstrap ≤ 2.0 MB ({label.split('/')[1]})",
                                f"{r['zip_bytes'] / 1e6:.2f} MB", r["zip_bytes"] <= 2_000_000))
        print()
    if crit:
        print("### Decision path (criterion, median per event)\n")
        print("| benchmark | time |\n|---|---|")
        for name, ns in crit.items():
            print(f"| {name} | {ns / 1000:.2f} µs |")
            targets.append((f"decision path ≤ 20 µs ({name})", f"{ns / 1000:.2f} µs",
                            ns <= 20_000))
        print()
    print("### Issue 5 targets (REST event, every security rule on)\n")
    print("| target | measured | |\n|---|---|---|")
    for name, value, ok in targets:
        verdict = "info" if ok is None else "PASS" if ok else "FAIL"
        print(f"| {name} | {value} | {verdict} |")


if __name__ == "__main__":
    main()
