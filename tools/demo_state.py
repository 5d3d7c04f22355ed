"""Prints what the pool now says about the demo users: status, and whether sign-in with each
password the demo used gets tokens, a NEW_PASSWORD_REQUIRED challenge, or is refused."""

import sys

from moto_seed import Seed

endpoint, pool, client = sys.argv[1:4]
cognito = Seed(endpoint).cognito
candidates = ["Initial-Passw0rd!1", "Temp-Passw0rd!2026", "Perm-Passw0rd!2026", "Http-Passw0rd!2026",
              "Direct-Passw0rd!2026", "Onboard-Passw0rd!7", "Carol-Passw0rd!8", "Secret-Passw0rd!9"]
for user in ["alice", "bob", "carol", "rooty", "erin", "newbie"]:
    status = cognito.admin_get_user(UserPoolId=pool, Username=user)["UserStatus"]
    works = []
    for password in candidates:
        try:
            out = cognito.admin_initiate_auth(UserPoolId=pool, ClientId=client, AuthFlow="ADMIN_USER_PASSWORD_AUTH",
                                              AuthParameters={"USERNAME": user, "PASSWORD": password})
            works.append(f"{password} -> {out.get('ChallengeName') or 'tokens'}")
        except cognito.exceptions.NotAuthorizedException:
            pass
    print(f"  {user}: {status}; signs in with: {', '.join(works) or 'none of the demo passwords'}")
