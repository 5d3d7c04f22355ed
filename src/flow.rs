//! One invocation, top to bottom: prepare (parse the event for the configured entry points
//! and validate the request: pure, no I/O) -> authenticate (API callers: their token, then the
//! authorizer's claims against it; no Cognito call before that) -> the look-ups the policy
//! needs, concurrently -> the policy's decision -> `AdminSetUserPassword` -> the optional
//! sign-out -> the optional `Password Set` event. Each step returns a value; the whole ends in
//! one `Ended`, from which the audit line, the metrics document and the response are each
//! written once, before the Lambda deadline.

use std::sync::{Mutex, OnceLock};
use std::time::{Instant, SystemTime};

use lambda_runtime::Diagnostic;
use serde_json::Value;

use crate::audit::AuditRecord;
use crate::config::Config;
use crate::directory::{ChangeEvents, Directory, SecretStore, UserStatus};
use crate::error::AppError;
use crate::event::{ApiContext, EntryShape};
use crate::output::Output;
use crate::password::PasswordPolicy;
use crate::policy::{self, Actor};
use crate::request::{Command, FunctionHome, PasswordSource};
use crate::token::KeySource;
use outcome::{abandoned_at_deadline, Done, Ended, Progress};
use steps::{lock, Given};

mod outcome;
mod prepare;
mod reset;
mod steps;

pub use prepare::{prepare, Invocation, Prepared, DEADLINE_MARGIN};

/// The function: configuration and the ports, built once at init.
pub struct App<D, S, K, E> {
    pub config: Config,
    directory: D,
    secrets: S,
    keys: K,
    /// Where `Password Set` events go (`EVENT_BUS_NAME`), if anywhere.
    events: Option<E>,
    /// The target pool's password policy, read once and kept for the life of the process.
    pool_policy: OnceLock<PasswordPolicy>,
    output: Output,
}

impl<D, S, K, E> App<D, S, K, E>
where
    D: Directory + Sync,
    S: SecretStore + Sync,
    K: KeySource + Sync,
    E: ChangeEvents + Sync,
{
    pub fn new(config: Config, directory: D, secrets: S, keys: K, events: Option<E>, output: Output) -> Self {
        Self {
            config,
            directory,
            secrets,
            keys,
            events,
            pool_policy: OnceLock::new(),
            output,
        }
    }

    /// Handles one raw event. API shapes always get `Ok(proxy response)`; direct invocations
    /// get `Ok(output)` or `Err(Diagnostic)` with the error code as `errorType`.
    pub async fn handle(&self, raw_event: &str, invocation: &Invocation) -> Result<Value, Diagnostic> {
        let ended = self.invoke(raw_event, invocation).await;
        ended.record.emit(&self.output);
        self.output
            .write_line(&ended.metrics_line(&self.config.metrics_namespace));
        ended.response(self.config.cors_allow_origin.as_deref())
    }

    /// Prepares, then runs the rest until it ends or the deadline comes, whichever is first.
    async fn invoke(&self, raw_event: &str, invocation: &Invocation) -> Ended {
        let started = Instant::now();
        let prepared = prepare(&self.config, raw_event, invocation);
        if let Err(refusal) = policy::require_alias(&self.config, &invocation.function_arn) {
            let (refused, progress) = (Err(refusal.error()), Progress::default());
            let mut ended = Ended::new(prepared.shape, prepared.record, progress, refused, started.elapsed());
            ended.record.detail = Some(refusal.detail());
            return ended;
        }
        let (shape, record) = (prepared.shape, &prepared.record);
        let progress = Mutex::default();
        let home = prepared.home.as_ref();
        let work = self.run(shape, prepared.api, prepared.command, record, home, &progress);
        let (result, abandoned_in) = match tokio::time::timeout(invocation.budget(), work).await {
            Ok(result) => (result, None),
            Err(_) => {
                let progress = lock(&progress);
                (abandoned_at_deadline(&progress, record), Some(progress.phase))
            }
        };
        let progress = progress.into_inner().unwrap_or_else(|poisoned| poisoned.into_inner());
        let mut ended = Ended::new(shape, prepared.record, progress, result, started.elapsed());
        ended.record.phase = abandoned_in;
        ended
    }

    /// Authenticates API callers, then executes. The token is verified before anything else
    /// is said: an unauthenticated caller learns nothing about their request's validity.
    async fn run(
        &self,
        shape: EntryShape,
        api: Option<ApiContext>,
        command: Result<Command, AppError>,
        asked: &AuditRecord,
        home: Option<&FunctionHome>,
        progress: &Mutex<Progress>,
    ) -> Result<Done, AppError> {
        let actor = match (shape.is_api(), api) {
            (false, _) => Actor::Workflow,
            // An API-shaped event that could not be read: nothing to verify.
            (true, None) => {
                return Err(command
                    .err()
                    .unwrap_or_else(|| AppError::invalid("event", "unreadable")))
            }
            (true, Some(api)) => {
                lock(progress).phase = "jwks";
                let token = self.authenticate(&api).await?;
                lock(progress).caller = Some(token.clone());
                policy::claims_agree(&token, api.claims.as_ref())?;
                policy::refuse_non_admin_token(&self.config, &token)?;
                Actor::Admin(token)
            }
        };
        let command = command?;
        policy::refuse_self_reset(&actor, command.username())?;
        let command = match command {
            Command::Set(command) => command,
            Command::Reset(reset) => return self.reset(&actor, reset, asked, progress).await,
        };
        let target = command.username.as_str();
        let generated = matches!(command.password, PasswordSource::Generate);

        let looked = self.look_up(&actor, target, command.password, progress).await;
        let target = looked.target.as_ref().map_or(target, |user| user.username.as_str());
        policy::decide(&self.config, &actor, looked.facts)?;
        let (given, pool_policy) = (looked.password?, looked.pool_policy);
        let from_secret = matches!(given, Given::Secret(_));
        if let Given::Secret(secret) = &given {
            lock(progress).secret_name = Some(secret.name.clone());
        }
        let password = self.password(given, pool_policy.as_ref(), target, home)?;
        lock(progress).phase = "set";
        let accepted = self.set(target, &password, command.permanent, progress).await;
        let accepted = accepted.map_err(|err| match err {
            // Cognito's policy, when the function could not read it: still the one answer.
            AppError::InvalidPassword(reason) if from_secret => AppError::SecretUnusable { detail: reason },
            err => err,
        })?;
        let expires_at = match command.permanent {
            false => pool_policy.map(|p| p.temporary_password_expires_at(SystemTime::now())),
            true => None,
        };
        let sign_out = match command.sign_out {
            true => {
                lock(progress).phase = "sign_out";
                Some(self.sign_out(target, "set").await)
            }
            false => None,
        };
        let signed_out = sign_out.as_ref().map(Result::is_ok);
        lock(progress).phase = "publish";
        lock(progress).sign_out.clone_from(&sign_out);
        let published = self
            .publish(&actor, target, command.reason, generated, signed_out, asked)
            .await;
        let mut done = Done::new(target, UserStatus::after_set(command.permanent), sign_out, published);
        done.success.generated_password = generated.then_some(password);
        done.success.temporary_password_expires_at = expires_at;
        done.oddity = accepted.oddity;
        Ok(done)
    }
}
