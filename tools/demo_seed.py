"""Seeds a local moto server for `make demo` and writes the sample events, retargeted at it.

The pool has a strict password policy, an app client allowed ADMIN_USER_PASSWORD_AUTH, and
the users the samples and the unit tests name:
  alice   admins, helpdesk   the API samples' caller
  bob     staff, CONFIRMED   an established user (helpdesk target; workflows may not touch him)
  carol   admins             a protected target
  rooty   root               the super admin whose claims rest-forged-claims copies
  dave    admins-readonly, editors   a real non-admin caller with look-alike groups (rest-not-admin)
  newbie  staff, FORCE_CHANGE_PASSWORD (created, never signed in): the workflow's target
and the secrets onboarding/newbie, onboarding/carol, onboarding/bob.

Each API sample gets a real ID token minted by moto (AdminInitiateAuth) for its caller in
`Authorization` (and `multiValueHeaders` for REST), and authorizer claims rewritten to say
what that token says (iss, sub, cognito:username, aud, token_use, exp, cognito:groups in the
shape's format), as API Gateway would write them. Two samples stay forgeries on purpose:
  rest-forged-claims   no token at all, the super admin's real claims: must get 401
  http-forged-groups   alice's real token, but the forged groups claim "[admins": 403
Usage: demo_seed.py <endpoint> <events dir> <output dir>. Prints shell assignments.
"""

import base64
import json
import pathlib
import shlex
import sys
import time

import boto3

SAMPLE_POOL = "us-east-1_Example"
REGION = "us-east-1"
INITIAL = "Initial-Passw0rd!1"
USERS = {  # name -> groups; every user but newbie is CONFIRMED with INITIAL
    "alice": ["admins", "helpdesk"],
    "bob": ["staff"],
    "carol": ["admins"],
    "rooty": ["root"],
    "dave": ["admins-readonly", "editors"],
}
NEWBIE = ("newbie", ["staff"])
SECRETS = {
    "onboarding/newbie": "Onboard-Passw0rd!7",
    "onboarding/carol": "Carol-Passw0rd!8",
    "onboarding/bob": "Secret-Passw0rd!9",
}
# Samples whose caller is not the user their claims name (the samples predate real users).
CALLER = {"rest-not-admin": "dave"}
# Samples whose groups claim is the forgery being demonstrated: kept as written.
FORGED_GROUPS = {"http-forged-groups"}

endpoint, events_dir, out_dir = sys.argv[1:4]
session = dict(endpoint_url=endpoint, region_name=REGION,
               aws_access_key_id="testing", aws_secret_access_key="testing")
cognito = boto3.client("cognito-idp", **session)
secrets = boto3.client("secretsmanager", **session)

pool = cognito.create_user_pool(
    PoolName="demo",
    Policies={"PasswordPolicy": {"MinimumLength": 10, "RequireUppercase": True, "RequireLowercase": True,
                                 "RequireNumbers": True, "RequireSymbols": True}},
)["UserPool"]["Id"]
client = cognito.create_user_pool_client(
    UserPoolId=pool, ClientName="admin-portal",
    ExplicitAuthFlows=["ALLOW_ADMIN_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
)["UserPoolClient"]["ClientId"]
for group in sorted({g for groups in [*USERS.values(), NEWBIE[1]] for g in groups}):
    cognito.create_group(UserPoolId=pool, GroupName=group)
for user, groups in USERS.items():
    cognito.admin_create_user(UserPoolId=pool, Username=user, TemporaryPassword=INITIAL, MessageAction="SUPPRESS")
    cognito.admin_set_user_password(UserPoolId=pool, Username=user, Password=INITIAL, Permanent=True)
    for group in groups:
        cognito.admin_add_user_to_group(UserPoolId=pool, Username=user, GroupName=group)
# Created by an admin and never signed in: FORCE_CHANGE_PASSWORD, what onboarding works on.
cognito.admin_create_user(UserPoolId=pool, Username=NEWBIE[0], TemporaryPassword=INITIAL, MessageAction="SUPPRESS")
for group in NEWBIE[1]:
    cognito.admin_add_user_to_group(UserPoolId=pool, Username=NEWBIE[0], GroupName=group)
for name, password in SECRETS.items():
    secrets.create_secret(Name=name, SecretString=json.dumps({"password": password}))


def claims_of(token):
    """The payload of a JWT, unverified: only to copy what the token says into the claims."""
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


tokens = {}


def id_token(user):
    if user not in tokens:
        out = cognito.admin_initiate_auth(UserPoolId=pool, ClientId=client, AuthFlow="ADMIN_USER_PASSWORD_AUTH",
                                          AuthParameters={"USERNAME": user, "PASSWORD": INITIAL})
        tokens[user] = out["AuthenticationResult"]["IdToken"]
    return tokens[user]


def live_sub(user):
    attributes = cognito.admin_get_user(UserPoolId=pool, Username=user)["UserAttributes"]
    return next(a["Value"] for a in attributes if a["Name"] == "sub")


def retarget_api(name, event):
    """Token and claims for one API sample, as API Gateway would deliver them."""
    rest = "multiValueHeaders" in event or "httpMethod" in event
    authorizer = event["requestContext"]["authorizer"]
    claims = authorizer["claims"] if rest else authorizer["jwt"]["claims"]
    headers = event.setdefault("headers", {})
    user = CALLER.get(name, claims["cognito:username"])
    if "authorization" not in headers:
        # A forgery with no token: keep it one, but make its claims the real user's, exactly
        # the attack of issue 8 (a plain invocation carrying a super admin's claims).
        claims.update({"sub": live_sub(user), "cognito:username": user,
                       "iss": f"https://cognito-idp.{REGION}.amazonaws.com/{pool}", "aud": client})
        return user, "no token"
    token = id_token(user)
    headers["authorization"] = f"Bearer {token}"
    if rest:
        event.setdefault("multiValueHeaders", {})["authorization"] = [f"Bearer {token}"]
    said = claims_of(token)
    forged_groups = claims.get("cognito:groups")
    claims.clear()
    claims.update({key: said[key] for key in ("sub", "iss", "cognito:username", "aud", "token_use")})
    # REST's Cognito authorizer writes exp as a date string; HTTP API's JWT authorizer a number.
    claims["exp"] = time.strftime("%a %b %d %H:%M:%S UTC %Y", time.gmtime(said["exp"])) if rest else str(said["exp"])
    groups = said.get("cognito:groups", [])
    if name in FORGED_GROUPS:
        claims["cognito:groups"] = forged_groups
    elif groups:
        claims["cognito:groups"] = ",".join(groups) if rest else f"[{' '.join(groups)}]"
    return user, "forged groups claim" if name in FORGED_GROUPS else "token"


summary = []
out = pathlib.Path(out_dir)
out.mkdir(parents=True, exist_ok=True)
for path in sorted(pathlib.Path(events_dir).glob("*.json")):
    event = json.loads(path.read_text().replace(SAMPLE_POOL, pool))
    if isinstance(event, dict) and "requestContext" in event:
        user, how = retarget_api(path.stem, event)
        summary.append(f"{path.stem}: {user} ({how})")
    (out / path.name).write_text(json.dumps(event, indent=2) + "\n")

print(f"POOL_ID={pool}")
print(f"CLIENT_ID={client}")
print(f"CALLERS={shlex.quote(chr(10).join(summary))}")
