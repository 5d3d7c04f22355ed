#!/usr/bin/env python3
"""Executes the state machines of template.yaml on moto, against the real function.

moto (in this process) runs the definitions its CloudFormation deployed from the translated
template (tools/rehearse_stack.py); its interpreter invokes `cargo lambda watch`, polled by the
debug build `cargo test` made. A front before moto's Cognito answers planned errors and, in the
bulk runs, enforces Cognito's default rates (QUOTAS). Retry waits are checked against the
definition and slept WORKFLOW_WAIT_SCALE times (0 by default; in full in the bulk runs).
Passwords, histories and logs go to target/test-artifacts for scan-secrets (docs/deploy.md).

Usage: rehearse_workflows.py [--template template.yaml] [--bulk USERS --instances N]
"""

from __future__ import annotations

import argparse
import concurrent.futures
import http.client
import io
import json
from datetime import datetime, timedelta, timezone
import logging
import os
import random
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
import types
import urllib.error
import urllib.request
import uuid
import warnings
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
import rehearse_stack as stack  # noqa: E402  (sets moto-only credentials and the region)
from moto_seed import STRICT, Seed, free_port  # noqa: E402
from runtime_api import cpu_ns  # noqa: E402

import boto3  # noqa: E402
from botocore.config import Config  # noqa: E402
from botocore.response import StreamingBody  # noqa: E402
from moto.server import ThreadedMotoServer  # noqa: E402
from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl  # noqa: E402
from moto.stepfunctions.parser.asl.component.state.exec.state_task import lambda_eval_utils  # noqa: E402
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import state_task_service_aws_sdk  # noqa: E402
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service import (  # noqa: E402
    StateTaskService,
)

BINARY = "admin-set-password"
FUNCTION = "_"  # what `cargo lambda watch --only-lambda-apis` calls the function polling it
PREFIX = "onboarding/"
ARTIFACTS = ROOT / "target" / "test-artifacts"
FUNCTION_LOG = ARTIFACTS / "logs" / "workflow-rehearsal-function.log"
WORK = ROOT / "target" / "workflow-rehearsal"
WAIT_SCALE = float(os.environ.get("WORKFLOW_WAIT_SCALE", "0"))
# What the front answers instead of moto: HTTP status, Cognito's error, the function's errorType.
THROTTLED = (400, "TooManyRequestsException", "TooManyRequests")
INTERNAL_ERROR = (500, "InternalErrorException", "UpstreamError")
GROUP = "onboarding-pending"  # the template's OnboardingGroup default
PROCESSES: list[subprocess.Popen] = []  # cargo lambda watch and the function's: to stop, and their CPU time
# Cognito's default request rates (per second, per account and region) by category, for the
# operations one bulk item costs (docs/operations.md#bulk-onboarding).
QUOTAS = {"UserUpdate": 25, "UserRead": 120, "UserResourceRead": 50, "UserPoolRead": 15}
CATEGORY = {"AdminSetUserPassword": "UserUpdate", "AdminRemoveUserFromGroup": "UserUpdate",
            "AdminUserGlobalSignOut": "UserUpdate", "AdminGetUser": "UserRead",
            "AdminListGroupsForUser": "UserResourceRead", "DescribeUserPool": "UserPoolRead"}


class Launcher:
    """What moto's interpreter gets instead of its defaults: where Lambda is, how it waits."""

    def __init__(self, function_endpoint: str, cognito_endpoint: str):
        self.function_endpoint = function_endpoint
        self.cognito_endpoint = cognito_endpoint  # the front: the aws-sdk tasks share its quotas
        self.scale = WAIT_SCALE
        self.invoked: list[str] = []  # FunctionName of every lambda:invoke, as the definition built it
        self.waits: list[float] = []  # every Retry wait the interpreter computed

    def install(self) -> None:
        original = lambda_eval_utils.boto_client_for  # builds every client against moto's port

        def client_for(region: str, service: str, state_credentials=None):  # type: ignore[no-untyped-def]
            if service != "lambda":
                return original(region=region, service=service, state_credentials=state_credentials)
            client = boto3.client("lambda", region_name=region, endpoint_url=self.function_endpoint,
                                  config=Config(retries={"total_max_attempts": 1}, read_timeout=60))
            client.meta.events.register("before-parameter-build.lambda.Invoke", self._route)
            client.meta.events.register("after-call.lambda.Invoke", _as_lambda_answers)
            return client

        lambda_eval_utils.boto_client_for = client_for
        sdk_client = state_task_service_aws_sdk.boto_client_for

        def sdk_client_for(region: str, service: str, state_credentials=None):  # type: ignore[no-untyped-def]
            if service != "cognito-idp":
                return sdk_client(region=region, service=service, state_credentials=state_credentials)
            return boto3.client("cognito-idp", region_name=region, endpoint_url=self.cognito_endpoint,
                                aws_access_key_id="ak", aws_secret_access_key="sk",
                                config=Config(parameter_validation=False, retries={"total_max_attempts": 1}))

        state_task_service_aws_sdk.boto_client_for = sdk_client_for
        # Step Functions names the integration's errors CognitoIdentityProvider.<exception>.
        state_task_service_aws_sdk._SERVICE_ERROR_NAMES["cognitoidentityprovider"] = "CognitoIdentityProvider"
        retrier_decl.time = types.SimpleNamespace(sleep=self._wait)
        # For the aws-sdk integration (arn:aws:states:::aws-sdk:cognitoidentityprovider:...).
        StateTaskService._SERVICE_NAME_SFN_TO_BOTO_OVERRIDES["cognitoidentityprovider"] = "cognito-idp"

    def _route(self, params: dict, **_: object) -> None:
        """cargo lambda watch has no aliases: record the ARN the definition named, call the function."""
        self.invoked.append(params["FunctionName"])
        params["FunctionName"] = FUNCTION

    def _wait(self, seconds: float) -> None:
        self.waits.append(seconds)
        time.sleep(seconds * self.scale)


def _as_lambda_answers(http_response, parsed: dict, **_: object) -> None:  # type: ignore[no-untyped-def]
    """cargo lambda watch answers a function error with HTTP 500 and the error document;
    Lambda answers 200 with `X-Amz-Function-Error: Unhandled`, which is what the interpreter
    turns into the error name that Retry and Catch match."""
    if http_response.status_code != 500:
        return
    try:
        document = json.loads(http_response.content)
    except ValueError:
        return
    if isinstance(document, dict) and "errorType" in document:
        http_response.status_code, body = 200, http_response.content
        parsed.pop("Error", None)
        parsed.update(StatusCode=200, FunctionError="Unhandled", Payload=StreamingBody(io.BytesIO(body), len(body)))


class Front(ThreadingHTTPServer):
    """Cognito as the function sees it: moto, except where `plan` says otherwise."""

    daemon_threads = True

    def __init__(self, moto_port: int):
        super().__init__(("127.0.0.1", 0), _FrontHandler)
        self.moto_port = moto_port
        self.plan: dict[str, tuple[tuple[int, str, str], int]] = {}  # user -> (answer, times)
        self.answered: Counter[str] = Counter()  # planned answers given, per user
        self.lock = threading.Lock()
        self.buckets: dict[str, list[float]] | None = None  # category -> [tokens, last refill]
        self.throttled: Counter[str] = Counter()  # quota answers, per operation
        self.calls: Counter[str] = Counter()  # calls let through, per operation

    def enforce_quotas(self, scale: float) -> None:
        self.calls.clear()
        self.throttled.clear()
        self.rates = {category: rate * scale for category, rate in QUOTAS.items()}
        self.buckets = {category: [rate, time.monotonic()] for category, rate in self.rates.items()}

    def admit(self, operation: str) -> bool:
        """A token bucket per category (capacity: one second's worth), shared by every caller."""
        if self.buckets is None or operation not in CATEGORY:
            return True
        category = CATEGORY[operation]
        bucket, now = self.buckets[category], time.monotonic()
        bucket[0] = min(self.rates[category], bucket[0] + (now - bucket[1]) * self.rates[category])
        bucket[1] = now
        if bucket[0] < 1:
            self.throttled[operation] += 1
            return False
        bucket[0] -= 1
        self.calls[operation] += 1
        return True


class _FrontHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: Front

    def do_POST(self) -> None:  # noqa: N802
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        operation = self.headers.get("X-Amz-Target", "").rpartition(".")[2]
        user = json.loads(body).get("Username") if operation == "AdminSetUserPassword" else None
        with self.server.lock:
            (status, error, _), times = self.server.plan.get(user, ((0, "", ""), 0))
            if times > 0:
                self.server.plan[user] = (self.server.plan[user][0], times - 1)
                self.server.answered[user] += 1
            elif not self.server.admit(operation):
                (status, error, _), times = THROTTLED, 1
        if times > 0:
            answer = json.dumps({"__type": error, "message": "injected by the rehearsal"}).encode()
            content_type = "application/x-amz-json-1.1"
        else:
            upstream = http.client.HTTPConnection("127.0.0.1", self.server.moto_port, timeout=30)
            skip = {"host", "content-length", "connection"}
            upstream.request("POST", self.path, body, {k: v for k, v in self.headers.items() if k.lower() not in skip})
            reply = upstream.getresponse()
            status, answer, content_type = reply.status, reply.read(), reply.getheader("Content-Type", "")
            upstream.close()
        self.send_response(status)
        self.send_header("x-amzn-RequestId", str(uuid.uuid4()))  # Step Functions' SDK errors cite it
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *_: object) -> None:
        pass


def function_binary() -> str:
    """The debug build `cargo test --all-targets` made (same features: nothing rebuilds).
    `cargo lambda watch` would build it again without the dev-dependencies' features."""
    build = subprocess.run(["cargo", "test", "--locked", "--all-targets", "--no-run", "--message-format=json"],
                           cwd=ROOT, capture_output=True, text=True, check=True)
    artifacts = [json.loads(line) for line in build.stdout.splitlines() if '"compiler-artifact"' in line]
    return next(a["executable"] for a in artifacts
                if a["target"]["kind"] == ["bin"] and a["target"]["name"] == BINARY and not a["profile"]["test"])


class _RuntimeFront(BaseHTTPRequestHandler):
    """Between the function and cargo lambda watch's Runtime API, which names every invoked
    function `function-arn`: each invocation says it came through the live alias, as Lambda's
    would (the alias ARN the definition named is checked per call), so REQUIRED_ALIAS and the
    secret's account and region are checked for real."""
    protocol_version = "HTTP/1.1"

    def _forward(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        upstream = http.client.HTTPConnection("127.0.0.1", self.server.watch_port, timeout=None)
        upstream.request(self.command, self.path, body or None, {"Content-Type": "application/json"})
        reply = upstream.getresponse()
        answer = reply.read()
        self.send_response(reply.status)
        for name, value in reply.getheaders():
            if name.lower() == "lambda-runtime-invoked-function-arn":
                value = self.server.arn
            if name.lower() not in ("content-length", "connection", "transfer-encoding"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)
        upstream.close()

    do_GET = do_POST = _forward

    def log_message(self, *_: object) -> None:
        pass


def start_function(env: dict[str, str], port: int, instances: int, arn: str) -> None:
    """cargo lambda watch serves the Invoke and Runtime APIs; `instances` function processes
    poll the latter through a `_RuntimeFront`, each taking the next invocation (as Lambda's
    instances would)."""
    WORK.mkdir(parents=True, exist_ok=True)
    binary = function_binary()
    watch = subprocess.Popen(
        ["cargo", "lambda", "watch", "--only-lambda-apis", "--invoke-address", "127.0.0.1", "--invoke-port", str(port)],
        cwd=ROOT, stdout=open(WORK / "watch.log", "w"), stderr=subprocess.STDOUT, start_new_session=True,
        env={**os.environ, "PATH": f"{ROOT / '.venv' / 'bin'}:{os.environ['PATH']}"})
    PROCESSES.append(watch)
    for _ in range(300):  # the function exits if its Runtime API is not there yet
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            time.sleep(0.1)
    (WORK / "function.env").write_text("".join(f"{k}={v}\n" for k, v in env.items()))
    front = ThreadingHTTPServer(("127.0.0.1", 0), _RuntimeFront)
    front.watch_port, front.arn, front.daemon_threads = port, arn, True
    threading.Thread(target=front.serve_forever, daemon=True).start()
    runtime = {"AWS_LAMBDA_RUNTIME_API": f"http://127.0.0.1:{front.server_port}/.rt", "AWS_LAMBDA_FUNCTION_VERSION": "1",
               "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128", "PATH": os.environ["PATH"]}
    for instance in range(instances):
        log = FUNCTION_LOG if instance == 0 else FUNCTION_LOG.with_suffix(f".{instance}.log")
        function = subprocess.Popen([binary], cwd=WORK, env={**env, **runtime}, start_new_session=True,
                                    stdout=open(log, "w"), stderr=subprocess.STDOUT)
        PROCESSES.append(function)
    # An empty payload is refused without an AWS call: the function answers.
    for _ in range(300):
        if any(process.poll() is not None for process in PROCESSES):
            raise SystemExit(f"cargo lambda watch or the function exited; see {WORK / 'watch.log'}, {FUNCTION_LOG}")
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/2015-03-31/functions/{FUNCTION}/invocations", b"{}", timeout=30)
        except urllib.error.HTTPError:
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit("the function did not answer within 30 s")


class World:
    """moto's pool and secrets, seeded by tools/moto_seed.py, and every password they hold."""

    def __init__(self, endpoint: str):
        self.seed = Seed(endpoint, stack.REGION)
        self.idp, self.sm = self.seed.cognito, self.seed.secrets
        self.pool = self.seed.pool("workflows", STRICT)
        self.client = self.seed.app_client(self.pool, "rehearsal")
        self.used: list[str] = []  # every password and secret value, for the leak checks

    def marked(self, user: str) -> bool:
        groups = self.idp.admin_list_groups_for_user(UserPoolId=self.pool, Username=user)["Groups"]
        return GROUP in [g["GroupName"] for g in groups]

    def password(self, weak: bool = False) -> str:
        password = f"weak{secrets.token_hex(4)}" if weak else f"Wf-{secrets.token_urlsafe(12)}!7a"
        self.used.append(password)
        return password

    def user(self, name: str, confirmed: bool) -> str:
        """A user in GROUP (as provisioning leaves it), created by an admin
        (FORCE_CHANGE_PASSWORD) or signed up long ago (CONFIRMED); returns its password."""
        password = self.password()
        self.seed.user(self.pool, name, [GROUP], password, confirmed)
        return password

    def secret(self, user: str, kind: str) -> str:
        """`PASSWORD_SECRET_PREFIX` + user: `{"password": ...}`, the bare password, or a weak one."""
        password = self.password(weak=kind == "weak")
        value = password if kind == "plain" else json.dumps({"password": password})
        self.used.append(value)
        self.seed.secret(PREFIX + user, value)
        return password

    def sign_in(self, user: str, password: str) -> str:
        """Cognito's answer to this password: tokens, the first sign-in's challenge, or a refusal."""
        try:
            answer = self.idp.admin_initiate_auth(
                UserPoolId=self.pool, ClientId=self.client, AuthFlow="ADMIN_USER_PASSWORD_AUTH",
                AuthParameters={"USERNAME": user, "PASSWORD": password})
        except (self.idp.exceptions.NotAuthorizedException, self.idp.exceptions.UserNotFoundException):
            return "refused"
        if answer.get("ChallengeName") != "NEW_PASSWORD_REQUIRED":
            return "tokens" if "AuthenticationResult" in answer else str(answer.get("ChallengeName"))
        done = self.idp.admin_respond_to_auth_challenge(
            UserPoolId=self.pool, ClientId=self.client, ChallengeName="NEW_PASSWORD_REQUIRED",
            Session=answer["Session"], ChallengeResponses={"USERNAME": user, "NEW_PASSWORD": self.password()})
        return "challenge, then tokens" if "AuthenticationResult" in done else "challenge refused"


FOREVER = 10**6
# case: user (created by an admin, CONFIRMED, or absent), its secret, input beyond
# {username, passwordSecretId}, the front's plan (answer, function invocations' worth) ->
# status, error, last state, invocations, and who may sign in afterwards.
ONBOARDING = [
    ("new-user", "newbie", "new", "json", {}, None, "SUCCEEDED", None, "PasswordSet", 1, "secret"),
    ("permanent", "perm", "new", "plain", {"permanent": True, "signOut": True, "reason": "TICKET-4711"}, None,
     "SUCCEEDED", None, "PasswordSet", 1, "secret"),
    ("unknown-user", "ghost", None, "json", {}, None, "FAILED", "UserNotFound", "UserNotFound", 1, "nobody"),
    ("established-user", "settled", "confirmed", "json", {}, None, "FAILED", "Forbidden", "NotAllowed", 1, "own"),
    ("other-users-secret", "borrower", "new", None, {"passwordSecretId": PREFIX + "newbie"}, None,
     "FAILED", "InvalidRequest", "RequestRejected", 1, "own"),
    ("weak-password", "frail", "new", "weak", {}, None, "FAILED", "InvalidRequest", "RequestRejected", 1, "own"),
    ("throttled-once", "throttled", "new", "json", {}, (THROTTLED, 1), "SUCCEEDED", None, "PasswordSet", 2, "secret"),
    ("upstream-error-once", "unlucky", "new", "json", {}, (INTERNAL_ERROR, 1), "SUCCEEDED", None, "PasswordSet", 2, "secret"),
    ("throttled-always", "swamped", "new", "json", {}, (THROTTLED, FOREVER), "FAILED", "TooManyRequests",
     "SetPasswordFailed", 5, "own"),
]


def rehearse_onboarding(r: stack.Rehearsal, machine: dict, world: World, front: Front, launcher: Launcher,
                        alias: str, attempts: int, histories: list[str]) -> None:
    """Every route of the onboarding state machine, each reached by a real answer of the function."""
    retry = json.loads(machine["definition"])["States"]["SetPassword"]["Retry"]
    for case, user, status, secret, extra, plan, outcome, error, end, tries, after in ONBOARDING:
        own = world.user(user, status == "confirmed") if status else None
        password = world.secret(user, secret) if secret else None
        if plan:
            # The function's SDK retries a throttled set; a 5xx may have changed the password,
            # so the set is not sent again (errors.md, "When the set fails").
            per_invocation = attempts if plan[0] == THROTTLED else 1
            front.plan[user] = (plan[0], plan[1] * per_invocation)
        payload = {"username": user, "passwordSecretId": PREFIX + user, **extra}
        invoked, waits, started = len(launcher.invoked), len(launcher.waits), time.monotonic()
        arn, execution, events = execute(r, machine, case, payload, histories, world.used, poll=0.05)
        failed = [e["taskFailedEventDetails"]["error"] for e in events if e["type"] == "TaskFailed"]
        entered = [e["stateEnteredEventDetails"]["name"] for e in events if e["type"].endswith("StateEntered")]
        print(f"{case}: {execution['status']} {execution.get('error', '')} via {' > '.join(entered)}"
              f" ({time.monotonic() - started:.1f} s)")
        r.check((execution["status"], execution.get("error"), entered[-1]) == (outcome, error, end),
                f"{case}: {outcome} {error or ''} in state {end} (got {execution.get('cause', '')[:200]})")
        r.check(launcher.invoked[invoked:] == [alias] * tries, f"{case}: {tries} invocation(s) of the live alias {alias}")
        planned = [plan[0][2]] * (tries - (outcome == "SUCCEEDED")) if plan else []
        r.check(failed == (planned or ([error] if error else [])), f"{case}: the attempts failed with {planned or error} (got {failed})")
        answers = len(planned) * (per_invocation if plan else attempts)
        r.check(front.answered[user] == answers, f"{case}: the front answered {answers} calls")
        retrier = next((x for x in retry if planned and planned[0] in x["ErrorEquals"]), {})
        bounds = [min(retrier["IntervalSeconds"] * retrier.get("BackoffRate", 2) ** k, retrier.get("MaxDelaySeconds", 1e9))
                  for k in range(tries - 1)]
        got = launcher.waits[waits:]
        r.check(len(got) == tries - 1 and all(0 <= w <= b for w, b in zip(got, bounds)),
                f"{case}: Retry waits within {bounds} (full jitter; got {[round(w, 2) for w in got]})")
        audit = [a for a in audit_lines() if a.get("target_username") == user]
        # Refused payloads keep their labels too: every execution is found by its id.
        labels = (arn, machine["name"])
        r.check(len(audit) == tries and all((a.get("correlation_id"), a.get("requested_by")) == labels for a in audit),
                f"{case}: {tries} audit line(s), correlation_id and requested_by {labels}")
        if outcome == "SUCCEEDED":
            expected = {"username": user, "userStatus": "CONFIRMED" if extra.get("permanent") else "FORCE_CHANGE_PASSWORD",
                        **({"signedOut": True} if extra.get("signOut") else {})}
            output = json.loads(execution["output"])
            expires = output.pop("temporaryPasswordExpiresAt", None)  # temporary sets only, 7 days on
            week = (datetime.now(timezone.utc) + timedelta(days=7)).strftime("%Y-%m-%dT%H")
            r.check(output == expected and (expires or "")[:13] == ("" if extra.get("permanent") else week),
                    f"{case}: output {expected}, expiry {week or 'none'} (got {output}, {expires})")
        else:
            cause = json.loads(execution.get("cause") or "{}")
            r.check(cause.get("errorType") == error and bool(cause.get("errorMessage")), f"{case}: the cause is the function's error")
        if own:
            r.check(world.marked(user) == (outcome != "SUCCEEDED"), f"{case}: in {GROUP} only until the set")
        if after == "secret":
            r.check(world.sign_in(user, own) == "refused", f"{case}: the creation password no longer works")
            first = "tokens" if extra.get("permanent") else "challenge, then tokens"
            r.check(world.sign_in(user, password) == first, f"{case}: signs in with the secret's password ({first})")
        elif after == "own":
            first = "tokens" if status == "confirmed" else "challenge, then tokens"
            r.check(world.sign_in(user, own) == first, f"{case}: untouched, signs in with its own password ({first})")
        else:
            r.check(world.sign_in(user, password) == "refused", f"{case}: no such user afterwards")


def execute(r: stack.Rehearsal, machine: dict, name: str, payload: dict, histories: list[str], used: list[str],
            poll: float) -> tuple[str, dict, list[dict]]:
    """One execution to its end; its history is kept for scan-secrets and checked for `used` here."""
    arn = r.sfn.start_execution(stateMachineArn=machine["stateMachineArn"], name=name, input=json.dumps(payload))["executionArn"]
    while (execution := r.sfn.describe_execution(executionArn=arn))["status"] == "RUNNING":
        time.sleep(poll)
    events = r.sfn.get_execution_history(executionArn=arn, maxResults=1000)["events"]
    histories.append(json.dumps([execution, events], default=str))
    r.check(not any(s in histories[-1] for s in used), f"{name}: no password or secret value in the execution or its history")
    return arn, execution, events


def function_log() -> str:
    """What every function process wrote (one log each)."""
    return "".join(log.read_text(errors="replace") for log in sorted(FUNCTION_LOG.parent.glob(FUNCTION_LOG.stem + "*.log")))


def audit_lines() -> list[dict]:
    lines = function_log().splitlines()
    return [json.loads(line[line.index("{"):]) for line in lines if '"event":"admin_set_user_password"' in line]


# Rows the bulk run must refuse, by kind, with the code each must be reported with.
BAD_ROWS = {"unknown": "UserNotFound", "established": "Forbidden", "malformed": "InvalidRequest"}


def rehearse_bulk(r: stack.Rehearsal, machine: dict, world: World, front: Front, launcher: Launcher,
                  alias: str, attempts: int, histories: list[str], users: int = 100, bad: int = 9,
                  quota_scale: float = 1.0) -> None:
    """One run over `users` new users and `bad` refused rows, at Cognito's default rates
    times `quota_scale` (below 1 where moto's interpreter cannot feed items at the real rate)."""
    run = secrets.token_hex(3)
    good = [f"bulk-{run}-{n:04d}" for n in range(users)]
    rows = {name: world.secret(name, "json") for name in good}
    for name in good:
        world.user(name, confirmed=False)
    refused: dict[str, tuple[str, str | None]] = {}  # user -> (expected code, password it keeps)
    for n in range(bad):
        kind = list(BAD_ROWS)[n % len(BAD_ROWS)]
        name = {"unknown": f"ghost-{run}-{n}", "established": f"settled-{run}-{n}", "malformed": f"bad name {run} {n}"}[kind]
        own = world.user(name, confirmed=True) if kind == "established" else None
        if kind != "malformed":  # a name Secrets Manager would refuse
            world.secret(name, "json")
        refused[name] = (BAD_ROWS[kind], own)
    permanent = set(good[::4])
    csv = "username,permanent\n" + "".join(f"{u},{str(u in permanent).lower()}\n" for u in [*good, *refused])
    bucket = r.resources("asp-workflows")["BulkOnboardingBucket"]["PhysicalResourceId"]
    r.s3.put_object(Bucket=bucket, Key=f"input/{run}.csv", Body=csv.encode())

    front.enforce_quotas(quota_scale)
    launcher.scale = 1.0  # throttling is only absorbed if the backoff is real
    invoked, waits, started = len(launcher.invoked), len(launcher.waits), time.monotonic()
    cpu = cpu_seconds()
    payload = {"bucket": bucket, "key": f"input/{run}.csv"}
    arn, execution, _ = execute(r, machine, f"bulk-{run}", payload, histories, world.used, poll=0.2)
    wall = time.monotonic() - started
    cpu = [now - before for now, before in zip(cpu_seconds(), cpu)]
    front.buckets, launcher.scale = None, WAIT_SCALE
    total = users + bad
    rate = QUOTAS["UserUpdate"] * quota_scale / 2  # two UserUpdate calls per user set
    print(f"bulk: {execution['status']}: {total} rows in {wall:.1f} s = {users / wall:.1f} users/s; quota bound "
          f"{users / rate:.1f} s ({users} users / {rate:g} per s: UserUpdate {QUOTAS['UserUpdate']} x {quota_scale:g} / 2)")
    print(f"bulk: CPU seconds: moto + interpreter + front (one Python process) {cpu[0]:.1f}, "
          f"function processes {cpu[1]:.1f}, over {wall:.1f} s of wall time on {os.cpu_count()} cores")
    print(f"bulk: calls admitted {dict(front.calls)}; throttled {dict(front.throttled)}; "
          f"Step Functions retries {len(launcher.waits) - waits}; invocations {len(launcher.invoked) - invoked}")
    r.check(execution["status"] == "SUCCEEDED", f"bulk: the run succeeds whatever the rows ({execution.get('cause', '')[:300]})")
    r.check(set(launcher.invoked[invoked:]) == {alias}, f"bulk: every invocation of the live alias {alias}")
    output = json.loads(execution.get("output") or "{}")
    details = output.get("ResultWriterDetails", {})
    r.check(details.get("Bucket") == bucket and details.get("Key", "").startswith("results/"),
            f"bulk: the output names the report under results/ ({output})")
    manifest = json.loads(r.s3.get_object(Bucket=bucket, Key=details["Key"])["Body"].read())
    r.check(manifest.get("MapRunArn") == output.get("MapRunArn"), "bulk: the report's manifest names the Map Run")
    counts = r.sfn.describe_map_run(mapRunArn=output["MapRunArn"])["itemCounts"]
    r.check((counts["total"], counts["succeeded"], counts["failed"]) == (total, users, bad),
            f"bulk: the Map Run counts {users} succeeded and {bad} failed of {total} (got {counts})")
    names = {*good, *refused}
    audit = [a for a in audit_lines() if a.get("target_username") in names]
    done = Counter(a["target_username"] for a in audit if a.get("outcome") == "success")
    r.check(sorted(done) == sorted(good) and set(done.values()) == {1},
            f"bulk: every user set exactly once, none lost ({len(done)} of {users}, max {max(done.values(), default=0)})")
    codes = {a.get("target_username"): a.get("code") for a in audit if a.get("outcome") != "success"}
    wrong = {u: codes.get(u) for u, (code, _) in refused.items() if codes.get(u) != code}
    r.check(not wrong, f"bulk: each bad row refused with its code ({wrong})")
    r.check(all((a.get("requested_by"), a.get("correlation_id")) == (machine["name"], arn) for a in audit),
            "bulk: requested_by and correlation_id are the run's")
    statuses = {u["Username"]: u["UserStatus"] for page in world.idp.get_paginator("list_users").paginate(UserPoolId=world.pool)
                for u in page["Users"]}
    wrong = [u for u in good if statuses.get(u) != ("CONFIRMED" if u in permanent else "FORCE_CHANGE_PASSWORD")]
    r.check(not wrong, f"bulk: every user's status as its row asked ({len(wrong)} wrong)")
    members = {u["Username"] for page in world.idp.get_paginator("list_users_in_group").paginate(UserPoolId=world.pool, GroupName=GROUP)
               for u in page["Users"]}
    r.check(not members & set(good), f"bulk: the users set left {GROUP} ({len(members & set(good))} still in it)")
    r.check({u for u, (_, own) in refused.items() if own} <= members, f"bulk: the established users keep {GROUP}")
    deleted = {u: "DeletedDate" in world.sm.describe_secret(SecretId=PREFIX + u) for u in [*good, *refused] if " " not in u}
    r.check(all(deleted[u] for u in good) and not any(deleted.get(u) for u in refused),
            "bulk: the secrets of the users set are scheduled for deletion, the others are left")
    sample = good[:: max(1, users // 50)][:50]
    wrong = [u for u in sample if world.sign_in(u, rows[u]) != ("tokens" if u in permanent else "challenge, then tokens")]
    r.check(not wrong, f"bulk: a sample of {len(sample)} signs in with their secret's password ({wrong[:5]})")
    r.check(all(world.sign_in(u, own) == "tokens" for u, (_, own) in refused.items() if own),
            "bulk: the established users still sign in with their own password")
    if quota_scale < 1:
        r.check(sum(front.throttled.values()) > 0, "bulk: the quota was reached, the throttles absorbed by retries")


def cpu_seconds() -> tuple[float, float]:
    """CPU time of this process (moto, its interpreter, the front) and of the function processes."""
    return sum(os.times()[:2]), sum(cpu_ns(process.pid) or 0 for process in PROCESSES) / 1e9


def bulk_runs(*context: object, users: int, quota_scale: float) -> None:
    """`make test`: one run with the bad rows; `make rehearse-bulk`: the large run, then the bad rows."""
    large = users > 100
    rehearse_bulk(*context, users=users, bad=0 if large else 9, quota_scale=quota_scale)  # type: ignore[arg-type]
    if large:
        rehearse_bulk(*context, users=30, bad=20, quota_scale=quota_scale)  # type: ignore[arg-type]
        function_side(*context[:5], users=300, workers=10)  # type: ignore[arg-type]


def function_side(r: stack.Rehearsal, machine: dict, world: World, front: Front, launcher: Launcher,
                  users: int, workers: int) -> None:
    """The rate the function sustains behind the same front without moto's interpreter: each
    user one invocation and one AdminRemoveUserFromGroup, `workers` at a time, throttles retried
    with full-jitter backoff as the state machine's Retry does."""
    run = secrets.token_hex(3)
    names = [f"direct-{run}-{n:04d}" for n in range(users)]
    for name in names:
        world.secret(name, "json")
        world.user(name, confirmed=False)
    idp = boto3.client("cognito-idp", region_name=stack.REGION, endpoint_url=launcher.cognito_endpoint,
                       config=Config(retries={"total_max_attempts": 1}))
    url = f"{launcher.function_endpoint}/2015-03-31/functions/{FUNCTION}/invocations"
    retries = Counter[str]()

    def until_admitted(call, what: str) -> None:  # type: ignore[no-untyped-def]
        for attempt in range(12):
            try:
                return call()
            except (urllib.error.HTTPError, idp.exceptions.TooManyRequestsException) as error:
                if isinstance(error, urllib.error.HTTPError) and b"TooManyRequests" not in error.read():
                    raise
                retries[what] += 1
                time.sleep(random.uniform(0, min(16, 2 ** attempt)))
        raise SystemExit(f"{what}: still throttled after 12 attempts")

    def onboard(name: str) -> None:
        payload = {"username": name, "passwordSecretId": PREFIX + name, "permanent": False, "signOut": False,
                   "reason": "bulk onboarding", "requestedBy": machine["name"], "correlationId": f"direct-{run}"}
        until_admitted(lambda: urllib.request.urlopen(url, json.dumps(payload).encode(), timeout=60).read(), "invoke")
        until_admitted(lambda: idp.admin_remove_user_from_group(UserPoolId=world.pool, Username=name, GroupName=GROUP),
                       "AdminRemoveUserFromGroup")

    front.enforce_quotas(1.0)
    started = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(workers) as pool:
        list(pool.map(onboard, names))
    wall = time.monotonic() - started
    front.buckets = None
    rate = QUOTAS["UserUpdate"] / 2
    print(f"function side: {users} users in {wall:.1f} s = {users / wall:.1f} users/s, {workers} at a time, "
          f"quota bound {users / rate:.1f} s; throttled {dict(front.throttled)}; retries {dict(retries)}")
    done = Counter(a["target_username"] for a in audit_lines() if a.get("correlation_id") == f"direct-{run}"
                   and a.get("outcome") == "success")
    r.check(sorted(done) == names and set(done.values()) == {1} and not any(world.marked(n) for n in names[:50]),
            f"function side: every user set once ({len(done)} of {users}) and unmarked")
    r.check(wall <= 1.3 * users / rate, f"function side: within 1.3x of the quota bound ({wall:.1f} s)")


CASES = {"OnboardingStateMachine": rehearse_onboarding, "BulkOnboardingStateMachine": rehearse_bulk}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--template", type=Path, default=ROOT / "template.yaml")
    parser.add_argument("--bulk", type=int, default=100, help="users of the bulk run (default 100)")
    parser.add_argument("--instances", type=int, default=1, help="function processes (default 1)")
    parser.add_argument("--quota-scale", type=float, default=1.0, help="times Cognito's default rates (default 1)")
    args = parser.parse_args()
    CASES["BulkOnboardingStateMachine"] = lambda *a: bulk_runs(*a, users=args.bulk, quota_scale=args.quota_scale)
    for shim in (stack.shim_novalue_in_lists, stack.shim_version_attribute, stack.shim_rest_api_body, stack.shim_version_replacement):
        shim()
    logging.getLogger("moto").setLevel(logging.ERROR)
    # The interpreter logs a whole state's repr on a runtime error; the execution's cause has it.
    logging.getLogger("moto.stepfunctions.parser").setLevel(logging.CRITICAL)
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", message="Tried to parse")  # rehearse_stack lists what moto skips
    for sub in ("logs", "secrets"):
        (ARTIFACTS / sub).mkdir(parents=True, exist_ok=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # still stop what was started

    started = time.monotonic()
    moto_port, function_port = free_port(), free_port()
    os.environ["MOTO_PORT"] = str(moto_port)  # where the interpreter's other clients (S3, aws-sdk) go
    endpoint = f"http://127.0.0.1:{moto_port}"
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=moto_port, verbose=False)
    server.start()
    front = Front(moto_port)
    threading.Thread(target=front.serve_forever, daemon=True).start()
    histories: list[str] = []
    r = stack.Rehearsal(args.template, endpoint)
    world = World(endpoint)
    try:
        r.upload_artifact()
        print("stack: the SAM-translated template on moto's CloudFormation")
        if not r.create("asp-workflows", {"UserPoolId": world.pool, "AdminClientIds": world.client, "PasswordSecretPrefix": PREFIX}):
            return 1
        resources = r.resources("asp-workflows")
        alias = resources["WorkflowFunctionAliaslive"]["PhysicalResourceId"]
        env = {k: str(v) for k, v in r.function_env("asp-workflows", "WorkflowFunction").items()}
        env.update(AWS_LAMBDA_FUNCTION_NAME=resources["WorkflowFunction"]["PhysicalResourceId"],
                   AWS_ENDPOINT_URL=endpoint, AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER=f"http://127.0.0.1:{front.server_port}",
                   AWS_REGION=stack.REGION, AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing",
                   AWS_EC2_METADATA_DISABLED="true", AWS_LAMBDA_LOG_FORMAT="JSON")
        machines = {logical: r.sfn.describe_state_machine(stateMachineArn=resource["PhysicalResourceId"])
                    for logical, resource in resources.items() if resource["ResourceType"] == "AWS::StepFunctions::StateMachine"}
        r.check(set(machines) == set(CASES), f"cases for every state machine in the template ({sorted(machines)})")
        config = {"stepfunctions": {"execute_state_machine": True}}
        urllib.request.urlopen(urllib.request.Request(f"{endpoint}/moto-api/config", json.dumps(config).encode(), method="POST"))
        start_function(env, function_port, args.instances, alias)
        print(f"function: {BINARY} under cargo lambda watch, ready after {time.monotonic() - started:.1f} s")
        launcher = Launcher(f"http://127.0.0.1:{function_port}", f"http://127.0.0.1:{front.server_port}")
        launcher.install()
        for logical, machine in sorted(machines.items()):
            r.check("${" not in machine["definition"], f"{logical}: every DefinitionSubstitution resolved")
            # The executing backend parses the definition here: a grammar error fails the create.
            created = r.sfn.create_state_machine(name=machine["name"], definition=machine["definition"],
                                                 roleArn=machine["roleArn"], type=machine["type"])
            print(f"{logical}: executing on moto")
            CASES[logical](r, {**machine, **created}, world, front, launcher, alias,
                           int(env.get("COGNITO_MAX_ATTEMPTS", "3")), histories)
    finally:
        for process in reversed(PROCESSES):
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=30)
        front.shutdown()
        server.stop()
        (ARTIFACTS / "secrets" / "workflow-rehearsal.txt").write_text("\n".join(world.used) + "\n")
        (ARTIFACTS / "logs" / "workflow-rehearsal-histories.log").write_text("\n".join(histories) + "\n")
    log = function_log()
    r.check(not any(s in log for s in world.used), "the function's logs hold no password or secret value")
    print(f"rehearse_workflows: {len(r.failures)} failure(s) in {time.monotonic() - started:.1f} s")
    return 1 if r.failures else 0


if __name__ == "__main__":
    sys.exit(main())
