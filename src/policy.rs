//! The authorisation policy in one room, as plain functions over plain data. It answers two
//! questions: which Cognito look-ups does this request need (`lookups`), and given their
//! results, may it go ahead (`decide`). `decide` owns every rule, the order they apply in
//! ("settle the caller before saying anything about the target") and the remaps ("caller not
//! found" is `Forbidden`, not `UserNotFound`). The handler only runs I/O between the two.

use crate::config::Config;
use crate::directory::{UserRecord, UserStatus};
use crate::error::AppError;
use crate::event::AuthorizerClaims;
use crate::groups::same_groups;
use crate::request::Username;
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
    /// The target's groups (`PROTECTED_GROUPS`).
    pub target_groups: bool,
    /// The target's status and `sub`.
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
    Lookups {
        caller_groups: admin,
        caller_user: admin,
        target_groups: !config.protected_groups.is_empty(),
        target_user: admin || !config.allow_federated || config.workflow.target_statuses.is_some(),
    }
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
    if !config.admin_groups.intersects(&groups) && !config.super_admin_groups.intersects(&groups) {
        return Err(AppError::Forbidden(
            "the caller is not a member of an authorised admin group".into(),
        ));
    }
    Ok(groups)
}

#[cfg(test)]
mod tests;
