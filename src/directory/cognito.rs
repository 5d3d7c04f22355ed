//! `Directory` over the Cognito user-pool API, in the domain's types: the decisions never see
//! the SDK's.

use aws_sdk_cognitoidentityprovider::types::UserStatusType;
use aws_sdk_cognitoidentityprovider::Client as CognitoClient;

use super::sdk_errors::{
    admin_get_user_error, admin_list_groups_for_user_error, admin_reset_user_password_error,
    admin_user_global_sign_out_error, describe_user_pool_error,
};
use super::{Directory, SetAccepted, UserRecord, UserStatus};
use crate::error::AppError;
use crate::password::PasswordPolicy;
use crate::request::Password;

mod set_outcome;

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
                temporary_password_validity_days: u32::try_from(p.temporary_password_validity_days())
                    .ok()
                    .filter(|days| *days > 0)
                    .unwrap_or(default.temporary_password_validity_days),
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
        let attribute = |name: &str| {
            user.user_attributes()
                .iter()
                .find(|a| a.name() == name)
                .and_then(|a| a.value())
        };
        let verified = |name: &str| attribute(name) == Some("true");
        Ok(UserRecord {
            username: user.username().to_owned(),
            status,
            sub: attribute("sub").map(str::to_owned),
            enabled: user.enabled(),
            verified_contact: verified("email_verified") || verified("phone_number_verified"),
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

    async fn reset_password(&self, pool_id: &str, username: &str) -> Result<(), AppError> {
        self.client
            .admin_reset_user_password()
            .user_pool_id(pool_id)
            .username(username)
            .send()
            .await
            .map(drop)
            .map_err(admin_reset_user_password_error)
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
