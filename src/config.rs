//! Configuration from the environment, read and validated once at init so a bad deployment
//! fails at start-up with a message naming the variable, not on the first request.

use std::time::Duration;

use crate::groups::{is_group_name, GroupSet};
use crate::token::{jwks_url, ClientIds, TokenPolicy, TokenUse, MAX_LEEWAY};
use crate::upstream::UpstreamSettings;

/// Why the configuration is unusable. Each message names the variable.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    #[error("{0} is required but not set")]
    Missing(&'static str),
    #[error("{var} is invalid: {reason}")]
    Invalid { var: &'static str, reason: String },
}

/// The function timeout template.yaml sets (`tests/template_params.rs` holds them equal).
pub const FUNCTION_TIMEOUT: Duration = Duration::from_secs(21);
/// Sequential phases in the worst case, each bounded by the operation timeout: the wait for
/// the signing keys, the look-up round, the set, the sign-out, the change-event publish.
pub const SEQUENTIAL_PHASES: u32 = 5;
/// Kept for init, the token check and writing the answer and the audit line.
pub const TIMEOUT_MARGIN: Duration = Duration::from_millis(500);

/// `PROTECTED_GROUPS` value that turns the protected-target rule off (empty means "default").
pub const PROTECTED_GROUPS_OFF: &str = "NONE";

/// The Cognito user statuses (`UserStatusType`), for `WORKFLOW_TARGET_STATUSES`.
pub const USER_STATUSES: &[&str] = &[
    "UNCONFIRMED",
    "CONFIRMED",
    "ARCHIVED",
    "COMPROMISED",
    "UNKNOWN",
    "RESET_REQUIRED",
    "FORCE_CHANGE_PASSWORD",
    "EXTERNAL_PROVIDER",
];

/// Which trust domains this deployment serves (`ENTRY_POINTS`). The function never guesses
/// who sent an event from its shape: an API deployment answers everything as API Gateway and
/// verifies the token; a workflow deployment refuses anything API-shaped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EntryPoints {
    pub api: bool,
    pub workflow: bool,
}

/// How API callers' tokens are verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenSettings {
    /// What a token must satisfy: the admin pool's issuers, token use, app clients, age.
    pub policy: TokenPolicy,
    /// Where the admin pool's signing keys are published.
    pub jwks_url: String,
}

/// Endpoint overrides per service (`AWS_ENDPOINT_URL_<SERVICE>`, else `AWS_ENDPOINT_URL`),
/// as the AWS SDKs define them: local emulators (moto) and VPC endpoints. Read here once so
/// the SDK clients and the JWKS URL agree.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Endpoints {
    pub cognito: Option<String>,
    pub secrets_manager: Option<String>,
    pub eventbridge: Option<String>,
}

impl Endpoints {
    fn from_lookup(get: &impl Fn(&str) -> Option<String>) -> Self {
        let endpoint = |service: &str| get(&format!("AWS_ENDPOINT_URL_{service}")).or_else(|| get("AWS_ENDPOINT_URL"));
        Self {
            cognito: endpoint("COGNITO_IDENTITY_PROVIDER"),
            secrets_manager: endpoint("SECRETS_MANAGER"),
            eventbridge: endpoint("EVENTBRIDGE"),
        }
    }
}

/// What a direct (workflow) invocation may do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkflowSettings {
    /// Statuses a target must have (`None`: any). Default `FORCE_CHANGE_PASSWORD`, so a
    /// workflow onboards new users but cannot take over established accounts.
    pub target_statuses: Option<Vec<String>>,
    /// Whether a literal `password` is accepted (Step Functions keeps state input in its history).
    pub literal_passwords: bool,
    /// Whether a secret must be named `PASSWORD_SECRET_PREFIX` + the target's username.
    pub secret_per_user: bool,
    /// Group a target must be a member of (`WORKFLOW_TARGET_GROUP`; `None`: no such rule).
    /// Provisioning adds new users to it and the API never does, so a user an admin reset
    /// is in the right status but not marked for onboarding.
    pub target_group: Option<String>,
}

/// Everything the function needs to know, validated.
#[derive(Debug, Clone)]
pub struct Config {
    pub entry_points: EntryPoints,
    /// The only qualifier of the invoked function ARN that may be answered (`REQUIRED_ALIAS`):
    /// a numbered version or `$LATEST` keeps whatever settings and resource policy it was
    /// published with. `None`: any (local runs).
    pub required_alias: Option<String>,
    /// Pool whose users' passwords are set.
    pub user_pool_id: String,
    /// Pool the admins live in: their live groups and status are read there, and their
    /// token must be issued by it.
    pub admin_user_pool_id: String,
    /// Members of these groups may call.
    pub admin_groups: GroupSet,
    /// Members of these groups can only be reset by a super admin.
    pub protected_groups: GroupSet,
    /// Members of these groups may reset protected users.
    pub super_admin_groups: GroupSet,
    /// Whether federated (`EXTERNAL_PROVIDER`) users may be given a password.
    pub allow_federated: bool,
    /// Secret-name prefix `passwordSecretId` must have (ends in `/`); `None` turns secret
    /// references off.
    pub password_secret_prefix: Option<String>,
    /// Token verification; `None` when the API entry point is off.
    pub token: Option<TokenSettings>,
    pub workflow: WorkflowSettings,
    /// `Access-Control-Allow-Origin` for API responses, if the portal is on another origin.
    pub cors_allow_origin: Option<String>,
    pub upstream: UpstreamSettings,
    pub endpoints: Endpoints,
    /// CloudWatch namespace of the embedded metrics.
    pub metrics_namespace: String,
    /// Refuse common passwords and passwords containing the username (`PASSWORD_BLOCKLIST`).
    pub password_blocklist: bool,
    /// Every request must say why (`REQUIRE_REASON`).
    pub require_reason: bool,
    /// Where a `Password Set` event goes after each successful set (`EVENT_BUS_NAME`).
    pub event_bus_name: Option<String>,
}

impl Config {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads variables through `lookup`; an empty value counts as unset.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |name: &str| lookup(name).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
        let invalid = |var: &'static str, reason: &str| ConfigError::Invalid {
            var,
            reason: reason.to_owned(),
        };

        let on_lambda = get("AWS_LAMBDA_FUNCTION_NAME").is_some();
        let required_alias = match get("REQUIRED_ALIAS") {
            Some(alias) if is_alias_name(&alias) => Some(alias),
            Some(_) => {
                return Err(invalid(
                    "REQUIRED_ALIAS",
                    "must be a Lambda alias name: 1-128 letters, digits, - and _, not only digits",
                ))
            }
            None => None,
        };
        let entry_points = match get("ENTRY_POINTS") {
            Some(list) => entry_points(&list)?,
            None if on_lambda => return Err(ConfigError::Missing("ENTRY_POINTS")),
            None => EntryPoints {
                api: true,
                workflow: true,
            },
        };

        let user_pool_id = get("USER_POOL_ID").ok_or(ConfigError::Missing("USER_POOL_ID"))?;
        let region = pool_region(&user_pool_id)
            .map_err(|reason| invalid("USER_POOL_ID", &reason))?
            .to_owned();
        let admin_user_pool_id = match get("ADMIN_USER_POOL_ID") {
            Some(id) => {
                let admin_region = pool_region(&id).map_err(|reason| invalid("ADMIN_USER_POOL_ID", &reason))?;
                if admin_region != region {
                    return Err(invalid(
                        "ADMIN_USER_POOL_ID",
                        "must be in the same region as USER_POOL_ID (one Cognito client serves both)",
                    ));
                }
                id
            }
            None => user_pool_id.clone(),
        };
        if let Some(function_region) = get("AWS_REGION") {
            if function_region != region {
                return Err(invalid(
                    "USER_POOL_ID",
                    "must be in the function's region (AWS_REGION): its ARNs and client use that region",
                ));
            }
        }
        let separate_admin_pool = admin_user_pool_id != user_pool_id;

        let admin_groups =
            group_list("ADMIN_GROUPS", get("ADMIN_GROUPS"))?.ok_or(ConfigError::Missing("ADMIN_GROUPS"))?;
        if admin_groups.is_empty() {
            return Err(ConfigError::Missing("ADMIN_GROUPS"));
        }
        let super_admin_groups = group_list("SUPER_ADMIN_GROUPS", get("SUPER_ADMIN_GROUPS"))?.unwrap_or_default();
        let protected_groups = match get("PROTECTED_GROUPS").as_deref() {
            Some(PROTECTED_GROUPS_OFF) => GroupSet::default(),
            Some(list) => group_list("PROTECTED_GROUPS", Some(list.to_owned()))?.unwrap_or_default(),
            // The admins' groups live in the other pool: guessing what to protect here
            // would protect nothing, silently.
            None if separate_admin_pool => {
                return Err(invalid(
                    "PROTECTED_GROUPS",
                    "must be set explicitly (or NONE) when ADMIN_USER_POOL_ID is a separate pool",
                ))
            }
            None => admin_groups.union(&super_admin_groups),
        };

        let password_secret_prefix = match get("PASSWORD_SECRET_PREFIX") {
            Some(prefix) if prefix.chars().all(is_secret_name_char) && prefix.len() <= 256 && prefix.ends_with('/') => {
                Some(prefix)
            }
            Some(_) => {
                return Err(invalid(
                    "PASSWORD_SECRET_PREFIX",
                    "must end in / and use only letters, digits and /_+=.@-",
                ))
            }
            None => None,
        };

        let endpoints = Endpoints::from_lookup(&get);
        let token = if entry_points.api {
            Some(token_settings(
                &get,
                &region,
                &admin_user_pool_id,
                endpoints.cognito.as_deref(),
            )?)
        } else {
            None
        };
        let workflow = WorkflowSettings {
            target_statuses: target_statuses(get("WORKFLOW_TARGET_STATUSES"))?,
            literal_passwords: flag(&get, "WORKFLOW_LITERAL_PASSWORDS", false)?,
            secret_per_user: flag(&get, "PASSWORD_SECRET_PER_USER", true)?,
            target_group: match get("WORKFLOW_TARGET_GROUP") {
                Some(name) if is_group_name(&name) => Some(name),
                Some(_) => {
                    return Err(invalid(
                        "WORKFLOW_TARGET_GROUP",
                        "must be one group name (no spaces or commas)",
                    ))
                }
                None => None,
            },
        };

        let cors_allow_origin = match get("CORS_ALLOW_ORIGIN") {
            Some(origin) if origin.chars().all(|c| c.is_ascii_graphic()) && !origin.contains(',') => Some(origin),
            Some(_) => {
                return Err(invalid(
                    "CORS_ALLOW_ORIGIN",
                    "must be a single origin such as https://admin.example.com",
                ))
            }
            None => None,
        };

        let metrics_namespace = get("METRICS_NAMESPACE").unwrap_or_else(|| "AdminSetPassword".into());
        if metrics_namespace.len() > 255 || metrics_namespace.starts_with(':') {
            return Err(invalid(
                "METRICS_NAMESPACE",
                "must be 1-255 characters and not start with ':'",
            ));
        }

        let upstream = UpstreamSettings {
            connect_timeout: millis(&get, "COGNITO_CONNECT_TIMEOUT_MS", 1_000)?,
            attempt_timeout: millis(&get, "COGNITO_ATTEMPT_TIMEOUT_MS", 2_000)?,
            operation_timeout: millis(&get, "COGNITO_OPERATION_TIMEOUT_MS", 4_000)?,
            max_attempts: match get("COGNITO_MAX_ATTEMPTS") {
                None => 3,
                Some(v) => v
                    .parse()
                    .ok()
                    .filter(|n| (1..=10).contains(n))
                    .ok_or_else(|| invalid("COGNITO_MAX_ATTEMPTS", "must be a whole number from 1 to 10"))?,
            },
            warmup: flag(&get, "COGNITO_WARMUP", false)?,
        };
        // The deadline guard answers in time anyway; this refuses settings that would make
        // it abandon healthy-but-slow requests by construction.
        if upstream.operation_timeout * SEQUENTIAL_PHASES + TIMEOUT_MARGIN > FUNCTION_TIMEOUT {
            return Err(invalid(
                "COGNITO_OPERATION_TIMEOUT_MS",
                "5 sequential phases (signing keys, look-ups, set, sign-out, publish) plus 500 ms must fit the 21 s function timeout: at most 4100",
            ));
        }
        if upstream.attempt_timeout > upstream.operation_timeout {
            return Err(invalid(
                "COGNITO_ATTEMPT_TIMEOUT_MS",
                "must not exceed COGNITO_OPERATION_TIMEOUT_MS",
            ));
        }

        let event_bus_name = match get("EVENT_BUS_NAME") {
            Some(name)
                if (1..=256).contains(&name.len())
                    && name.chars().all(|c| c.is_ascii_alphanumeric() || "/._-:".contains(c)) =>
            {
                Some(name)
            }
            Some(_) => {
                return Err(invalid(
                    "EVENT_BUS_NAME",
                    "must be an event bus name or ARN (letters, digits and /._-:)",
                ))
            }
            None => None,
        };

        Ok(Self {
            entry_points,
            required_alias,
            user_pool_id,
            admin_user_pool_id,
            admin_groups,
            protected_groups,
            super_admin_groups,
            allow_federated: flag(&get, "ALLOW_FEDERATED", false)?,
            password_secret_prefix,
            token,
            workflow,
            cors_allow_origin,
            upstream,
            endpoints,
            metrics_namespace,
            password_blocklist: flag(&get, "PASSWORD_BLOCKLIST", true)?,
            require_reason: flag(&get, "REQUIRE_REASON", false)?,
            event_bus_name,
        })
    }
}

fn entry_points(list: &str) -> Result<EntryPoints, ConfigError> {
    let mut points = EntryPoints {
        api: false,
        workflow: false,
    };
    for name in list.split(',').map(str::trim) {
        match name {
            "api" => points.api = true,
            "workflow" => points.workflow = true,
            _ => {
                return Err(ConfigError::Invalid {
                    var: "ENTRY_POINTS",
                    reason: "must be api, workflow or api,workflow".into(),
                })
            }
        }
    }
    Ok(points)
}

/// The API's token rules. `ADMIN_CLIENT_IDS` has no default: the REST Cognito authorizer
/// accepts a token from any app client of the pool, including a self-sign-up one.
fn token_settings(
    get: &impl Fn(&str) -> Option<String>,
    region: &str,
    admin_pool_id: &str,
    cognito_endpoint: Option<&str>,
) -> Result<TokenSettings, ConfigError> {
    let client_ids = match get("ADMIN_CLIENT_IDS").as_deref() {
        None => return Err(ConfigError::Missing("ADMIN_CLIENT_IDS")),
        Some("*") => ClientIds::Any,
        Some(list) => {
            let ids: Vec<String> = list.split(',').map(|id| id.trim().to_owned()).collect();
            let valid = |id: &String| (1..=128).contains(&id.len()) && id.chars().all(|c| c.is_ascii_alphanumeric());
            if !ids.iter().all(valid) {
                return Err(ConfigError::Invalid {
                    var: "ADMIN_CLIENT_IDS",
                    reason: "must be * or comma-separated app client ids (letters and digits)".into(),
                });
            }
            ClientIds::Only(ids)
        }
    };
    let accepted_token_use = match get("ACCEPTED_TOKEN_USE") {
        None => vec![TokenUse::Id],
        Some(list) => {
            let mut uses = Vec::new();
            for name in list.split(',').map(str::trim) {
                let token_use = match name {
                    "id" => TokenUse::Id,
                    "access" => TokenUse::Access,
                    _ => {
                        return Err(ConfigError::Invalid {
                            var: "ACCEPTED_TOKEN_USE",
                            reason: "must be id, access or id,access".into(),
                        })
                    }
                };
                if !uses.contains(&token_use) {
                    uses.push(token_use);
                }
            }
            uses
        }
    };
    let max_age_seconds = match get("MAX_TOKEN_AGE_SECONDS") {
        None => 3_600,
        Some(v) => v
            .parse()
            .ok()
            .filter(|n| (60..=86_400).contains(n))
            .ok_or(ConfigError::Invalid {
                var: "MAX_TOKEN_AGE_SECONDS",
                reason: "must be whole seconds from 60 to 86400".into(),
            })?,
    };
    Ok(TokenSettings {
        policy: TokenPolicy {
            issuers: TokenPolicy::issuers_for(region, admin_pool_id),
            accepted_token_use,
            client_ids,
            max_age: Duration::from_secs(max_age_seconds),
            leeway: MAX_LEEWAY,
        },
        // The same endpoint the Cognito client uses, so local Cognito emulators serve the keys.
        jwks_url: jwks_url(region, admin_pool_id, cognito_endpoint),
    })
}

fn target_statuses(value: Option<String>) -> Result<Option<Vec<String>>, ConfigError> {
    let list = value.unwrap_or_else(|| "FORCE_CHANGE_PASSWORD".into());
    if list == "*" {
        return Ok(None);
    }
    let statuses: Vec<String> = list.split(',').map(|s| s.trim().to_owned()).collect();
    if let Some(unknown) = statuses.iter().find(|s| !USER_STATUSES.contains(&s.as_str())) {
        return Err(ConfigError::Invalid {
            var: "WORKFLOW_TARGET_STATUSES",
            reason: format!(
                "{:?} is not a Cognito user status; use * or some of {}",
                unknown.chars().take(32).collect::<String>(),
                USER_STATUSES.join(",")
            ),
        });
    }
    Ok(Some(statuses))
}

/// The region part of a `<region>_<id>` pool id, e.g. `eu-west-1` of `eu-west-1_AbC123`.
fn pool_region(pool_id: &str) -> Result<&str, String> {
    let reason = || {
        format!(
            "expected <region>_<id> such as eu-west-1_AbC123, got {} characters",
            pool_id.len()
        )
    };
    let (region, id) = pool_id.split_once('_').ok_or_else(reason)?;
    let region_ok = !region.is_empty()
        && region.len() <= 32
        && region
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    let id_ok = !id.is_empty() && pool_id.len() <= 55 && id.chars().all(|c| c.is_ascii_alphanumeric());
    if region_ok && id_ok {
        Ok(region)
    } else {
        Err(reason())
    }
}

/// Lambda's alias name rule (`(?!^[0-9]+$)([a-zA-Z0-9-_]+)`, 1-128 characters): all digits
/// would name a version, and `$LATEST` is not an alias.
fn is_alias_name(name: &str) -> bool {
    (1..=128).contains(&name.len())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        && !name.chars().all(|c| c.is_ascii_digit())
}

/// Characters Secrets Manager allows in a secret name.
fn is_secret_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "/_+=.@-".contains(c)
}

fn group_list(var: &'static str, value: Option<String>) -> Result<Option<GroupSet>, ConfigError> {
    value
        .map(|v| GroupSet::from_config_list(&v).map_err(|reason| ConfigError::Invalid { var, reason }))
        .transpose()
}

fn flag(get: &impl Fn(&str) -> Option<String>, var: &'static str, default: bool) -> Result<bool, ConfigError> {
    match get(var) {
        None => Ok(default),
        Some(v) if v.eq_ignore_ascii_case("true") => Ok(true),
        Some(v) if v.eq_ignore_ascii_case("false") => Ok(false),
        Some(_) => Err(ConfigError::Invalid {
            var,
            reason: "must be true or false".into(),
        }),
    }
}

fn millis(get: &impl Fn(&str) -> Option<String>, var: &'static str, default: u64) -> Result<Duration, ConfigError> {
    let ms = match get(var) {
        None => default,
        Some(v) => v
            .parse()
            .ok()
            .filter(|n| (1..=30_000).contains(n))
            .ok_or(ConfigError::Invalid {
                var,
                reason: "must be milliseconds from 1 to 30000".into(),
            })?,
    };
    Ok(Duration::from_millis(ms))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let vars: HashMap<String, String> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Config::from_lookup(|name| vars.get(name).cloned())
    }

    const BASE: [(&str, &str); 3] = [
        ("USER_POOL_ID", "eu-west-1_AbC123"),
        ("ADMIN_GROUPS", "admins, helpdesk"),
        ("ADMIN_CLIENT_IDS", "client1"),
    ];

    fn with(extra: &[(&'static str, &'static str)]) -> Vec<(&'static str, &'static str)> {
        let mut vars = BASE.to_vec();
        vars.retain(|(k, _)| !extra.iter().any(|(e, _)| e == k));
        vars.extend_from_slice(extra);
        vars
    }

    #[test]
    fn minimal_config_gets_secure_defaults() {
        let c = config(&BASE).unwrap();
        assert_eq!(
            c.entry_points,
            EntryPoints {
                api: true,
                workflow: true
            },
            "both only off Lambda"
        );
        assert_eq!(c.admin_user_pool_id, "eu-west-1_AbC123");
        assert_eq!(c.admin_groups.names(), ["admins", "helpdesk"]);
        assert_eq!(
            c.protected_groups, c.admin_groups,
            "protected defaults to admins ∪ super admins"
        );
        assert!(c.super_admin_groups.is_empty());
        assert!(!c.allow_federated);
        assert_eq!(c.password_secret_prefix, None);
        let token = c.token.unwrap();
        assert_eq!(
            token.policy.issuers,
            [
                "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC123",
                "https://issuer-cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC123"
            ]
        );
        assert_eq!(
            token.jwks_url,
            "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC123/.well-known/jwks.json"
        );
        assert_eq!(token.policy.accepted_token_use, [TokenUse::Id]);
        assert_eq!(token.policy.client_ids, ClientIds::Only(vec!["client1".into()]));
        assert_eq!(token.policy.max_age, Duration::from_secs(3600));
        assert_eq!(
            c.workflow,
            WorkflowSettings {
                target_statuses: Some(vec!["FORCE_CHANGE_PASSWORD".into()]),
                literal_passwords: false,
                secret_per_user: true,
                target_group: None,
            }
        );
        assert_eq!(c.upstream.operation_timeout, Duration::from_secs(4));
        assert_eq!(c.metrics_namespace, "AdminSetPassword");
        assert!(!c.upstream.warmup, "warm-up is opt-in (docs/performance.md)");
        assert!(c.password_blocklist && !c.require_reason && c.event_bus_name.is_none());
        assert_eq!(c.required_alias, None, "local runs answer on any qualifier");
    }

    #[test]
    fn protected_groups_default_to_admins_and_super_admins() {
        let c = config(&with(&[("SUPER_ADMIN_GROUPS", "root")])).unwrap();
        assert_eq!(c.protected_groups.names(), ["admins", "helpdesk", "root"]);
    }

    #[test]
    fn on_lambda_the_entry_point_must_be_chosen() {
        let on_lambda = with(&[("AWS_LAMBDA_FUNCTION_NAME", "fn")]);
        assert_eq!(config(&on_lambda).unwrap_err(), ConfigError::Missing("ENTRY_POINTS"));
        let mut workflow = on_lambda.clone();
        workflow.push(("ENTRY_POINTS", "workflow"));
        workflow.retain(|(k, _)| *k != "ADMIN_CLIENT_IDS");
        let c = config(&workflow).unwrap();
        assert_eq!(
            (c.entry_points.api, c.entry_points.workflow, c.token.is_none()),
            (false, true, true)
        );
    }

    #[test]
    fn the_api_entry_point_needs_its_app_clients() {
        let mut vars = with(&[("ENTRY_POINTS", "api")]);
        vars.retain(|(k, _)| *k != "ADMIN_CLIENT_IDS");
        assert_eq!(config(&vars).unwrap_err(), ConfigError::Missing("ADMIN_CLIENT_IDS"));
        vars.push(("ADMIN_CLIENT_IDS", "*"));
        assert_eq!(config(&vars).unwrap().token.unwrap().policy.client_ids, ClientIds::Any);
    }

    #[test]
    fn an_endpoint_override_serves_the_keys_too() {
        let c = config(&with(&[("AWS_ENDPOINT_URL", "http://127.0.0.1:5000/")])).unwrap();
        assert_eq!(
            c.token.unwrap().jwks_url,
            "http://127.0.0.1:5000/eu-west-1_AbC123/.well-known/jwks.json"
        );
        let c = config(&with(&[
            ("AWS_ENDPOINT_URL", "http://a"),
            ("AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER", "http://b"),
        ]))
        .unwrap();
        assert_eq!(
            c.token.unwrap().jwks_url,
            "http://b/eu-west-1_AbC123/.well-known/jwks.json"
        );
    }

    #[test]
    fn missing_required_variables_are_named() {
        assert_eq!(
            config(&[("ADMIN_GROUPS", "admins")]).unwrap_err(),
            ConfigError::Missing("USER_POOL_ID")
        );
        assert_eq!(
            config(&[("USER_POOL_ID", "eu-west-1_AbC123")]).unwrap_err(),
            ConfigError::Missing("ADMIN_GROUPS")
        );
        assert_eq!(
            config(&[("USER_POOL_ID", "eu-west-1_AbC123"), ("ADMIN_GROUPS", " ")]).unwrap_err(),
            ConfigError::Missing("ADMIN_GROUPS")
        );
        assert_eq!(
            config(&with(&[("ADMIN_USER_POOL_ID", "eu-west-1_Admins9")])).unwrap_err(),
            ConfigError::Invalid {
                var: "PROTECTED_GROUPS",
                reason: "must be set explicitly (or NONE) when ADMIN_USER_POOL_ID is a separate pool".into()
            }
        );
    }

    #[test]
    fn malformed_values_are_refused_naming_the_variable() {
        let cases = [
            ("USER_POOL_ID", "not-a-pool"),
            ("USER_POOL_ID", "eu-west-1_"),
            ("USER_POOL_ID", "EU_abc"),
            ("ADMIN_GROUPS", "admins,,ops"),
            ("ADMIN_GROUPS", "adm ins"),
            ("ADMIN_USER_POOL_ID", "x"),
            ("ADMIN_USER_POOL_ID", "us-east-1_Admins"),
            ("ALLOW_FEDERATED", "1"),
            ("ENTRY_POINTS", "api,cron"),
            ("ENTRY_POINTS", "API"),
            ("ADMIN_CLIENT_IDS", "a b"),
            ("ADMIN_CLIENT_IDS", "a,,b"),
            ("ACCEPTED_TOKEN_USE", "refresh"),
            ("MAX_TOKEN_AGE_SECONDS", "0"),
            ("MAX_TOKEN_AGE_SECONDS", "100000"),
            ("WORKFLOW_TARGET_STATUSES", "FORCE_CHANGE_PASSWORD,confirmed"),
            ("WORKFLOW_LITERAL_PASSWORDS", "yes"),
            ("PASSWORD_SECRET_PER_USER", "no"),
            ("COGNITO_ATTEMPT_TIMEOUT_MS", "0"),
            ("COGNITO_OPERATION_TIMEOUT_MS", "ten"),
            ("COGNITO_MAX_ATTEMPTS", "11"),
            ("COGNITO_OPERATION_TIMEOUT_MS", "4101"),
            ("COGNITO_ATTEMPT_TIMEOUT_MS", "4500"),
            ("PASSWORD_SECRET_PREFIX", "has space/"),
            ("PASSWORD_SECRET_PREFIX", "onboarding"),
            ("CORS_ALLOW_ORIGIN", "https://a.example, https://b.example"),
            ("AWS_REGION", "us-east-1"),
            ("PASSWORD_BLOCKLIST", "off"),
            ("REQUIRE_REASON", "1"),
            ("EVENT_BUS_NAME", "bus with spaces"),
            ("REQUIRED_ALIAS", "7"),
            ("REQUIRED_ALIAS", "$LATEST"),
            ("REQUIRED_ALIAS", "live:7"),
            ("REQUIRED_ALIAS", "a.b"),
            ("WORKFLOW_TARGET_GROUP", "a,b"),
            ("WORKFLOW_TARGET_GROUP", "onboarding pending"),
        ];
        for (var, value) in cases {
            match config(&with(&[(var, value)])) {
                Err(ConfigError::Invalid { var: named, .. }) => {
                    let expected = if var == "AWS_REGION" { "USER_POOL_ID" } else { var };
                    assert_eq!(named, expected, "{var}={value}")
                }
                other => panic!("{var}={value:?}: expected Invalid, got {other:?}"),
            }
        }
    }

    #[test]
    fn workflow_statuses_accept_a_list_or_any() {
        let c = config(&with(&[(
            "WORKFLOW_TARGET_STATUSES",
            "FORCE_CHANGE_PASSWORD, RESET_REQUIRED",
        )]))
        .unwrap();
        assert_eq!(
            c.workflow.target_statuses,
            Some(vec!["FORCE_CHANGE_PASSWORD".into(), "RESET_REQUIRED".into()])
        );
        let c = config(&with(&[("WORKFLOW_TARGET_STATUSES", "*")])).unwrap();
        assert_eq!(c.workflow.target_statuses, None);
    }

    #[test]
    fn the_required_alias_is_a_lambda_alias_name() {
        let alias_config = |alias: &str| {
            let mut vars: Vec<(&str, &str)> = BASE.to_vec();
            vars.push(("REQUIRED_ALIAS", alias));
            config(&vars)
        };
        let longest = "a".repeat(128);
        for alias in ["live", "Live_2", "blue-green", "7a", longest.as_str()] {
            assert_eq!(alias_config(alias).unwrap().required_alias.as_deref(), Some(alias));
        }
        let too_long = "a".repeat(129);
        for alias in ["007", "$LATEST", "li ve", "live/1", too_long.as_str()] {
            assert!(
                matches!(
                    alias_config(alias),
                    Err(ConfigError::Invalid {
                        var: "REQUIRED_ALIAS",
                        ..
                    })
                ),
                "{alias}"
            );
        }
        assert_eq!(alias_config(" ").unwrap().required_alias, None, "empty is unset");
    }

    #[test]
    fn the_workflow_target_group_is_one_group_name() {
        let c = config(&with(&[("WORKFLOW_TARGET_GROUP", " onboarding-pending ")])).unwrap();
        assert_eq!(c.workflow.target_group.as_deref(), Some("onboarding-pending"));
        assert_eq!(
            config(&with(&[("WORKFLOW_TARGET_GROUP", "")]))
                .unwrap()
                .workflow
                .target_group,
            None
        );
    }

    #[test]
    fn protected_groups_can_be_turned_off_explicitly() {
        assert!(config(&with(&[("PROTECTED_GROUPS", "NONE")]))
            .unwrap()
            .protected_groups
            .is_empty());
    }

    #[test]
    fn separate_admin_pool_sets_the_expected_issuers() {
        let c = config(&with(&[
            ("ADMIN_USER_POOL_ID", "eu-west-1_Admins9"),
            ("PROTECTED_GROUPS", "staff-admins"),
        ]))
        .unwrap();
        assert_eq!(
            c.token.unwrap().policy.issuers[0],
            "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Admins9"
        );
    }

    #[test]
    fn error_messages_name_the_variable() {
        let err = config(&[("USER_POOL_ID", "bad"), ("ADMIN_GROUPS", "a")]).unwrap_err();
        assert!(err.to_string().starts_with("USER_POOL_ID is invalid"), "{err}");
    }
}
