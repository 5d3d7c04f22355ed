//! The deployed permissions match what the code calls, no more.
//!
//! Reads template.yaml, evaluates its Conditions and `Fn::If`s for a few parameter
//! scenarios, and checks the function role's effective grants against
//! `admin_set_password::IAM_ACTIONS`: same actions, each on the pool (or secret prefix) it
//! is called on, no wildcards for Cognito, no managed policies. Also checks the workflow
//! role may invoke only this function.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use admin_set_password::IAM_ACTIONS;
use serde_yaml::{Mapping, Value};

const FUNCTION: &str = "AdminSetPasswordFunction";
const TARGET_POOL: &str = "eu-west-1_Target1";
const ADMIN_POOL: &str = "eu-west-1_Admins1";
const SECRET_PREFIX: &str = "onboarding/initial-passwords/";

fn pool_arn(pool_id: &str) -> String {
    format!("arn:${{AWS::Partition}}:cognito-idp:${{AWS::Region}}:${{AWS::AccountId}}:userpool/{pool_id}")
}

fn secret_arn_pattern(prefix: &str) -> String {
    format!("arn:${{AWS::Partition}}:secretsmanager:${{AWS::Region}}:${{AWS::AccountId}}:secret:{prefix}*")
}

// ------------------------------------------------------------------ template model --

/// template.yaml with short-form tags (`!Sub x`) rewritten to long form (`{Fn::Sub: x}`).
fn template() -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("template.yaml");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    let raw: Value = serde_yaml::from_str(&text).unwrap_or_else(|e| panic!("parsing {}: {e}", path.display()));
    long_form(raw)
}

fn long_form(value: Value) -> Value {
    match value {
        Value::Tagged(tagged) => {
            let tag = tagged.tag.to_string();
            let name = tag.trim_start_matches('!');
            let inner = long_form(tagged.value);
            let inner = match (name, inner) {
                ("GetAtt", Value::String(s)) => {
                    let (resource, attribute) = s.split_once('.').expect("!GetAtt Resource.Attribute");
                    Value::Sequence(vec![resource.into(), attribute.into()])
                }
                (_, inner) => inner,
            };
            let key = match name {
                "Ref" | "Condition" => name.to_owned(),
                other => format!("Fn::{other}"),
            };
            single(&key, inner)
        }
        Value::Sequence(items) => Value::Sequence(items.into_iter().map(long_form).collect()),
        Value::Mapping(map) => Value::Mapping(map.into_iter().map(|(k, v)| (k, long_form(v))).collect()),
        other => other,
    }
}

fn single(key: &str, value: Value) -> Value {
    let mut map = Mapping::new();
    map.insert(key.into(), value);
    Value::Mapping(map)
}

/// The template as deployed with some parameter values: conditions decided, `Fn::If`
/// branches taken, `AWS::NoValue` removed, and `Ref`/`Fn::Sub`/`Fn::GetAtt` rendered as
/// strings in which parameters are substituted and anything else stays `${Name}`.
struct Deployment {
    template: Value,
    parameters: BTreeMap<String, String>,
}

impl Deployment {
    fn new(overrides: &[(&str, &str)]) -> Self {
        let template = template();
        let mut parameters = BTreeMap::new();
        let declared = template["Parameters"].as_mapping().expect("template has Parameters");
        for (name, spec) in declared {
            let name = name.as_str().expect("parameter name");
            if let Some(default) = scalar(&spec["Default"]) {
                parameters.insert(name.to_owned(), default);
            }
        }
        for (name, value) in overrides {
            assert!(
                declared.contains_key(*name),
                "scenario sets undeclared parameter {name}"
            );
            parameters.insert((*name).to_owned(), (*value).to_owned());
        }
        Self { template, parameters }
    }

    fn condition(&self, name: &str) -> bool {
        let expr = &self.template["Conditions"][name];
        assert!(!expr.is_null(), "condition {name} is not declared");
        self.truth(expr)
    }

    fn truth(&self, expr: &Value) -> bool {
        let (key, args) = only_entry(expr).unwrap_or_else(|| panic!("not a condition expression: {expr:?}"));
        let list = || args.as_sequence().expect("condition arguments are a list");
        match key {
            "Fn::Equals" => {
                let l = list();
                self.render(&l[0]) == self.render(&l[1])
            }
            "Fn::Not" => !self.truth(&list()[0]),
            "Fn::And" => list().iter().all(|e| self.truth(e)),
            "Fn::Or" => list().iter().any(|e| self.truth(e)),
            "Condition" => self.condition(args.as_str().expect("condition name")),
            other => panic!("unsupported condition function {other}"),
        }
    }

    /// Resolves a value; `None` means it was `AWS::NoValue` and disappears.
    fn resolve(&self, value: &Value) -> Option<Value> {
        if let Some((key, args)) = only_entry(value) {
            match key {
                "Fn::If" => {
                    let a = args.as_sequence().expect("Fn::If takes a list");
                    let branch = if self.condition(a[0].as_str().expect("condition name")) {
                        &a[1]
                    } else {
                        &a[2]
                    };
                    return self.resolve(branch);
                }
                "Ref" if args.as_str() == Some("AWS::NoValue") => return None,
                "Ref" | "Fn::Sub" | "Fn::GetAtt" => return Some(Value::String(self.render(value))),
                _ => {}
            }
        }
        Some(match value {
            Value::Sequence(items) => Value::Sequence(items.iter().filter_map(|v| self.resolve(v)).collect()),
            Value::Mapping(map) => Value::Mapping(
                map.iter()
                    .filter_map(|(k, v)| self.resolve(v).map(|v| (k.clone(), v)))
                    .collect(),
            ),
            other => other.clone(),
        })
    }

    fn render(&self, value: &Value) -> String {
        if let Some(s) = scalar(value) {
            return s;
        }
        let (key, args) = only_entry(value).unwrap_or_else(|| panic!("cannot render {value:?} as a string"));
        match key {
            "Ref" => {
                let name = args.as_str().expect("Ref name");
                self.parameters
                    .get(name)
                    .cloned()
                    .unwrap_or_else(|| format!("${{{name}}}"))
            }
            "Fn::GetAtt" => {
                let a = args.as_sequence().expect("GetAtt list");
                format!("${{{}.{}}}", self.render(&a[0]), self.render(&a[1]))
            }
            "Fn::Sub" => {
                let (text, vars) = match args {
                    Value::String(s) => (s.clone(), BTreeMap::new()),
                    Value::Sequence(a) => {
                        let vars = a[1]
                            .as_mapping()
                            .expect("Fn::Sub variables")
                            .iter()
                            .map(|(k, v)| (k.as_str().expect("variable name").to_owned(), self.render(v)))
                            .collect();
                        (a[0].as_str().expect("Fn::Sub text").to_owned(), vars)
                    }
                    other => panic!("bad Fn::Sub {other:?}"),
                };
                substitute(&text, |name| {
                    vars.get(name).or_else(|| self.parameters.get(name)).cloned()
                })
            }
            "Fn::If" => self.render(
                &self
                    .resolve(value)
                    .expect("Fn::If used as a string resolved to NoValue"),
            ),
            other => panic!("cannot render {other} as a string"),
        }
    }

    fn resource(&self, name: &str) -> Value {
        let resource = &self.template["Resources"][name];
        assert!(!resource.is_null(), "resource {name} is not declared");
        if let Some(condition) = resource["Condition"].as_str() {
            assert!(
                self.condition(condition),
                "resource {name} is not deployed in this scenario"
            );
        }
        self.resolve(resource).expect("a resource cannot be NoValue")
    }

    fn resources_of_type(&self, kind: &str) -> Vec<(String, Value)> {
        let all = self.template["Resources"].as_mapping().expect("Resources");
        all.iter()
            .filter(|(_, r)| r["Type"].as_str() == Some(kind))
            .filter(|(_, r)| r["Condition"].as_str().is_none_or(|c| self.condition(c)))
            .map(|(n, r)| (n.as_str().unwrap().to_owned(), self.resolve(r).unwrap()))
            .collect()
    }

    /// The logical ID of the role a SAM resource runs with (`Role: !GetAtt X.Arn`).
    fn role_of(&self, resource: &str) -> String {
        let properties = &self.resource(resource)["Properties"];
        assert!(
            properties["Policies"].is_null(),
            "{resource} has SAM Policies; they would create a second, unchecked role"
        );
        let role = properties["Role"]
            .as_str()
            .unwrap_or_else(|| panic!("{resource} has no explicit Role"));
        role.strip_prefix("${")
            .and_then(|r| r.strip_suffix(".Arn}"))
            .unwrap_or_else(|| panic!("{resource} Role should be !GetAtt <Role>.Arn, got {role}"))
            .to_owned()
    }

    /// Every Allow statement in force for the role: inline policies plus any
    /// AWS::IAM::Policy / ManagedPolicy resources attached to it.
    fn allow_statements(&self, role: &str) -> Vec<Statement> {
        let role_resource = self.resource(role);
        assert_eq!(
            role_resource["Type"].as_str(),
            Some("AWS::IAM::Role"),
            "{role} is not an AWS::IAM::Role"
        );
        let mut documents = Vec::new();
        for policy in role_resource["Properties"]["Policies"]
            .as_sequence()
            .into_iter()
            .flatten()
        {
            documents.push(policy["PolicyDocument"].clone());
        }
        for kind in ["AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"] {
            for (_, policy) in self.resources_of_type(kind) {
                let roles = &policy["Properties"]["Roles"];
                if roles
                    .as_sequence()
                    .into_iter()
                    .flatten()
                    .any(|r| r.as_str() == Some(&format!("${{{role}}}")))
                {
                    documents.push(policy["Properties"]["PolicyDocument"].clone());
                }
            }
        }
        let mut statements = Vec::new();
        for document in documents {
            let raw = match &document["Statement"] {
                Value::Sequence(items) => items.clone(),
                one @ Value::Mapping(_) => vec![one.clone()],
                other => panic!("{role}: Statement is {other:?}"),
            };
            for s in raw {
                assert!(
                    s["NotAction"].is_null() && s["NotResource"].is_null(),
                    "{role}: NotAction/NotResource in {s:?}"
                );
                if s["Effect"].as_str() == Some("Allow") {
                    statements.push(Statement {
                        actions: strings(&s["Action"]),
                        resources: strings(&s["Resource"]),
                    });
                }
            }
        }
        statements
    }

    fn managed_policy_arns(&self, role: &str) -> Vec<String> {
        strings(&self.resource(role)["Properties"]["ManagedPolicyArns"])
    }
}

#[derive(Debug)]
struct Statement {
    actions: Vec<String>,
    resources: Vec<String>,
}

/// action -> resources it is granted on.
fn grants(statements: &[Statement]) -> BTreeMap<String, BTreeSet<String>> {
    let mut grants: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for s in statements {
        for action in &s.actions {
            grants
                .entry(action.clone())
                .or_default()
                .extend(s.resources.iter().cloned());
        }
    }
    grants
}

fn only_entry(value: &Value) -> Option<(&str, &Value)> {
    let map = value.as_mapping()?;
    if map.len() != 1 {
        return None;
    }
    let (k, v) = map.iter().next()?;
    let k = k.as_str()?;
    (k == "Ref" || k == "Condition" || k.starts_with("Fn::")).then_some((k, v))
}

fn scalar(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn strings(value: &Value) -> Vec<String> {
    match value {
        Value::Null => Vec::new(),
        Value::Sequence(items) => items.iter().map(|v| scalar(v).expect("a string")).collect(),
        other => vec![scalar(other).unwrap_or_else(|| panic!("expected a string or list, got {other:?}"))],
    }
}

/// `${Name}` -> lookup(Name), or left as is when lookup has nothing (pseudo parameters,
/// resource attributes). `${!Literal}` is an escaped literal.
fn substitute(text: &str, lookup: impl Fn(&str) -> Option<String>) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after.find('}').expect("unterminated ${ in Fn::Sub");
        let name = &after[..end];
        match name.strip_prefix('!') {
            Some(literal) => out.push_str(&format!("${{{literal}}}")),
            None => out.push_str(&lookup(name).unwrap_or_else(|| format!("${{{name}}}"))),
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    out
}

// --------------------------------------------------------------------- scenarios --

struct Scenario {
    name: &'static str,
    parameters: &'static [(&'static str, &'static str)],
    admin_pool: Option<&'static str>,
    secret_prefix: Option<&'static str>,
}

const SCENARIOS: &[Scenario] = &[
    Scenario {
        name: "defaults (one pool, no secrets)",
        parameters: &[("UserPoolId", TARGET_POOL)],
        admin_pool: None,
        secret_prefix: None,
    },
    Scenario {
        name: "admin pool named but equal to the target pool",
        parameters: &[("UserPoolId", TARGET_POOL), ("AdminUserPoolId", TARGET_POOL)],
        admin_pool: None,
        secret_prefix: None,
    },
    Scenario {
        name: "separate admin pool and password secrets",
        parameters: &[
            ("UserPoolId", TARGET_POOL),
            ("AdminUserPoolId", ADMIN_POOL),
            ("PasswordSecretPrefix", SECRET_PREFIX),
        ],
        admin_pool: Some(ADMIN_POOL),
        secret_prefix: Some(SECRET_PREFIX),
    },
];

/// What the code calls, as enabled by the scenario: action -> resources.
fn expected_grants(scenario: &Scenario) -> BTreeMap<String, BTreeSet<String>> {
    let mut expected = BTreeMap::new();
    for action in IAM_ACTIONS {
        let (service, name) = action.split_once(':').expect("IAM action is service:Name");
        let resources: BTreeSet<String> = match service {
            "cognito-idp" => {
                let mut pools = BTreeSet::from([pool_arn(TARGET_POOL)]);
                if let (Some(admin_pool), "AdminListGroupsForUser") = (scenario.admin_pool, name) {
                    pools.insert(pool_arn(admin_pool));
                }
                pools
            }
            "secretsmanager" => match scenario.secret_prefix {
                Some(prefix) => BTreeSet::from([secret_arn_pattern(prefix)]),
                None => continue,
            },
            other => panic!(
                "IAM_ACTIONS has {action}: this test only knows cognito-idp and secretsmanager; \
                 teach it where {other} actions must be scoped"
            ),
        };
        expected.insert((*action).to_owned(), resources);
    }
    expected
}

// ------------------------------------------------------------------------- tests --

#[test]
fn function_role_grants_exactly_the_actions_the_code_calls_on_the_right_resources() {
    for scenario in SCENARIOS {
        let deployment = Deployment::new(scenario.parameters);
        let role = deployment.role_of(FUNCTION);
        let granted = grants(&deployment.allow_statements(&role));

        let service_grants: BTreeMap<_, _> = granted
            .iter()
            .filter(|(action, _)| !action.starts_with("logs:"))
            .map(|(a, r)| (a.clone(), r.clone()))
            .collect();
        let expected = expected_grants(scenario);
        let granted_actions: BTreeSet<_> = service_grants.keys().collect();
        let expected_actions: BTreeSet<_> = expected.keys().collect();
        assert_eq!(
            granted_actions, expected_actions,
            "[{}] actions granted to {role} (left) differ from IAM_ACTIONS enabled in this scenario (right)",
            scenario.name
        );
        for (action, resources) in &expected {
            assert_eq!(
                &service_grants[action], resources,
                "[{}] {action} is granted on the left resources; expected the right ones",
                scenario.name
            );
        }
    }
}

#[test]
fn function_role_writes_only_its_own_log_group() {
    let deployment = Deployment::new(&[("UserPoolId", TARGET_POOL)]);
    let role = deployment.role_of(FUNCTION);
    let log_group = deployment.resource(FUNCTION)["Properties"]["LoggingConfig"]["LogGroup"]
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
            "{action} must be scoped to the function's own log group {log_group}"
        );
    }
}

#[test]
fn no_wildcard_actions_and_no_wildcard_cognito_or_secret_resources_in_any_role() {
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
                    let sensitive = action.starts_with("cognito-idp:")
                        || action.starts_with("secretsmanager:")
                        || action.starts_with("lambda:");
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
    let deployment = Deployment::new(&[("UserPoolId", TARGET_POOL), ("ConfigureApiGatewayLoggingRole", "true")]);
    let function_role = deployment.role_of(FUNCTION);
    assert_eq!(
        deployment.managed_policy_arns(&function_role),
        Vec::<String>::new(),
        "the function role must carry only its inline least-privilege policies"
    );
    for (role, _) in deployment.resources_of_type("AWS::IAM::Role") {
        for arn in deployment.managed_policy_arns(&role) {
            assert!(
                !FORBIDDEN.iter().any(|f| arn.contains(f)),
                "{role} has managed policy {arn}"
            );
        }
    }
}

#[test]
fn workflow_role_may_invoke_only_this_function() {
    let deployment = Deployment::new(&[("UserPoolId", TARGET_POOL)]);
    let machines = deployment.resources_of_type("AWS::Serverless::StateMachine");
    assert_eq!(machines.len(), 1, "expected one state machine");
    let role = deployment.role_of(&machines[0].0);
    assert!(
        deployment.managed_policy_arns(&role).is_empty(),
        "{role} must have no managed policies"
    );
    let granted = grants(&deployment.allow_statements(&role));
    let function_arn = format!("${{{FUNCTION}.Arn}}");
    let lambda: BTreeMap<String, BTreeSet<String>> = granted
        .iter()
        .filter(|(a, _)| a.starts_with("lambda:"))
        .map(|(a, r)| (a.clone(), r.clone()))
        .collect();
    assert_eq!(
        lambda.keys().map(|a| a.as_str()).collect::<Vec<_>>(),
        ["lambda:InvokeFunction"],
        "{role} may only invoke"
    );
    assert_eq!(
        lambda["lambda:InvokeFunction"],
        BTreeSet::from([function_arn.clone(), format!("{function_arn}:*")]),
        "{role} may invoke only {FUNCTION} (and its versions/aliases)"
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
    for action in granted.keys().filter(|a| !a.starts_with("lambda:")) {
        assert!(
            LOG_DELIVERY.contains(&action.as_str()),
            "{role} grants {action}, which the workflow does not need"
        );
    }
}

#[test]
fn function_timeout_covers_three_sequential_cognito_operations() {
    let deployment = Deployment::new(&[("UserPoolId", TARGET_POOL)]);
    let timeout_s: u64 = scalar(&deployment.resource(FUNCTION)["Properties"]["Timeout"])
        .and_then(|t| t.parse().ok())
        .expect("the function has a numeric Timeout");
    let max_operation_ms: u64 = scalar(&deployment.template["Parameters"]["CognitoOperationTimeoutMs"]["MaxValue"])
        .and_then(|t| t.parse().ok())
        .expect("CognitoOperationTimeoutMs has a MaxValue");
    assert!(
        timeout_s <= 30,
        "Timeout {timeout_s} s exceeds the 30 s the issue allows"
    );
    assert!(
        timeout_s * 1000 > 3 * max_operation_ms,
        "Timeout {timeout_s} s does not cover three operations of up to {max_operation_ms} ms"
    );
}

#[test]
fn secret_permission_exists_only_when_a_prefix_is_set() {
    for (prefix, expect) in [("", false), (SECRET_PREFIX, true)] {
        let deployment = Deployment::new(&[("UserPoolId", TARGET_POOL), ("PasswordSecretPrefix", prefix)]);
        let role = deployment.role_of(FUNCTION);
        let has = grants(&deployment.allow_statements(&role))
            .keys()
            .any(|a| a.starts_with("secretsmanager:"));
        assert_eq!(
            has, expect,
            "PasswordSecretPrefix={prefix:?}: secretsmanager granted = {has}"
        );
        let env = &deployment.resource(FUNCTION)["Properties"]["Environment"]["Variables"];
        assert_eq!(
            env["PASSWORD_SECRET_PREFIX"].as_str().is_some(),
            expect,
            "PASSWORD_SECRET_PREFIX must be set exactly when the permission is granted"
        );
    }
}
