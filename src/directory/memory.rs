//! In-memory twins of the ports for unit tests of the handler's decisions: a user pool (users
//! with a status, a `sub` and groups; every call recorded; any operation can be made to fail),
//! a secret store and an event bus.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use super::{ChangeEvents, Directory, SecretStore, SetAccepted, StoredSecret, UserRecord, UserStatus};
use crate::change_events::PasswordSetEvent;
use crate::error::AppError;
use crate::password::PasswordPolicy;
use crate::request::Password;

impl Default for MemoryDirectory {
    fn default() -> Self {
        Self {
            users: Mutex::default(),
            calls: Mutex::default(),
            failures: Mutex::default(),
            hanging: Mutex::default(),
            policy: Mutex::new(PasswordPolicy {
                minimum_length: 10,
                ..PasswordPolicy::COGNITO_DEFAULT
            }),
        }
    }
}

#[derive(Debug, Clone)]
pub struct MemoryUser {
    pub status: UserStatus,
    pub sub: String,
    pub groups: Vec<String>,
    pub password: Option<String>,
    pub enabled: bool,
    pub verified_contact: bool,
}

/// Builds the error an injected failure returns.
pub type Failure = fn() -> AppError;

pub struct MemoryDirectory {
    users: Mutex<HashMap<(String, String), MemoryUser>>,
    calls: Mutex<Vec<String>>,
    failures: Mutex<HashMap<&'static str, Failure>>,
    hanging: Mutex<Vec<&'static str>>,
    policy: Mutex<PasswordPolicy>,
}

impl MemoryDirectory {
    pub fn with_user(self, pool: &str, username: &str, status: UserStatus, groups: &[&str]) -> Self {
        let user = MemoryUser {
            status,
            sub: format!("sub-{username}"),
            groups: groups.iter().map(|g| g.to_string()).collect(),
            password: None,
            enabled: true,
            verified_contact: true,
        };
        self.users.lock().unwrap().insert((pool.into(), username.into()), user);
        self
    }

    /// Makes every call of `operation` (e.g. "AdminSetUserPassword") fail with `err()`.
    pub fn failing(self, operation: &'static str, err: Failure) -> Self {
        self.failures.lock().unwrap().insert(operation, err);
        self
    }

    /// Sets the pool's password policy (default: length 10, every class).
    pub fn with_policy(self, policy: PasswordPolicy) -> Self {
        *self.policy.lock().unwrap() = policy;
        self
    }

    /// Makes every call of `operation` hang forever (a Cognito that never answers).
    pub fn hanging(self, operation: &'static str) -> Self {
        self.hanging.lock().unwrap().push(operation);
        self
    }

    /// Changes a user's `sub`.
    pub fn with_sub(self, pool: &str, username: &str, sub: &str) -> Self {
        if let Some(user) = self.users.lock().unwrap().get_mut(&(pool.into(), username.into())) {
            user.sub = sub.into();
        }
        self
    }

    /// Disables a user (AdminDisableUser).
    pub fn disabled(self, pool: &str, username: &str) -> Self {
        if let Some(user) = self.users.lock().unwrap().get_mut(&(pool.into(), username.into())) {
            user.enabled = false;
        }
        self
    }

    /// Takes away a user's verified email and phone (nowhere to send a reset code).
    pub fn unverified(self, pool: &str, username: &str) -> Self {
        if let Some(user) = self.users.lock().unwrap().get_mut(&(pool.into(), username.into())) {
            user.verified_contact = false;
        }
        self
    }

    pub fn calls(&self) -> Vec<String> {
        self.calls.lock().unwrap().clone()
    }

    pub fn user(&self, pool: &str, username: &str) -> Option<MemoryUser> {
        self.users.lock().unwrap().get(&(pool.into(), username.into())).cloned()
    }

    async fn call(&self, operation: &'static str, pool: &str, username: &str) -> Result<MemoryUser, AppError> {
        self.calls.lock().unwrap().push(format!("{operation} {username}"));
        if self.hanging.lock().unwrap().contains(&operation) {
            std::future::pending::<()>().await;
        }
        if let Some(err) = self.failures.lock().unwrap().get(operation) {
            return Err(err());
        }
        self.user(pool, username).ok_or(AppError::UserNotFound)
    }
}

impl Directory for MemoryDirectory {
    async fn password_policy(&self, pool_id: &str) -> Result<PasswordPolicy, AppError> {
        self.calls.lock().unwrap().push(format!("DescribeUserPool {pool_id}"));
        if let Some(err) = self.failures.lock().unwrap().get("DescribeUserPool") {
            return Err(err());
        }
        Ok(*self.policy.lock().unwrap())
    }

    async fn list_groups(&self, pool_id: &str, username: &str) -> Result<Vec<String>, AppError> {
        self.call("AdminListGroupsForUser", pool_id, username)
            .await
            .map(|u| u.groups)
    }

    async fn get_user(&self, pool_id: &str, username: &str) -> Result<UserRecord, AppError> {
        self.call("AdminGetUser", pool_id, username).await.map(|u| UserRecord {
            username: username.to_owned(),
            status: u.status,
            sub: Some(u.sub),
            enabled: u.enabled,
            verified_contact: u.verified_contact,
        })
    }

    async fn set_password(
        &self,
        pool_id: &str,
        username: &str,
        password: &Password,
        permanent: bool,
    ) -> Result<SetAccepted, AppError> {
        self.call("AdminSetUserPassword", pool_id, username).await?;
        let mut users = self.users.lock().unwrap();
        let user = users
            .get_mut(&(pool_id.into(), username.into()))
            .expect("checked above");
        user.password = Some(password.expose_to_cognito().to_owned());
        user.status = UserStatus::after_set(permanent);
        Ok(SetAccepted::default())
    }

    /// Refuses as Cognito does: only a confirmed user with a verified contact.
    async fn reset_password(&self, pool_id: &str, username: &str) -> Result<(), AppError> {
        let user = self.call("AdminResetUserPassword", pool_id, username).await?;
        if user.status != UserStatus::Confirmed {
            return Err(AppError::reset_not_allowed(None));
        }
        if !user.verified_contact {
            return Err(AppError::NoVerifiedContact);
        }
        let mut users = self.users.lock().unwrap();
        let user = users
            .get_mut(&(pool_id.into(), username.into()))
            .expect("checked above");
        user.status = UserStatus::after_reset();
        Ok(())
    }

    async fn global_sign_out(&self, pool_id: &str, username: &str) -> Result<(), AppError> {
        self.call("AdminUserGlobalSignOut", pool_id, username).await.map(drop)
    }
}

/// Secrets by name, in account 123456789012, region us-east-1; an id is a name or an ARN
/// whose name part the name begins (as Secrets Manager resolves a partial ARN). Unusable
/// secrets answer as the real adapter does (no oracle, reason in `detail`).
#[derive(Default)]
pub struct MemorySecrets(pub HashMap<String, String>);

impl SecretStore for MemorySecrets {
    async fn password(&self, secret_id: &str) -> Result<StoredSecret, AppError> {
        let arn = |name: &str| format!("arn:aws:secretsmanager:us-east-1:123456789012:secret:{name}-AbCdEf");
        let found = self.0.iter().find(|(name, _)| {
            *name == secret_id || arn(name) == secret_id || arn(name).starts_with(&format!("{secret_id}-"))
        });
        let unusable = |detail: String| AppError::SecretUnusable { detail };
        match found {
            Some((name, value)) => Ok(StoredSecret {
                name: name.clone(),
                arn: arn(name),
                password: Password::parse(value.clone(), "passwordSecretId").map_err(|e| unusable(e.to_string()))?,
            }),
            None => Err(unusable(format!(
                "GetSecretValue: ResourceNotFoundException ({secret_id})"
            ))),
        }
    }
}

/// The in-memory twin for handler tests: records what was published, or fails every publish.
#[derive(Debug, Default)]
pub struct MemoryChangeEvents {
    pub published: Mutex<Vec<PasswordSetEvent>>,
    pub fail_with: Option<String>,
}

impl<T: ChangeEvents + Sync + Send> ChangeEvents for Arc<T> {
    async fn publish(&self, event: &PasswordSetEvent) -> Result<(), String> {
        T::publish(self, event).await
    }
}

impl ChangeEvents for MemoryChangeEvents {
    async fn publish(&self, event: &PasswordSetEvent) -> Result<(), String> {
        if let Some(detail) = &self.fail_with {
            return Err(detail.clone());
        }
        self.published.lock().unwrap().push(event.clone());
        Ok(())
    }
}
