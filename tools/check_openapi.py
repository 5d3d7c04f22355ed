#!/usr/bin/env python3
"""Checks docs/openapi.yaml against the template, the sample events and recorded responses.

1. docs/openapi.yaml is a valid OpenAPI 3.0 document.
2. Each API in template.yaml routes exactly the operations the contract declares (CORS
   preflight aside), each as a Lambda proxy integration of the API function's alias.
3. Every sample request in events/ (rest-*, http-*, direct-*.json) conforms to the contract,
   except those named as negative examples (EXPECT_INVALID), which must not.
4. Every response the integration tests recorded in target/test-artifacts/responses/*.json
   ({"status", "body", "headers"?, "action"?}) is documented for its status by its operation
   (by `action`, the audit line's; without one, any operation documenting the status) and
   matches its schema; none recorded is an error unless --requests-only is given.
"""

from __future__ import annotations

import argparse
import base64
import json
import re
import sys
from pathlib import Path
from typing import Any

import yaml
from openapi_schema_validator import OAS30ReadValidator, OAS30WriteValidator
from openapi_spec_validator import validate as validate_spec
from samtranslator.yaml_helper import yaml_parse  # CloudFormation's short-form tags

ROOT = Path(__file__).resolve().parent.parent

# Sample events named with one of these words are negative examples: their request must
# violate the contract (the function is expected to answer 400 InvalidRequest). Other
# events (forbidden caller, unknown user, ...) carry a well-formed request and must conform.
EXPECT_INVALID = re.compile(
    r"invalid|unknown-field|malformed|oversize|too-large|too-long|bad-|missing|empty|"
    r"duplicate|not-json|wrong-type|both|neither|extra-field",
    re.IGNORECASE,
)

MAX_BODY_BYTES = 4 * 1024
HTTP_METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}


class Problems:
    def __init__(self) -> None:
        self.items: list[str] = []

    def add(self, where: str, what: str) -> None:
        self.items.append(f"{where}: {what}")


def load_json_strict(text: str) -> Any:
    """json.loads that refuses duplicated keys, as the function does."""

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        keys = [k for k, _ in items]
        if len(keys) != len(set(keys)):
            raise ValueError("duplicated object key")
        return dict(items)

    return json.loads(text, object_pairs_hook=pairs)


def schema_errors(spec: dict, schema: dict, instance: Any, *, write: bool) -> list[str]:
    validator_cls = OAS30WriteValidator if write else OAS30ReadValidator
    validator = validator_cls({**schema, "components": spec.get("components", {})})  # for #/components/... refs
    errors = sorted(validator.iter_errors(instance), key=lambda e: list(e.absolute_path))
    return [f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}" for e in errors]


def contract_operations(spec: dict) -> dict[tuple[str, str], dict]:
    return {(path, method.lower()): operation for path, item in spec.get("paths", {}).items()
            for method, operation in item.items() if method.lower() in HTTP_METHODS - {"options"}}


API_TYPES = ("AWS::Serverless::Api", "AWS::Serverless::HttpApi")


def template_operations(template: dict, problems: Problems) -> dict[str, dict[tuple[str, str], dict]]:
    """Operations each API of the template routes (the REST API and the HTTP API that
    ApiType chooses between), by the API's logical ID."""
    apis = {name: res for name, res in template.get("Resources", {}).items() if res.get("Type") in API_TYPES}
    if not apis:
        problems.add("template.yaml", f"no {' or '.join(API_TYPES)} found")
    routed = {}
    for name, api in sorted(apis.items()):
        body = api.get("Properties", {}).get("DefinitionBody")
        if not isinstance(body, dict) or "paths" not in body:
            problems.add("template.yaml", f"{name} has no inline DefinitionBody with paths")
            continue
        operations = {}
        for path, item in body["paths"].items():
            for method, operation in item.items():
                if method.lower() not in HTTP_METHODS - {"options"}:
                    continue
                if isinstance(operation, dict) and "Fn::If" in operation:
                    problems.add("template.yaml", f"{name}: {method.upper()} {path} is conditional; the contract is not")
                    operation = operation["Fn::If"][1]
                operations[(path, method.lower())] = operation
        routed[name] = operations
    return routed


def check_template(spec: dict, template: dict, problems: Problems) -> None:
    declared = contract_operations(spec)
    for api, routed in template_operations(template, problems).items():
        for op in sorted(set(declared) - set(routed)):
            problems.add("template.yaml", f"{api}: {op[1].upper()} {op[0]} is in docs/openapi.yaml but not routed")
        for op in sorted(set(routed) - set(declared)):
            problems.add("template.yaml", f"{api}: {op[1].upper()} {op[0]} is routed but not in docs/openapi.yaml")
        for (path, method), operation in sorted(routed.items()):
            integration = operation.get("x-amazon-apigateway-integration", {})
            uri = json.dumps(integration.get("uri"))
            # The API invokes the API entry point's live alias, never $LATEST.
            if integration.get("type") != "aws_proxy" or "ApiFunction.Alias" not in uri:
                problems.add("template.yaml", f"{api}: {method.upper()} {path} is not a Lambda proxy integration of ApiFunction's alias")


def request_violations(spec: dict, operation: dict, path_params: dict, body_text: str | None,
                       is_base64: bool) -> list[str]:
    violations = []
    for param in operation.get("parameters", []):
        if param.get("in") != "path":
            continue
        value = (path_params or {}).get(param["name"])
        if value is None:
            violations.append(f"path parameter {param['name']} is missing")
            continue
        violations += [f"path {param['name']}: {e}" for e in schema_errors(spec, param["schema"], value, write=True)]
    request_body = operation.get("requestBody", {})
    if body_text is None:
        if request_body.get("required"):
            violations.append("body is required")
        return violations
    raw = base64.b64decode(body_text) if is_base64 else body_text.encode()
    if len(raw) > MAX_BODY_BYTES:
        violations.append(f"body is {len(raw)} bytes; the limit is {MAX_BODY_BYTES}")
    try:
        body = load_json_strict(raw.decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as err:
        return violations + [f"body is not JSON: {err}"]
    schema = request_body["content"]["application/json"]["schema"]
    return violations + [f"body {e}" for e in schema_errors(spec, schema, body, write=True)]


def api_request(spec: dict, event: dict) -> list[str]:
    """A REST API event (httpMethod, resource) or an HTTP API one (routeKey)."""
    if "routeKey" in event:
        method, _, path = (event["routeKey"] or "").partition(" ")
    else:
        method, path = event.get("httpMethod", ""), event.get("resource", "")
    operation = contract_operations(spec).get((path, method.lower()))
    if operation is None:
        return [f"no operation {method} {path}"]
    return request_violations(spec, operation, event.get("pathParameters") or {}, event.get("body"),
                              bool(event.get("isBase64Encoded")))


def direct_request(spec: dict, event: Any) -> list[str]:
    schema = {"$ref": "#/components/schemas/DirectInvocationRequest"}
    return schema_errors(spec, schema, event, write=True)


def check_requests(spec: dict, events_dir: Path, problems: Problems) -> int:
    shapes = {"rest-": api_request, "http-": api_request, "direct-": direct_request}
    files = sorted(p for p in events_dir.glob("*.json") if p.name.startswith(tuple(shapes)))
    if not files:
        problems.add(str(events_dir), "no sample events (rest-*.json, http-*.json, direct-*.json) to check")
        return 0
    for path in files:
        name = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
        try:
            event = load_json_strict(path.read_text())
        except ValueError as err:
            problems.add(str(name), f"the event file itself is not valid JSON: {err}")
            continue
        check = next(fn for prefix, fn in shapes.items() if path.name.startswith(prefix))
        violations = check(spec, event)
        expect_invalid = bool(EXPECT_INVALID.search(path.stem))
        if expect_invalid and not violations:
            problems.add(str(name), "named as a negative example but its request conforms to the contract")
        elif not expect_invalid and violations:
            problems.add(str(name), "request does not conform: " + "; ".join(violations))
        verdict = "non-conforming (expected)" if expect_invalid else "conforms"
        if bool(violations) != expect_invalid:
            verdict = "MISMATCH"
        print(f"  request  {name}: {verdict}")
    return len(files)


def check_responses(spec: dict, responses_dir: Path, problems: Problems) -> int:
    files = sorted(responses_dir.glob("*.json")) if responses_dir.is_dir() else []
    if not files:
        problems.add(str(responses_dir), "no recorded responses: run the integration tests first "
                     "(or pass --requests-only before they have run)")
        return 0
    by_action = {"set": "setUserPassword", "reset_code": "resetUserPassword"}
    operations = {op["operationId"]: op for op in contract_operations(spec).values()}
    seen: set[str] = set()
    for path in files:
        name = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
        try:
            record = load_json_strict(path.read_text())
        except ValueError as err:
            problems.add(str(name), f"not valid JSON: {err}")
            continue
        status = record.get("status") if isinstance(record, dict) else None
        if not isinstance(status, int) or "body" not in record:
            problems.add(str(name), 'expected {"status": <int>, "body": <JSON>}')
            continue
        action = record.get("action")
        candidates = [operations[by_action[action]]] if action in by_action else list(operations.values())
        documenting = [op for op in candidates if str(status) in op["responses"]]
        if not documenting:
            listed = ", ".join(sorted({s for op in candidates for s in op["responses"]}))
            problems.add(str(name), f"status {status} is not documented (documented: {listed})")
            continue
        seen.add(str(status))
        errors_per_operation = []
        for op in documenting:
            response = op["responses"][str(status)]
            if "$ref" in response:
                response = spec["components"]["responses"][response["$ref"].rsplit("/", 1)[-1]]
            schema = response["content"]["application/json"]["schema"]
            errors_per_operation.append(schema_errors(spec, schema, record["body"], write=False))
        if all(errors_per_operation):
            for error in errors_per_operation[0]:
                problems.add(str(name), f"status {status} body {error}")
        headers = {k.lower(): v for k, v in (record.get("headers") or {}).items()}
        if status == 429 and "headers" in record and "retry-after" not in headers:
            problems.add(str(name), "429 without a Retry-After header")
        print(f"  response {name}: {status}")
    documented = {s for op in operations.values() for s in op["responses"]}
    missing = sorted(documented - seen - {"401"})
    if missing:
        print(f"  (statuses documented but not exercised by the tests: {', '.join(missing)})")
    return len(files)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spec", type=Path, default=ROOT / "docs" / "openapi.yaml")
    parser.add_argument("--template", type=Path, default=ROOT / "template.yaml")
    parser.add_argument("--events", type=Path, default=ROOT / "events")
    parser.add_argument("--responses", type=Path, default=ROOT / "target" / "test-artifacts" / "responses")
    parser.add_argument("--requests-only", action="store_true",
                        help="skip recorded responses (before the integration tests have run)")
    args = parser.parse_args()

    problems = Problems()
    spec = yaml.safe_load(args.spec.read_text())
    try:
        validate_spec(spec)
    except Exception as err:  # the validator raises several unrelated types
        problems.add(str(args.spec), f"not a valid OpenAPI document: {err}")
    template = yaml_parse(args.template.read_text())
    check_template(spec, template, problems)
    n_requests = check_requests(spec, args.events, problems)
    n_responses = 0 if args.requests_only else check_responses(spec, args.responses, problems)

    for problem in problems.items:
        print(f"FAIL {problem}", file=sys.stderr)
    checked = f"{n_requests} requests" + ("" if args.requests_only else f", {n_responses} responses")
    if problems.items:
        print(f"check_openapi: {len(problems.items)} problem(s); checked {checked}", file=sys.stderr)
        return 1
    print(f"check_openapi: OK; checked {checked} against {args.spec.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
