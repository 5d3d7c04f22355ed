"""Seeds a local moto server for `make demo`: a pool with a strict password policy, an app
client, groups, an admin (alice), a helpdesk target (bob), a second admin (carol) and a
secret for the secret-reference sample. Prints shell assignments for tools/demo.sh."""

import sys

import boto3

endpoint = sys.argv[1]
session = dict(endpoint_url=endpoint, region_name="us-east-1",
               aws_access_key_id="testing", aws_secret_access_key="testing")
cognito = boto3.client("cognito-idp", **session)
secrets = boto3.client("secretsmanager", **session)

INITIAL = "Initial-Passw0rd!1"
pool = cognito.create_user_pool(
    PoolName="demo",
    Policies={"PasswordPolicy": {"MinimumLength": 10, "RequireUppercase": True, "RequireLowercase": True,
                                 "RequireNumbers": True, "RequireSymbols": True}},
)["UserPool"]["Id"]
client = cognito.create_user_pool_client(
    UserPoolId=pool, ClientName="admin-portal",
    ExplicitAuthFlows=["ALLOW_ADMIN_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
)["UserPoolClient"]["ClientId"]
for group in ["admins", "helpdesk", "root", "staff"]:
    cognito.create_group(UserPoolId=pool, GroupName=group)
for user, groups in [("alice", ["admins"]), ("bob", ["staff"]), ("carol", ["admins"])]:
    cognito.admin_create_user(UserPoolId=pool, Username=user, TemporaryPassword=INITIAL, MessageAction="SUPPRESS")
    cognito.admin_set_user_password(UserPoolId=pool, Username=user, Password=INITIAL, Permanent=True)
    for group in groups:
        cognito.admin_add_user_to_group(UserPoolId=pool, Username=user, GroupName=group)
secrets.create_secret(Name="onboarding/bob", SecretString='{"password":"Secret-Passw0rd!9"}')
print(f"POOL_ID={pool}")
print(f"CLIENT_ID={client}")
