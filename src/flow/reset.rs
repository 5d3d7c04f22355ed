//! The reset: the set's rules decide whether the admin may act on the target, `reset_allowed`
//! whether Cognito can send the code, then `AdminResetUserPassword`, the optional sign-out and
//! the optional `Password Reset Requested` event. No password passes through the function.

use std::sync::Mutex;

use super::outcome::{Done, Progress};
use super::App;
use crate::audit::AuditRecord;
use crate::directory::{ChangeEvents, Directory, SecretStore, UserStatus};
use crate::error::AppError;
use crate::policy::{self, Actor};
use crate::request::{PasswordSource, ResetPassword};
use crate::token::KeySource;

impl<D, S, K, E> App<D, S, K, E>
where
    D: Directory + Sync,
    S: SecretStore + Sync,
    K: KeySource + Sync,
    E: ChangeEvents + Sync,
{
    pub(super) async fn reset(
        &self,
        actor: &Actor,
        reset: ResetPassword,
        asked: &AuditRecord,
        progress: &Mutex<Progress>,
    ) -> Result<Done, AppError> {
        let target = reset.username.as_str();
        // `Generate` resolves nothing: no secret is read and no password made for a reset.
        let looked = self.look_up(actor, target, PasswordSource::Generate, progress).await;
        // The user Cognito resolved, as for a set.
        let target = looked.target.as_ref().map_or(target, |user| user.username.as_str());
        policy::decide(&self.config, actor, looked.facts)?;
        policy::reset_allowed(looked.target.as_ref())?;
        self.directory.reset_password(&self.config.user_pool_id, target).await?;
        let sign_out = match reset.sign_out {
            true => Some(self.sign_out(target, "reset").await),
            false => None,
        };
        let signed_out = sign_out.as_ref().map(Result::is_ok);
        let published = self
            .publish(actor, target, reset.reason, false, signed_out, asked)
            .await;
        Ok(Done::new(target, UserStatus::after_reset(), sign_out, published))
    }
}
