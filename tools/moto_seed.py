"""Seeding a local moto (Cognito, Secrets Manager) for the demo and the benchmark; the Rust
tests seed theirs in tests/support.

Idempotent: what exists is reused and brought back to the state asked for (a user's groups
and password, a secret's value), so seeding the same moto twice ends in the same state.
"""

from __future__ import annotations

import base64
import contextlib
import json
import socket
import time

import boto3
from botocore.config import Config

REGION = "us-east-1"
INITIAL = "Initial-Passw0rd!1"
STRICT = {"MinimumLength": 10, "RequireUppercase": True, "RequireLowercase": True,
          "RequireNumbers": True, "RequireSymbols": True}


def free_port() -> int:
    """A loopback port nothing listens on, for a moto server or a front to it."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Seed:
    def __init__(self, endpoint: str, region: str = REGION):
        session = dict(endpoint_url=endpoint, region_name=region, aws_access_key_id="testing",
                       aws_secret_access_key="testing", config=Config(retries={"max_attempts": 1}))
        self.cognito = boto3.client("cognito-idp", **session)
        self.secrets = boto3.client("secretsmanager", **session)

    def pool(self, name: str, policy: dict | None = None) -> str:
        """The pool called `name`; created with `policy` if there is none."""
        for pool in self.cognito.list_user_pools(MaxResults=60)["UserPools"]:
            if pool["Name"] == name:
                return pool["Id"]
        policies = {"Policies": {"PasswordPolicy": policy}} if policy else {}
        return self.cognito.create_user_pool(PoolName=name, **policies)["UserPool"]["Id"]

    def app_client(self, pool: str, name: str) -> str:
        """The app client called `name`, allowed ADMIN_USER_PASSWORD_AUTH."""
        for client in self.cognito.list_user_pool_clients(UserPoolId=pool, MaxResults=60)["UserPoolClients"]:
            if client["ClientName"] == name:
                return client["ClientId"]
        return self.cognito.create_user_pool_client(
            UserPoolId=pool, ClientName=name,
            ExplicitAuthFlows=["ALLOW_ADMIN_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
        )["UserPoolClient"]["ClientId"]

    def user(self, pool: str, name: str, groups: list[str], password: str = INITIAL,
             confirmed: bool = True) -> None:
        """`name` in `groups` with `password`: permanent (CONFIRMED) or, never signed in,
        temporary (FORCE_CHANGE_PASSWORD)."""
        c = self.cognito
        try:
            c.admin_create_user(UserPoolId=pool, Username=name, TemporaryPassword=password,
                                MessageAction="SUPPRESS")
        except c.exceptions.UsernameExistsException:
            c.admin_set_user_password(UserPoolId=pool, Username=name, Password=password, Permanent=confirmed)
        if confirmed:
            c.admin_set_user_password(UserPoolId=pool, Username=name, Password=password, Permanent=True)
        for group in groups:
            with contextlib.suppress(c.exceptions.GroupExistsException):
                c.create_group(UserPoolId=pool, GroupName=group)
            c.admin_add_user_to_group(UserPoolId=pool, Username=name, GroupName=group)

    def verify_email(self, pool: str, name: str) -> None:
        """Gives `name` a verified email: somewhere Cognito can send a reset code."""
        self.cognito.admin_update_user_attributes(
            UserPoolId=pool, Username=name,
            UserAttributes=[{"Name": "email", "Value": f"{name}@example.com"},
                            {"Name": "email_verified", "Value": "true"}],
        )

    def secret(self, name: str, value: str) -> None:
        try:
            self.secrets.create_secret(Name=name, SecretString=value)
        except self.secrets.exceptions.ResourceExistsException:
            self.secrets.put_secret_value(SecretId=name, SecretString=value)

    def id_token(self, pool: str, client: str, user: str, password: str = INITIAL) -> str:
        """A real ID token from moto (AdminInitiateAuth)."""
        return self.cognito.admin_initiate_auth(
            UserPoolId=pool, ClientId=client, AuthFlow="ADMIN_USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": user, "PASSWORD": password},
        )["AuthenticationResult"]["IdToken"]


def claims_of(token: str) -> dict:
    """The payload of a JWT, unverified: only to copy what the token says into the claims."""
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def authorize(event: dict, token: str) -> dict:
    """An API event (REST or HTTP API) carrying `token` in Authorization and the claims API
    Gateway's authorizer writes for it: REST's Cognito authorizer a date string for exp and
    "a,b" for groups, HTTP API's JWT authorizer a number and "[a b]"."""
    rest = "httpMethod" in event
    event.setdefault("headers", {})["authorization"] = f"Bearer {token}"
    if rest:
        event.setdefault("multiValueHeaders", {})["authorization"] = [f"Bearer {token}"]
    authorizer = event["requestContext"]["authorizer"]
    (authorizer if rest else authorizer["jwt"])["claims"] = _claims(token, rest)
    return event


def _claims(token: str, rest: bool) -> dict:
    said = claims_of(token)
    claims = {key: said[key] for key in ("sub", "iss", "cognito:username", "aud", "token_use")}
    claims["exp"] = time.strftime("%a %b %d %H:%M:%S UTC %Y", time.gmtime(said["exp"])) if rest else str(said["exp"])
    if groups := said.get("cognito:groups"):
        claims["cognito:groups"] = ",".join(groups) if rest else f"[{' '.join(groups)}]"
    return claims
