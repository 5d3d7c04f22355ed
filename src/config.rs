//! Configuration from the environment, read and validated once at init so a bad deployment
//! fails at start-up with a message naming the variable, not on the first request.

use std::time::Duration;

use crate::auth::GroupSet;

/// Why the configuration is unusable. Each message names the variable.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    #[error("{0} is required but not set")]
    Missing(&'static str),
    #[error("{var} is invalid: {reason}")]
    Invalid { var: &'static str, reason: String },
}

/// `PROTECTED_GROUPS` value that turns the protected-target rule off (empty means "default").
pub const PROTECTED_GROUPS_OFF: &str = "NONE";

/// Timeouts and retries for every Cognito and Secrets Manager call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpstreamSettings {
    pub connect_timeout: Duration,
    pub attempt_timeout: Duration,
    pub operation_timeout: Duration,
    pub max_attempts: u32,
    /// Call `DescribeUserPool` at init: proves `USER_POOL_ID` and the role before the first
    /// request. Off by default: measured, it adds a round trip to init and saves almost
    /// nothing later, because the concurrent look-ups need connections of their own
    /// (docs/performance.md).
    pub warmup: bool,
}

/// Everything the function needs to know, validated.
#[derive(Debug, Clone)]
pub struct Config {
    /// Pool whose users' passwords are set.
    pub user_pool_id: String,
    /// Pool the admins live in: their live groups are read there, and their token's `iss` must name it.
    pub admin_user_pool_id: String,
    /// Members of these groups may call.
    pub admin_groups: GroupSet,
    /// Members of these groups can only be reset by a super admin.
    pub protected_groups: GroupSet,
    /// Members of these groups may reset protected users.
    pub super_admin_groups: GroupSet,
    /// Whether federated (`EXTERNAL_PROVIDER`) users may be given a password.
    pub allow_federated: bool,
    /// Whether to authorise on the caller's live groups rather than the token's.
    pub verify_caller_groups: bool,
    /// Secret-name prefix `passwordSecretId` must have; `None` turns secret references off.
    pub password_secret_prefix: Option<String>,
    /// The `iss` claim an admin's token must carry.
    pub expected_issuer: String,
    /// `Access-Control-Allow-Origin` for API responses, if the portal is on another origin.
    pub cors_allow_origin: Option<String>,
    pub upstream: UpstreamSettings,
    /// CloudWatch namespace of the embedded metrics.
    pub metrics_namespace: String,
}

impl Config {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads variables through `lookup`; an empty value counts as unset.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |name: &str| lookup(name).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());

        let user_pool_id = get("USER_POOL_ID").ok_or(ConfigError::Missing("USER_POOL_ID"))?;
        let region = pool_region(&user_pool_id).map_err(|reason| ConfigError::Invalid {
            var: "USER_POOL_ID",
            reason,
        })?;
        let admin_user_pool_id = match get("ADMIN_USER_POOL_ID") {
            Some(id) => {
                pool_region(&id).map_err(|reason| ConfigError::Invalid {
                    var: "ADMIN_USER_POOL_ID",
                    reason,
                })?;
                id
            }
            None => user_pool_id.clone(),
        };
        let admin_region = pool_region(&admin_user_pool_id).unwrap_or(region);

        let admin_groups =
            group_list("ADMIN_GROUPS", get("ADMIN_GROUPS"))?.ok_or(ConfigError::Missing("ADMIN_GROUPS"))?;
        if admin_groups.is_empty() {
            return Err(ConfigError::Missing("ADMIN_GROUPS"));
        }
        let protected_groups = match get("PROTECTED_GROUPS").as_deref() {
            Some(PROTECTED_GROUPS_OFF) => GroupSet::default(),
            other => group_list("PROTECTED_GROUPS", other.map(str::to_owned))?.unwrap_or_else(|| admin_groups.clone()),
        };
        let super_admin_groups = group_list("SUPER_ADMIN_GROUPS", get("SUPER_ADMIN_GROUPS"))?.unwrap_or_default();

        let password_secret_prefix = match get("PASSWORD_SECRET_PREFIX") {
            Some(prefix) if prefix.chars().all(is_secret_name_char) && prefix.len() <= 256 => Some(prefix),
            Some(_) => {
                return Err(ConfigError::Invalid {
                    var: "PASSWORD_SECRET_PREFIX",
                    reason: "use only letters, digits and /_+=.@-".into(),
                })
            }
            None => None,
        };

        let cors_allow_origin = match get("CORS_ALLOW_ORIGIN") {
            Some(origin) if origin.chars().all(|c| c.is_ascii_graphic()) => Some(origin),
            Some(_) => {
                return Err(ConfigError::Invalid {
                    var: "CORS_ALLOW_ORIGIN",
                    reason: "must be a single origin such as https://admin.example.com".into(),
                })
            }
            None => None,
        };

        let metrics_namespace = get("METRICS_NAMESPACE").unwrap_or_else(|| "AdminSetPassword".into());
        if metrics_namespace.len() > 255 || metrics_namespace.starts_with(':') {
            return Err(ConfigError::Invalid {
                var: "METRICS_NAMESPACE",
                reason: "must be 1-255 characters and not start with ':'".into(),
            });
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
                    .ok_or(ConfigError::Invalid {
                        var: "COGNITO_MAX_ATTEMPTS",
                        reason: "must be a whole number from 1 to 10".into(),
                    })?,
            },
            warmup: flag(&get, "COGNITO_WARMUP", false)?,
        };

        Ok(Self {
            expected_issuer: format!("https://cognito-idp.{admin_region}.amazonaws.com/{admin_user_pool_id}"),
            user_pool_id,
            admin_user_pool_id,
            admin_groups,
            protected_groups,
            super_admin_groups,
            allow_federated: flag(&get, "ALLOW_FEDERATED", false)?,
            verify_caller_groups: flag(&get, "VERIFY_CALLER_GROUPS", true)?,
            password_secret_prefix,
            cors_allow_origin,
            upstream,
            metrics_namespace,
        })
    }
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

    const BASE: [(&str, &str); 2] = [
        ("USER_POOL_ID", "eu-west-1_AbC123"),
        ("ADMIN_GROUPS", "admins, helpdesk"),
    ];

    #[test]
    fn minimal_config_gets_secure_defaults() {
        let c = config(&BASE).unwrap();
        assert_eq!(c.admin_user_pool_id, "eu-west-1_AbC123");
        assert_eq!(c.admin_groups.names(), ["admins", "helpdesk"]);
        assert_eq!(
            c.protected_groups, c.admin_groups,
            "protected defaults to the admin groups"
        );
        assert!(c.super_admin_groups.is_empty());
        assert!(c.verify_caller_groups);
        assert!(!c.allow_federated);
        assert_eq!(c.password_secret_prefix, None);
        assert_eq!(
            c.expected_issuer,
            "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC123"
        );
        assert_eq!(c.upstream.operation_timeout, Duration::from_secs(4));
        assert_eq!(c.metrics_namespace, "AdminSetPassword");
        assert!(!c.upstream.warmup, "warm-up is opt-in (docs/performance.md)");
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
            ("VERIFY_CALLER_GROUPS", "yes"),
            ("ALLOW_FEDERATED", "1"),
            ("COGNITO_ATTEMPT_TIMEOUT_MS", "0"),
            ("COGNITO_OPERATION_TIMEOUT_MS", "ten"),
            ("COGNITO_MAX_ATTEMPTS", "11"),
            ("PASSWORD_SECRET_PREFIX", "has space"),
            ("CORS_ALLOW_ORIGIN", "https://a.example, https://b.example"),
        ];
        for (var, value) in cases {
            let mut vars = BASE.to_vec();
            vars.retain(|(k, _)| *k != var);
            vars.push((var, value));
            match config(&vars) {
                Err(ConfigError::Invalid { var: named, .. }) => assert_eq!(named, var, "{var}={value}"),
                other => panic!("{var}={value:?}: expected Invalid, got {other:?}"),
            }
        }
    }

    #[test]
    fn protected_groups_can_be_turned_off_explicitly() {
        let mut vars = BASE.to_vec();
        vars.push(("PROTECTED_GROUPS", "NONE"));
        assert!(config(&vars).unwrap().protected_groups.is_empty());
    }

    #[test]
    fn separate_admin_pool_sets_the_expected_issuer() {
        let mut vars = BASE.to_vec();
        vars.push(("ADMIN_USER_POOL_ID", "us-east-1_Admins9"));
        let c = config(&vars).unwrap();
        assert_eq!(
            c.expected_issuer,
            "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Admins9"
        );
    }

    #[test]
    fn error_messages_name_the_variable() {
        let err = config(&[("USER_POOL_ID", "bad"), ("ADMIN_GROUPS", "a")]).unwrap_err();
        assert!(err.to_string().starts_with("USER_POOL_ID is invalid"), "{err}");
    }
}
