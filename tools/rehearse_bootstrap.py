#!/usr/bin/env python3
"""The deployed artifact runs: `sam build`'s arm64 bootstrap answers real events.

Runs the aarch64 `bootstrap` from `.aws-sam/build` under qemu-aarch64 (Debian's
qemu-user, with QEMU_LD_PREFIX=/usr/aarch64-linux-gnu from libc6-arm64-cross) against
moto, through a local Lambda Runtime API that hands it one event and takes the answer:

  workflow  ENTRY_POINTS=workflow: a direct (Step Functions) event naming a password
            secret under the prefix, for a user in FORCE_CHANGE_PASSWORD; the user
            then signs in with that password (NEW_PASSWORD_REQUIRED).
  api       ENTRY_POINTS=api, ADMIN_CLIENT_IDS=<the app client>: a REST API event
            carrying a real moto ID token in Authorization (AdminInitiateAuth with
            ADMIN_USER_PASSWORD_AUTH) and authorizer claims that agree with it, then an
            HTTP API (v2) event with the same token as "Bearer" and JWT-authorizer claims;
            each target then signs in with its new password.

Each run also checks the function wrote its audit line and that no password or token
appears in its output.

Both bootstraps must be the same file (one build for both functions). Environment as
template.yaml sets it (defaults), plus AWS_ENDPOINT_URL pointing at moto.

Usage: rehearse_bootstrap.py [--build-dir .aws-sam/build] [--only api|workflow]
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import logging
import os
import queue
import secrets
import shutil
import socket
import subprocess
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

REGION = "eu-west-1"
os.environ.update(
    AWS_ACCESS_KEY_ID="testing",
    AWS_SECRET_ACCESS_KEY="testing",
    AWS_DEFAULT_REGION=REGION,
    AWS_REGION=REGION,
    AWS_EC2_METADATA_DISABLED="true",
)
for var in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"):
    os.environ.pop(var, None)

import boto3  # noqa: E402
from moto.server import ThreadedMotoServer  # noqa: E402

QEMU_LD_PREFIX = "/usr/aarch64-linux-gnu"
SECRET_PREFIX = "onboarding/initial-passwords/"
ADMIN_GROUP = "PasswordAdmins"
RUNTIME = "/2018-06-01/runtime"


# ------------------------------------------------------------ Runtime API --

class RuntimeApi(ThreadingHTTPServer):
    """Lambda Runtime API 2018-06-01: one queue of events in, one of answers out."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _RuntimeHandler)
        self.events: queue.Queue[tuple[str, bytes]] = queue.Queue()
        self.answers: queue.Queue[tuple[str, str, dict | str]] = queue.Queue()
        self.init_errors: list[str] = []
        threading.Thread(target=self.serve_forever, daemon=True).start()

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.server_address[1]}"


class _RuntimeHandler(BaseHTTPRequestHandler):
    server: RuntimeApi

    def log_message(self, *args) -> None:
        pass

    def _reply(self, status: int, body: bytes = b"", headers: dict | None = None) -> None:
        self.send_response(status)
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        if self.path != f"{RUNTIME}/invocation/next":
            self._reply(404)
            return
        request_id, body = self.server.events.get()  # blocks until there is an event
        self._reply(200, body, {
            "Lambda-Runtime-Aws-Request-Id": request_id,
            "Lambda-Runtime-Deadline-Ms": str(int(time.time() * 1000) + 15_000),
            "Lambda-Runtime-Invoked-Function-Arn": f"arn:aws:lambda:{REGION}:123456789012:function:rehearsal:live",
            "Lambda-Runtime-Trace-Id": "Root=1-00000000-000000000000000000000000",
            "Content-Type": "application/json",
        })

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode()
        parts = self.path.removeprefix(f"{RUNTIME}/").split("/")
        # Acknowledge before handing the answer on: the rehearsal stops the process as
        # soon as it has the answer.
        self._reply(202, b'{"status":"OK"}', {"Content-Type": "application/json"})
        if parts[0] == "init":
            self.server.init_errors.append(body)
        elif len(parts) == 3 and parts[0] == "invocation":
            try:
                payload: dict | str = json.loads(body)
            except json.JSONDecodeError:
                payload = body
            self.server.answers.put((parts[1], parts[2], payload))


# ---------------------------------------------------------------- helpers --

class Rehearsal:
    def __init__(self, bootstrap: Path, endpoint: str, runner: list[str]):
        self.bootstrap = bootstrap
        self.runner = runner
        self.endpoint = endpoint
        self.idp = boto3.client("cognito-idp", endpoint_url=endpoint)
        self.sm = boto3.client("secretsmanager", endpoint_url=endpoint)
        self.failures: list[str] = []

    def check(self, condition: bool, message: str) -> None:
        print(f"  {'ok  ' if condition else 'FAIL'} {message}")
        if not condition:
            self.failures.append(message)

    def invoke(self, env: dict[str, str], event: dict, log: Path) -> tuple[str, dict | str] | None:
        """Starts the bootstrap under qemu, hands it `event`, returns (kind, answer)."""
        runtime = RuntimeApi()
        request_id = str(uuid.uuid4())
        runtime.events.put((request_id, json.dumps(event).encode()))
        process_env = {
            "PATH": "/usr/bin:/bin",
            "QEMU_LD_PREFIX": QEMU_LD_PREFIX,
            "AWS_LAMBDA_RUNTIME_API": runtime.address,
            "AWS_LAMBDA_FUNCTION_NAME": "rehearsal",
            "AWS_LAMBDA_FUNCTION_VERSION": "1",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128",
            "AWS_LAMBDA_LOG_STREAM_NAME": "rehearsal",
            "AWS_LAMBDA_LOG_GROUP_NAME": "/aws/lambda/rehearsal",
            "AWS_LAMBDA_LOG_FORMAT": "JSON",
            "AWS_LAMBDA_LOG_LEVEL": "INFO",
            "AWS_REGION": REGION,
            "AWS_DEFAULT_REGION": REGION,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_EC2_METADATA_DISABLED": "true",
            **env,
        }
        started = time.monotonic()
        with log.open("wb") as out:
            process = subprocess.Popen(
                [*self.runner, str(self.bootstrap)], env=process_env, stdout=out, stderr=subprocess.STDOUT
            )
            try:
                answer = None
                while process.poll() is None and time.monotonic() - started < 120:
                    try:
                        _, kind, payload = runtime.answers.get(timeout=0.5)
                        answer = (kind, payload)
                        break
                    except queue.Empty:
                        continue
            finally:
                process.terminate()  # it is waiting for its next event
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    process.kill()
                runtime.shutdown()
        print(f"  ..   {time.monotonic() - started:.1f} s under {' '.join(self.runner) or 'no emulator'}; log: {log}")
        if runtime.init_errors:
            print(f"  ..   init error: {runtime.init_errors[0][:500]}")
        return answer

    def check_no_secret_in(self, log: Path, values: list[str]) -> None:
        text = log.read_text(errors="replace")
        self.check('"admin_set_user_password"' in text, f"{log.name}: the function wrote its audit line")
        self.check(not any(v in text for v in values), f"{log.name}: no password or token in the function's output")

    def sign_in_challenge(self, pool: str, client: str, username: str, password: str) -> str | None:
        """The challenge (or "authenticated") a sign-in with this password gets; None if refused."""
        try:
            result = self.idp.admin_initiate_auth(
                UserPoolId=pool, ClientId=client, AuthFlow="ADMIN_USER_PASSWORD_AUTH",
                AuthParameters={"USERNAME": username, "PASSWORD": password},
            )
        except self.idp.exceptions.NotAuthorizedException:
            return None
        return result.get("ChallengeName") or "authenticated"


def strong_password() -> str:
    return f"Rh-{secrets.token_urlsafe(12)}-9aZ!"


def jwt_claims(token: str) -> dict:
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def built_bootstraps(build_dir: Path) -> list[Path]:
    """Each function's bootstrap, from the template `sam build` wrote: SAM builds functions
    with the same CodeUri and build metadata once and points both at one artifact
    directory (e.g. `ApiFunction-Shared`)."""
    from samtranslator.yaml_helper import yaml_parse

    built = yaml_parse((build_dir / "template.yaml").read_text())
    paths = []
    for function in ("ApiFunction", "WorkflowFunction"):
        path = build_dir / built["Resources"][function]["Properties"]["CodeUri"] / "bootstrap"
        if not path.is_file():
            raise FileNotFoundError(path)
        paths.append(path)
    return paths


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# -------------------------------------------------------------- rehearsal --

def rehearse(r: Rehearsal, only: str | None, logs: Path) -> None:
    pool = r.idp.create_user_pool(
        PoolName="rehearsal",
        Policies={"PasswordPolicy": {"MinimumLength": 12, "RequireUppercase": True, "RequireLowercase": True,
                                     "RequireNumbers": True, "RequireSymbols": True}},
    )["UserPool"]["Id"]
    client = r.idp.create_user_pool_client(
        UserPoolId=pool, ClientName="admin-portal", ExplicitAuthFlows=["ALLOW_ADMIN_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
    )["UserPoolClient"]["ClientId"]
    r.idp.create_group(UserPoolId=pool, GroupName=ADMIN_GROUP)
    common = {
        "USER_POOL_ID": pool,
        "ADMIN_USER_POOL_ID": pool,
        "ADMIN_GROUPS": ADMIN_GROUP,
        "ALLOW_FEDERATED": "false",
        "PASSWORD_BLOCKLIST": "true",
        "REQUIRE_REASON": "false",
        "COGNITO_CONNECT_TIMEOUT_MS": "1000",
        "COGNITO_ATTEMPT_TIMEOUT_MS": "2000",
        "COGNITO_OPERATION_TIMEOUT_MS": "4000",
        "COGNITO_MAX_ATTEMPTS": "3",
        "COGNITO_WARMUP": "false",
        "METRICS_NAMESPACE": "AdminSetPassword",
    }

    if only in (None, "workflow"):
        print("workflow entry point: direct event with a password secret")
        r.idp.admin_create_user(UserPoolId=pool, Username="new-hire", TemporaryPassword=strong_password(),
                                MessageAction="SUPPRESS")
        initial = strong_password()
        r.sm.create_secret(Name=f"{SECRET_PREFIX}new-hire", SecretString=initial)
        event = {
            "username": "new-hire",
            "passwordSecretId": f"{SECRET_PREFIX}new-hire",
            "permanent": False,
            "requestedBy": "rehearsal-state-machine",
            "correlationId": "rehearsal-execution",
        }
        env = {**common, "ENTRY_POINTS": "workflow", "PASSWORD_SECRET_PREFIX": SECRET_PREFIX,
               "WORKFLOW_TARGET_STATUSES": "FORCE_CHANGE_PASSWORD", "WORKFLOW_LITERAL_PASSWORDS": "false",
               "PASSWORD_SECRET_PER_USER": "true"}
        answer = r.invoke(env, event, logs / "workflow.log")
        r.check_no_secret_in(logs / "workflow.log", [initial])
        r.check(answer is not None and answer[0] == "response", f"answered with a result, not an error: {answer}")
        r.check(r.sign_in_challenge(pool, client, "new-hire", initial) == "NEW_PASSWORD_REQUIRED",
                "new-hire signs in with the secret's password (NEW_PASSWORD_REQUIRED)")

    if only in (None, "api"):
        print("API entry point: REST event with a real moto ID token")
        admin_password = strong_password()
        r.idp.admin_create_user(UserPoolId=pool, Username="alice", MessageAction="SUPPRESS")
        r.idp.admin_set_user_password(UserPoolId=pool, Username="alice", Password=admin_password, Permanent=True)
        r.idp.admin_add_user_to_group(UserPoolId=pool, Username="alice", GroupName=ADMIN_GROUP)
        r.idp.admin_create_user(UserPoolId=pool, Username="carol", MessageAction="SUPPRESS")
        r.idp.admin_set_user_password(UserPoolId=pool, Username="carol", Password=strong_password(), Permanent=True)
        token = r.idp.admin_initiate_auth(
            UserPoolId=pool, ClientId=client, AuthFlow="ADMIN_USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": "alice", "PASSWORD": admin_password},
        )["AuthenticationResult"]["IdToken"]
        claims = jwt_claims(token)
        # API Gateway's Cognito authorizer passes the verified claims as strings; a
        # list claim (cognito:groups) in the REST format, comma-separated.
        authorizer_claims = {
            key: ",".join(value) if isinstance(value, list) else str(value) for key, value in claims.items()
        }
        new_password = strong_password()
        event = {
            "resource": "/users/{username}/password",
            "path": "/users/carol/password",
            "httpMethod": "PUT",
            "headers": {"Authorization": token, "content-type": "application/json", "user-agent": "rehearsal"},
            "multiValueHeaders": {"Authorization": [token], "content-type": ["application/json"],
                                  "user-agent": ["rehearsal"]},
            "queryStringParameters": None,
            "multiValueQueryStringParameters": None,
            "pathParameters": {"username": "carol"},
            "stageVariables": None,
            "requestContext": {
                "accountId": "123456789012", "resourceId": "abc123", "stage": "v1",
                "requestId": "rehearsal-api", "identity": {"sourceIp": "203.0.113.10", "userAgent": "rehearsal"},
                "resourcePath": "/users/{username}/password", "httpMethod": "PUT", "apiId": "a1b2c3d4e5",
                "authorizer": {"claims": authorizer_claims},
            },
            "body": json.dumps({"password": new_password, "permanent": False}),
            "isBase64Encoded": False,
        }
        env = {**common, "ENTRY_POINTS": "api", "ADMIN_CLIENT_IDS": client, "ACCEPTED_TOKEN_USE": "id",
               "MAX_TOKEN_AGE_SECONDS": "3600"}
        answer = r.invoke(env, event, logs / "api.log")
        r.check_no_secret_in(logs / "api.log", [new_password, admin_password, token])
        status = answer[1].get("statusCode") if answer and isinstance(answer[1], dict) else None
        body = answer[1].get("body") if answer and isinstance(answer[1], dict) else answer
        r.check(status == 200, f"answered 200 (got {status}: {str(body)[:300]})")
        r.check(r.sign_in_challenge(pool, client, "carol", new_password) == "NEW_PASSWORD_REQUIRED",
                "carol signs in with the new temporary password (NEW_PASSWORD_REQUIRED)")

        print("API entry point: HTTP API (v2) event with the same token as a Bearer token")
        r.idp.admin_create_user(UserPoolId=pool, Username="dave", MessageAction="SUPPRESS")
        r.idp.admin_set_user_password(UserPoolId=pool, Username="dave", Password=strong_password(), Permanent=True)
        # The JWT authorizer stringifies claims; a list claim reads "[a b]".
        jwt_claims_v2 = {
            key: f"[{' '.join(value)}]" if isinstance(value, list) else str(value) for key, value in claims.items()
        }
        http_password = strong_password()
        event = {
            "version": "2.0",
            "routeKey": "PUT /users/{username}/password",
            "rawPath": "/users/dave/password",
            "rawQueryString": "",
            "headers": {"authorization": f"Bearer {token}", "content-type": "application/json",
                        "user-agent": "rehearsal"},
            "pathParameters": {"username": "dave"},
            "requestContext": {
                "accountId": "123456789012", "apiId": "f6g7h8i9j0",
                "domainName": "f6g7h8i9j0.execute-api.eu-west-1.amazonaws.com", "requestId": "rehearsal-http",
                "routeKey": "PUT /users/{username}/password", "stage": "v1",
                "time": "28/Nov/2026:06:00:00 +0000", "timeEpoch": int(time.time() * 1000),
                "http": {"method": "PUT", "path": "/users/dave/password", "protocol": "HTTP/1.1",
                         "sourceIp": "198.51.100.20", "userAgent": "rehearsal"},
                "authorizer": {"jwt": {"claims": jwt_claims_v2, "scopes": None}},
            },
            "body": json.dumps({"password": http_password, "permanent": True}),
            "isBase64Encoded": False,
        }
        answer = r.invoke(env, event, logs / "http-api.log")
        r.check_no_secret_in(logs / "http-api.log", [http_password, admin_password, token])
        status = answer[1].get("statusCode") if answer and isinstance(answer[1], dict) else None
        body = answer[1].get("body") if answer and isinstance(answer[1], dict) else answer
        r.check(status == 200, f"answered 200 (got {status}: {str(body)[:300]})")
        r.check(r.sign_in_challenge(pool, client, "dave", http_password) == "authenticated",
                "dave signs in with the new permanent password")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build-dir", type=Path, default=Path(".aws-sam/build"))
    parser.add_argument("--logs", type=Path, default=Path("target/test-artifacts/bootstrap"))
    parser.add_argument("--only", choices=["api", "workflow"])
    parser.add_argument("--artifacts", action="store_true", help="print the built bootstrap paths and exit")
    parser.add_argument("--native", type=Path, metavar="BINARY",
                        help="run this host binary instead of the built arm64 bootstrap (a quick check of "
                             "other code against the same events; not part of make test)")
    args = parser.parse_args()

    if args.artifacts or args.native:
        pass
    elif not shutil.which("qemu-aarch64") or not Path(QEMU_LD_PREFIX, "lib/ld-linux-aarch64.so.1").exists():
        print("rehearse_bootstrap: FAIL qemu-aarch64 or the arm64 libc is missing "
              "(apt-get install qemu-user libc6-arm64-cross)", file=sys.stderr)
        return 1
    try:
        bootstraps = built_bootstraps(args.build_dir)
    except (OSError, KeyError) as error:
        print(f"rehearse_bootstrap: FAIL no built bootstraps in {args.build_dir} (run sam build): {error}", file=sys.stderr)
        return 1
    if args.artifacts:
        print("\n".join(sorted({str(p) for p in bootstraps})))
        return 0
    digests = {hashlib.sha256(p.read_bytes()).hexdigest() for p in bootstraps}
    args.logs.mkdir(parents=True, exist_ok=True)
    logging.getLogger("werkzeug").setLevel(logging.ERROR)

    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    started = time.monotonic()
    try:
        endpoint = f"http://127.0.0.1:{port}"
        r = Rehearsal(args.native, endpoint, []) if args.native else Rehearsal(bootstraps[0], endpoint, ["qemu-aarch64"])
        r.check(len(digests) == 1, f"ApiFunction and WorkflowFunction ship the same bootstrap (one build): {sorted({str(p) for p in bootstraps})}")
        rehearse(r, args.only, args.logs)
    finally:
        server.stop()
    print(f"rehearse_bootstrap: {len(r.failures)} failure(s) in {time.monotonic() - started:.1f} s")
    return 1 if r.failures else 0


if __name__ == "__main__":
    sys.exit(main())
