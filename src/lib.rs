//! admin-set-password: an authorised administrator sets a Cognito user's password.
//!
//! `flow` is one invocation from event to answer; `policy` decides, `directory` and
//! `change_events` talk to AWS, `audit`, `metrics` and `response` say what happened.

pub mod audit;
pub mod change_events;
pub mod config;
pub mod directory;
pub mod error;
pub mod event;
pub mod flow;
pub mod groups;
mod json;
pub mod metrics;
pub mod output;
pub mod password;
pub mod policy;
pub mod request;
pub mod response;
pub mod telemetry;
#[cfg(any(test, feature = "test-support"))]
pub mod testing;
pub mod token;
pub mod upstream;

pub use audit::{AuditRecord, Outcome, PasswordSet, AUDIT_EVENT};
pub use config::{Config, ConfigError};
pub use directory::cognito::CognitoDirectory;
pub use directory::secrets_manager::SecretsManagerStore;
pub use directory::{Directory, SecretStore, IAM_ACTIONS_API, IAM_ACTIONS_WORKFLOW};
pub use error::AppError;
pub use flow::{prepare, App, Invocation, Prepared, DEADLINE_MARGIN};
pub use output::Output;

#[cfg(test)]
mod tests;
