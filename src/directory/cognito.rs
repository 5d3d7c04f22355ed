//! The SDK adapters: `Directory` over the Cognito user-pool API and `SecretStore` over
//! Secrets Manager. Only this file touches SDK types or the password's plaintext.

use aws_sdk_cognitoidentityprovider::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_cognitoidentityprovider::operation::admin_get_user::AdminGetUserError;
use aws_sdk_cognitoidentityprovider::operation::admin_list_groups_for_user::AdminListGroupsForUserError;
use aws_sdk_cognitoidentityprovider::operation::admin_set_user_password::AdminSetUserPasswordError;
use aws_sdk_cognitoidentityprovider::operation::admin_user_global_sign_out::AdminUserGlobalSignOutError;
use aws_sdk_cognitoidentityprovider::operation::describe_user_pool::DescribeUserPoolError;
use aws_sdk_cognitoidentityprovider::types::UserStatusType;
use aws_sdk_cognitoidentityprovider::Client as CognitoClient;
use aws_sdk_secretsmanager::operation::get_secret_value::GetSecretValueError;
use aws_sdk_secretsmanager::Client as SecretsClient;
use aws_smithy_runtime_api::http::Response as HttpResponse;
use std::sync::Arc;

use super::{Directory, SecretStore, SetAccepted, UserRecord, UserStatus};
use crate::error::{sanitise_message, AppError, UpstreamKind};
use crate::password::PasswordPolicy;
use crate::request::Password;
use crate::upstream::{map_sdk_error, unmodelled_service_error};

mod sdk_errors;
mod set_outcome;
use sdk_errors::{
    admin_get_user_error, admin_list_groups_for_user_error, admin_user_global_sign_out_error, describe_user_pool_error,
    get_secret_value_error,
};

/// Pages of `AdminListGroupsForUser` read before giving up (60 groups a page).
const MAX_GROUP_PAGES: usize = 10;

/// Cognito through the function's execution role.
#[derive(Debug, Clone)]
pub struct CognitoDirectory {
    client: CognitoClient,
}

impl CognitoDirectory {
    pub fn new(client: CognitoClient) -> Self {
        Self { client }
    }

    /// `DescribeUserPool`: proves the pool id and the role at init, and leaves a warm
    /// TLS connection in the pool for the first request.
    pub async fn describe_pool(&self, pool_id: &str) -> Result<(), AppError> {
        self.password_policy(pool_id).await.map(drop)
    }
}

impl Directory for CognitoDirectory {
    async fn password_policy(&self, pool_id: &str) -> Result<PasswordPolicy, AppError> {
        let output = self
            .client
            .describe_user_pool()
            .user_pool_id(pool_id)
            .send()
            .await
            .map_err(describe_user_pool_error)?;
        let policy = output
            .user_pool()
            .and_then(|pool| pool.policies())
            .and_then(|policies| policies.password_policy());
        // Cognito's defaults for a pool created without a password policy.
        let default = PasswordPolicy::COGNITO_DEFAULT;
        Ok(match policy {
            None => default,
            Some(p) => PasswordPolicy {
                minimum_length: p
                    .minimum_length()
                    .and_then(|n| u32::try_from(n).ok())
                    .unwrap_or(default.minimum_length),
                require_uppercase: p.require_uppercase(),
                require_lowercase: p.require_lowercase(),
                require_numbers: p.require_numbers(),
                require_symbols: p.require_symbols(),
            },
        })
    }

    async fn list_groups(&self, pool_id: &str, username: &str) -> Result<Vec<String>, AppError> {
        let mut groups = Vec::new();
        let mut next_token = None;
        for _ in 0..MAX_GROUP_PAGES {
            let page = self
                .client
                .admin_list_groups_for_user()
                .user_pool_id(pool_id)
                .username(username)
                .limit(60)
                .set_next_token(next_token)
                .send()
                .await
                .map_err(admin_list_groups_for_user_error)?;
            groups.extend(page.groups().iter().filter_map(|g| g.group_name().map(str::to_owned)));
            next_token = page.next_token().map(str::to_owned);
            if next_token.is_none() {
                return Ok(groups);
            }
        }
        Err(AppError::Internal {
            detail: format!("AdminListGroupsForUser: more than {MAX_GROUP_PAGES} pages of groups"),
        })
    }

    async fn get_user(&self, pool_id: &str, username: &str) -> Result<UserRecord, AppError> {
        let user = self
            .client
            .admin_get_user()
            .user_pool_id(pool_id)
            .username(username)
            .send()
            .await
            .map_err(admin_get_user_error)?;
        let status = match user.user_status() {
            Some(UserStatusType::Confirmed) => UserStatus::Confirmed,
            Some(UserStatusType::ForceChangePassword) => UserStatus::ForceChangePassword,
            Some(UserStatusType::ExternalProvider) => UserStatus::ExternalProvider,
            Some(other) => UserStatus::Other(other.as_str().to_owned()),
            None => UserStatus::Other("UNKNOWN".into()),
        };
        let sub = user
            .user_attributes()
            .iter()
            .find(|a| a.name() == "sub")
            .and_then(|a| a.value().map(str::to_owned));
        Ok(UserRecord {
            status,
            sub,
            enabled: user.enabled(),
        })
    }

    async fn set_password(
        &self,
        pool_id: &str,
        username: &str,
        password: &Password,
        permanent: bool,
    ) -> Result<SetAccepted, AppError> {
        let sent = self
            .client
            .admin_set_user_password()
            .user_pool_id(pool_id)
            .username(username)
            .password(password.expose_to_cognito())
            .permanent(permanent)
            .customize()
            .config_override(set_outcome::retry_only_what_changed_nothing())
            .send()
            .await;
        match sent {
            Ok(_) => Ok(SetAccepted::default()),
            Err(err) => set_outcome::after_failed_set(err),
        }
    }

    async fn global_sign_out(&self, pool_id: &str, username: &str) -> Result<(), AppError> {
        self.client
            .admin_user_global_sign_out()
            .user_pool_id(pool_id)
            .username(username)
            .send()
            .await
            .map(drop)
            .map_err(admin_user_global_sign_out_error)
    }
}

/// Secrets Manager through the function's execution role.
#[derive(Clone)]
pub struct SecretsManagerStore {
    client: Arc<std::sync::OnceLock<SecretsClient>>,
    build: Arc<dyn Fn() -> SecretsClient + Send + Sync>,
}

impl std::fmt::Debug for SecretsManagerStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SecretsManagerStore")
            .field("built", &self.client.get().is_some())
            .finish()
    }
}

impl SecretsManagerStore {
    pub fn new(client: SecretsClient) -> Self {
        // An SDK client is an `Arc` inside: the clone is the same client.
        Self::lazy(move || client.clone())
    }

    /// The client is built by `build` when the first `passwordSecretId` arrives. Most cold
    /// starts never read a secret (every API request, workflows with literal passwords), and
    /// building an SDK client is not free: its runtime plugins, and the endpoint partitions
    /// parsed from JSON once per SDK crate (docs/performance.md, "Levers").
    pub fn lazy(build: impl Fn() -> SecretsClient + Send + Sync + 'static) -> Self {
        Self {
            client: Arc::new(std::sync::OnceLock::new()),
            build: Arc::new(build),
        }
    }

    fn client(&self) -> &SecretsClient {
        self.client.get_or_init(|| (self.build)())
    }
}

impl SecretStore for SecretsManagerStore {
    async fn password(&self, secret_id: &str) -> Result<Password, AppError> {
        let output = self
            .client()
            .get_secret_value()
            .secret_id(secret_id)
            .send()
            .await
            .map_err(get_secret_value_error)?;
        let text = output
            .secret_string()
            .ok_or_else(|| AppError::invalid("passwordSecretId", "the secret has no SecretString"))?;
        password_from_secret_string(text.to_owned())
    }
}

/// A secret holds either the bare password or a JSON object with a `password` key
/// (the shape the console's "key/value" editor writes).
fn password_from_secret_string(text: String) -> Result<Password, AppError> {
    let field = "passwordSecretId";
    if !text.trim_start().starts_with('{') {
        return Password::parse(text, field);
    }
    let Ok(serde_json::Value::Object(mut object)) = serde_json::from_str::<serde_json::Value>(&text) else {
        return Err(AppError::invalid(
            field,
            "the secret is neither a password nor a JSON object",
        ));
    };
    // Zero the raw JSON (it holds the password) instead of leaving it to the allocator.
    drop(secrecy::SecretString::from(text));
    match object.remove("password") {
        Some(serde_json::Value::String(password)) => Password::parse(password, field),
        _ => Err(AppError::invalid(
            field,
            "the secret's JSON has no string \"password\" key",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_strings_hold_a_bare_password_or_a_json_password_key() {
        assert!(password_from_secret_string("Bare-Passw0rd".into()).is_ok());
        assert!(password_from_secret_string(r#"{"password":"Json-Passw0rd","note":"x"}"#.into()).is_ok());
        for bad in [r#"{"pass":"x"}"#, r#"{"password":1}"#, "{not json", "short"] {
            let err = password_from_secret_string(bad.into()).unwrap_err();
            assert!(err.to_string().starts_with("passwordSecretId: "), "{bad}: {err}");
        }
    }
}
