"""The alternative users would pick: the same direct-invocation handler in Python/boto3.

Written the way a careful Python Lambda is written (client built once at import, config
read once, the two look-ups run concurrently), so the comparison is with good Python,
not with a strawman. Run by awslambdaric against the benchmark's Runtime API emulator.
"""

import json
import os
import re
import time
from concurrent.futures import ThreadPoolExecutor

import boto3

USER_POOL_ID = os.environ["USER_POOL_ID"]
PROTECTED_GROUPS = {g for g in os.environ.get("PROTECTED_GROUPS", "").split(",") if g}
ALLOW_FEDERATED = os.environ.get("ALLOW_FEDERATED", "false").lower() == "true"
USERNAME_RE = re.compile(r"^[\w.@+=,\-]{1,128}$")

cognito = boto3.client("cognito-idp")
pool = ThreadPoolExecutor(max_workers=2)


class BadRequest(Exception):
    pass


def _validate(event):
    username, password = event.get("username"), event.get("password")
    permanent = event.get("permanent", False)
    if not isinstance(username, str) or not USERNAME_RE.match(username):
        raise BadRequest("username")
    if not isinstance(password, str) or not 8 <= len(password) <= 256:
        raise BadRequest("password")
    if not isinstance(permanent, bool):
        raise BadRequest("permanent")
    return username, password, permanent


def _target_groups(username):
    groups, token = [], None
    while True:
        kwargs = {"UserPoolId": USER_POOL_ID, "Username": username}
        if token:
            kwargs["NextToken"] = token
        page = cognito.admin_list_groups_for_user(**kwargs)
        groups += [g["GroupName"] for g in page.get("Groups", [])]
        token = page.get("NextToken")
        if not token:
            return groups


def handler(event, context):
    started = time.time()
    try:
        username, password, permanent = _validate(event)
    except BadRequest as err:
        return {"ok": False, "error": "InvalidRequest", "field": str(err)}
    groups_f = pool.submit(_target_groups, username)
    user_f = pool.submit(cognito.admin_get_user, UserPoolId=USER_POOL_ID, Username=username)
    groups, user = groups_f.result(), user_f.result()
    if PROTECTED_GROUPS & set(groups):
        outcome = "Denied"
    elif user.get("UserStatus") == "EXTERNAL_PROVIDER" and not ALLOW_FEDERATED:
        outcome = "Denied"
    else:
        cognito.admin_set_user_password(
            UserPoolId=USER_POOL_ID, Username=username, Password=password, Permanent=permanent)
        outcome = "Succeeded"
    print(json.dumps({"audit": "admin-set-password", "outcome": outcome, "target": username,
                      "permanent": permanent, "request_id": context.aws_request_id,
                      "duration_ms": round((time.time() - started) * 1000, 1)}))
    return {"ok": outcome == "Succeeded", "outcome": outcome, "username": username}
