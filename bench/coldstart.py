"""Cold-start benchmark: admin-set-password vs a hello-world floor vs Python/boto3.

Every run is a fresh process under tools/runtime_api.py, one event, then killed: a cold start.
Subjects are interleaved run by run, so machine drift hits them all alike; medians, min-max
and ratios to the floor of the same run. Each run verifies a real token moto minted and sets a
real password in a freshly seeded moto (Moto.seed); docs/performance.md has the method.

Usage: .venv/bin/python bench/coldstart.py [--runs 15] [--transport http,https] ...
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
from moto_seed import REGION, Seed, authorize, free_port  # noqa: E402
from runtime_api import RuntimeApi, now_ns  # noqa: E402

WORK = ROOT / "bench" / "target" / "coldstart"
ADMIN, TARGET = "alice", "bob"  # the REST sample's caller and target
ADMIN_PASSWORD = "Admin-Passw0rd!1"
NEW_PASSWORD = "N3w-Passw0rd!"


class Moto:
    """A moto server on loopback, plain HTTP; with `tls`, the function reaches it through
    bench/tls_front.py (a locally made CA, connections kept alive as Cognito keeps them, each
    accepted connection counted as a handshake). The harness itself seeds moto directly."""

    def __init__(self, tls: bool):
        self.port = free_port()
        self.endpoint = self.admin_endpoint = f"http://127.0.0.1:{self.port}"
        self.ca_bundle: Path | None = None
        self.front = None
        argv = [str(ROOT / ".venv/bin/moto_server"), "-H", "127.0.0.1", "-p", str(self.port)]
        if tls:
            cert, key, self.ca_bundle = make_tls_material(WORK / "tls")
            self.front = subprocess.Popen(
                [sys.executable, str(Path(__file__).parent / "tls_front.py"), str(cert),
                 str(key), str(self.port)], stdout=subprocess.PIPE, text=True)
            self.endpoint = f"https://127.0.0.1:{int(self.front.stdout.readline())}"
        self.log = open(WORK / f"moto-{'https' if tls else 'http'}.log", "wb")
        self.proc = subprocess.Popen(argv, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                break
            except OSError:
                if time.monotonic() > deadline or self.proc.poll() is not None:
                    raise SystemExit(f"moto did not start; see {self.log.name}")
                time.sleep(0.05)
        self.seeder = Seed(self.admin_endpoint)

    def handshakes(self) -> tuple[int, int] | None:
        """Connections the TLS front has accepted so far, and how many of them resumed a TLS
        session (None over plain HTTP). The stats request itself is not counted."""
        if not self.front:
            return None
        import ssl
        ctx = ssl.create_default_context(cafile=str(self.ca_bundle))
        with urllib.request.urlopen(f"{self.endpoint}/_front/stats", context=ctx) as resp:
            stats = json.loads(resp.read())
        return stats["connections"] - 1, stats.get("resumed", 0)  # minus this request's own

    def reset(self) -> None:
        req = urllib.request.Request(f"{self.admin_endpoint}/moto-api/reset", method="POST")
        urllib.request.urlopen(req).read()

    def seed(self) -> dict:
        """Fresh pool with a confirmed admin (in "admins") and a target awaiting a new
        password, and a real ID token for the admin minted by moto."""
        self.reset()
        s = self.seeder
        pool_id = s.pool("bench")
        client_id = s.app_client(pool_id, "admin-portal")
        s.user(pool_id, ADMIN, ["admins"], ADMIN_PASSWORD)
        s.user(pool_id, TARGET, [], "Temp-Passw0rd!", confirmed=False)
        return {"pool_id": pool_id, "client_id": client_id,
                "token": s.id_token(pool_id, client_id, ADMIN, ADMIN_PASSWORD)}

    def target_status(self, pool_id: str) -> str:
        return self.seeder.cognito.admin_get_user(UserPoolId=pool_id, Username=TARGET)["UserStatus"]

    def stop(self) -> None:
        if self.front:
            self.front.kill()
            self.front.wait()
        self.proc.kill()
        self.proc.wait()
        self.log.close()


def make_tls_material(d: Path) -> tuple[Path, Path, Path]:
    """A throw-away CA and a 127.0.0.1 server cert; the bundle is the CA alone."""
    d.mkdir(parents=True, exist_ok=True)
    ca_key, ca, key, csr, cert = (d / n for n in ("ca.key", "ca.pem", "server.key", "server.csr", "server.pem"))
    if not cert.exists():
        run = lambda *a: subprocess.run(a, check=True, capture_output=True)  # noqa: E731
        run("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(ca_key),
            "-out", str(ca), "-days", "3650", "-subj", "/CN=admin-set-password bench CA",
            "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign,cRLSign")
        run("openssl", "req", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key),
            "-out", str(csr), "-subj", "/CN=127.0.0.1")
        ext = d / "server.ext"
        ext.write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\n"
                       "extendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n")
        run("openssl", "x509", "-req", "-in", str(csr), "-CA", str(ca), "-CAkey", str(ca_key),
            "-CAcreateserial", "-out", str(cert), "-days", "3650", "-extfile", str(ext))
    return cert, key, ca


@dataclass
class Call:
    target: str
    start: int
    end: int = 0
    service: str = ""

    @property
    def cognito(self) -> bool:
        return self.service.startswith("AWSCognitoIdentityProviderService")


class RecordingProxy(ThreadingHTTPServer):
    """Plain-HTTP pass-through to moto that records when each call starts and ends, to
    count sequential round trips (an untimed pass). Each AWS API answer is held back
    `delay_s` (the JWKS GET is not): calls sent together then surely overlap, even on a
    loaded machine, and a call that needed an earlier answer starts after it."""

    daemon_threads = True

    def __init__(self, upstream_port: int, delay_s: float = 0.05):
        self.delay_s = delay_s
        self.upstream_port = upstream_port
        self.calls: list[Call] = []
        self.lock = threading.Lock()
        super().__init__(("127.0.0.1", 0), _ProxyHandler)
        threading.Thread(target=self.serve_forever, daemon=True).start()

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _ProxyHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: RecordingProxy

    def log_message(self, *args) -> None:
        pass

    def _forward(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        amz = self.headers.get("X-Amz-Target")
        target = amz.split(".")[-1] if amz else f"{self.command} {self.path.rsplit('/', 1)[-1]}"
        service = amz.split(".")[0] if amz else "http"
        call = Call(target=target, start=now_ns(), service=service)
        up = http.client.HTTPConnection("127.0.0.1", self.server.upstream_port)
        headers = {k: v for k, v in self.headers.items() if k.lower() != "connection"}
        up.request(self.command, self.path, body=body, headers=headers)
        resp = up.getresponse()
        data = resp.read()
        up.close()
        if amz:
            time.sleep(self.server.delay_s)
        call.end = now_ns()
        with self.server.lock:
            self.server.calls.append(call)
        self.send_response(resp.status)
        for k, v in resp.getheaders():
            if k.lower() not in ("connection", "transfer-encoding", "content-length", "server", "date"):
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_POST = do_GET = _forward


def sequential_depth(calls: list[Call]) -> int:
    """Longest chain of calls each starting after the previous one ended."""
    depth: list[int] = []
    ordered = sorted(calls, key=lambda c: c.start)
    for i, c in enumerate(ordered):
        depth.append(1 + max([depth[j] for j in range(i) if ordered[j].end <= c.start], default=0))
    return max(depth, default=0)


@dataclass
class Subject:
    name: str
    argv: list[str]
    event: str  # "none" | "direct" | "rest"
    env: dict = field(default_factory=dict)
    cwd: str | None = None
    sets_password: bool = True


ENDPOINT_HOST = "127.0.0.1"  # the host the function is given for moto (--endpoint-host)


def lambda_env(moto_endpoint: str, ca_bundle: Path | None) -> dict:
    env = {
        "PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8", "TZ": ":UTC",
        "HOME": str(WORK / "home"),  # empty: nothing to find in ~/.aws
        "AWS_LAMBDA_FUNCTION_NAME": "admin-set-password", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128",
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST", "AWS_LAMBDA_LOG_STREAM_NAME": "2026/01/01/[$LATEST]bench",
        "AWS_LAMBDA_LOG_GROUP_NAME": "/aws/lambda/admin-set-password",
        "AWS_REGION": REGION, "AWS_DEFAULT_REGION": REGION, "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "testing", "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_ENDPOINT_URL": moto_endpoint.replace("127.0.0.1", ENDPOINT_HOST, 1),
    }
    # Lambda sets no SSL_CERT_FILE/SSL_CERT_DIR: the function then trusts its compiled-in
    # Mozilla roots and reads no bundle. Over TLS the local CA is named explicitly, as a
    # developer pointing the function at a local TLS emulator would.
    if ca_bundle:
        env["SSL_CERT_FILE"] = str(ca_bundle)
        env["AWS_CA_BUNDLE"] = str(ca_bundle)  # botocore
    return env


def function_env(seed: dict) -> dict:
    """The API deployment with every rule on; subjects override (the workflow one)."""
    return {
        "ENTRY_POINTS": "api", "USER_POOL_ID": seed["pool_id"], "ADMIN_USER_POOL_ID": seed["pool_id"],
        "ADMIN_GROUPS": "admins", "ADMIN_CLIENT_IDS": seed["client_id"], "PROTECTED_GROUPS": "protected",
        "SUPER_ADMIN_GROUPS": "superadmins", "ALLOW_FEDERATED": "false",
        "METRICS_NAMESPACE": "AdminSetPasswordBench", "COGNITO_WARMUP": "false",
    }


# The workflow deployment: a direct invocation with a literal password (the default refuses
# literals; a benchmark has no Step Functions history to protect) on a FORCE_CHANGE_PASSWORD
# target, which the default WORKFLOW_TARGET_STATUSES allows.
WORKFLOW_ENV = {"ENTRY_POINTS": "workflow", "WORKFLOW_LITERAL_PASSWORDS": "true"}


def make_event(kind: str, seed: dict) -> dict:
    if kind == "none":
        return {}
    if kind == "direct":
        return {"username": TARGET, "password": NEW_PASSWORD, "permanent": True}
    return rest_event(seed["token"])


def rest_event(token: str, permanent: bool = True) -> dict:
    """The REST sample events/rest-set-temporary.json (PUT /users/bob/password), carrying the
    caller's token and the authorizer's claims for it."""
    event = json.loads((ROOT / "events/rest-set-temporary.json").read_text())
    event["body"] = json.dumps({"password": NEW_PASSWORD, "permanent": permanent})
    return authorize(event, token)


FLOOR = "floor (hello-world)"
REST = "rust REST, token + all rules"
REST_WARMUP = "rust REST, COGNITO_WARMUP=true"
DIRECT = "rust direct (workflow)"
PYTHON = "python/boto3 REST, token + all rules (awslambdaric)"


def subjects(args) -> list[Subject]:
    out = [Subject(FLOOR, [str(args.floor_bin)], "none", sets_password=False)]
    if args.rust_bin and Path(args.rust_bin).exists():
        rb = [str(args.rust_bin)]
        out += [Subject(REST, rb, "rest"), Subject(REST_WARMUP, rb, "rest", {"COGNITO_WARMUP": "true"}),
                Subject(DIRECT, rb, "direct", WORKFLOW_ENV)]
    for spec in args.extra_bin or []:
        label, path = spec.split("=", 1)
        out.append(Subject(f"{REST} [{label}]", [path], "rest"))
    if not args.skip_python:
        python = [str(ROOT / ".venv/bin/python"), "-m", "awslambdaric", "handler.handler"]
        out.append(Subject(PYTHON, python, "rest", cwd=str(ROOT / "bench/python_baseline")))
    if args.only:
        out = [s for s in out if any(o in s.name for o in args.only.split(","))]
    return out


def slug(name: str) -> str:
    return "".join(ch if ch.isalnum() else "_" for ch in name).strip("_")


def run_one(api: RuntimeApi, moto: Moto, s: Subject, tag: str, endpoint: str | None = None) -> dict:
    seed = moto.seed()
    env = {**lambda_env(endpoint or moto.endpoint, moto.ca_bundle), **function_env(seed), **s.env}
    log = WORK / "logs" / f"{tag}.log"
    before = moto.handshakes() if endpoint is None else None
    event = (str(uuid.uuid4()), json.dumps(make_event(s.event, seed)).encode())
    run = api.run(s.argv, env, [event], cwd=s.cwd, log_path=log)
    res = run.summary()
    if before is not None:
        after = moto.handshakes()
        res["handshakes"] = after[0] - before[0] - 1  # minus the first stats request
        res["resumed"] = after[1] - before[1]
    _, kind, body = run.answers[0] if run.answers else (None, None, run.init_error or b"")
    res["response"] = body[:300].decode(errors="replace")
    ok = run.outcome == "done" and kind == "response" and run.vmhwm_kb is not None
    if ok and s.sets_password:
        res["target_status"] = moto.target_status(seed["pool_id"])
        ok = res["target_status"] == "CONFIRMED"
    if ok and s.event == "rest":
        try:
            ok = 200 <= json.loads(body).get("statusCode", 0) < 300
        except (ValueError, AttributeError):
            ok = False
    res.update(ok=ok, _run=run)
    if not ok:
        print(f"  FAILED {tag}: {run.outcome} {kind} {res['response']!r} (log: {log})", file=sys.stderr)
    return res


def stats(values: list) -> dict:
    values = [v for v in values if v is not None]
    if not values:
        return {"median": float("nan"), "min": float("nan"), "max": float("nan")}
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


def measure(args, transport: str, api: RuntimeApi) -> dict:
    moto = Moto(tls=(transport == "https"))
    try:
        subs = subjects(args)
        results: dict[str, list[dict]] = {s.name: [] for s in subs}
        total = args.warmup + args.runs
        for i in range(total):
            rot = i % len(subs)
            for s in subs[rot:] + subs[:rot]:
                r = run_one(api, moto, s, f"{transport}-{slug(s.name)}-{i}")
                if i >= args.warmup:
                    results[s.name].append(r)
            print(f"  {transport}: run {i + 1}/{total} done", file=sys.stderr)
        probes = round_trips(api, moto, subs) if not args.no_rtt and transport == "http" else {}
    finally:
        moto.stop()
    table = {}
    for s in subs:
        rs = [r for r in results[s.name] if r["ok"]]
        row = {"runs_ok": len(rs), "runs": len(results[s.name])}
        if rs:
            for k in ("init_ms", "invoke_ms", "total_ms", "cpu_init_ms", "cpu_total_ms",
                      "cpu_live_ms", "minflt_init", "minflt_total", "handshakes", "resumed"):
                row[k] = stats([r.get(k) for r in rs])
            row["vmhwm_mb"] = stats([r["vmhwm_kb"] / 1024 for r in rs])
        row.update(probes.get(s.name, {}))
        table[s.name] = row
    return table


def round_trips(api: RuntimeApi, moto: Moto, subs: list[Subject], passes: int = 3) -> dict:
    """Untimed runs through the recording proxy (plain HTTP); the worst pass is reported.

    Per run: the Cognito calls of the first invocation, how many sequential rounds of them
    came before AdminSetUserPassword (concurrent look-ups count once), and how long the
    invocation waited for the JWKS fetch begun at init (its answer minus the moment the
    event was handed over; 0 if it had arrived by then)."""
    proxy = RecordingProxy(moto.port)
    out: dict[str, dict] = {}
    try:
        for n in range(passes):
            for s in subs:
                if s.event == "none":
                    continue
                proxy.calls = []
                r = run_one(api, moto, s, f"rtt-{slug(s.name)}-{n}", endpoint=proxy.endpoint)
                run = r["_run"]
                sent = run.sent_at[0] if run.sent_at else None
                answered = run.answered_at[0] if run.answered_at else None
                calls = sorted(proxy.calls, key=lambda c: c.start)
                inv = [c for c in calls if sent and c.end >= sent and c.start < (answered or c.start + 1)]
                cognito = [c for c in inv if c.cognito]
                sets = [c for c in cognito if c.target == "AdminSetUserPassword"]
                before_set = ([c for c in cognito if c.end <= sets[0].start] if sets else cognito)
                jwks = [c for c in calls if c.target.endswith("jwks.json")]
                wait = max(0.0, (jwks[0].end - sent) / 1e6) if jwks and sent else None
                row = {"ok_probe": r["ok"],
                       "calls_init": [c.target for c in calls
                                      if run.first_next_at and c.end <= run.first_next_at],
                       "calls_invoke": [c.target for c in inv],
                       "sequential_invoke": sequential_depth(cognito),
                       "rounds_before_set": sequential_depth(before_set),
                       "set_calls": len(sets),
                       "jwks_fetches": len(jwks),
                       "jwks_wait_ms": wait,
                       "jwks_ms_from_spawn": ([round((jwks[0].start - run.spawned_at) / 1e6, 2),
                                               round((jwks[0].end - run.spawned_at) / 1e6, 2)]
                                              if jwks else None),
                       "init_end_ms_from_spawn": r["init_ms"],
                       "timeline_ms": [(c.target, round((c.start - run.spawned_at) / 1e6, 2),
                                        round((c.end - run.spawned_at) / 1e6, 2)) for c in calls]}
                prev = out.get(s.name)
                worse = (prev is None or not row["ok_probe"]
                         or (row["rounds_before_set"], row["jwks_wait_ms"] or 0)
                         > (prev["rounds_before_set"], prev["jwks_wait_ms"] or 0))
                if worse and (prev is None or prev["ok_probe"]):
                    out[s.name] = row
    finally:
        proxy.shutdown()
    return out


def fmt(st: dict | None, digits: int = 1) -> str:
    if not st:
        return "-"
    return f"{st['median']:.{digits}f} ({st['min']:.{digits}f}–{st['max']:.{digits}f})"


def med(row: dict, key: str, digits: int = 1) -> str:
    return f"{row[key]['median']:.{digits}f}" if key in row else "-"


def ratio(row: dict, floor: dict, key: str) -> str:
    if key not in row or key not in floor:
        return "-"
    return f"{row[key]['median'] / floor[key]['median']:.2f}×"


def render(all_tables: dict, meta: dict) -> str:
    lines = [f"commit {meta['commit']}  ·  {meta['runs']} runs/subject after {meta['warmup']} "
             f"discarded  ·  {meta['machine']}  ·  load before: {meta['load_before']}  ·  "
             f"load after: {meta['load_after']}", ""]
    for transport, table in all_tables.items():
        floor = table.get(FLOOR) or next(iter(table.values()))
        lines += [f"### Cold starts, Cognito (moto) over {transport}: median (min–max)", "",
                  "| subject | ok | init ms | ×floor | cold CPU ms (wait4) | ×floor | CPU ms at init | "
                  "first invoke ms | cold total ms | peak RSS MB (max) | probe |",
                  "|---|---|---|---|---|---|---|---|---|---|---|"]
        for name, row in table.items():
            probe = ""
            if "rounds_before_set" in row:
                probe = (f"{len(row['calls_invoke'])} calls; {row['rounds_before_set']} round(s) "
                         f"before the set")
                if row.get("jwks_wait_ms") is not None:
                    probe += f"; JWKS wait {row['jwks_wait_ms']:.1f} ms"
                if row["calls_init"]:
                    probe += f"; at init: {', '.join(row['calls_init'])}"
            hs = row.get("handshakes")
            if hs and hs["max"] == hs["max"]:  # NaN over plain HTTP
                probe = f"TLS handshakes {hs['median']:.0f} ({hs['min']:.0f}–{hs['max']:.0f})"
                if (row.get("resumed") or {}).get("median") is not None:
                    probe += f", {row['resumed']['median']:.0f} resumed"
            rss = row.get("vmhwm_mb")
            lines.append(
                f"| {name} | {row['runs_ok']}/{row['runs']} | {fmt(row.get('init_ms'))} | "
                f"{ratio(row, floor, 'init_ms')} | {fmt(row.get('cpu_total_ms'))} | "
                f"{ratio(row, floor, 'cpu_total_ms')} | {med(row, 'cpu_init_ms')} | "
                f"{fmt(row.get('invoke_ms'))} | {fmt(row.get('total_ms'))} | "
                f"{rss['median']:.1f} ({rss['max']:.1f}) | {probe} |" if rss else
                f"| {name} | {row['runs_ok']}/{row['runs']} | - | - | - | - | - | - | - | - | {probe} |")
        lines.append("")
    return "\n".join(lines)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--runs", type=int, default=15)
    p.add_argument("--warmup", type=int, default=1, help="discarded leading runs")
    p.add_argument("--transport", default="http,https")
    p.add_argument("--floor-bin", type=Path, default=ROOT / "bench/target/release/floor")
    p.add_argument("--rust-bin", type=Path, default=ROOT / "target/release/admin-set-password")
    p.add_argument("--skip-python", action="store_true")
    p.add_argument("--extra-bin", action="append", metavar="LABEL=PATH", help="another build of the function (REST)")
    p.add_argument("--no-rtt", action="store_true", help="skip the round-trip/handshake probes")
    p.add_argument("--only", help="comma-separated substrings of subject names")
    p.add_argument("--json", type=Path, default=WORK / "results.json")
    p.add_argument("--endpoint-host", default="127.0.0.1",
                   help="host name the function gets for moto (e.g. localhost: it then resolves it)")
    args = p.parse_args()
    global ENDPOINT_HOST
    ENDPOINT_HOST = args.endpoint_host

    (WORK / "logs").mkdir(parents=True, exist_ok=True)
    (WORK / "home").mkdir(parents=True, exist_ok=True)
    commit = subprocess.run(["git", "-C", str(ROOT), "describe", "--always", "--dirty"],
                            capture_output=True, text=True).stdout.strip() or "unknown"
    meta = {"commit": commit, "runs": args.runs, "warmup": args.warmup,
            "machine": f"{platform.machine()}, {os.cpu_count()} cores",
            "load_before": " ".join(f"{x:.2f}" for x in os.getloadavg())}
    api = RuntimeApi()
    tables = {transport: measure(args, transport, api) for transport in args.transport.split(",")}
    api.shutdown()
    meta["load_after"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({"meta": meta, "tables": tables}, indent=2))
    print(render(tables, meta))


if __name__ == "__main__":
    main()
