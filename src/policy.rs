//! The authorisation policy in one room, as plain functions over plain data. It answers two
//! questions: which Cognito look-ups does this request need (`lookups`), and given their
//! results, may it go ahead (`decide`). `decide` owns every rule, the order they apply in
//! ("settle the caller before saying anything about the target") and the remaps ("caller not
//! found" is `Forbidden`, not `UserNotFound`). The handler only runs I/O between the two.
//! The rules that need no look-up (`require_alias`, `claims_agree`, `refuse_non_admin_token`,
//! `refuse_self_reset`) run before it, so a request they refuse costs no Cognito call.

use crate::config::Config;
use crate::directory::{UserRecord, UserStatus};
use crate::error::AppError;
use crate::event::AuthorizerClaims;
use crate::groups::same_groups;
use crate::request::{FunctionHome, Invoked, Username};
use crate::token::{TokenUse, VerifiedToken};

/// Who is asking.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    /// An API caller whose token the function verified.
    Admin(VerifiedToken),
    /// A direct invocation: IAM decided who may invoke; the policy restricts what it may do.
    Workflow,
}

/// The Cognito look-ups a request needs; they run concurrently, in one round.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lookups {
    /// The caller's live groups in the admin pool.
    pub caller_groups: bool,
    /// The caller's live user (exists, enabled, same `sub` as the token).
    pub caller_user: bool,
    /// The target's groups (`PROTECTED_GROUPS`, and `WORKFLOW_TARGET_GROUP` for a workflow).
    pub target_groups: bool,
    /// The target's username, status and `sub`.
    pub target_user: bool,
}

/// What the look-ups returned; `None` where a look-up was not needed.
#[derive(Debug, Default)]
pub struct Facts {
    pub caller_groups: Option<Result<Vec<String>, AppError>>,
    pub caller_user: Option<Result<UserRecord, AppError>>,
    pub target_groups: Option<Result<Vec<String>, AppError>>,
    pub target_user: Option<Result<UserRecord, AppError>>,
}

/// The look-ups `decide` will need for this actor under the enabled rules.
pub fn lookups(config: &Config, actor: &Actor) -> Lookups {
    let admin = matches!(actor, Actor::Admin(_));
    let onboarding_marker = !admin && config.workflow.target_group.is_some();
    Lookups {
        caller_groups: admin,
        caller_user: admin,
        target_groups: !config.protected_groups.is_empty() || onboarding_marker,
        // Always: the set, the sign-out, the blocklist and the audit line use the username
        // Cognito resolved (the request may name an alias, a `sub` or a case variant).
        target_user: true,
    }
}

/// An invocation that did not come through the deployed alias (`REQUIRED_ALIAS`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotTheAlias {
    pub invoked: Invoked,
}

impl NotTheAlias {
    /// What the caller is told (403, `errorType` `Forbidden`).
    pub fn error(&self) -> AppError {
        AppError::Forbidden("this function answers only through its deployed alias (REQUIRED_ALIAS)".into())
    }

    /// For the audit line's `detail`: the qualifier the invocation used.
    pub fn detail(&self) -> String {
        format!("invoked qualifier: {}", self.invoked.describe())
    }
}

/// Only the deployed alias answers: a numbered version or `$LATEST` runs with the settings it
/// was published with, and no resource policy need cover it. Without `REQUIRED_ALIAS` (local
/// runs), any ARN will do.
pub fn require_alias(config: &Config, invoked_function_arn: &str) -> Result<(), NotTheAlias> {
    let Some(alias) = &config.required_alias else {
        return Ok(());
    };
    match Invoked::from_function_arn(invoked_function_arn) {
        Invoked::Qualified(qualifier) if qualifier == *alias => Ok(()),
        invoked => Err(NotTheAlias { invoked }),
    }
}

/// A secret is the target's only by the name Secrets Manager reports for it: the id given
/// passed the same rule, but a partial ARN (`...:secret:onboarding/john-smith1` for `john`)
/// resolves to another secret whose name it merely begins. Its ARN must be in the function's
/// own account and region. `Err` is the reason, for the audit line's `detail` only.
pub fn secret_bound(
    config: &Config,
    target: &str,
    home: Option<&FunctionHome>,
    name: &str,
    arn: &str,
) -> Result<(), String> {
    let prefix = config.password_secret_prefix.as_deref().unwrap_or_default();
    let named = match config.workflow.secret_per_user {
        true => name == format!("{prefix}{target}"),
        false => !prefix.is_empty() && name.starts_with(prefix),
    };
    if !named {
        return Err(format!(
            "the secret Secrets Manager resolved is {name}, not the target's"
        ));
    }
    let parts: Vec<&str> = arn.splitn(7, ':').collect();
    match (parts.as_slice(), home) {
        (["arn", _, "secretsmanager", region, account, "secret", _], Some(home))
            if *region == home.region && *account == home.account =>
        {
            Ok(())
        }
        // No invoked ARN to compare with (off Lambda, e.g. `cargo lambda watch`): the request
        // named the secret by name (`request` refuses an ARN then), which Secrets Manager
        // resolves in the function's own account and region.
        (["arn", _, "secretsmanager", _, _, "secret", _], None) => Ok(()),
        _ => Err(format!(
            "the secret's ARN {arn} is not in this function's account and region"
        )),
    }
}

/// A token whose groups claim holds no admin group is refused before any look-up, so a pool
/// user who merely signs in costs no Cognito call. The claim can only open the door to the
/// live check (`decide`), never replace it: groups removed since the token was issued still
/// refuse there.
pub fn refuse_non_admin_token(config: &Config, token: &VerifiedToken) -> Result<(), AppError> {
    if is_admin(config, &token.groups) {
        Ok(())
    } else {
        Err(not_an_admin())
    }
}

fn is_admin(config: &Config, groups: &[String]) -> bool {
    config.admin_groups.intersects(groups) || config.super_admin_groups.intersects(groups)
}

fn not_an_admin() -> AppError {
    AppError::Forbidden("the caller is not a member of an authorised admin group".into())
}

/// The authorizer's claims must be present and say what the verified token says: a
/// mismatch means the event was not built by API Gateway from this token.
pub fn claims_agree(token: &VerifiedToken, claims: Option<&AuthorizerClaims>) -> Result<(), AppError> {
    let disagree = |what: &str| AppError::Forbidden(format!("the authorizer's claims do not match the token ({what})"));
    let claims = claims.ok_or_else(|| AppError::Forbidden("the event has no authorizer claims".into()))?;
    if claims.issuer.as_deref() != Some(token.issuer.as_str()) {
        return Err(disagree("iss"));
    }
    if claims.sub.as_deref() != Some(token.sub.as_str()) {
        return Err(disagree("sub"));
    }
    let name = match token.token_use {
        TokenUse::Id => &claims.cognito_username,
        TokenUse::Access => &claims.username,
    };
    if name.as_deref() != Some(token.username.as_str()) {
        return Err(disagree("username"));
    }
    match &claims.groups {
        Ok(groups) if same_groups(groups, &token.groups) => Ok(()),
        _ => Err(disagree("groups")),
    }
}

/// Users change their own password with ChangePassword, which proves they know the old one.
/// Usernames compare case-insensitively because pools are case-insensitive by default: this
/// refuses more, never less. `decide` also compares `sub`s, which catches aliases.
pub fn refuse_self_reset(actor: &Actor, target: &Username) -> Result<(), AppError> {
    match actor {
        Actor::Admin(token) if token.username.to_lowercase() == target.as_str().to_lowercase() => Err(self_reset()),
        _ => Ok(()),
    }
}

fn self_reset() -> AppError {
    AppError::Forbidden("callers may not set their own password here; use ChangePassword".into())
}

/// The decision over the look-ups' results. A fact a rule needs but lacks refuses (fail closed).
pub fn decide(config: &Config, actor: &Actor, facts: Facts) -> Result<(), AppError> {
    let caller_groups = match actor {
        Actor::Admin(token) => Some(settle_caller(config, token, facts.caller_user, facts.caller_groups)?),
        Actor::Workflow => None,
    };
    let target_user = facts.target_user.transpose()?;
    let target_groups = facts.target_groups.transpose()?;

    if let (Actor::Admin(token), Some(target)) = (actor, &target_user) {
        if target.sub.as_deref() == Some(token.sub.as_str()) {
            return Err(self_reset());
        }
    }

    let super_admin = caller_groups
        .as_deref()
        .is_some_and(|groups| config.super_admin_groups.intersects(groups));
    if !config.protected_groups.is_empty() && !super_admin {
        let Some(target_groups) = target_groups.as_deref() else {
            return Err(AppError::Forbidden("the target's groups could not be checked".into()));
        };
        if let Some(group) = config.protected_groups.matching(target_groups).next() {
            return Err(AppError::Forbidden(format!(
                "the target is a member of the protected group {group}; only a member of SUPER_ADMIN_GROUPS may set its password"
            )));
        }
    }

    let needs_status =
        !config.allow_federated || (matches!(actor, Actor::Workflow) && config.workflow.target_statuses.is_some());
    let status = match (&target_user, needs_status) {
        (Some(user), _) => Some(&user.status),
        (None, true) => return Err(AppError::Forbidden("the target's status could not be checked".into())),
        (None, false) => None,
    };
    if !config.allow_federated && status == Some(&UserStatus::ExternalProvider) {
        return Err(AppError::FederatedUser);
    }
    if let (Actor::Workflow, Some(allowed), Some(status)) = (actor, &config.workflow.target_statuses, status) {
        if !allowed.iter().any(|s| s == status.as_str()) {
            return Err(AppError::Forbidden(format!(
                "workflows may only set the password of users in status {} (WORKFLOW_TARGET_STATUSES)",
                allowed.join(", ")
            )));
        }
    }
    // The status alone cannot tell a new user from one an admin reset through the API; the
    // group can, because only provisioning adds to it.
    if let (Actor::Workflow, Some(marker)) = (actor, &config.workflow.target_group) {
        let Some(target_groups) = target_groups.as_deref() else {
            return Err(AppError::Forbidden("the target's groups could not be checked".into()));
        };
        if !target_groups.iter().any(|g| g == marker) {
            return Err(AppError::Forbidden(format!(
                "the target is not marked for onboarding: workflows may only set the password of members of {marker} (WORKFLOW_TARGET_GROUP)"
            )));
        }
    }
    Ok(())
}

/// The caller must still exist in the admin pool as the token's user (same `sub`: a user
/// deleted and re-created under the same name is someone else), be enabled, and be a live
/// member of an admin group. Errors about the caller never reveal anything about the target,
/// and Cognito's answers about the caller's identity become `Forbidden`.
fn settle_caller(
    config: &Config,
    token: &VerifiedToken,
    user: Option<Result<UserRecord, AppError>>,
    groups: Option<Result<Vec<String>, AppError>>,
) -> Result<Vec<String>, AppError> {
    let not_a_user = || AppError::Forbidden("the caller is not a user of the admin user pool".into());
    let about_caller = |err: AppError| match err {
        AppError::UserNotFound | AppError::InvalidParameter(_) => not_a_user(),
        other => other,
    };
    let user = user
        .ok_or_else(|| AppError::Forbidden("the caller could not be checked".into()))?
        .map_err(about_caller)?;
    let groups = groups
        .ok_or_else(|| AppError::Forbidden("the caller's groups could not be checked".into()))?
        .map_err(about_caller)?;
    if user.sub.as_deref() != Some(token.sub.as_str()) {
        return Err(AppError::Forbidden(
            "the token's user no longer exists (the name now belongs to another user)".into(),
        ));
    }
    if !user.enabled {
        return Err(AppError::Forbidden("the caller's account is disabled".into()));
    }
    if !is_admin(config, &groups) {
        return Err(not_an_admin());
    }
    Ok(groups)
}

mod reset;
pub use reset::reset_allowed;

#[cfg(test)]
mod tests;
