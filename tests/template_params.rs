//! Each template parameter has the effect docs/deploy.md promises, for the parameter
//! values that matter (defaults, each option on, the combinations `Rules` refuse).
//! Evaluated offline on template.yaml (see tests/template_model); what CloudFormation
//! and SAM then do with it is rehearsed by tools/rehearse_stack.py.

mod template_model;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde_yaml::Value;
use template_model::{references, scalar, strings, Deployment};

const API: &str = "ApiFunction";
const WORKFLOW: &str = "WorkflowFunction";
const POOL: &str = "eu-west-1_Target1";
const CLIENT: &str = "4c8c3rrt1q5vs1kbq1hj4k5o0a";

fn base(extra: &[(&'static str, &'static str)]) -> Deployment {
    let mut parameters = vec![("UserPoolId", POOL), ("AdminClientIds", CLIENT)];
    parameters.extend_from_slice(extra);
    Deployment::new(&parameters)
}

/// Every setting the code reads from the environment: variable, parameter, which
/// functions get it, and the code's default (the parameter's default must agree).
/// `None` as default: required, or "unset" (empty parameter, variable absent).
const SETTINGS: &[(&str, &str, &[&str], Option<&str>)] = &[
    ("USER_POOL_ID", "UserPoolId", &[API, WORKFLOW], None),
    ("ADMIN_GROUPS", "AdminGroups", &[API, WORKFLOW], Some("PasswordAdmins")),
    ("ALLOW_FEDERATED", "AllowFederated", &[API, WORKFLOW], Some("false")),
    (
        "PASSWORD_BLOCKLIST",
        "PasswordBlocklist",
        &[API, WORKFLOW],
        Some("true"),
    ),
    ("REQUIRE_REASON", "RequireReason", &[API, WORKFLOW], Some("false")),
    (
        "COGNITO_CONNECT_TIMEOUT_MS",
        "CognitoConnectTimeoutMs",
        &[API, WORKFLOW],
        Some("1000"),
    ),
    (
        "COGNITO_ATTEMPT_TIMEOUT_MS",
        "CognitoAttemptTimeoutMs",
        &[API, WORKFLOW],
        Some("2000"),
    ),
    (
        "COGNITO_OPERATION_TIMEOUT_MS",
        "CognitoOperationTimeoutMs",
        &[API, WORKFLOW],
        Some("4000"),
    ),
    (
        "COGNITO_MAX_ATTEMPTS",
        "CognitoMaxAttempts",
        &[API, WORKFLOW],
        Some("3"),
    ),
    ("COGNITO_WARMUP", "CognitoWarmup", &[API, WORKFLOW], Some("false")),
    (
        "METRICS_NAMESPACE",
        "MetricsNamespace",
        &[API, WORKFLOW],
        Some("AdminSetPassword"),
    ),
    ("ADMIN_CLIENT_IDS", "AdminClientIds", &[API], None),
    ("ACCEPTED_TOKEN_USE", "AcceptedTokenUse", &[API], Some("id")),
    ("MAX_TOKEN_AGE_SECONDS", "MaxTokenAgeSeconds", &[API], Some("3600")),
    (
        "WORKFLOW_TARGET_STATUSES",
        "WorkflowTargetStatuses",
        &[WORKFLOW],
        Some("FORCE_CHANGE_PASSWORD"),
    ),
    (
        "WORKFLOW_LITERAL_PASSWORDS",
        "WorkflowLiteralPasswords",
        &[WORKFLOW],
        Some("false"),
    ),
    (
        "PASSWORD_SECRET_PER_USER",
        "PasswordSecretPerUser",
        &[WORKFLOW],
        Some("true"),
    ),
];

/// Settings that are unset unless their parameter is non-empty.
const OPTIONAL_SETTINGS: &[(&str, &str, &[&str], &str)] = &[
    (
        "PROTECTED_GROUPS",
        "ProtectedGroups",
        &[API, WORKFLOW],
        "Helpdesk,PasswordAdmins",
    ),
    ("SUPER_ADMIN_GROUPS", "SuperAdminGroups", &[API, WORKFLOW], "RootAdmins"),
    ("EVENT_BUS_NAME", "EventBusName", &[API, WORKFLOW], "identity-events"),
    (
        "CORS_ALLOW_ORIGIN",
        "CorsAllowOrigin",
        &[API],
        "https://admin.example.com",
    ),
    (
        "PASSWORD_SECRET_PREFIX",
        "PasswordSecretPrefix",
        &[WORKFLOW],
        "onboarding/initial-passwords/",
    ),
];

#[test]
fn every_setting_reaches_exactly_its_functions_with_the_codes_default() {
    let deployment = base(&[]);
    let declared = &deployment.template["Parameters"];
    for (variable, parameter, functions, default) in SETTINGS {
        let declared_default = scalar(&declared[*parameter]["Default"]);
        assert_eq!(
            declared_default.as_deref(),
            *default,
            "{parameter}: template default (left) must be the code's default for {variable} (right)"
        );
        for function in [API, WORKFLOW] {
            let env = deployment.function_env(function);
            if functions.contains(&function) {
                assert_eq!(
                    env.get(*variable),
                    deployment.parameters.get(*parameter),
                    "{function}: {variable} must come from {parameter}"
                );
            } else {
                assert!(!env.contains_key(*variable), "{function} must not get {variable}");
            }
        }
    }
    for (variable, parameter, functions, example) in OPTIONAL_SETTINGS {
        assert_eq!(
            scalar(&declared[*parameter]["Default"]).as_deref(),
            Some(""),
            "{parameter} defaults to empty"
        );
        let set = base(&[(parameter, example)]);
        for function in [API, WORKFLOW] {
            let unset = deployment.function_env(function);
            assert!(
                !unset.contains_key(*variable),
                "{function}: {variable} is unset while {parameter} is empty"
            );
            let env = set.function_env(function);
            let expected = functions.contains(&function).then(|| example.to_string());
            assert_eq!(
                env.get(*variable),
                expected.as_ref(),
                "{function}: {variable} with {parameter}={example}"
            );
        }
    }
}

#[test]
fn admin_pool_defaults_to_the_target_pool_and_a_separate_one_needs_protected_groups() {
    let same = base(&[]);
    assert_eq!(same.function_env(API)["ADMIN_USER_POOL_ID"], POOL);
    let separate = base(&[("AdminUserPoolId", "eu-west-1_Admins1")]);
    assert_eq!(separate.function_env(API)["ADMIN_USER_POOL_ID"], "eu-west-1_Admins1");
    assert!(
        separate
            .broken_rules()
            .iter()
            .any(|(rule, _)| rule == "SeparateAdminPoolNeedsProtectedGroups"),
        "a separate admin pool without ProtectedGroups must be refused"
    );
    let explicit = base(&[("AdminUserPoolId", "eu-west-1_Admins1"), ("ProtectedGroups", "NONE")]);
    assert_eq!(explicit.broken_rules(), vec![]);
}

#[test]
fn pools_outside_the_stack_region_fail_the_deployment() {
    for (pools, guarded) in [
        (vec![("UserPoolId", "eu-west-1_Target1")], false),
        (vec![("UserPoolId", "us-east-1_Target1")], true),
        (
            vec![
                ("UserPoolId", "eu-west-1_Target1"),
                ("AdminUserPoolId", "eu-west-1_Admins1"),
                ("ProtectedGroups", "NONE"),
            ],
            false,
        ),
        (
            vec![
                ("UserPoolId", "eu-west-1_Target1"),
                ("AdminUserPoolId", "us-east-1_Admins1"),
                ("ProtectedGroups", "NONE"),
            ],
            true,
        ),
    ] {
        let mut parameters = pools.clone();
        parameters.extend([("AdminClientIds", CLIENT), ("AWS::Region", "eu-west-1")]);
        let deployment = Deployment::new(&parameters);
        assert_eq!(deployment.deploys("PoolRegionGuard"), guarded, "{pools:?} in eu-west-1");
        if guarded {
            let guard = deployment.resource("PoolRegionGuard");
            assert_eq!(guard["Type"].as_str(), Some("AWS::CloudFormation::WaitCondition"));
            assert_eq!(
                scalar(&guard["Properties"]["Timeout"]).as_deref(),
                Some("1"),
                "fails at once"
            );
        }
    }
}

#[test]
fn admin_client_ids_is_required_and_star_is_rest_only() {
    let deployment = base(&[]);
    let spec = &deployment.template["Parameters"]["AdminClientIds"];
    assert!(spec["Default"].is_null(), "AdminClientIds must have no default");
    let http_star = base(&[("ApiType", "HTTP"), ("AdminClientIds", "*")]);
    assert!(
        http_star
            .broken_rules()
            .iter()
            .any(|(rule, _)| rule == "HttpApiHasNoRestOnlyOptions"),
        "AdminClientIds=* must be refused with the HTTP API"
    );
    let rest_star = base(&[("AdminClientIds", "*")]);
    assert_eq!(rest_star.broken_rules(), vec![]);
    assert_eq!(rest_star.function_env(API)["ADMIN_CLIENT_IDS"], "*");
}

/// Parameter overrides of one scenario.
type Overrides = &'static [(&'static str, &'static str)];

#[test]
fn rules_refuse_rest_only_options_with_the_http_api_and_inconsistent_endpoints() {
    let refused: &[(&str, Overrides, &str)] = &[
        (
            "private HTTP API",
            &[
                ("ApiType", "HTTP"),
                ("ApiEndpointType", "PRIVATE"),
                ("VpcEndpointIds", "vpce-0a1b2c3d"),
            ],
            "HttpApiHasNoRestOnlyOptions",
        ),
        (
            "HTTP API with source CIDRs",
            &[("ApiType", "HTTP"), ("AllowedSourceCidrs", "203.0.113.0/24")],
            "HttpApiHasNoRestOnlyOptions",
        ),
        (
            "HTTP API with WAF",
            &[
                ("ApiType", "HTTP"),
                ("WebAclArn", "arn:aws:wafv2:eu-west-1:123456789012:regional/webacl/a/b"),
            ],
            "HttpApiHasNoRestOnlyOptions",
        ),
        (
            "PRIVATE without endpoints",
            &[("ApiEndpointType", "PRIVATE")],
            "PrivateApiNeedsVpcEndpoints",
        ),
        (
            "PRIVATE with CIDRs",
            &[
                ("ApiEndpointType", "PRIVATE"),
                ("VpcEndpointIds", "vpce-0a1b2c3d"),
                ("AllowedSourceCidrs", "10.0.0.0/8"),
            ],
            "PrivateApiNeedsVpcEndpoints",
        ),
        (
            "endpoints without PRIVATE",
            &[("VpcEndpointIds", "vpce-0a1b2c3d")],
            "VpcEndpointsNeedPrivateApi",
        ),
        (
            "secret key without prefix",
            &[("PasswordSecretKmsKeyArn", "arn:aws:kms:eu-west-1:123456789012:key/k")],
            "SecretKeyNeedsSecretPrefix",
        ),
        (
            "notification without bus",
            &[("NotificationTopicArn", "arn:aws:sns:eu-west-1:123456789012:t")],
            "NotificationNeedsEventBus",
        ),
    ];
    for (name, parameters, rule) in refused {
        let broken = base(parameters).broken_rules();
        assert!(
            broken.iter().any(|(r, _)| r == rule),
            "{name}: expected {rule} to refuse, broken: {broken:?}"
        );
    }
    let accepted: &[(&str, Overrides)] = &[
        ("defaults", &[]),
        ("HTTP API", &[("ApiType", "HTTP")]),
        (
            "private REST",
            &[
                ("ApiEndpointType", "PRIVATE"),
                ("VpcEndpointIds", "vpce-0a1b2c3d,vpce-0e1f"),
            ],
        ),
        (
            "REST with CIDRs and WAF",
            &[
                ("AllowedSourceCidrs", "203.0.113.0/24"),
                ("WebAclArn", "arn:aws:wafv2:eu-west-1:123456789012:regional/webacl/a/b"),
            ],
        ),
    ];
    for (name, parameters) in accepted {
        assert_eq!(base(parameters).broken_rules(), vec![], "{name} must be accepted");
    }
}

#[test]
fn both_functions_come_from_one_build() {
    let deployment = base(&[]);
    let resources = &deployment.template["Resources"];
    assert_eq!(
        resources[API]["Metadata"], resources[WORKFLOW]["Metadata"],
        "same build metadata"
    );
    assert_eq!(
        resources[API]["Metadata"]["BuildMethod"].as_str(),
        Some("rust-cargolambda")
    );
    for function in [API, WORKFLOW] {
        assert!(
            resources[function]["Properties"]["CodeUri"].is_null(),
            "{function} must take CodeUri from Globals so sam build compiles once"
        );
    }
    assert_eq!(
        deployment.template["Globals"]["Function"]["CodeUri"].as_str(),
        Some(".")
    );
    assert_eq!(deployment.function_env(API)["ENTRY_POINTS"], "api");
    assert_eq!(deployment.function_env(WORKFLOW)["ENTRY_POINTS"], "workflow");
}

#[test]
fn both_functions_publish_a_live_alias_shifted_by_codedeploy_and_rolled_back_by_alarms() {
    let deployment = base(&[("DeploymentType", "Canary10Percent5Minutes")]);
    assert_eq!(
        scalar(&deployment.template["Parameters"]["DeploymentType"]["Default"]).as_deref(),
        Some("AllAtOnce")
    );
    for function in [API, WORKFLOW] {
        let alias = deployment.function_property(function, "AutoPublishAlias");
        assert_eq!(alias.as_str(), Some("live"));
        let alias = alias.as_str().unwrap();
        let preference = &deployment.resource(function)["Properties"]["DeploymentPreference"];
        assert_eq!(
            preference["Type"].as_str(),
            Some("Canary10Percent5Minutes"),
            "{function}"
        );
        let alarms = strings(&preference["Alarms"]);
        let own = format!("${{{function}ErrorsAlarm}}");
        assert!(
            alarms.contains(&own),
            "{function} rolls back on its own errors alarm: {alarms:?}"
        );
        let alarm = deployment.resource(&format!("{function}ErrorsAlarm"));
        let dimensions = &alarm["Properties"]["Dimensions"];
        let resource = dimensions
            .as_sequence()
            .unwrap()
            .iter()
            .find(|d| d["Name"].as_str() == Some("Resource"))
            .map(|d| d["Value"].as_str().unwrap().to_owned());
        assert_eq!(
            resource,
            Some(format!("${{{function}}}:{alias}")),
            "the alarm watches the alias"
        );
    }
}

/// SAM takes the alias name only as a literal, so REQUIRED_ALIAS repeats it: the two
/// must agree, or every invocation through the alias would be refused (a wrong name)
/// or the check would pass through a version (no name).
#[test]
fn both_functions_require_exactly_the_alias_they_publish() {
    for parameters in [&[][..], &[("DenyOtherInvokers", "false"), ("ApiType", "HTTP")][..]] {
        let deployment = base(parameters);
        for function in [API, WORKFLOW] {
            let alias = deployment.function_property(function, "AutoPublishAlias");
            let alias = alias.as_str().expect("AutoPublishAlias is a literal");
            assert_eq!(
                deployment
                    .function_env(function)
                    .get("REQUIRED_ALIAS")
                    .map(String::as_str),
                Some(alias),
                "{function}: REQUIRED_ALIAS must be its AutoPublishAlias ({parameters:?})"
            );
        }
    }
}

#[test]
fn onboarding_group_is_created_in_the_target_pool_and_named_to_the_workflow_function_only() {
    let declared = &base(&[]).template["Parameters"]["OnboardingGroup"];
    assert_eq!(scalar(&declared["Default"]).as_deref(), Some("onboarding-pending"));
    for group in ["onboarding-pending", "new-hires"] {
        let deployment = base(&[("OnboardingGroup", group)]);
        let groups = deployment.resources_of_type("AWS::Cognito::UserPoolGroup");
        assert_eq!(groups.len(), 1, "one group: {groups:?}");
        let (name, resource) = &groups[0];
        let properties = &resource["Properties"];
        assert_eq!(properties["GroupName"].as_str(), Some(group), "{name}");
        assert_eq!(
            properties["UserPoolId"].as_str(),
            Some(POOL),
            "{name} is created in the target pool, where the workflow's targets live"
        );
        assert!(
            properties["RoleArn"].is_null() && properties["Precedence"].is_null(),
            "{name} is a marker: it grants nothing"
        );
        assert_eq!(
            deployment
                .function_env(WORKFLOW)
                .get("WORKFLOW_TARGET_GROUP")
                .map(String::as_str),
            Some(group),
            "the workflow function checks membership of the group the stack created"
        );
        assert!(
            !deployment.function_env(API).contains_key("WORKFLOW_TARGET_GROUP"),
            "the API function never reads the onboarding marker"
        );
    }
    // A separate admin pool changes where callers live, not where the group is.
    let separate = base(&[
        ("AdminUserPoolId", "eu-west-1_Admins1"),
        ("ProtectedGroups", "PasswordAdmins"),
    ]);
    let (_, group) = &separate.resources_of_type("AWS::Cognito::UserPoolGroup")[0];
    assert_eq!(group["Properties"]["UserPoolId"].as_str(), Some(POOL));
}

/// Every finding of the IaC scanner the template does not fix is skipped on its resource
/// with a reason a security team can read (`make checkov` fails on any other finding).
#[test]
fn every_scanner_skip_names_a_check_and_gives_a_one_line_reason() {
    let deployment = base(&[]);
    let resources = deployment.template["Resources"].as_mapping().unwrap();
    let mut skipped = BTreeSet::new();
    for (name, resource) in resources {
        let name = name.as_str().unwrap();
        let skips = &resource["Metadata"]["checkov"]["skip"];
        if skips.is_null() {
            continue;
        }
        for skip in skips.as_sequence().expect("checkov.skip is a list") {
            let id = skip["id"].as_str().unwrap_or_default();
            let reason = skip["comment"].as_str().unwrap_or_default();
            assert!(
                id.starts_with("CKV_") && !id.contains(char::is_whitespace),
                "{name}: skip without a check ID: {skip:?}"
            );
            assert!(
                reason.len() >= 30 && reason.len() <= 160 && !reason.contains('\n'),
                "{name}: {id} needs a one-line reason (30-160 characters), got {reason:?}"
            );
            assert!(
                skipped.insert((name.to_owned(), id.to_owned())),
                "{name}: {id} skipped twice"
            );
        }
    }
    assert!(!skipped.is_empty(), "no skips found: did the Metadata layout change?");
}

/// Parameters whose value reaches what a version captures (environment, logging,
/// tracing): each must be listed in the function's VersionDescription, or a change
/// of it updates $LATEST while the live alias stays on the old version.
#[test]
fn version_description_lists_every_setting_a_version_captures() {
    let deployment = base(&[]);
    let parameters: BTreeSet<String> = deployment.template["Parameters"]
        .as_mapping()
        .unwrap()
        .keys()
        .map(|k| k.as_str().unwrap().to_owned())
        .collect();
    let globals = &deployment.template["Globals"]["Function"];
    for function in [API, WORKFLOW] {
        let properties = &deployment.template["Resources"][function]["Properties"];
        let mut captured = BTreeSet::new();
        for source in [
            &globals["Environment"],
            &globals["Tracing"],
            &properties["Environment"],
            &properties["LoggingConfig"],
        ] {
            captured.extend(references(source).into_iter().filter(|r| parameters.contains(r)));
        }
        let listed: BTreeSet<String> = references(&properties["VersionDescription"]);
        let missing: Vec<_> = captured.difference(&listed).collect();
        assert!(missing.is_empty(), "{function}: VersionDescription misses {missing:?}");
        // Rendered with defaults it leaves 80 of Lambda's 256 characters for longer
        // pool IDs, prefixes and names.
        let rendered = deployment.render(&properties["VersionDescription"]);
        assert!(
            rendered.len() <= 176,
            "{function}: VersionDescription is {} characters with defaults",
            rendered.len()
        );
        let other = base(&[("MaxTokenAgeSeconds", "600"), ("WorkflowTargetStatuses", "*")]);
        assert_ne!(
            rendered,
            other.render(&properties["VersionDescription"]),
            "{function}: a changed setting changes the description"
        );
    }
}

#[test]
fn api_type_selects_the_rest_or_the_http_api() {
    let rest = base(&[]);
    assert!(rest.deploys("PasswordApi") && !rest.deploys("PasswordHttpApi"));
    let http = base(&[
        ("ApiType", "HTTP"),
        ("AdminUserPoolId", "eu-west-1_Admins1"),
        ("ProtectedGroups", "NONE"),
        ("AdminClientIds", "client1,client2"),
    ]);
    assert!(!http.deploys("PasswordApi") && http.deploys("PasswordHttpApi"));
    let api = http.resource("PasswordHttpApi");
    let properties = &api["Properties"];
    let jwt = &properties["Auth"]["Authorizers"]["AdminPoolJwt"];
    assert_eq!(properties["Auth"]["DefaultAuthorizer"].as_str(), Some("AdminPoolJwt"));
    assert_eq!(
        jwt["JwtConfiguration"]["issuer"].as_str(),
        Some("https://cognito-idp.${AWS::Region}.${AWS::URLSuffix}/eu-west-1_Admins1"),
        "issuer = the admin pool"
    );
    assert_eq!(
        strings(&jwt["JwtConfiguration"]["audience"]),
        ["client1", "client2"],
        "audience = AdminClientIds"
    );
    assert_eq!(jwt["IdentitySource"].as_str(), Some("$request.header.Authorization"));
    let route = &properties["DefinitionBody"]["paths"]["/users/{username}/password"]["put"];
    let integration = &route["x-amazon-apigateway-integration"];
    assert_eq!(integration["payloadFormatVersion"].as_str(), Some("2.0"));
    assert!(
        integration["uri"].as_str().unwrap().contains("${ApiFunction.Alias}"),
        "HTTP API invokes the alias"
    );
    assert_eq!(
        scalar(&properties["DefaultRouteSettings"]["ThrottlingRateLimit"]).as_deref(),
        Some("5")
    );
    assert_eq!(
        properties["AccessLogSettings"]["DestinationArn"].as_str(),
        Some("${ApiAccessLogGroup.Arn}")
    );
    let rest_integration = &rest.resource("PasswordApi")["Properties"]["DefinitionBody"]["paths"]
        ["/users/{username}/password"]["put"]["x-amazon-apigateway-integration"];
    assert!(
        rest_integration["uri"]
            .as_str()
            .unwrap()
            .contains("${ApiFunction.Alias}"),
        "REST API invokes the alias"
    );
}

#[test]
fn rest_api_endpoint_resource_policy_and_waf_follow_the_parameters() {
    let policy_of = |d: &Deployment| {
        d.resource("PasswordApi")["Properties"]["DefinitionBody"]["x-amazon-apigateway-policy"].clone()
    };
    let default = base(&[]);
    let api = default.resource("PasswordApi");
    assert_eq!(
        api["Properties"]["EndpointConfiguration"]["Type"].as_str(),
        Some("REGIONAL")
    );
    assert!(policy_of(&default).is_null(), "no resource policy by default");
    assert!(!default.deploys("PasswordApiWebAcl"));
    assert_eq!(
        api["Properties"]["AlwaysDeploy"].as_bool(),
        Some(true),
        "stage follows the definition"
    );

    let private = base(&[
        ("ApiEndpointType", "PRIVATE"),
        ("VpcEndpointIds", "vpce-0a1b,vpce-0c2d"),
    ]);
    let endpoint = &private.resource("PasswordApi")["Properties"]["EndpointConfiguration"];
    assert_eq!(endpoint["Type"].as_str(), Some("PRIVATE"));
    assert_eq!(strings(&endpoint["VPCEndpointIds"]), ["vpce-0a1b", "vpce-0c2d"]);
    let policy = policy_of(&private);
    let deny = &policy["Statement"][1];
    assert_eq!(deny["Effect"].as_str(), Some("Deny"));
    assert_eq!(
        strings(&deny["Condition"]["StringNotEquals"]["aws:SourceVpce"]),
        ["vpce-0a1b", "vpce-0c2d"]
    );

    let cidrs = base(&[("AllowedSourceCidrs", "203.0.113.0/24,198.51.100.7/32")]);
    let policy = policy_of(&cidrs);
    let deny = &policy["Statement"][1];
    assert_eq!(deny["Effect"].as_str(), Some("Deny"));
    assert_eq!(
        strings(&deny["Condition"]["NotIpAddress"]["aws:SourceIp"]),
        ["203.0.113.0/24", "198.51.100.7/32"]
    );

    let waf = base(&[("WebAclArn", "arn:aws:wafv2:eu-west-1:123456789012:regional/webacl/a/b")]);
    let association = waf.resource("PasswordApiWebAcl");
    assert_eq!(
        association["Properties"]["WebACLArn"].as_str(),
        Some("arn:aws:wafv2:eu-west-1:123456789012:regional/webacl/a/b")
    );
    assert!(association["Properties"]["ResourceArn"]
        .as_str()
        .unwrap()
        .ends_with("/restapis/${PasswordApi}/stages/${PasswordApi.Stage}"));
}

#[test]
fn reserved_concurrency_tracing_and_log_keys_follow_the_parameters() {
    let default = base(&[]);
    let on = base(&[
        ("ReservedConcurrency", "5"),
        ("TracingEnabled", "true"),
        ("LogKmsKeyArn", "arn:aws:kms:eu-west-1:123456789012:key/abcd"),
    ]);
    for function in [API, WORKFLOW] {
        assert!(
            default
                .function_property(function, "ReservedConcurrentExecutions")
                .is_null(),
            "unreserved by default"
        );
        assert_eq!(
            scalar(&on.function_property(function, "ReservedConcurrentExecutions")).as_deref(),
            Some("5")
        );
        assert_eq!(
            default.function_property(function, "Tracing").as_str(),
            Some("PassThrough")
        );
        assert_eq!(on.function_property(function, "Tracing").as_str(), Some("Active"));
    }
    assert_eq!(
        on.resource("PasswordApi")["Properties"]["TracingEnabled"].as_bool(),
        Some(true)
    );
    assert_eq!(
        on.resource("OnboardingStateMachine")["Properties"]["Tracing"]["Enabled"].as_bool(),
        Some(true)
    );
    let groups = on.resources_of_type("AWS::Logs::LogGroup");
    assert_eq!(
        groups.len(),
        4,
        "audit (API, workflow), access and state machine log groups"
    );
    for (name, group) in groups {
        assert_eq!(
            group["Properties"]["KmsKeyId"].as_str(),
            Some("arn:aws:kms:eu-west-1:123456789012:key/abcd"),
            "{name}"
        );
        assert!(
            default.resource(&name)["Properties"]["KmsKeyId"].is_null(),
            "{name}: no key by default"
        );
    }
}

#[test]
fn retained_resources_never_have_fixed_names_and_the_account_logging_setting_is_retained() {
    let deployment = base(&[("ConfigureApiGatewayLoggingRole", "true")]);
    let resources = deployment.template["Resources"].as_mapping().unwrap();
    for (name, resource) in resources {
        let name = name.as_str().unwrap();
        if resource["DeletionPolicy"].as_str() != Some("Retain") {
            continue;
        }
        let properties = &resource["Properties"];
        for key in ["LogGroupName", "RoleName", "Name", "FunctionName"] {
            let value = &properties[key];
            if value.is_null() {
                continue;
            }
            let refs = references(value);
            assert!(
                refs.contains("StackUuid") && references(&value["Fn::Sub"][1]).contains("AWS::StackId"),
                "{name}.{key} is retained: its name must derive from AWS::StackId, got {value:?}"
            );
        }
    }
    for name in ["ApiGatewayCloudWatchRole", "ApiGatewayAccount"] {
        assert_eq!(
            resources[name]["DeletionPolicy"].as_str(),
            Some("Retain"),
            "{name} outlives the stack"
        );
    }
}

#[test]
fn system_log_level_keeps_platform_reports_and_access_logs_use_documented_variables() {
    let deployment = base(&[]);
    for function in [API, WORKFLOW] {
        let logging = &deployment.resource(function)["Properties"]["LoggingConfig"];
        assert_eq!(
            logging["SystemLogLevel"].as_str(),
            Some("INFO"),
            "{function}: platform.report is INFO"
        );
        assert_eq!(logging["LogFormat"].as_str(), Some("JSON"));
    }
    let allowed = strings(&deployment.template["Parameters"]["ApplicationLogLevel"]["AllowedValues"]);
    assert_eq!(allowed, ["TRACE", "DEBUG", "INFO"]);
    // Audit lines reach CloudWatch at every allowed level: Lambda drops a JSON line whose
    // `level` is below ApplicationLogLevel, and every outcome's audit level is at or above
    // each allowed one.
    let severity = |level: &str| {
        ["TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"]
            .iter()
            .position(|l| *l == level)
            .unwrap()
    };
    use admin_set_password::Outcome;
    for outcome in [Outcome::Success, Outcome::Denied, Outcome::Invalid, Outcome::Failed] {
        for setting in &allowed {
            assert!(
                severity(outcome.level()) >= severity(setting),
                "ApplicationLogLevel {setting} would drop {outcome:?} audit lines ({})",
                outcome.level()
            );
        }
    }
    let rest_format = deployment.resource("PasswordApi")["Properties"]["AccessLogSetting"]["Format"]
        .as_str()
        .unwrap()
        .to_owned();
    let http = base(&[("ApiType", "HTTP")]);
    let http_format = http.resource("PasswordHttpApi")["Properties"]["AccessLogSettings"]["Format"]
        .as_str()
        .unwrap()
        .to_owned();
    for format in [rest_format, http_format] {
        assert!(
            !format.contains("['"),
            "undocumented bracket syntax in the access log format: {format}"
        );
        for variable in format.split('$').skip(1) {
            let name: String = variable
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '.')
                .collect();
            assert!(name.starts_with("context."), "unknown variable ${name}");
        }
        let parsed: serde_json::Value =
            serde_json::from_str(&format.replace('\n', " ")).expect("the format is one JSON object");
        assert!(parsed.is_object());
    }
}

/// Status -> codes the OpenAPI contract allows for the PUT operation.
fn contract_codes() -> BTreeMap<String, BTreeSet<String>> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/openapi.yaml");
    let spec: Value = serde_yaml::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let responses = spec["paths"]["/users/{username}/password"]["put"]["responses"]
        .as_mapping()
        .unwrap();
    let mut codes = BTreeMap::new();
    for (status, response) in responses {
        let Some(reference) = response["content"]["application/json"]["schema"]["$ref"].as_str() else {
            continue;
        };
        let schema = &spec["components"]["schemas"][reference.rsplit('/').next().unwrap()];
        let enums = schema["allOf"]
            .as_sequence()
            .into_iter()
            .flatten()
            .flat_map(|part| strings(&part["properties"]["error"]["properties"]["code"]["enum"]))
            .collect();
        codes.insert(scalar(status).unwrap(), enums);
    }
    codes
}

#[test]
fn gateway_responses_use_the_status_and_code_the_openapi_contract_declares() {
    let contract = contract_codes();
    let deployment = base(&[]);
    let responses =
        &deployment.resource("PasswordApi")["Properties"]["DefinitionBody"]["x-amazon-apigateway-gateway-responses"];
    let responses = responses.as_mapping().expect("gateway responses");
    for required in [
        "DEFAULT_4XX",
        "DEFAULT_5XX",
        "UNAUTHORIZED",
        "ACCESS_DENIED",
        "MISSING_AUTHENTICATION_TOKEN",
        "THROTTLED",
    ] {
        assert!(
            responses.contains_key(required),
            "gateway response {required} is not customised"
        );
    }
    for (kind, response) in responses {
        let kind = kind.as_str().unwrap();
        let status = scalar(&response["statusCode"]).unwrap_or_else(|| panic!("{kind} sets no statusCode"));
        let template = response["responseTemplates"]["application/json"].as_str().unwrap();
        let code = template
            .split("\"code\":\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .unwrap_or_else(|| panic!("{kind}: no code in {template}"));
        let allowed = contract
            .get(&status)
            .unwrap_or_else(|| panic!("{kind}: status {status} is not in docs/openapi.yaml"));
        assert!(
            allowed.contains(code),
            "{kind}: {status} {code} — the contract allows {allowed:?} for {status}"
        );
    }
}

#[test]
fn state_machine_invokes_the_workflow_alias_with_named_fields_and_its_own_identity() {
    let deployment = base(&[]);
    let machine = deployment.resource("OnboardingStateMachine");
    let properties = &machine["Properties"];
    assert_eq!(
        properties["DefinitionSubstitutions"]["WorkflowFunctionAlias"].as_str(),
        Some("${WorkflowFunction.Alias}")
    );
    let task = &properties["Definition"]["States"]["SetPassword"];
    assert_eq!(
        task["Parameters"]["FunctionName"].as_str(),
        Some("${WorkflowFunctionAlias}")
    );
    let payload = task["Parameters"]["Payload"]
        .as_mapping()
        .expect("named fields, not the whole input");
    assert_eq!(
        payload[&Value::from("requestedBy.$")].as_str(),
        Some("$$.StateMachine.Name")
    );
    assert_eq!(
        payload[&Value::from("correlationId.$")].as_str(),
        Some("$$.Execution.Id")
    );
    for (key, value) in payload {
        let key = key.as_str().unwrap();
        if let Some(path) = value.as_str().filter(|_| key.ends_with(".$")) {
            assert!(
                path.starts_with("$.request.") || path.starts_with("$$."),
                "{key} comes from {path}: only named fields of the input, or the context"
            );
        }
        assert!(
            !key.starts_with("password."),
            "the example workflow never passes a literal password"
        );
    }
    let retried: BTreeSet<String> = task["Retry"]
        .as_sequence()
        .unwrap()
        .iter()
        .flat_map(|r| strings(&r["ErrorEquals"]))
        .collect();
    let caught: BTreeSet<String> = task["Catch"]
        .as_sequence()
        .unwrap()
        .iter()
        .flat_map(|c| strings(&c["ErrorEquals"]))
        .collect();
    for error in [
        "UserNotFound",
        "InvalidPassword",
        "PasswordReused",
        "InvalidParameter",
        "InvalidRequest",
        "Forbidden",
        "FederatedUser",
        "States.ALL",
    ] {
        assert!(caught.contains(error), "the state machine must catch {error}");
    }
    for error in [
        "Lambda.ServiceException",
        "Lambda.AWSLambdaException",
        "Lambda.SdkClientException",
        "Lambda.TooManyRequestsException",
        "TooManyRequests",
        "UpstreamError",
    ] {
        assert!(retried.contains(error), "the state machine must retry {error}");
    }
}

/// The code refuses timeout settings whose worst case — signing keys, look-ups, set,
/// sign-out, publish: five sequential phases of COGNITO_OPERATION_TIMEOUT_MS, plus a 500 ms
/// margin — does not fit the function's timeout. The template must allow no such setting.
#[test]
fn function_timeout_fits_the_worst_case_of_the_largest_operation_timeout() {
    let deployment = base(&[]);
    let max_operation_ms: u64 = scalar(&deployment.template["Parameters"]["CognitoOperationTimeoutMs"]["MaxValue"])
        .and_then(|t| t.parse().ok())
        .expect("CognitoOperationTimeoutMs has a MaxValue");
    use admin_set_password::config::{FUNCTION_TIMEOUT, SEQUENTIAL_PHASES, TIMEOUT_MARGIN};
    for function in [API, WORKFLOW] {
        let timeout_s: u64 = scalar(&deployment.function_property(function, "Timeout"))
            .and_then(|t| t.parse().ok())
            .expect("a numeric Timeout");
        assert_eq!(
            timeout_s,
            FUNCTION_TIMEOUT.as_secs(),
            "{function}: the code's FUNCTION_TIMEOUT and the template's Timeout drifted apart"
        );
        assert!(
            u64::from(SEQUENTIAL_PHASES) * max_operation_ms + TIMEOUT_MARGIN.as_millis() as u64 <= timeout_s * 1000,
            "{function}: Timeout {timeout_s} s does not fit {SEQUENTIAL_PHASES} x {max_operation_ms} ms + 500 ms"
        );
    }
    // The largest value the template allows is one the code accepts.
    let max = max_operation_ms.to_string();
    admin_set_password::testing::try_config(&[("COGNITO_OPERATION_TIMEOUT_MS", max.as_str())])
        .expect("the template's largest CognitoOperationTimeoutMs is valid for the code");
    let task_timeout = scalar(
        &deployment.resource("OnboardingStateMachine")["Properties"]["Definition"]["States"]["SetPassword"]
            ["TimeoutSeconds"],
    )
    .and_then(|t| t.parse::<u64>().ok())
    .unwrap();
    assert!(
        task_timeout > FUNCTION_TIMEOUT.as_secs(),
        "the state machine waits longer than the function may run"
    );
}

#[test]
fn change_events_rule_exists_only_with_a_bus_and_a_topic() {
    let none = base(&[("EventBusName", "identity-events")]);
    assert!(!none.deploys("PasswordSetNotificationRule"));
    let rule = base(&[
        ("EventBusName", "identity-events"),
        (
            "NotificationTopicArn",
            "arn:aws:sns:eu-west-1:123456789012:password-set",
        ),
    ]);
    let properties = &rule.resource("PasswordSetNotificationRule")["Properties"];
    assert_eq!(properties["EventBusName"].as_str(), Some("identity-events"));
    assert_eq!(strings(&properties["EventPattern"]["source"]), ["admin-set-password"]);
    assert_eq!(strings(&properties["EventPattern"]["detail-type"]), ["Password Set"]);
}

#[test]
fn every_parameter_is_used_and_documented() {
    let deployment = base(&[]);
    let docs = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/deploy.md")).unwrap();
    let mut used = references(&deployment.template["Resources"]);
    used.extend(references(&deployment.template["Conditions"]));
    used.extend(references(&deployment.template["Globals"]));
    used.extend(references(&deployment.template["Rules"]));
    let grouped: BTreeSet<String> = deployment.template["Metadata"]["AWS::CloudFormation::Interface"]
        ["ParameterGroups"]
        .as_sequence()
        .expect("ParameterGroups")
        .iter()
        .flat_map(|group| strings(&group["Parameters"]))
        .collect();
    for name in deployment.template["Parameters"].as_mapping().unwrap().keys() {
        let name = name.as_str().unwrap();
        assert!(used.contains(name), "parameter {name} is declared but never used");
        assert!(
            docs.contains(&format!("| `{name}` |")),
            "parameter {name} is not in docs/deploy.md's table"
        );
        assert!(grouped.contains(name), "parameter {name} is in no ParameterGroup");
    }
}

/// Both state machines remove the onboarding marker after a successful set, as a step of
/// their own (a retried set still finds it), in the group OnboardingGroup names.
#[test]
fn state_machines_remove_the_onboarding_marker_after_the_set() {
    let deployment = base(&[
        ("PasswordSecretPrefix", "onboarding/"),
        ("OnboardingGroup", "new-hires"),
    ]);
    let bulk = deployment.resource("BulkOnboardingStateMachine");
    let processor = &bulk["Properties"]["Definition"]["States"]["OnboardUsers"]["ItemProcessor"];
    for (machine, states) in [
        (
            "OnboardingStateMachine",
            deployment.resource("OnboardingStateMachine")["Properties"]["Definition"]["States"].clone(),
        ),
        ("BulkOnboardingStateMachine", processor["States"].clone()),
    ] {
        let properties = deployment.resource(machine)["Properties"].clone();
        assert_eq!(
            states["SetPassword"]["Next"].as_str(),
            Some("RemoveMarker"),
            "{machine}"
        );
        let remove = &states["RemoveMarker"];
        assert_eq!(remove["Resource"].as_str(), Some("${RemoveUserFromGroup}"), "{machine}");
        assert_eq!(
            properties["DefinitionSubstitutions"]["RemoveUserFromGroup"].as_str(),
            Some("arn:${AWS::Partition}:states:::aws-sdk:cognitoidentityprovider:adminRemoveUserFromGroup")
        );
        assert_eq!(remove["Parameters"]["GroupName"].as_str(), Some("${OnboardingGroup}"));
        assert_eq!(
            properties["DefinitionSubstitutions"]["OnboardingGroup"].as_str(),
            Some("new-hires")
        );
        assert_eq!(properties["DefinitionSubstitutions"]["UserPoolId"].as_str(), Some(POOL));
    }
}

/// The bulk state machine: a Distributed Map over the CSV, each item the single
/// onboarding's payload contract; throttling retried with full jitter; no user's failure
/// fails the run; the report in the stack's bucket; secrets deleted unless turned off.
#[test]
fn bulk_onboarding_invokes_the_alias_per_user_and_tolerates_every_failure() {
    assert!(
        base(&[]).resources_of_type("AWS::Serverless::StateMachine").len() == 1,
        "no bulk state machine without a secret prefix (it reads and deletes secrets)"
    );
    let deployment = base(&[
        ("PasswordSecretPrefix", "onboarding/"),
        ("BulkMaxConcurrency", "7"),
        ("BulkDeleteSecrets", "false"),
        ("BulkSecretRecoveryWindowInDays", "14"),
    ]);
    let properties = deployment.resource("BulkOnboardingStateMachine")["Properties"].clone();
    let substitutions = &properties["DefinitionSubstitutions"];
    for (key, value) in [
        ("WorkflowFunctionAlias", "${WorkflowFunction.Alias}"),
        ("PasswordSecretPrefix", "onboarding/"),
        ("ResultsBucket", "${BulkOnboardingBucket}"),
        ("MaxConcurrency", "7"),
        ("DeleteSecrets", "false"),
        ("RecoveryWindowInDays", "14"),
    ] {
        assert_eq!(substitutions[key].as_str(), Some(value), "{key}");
    }
    let map = &properties["Definition"]["States"]["OnboardUsers"];
    assert_eq!(
        map["ItemProcessor"]["ProcessorConfig"]["Mode"].as_str(),
        Some("DISTRIBUTED")
    );
    assert_eq!(map["ItemReader"]["ReaderConfig"]["InputType"].as_str(), Some("CSV"));
    assert_eq!(map["MaxConcurrencyPath"].as_str(), Some("$.maxConcurrency"));
    assert_eq!(scalar(&map["ToleratedFailurePercentage"]).as_deref(), Some("100.0"));
    assert_eq!(
        map["ResultWriter"]["Parameters"]["Bucket"].as_str(),
        Some("${ResultsBucket}")
    );
    assert_eq!(
        map["ItemSelector"]["requestedBy.$"].as_str(),
        Some("$$.StateMachine.Name")
    );
    assert_eq!(map["ItemSelector"]["correlationId.$"].as_str(), Some("$$.Execution.Id"));
    let states = &map["ItemProcessor"]["States"];
    let set = &states["SetPassword"];
    assert_eq!(
        set["Parameters"]["FunctionName"].as_str(),
        Some("${WorkflowFunctionAlias}")
    );
    let payload = &set["Parameters"]["Payload"];
    assert_eq!(
        payload["passwordSecretId.$"].as_str(),
        Some("States.Format('${PasswordSecretPrefix}{}', $.item.username)")
    );
    assert_eq!(payload["requestedBy.$"].as_str(), Some("$.requestedBy"));
    assert_eq!(payload["correlationId.$"].as_str(), Some("$.correlationId"));
    let throttles = set["Retry"]
        .as_sequence()
        .unwrap()
        .iter()
        .find(|r| strings(&r["ErrorEquals"]).contains(&"TooManyRequests".to_owned()))
        .expect("TooManyRequests is retried");
    assert_eq!(strings(&throttles["ErrorEquals"]), ["TooManyRequests", "UpstreamError"]);
    assert_eq!(throttles["JitterStrategy"].as_str(), Some("FULL"));
    assert_eq!(
        strings(&set["Catch"][0]["ErrorEquals"]),
        ["States.ALL"],
        "every refusal is an outcome"
    );
    assert_eq!(
        states["DeleteSecret?"]["Choices"][0]["Variable"].as_str(),
        Some("$.deleteSecrets"),
        "BulkDeleteSecrets turns the deletion off"
    );
    assert_eq!(
        states["DeleteSecret"]["Parameters"]["RecoveryWindowInDays.$"].as_str(),
        Some("States.StringToJson('${RecoveryWindowInDays}')")
    );
}
