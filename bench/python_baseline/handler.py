"""The alternative users would pick: the same API handler in Python/boto3.

The same work as the Rust function's API entry point, written the way a careful Python
Lambda is written, so the comparison is with good Python, not with a strawman:
- client and configuration built once at import; the admin pool's JWKS fetched at import in
  a background thread (as the Rust function does), the first invocation waits for it;
- the caller's RS256 ID token verified with joserfc (the JOSE library moto itself uses, so
  it is in the venv; PyJWT is not): signature by `kid`, iss, token_use, exp/iat, aud;
- the authorizer's claims must agree with the token (sub, username, groups);
- the caller's live status and groups and the target's status and groups looked up
  concurrently (thread pool), then the rules (admin, protected target, federated), then
  AdminSetUserPassword. An API Gateway proxy response is returned.
Run by awslambdaric against the benchmark's Runtime API emulator.
"""

import json
import os
import re
import ssl
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import boto3
from joserfc import jwt
from joserfc.jwk import KeySet

USER_POOL_ID = os.environ["USER_POOL_ID"]
ADMIN_POOL_ID = os.environ.get("ADMIN_USER_POOL_ID", USER_POOL_ID)
REGION = USER_POOL_ID.split("_", 1)[0]
ADMIN_GROUPS = {g for g in os.environ["ADMIN_GROUPS"].split(",") if g}
PROTECTED_GROUPS = {g for g in os.environ.get("PROTECTED_GROUPS", "").split(",") if g}
SUPER_ADMIN_GROUPS = {g for g in os.environ.get("SUPER_ADMIN_GROUPS", "").split(",") if g}
CLIENT_IDS = set(os.environ["ADMIN_CLIENT_IDS"].split(","))
ALLOW_FEDERATED = os.environ.get("ALLOW_FEDERATED", "false").lower() == "true"
ISSUER = f"https://cognito-idp.{REGION}.amazonaws.com/{ADMIN_POOL_ID}"
ENDPOINT = os.environ.get("AWS_ENDPOINT_URL")
JWKS_URL = (f"{ENDPOINT.rstrip('/')}/{ADMIN_POOL_ID}/.well-known/jwks.json" if ENDPOINT
            else f"{ISSUER}/.well-known/jwks.json")
USERNAME_RE = re.compile(r"^[\w.@+=,\-]{1,128}$")

cognito = boto3.client("cognito-idp")
pool = ThreadPoolExecutor(max_workers=4)
_keys = {}


def _fetch_jwks():
    ctx = ssl.create_default_context(cafile=os.environ.get("SSL_CERT_FILE"))
    with urllib.request.urlopen(JWKS_URL, timeout=4, context=ctx) as resp:
        _keys["set"] = KeySet.import_key_set(json.loads(resp.read()))


_jwks_thread = threading.Thread(target=_fetch_jwks, daemon=True)
_jwks_thread.start()


class Refused(Exception):
    def __init__(self, status, code):
        super().__init__(code)
        self.status, self.code = status, code


def _verify(token):
    _jwks_thread.join()
    if "set" not in _keys:
        raise Refused(503, "UpstreamError")
    try:
        claims = jwt.decode(token, _keys["set"], algorithms=["RS256"]).claims
    except Exception:
        raise Refused(401, "Unauthorized")
    now = time.time()
    if (claims.get("iss") != ISSUER or claims.get("token_use") != "id"
            or not now < claims.get("exp", 0) + 30 or claims.get("iat", now + 60) > now + 30
            or now - claims.get("iat", 0) > 3600 or claims.get("aud") not in CLIENT_IDS
            or not claims.get("sub") or not claims.get("cognito:username")):
        raise Refused(401, "Unauthorized")
    return claims


def _agree(token, said):
    groups = [g for g in said.get("cognito:groups", "").split(",") if g]
    if (said.get("iss") != token["iss"] or said.get("sub") != token["sub"]
            or said.get("cognito:username") != token["cognito:username"]
            or sorted(groups) != sorted(token.get("cognito:groups", []))):
        raise Refused(403, "Forbidden")


def _groups(pool_id, username):
    groups, next_token = [], None
    while True:
        kwargs = {"UserPoolId": pool_id, "Username": username}
        if next_token:
            kwargs["NextToken"] = next_token
        page = cognito.admin_list_groups_for_user(**kwargs)
        groups += [g["GroupName"] for g in page.get("Groups", [])]
        next_token = page.get("NextToken")
        if not next_token:
            return set(groups)


def _sub(user):
    return next((a["Value"] for a in user.get("UserAttributes", []) if a["Name"] == "sub"), None)


def _respond(status, body):
    return {"statusCode": status, "headers": {"Content-Type": "application/json"},
            "body": json.dumps(body)}


def handler(event, context):
    started = time.time()
    try:
        headers = {k.lower(): v for k, v in (event.get("headers") or {}).items()}
        auth = headers.get("authorization") or ""
        token = _verify(auth[7:] if auth.startswith("Bearer ") else auth)
        _agree(token, event["requestContext"]["authorizer"]["claims"])
        username = (event.get("pathParameters") or {}).get("username")
        body = json.loads(event.get("body") or "{}")
        password, permanent = body.get("password"), body.get("permanent", False)
        if (not isinstance(username, str) or not USERNAME_RE.match(username)
                or not isinstance(password, str) or not 8 <= len(password) <= 256
                or not isinstance(permanent, bool)):
            raise Refused(400, "InvalidRequest")
        caller = token["cognito:username"]
        if caller.lower() == username.lower():
            raise Refused(403, "Forbidden")
        futures = [pool.submit(_groups, ADMIN_POOL_ID, caller),
                   pool.submit(cognito.admin_get_user, UserPoolId=ADMIN_POOL_ID, Username=caller),
                   pool.submit(_groups, USER_POOL_ID, username),
                   pool.submit(cognito.admin_get_user, UserPoolId=USER_POOL_ID, Username=username)]
        caller_groups, caller_user, target_groups, target_user = [f.result() for f in futures]
        if (not caller_user.get("Enabled") or _sub(caller_user) != token["sub"]
                or not ADMIN_GROUPS & caller_groups):
            raise Refused(403, "Forbidden")
        if PROTECTED_GROUPS & target_groups and not SUPER_ADMIN_GROUPS & caller_groups:
            raise Refused(403, "Forbidden")
        if target_user.get("UserStatus") == "EXTERNAL_PROVIDER" and not ALLOW_FEDERATED:
            raise Refused(403, "Forbidden")
        cognito.admin_set_user_password(UserPoolId=USER_POOL_ID, Username=username,
                                        Password=password, Permanent=permanent)
        outcome, response = "Succeeded", _respond(200, {"username": username})
    except Refused as refused:
        outcome, response = refused.code, _respond(refused.status, {"error": refused.code})
    print(json.dumps({"audit": "admin-set-password", "outcome": outcome,
                      "request_id": context.aws_request_id,
                      "duration_ms": round((time.time() - started) * 1000, 1)}))
    return response
