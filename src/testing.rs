//! Test scaffolding shared by the unit tests and the integration tests in `tests/`: compiled
//! only for tests or with the `test-support` feature, never into the shipped binary.

use crate::config::Config;

/// The target pool the unit tests and sample events use.
pub const POOL: &str = "us-east-1_Example";
/// The admin app client the test configuration accepts.
pub const CLIENT_ID: &str = "portalclient";

/// The one `Config` builder for tests: a working API + workflow configuration, with `extra`
/// variables layered on top (an empty value unsets a default).
pub fn config(extra: &[(&str, &str)]) -> Config {
    try_config(extra).unwrap_or_else(|err| panic!("test configuration {extra:?}: {err}"))
}

/// Like `config`, for tests of configuration errors.
pub fn try_config(extra: &[(&str, &str)]) -> Result<Config, crate::ConfigError> {
    let mut vars: Vec<(String, String)> = [
        ("USER_POOL_ID", POOL),
        ("ADMIN_GROUPS", "admins,helpdesk"),
        ("ADMIN_CLIENT_IDS", CLIENT_ID),
        ("PASSWORD_SECRET_PREFIX", "onboarding/"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    for (k, v) in extra {
        vars.retain(|(name, _)| name != k);
        vars.push((k.to_string(), v.to_string()));
    }
    Config::from_lookup(|name| vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()))
}
