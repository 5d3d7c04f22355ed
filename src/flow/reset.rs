//! The reset: the set's rules decide whether the admin may act on the target, `reset_allowed`
//! whether Cognito can send the code, then `AdminResetUserPassword`, the optional sign-out and
//! the optional `Password Reset Requested` event. No password passes through the function.

use std::sync::Mutex;

use super::steps::lock;
use super::{App, Done, Progress};
use crate::audit::AuditRecord;
use crate::directory::{ChangeEvents, Directory, SecretStore, UserStatus};
use crate::error::AppError;
use crate::policy::{self, Actor};
use crate::request::{PasswordSource, ResetPassword};
use crate::response::Success;
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
        lock(progress).phase = "look_up";
        let (facts, _, _) = self.look_up(actor, target, PasswordSource::Generate).await;
        if let Some(Ok(live)) = &facts.caller_groups {
            lock(progress).live_groups = Some(live.clone());
        }
        let target_user = match &facts.target_user {
            Some(Ok(user)) => Some(user.clone()),
            _ => None,
        };
        // The user Cognito resolved, as for a set.
        let target = target_user.as_ref().map_or(target, |user| user.username.as_str());
        lock(progress).target = target_user
            .as_ref()
            .map(|user| (user.username.clone(), user.sub.clone()));
        policy::decide(&self.config, actor, facts)?;
        policy::reset_allowed(target_user.as_ref())?;
        self.directory.reset_password(&self.config.user_pool_id, target).await?;
        let sign_out = match reset.sign_out {
            true => Some(self.sign_out_after_reset(target).await),
            false => None,
        };
        let signed_out = sign_out.as_ref().map(Result::is_ok);
        let published = self
            .publish(actor, target, reset.reason, false, signed_out, asked)
            .await;
        Ok(Done {
            success: Success {
                username: target.to_owned(),
                user_status: UserStatus::after_reset(),
                signed_out,
                generated_password: None,
                temporary_password_expires_at: None,
            },
            oddity: None,
            sign_out_failure: sign_out.and_then(Result::err),
            published,
        })
    }

    /// The sign-out after the code was sent: a failure is reported, as after a set; the code
    /// is on its way and a second reset would only send another.
    async fn sign_out_after_reset(&self, target: &str) -> Result<(), (&'static str, String)> {
        let signed_out = self.directory.global_sign_out(&self.config.user_pool_id, target).await;
        signed_out.map_err(|err| {
            let detail = err.detail().map_or_else(|| err.to_string(), str::to_owned);
            (err.code(), format!("AdminUserGlobalSignOut after the reset: {detail}"))
        })
    }
}
