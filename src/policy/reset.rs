//! What a reset needs beyond the set's rules: Cognito can only send a code to a confirmed,
//! enabled user with somewhere to send it. Decided from the target's `AdminGetUser` before
//! the call, so the answer names the cause and no half-made request reaches Cognito.

use crate::directory::{UserRecord, UserStatus};
use crate::error::AppError;

/// May Cognito send `target` a reset code? `None` (the look-up was not made) refuses.
pub fn reset_allowed(target: Option<&UserRecord>) -> Result<(), AppError> {
    let target = target.ok_or_else(|| AppError::Forbidden("the target's status could not be checked".into()))?;
    let resettable = target.status == UserStatus::Confirmed || target.status == UserStatus::after_reset();
    if !resettable {
        return Err(AppError::reset_not_allowed(Some(target.status.as_str())));
    }
    if !target.enabled {
        return Err(AppError::reset_not_allowed(Some("disabled")));
    }
    if !target.verified_contact {
        return Err(AppError::NoVerifiedContact);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(status: UserStatus, enabled: bool, verified_contact: bool) -> UserRecord {
        UserRecord {
            username: "bob".into(),
            status,
            sub: Some("sub-bob".into()),
            enabled,
            verified_contact,
        }
    }

    #[test]
    fn only_a_confirmed_enabled_user_with_a_verified_contact_is_sent_a_code() {
        let other = |s: &str| UserStatus::Other(s.into());
        let cases = [
            (user(UserStatus::Confirmed, true, true), Ok(())),
            (user(UserStatus::after_reset(), true, true), Ok(())),
            (user(UserStatus::Confirmed, true, false), Err("NoVerifiedContact")),
            (user(UserStatus::Confirmed, false, true), Err("InvalidUserState")),
            (
                user(UserStatus::ForceChangePassword, true, true),
                Err("InvalidUserState"),
            ),
            (user(other("UNCONFIRMED"), true, true), Err("InvalidUserState")),
            (user(UserStatus::ExternalProvider, true, true), Err("InvalidUserState")),
            // The status decides first: no verified contact does not hide it.
            (
                user(UserStatus::ForceChangePassword, true, false),
                Err("InvalidUserState"),
            ),
        ];
        for (target, expected) in cases {
            let answer = reset_allowed(Some(&target)).map_err(|e| e.code());
            assert_eq!(answer, expected, "{target:?}");
        }
        let err = reset_allowed(Some(&user(UserStatus::ForceChangePassword, true, true))).unwrap_err();
        assert_eq!(err.status(), 409);
        assert!(err.to_string().contains("FORCE_CHANGE_PASSWORD"), "{err}");
        assert!(err.to_string().contains("set a temporary password instead"), "{err}");
        assert_eq!(reset_allowed(None).map_err(|e| e.code()), Err("Forbidden"));
    }
}
