#!/usr/bin/env python3
"""Offline stack-lifecycle rehearsal of template.yaml on moto's CloudFormation (`make
stack-rehearsal`; docs/deploy.md says what it covers and what it does not prove): the template
translated per deployment with the pinned SAM translator, as `sam deploy` and the hosted
transform would; stacks with the default parameters, every option on, a private REST API and
the HTTP API; a change-set update that must publish a new version behind `live` (SAM alone
would not: see VersionDescription in template.yaml); a delete and a re-create. The shims
below each bridge a gap in moto, not in the template; the types moto skips are listed last.

Usage: rehearse_stack.py [--template template.yaml]   (needs moto, samtranslator, boto3)
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import io
import json
import logging
import os
import re
import sys
import time
import types
import warnings
import zipfile
from pathlib import Path
from typing import Any

REGION = "eu-west-1"
ACCOUNT = "123456789012"
BUCKET = "rehearsal-artifacts"
ARTIFACT_KEY = "admin-set-password/bootstrap.zip"
POOL = f"{REGION}_Target1"
ADMIN_POOL = f"{REGION}_Admins1"
CLIENT = "4c8c3rrt1q5vs1kbq1hj4k5o0a"

# Credentials and region for moto only; never a real account.
os.environ.update(
    AWS_ACCESS_KEY_ID="testing",
    AWS_SECRET_ACCESS_KEY="testing",
    AWS_DEFAULT_REGION=REGION,
    AWS_REGION=REGION,
    AWS_EC2_METADATA_DISABLED="true",
    MOTO_ALLOW_NONEXISTENT_REGION="false",
)
for var in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"):
    os.environ.pop(var, None)

import boto3  # noqa: E402
from moto.server import ThreadedMotoServer  # noqa: E402
import moto.cloudformation.parsing as cfn_parsing  # noqa: E402
from moto.core.common_models import CloudFormationModel  # noqa: E402
from moto.apigateway.models import RestAPI, apigateway_backends  # noqa: E402
from moto.awslambda.models import LambdaVersion, lambda_backends  # noqa: E402
from samtranslator.translator.transform import transform  # noqa: E402
from samtranslator.yaml_helper import yaml_parse  # noqa: E402
from moto_seed import free_port  # noqa: E402

SKIPPED_TYPES: set[str] = set()


# Shims: each works around a gap in moto 5.2 (pinned in tools/requirements.txt), so the
# rehearsal tests the template rather than moto. Remove a shim when moto fixes it.

def shim_novalue_in_lists() -> None:
    """moto keeps `{"Ref": "AWS::NoValue"}` (resolved to None) as a list element;
    CloudFormation drops the element (e.g. an `Fn::If` policy in `Policies`)."""
    original = cfn_parsing.clean_json

    def clean_json(resource_json: Any, resources_map: Any) -> Any:
        if isinstance(resource_json, list):
            cleaned = [clean_json(v, resources_map) for v in resource_json]
            return [v for v in cleaned if v is not None]
        return original(resource_json, resources_map)

    # original() recurses through the module global, i.e. through this wrapper.
    cfn_parsing.clean_json = clean_json


def shim_rest_api_body() -> None:
    """moto's AWS::ApiGateway::RestApi model ignores `Body` (and stores
    EndpointConfiguration as given). CloudFormation imports the body: the routes, the
    name from info.title when `Name` is absent (SAM omits it), and the resource policy
    from x-amazon-apigateway-policy. Do the same through moto's own import."""

    def create_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):  # type: ignore[no-untyped-def]
        props = cloudformation_json["Properties"]
        body = props.get("Body") or {}
        backend = apigateway_backends[account_id][region_name]
        policy = body.get("x-amazon-apigateway-policy")
        cfn_endpoint = props.get("EndpointConfiguration") or {}
        api = backend.create_rest_api(
            name=props.get("Name") or body.get("info", {}).get("title"),
            description=props.get("Description", ""),
            # moto keeps whatever it is given; API Gateway's form is lower camel case.
            endpoint_configuration={
                "types": cfn_endpoint.get("Types", ["EDGE"]),
                **({"vpcEndpointIds": cfn_endpoint["VpcEndpointIds"]} if cfn_endpoint.get("VpcEndpointIds") else {}),
            },
            policy=json.dumps(policy) if policy else None,
        )
        if body:
            backend.put_rest_api(api.id, body, fail_on_warnings=False, mode="overwrite")
        return api

    RestAPI.create_from_cloudformation_json = classmethod(create_from_cloudformation_json)  # type: ignore[method-assign]


def shim_version_attribute() -> None:
    """moto's AWS::Lambda::Version has no `Fn::GetAtt Version.Version`, which SAM's
    alias uses for its FunctionVersion."""

    def get_cfn_attribute(self: LambdaVersion, attribute: str) -> str:
        if attribute == "Version":
            return str(self.version)
        raise NotImplementedError(f"{attribute} of AWS::Lambda::Version")

    LambdaVersion.get_cfn_attribute = get_cfn_attribute  # type: ignore[attr-defined]


def shim_version_replacement() -> None:
    """moto leaves an AWS::Lambda::Version alone when its properties change;
    CloudFormation replaces it (a version's properties are all replace-only), which
    publishes a new version of the function as it now is."""

    def update_from_cloudformation_json(cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name):  # type: ignore[no-untyped-def]
        replacement = LambdaVersion.create_from_cloudformation_json(new_resource_name, cloudformation_json, account_id, region_name)
        # moto also does not re-resolve dependents whose template is unchanged: the
        # alias's FunctionVersion (!GetAtt Version.Version) follows the replacement
        # in CloudFormation, so move aliases that pointed at the old version.
        backend = lambda_backends[account_id][region_name]
        function = cloudformation_json["Properties"]["FunctionName"]
        for alias in backend.list_aliases(function):
            if str(alias.function_version) == str(original_resource.version):
                backend.update_alias(alias.name, function, str(replacement.version), None, None)
        return replacement

    LambdaVersion.update_from_cloudformation_json = classmethod(update_from_cloudformation_json)  # type: ignore[method-assign]


class ShimLambdaAlias(CloudFormationModel):
    """moto has no CloudFormation model for AWS::Lambda::Alias (SAM's AutoPublishAlias):
    create, update and delete the alias in moto's Lambda backend, and Ref it to the
    alias ARN, as CloudFormation does."""

    # moto's model metaclass files every model under the service named in its module.
    __module__ = "moto.awslambda.rehearsal_shim"

    def __init__(self, account_id: str, region: str, function_name: str, name: str, arn: str):
        self.account_id, self.region = account_id, region
        self.function_name, self.name, self.arn = function_name, name, arn

    @property
    def physical_resource_id(self) -> str:
        return self.arn

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::Lambda::Alias"

    @staticmethod
    def cloudformation_name_type() -> str:
        return "Name"

    @classmethod
    def create_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):  # type: ignore[override]
        props = cloudformation_json["Properties"]
        backend = lambda_backends[account_id][region_name]
        version = str(props.get("FunctionVersion") or "$LATEST")
        alias = backend.create_alias(props["Name"], props["FunctionName"], version, "", None)  # type: ignore[arg-type]
        return cls(account_id, region_name, props["FunctionName"], props["Name"], alias.arn)

    @classmethod
    def update_from_cloudformation_json(cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name):  # type: ignore[override]
        props = cloudformation_json["Properties"]
        backend = lambda_backends[account_id][region_name]
        backend.update_alias(props["Name"], props["FunctionName"], str(props.get("FunctionVersion")), None, None)
        return original_resource

    @classmethod
    def delete_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name):  # type: ignore[override]
        props = cloudformation_json["Properties"]
        with contextlib.suppress(Exception):  # the function may be gone already
            lambda_backends[account_id][region_name].delete_alias(props["Name"], props["FunctionName"])

    def delete(self, account_id: str, region: str) -> None:
        with contextlib.suppress(Exception):
            lambda_backends[account_id][region].delete_alias(self.name, self.function_name)


def shim_template(template: dict) -> dict:
    """Template-level shims, applied to the translated (plain CloudFormation) template."""
    template = copy.deepcopy(template)
    for resource in template["Resources"].values():
        props = resource.get("Properties", {})
        kind = resource["Type"]
        # moto's body import requires `uri` and `httpMethod` on every integration; a
        # `mock` integration (the CORS preflight) has neither in API Gateway.
        if kind == "AWS::ApiGateway::RestApi" and "Body" in props:
            for integration in _integrations(props["Body"]):
                if integration.get("type") == "mock":
                    integration.setdefault("uri", "mock://preflight")
                    integration.setdefault("httpMethod", "POST")
        # moto ignores DefinitionSubstitutions; substitute them into the definition as
        # Step Functions does. Fn::Join, not Fn::Sub: moto's Fn::Sub with a variable map
        # turns the definition's "$$" (context object) into "$".
        if kind == "AWS::StepFunctions::StateMachine" and "DefinitionSubstitutions" in props:
            substitutions = props.pop("DefinitionSubstitutions")
            separator, lines = props["DefinitionString"]["Fn::Join"]  # SAM's rendering
            pieces = re.split(r"\$\{(" + "|".join(map(re.escape, substitutions)) + r")\}", separator.join(lines))
            parts = [substitutions[p] if i % 2 else p for i, p in enumerate(pieces)]
            props["DefinitionString"] = {"Fn::Join": ["", parts]}
    # moto updates changed resources in template order, not dependency order; a
    # version must be published after its function's update (CloudFormation follows
    # the version's Ref to the function), so versions and aliases go last.
    last = ("AWS::Lambda::Version", "AWS::Lambda::Alias")
    template["Resources"] = dict(
        sorted(template["Resources"].items(), key=lambda item: last.index(item[1]["Type"]) + 1 if item[1]["Type"] in last else 0)
    )
    return template


def _integrations(node: Any) -> list[dict]:
    """Every x-amazon-apigateway-integration in an OpenAPI body, inside `Fn::If`s too."""
    if isinstance(node, list):
        return [i for v in node for i in _integrations(v)]
    if not isinstance(node, dict):
        return []
    found = [node["x-amazon-apigateway-integration"]] if "x-amazon-apigateway-integration" in node else []
    return found + [i for k, v in node.items() if k != "x-amazon-apigateway-integration" for i in _integrations(v)]


class Rehearsal:
    def __init__(self, template_path: Path, endpoint: str):
        self.source = yaml_parse(template_path.read_text())
        self.endpoint = endpoint
        self.session = session = boto3.session.Session(region_name=REGION)
        self.cfn = session.client("cloudformation", endpoint_url=endpoint)
        self.lam = session.client("lambda", endpoint_url=endpoint)
        self.logs = session.client("logs", endpoint_url=endpoint)
        self.sfn = session.client("stepfunctions", endpoint_url=endpoint)
        self.apigw = session.client("apigateway", endpoint_url=endpoint)
        self.s3 = session.client("s3", endpoint_url=endpoint)
        self.failures: list[str] = []

    def upload_artifact(self) -> None:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as z:
            z.writestr("bootstrap", "#!/bin/sh\n# dummy artifact: moto never runs it\n")
        self.s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
        self.s3.put_object(Bucket=BUCKET, Key=ARTIFACT_KEY, Body=buffer.getvalue())
        # Prerequisites the template references but does not own.
        events = self.session.client("events", endpoint_url=self.endpoint)
        events.create_event_bus(Name=EVERY_OPTION["EventBusName"])
        sns = self.session.client("sns", endpoint_url=self.endpoint)
        sns.create_topic(Name=EVERY_OPTION["NotificationTopicArn"].rsplit(":", 1)[1])

    def translate(self, parameters: dict[str, str]) -> dict:
        """`sam package` + the hosted transform, with this deployment's parameters."""
        template = copy.deepcopy(self.source)
        uri = f"s3://{BUCKET}/{ARTIFACT_KEY}"
        template.setdefault("Globals", {}).setdefault("Function", {})["CodeUri"] = uri
        for resource in template["Resources"].values():
            if resource["Type"] == "AWS::Serverless::Function" and "CodeUri" in resource.get("Properties", {}):
                resource["Properties"]["CodeUri"] = uri
        # The translator loads managed policy names only for SAM policy templates: none here.
        translated = transform(template, dict(parameters), types.SimpleNamespace(load=dict))
        return shim_template(translated)

    def check(self, condition: bool, message: str) -> None:
        print(f"  {'ok  ' if condition else 'FAIL'} {message}")
        if not condition:
            self.failures.append(message)

    def wait(self, stack: str, final: set[str]) -> str:
        for _ in range(600):
            status = self.cfn.describe_stacks(StackName=stack)["Stacks"][0]["StackStatus"]
            if status in final or status.endswith("_FAILED") or "ROLLBACK" in status:
                return status
            time.sleep(0.2)
        return "TIMEOUT"

    def create(self, stack: str, parameters: dict[str, str]) -> bool:
        body = self.translate(parameters)
        try:
            self.cfn.create_stack(
                StackName=stack,
                TemplateBody=json.dumps(body),
                Parameters=_cfn_parameters(parameters),
                Capabilities=["CAPABILITY_IAM"],
            )
        except Exception as error:  # moto creates synchronously and raises what fails
            self.check(False, f"{stack}: create refused: {str(error)[:300]}")
            return False
        status = self.wait(stack, {"CREATE_COMPLETE"})
        self.check(status == "CREATE_COMPLETE", f"{stack}: create -> {status}")
        return status == "CREATE_COMPLETE"

    def resources(self, stack: str) -> dict[str, dict]:
        pages = self.cfn.get_paginator("list_stack_resources").paginate(StackName=stack)
        return {r["LogicalResourceId"]: r for p in pages for r in p["StackResourceSummaries"]}

    def function_env(self, stack: str, logical_id: str) -> dict[str, str]:
        name = self.resources(stack)[logical_id]["PhysicalResourceId"]
        config = self.lam.get_function_configuration(FunctionName=name)
        return config.get("Environment", {}).get("Variables", {})


def _endpoint_types(api: dict) -> list[str]:
    """moto stores the CloudFormation form ({"Types": [...]}) where API Gateway has "types"."""
    config = api.get("endpointConfiguration") or {}
    return config.get("types") or config.get("Types") or []


def _cfn_parameters(parameters: dict[str, str]) -> list[dict]:
    return [{"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()]


BASE = {"UserPoolId": POOL, "AdminClientIds": CLIENT}

EVERY_OPTION = {
    **BASE, "AdminUserPoolId": ADMIN_POOL, "ProtectedGroups": "PasswordAdmins,RootAdmins",
    "SuperAdminGroups": "RootAdmins", "AllowFederated": "true", "AcceptedTokenUse": "id,access",
    "MaxTokenAgeSeconds": "900", "PasswordBlocklist": "true", "RequireReason": "true",
    "WorkflowTargetStatuses": "FORCE_CHANGE_PASSWORD,RESET_REQUIRED", "WorkflowLiteralPasswords": "false",
    "PasswordSecretPrefix": "onboarding/initial-passwords/", "PasswordSecretPerUser": "true",
    "PasswordSecretKmsKeyArn": f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab",
    "CognitoWarmup": "true", "AllowedSourceCidrs": "203.0.113.0/24,198.51.100.7/32",
    "WebAclArn": f"arn:aws:wafv2:{REGION}:{ACCOUNT}:regional/webacl/admin/abcd",
    "CorsAllowOrigin": "https://admin.example.com", "ConfigureApiGatewayLoggingRole": "true",
    "DeploymentType": "Canary10Percent5Minutes", "ReservedConcurrency": "5", "DenyOtherInvokers": "true",
    "TracingEnabled": "true", "PermissionsBoundaryArn": f"arn:aws:iam::{ACCOUNT}:policy/DeveloperBoundary",
    "EventBusName": "identity-events", "NotificationTopicArn": f"arn:aws:sns:{REGION}:{ACCOUNT}:password-set",
    "LogKmsKeyArn": f"arn:aws:kms:{REGION}:{ACCOUNT}:key/abcd1234-12ab-34cd-56ef-1234567890ab",
    "AlarmTopicArn": f"arn:aws:sns:{REGION}:{ACCOUNT}:ops",
}

PRIVATE_REST = {**BASE, "ApiEndpointType": "PRIVATE", "VpcEndpointIds": "vpce-0a1b2c3d4e5f60718,vpce-0123456789abcdef0"}

HTTP_API = {**BASE, "ApiType": "HTTP", "CorsAllowOrigin": "https://admin.example.com"}


def rehearse(r: Rehearsal) -> None:
    print("create: default parameters")
    if r.create("asp-default", BASE):
        api_env = r.function_env("asp-default", "ApiFunction")
        wf_env = r.function_env("asp-default", "WorkflowFunction")
        r.check(api_env.get("ENTRY_POINTS") == "api", f"API function ENTRY_POINTS=api (got {api_env.get('ENTRY_POINTS')})")
        r.check(api_env.get("ADMIN_CLIENT_IDS") == CLIENT, "API function has ADMIN_CLIENT_IDS")
        r.check(wf_env.get("ENTRY_POINTS") == "workflow", f"workflow function ENTRY_POINTS=workflow (got {wf_env.get('ENTRY_POINTS')})")
        r.check("ADMIN_CLIENT_IDS" not in wf_env, "workflow function has no ADMIN_CLIENT_IDS")
        r.check("PASSWORD_SECRET_PREFIX" not in wf_env, "no PASSWORD_SECRET_PREFIX by default")
        r.check("EVENT_BUS_NAME" not in api_env, "no EVENT_BUS_NAME by default")
        res = r.resources("asp-default")
        alias_arn = res.get("WorkflowFunctionAliaslive", {}).get("PhysicalResourceId", "")
        r.check(alias_arn.endswith(":live"), f"workflow alias live exists ({alias_arn})")
        machine = r.sfn.describe_state_machine(stateMachineArn=res["OnboardingStateMachine"]["PhysicalResourceId"])
        task = json.loads(machine["definition"])["States"]["SetPassword"]["Parameters"]
        r.check(task["FunctionName"] == alias_arn, "state machine invokes the workflow alias")
        r.check(task["Payload"].get("correlationId.$") == "$$.Execution.Id"
                and task["Payload"].get("requestedBy.$") == "$$.StateMachine.Name",
                f"state machine sets requestedBy and correlationId itself (payload {json.dumps(task['Payload'])})")
        api = r.apigw.get_rest_api(restApiId=res["PasswordApi"]["PhysicalResourceId"])
        r.check(_endpoint_types(api) == ["REGIONAL"], f"REST API is REGIONAL by default ({api.get('endpointConfiguration')})")
        sm_group = [g for g in r.logs.describe_log_groups(logGroupNamePrefix="/aws/vendedlogs/states/asp-default-onboarding-")["logGroups"]]
        r.check(len(sm_group) == 1, "the state machine log group name carries the stack's unique id")

    print("create: every option on")
    if r.create("asp-everything", EVERY_OPTION):
        api_env = r.function_env("asp-everything", "ApiFunction")
        wf_env = r.function_env("asp-everything", "WorkflowFunction")
        expected_api = {
            "ENTRY_POINTS": "api", "ADMIN_USER_POOL_ID": ADMIN_POOL, "ACCEPTED_TOKEN_USE": "id,access",
            "MAX_TOKEN_AGE_SECONDS": "900", "PROTECTED_GROUPS": "PasswordAdmins,RootAdmins",
            "SUPER_ADMIN_GROUPS": "RootAdmins", "EVENT_BUS_NAME": "identity-events", "REQUIRE_REASON": "true",
            "CORS_ALLOW_ORIGIN": "https://admin.example.com", "COGNITO_WARMUP": "true",
        }
        expected_wf = {
            "ENTRY_POINTS": "workflow", "PASSWORD_SECRET_PREFIX": "onboarding/initial-passwords/",
            "WORKFLOW_TARGET_STATUSES": "FORCE_CHANGE_PASSWORD,RESET_REQUIRED", "PASSWORD_SECRET_PER_USER": "true",
        }
        # str(): moto keeps a Number parameter's value as a number; Lambda has strings.
        for who, env, expected in (("API", api_env, expected_api), ("workflow", wf_env, expected_wf)):
            for key, value in expected.items():
                r.check(str(env.get(key)) == value, f"{who} function {key}={value} (got {env.get(key)})")
        res = r.resources("asp-everything")
        for fn in ("ApiFunction", "WorkflowFunction"):
            reserved = r.lam.get_function_concurrency(FunctionName=res[fn]["PhysicalResourceId"])
            r.check(reserved.get("ReservedConcurrentExecutions") == 5, f"{fn} has reserved concurrency 5 ({reserved.get('ReservedConcurrentExecutions')})")
        role = r.session.client("iam", endpoint_url=r.endpoint).get_role(
            RoleName=res["WorkflowFunctionRole"]["PhysicalResourceId"])["Role"]
        r.check(role.get("PermissionsBoundary", {}).get("PermissionsBoundaryArn") == EVERY_OPTION["PermissionsBoundaryArn"],
                "workflow role carries the permissions boundary")
        api = r.apigw.get_rest_api(restApiId=res["PasswordApi"]["PhysicalResourceId"])
        policy = (api.get("policy") or "").replace("\\", "")
        r.check("203.0.113.0/24" in policy, "REST API resource policy lists AllowedSourceCidrs")

    print("create: private REST API")
    if r.create("asp-private", PRIVATE_REST):
        res = r.resources("asp-private")
        api = r.apigw.get_rest_api(restApiId=res["PasswordApi"]["PhysicalResourceId"])
        r.check(_endpoint_types(api) == ["PRIVATE"], "REST API is PRIVATE")
        policy = (api.get("policy") or "").replace("\\", "")
        r.check("vpce-0a1b2c3d4e5f60718" in policy and "aws:SourceVpce" in policy,
                "resource policy limits the API to the VPC endpoints")

    print("create: HTTP API")
    if r.create("asp-http", HTTP_API):
        res = r.resources("asp-http")
        r.check("PasswordApi" not in res, "no REST API with ApiType=HTTP")
        r.check(r.function_env("asp-http", "ApiFunction").get("ENTRY_POINTS") == "api", "API function deployed")

    print("update through a change set: MaxTokenAgeSeconds 3600 -> 600, CorsAllowOrigin set")
    updated = {**BASE, "MaxTokenAgeSeconds": "600", "CorsAllowOrigin": "https://portal.example.com"}
    r.cfn.create_change_set(
        StackName="asp-default", ChangeSetName="tighten", ChangeSetType="UPDATE",
        TemplateBody=json.dumps(r.translate(updated)), Parameters=_cfn_parameters(updated),
        Capabilities=["CAPABILITY_IAM"],
    )
    for _ in range(300):
        cs = r.cfn.describe_change_set(StackName="asp-default", ChangeSetName="tighten")
        if cs["Status"] in ("CREATE_COMPLETE", "FAILED"):
            break
        time.sleep(0.2)
    r.check(cs["Status"] == "CREATE_COMPLETE", f"change set created ({cs['Status']} {cs.get('StatusReason', '')})")
    r.cfn.execute_change_set(StackName="asp-default", ChangeSetName="tighten")
    status = r.wait("asp-default", {"UPDATE_COMPLETE"})
    r.check(status == "UPDATE_COMPLETE", f"change set executed -> {status}")
    env = r.function_env("asp-default", "ApiFunction")
    r.check(str(env.get("MAX_TOKEN_AGE_SECONDS")) == "600", f"MAX_TOKEN_AGE_SECONDS reached the function (got {env.get('MAX_TOKEN_AGE_SECONDS')})")
    r.check(env.get("CORS_ALLOW_ORIGIN") == "https://portal.example.com", "CORS_ALLOW_ORIGIN reached the function")
    versions = [{k for k in r.translate(p)["Resources"] if k.startswith("ApiFunctionVersion")} for p in (BASE, updated)]
    r.check(versions[0] == versions[1],
            "SAM keeps the version's logical ID (it hashes the environment unresolved: SAM#1640)")
    live = r.lam.get_alias(FunctionName=r.resources("asp-default")["ApiFunction"]["PhysicalResourceId"], Name="live")
    r.check(live["FunctionVersion"] not in ("1", "$LATEST"),
            f"the changed VersionDescription published a new version and live moved to it ({live['FunctionVersion']})")
    published = r.lam.get_function_configuration(FunctionName=live["AliasArn"])
    r.check(str(published.get("Environment", {}).get("Variables", {}).get("MAX_TOKEN_AGE_SECONDS")) == "600",
            "the version behind live has the new setting")

    print("delete, then re-create under the same name")
    kept = {g["logGroupName"] for g in r.logs.describe_log_groups()["logGroups"]}
    r.cfn.delete_stack(StackName="asp-default")
    for _ in range(300):
        stacks = r.cfn.list_stacks()["StackSummaries"]
        if any(s["StackName"] == "asp-default" and s["StackStatus"] == "DELETE_COMPLETE" for s in stacks):
            break
        time.sleep(0.2)
    after = {g["logGroupName"] for g in r.logs.describe_log_groups()["logGroups"]}
    retained = [g for g in kept if g.startswith("/aws/vendedlogs/states/asp-default-onboarding-")]
    r.check(bool(retained) and all(g in after for g in retained), "retained state machine log group outlives the stack")
    r.create("asp-default", BASE)
    again = [g["logGroupName"] for g in r.logs.describe_log_groups(logGroupNamePrefix="/aws/vendedlogs/states/asp-default-onboarding-")["logGroups"]]
    r.check(len(again) == 2, "the re-created stack has its own state machine log group beside the retained one")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--template", type=Path, default=Path("template.yaml"))
    args = parser.parse_args()

    for shim in (shim_novalue_in_lists, shim_version_attribute, shim_rest_api_body, shim_version_replacement):
        shim()
    assert "AWS::Lambda::Alias" in cfn_parsing.get_model_map(), "alias shim not registered"

    def record_skips(message, category, filename, lineno, file=None, line=None):
        if match := re.search(r"Tried to parse (\S+) but it's not supported", str(message)):
            SKIPPED_TYPES.add(match.group(1))

    # moto logs every skipped type and werkzeug every request; the summary says it once.
    logging.getLogger("moto").setLevel(logging.ERROR)
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    warnings.showwarning = record_skips
    warnings.simplefilter("always")

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    started = time.monotonic()
    try:
        r = Rehearsal(args.template, f"http://127.0.0.1:{port}")
        r.upload_artifact()
        rehearse(r)
    finally:
        server.stop()
    print(f"moto skipped (not modelled, so not rehearsed): {', '.join(sorted(SKIPPED_TYPES)) or 'nothing'}")
    print(f"rehearse_stack: {len(r.failures)} failure(s) in {time.monotonic() - started:.1f} s")
    return 1 if r.failures else 0


if __name__ == "__main__":
    sys.exit(main())
