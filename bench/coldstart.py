"""Cold-start benchmark: admin-set-password vs a hello-world floor vs Python/boto3.

Every run spawns a fresh process against the Runtime API emulator (bench/emulator.py),
hands it one event and kills it, so every measured invocation is a cold start. Subjects
are interleaved run by run, so machine drift hits them all alike; the table reports
medians with min-max and ratios to the floor measured in the same run.

Before each run moto is reset and seeded (pool, group "admins", an admin in it, a target
user with a temporary password), so every run is a real AdminSetUserPassword; afterwards
the target's status must be CONFIRMED or the run is reported as failed.

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
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import boto3
from botocore.config import Config as BotoConfig

sys.path.insert(0, str(Path(__file__).resolve().parent))
from emulator import RuntimeApiEmulator, now_ns  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "bench" / "target" / "coldstart"
REGION = "us-east-1"
ADMIN, TARGET = "admin1", "alice"
NEW_PASSWORD = "N3w-Passw0rd!"
SYSTEM_ROOTS = Path("/etc/ssl/certs/ca-certificates.crt")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --------------------------------------------------------------------------- moto

class Moto:
    """A moto server on loopback, plain HTTP or HTTPS with a locally made CA."""

    def __init__(self, tls: bool):
        self.tls = tls
        self.port = free_port()
        scheme = "https" if tls else "http"
        self.endpoint = f"{scheme}://127.0.0.1:{self.port}"
        self.ca_bundle: Path | None = None
        argv = [str(ROOT / ".venv/bin/moto_server"), "-H", "127.0.0.1", "-p", str(self.port)]
        if tls:
            cert, key, self.ca_bundle = make_tls_material(WORK / "tls")
            argv += ["-c", str(cert), "-k", str(key)]
        self.log = open(WORK / f"moto-{scheme}.log", "wb")
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
        self.client = boto3.client(
            "cognito-idp", region_name=REGION, endpoint_url=self.endpoint,
            aws_access_key_id="testing", aws_secret_access_key="testing",
            verify=str(self.ca_bundle) if self.ca_bundle else None,
            config=BotoConfig(retries={"max_attempts": 1}))

    def reset(self) -> None:
        import ssl
        ctx = ssl.create_default_context(cafile=str(self.ca_bundle)) if self.tls else None
        req = urllib.request.Request(f"{self.endpoint}/moto-api/reset", method="POST")
        urllib.request.urlopen(req, context=ctx).read()

    def seed(self) -> dict:
        """Fresh pool with an admin (in "admins") and a target awaiting a new password."""
        self.reset()
        c = self.client
        pool_id = c.create_user_pool(PoolName="bench")["UserPool"]["Id"]
        c.create_group(UserPoolId=pool_id, GroupName="admins")
        admin = c.admin_create_user(UserPoolId=pool_id, Username=ADMIN,
                                    TemporaryPassword="Temp-Passw0rd!", MessageAction="SUPPRESS")
        sub = next(a["Value"] for a in admin["User"]["Attributes"] if a["Name"] == "sub")
        c.admin_add_user_to_group(UserPoolId=pool_id, Username=ADMIN, GroupName="admins")
        c.admin_create_user(UserPoolId=pool_id, Username=TARGET,
                            TemporaryPassword="Temp-Passw0rd!", MessageAction="SUPPRESS")
        return {"pool_id": pool_id, "admin_sub": sub}

    def target_status(self, pool_id: str) -> str:
        return self.client.admin_get_user(UserPoolId=pool_id, Username=TARGET)["UserStatus"]

    def stop(self) -> None:
        self.proc.kill()
        self.proc.wait()
        self.log.close()


def make_tls_material(d: Path) -> tuple[Path, Path, Path]:
    """A throw-away CA and a 127.0.0.1 server cert; the bundle is the system roots plus
    the CA, so the function loads as many roots as it would on Lambda."""
    d.mkdir(parents=True, exist_ok=True)
    ca_key, ca, key, csr, cert = (d / n for n in ("ca.key", "ca.pem", "server.key", "server.csr",
                                                 "server.pem"))
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
    bundle = d / "bundle.pem"
    system = SYSTEM_ROOTS
    bundle.write_bytes((system.read_bytes() if system.exists() else b"") + ca.read_bytes())
    return cert, key, bundle


# ---------------------------------------------------------------- round-trip probe

@dataclass
class Call:
    target: str
    start: int
    end: int = 0


class RecordingProxy(ThreadingHTTPServer):
    """Plain-HTTP pass-through to moto that records when each Cognito call starts and
    ends, to count sequential round trips. Used in a separate, untimed pass."""

    daemon_threads = True

    def __init__(self, upstream_port: int):
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
        target = self.headers.get("X-Amz-Target", "?").split(".")[-1]
        call = Call(target=target, start=now_ns())
        up = http.client.HTTPConnection("127.0.0.1", self.server.upstream_port)
        headers = {k: v for k, v in self.headers.items() if k.lower() != "connection"}
        up.request(self.command, self.path, body=body, headers=headers)
        resp = up.getresponse()
        data = resp.read()
        up.close()
        call.end = now_ns()
        with self.server.lock:
            self.server.calls.append(call)
        self.send_response(resp.status)
        for k, v in resp.getheaders():
            if k.lower() not in ("connection", "transfer-encoding", "content-length", "server",
                                 "date"):
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
        depth.append(1 + max([depth[j] for j in range(i) if ordered[j].end <= c.start],
                             default=0))
    return max(depth, default=0)


# ---------------------------------------------------------------------- subjects

@dataclass
class Subject:
    name: str
    argv: list[str]
    event: str  # "none" | "direct" | "rest"
    env: dict = field(default_factory=dict)
    cwd: str | None = None
    sets_password: bool = True


def lambda_env(moto_endpoint: str, ca_bundle: Path | None) -> dict:
    env = {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": str(WORK / "home"),  # empty: nothing to find in ~/.aws
        "LANG": "C.UTF-8",
        "TZ": ":UTC",
        "AWS_LAMBDA_FUNCTION_NAME": "admin-set-password",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128",
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_LOG_STREAM_NAME": "2026/01/01/[$LATEST]bench",
        "AWS_LAMBDA_LOG_GROUP_NAME": "/aws/lambda/admin-set-password",
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_ENDPOINT_URL": moto_endpoint,
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    # Roots from one bundle file, as on Lambda's Amazon Linux (openssl-probe finds
    # /etc/pki/tls/certs/ca-bundle.crt there). Without this, rustls-native-certs on Debian
    # also reads every file in /etc/ssl/certs, ~3 ms of init Lambda would not pay.
    env["SSL_CERT_FILE"] = str(ca_bundle or SYSTEM_ROOTS)
    if ca_bundle:
        env["AWS_CA_BUNDLE"] = str(ca_bundle)  # botocore
    return env


def function_env(seed: dict, warmup: bool) -> dict:
    return {
        "USER_POOL_ID": seed["pool_id"],
        "ADMIN_USER_POOL_ID": seed["pool_id"],
        "ADMIN_GROUPS": "admins",
        "VERIFY_CALLER_GROUPS": "true",
        "PROTECTED_GROUPS": "protected",
        "SUPER_ADMIN_GROUPS": "superadmins",
        "ALLOW_FEDERATED": "false",
        "METRICS_NAMESPACE": "AdminSetPasswordBench",
        "COGNITO_WARMUP": "true" if warmup else "false",
    }


def make_event(kind: str, seed: dict) -> dict:
    if kind == "none":
        return {}
    if kind == "direct":
        return {"username": TARGET, "password": NEW_PASSWORD, "permanent": True}
    iss = f"https://cognito-idp.{REGION}.amazonaws.com/{seed['pool_id']}"
    path = f"/users/{TARGET}/password"
    return {
        "resource": "/users/{username}/password",
        "path": path,
        "httpMethod": "PUT",
        "headers": {"Content-Type": "application/json", "Host": "api.example.com",
                    "Authorization": "eyJraWQiOi...redacted"},
        "multiValueHeaders": {"Content-Type": ["application/json"]},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": {"username": TARGET},
        "stageVariables": None,
        "requestContext": {
            "resourceId": "abc123",
            "resourcePath": "/users/{username}/password",
            "httpMethod": "PUT",
            "extendedRequestId": "bench=",
            "requestTime": "01/Jan/2026:00:00:00 +0000",
            "path": f"/prod{path}",
            "accountId": "123456789012",
            "protocol": "HTTP/1.1",
            "stage": "prod",
            "domainPrefix": "api",
            "requestTimeEpoch": 1767225600000,
            "requestId": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
            "identity": {"sourceIp": "203.0.113.7", "userAgent": "bench"},
            "domainName": "api.example.com",
            "apiId": "1234567890",
            "authorizer": {"claims": {
                "sub": seed["admin_sub"],
                "cognito:username": ADMIN,
                "cognito:groups": "admins",
                "iss": iss,
                "token_use": "id",
                "aud": "bench-client",
                "exp": "Fri Jan 01 01:00:00 UTC 2100",
                "iat": "Thu Jan 01 00:00:00 UTC 2026",
            }},
        },
        "body": json.dumps({"password": NEW_PASSWORD, "permanent": True}),
        "isBase64Encoded": False,
    }


def subjects(args) -> list[Subject]:
    out = [Subject("floor (hello-world)", [str(args.floor_bin)], "none", sets_password=False)]
    if args.rust_bin and Path(args.rust_bin).exists():
        rb = [str(args.rust_bin)]
        out += [
            Subject("rust REST, all rules, warm-up off", rb, "rest", {"COGNITO_WARMUP": "false"}),
            Subject("rust REST, all rules, warm-up on", rb, "rest", {"COGNITO_WARMUP": "true"}),
            Subject("rust direct, warm-up off", rb, "direct", {"COGNITO_WARMUP": "false"}),
        ]
    for spec in args.extra_bin or []:
        label, path = spec.split("=", 1)
        out.append(Subject(f"rust REST, all rules, warm-up off [{label}]", [path], "rest",
                           {"COGNITO_WARMUP": "false"}))
    if not args.skip_python:
        out.append(Subject("python/boto3 direct (awslambdaric)",
                           [str(ROOT / ".venv/bin/python"), "-m", "awslambdaric",
                            "handler.handler"], "direct",
                           cwd=str(ROOT / "bench/python_baseline")))
    if args.only:
        out = [s for s in out if any(o in s.name for o in args.only.split(","))]
    return out


# ------------------------------------------------------------------------ running

def slug(name: str) -> str:
    return "".join(ch if ch.isalnum() else "_" for ch in name).strip("_")


def run_one(emu: RuntimeApiEmulator, moto: Moto, s: Subject, tag: str,
            endpoint: str | None = None) -> dict:
    seed = moto.seed()
    env = lambda_env(endpoint or moto.endpoint, moto.ca_bundle)
    env.update(function_env(seed, warmup=False))
    env.update(s.env)
    log = WORK / "logs" / f"{tag}.log"
    cs = emu.cold_start(s.argv, env, make_event(s.event, seed), cwd=s.cwd, log_path=log)
    res = cs.summary()
    res["response"] = cs.body[:300].decode(errors="replace")
    ok = cs.outcome == "response" and cs.vmhwm_kb is not None
    if ok and s.sets_password:
        status = moto.target_status(seed["pool_id"])
        ok = status == "CONFIRMED"
        res["target_status"] = status
    if ok and s.event == "rest":
        try:
            ok = 200 <= json.loads(cs.body).get("statusCode", 0) < 300
        except (ValueError, AttributeError):
            ok = False
    res["ok"] = ok
    res["_cs"] = cs
    if not ok:
        print(f"  FAILED {tag}: {cs.outcome} {res['response']!r} (log: {log})", file=sys.stderr)
    return res


def stats(values: list) -> dict:
    values = [v for v in values if v is not None]
    if not values:
        return {"median": float("nan"), "min": float("nan"), "max": float("nan")}
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


def measure(args, transport: str, emu: RuntimeApiEmulator) -> dict:
    moto = Moto(tls=(transport == "https"))
    try:
        subs = subjects(args)
        results: dict[str, list[dict]] = {s.name: [] for s in subs}
        total = args.warmup + args.runs
        for i in range(total):
            rot = i % len(subs)
            for s in subs[rot:] + subs[:rot]:
                r = run_one(emu, moto, s, f"{transport}-{slug(s.name)}-{i}")
                if i >= args.warmup:
                    results[s.name].append(r)
            print(f"  {transport}: run {i + 1}/{total} done", file=sys.stderr)
        rtts = (round_trips(args, emu, moto, subs)
                if transport == "http" and not args.no_rtt else {})
    finally:
        moto.stop()
    table = {}
    for s in subs:
        rs = [r for r in results[s.name] if r["ok"]]
        row = {"runs_ok": len(rs), "runs": len(results[s.name])}
        if rs:
            for k in ("init_ms", "invoke_ms", "total_ms", "cpu_init_ms", "cpu_total_ms",
                      "minflt_init", "minflt_total"):
                row[k] = stats([r[k] for r in rs])
            row["vmhwm_mb"] = stats([r["vmhwm_kb"] / 1024 for r in rs])
        row.update(rtts.get(s.name, {}))
        table[s.name] = row
    return table


def round_trips(args, emu, moto: Moto, subs: list[Subject], passes: int = 3) -> dict:
    """Untimed runs through the recording proxy; the worst pass is reported."""
    proxy = RecordingProxy(moto.port)
    out: dict[str, dict] = {}
    try:
        for n in range(passes):
            for s in subs:
                if s.event == "none":
                    continue
                proxy.calls = []
                r = run_one(emu, moto, s, f"rtt-{slug(s.name)}-{n}", endpoint=proxy.endpoint)
                cs = r["_cs"]
                calls = sorted(proxy.calls, key=lambda c: c.start)
                init = [c for c in calls if cs.first_next_at and c.end <= cs.first_next_at]
                inv = [c for c in calls if cs.event_sent_at and c.start >= cs.event_sent_at]
                row = {"calls_init": [c.target for c in init],
                       "calls_invoke": [c.target for c in inv],
                       "sequential_invoke": sequential_depth(inv),
                       "timeline_ms": [(c.target, round((c.start - cs.spawned_at) / 1e6, 2),
                                        round((c.end - cs.spawned_at) / 1e6, 2)) for c in calls]}
                prev = out.get(s.name)
                if prev is None or row["sequential_invoke"] > prev["sequential_invoke"]:
                    out[s.name] = row
    finally:
        proxy.shutdown()
    return out


# ------------------------------------------------------------------------- output

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
        floor = next(iter(table.values()))
        lines.append(f"### Cold starts, Cognito (moto) over {transport}: median (min–max), ms / MB")
        lines.append("")
        lines.append("| subject | ok | init | ×floor | first invoke | cold total | ×floor | "
                     "peak RSS MB | CPU ms init / total | minor faults init / total | "
                     "Cognito calls in invoke (sequential) |")
        lines.append("|---|---|---|---|---|---|---|---|---|---|---|")
        for name, row in table.items():
            calls = ""
            if "calls_invoke" in row:
                calls = f"{len(row['calls_invoke'])} ({row['sequential_invoke']} sequential)"
                if row["calls_init"]:
                    calls += f"; init: {', '.join(row['calls_init'])}"
            lines.append(
                f"| {name} | {row['runs_ok']}/{row['runs']} | {fmt(row.get('init_ms'))} | "
                f"{ratio(row, floor, 'init_ms')} | {fmt(row.get('invoke_ms'))} | "
                f"{fmt(row.get('total_ms'))} | {ratio(row, floor, 'total_ms')} | "
                f"{fmt(row.get('vmhwm_mb'))} | {med(row, 'cpu_init_ms')} / "
                f"{med(row, 'cpu_total_ms')} | {med(row, 'minflt_init', 0)} / "
                f"{med(row, 'minflt_total', 0)} | {calls} |")
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
    p.add_argument("--extra-bin", action="append", metavar="LABEL=PATH",
                   help="another build of the function to compare (REST, warm-up off)")
    p.add_argument("--no-rtt", action="store_true", help="skip the round-trip probe pass")
    p.add_argument("--only", help="comma-separated substrings of subject names")
    p.add_argument("--json", type=Path, default=WORK / "results.json")
    args = p.parse_args()

    (WORK / "logs").mkdir(parents=True, exist_ok=True)
    (WORK / "home").mkdir(parents=True, exist_ok=True)
    commit = subprocess.run(["git", "-C", str(ROOT), "describe", "--always", "--dirty"],
                            capture_output=True, text=True).stdout.strip() or "unknown"
    meta = {"commit": commit, "runs": args.runs, "warmup": args.warmup,
            "machine": f"{platform.machine()}, {os.cpu_count()} cores",
            "load_before": " ".join(f"{x:.2f}" for x in os.getloadavg())}
    emu = RuntimeApiEmulator()
    tables = {}
    for transport in args.transport.split(","):
        tables[transport] = measure(args, transport, emu)
    emu.shutdown()
    meta["load_after"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({"meta": meta, "tables": tables}, indent=2))
    print(render(tables, meta))


if __name__ == "__main__":
    main()
