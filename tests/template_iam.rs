//! The deployed permissions match what each entry point calls, no more.
//!
//! Reads template.yaml, evaluates its Conditions and `Fn::If`s for parameter scenarios,
//! and checks each function role's effective grants against the explicit lists below:
//! same actions, each on the pool, secret prefix, key or bus it is called on, no
//! wildcards for Cognito, secrets, KMS or Lambda, no managed policies. Also checks who
//! may invoke each function: the state machine's role only the workflow alias, and the
//! functions' resource policies.
//!
//! The lists are the contract with the code: `IAM_ACTIONS_API` and `IAM_ACTIONS_WORKFLOW`
//! from src/directory/mod.rs.

mod template_model;

use std::collections::{BTreeMap, BTreeSet};

use admin_set_password::{IAM_ACTIONS_API, IAM_ACTIONS_WORKFLOW};
use serde_yaml::Value;
use template_model::{grants, scalar, statements_of, Deployment};

const API: &str = "ApiFunction";
const WORKFLOW: &str = "WorkflowFunction";
const TARGET_POOL: &str = "eu-west-1_Target1";
const ADMIN_POOL: &str = "eu-west-1_Admins1";
const SECRET_PREFIX: &str = "onboarding/initial-passwords/";
const SECRET_KEY: &str = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab";
const BUS: &str = "identity-events";
const CLIENT: &str = "4c8c3rrt1q5vs1kbq1hj4k5o0a";

/// Caller look-ups, the only actions the API function may call on the admin pool.
const ADMIN_POOL_ACTIONS: &[&str] = &["cognito-idp:AdminGetUser", "cognito-idp:AdminListGroupsForUser"];

const XRAY_ACTIONS: &[&str] = &["xray:PutTelemetryRecords", "xray:PutTraceSegments"];

fn pool_arn(pool_id: &str) -> String {
    format!("arn:${{AWS::Partition}}:cognito-idp:${{AWS::Region}}:${{AWS::AccountId}}:userpool/{pool_id}")
}

fn secret_arn_pattern(prefix: &str) -> String {
    format!("arn:${{AWS::Partition}}:secretsmanager:${{AWS::Region}}:${{AWS::AccountId}}:secret:{prefix}*")
}

fn bus_arn(bus: &str) -> String {
    format!("arn:${{AWS::Partition}}:events:${{AWS::Region}}:${{AWS::AccountId}}:event-bus/{bus}")
}

// --------------------------------------------------------------------- scenarios --

struct Scenario {
    name: &'static str,
    parameters: &'static [(&'static str, &'static str)],
    admin_pool: Option<&'static str>,
    secret_prefix: Option<&'static str>,
    secret_key: Option<&'static str>,
    bus: Option<&'static str>,
    tracing: bool,
}

const SCENARIOS: &[Scenario] = &[
    Scenario {
        name: "defaults (one pool, no secrets, no bus)",
        parameters: &[("UserPoolId", TARGET_POOL), ("AdminClientIds", CLIENT)],
        admin_pool: None,
        secret_prefix: None,
        secret_key: None,
        bus: None,
        tracing: false,
    },
    Scenario {
        name: "admin pool named but equal to the target pool",
        parameters: &[
            ("UserPoolId", TARGET_POOL),
            ("AdminUserPoolId", TARGET_POOL),
            ("AdminClientIds", CLIENT),
        ],
        admin_pool: None,
        secret_prefix: None,
        secret_key: None,
        bus: None,
        tracing: false,
    },
    Scenario {
        name: "separate admin pool, password secrets with a CMK, change events, tracing",
        parameters: &[
            ("UserPoolId", TARGET_POOL),
            ("AdminUserPoolId", ADMIN_POOL),
            ("ProtectedGroups", "PasswordAdmins"),
            ("AdminClientIds", CLIENT),
            ("PasswordSecretPrefix", SECRET_PREFIX),
            ("PasswordSecretKmsKeyArn", SECRET_KEY),
            ("EventBusName", BUS),
            ("TracingEnabled", "true"),
        ],
        admin_pool: Some(ADMIN_POOL),
        secret_prefix: Some(SECRET_PREFIX),
        secret_key: Some(SECRET_KEY),
        bus: Some(BUS),
        tracing: true,
    },
    Scenario {
        name: "password secrets without a CMK",
        parameters: &[
            ("UserPoolId", TARGET_POOL),
            ("AdminClientIds", CLIENT),
            ("PasswordSecretPrefix", SECRET_PREFIX),
        ],
        admin_pool: None,
        secret_prefix: Some(SECRET_PREFIX),
        secret_key: None,
        bus: None,
        tracing: false,
    },
];

/// What the function calls, as enabled by the scenario: action -> resources.
fn expected_grants(function: &str, scenario: &Scenario) -> BTreeMap<String, BTreeSet<String>> {
    let actions = if function == API {
        IAM_ACTIONS_API
    } else {
        IAM_ACTIONS_WORKFLOW
    };
    let mut expected = BTreeMap::new();
    for action in actions {
        let resources: BTreeSet<String> = match action.split_once(':').expect("service:Action").0 {
            "cognito-idp" => {
                let mut pools = BTreeSet::from([pool_arn(TARGET_POOL)]);
                if let (Some(admin_pool), true) = (scenario.admin_pool, function == API) {
                    if ADMIN_POOL_ACTIONS.contains(action) {
                        pools.insert(pool_arn(admin_pool));
                    }
                }
                pools
            }
            "secretsmanager" => match scenario.secret_prefix {
                Some(prefix) => BTreeSet::from([secret_arn_pattern(prefix)]),
                None => continue,
            },
            "kms" => match scenario.secret_key {
                Some(key) => BTreeSet::from([key.to_owned()]),
                None => continue,
            },
            "events" => match scenario.bus {
                Some(bus) => BTreeSet::from([bus_arn(bus)]),
                None => continue,
            },
            other => panic!("{action}: teach this test where {other} actions must be scoped"),
        };
        expected.insert((*action).to_owned(), resources);
    }
    if scenario.tracing {
        for action in XRAY_ACTIONS {
            expected.insert((*action).to_owned(), BTreeSet::from(["*".to_owned()]));
        }
    }
    expected
}

// ------------------------------------------------------------------------- tests --

#[test]
fn each_function_role_grants_exactly_what_its_entry_point_calls_on_the_right_resources() {
    for scenario in SCENARIOS {
        let deployment = Deployment::new(scenario.parameters);
        for function in [API, WORKFLOW] {
            let role = deployment.role_of(function);
            let service_grants: BTreeMap<_, _> = grants(&deployment.allow_statements(&role))
                .into_iter()
                .filter(|(action, _)| !action.starts_with("logs:"))
                .collect();
            let expected = expected_grants(function, scenario);
            assert_eq!(
                service_grants.keys().collect::<BTreeSet<_>>(),
                expected.keys().collect::<BTreeSet<_>>(),
                "[{}] actions granted to {role} (left) differ from what {function} calls in this scenario (right)",
                scenario.name
            );
            for (action, resources) in &expected {
                assert_eq!(
                    &service_grants[action], resources,
                    "[{}] {role}: {action} is granted on the left resources; expected the right ones",
                    scenario.name
                );
            }
        }
    }
}

#[test]
fn kms_decrypt_only_through_secrets_manager_in_this_region() {
    let scenario = &SCENARIOS[2];
    let deployment = Deployment::new(scenario.parameters);
    let role = deployment.role_of(WORKFLOW);
    let kms: Vec<_> = deployment
        .allow_statements(&role)
        .into_iter()
        .filter(|s| s.actions.iter().any(|a| a.starts_with("kms:")))
        .collect();
    assert_eq!(kms.len(), 1, "one kms statement in {role}");
    let via = &kms[0].condition["StringEquals"]["kms:ViaService"];
    assert_eq!(
        scalar(via).as_deref(),
        Some("secretsmanager.${AWS::Region}.${AWS::URLSuffix}"),
        "kms:Decrypt must carry a kms:ViaService condition for Secrets Manager, got {via:?}"
    );
}

#[test]
fn function_roles_write_only_their_own_log_group() {
    let deployment = Deployment::new(&[("UserPoolId", TARGET_POOL), ("AdminClientIds", CLIENT)]);
    for function in [API, WORKFLOW] {
        let role = deployment.role_of(function);
        let log_group = deployment.resource(function)["Properties"]["LoggingConfig"]["LogGroup"]
            .as_str()
            .expect("the function has LoggingConfig.LogGroup")
            .trim_start_matches("${")
            .trim_end_matches('}')
            .to_owned();
        let logs: BTreeMap<_, _> = grants(&deployment.allow_statements(&role))
            .into_iter()
            .filter(|(a, _)| a.starts_with("logs:"))
            .collect();
        let expected_actions = BTreeSet::from(["logs:CreateLogStream".to_owned(), "logs:PutLogEvents".to_owned()]);
        assert_eq!(
            logs.keys().cloned().collect::<BTreeSet<_>>(),
            expected_actions,
            "logs actions of {role}"
        );
        for (action, resources) in logs {
            assert_eq!(
                resources,
                BTreeSet::from([format!("${{{log_group}.Arn}}")]),
                "{action} must be scoped to {function}'s own log group {log_group}"
            );
        }
    }
    let api_group = &deployment.resource(API)["Properties"]["LoggingConfig"]["LogGroup"];
    let workflow_group = &deployment.resource(WORKFLOW)["Properties"]["LoggingConfig"]["LogGroup"];
    assert_ne!(api_group, workflow_group, "each function has its own log group");
}

#[test]
fn no_wildcard_actions_and_no_wildcard_sensitive_resources_in_any_role() {
    for scenario in SCENARIOS {
        let deployment = Deployment::new(scenario.parameters);
        for (role, _) in deployment.resources_of_type("AWS::IAM::Role") {
            for statement in deployment.allow_statements(&role) {
                for action in &statement.actions {
                    assert!(
                        !action.contains('*'),
                        "[{}] {role} grants wildcard action {action}",
                        scenario.name
                    );
                    let sensitive = ["cognito-idp:", "secretsmanager:", "lambda:", "kms:", "events:"]
                        .iter()
                        .any(|p| action.starts_with(p));
                    if sensitive {
                        for resource in &statement.resources {
                            assert!(
                                resource != "*" && !resource.ends_with(":*:*") && !resource.contains("userpool/*"),
                                "[{}] {role} grants {action} on wildcard resource {resource}",
                                scenario.name
                            );
                        }
                    }
                }
            }
        }
    }
}

#[test]
fn no_role_has_a_power_user_or_admin_managed_policy() {
    const FORBIDDEN: &[&str] = &[
        "AdministratorAccess",
        "PowerUserAccess",
        "FullAccess",
        "PowerUser",
        "IAMFullAccess",
    ];
    let deployment = Deployment::new(&[
        ("UserPoolId", TARGET_POOL),
        ("AdminClientIds", CLIENT),
        ("ConfigureApiGatewayLoggingRole", "true"),
    ]);
    for function in [API, WORKFLOW] {
        let role = deployment.role_of(function);
        assert_eq!(
            deployment.managed_policy_arns(&role),
            Vec::<String>::new(),
            "{role} must carry only its inline least-privilege policies"
        );
    }
    for (role, _) in deployment.resources_of_type("AWS::IAM::Role") {
        for arn in deployment.managed_policy_arns(&role) {
            assert!(
                !FORBIDDEN.iter().any(|f| arn.contains(f)),
                "{role} has managed policy {arn}"
            );
        }
    }
}

const STACK_ID: &str = "arn:aws:cloudformation:eu-west-1:123456789012:stack/asp/0f1e2d3c-4b5a-6978-8695-a4b3c2d1e0f9";
const STACK_UUID: &str = "0f1e2d3c-4b5a-6978-8695-a4b3c2d1e0f9";

/// What each state machine's role may do besides invoking the workflow alias and
/// delivering its logs: action -> resources.
fn state_machine_grants(machine: &str) -> BTreeMap<String, BTreeSet<String>> {
    let mut grants = BTreeMap::from([(
        "cognito-idp:AdminRemoveUserFromGroup".to_owned(),
        BTreeSet::from([pool_arn(TARGET_POOL)]),
    )]);
    if machine == "BulkOnboardingStateMachine" {
        let states = "arn:${AWS::Partition}:states:${AWS::Region}:${AWS::AccountId}";
        let bucket = "arn:${AWS::Partition}:s3:::${BulkOnboardingBucket}";
        let one = |r: String| BTreeSet::from([r]);
        grants.extend([
            (
                "secretsmanager:DeleteSecret".to_owned(),
                one(secret_arn_pattern(SECRET_PREFIX)),
            ),
            (
                "s3:GetObject".to_owned(),
                BTreeSet::from([format!("{bucket}/input/*"), format!("{bucket}/results/*")]),
            ),
            ("s3:PutObject".to_owned(), one(format!("{bucket}/results/*"))),
            ("s3:AbortMultipartUpload".to_owned(), one(format!("{bucket}/results/*"))),
            (
                "s3:ListMultipartUploadParts".to_owned(),
                one(format!("{bucket}/results/*")),
            ),
            (
                "states:StartExecution".to_owned(),
                one(format!("{states}:stateMachine:bulk-onboarding-{STACK_UUID}")),
            ),
            (
                "states:DescribeExecution".to_owned(),
                one(format!("{states}:execution:bulk-onboarding-{STACK_UUID}/*")),
            ),
            (
                "states:StopExecution".to_owned(),
                one(format!("{states}:execution:bulk-onboarding-{STACK_UUID}/*")),
            ),
        ]);
    }
    grants
}

#[test]
fn state_machine_roles_may_invoke_only_the_workflow_alias_and_finish_onboarding() {
    for (parameters, expected) in [
        (
            &[
                ("UserPoolId", TARGET_POOL),
                ("AdminClientIds", CLIENT),
                ("AWS::StackId", STACK_ID),
            ][..],
            &["OnboardingStateMachine"][..],
        ),
        (
            &[
                ("UserPoolId", TARGET_POOL),
                ("AdminClientIds", CLIENT),
                ("AWS::StackId", STACK_ID),
                ("PasswordSecretPrefix", SECRET_PREFIX),
            ][..],
            &["BulkOnboardingStateMachine", "OnboardingStateMachine"][..],
        ),
    ] {
        let deployment = Deployment::new(parameters);
        let mut machines = deployment.resources_of_type("AWS::Serverless::StateMachine");
        machines.sort_by(|a, b| a.0.cmp(&b.0));
        assert_eq!(
            machines.iter().map(|(m, _)| m.as_str()).collect::<Vec<_>>(),
            expected,
            "the bulk state machine exists only with a secret prefix"
        );
        for (machine, _) in &machines {
            let role = deployment.role_of(machine);
            assert!(
                deployment.managed_policy_arns(&role).is_empty(),
                "{role} must have no managed policies"
            );
            let granted = grants(&deployment.allow_statements(&role));
            assert_eq!(
                granted.get("lambda:InvokeFunction"),
                Some(&BTreeSet::from([format!("${{{WORKFLOW}.Alias}}")])),
                "{role} may invoke only {WORKFLOW}'s live alias (not the API function, not $LATEST)"
            );
            const LOG_DELIVERY: &[&str] = &[
                "logs:CreateLogDelivery",
                "logs:GetLogDelivery",
                "logs:UpdateLogDelivery",
                "logs:DeleteLogDelivery",
                "logs:ListLogDeliveries",
                "logs:PutResourcePolicy",
                "logs:DescribeResourcePolicies",
                "logs:DescribeLogGroups",
            ];
            let rest: BTreeMap<String, BTreeSet<String>> = granted
                .into_iter()
                .filter(|(a, _)| a != "lambda:InvokeFunction" && !LOG_DELIVERY.contains(&a.as_str()))
                .collect();
            assert_eq!(
                rest,
                state_machine_grants(machine),
                "{role} grants exactly what {machine} calls, on its resources"
            );
        }
    }
}

/// The invoke grants and denials on one Lambda ARN, from its AWS::Lambda::ResourcePolicy.
fn resource_policy(deployment: &Deployment, arn: &str) -> Vec<template_model::Statement> {
    let policies: Vec<_> = deployment
        .resources_of_type("AWS::Lambda::ResourcePolicy")
        .into_iter()
        .filter(|(_, p)| p["Properties"]["ResourceArn"].as_str() == Some(arn))
        .collect();
    assert_eq!(policies.len(), 1, "exactly one resource policy on {arn} (one per ARN)");
    let (name, policy) = &policies[0];
    let statements = statements_of(&policy["Properties"]["PolicyDocument"], name);
    for s in &statements {
        assert_eq!(s.resources, [arn], "{name}: every statement is about {arn}");
    }
    statements
}

fn is_everyone(principal: &Value) -> bool {
    principal.as_str() == Some("*")
}

#[test]
fn with_deny_other_invokers_only_this_api_and_the_state_machine_role_may_invoke() {
    for (api_type, api_resource) in [("REST", "PasswordApi"), ("HTTP", "PasswordHttpApi")] {
        let deployment = Deployment::new(&[
            ("UserPoolId", TARGET_POOL),
            ("AdminClientIds", CLIENT),
            ("ApiType", api_type),
        ]);
        let api =
            format!("arn:${{AWS::Partition}}:execute-api:${{AWS::Region}}:${{AWS::AccountId}}:${{{api_resource}}}");
        let routes = [
            format!("{api}/*/PUT/users/*/password"),
            format!("{api}/*/POST/users/*/password-reset"),
        ];
        // The API alias: API Gateway on these routes, nobody else.
        let statements = resource_policy(&deployment, &format!("${{{API}.Alias}}"));
        let allows: Vec<_> = statements.iter().filter(|s| s.allow).collect();
        assert_eq!(allows.len(), 1, "[{api_type}] one Allow on the API alias");
        assert_eq!(
            allows[0].principal["Service"].as_str(),
            Some("apigateway.amazonaws.com"),
            "[{api_type}] only API Gateway is allowed"
        );
        assert_eq!(
            template_model::strings(&allows[0].condition["ArnLike"]["aws:SourceArn"]),
            routes,
            "[{api_type}] only this API's two routes"
        );
        let deny = statements
            .iter()
            .find(|s| !s.allow)
            .unwrap_or_else(|| panic!("[{api_type}] the API alias policy denies other invokers"));
        assert!(
            is_everyone(&deny.principal),
            "[{api_type}] the deny applies to every principal"
        );
        assert!(deny.actions.contains(&"lambda:InvokeFunction".to_owned()));
        assert_eq!(
            template_model::strings(&deny.condition["ArnNotLike"]["aws:SourceArn"]),
            routes,
            "[{api_type}] the deny spares exactly the allowed routes"
        );

        // The workflow alias: the state machine's role, nobody else.
        let statements = resource_policy(&deployment, &format!("${{{WORKFLOW}.Alias}}"));
        let role_arn = "${OnboardingStateMachineRole.Arn}";
        let allows: Vec<_> = statements.iter().filter(|s| s.allow).collect();
        assert_eq!(allows.len(), 1, "one Allow on the workflow alias");
        assert_eq!(allows[0].principal["AWS"].as_str(), Some(role_arn));
        let deny = statements
            .iter()
            .find(|s| !s.allow)
            .expect("the workflow alias policy denies others");
        assert!(is_everyone(&deny.principal));
        assert_eq!(
            scalar(&deny.condition["ArnNotEquals"]["aws:PrincipalArn"]).as_deref(),
            Some(role_arn),
            "the deny spares exactly the state machine's role"
        );
        // With the bulk state machine: both roles, nobody else.
        let with_bulk = Deployment::new(&[
            ("UserPoolId", TARGET_POOL),
            ("AdminClientIds", CLIENT),
            ("ApiType", api_type),
            ("PasswordSecretPrefix", SECRET_PREFIX),
        ]);
        let roles = [role_arn, "${BulkOnboardingStateMachineRole.Arn}"];
        let statements = resource_policy(&with_bulk, &format!("${{{WORKFLOW}.Alias}}"));
        let allows: Vec<_> = statements.iter().filter(|s| s.allow).collect();
        assert_eq!(allows.len(), 1, "one Allow on the workflow alias");
        assert_eq!(template_model::strings(&allows[0].principal["AWS"]), roles);
        let deny = statements.iter().find(|s| !s.allow).expect("a deny");
        assert!(is_everyone(&deny.principal));
        assert_eq!(
            template_model::strings(&deny.condition["ArnNotEquals"]["aws:PrincipalArn"]),
            roles,
            "the deny spares exactly the two state machine roles"
        );

        // The unqualified functions and the version each publishes: nobody. A version's
        // policy is retained when the next version replaces it, so an old version keeps
        // refusing (SAM retains the versions themselves).
        for function in [API, WORKFLOW] {
            for (arn, what) in [
                (format!("${{{function}.Arn}}"), "$LATEST"),
                (format!("${{{function}.Version}}"), "its published version"),
            ] {
                let statements = resource_policy(&deployment, &arn);
                assert!(
                    !statements.is_empty()
                        && statements.iter().all(|s| !s.allow
                            && is_everyone(&s.principal)
                            && s.condition.is_null()
                            && s.actions.contains(&"lambda:InvokeFunction".to_owned())),
                    "{function} ({what}) denies every invocation"
                );
            }
            let (name, _) = deployment
                .resources_of_type("AWS::Lambda::ResourcePolicy")
                .into_iter()
                .find(|(_, p)| p["Properties"]["ResourceArn"].as_str() == Some(&format!("${{{function}.Version}}")))
                .expect("checked above");
            let raw = &deployment.template["Resources"][name.as_str()];
            for policy in ["DeletionPolicy", "UpdateReplacePolicy"] {
                assert_eq!(
                    raw[policy].as_str(),
                    Some("Retain"),
                    "{name}: {policy} Retain keeps the deny on the version the next one replaces"
                );
            }
        }

        // A ResourcePolicy replaces statements added to the same ARN: none may exist.
        assert!(
            deployment.resources_of_type("AWS::Lambda::Permission").is_empty(),
            "[{api_type}] no AWS::Lambda::Permission beside the resource policies"
        );
        for function in [API, WORKFLOW] {
            assert!(
                deployment.resource(function)["Properties"]["Events"].is_null(),
                "{function} has SAM Events, whose permissions a resource policy would overwrite"
            );
        }
    }
}

#[test]
fn without_deny_other_invokers_the_api_gets_a_plain_permission_on_the_alias() {
    for (api_type, api_resource) in [("REST", "PasswordApi"), ("HTTP", "PasswordHttpApi")] {
        let deployment = Deployment::new(&[
            ("UserPoolId", TARGET_POOL),
            ("AdminClientIds", CLIENT),
            ("ApiType", api_type),
            ("DenyOtherInvokers", "false"),
        ]);
        assert!(deployment.resources_of_type("AWS::Lambda::ResourcePolicy").is_empty());
        let permissions = deployment.resources_of_type("AWS::Lambda::Permission");
        assert_eq!(
            permissions.len(),
            2,
            "[{api_type}] a permission per route: {permissions:?}"
        );
        let mut routes = Vec::new();
        for (_, permission) in &permissions {
            let properties = &permission["Properties"];
            assert_eq!(
                properties["FunctionName"].as_str(),
                Some(format!("${{{API}.Alias}}").as_str())
            );
            assert_eq!(properties["Principal"].as_str(), Some("apigateway.amazonaws.com"));
            let arn = properties["SourceArn"].as_str().expect("a SourceArn");
            let route = arn
                .split_once(&format!("${{{api_resource}}}"))
                .map(|(_, route)| route.to_owned());
            routes.push(route.unwrap_or_else(|| panic!("[{api_type}] scoped to this API: {arn}")));
        }
        routes.sort();
        assert_eq!(
            routes,
            ["/*/POST/users/*/password-reset", "/*/PUT/users/*/password"],
            "[{api_type}] scoped to this API's two routes"
        );
    }
}

#[test]
fn every_role_carries_the_permissions_boundary_when_one_is_given() {
    let boundary = "arn:aws:iam::123456789012:policy/DeveloperBoundary";
    let deployment = Deployment::new(&[
        ("UserPoolId", TARGET_POOL),
        ("AdminClientIds", CLIENT),
        ("ConfigureApiGatewayLoggingRole", "true"),
        ("PermissionsBoundaryArn", boundary),
    ]);
    let roles = deployment.resources_of_type("AWS::IAM::Role");
    assert!(
        roles.len() >= 5,
        "expected every role of the stack, got {}",
        roles.len()
    );
    for (name, role) in &roles {
        assert_eq!(
            role["Properties"]["PermissionsBoundary"].as_str(),
            Some(boundary),
            "{name} has no permissions boundary"
        );
    }
    // SAM would generate a CodeDeploy role without one: the template brings its own.
    for function in [API, WORKFLOW] {
        let preference = &deployment.resource(function)["Properties"]["DeploymentPreference"];
        assert_eq!(preference["Role"].as_str(), Some("${CodeDeployRole.Arn}"), "{function}");
    }
    let without = Deployment::new(&[("UserPoolId", TARGET_POOL), ("AdminClientIds", CLIENT)]);
    for (name, role) in without.resources_of_type("AWS::IAM::Role") {
        assert!(
            role["Properties"]["PermissionsBoundary"].is_null(),
            "{name}: boundary without the parameter"
        );
    }
}

/// Step Functions sends the state machine's ARN as aws:SourceArn when it assumes the
/// role: the trust names this stack's machine, so a principal allowed iam:PassRole cannot
/// run a machine of its own under the role (and so past the workflow alias's deny).
#[test]
fn every_state_machine_role_trusts_only_its_own_state_machine() {
    let deployment = Deployment::new(&[
        ("UserPoolId", TARGET_POOL),
        ("AdminClientIds", CLIENT),
        (
            "AWS::StackId",
            "arn:aws:cloudformation:eu-west-1:123456789012:stack/asp/0f1e2d3c-4b5a-6978-8695-a4b3c2d1e0f9",
        ),
        ("AWS::Partition", "aws"),
        ("AWS::Region", "eu-west-1"),
        ("AWS::AccountId", "123456789012"),
        ("PasswordSecretPrefix", SECRET_PREFIX),
    ]);
    let mut machines = deployment.resources_of_type("AWS::Serverless::StateMachine");
    machines.extend(deployment.resources_of_type("AWS::StepFunctions::StateMachine"));
    assert_eq!(machines.len(), 2, "both state machines (with a secret prefix)");
    for (machine, resource) in &machines {
        let properties = &resource["Properties"];
        let name = properties["Name"]
            .as_str()
            .or(properties["StateMachineName"].as_str())
            .unwrap_or_else(|| panic!("{machine} needs an explicit name for its role's trust to name it"));
        let prefix = if machine == "BulkOnboardingStateMachine" {
            "bulk-onboarding"
        } else {
            "onboarding"
        };
        assert_eq!(
            name,
            format!("{prefix}-{STACK_UUID}"),
            "{machine}: named from the stack's unique ID"
        );
        assert!(
            name.len() <= 80,
            "{machine}: Step Functions names are at most 80 characters"
        );
        let arn = format!("arn:aws:states:eu-west-1:123456789012:stateMachine:{name}");
        let role = deployment.role_of(machine);
        let trust = statements_of(
            &deployment.resource(&role)["Properties"]["AssumeRolePolicyDocument"],
            &role,
        );
        assert!(!trust.is_empty(), "{role} has a trust policy");
        for statement in &trust {
            assert!(statement.allow, "{role}: trust statements allow");
            assert_eq!(
                statement.principal["Service"].as_str(),
                Some("states.amazonaws.com"),
                "{role} is assumed by Step Functions only"
            );
            assert_eq!(
                template_model::strings(&statement.condition["ArnLike"]["aws:SourceArn"]),
                [arn.clone(), format!("{arn}:*")],
                "{role} trusts {machine} (and its versions and aliases) only"
            );
            assert_eq!(
                scalar(&statement.condition["StringEquals"]["aws:SourceAccount"]).as_deref(),
                Some("123456789012"),
                "{role}: in this account"
            );
        }
    }
}

/// Lambda documents no aws:SourceArn when it assumes an execution role (the key names
/// the caller of a function, in its resource policy); a condition on it would stop the
/// function from starting. The execution roles are limited to this account's Lambda.
#[test]
fn function_roles_trust_lambda_in_this_account_only() {
    let deployment = Deployment::new(&[("UserPoolId", TARGET_POOL), ("AdminClientIds", CLIENT)]);
    for function in [API, WORKFLOW] {
        let role = deployment.role_of(function);
        let trust = statements_of(
            &deployment.resource(&role)["Properties"]["AssumeRolePolicyDocument"],
            &role,
        );
        assert_eq!(trust.len(), 1, "{role}: one trust statement");
        let statement = &trust[0];
        assert_eq!(statement.principal["Service"].as_str(), Some("lambda.amazonaws.com"));
        assert_eq!(statement.actions, ["sts:AssumeRole"]);
        assert_eq!(
            scalar(&statement.condition["StringEquals"]["aws:SourceAccount"]).as_deref(),
            Some("${AWS::AccountId}"),
            "{role}: Lambda in this account only"
        );
        assert!(
            statement.condition["ArnLike"].is_null() && statement.condition["ArnEquals"].is_null(),
            "{role}: Lambda sends no aws:SourceArn for an execution role"
        );
    }
}
