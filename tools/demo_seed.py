"""Seeds a local moto server for `make demo` and writes the sample events, retargeted at it.

The pool has a strict password policy, an app client allowed ADMIN_USER_PASSWORD_AUTH, the
users in USERS, and the secrets in SECRETS. Each API sample gets a real ID token minted by
moto (AdminInitiateAuth) for its caller in `Authorization` (and `multiValueHeaders` for REST),
and authorizer claims rewritten to say what that token says, as API Gateway would write them.
Two samples stay forgeries on purpose:
  rest-forged-claims   no token at all, the super admin's real claims: must get 401
  http-forged-groups   alice's real token, but the forged groups claim "[admins": 403
Seeding again (another run against the same moto) reuses the pool and resets the users and
secrets to this state; the events get fresh tokens.
Usage: demo_seed.py <endpoint> <events dir> <output dir>. Prints shell assignments.
"""

import json
import pathlib
import shlex
import sys

from moto_seed import REGION, STRICT, Seed, authorize

SAMPLE_POOL = "us-east-1_Example"
USERS = {  # name -> groups; every user but newbie is CONFIRMED with the initial password
    "alice": ["admins", "helpdesk"],  # the API samples' caller
    "bob": ["staff"],  # an established user (helpdesk target; workflows may not touch him)
    "carol": ["admins"],  # a protected target
    "rooty": ["root"],  # the super admin whose claims rest-forged-claims copies
    "dave": ["admins-readonly", "editors"],  # a real non-admin caller with look-alike groups (rest-not-admin)
    "erin": ["staff"],  # rest-password-reset's target: a verified email, so Cognito sends her a code
}
SECRETS = {
    "onboarding/newbie": "Onboard-Passw0rd!7",
    "onboarding/carol": "Carol-Passw0rd!8",
    "onboarding/bob": "Secret-Passw0rd!9",
}
# Samples whose caller is not the user their claims name.
CALLER = {"rest-not-admin": "dave"}
# Samples whose groups claim is the forgery being demonstrated: kept as written.
FORGED_GROUPS = {"http-forged-groups"}

endpoint, events_dir, out_dir = sys.argv[1:4]
seed = Seed(endpoint)
cognito = seed.cognito
pool = seed.pool("demo", STRICT)
client = seed.app_client(pool, "admin-portal")
for user, groups in USERS.items():
    seed.user(pool, user, groups)
seed.verify_email(pool, "erin")
# Created by an admin and never signed in (FORCE_CHANGE_PASSWORD): the workflow's target.
seed.user(pool, "newbie", ["staff"], confirmed=False)
for name, password in SECRETS.items():
    seed.secret(name, json.dumps({"password": password}))
tokens = {}


def live_sub(user):
    attributes = cognito.admin_get_user(UserPoolId=pool, Username=user)["UserAttributes"]
    return next(a["Value"] for a in attributes if a["Name"] == "sub")


def claims_in(event):
    authorizer = event["requestContext"]["authorizer"]
    return authorizer["claims"] if "httpMethod" in event else authorizer["jwt"]["claims"]


def retarget_api(name, event):
    """Token and claims for one API sample, as API Gateway would deliver them."""
    claims = claims_in(event)
    user = CALLER.get(name, claims["cognito:username"])
    if "authorization" not in event.get("headers", {}):
        # A forgery with no token: keep it one, but make its claims the real user's: a plain
        # invocation carrying a super admin's claims.
        claims.update({"sub": live_sub(user), "cognito:username": user,
                       "iss": f"https://cognito-idp.{REGION}.amazonaws.com/{pool}", "aud": client})
        return user, "no token"
    if user not in tokens:
        tokens[user] = seed.id_token(pool, client, user)
    authorize(event, tokens[user])
    if name in FORGED_GROUPS:
        claims_in(event)["cognito:groups"] = claims["cognito:groups"]
        return user, "forged groups claim"
    return user, "token"


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
