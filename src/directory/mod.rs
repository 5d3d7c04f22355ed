//! The ports to AWS: the few operations the function needs, in domain types, so the decision
//! logic never sees an SDK. Each port's adapter has its own file (`cognito`, `secrets_manager`,
//! `eventbridge`), `sdk_errors` turns their SDK failures into `AppError`s, and `memory` holds
//! the twins the unit tests use.

use std::future::Future;

use crate::change_events::PasswordSetEvent;
use crate::error::AppError;
use crate::password::PasswordPolicy;
use crate::request::Password;

pub mod cognito;
pub mod eventbridge;
#[cfg(test)]
pub mod memory;
mod sdk_errors;
pub mod secrets_manager;

/// Every IAM action the API entry point's code can call: the caller's and the target's
/// look-ups, the set, the reset (a code sent to the user), the sign-out, the policy read, the
/// change event. The template grants
/// exactly these to the API function (`tests/template_iam.rs` holds it to them).
pub const IAM_ACTIONS_API: &[&str] = &[
    "cognito-idp:AdminGetUser",
    "cognito-idp:AdminListGroupsForUser",
    "cognito-idp:AdminResetUserPassword",
    "cognito-idp:AdminSetUserPassword",
    "cognito-idp:AdminUserGlobalSignOut",
    "cognito-idp:DescribeUserPool",
    "events:PutEvents",
];

/// Every IAM action the workflow entry point's code can call: the target's look-ups, the
/// set, the sign-out, the policy read, the password secret (and its KMS key, through Secrets
/// Manager), the change event.
pub const IAM_ACTIONS_WORKFLOW: &[&str] = &[
    "cognito-idp:AdminGetUser",
    "cognito-idp:AdminListGroupsForUser",
    "cognito-idp:AdminSetUserPassword",
    "cognito-idp:AdminUserGlobalSignOut",
    "cognito-idp:DescribeUserPool",
    "secretsmanager:GetSecretValue",
    "kms:Decrypt",
    "events:PutEvents",
];

/// A Cognito user status, as far as the rules care.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UserStatus {
    Confirmed,
    ForceChangePassword,
    /// Signs in through a federated identity provider.
    ExternalProvider,
    Other(String),
}

impl UserStatus {
    /// Cognito's spelling.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Confirmed => "CONFIRMED",
            Self::ForceChangePassword => "FORCE_CHANGE_PASSWORD",
            Self::ExternalProvider => "EXTERNAL_PROVIDER",
            Self::Other(status) => status,
        }
    }

    /// The status Cognito gives a user after `AdminResetUserPassword`.
    pub fn after_reset() -> Self {
        Self::Other("RESET_REQUIRED".to_owned())
    }

    /// The status Cognito gives a user after `AdminSetUserPassword`.
    pub fn after_set(permanent: bool) -> Self {
        if permanent {
            Self::Confirmed
        } else {
            Self::ForceChangePassword
        }
    }
}

/// What `AdminGetUser` tells the rules about a user (the target, or the caller in the admin pool).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRecord {
    /// The username Cognito holds, whatever alias, `sub` or case variant found the user.
    pub username: String,
    pub status: UserStatus,
    pub sub: Option<String>,
    /// `false` once an administrator disabled the user: a disabled admin's token is refused.
    pub enabled: bool,
    /// Whether `email_verified` or `phone_number_verified` is `true`: somewhere Cognito can
    /// send a reset code.
    pub verified_contact: bool,
}

/// The user-pool operations. Errors are already `AppError`s with the table's codes.
pub trait Directory {
    /// The pool's password policy (`DescribeUserPool`).
    fn password_policy(&self, pool_id: &str) -> impl Future<Output = Result<PasswordPolicy, AppError>> + Send;

    /// Group names of `username` in `pool_id` (all pages).
    fn list_groups(&self, pool_id: &str, username: &str) -> impl Future<Output = Result<Vec<String>, AppError>> + Send;

    fn get_user(&self, pool_id: &str, username: &str) -> impl Future<Output = Result<UserRecord, AppError>> + Send;

    /// `Err(AppError::SetOutcomeUnknown)` when the request may have changed the password and
    /// no answer says whether it did; any other error means it did not change.
    fn set_password(
        &self,
        pool_id: &str,
        username: &str,
        password: &Password,
        permanent: bool,
    ) -> impl Future<Output = Result<SetAccepted, AppError>> + Send;

    /// `AdminResetUserPassword`: Cognito sends the user a code and sets them to
    /// `RESET_REQUIRED`.
    fn reset_password(&self, pool_id: &str, username: &str) -> impl Future<Output = Result<(), AppError>> + Send;

    /// Revokes the user's refresh tokens.
    fn global_sign_out(&self, pool_id: &str, username: &str) -> impl Future<Output = Result<(), AppError>> + Send;
}

/// Cognito set the password.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct SetAccepted {
    /// What was odd about its answer (HTTP 200 with a body that could not be read), for the
    /// audit line's `detail`.
    pub oddity: Option<String>,
}

/// Where `passwordSecretId` is resolved.
pub trait SecretStore {
    /// The secret's `SecretString` (the password itself, or JSON with a `password` key), with
    /// the name and ARN Secrets Manager reports for the secret it resolved the id to.
    fn password(&self, secret_id: &str) -> impl Future<Output = Result<StoredSecret, AppError>> + Send;
}

/// A secret as Secrets Manager returned it. A partial ARN resolves to any secret whose name
/// it begins, so only the reported name says which user's secret this is.
#[derive(Debug)]
pub struct StoredSecret {
    pub name: String,
    pub arn: String,
    pub password: Password,
}

/// Where change events go.
pub trait ChangeEvents {
    /// Publishes one event; `Err` carries a detail for the operator's log.
    fn publish(&self, event: &PasswordSetEvent) -> impl Future<Output = Result<(), String>> + Send;
}
