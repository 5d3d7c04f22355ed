//! Request validation: untrusted JSON fields in, a typed `SetPassword` out. The password is
//! wrapped in a `SecretString` the moment it is accepted, and no message here ever quotes a
//! field's value.

use secrecy::{ExposeSecret, SecretString};
use serde_json::{Map, Value};

use crate::config::Config;
use crate::error::AppError;
use crate::password::Reason;

/// Largest request body accepted, in bytes after base64 decoding.
pub const MAX_BODY_BYTES: usize = 4 * 1024;

/// A username Cognito could hold: 1-128 characters, none of them control, whitespace or
/// invisible format characters, and no path separators (it arrives in a URL path).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Username(String);

impl Username {
    pub fn parse(raw: &str) -> Result<Self, AppError> {
        let field = "username";
        let len = raw.chars().count();
        if len == 0 {
            return Err(AppError::invalid(field, "must not be empty"));
        }
        if len > 128 {
            return Err(AppError::invalid(field, "must be at most 128 characters"));
        }
        if raw
            .chars()
            .any(|c| c.is_control() || c.is_whitespace() || is_invisible(c))
        {
            return Err(AppError::invalid(
                field,
                "must not contain whitespace, control or invisible characters",
            ));
        }
        if raw.contains(['/', '\\']) || raw == "." || raw == ".." {
            return Err(AppError::invalid(
                field,
                "must not contain path separators or be a dot segment",
            ));
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Zero-width and direction-control characters (Unicode category Cf that matter in practice):
/// they make two different usernames look the same.
fn is_invisible(c: char) -> bool {
    matches!(c, '\u{00AD}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2064}' | '\u{FEFF}')
}

/// A password that passed the local checks. Its `Debug` is redacted and it is zeroed on drop;
/// only the Cognito adapter reads it.
#[derive(Debug)]
pub struct Password(SecretString);

impl Password {
    /// Checks Cognito's own limits (6-256 characters, no whitespace at either end, no control
    /// characters) so a bad value never costs a Cognito call. The pool's policy is Cognito's job.
    pub fn parse(raw: String, field: &str) -> Result<Self, AppError> {
        let secret = SecretString::from(raw);
        let value = secret.expose_secret();
        let len = value.chars().count();
        if !(6..=256).contains(&len) {
            return Err(AppError::invalid(field, "must be 6 to 256 characters"));
        }
        if value.starts_with(char::is_whitespace) || value.ends_with(char::is_whitespace) {
            return Err(AppError::invalid(field, "must not start or end with whitespace"));
        }
        if value.chars().any(char::is_control) {
            return Err(AppError::invalid(field, "must not contain control characters"));
        }
        Ok(Self(secret))
    }

    /// The plaintext, for the one call that sends it to Cognito.
    pub(crate) fn expose_to_cognito(&self) -> &str {
        self.0.expose_secret()
    }

    /// A generated password that passed the function's own check.
    pub(crate) fn generated(secret: SecretString) -> Self {
        Self(secret)
    }

    /// The plaintext of a generated password, for the one response that returns it.
    pub(crate) fn expose_to_caller(&self) -> &str {
        self.0.expose_secret()
    }
}

/// Where the new password comes from.
#[derive(Debug)]
pub enum PasswordSource {
    Literal(Password),
    /// The function generates a temporary one that meets the pool's policy (API only: it is
    /// returned once, and must never land in Step Functions history).
    Generate,
    /// A Secrets Manager secret (name or ARN) holding it, so Step Functions history never does.
    SecretRef(String),
}

/// The validated command.
#[derive(Debug)]
pub struct SetPassword {
    pub username: Username,
    pub password: PasswordSource,
    pub permanent: bool,
    pub sign_out: bool,
    /// Why the admin did it (a ticket number, typically), for the audit line and the event.
    pub reason: Option<Reason>,
}

/// The validated reset: Cognito sends the user a code; nobody else learns a password.
#[derive(Debug)]
pub struct ResetPassword {
    pub username: Username,
    pub sign_out: bool,
    pub reason: Option<Reason>,
}

/// What a request asks for.
#[derive(Debug)]
pub enum Command {
    Set(SetPassword),
    Reset(ResetPassword),
}

impl Command {
    pub fn username(&self) -> &Username {
        match self {
            Self::Set(set) => &set.username,
            Self::Reset(reset) => &reset.username,
        }
    }
}

/// Who asked, as a direct invocation reports it (for the audit trail only; IAM authorised it).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IamContext {
    pub requested_by: Option<String>,
    pub correlation_id: Option<String>,
}

const API_FIELDS: &[&str] = &["password", "generate", "permanent", "signOut", "reason"];
const RESET_FIELDS: &[&str] = &["signOut", "reason"];
const DIRECT_FIELDS: &[&str] = &[
    "username",
    "password",
    "passwordSecretId",
    "permanent",
    "signOut",
    "requestedBy",
    "correlationId",
    "reason",
];

/// Validates an API body (already decoded and parsed) for the user named in the path.
pub fn parse_api_body(
    config: &Config,
    path_username: Option<&str>,
    body: &Map<String, Value>,
) -> Result<SetPassword, AppError> {
    reject_unknown_fields(body, API_FIELDS, "body")?;
    let username =
        Username::parse(path_username.ok_or_else(|| AppError::invalid("username", "missing from the path"))?)?;
    let permanent = bool_field(body, "permanent")?;
    let generate = bool_field(body, "generate")?;
    let password = match (body.get("password"), generate) {
        (Some(_), true) => {
            return Err(AppError::invalid(
                "password",
                "give password or \"generate\": true, not both",
            ))
        }
        (None, true) if permanent => {
            return Err(AppError::invalid(
                "generate",
                "generated passwords are temporary; permanent must be false",
            ))
        }
        (None, true) => PasswordSource::Generate,
        (None, false) => {
            return Err(AppError::invalid(
                "password",
                "is required (or \"generate\": true for a temporary password)",
            ))
        }
        (Some(value), false) => PasswordSource::Literal(Password::parse(string_field(value, "password")?, "password")?),
    };
    Ok(SetPassword {
        username,
        password,
        permanent,
        sign_out: bool_field(body, "signOut")?,
        reason: reason_field(config, body)?,
    })
}

/// The reset's body (`{}` when the request had none): only `signOut` and `reason`.
pub fn parse_reset_body(
    config: &Config,
    path_username: Option<&str>,
    body: &Map<String, Value>,
) -> Result<ResetPassword, AppError> {
    reject_unknown_fields(body, RESET_FIELDS, "body")?;
    let username =
        Username::parse(path_username.ok_or_else(|| AppError::invalid("username", "missing from the path"))?)?;
    Ok(ResetPassword {
        username,
        sign_out: bool_field(body, "signOut")?,
        reason: reason_field(config, body)?,
    })
}

/// `reason`: 1-200 printable characters; required with `REQUIRE_REASON`.
fn reason_field(config: &Config, object: &Map<String, Value>) -> Result<Option<Reason>, AppError> {
    match object.get("reason") {
        None if config.require_reason => Err(AppError::invalid(
            "reason",
            "is required on this function (REQUIRE_REASON), e.g. a ticket number",
        )),
        None => Ok(None),
        Some(Value::String(raw)) => Reason::parse(raw)
            .map(Some)
            .map_err(|err| AppError::invalid("reason", err)),
        Some(_) => Err(AppError::invalid("reason", "must be a string")),
    }
}

/// Where this function runs, from its invoked ARN: a secret ARN must name the same account
/// and region, so a workflow cannot point the function's role at another account's secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunctionHome {
    pub region: String,
    pub account: String,
}

impl FunctionHome {
    /// From `arn:<partition>:lambda:<region>:<account>:function:<name>[:<qualifier>]`.
    pub fn from_function_arn(arn: &str) -> Option<Self> {
        let mut parts = arn.split(':');
        let (Some("arn"), Some(_), Some("lambda"), Some(region), Some(account)) =
            (parts.next(), parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return None;
        };
        (!region.is_empty() && account.len() == 12 && account.chars().all(|c| c.is_ascii_digit())).then(|| Self {
            region: region.to_owned(),
            account: account.to_owned(),
        })
    }
}

/// Which version of the function an invocation reached, from the qualifier of its invoked ARN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Invoked {
    /// `...:function:<name>`: Lambda runs `$LATEST`.
    Unqualified,
    /// `...:function:<name>:<qualifier>`: an alias, a version number or `$LATEST`.
    Qualified(String),
    /// Not a Lambda function ARN.
    Unreadable,
}

impl Invoked {
    /// From `arn:<partition>:lambda:<region>:<account>:function:<name>[:<qualifier>]`.
    pub fn from_function_arn(arn: &str) -> Self {
        if FunctionHome::from_function_arn(arn).is_none() {
            return Self::Unreadable;
        }
        let rest: Vec<&str> = arn.split(':').skip(5).collect();
        match rest.as_slice() {
            ["function", name] if !name.is_empty() => Self::Unqualified,
            ["function", name, qualifier] if !name.is_empty() && !qualifier.is_empty() => {
                Self::Qualified((*qualifier).to_owned())
            }
            _ => Self::Unreadable,
        }
    }

    /// The qualifier as the audit line names it: the alias, the version number or `$LATEST`;
    /// `unqualified` for the bare ARN.
    pub fn describe(&self) -> String {
        match self {
            Self::Unqualified => "unqualified".to_owned(),
            Self::Qualified(qualifier) => qualifier.clone(),
            Self::Unreadable => "unreadable ARN".to_owned(),
        }
    }
}

/// Validates a direct-invocation payload under the workflow rules.
pub fn parse_direct(
    config: &Config,
    payload: &Map<String, Value>,
    home: Option<&FunctionHome>,
) -> Result<SetPassword, AppError> {
    if payload.contains_key("generate") {
        return Err(AppError::invalid(
            "generate",
            "is for the API only: a generated password returned to a workflow would be kept in Step Functions history; use passwordSecretId",
        ));
    }
    reject_unknown_fields(payload, DIRECT_FIELDS, "event")?;
    let username = match payload.get("username") {
        None => return Err(AppError::invalid("username", "is required")),
        Some(value) => Username::parse(&string_field(value, "username")?)?,
    };
    let password = match (payload.get("password"), payload.get("passwordSecretId")) {
        (Some(_), None) if !config.workflow.literal_passwords => {
            return Err(AppError::invalid(
                "password",
                "literal passwords are off for workflows (Step Functions records state input in its history); use passwordSecretId",
            ))
        }
        (Some(value), None) => PasswordSource::Literal(Password::parse(string_field(value, "password")?, "password")?),
        (None, Some(value)) => PasswordSource::SecretRef(secret_id(config, value, &username, home)?),
        (None, None) => {
            return Err(AppError::invalid(
                "password",
                "one of password or passwordSecretId is required",
            ))
        }
        (Some(_), Some(_)) => {
            return Err(AppError::invalid(
                "password",
                "give password or passwordSecretId, not both",
            ))
        }
    };
    // The labels are audited from `iam_labels`; an invalid one refuses the request.
    optional_label(payload, "requestedBy")?;
    optional_label(payload, "correlationId")?;
    Ok(SetPassword {
        username,
        password,
        permanent: bool_field(payload, "permanent")?,
        sign_out: bool_field(payload, "signOut")?,
        reason: reason_field(config, payload)?,
    })
}

fn reject_unknown_fields(object: &Map<String, Value>, allowed: &[&str], what: &str) -> Result<(), AppError> {
    match object.keys().find(|k| !allowed.contains(&k.as_str())) {
        None => Ok(()),
        Some(key) if key.len() <= 64 && !key.chars().any(char::is_control) => Err(AppError::invalid(
            what,
            format!("unknown field {key:?}; allowed: {}", allowed.join(", ")),
        )),
        Some(_) => Err(AppError::invalid(
            what,
            format!("unknown field; allowed: {}", allowed.join(", ")),
        )),
    }
}

fn string_field(value: &Value, field: &str) -> Result<String, AppError> {
    match value {
        Value::String(s) => Ok(s.clone()),
        _ => Err(AppError::invalid(field, "must be a string")),
    }
}

fn bool_field(object: &Map<String, Value>, field: &str) -> Result<bool, AppError> {
    match object.get(field) {
        None => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(_) => Err(AppError::invalid(field, "must be true or false")),
    }
}

/// `requestedBy` / `correlationId`: short printable labels, since they go into the audit log.
/// The invoker's labels as far as they are valid, for the audit line of any direct request,
/// refused ones included: a failed execution must be found by its correlation id.
/// `parse_direct` refuses the invalid ones.
pub fn iam_labels(payload: &Map<String, Value>) -> IamContext {
    IamContext {
        requested_by: optional_label(payload, "requestedBy").ok().flatten(),
        correlation_id: optional_label(payload, "correlationId").ok().flatten(),
    }
}

fn optional_label(object: &Map<String, Value>, field: &str) -> Result<Option<String>, AppError> {
    match object.get(field) {
        None => Ok(None),
        Some(Value::String(s)) if (1..=256).contains(&s.chars().count()) && !s.chars().any(char::is_control) => {
            Ok(Some(s.clone()))
        }
        Some(_) => Err(AppError::invalid(
            field,
            "must be a string of 1 to 256 printable characters",
        )),
    }
}

/// A secret name or ARN (full, or partial: without the random suffix) under the configured
/// prefix and, with `PASSWORD_SECRET_PER_USER`, named for the target (`<prefix><username>`).
/// IAM scopes the role to the prefix; checking here too gives the caller a clear 400 instead
/// of an access-denied 500. An ARN's suffix cannot be told from the end of a name, so the
/// flow binds the secret again by the name Secrets Manager reports (`policy::secret_bound`).
fn secret_id(
    config: &Config,
    value: &Value,
    username: &Username,
    home: Option<&FunctionHome>,
) -> Result<String, AppError> {
    let field = "passwordSecretId";
    let Some(prefix) = config.password_secret_prefix.as_deref() else {
        return Err(AppError::invalid(
            field,
            "is not enabled on this function (PASSWORD_SECRET_PREFIX is unset)",
        ));
    };
    let id = string_field(value, field)?;
    if id.is_empty() || id.len() > 2048 || !id.chars().all(|c| c.is_ascii_graphic()) {
        return Err(AppError::invalid(field, "must be a secret name or ARN"));
    }
    let name = match id.strip_prefix("arn:") {
        Some(_) => secret_arn_name(&id, home)?,
        None => id.as_str(),
    };
    let bound = if config.workflow.secret_per_user {
        let own = format!("{prefix}{}", username.as_str());
        name == own || id.starts_with("arn:") && name.strip_prefix(own.as_str()).is_some_and(is_random_suffix)
    } else {
        name.starts_with(prefix)
    };
    if !bound {
        let rule = if config.workflow.secret_per_user {
            format!("must name the secret {prefix}<username> of the target (PASSWORD_SECRET_PER_USER)")
        } else {
            format!("must name a secret under the prefix {prefix}")
        };
        return Err(AppError::invalid(field, rule));
    }
    Ok(id)
}

/// The name part of `arn:<partition>:secretsmanager:<region>:<account>:secret:<name>[-<6 chars>]`
/// (with the suffix, if any), which must be in the function's own account and region.
fn secret_arn_name<'a>(arn: &'a str, home: Option<&FunctionHome>) -> Result<&'a str, AppError> {
    let field = "passwordSecretId";
    let malformed = || AppError::invalid(field, "must be a secret name or a Secrets Manager secret ARN");
    let mut parts = arn.splitn(7, ':');
    let (Some("arn"), Some(_), Some("secretsmanager"), Some(region), Some(account), Some("secret"), Some(rest)) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return Err(malformed());
    };
    match home {
        Some(home) if home.region == region && home.account == account => {}
        _ => {
            return Err(AppError::invalid(
                field,
                "a secret ARN must be in this function's own account and region",
            ))
        }
    }
    if rest.is_empty() {
        return Err(malformed());
    }
    Ok(rest)
}

/// Secrets Manager appends "-" and six random characters to every secret's name in its ARN.
fn is_random_suffix(suffix: &str) -> bool {
    suffix
        .strip_prefix('-')
        .is_some_and(|s| s.len() == 6 && s.chars().all(|c| c.is_ascii_alphanumeric()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn object(value: Value) -> Map<String, Value> {
        value.as_object().expect("test input is an object").clone()
    }

    fn config(prefix: Option<&str>) -> Config {
        crate::testing::config(&[
            ("PASSWORD_SECRET_PREFIX", prefix.unwrap_or("")),
            ("WORKFLOW_LITERAL_PASSWORDS", "true"),
        ])
    }

    fn home() -> FunctionHome {
        FunctionHome::from_function_arn("arn:aws:lambda:eu-west-1:123456789012:function:f:live").unwrap()
    }

    fn parse_direct(config: &Config, payload: &Map<String, Value>) -> Result<SetPassword, AppError> {
        super::parse_direct(config, payload, Some(&home()))
    }

    fn message(result: Result<impl std::fmt::Debug, AppError>) -> String {
        let err = result.unwrap_err();
        assert_eq!(err.code(), "InvalidRequest", "{err:?}");
        err.to_string()
    }

    #[test]
    fn usernames_follow_cognitos_pattern() {
        for ok in ["bob", "bob@example.com", "b.o-b_1+x", "Ünïcødé", &"x".repeat(128)] {
            assert!(Username::parse(ok).is_ok(), "{ok:?}");
        }
        let bad = [
            ("", "empty"),
            (&*"x".repeat(129), "128"),
            ("bob\n", "control"),
            ("bo b", "whitespace"),
            ("bob\u{0}", "control"),
            ("bo\u{200B}b", "invisible"),
            ("../admin", "path"),
            ("a\\b", "path"),
            ("..", "dot"),
        ];
        for (raw, reason) in bad {
            let msg = message(Username::parse(raw));
            assert!(msg.starts_with("username: "), "{raw:?}: {msg}");
            assert!(msg.contains(reason), "{raw:?}: {msg} should mention {reason}");
        }
    }

    #[test]
    fn passwords_are_checked_without_ever_being_quoted() {
        assert!(Password::parse("Correct-Horse-9".into(), "password").is_ok());
        assert!(
            Password::parse("a b c d".into(), "password").is_ok(),
            "inner spaces are allowed"
        );
        let bad = [
            "short",
            &"x".repeat(257),
            " Leading-Space1",
            "Trailing-Space1 ",
            "Tab\tInside1",
            "Nul\0Inside1",
        ];
        for raw in bad {
            let msg = message(Password::parse(raw.to_owned(), "password"));
            assert!(msg.starts_with("password: "), "{msg}");
            assert!(!msg.contains(raw.trim()), "message quotes the password: {msg}");
        }
    }

    #[test]
    fn password_debug_output_is_redacted() {
        let password = Password::parse("Sup3r-Secret-Value".into(), "password").unwrap();
        let direct = format!("{password:?}");
        let rendered = format!("{direct} {:?}", PasswordSource::Literal(password));
        assert!(!rendered.contains("Sup3r-Secret-Value"), "{rendered}");
        assert!(rendered.contains("REDACTED"), "{rendered}");
    }

    #[test]
    fn api_body_defaults_to_a_temporary_password_without_sign_out() {
        let cmd = parse_api_body(
            &config(None),
            Some("bob"),
            &object(json!({"password": "Temp-Passw0rd"})),
        )
        .unwrap();
        assert_eq!(cmd.username.as_str(), "bob");
        assert!(!cmd.permanent && !cmd.sign_out);
        let cmd = parse_api_body(
            &config(None),
            Some("bob"),
            &object(json!({"password": "Temp-Passw0rd", "permanent": true, "signOut": true})),
        )
        .unwrap();
        assert!(cmd.permanent && cmd.sign_out);
    }

    #[test]
    fn api_body_rejections_name_the_field() {
        let cases = [
            (json!({}), "password: is required"),
            (json!({"password": null}), "password: must be a string"),
            (json!({"password": 123456}), "password: must be a string"),
            (
                json!({"password": "Temp-Passw0rd", "permanent": "yes"}),
                "permanent: must be true or false",
            ),
            (
                json!({"password": "Temp-Passw0rd", "permanent": null}),
                "permanent: must be true or false",
            ),
            (
                json!({"password": "Temp-Passw0rd", "signOut": 1}),
                "signOut: must be true or false",
            ),
            (
                json!({"password": "Temp-Passw0rd", "username": "eve"}),
                "body: unknown field \"username\"",
            ),
            (
                json!({"password": "Temp-Passw0rd", "passwordSecretId": "x"}),
                "body: unknown field",
            ),
        ];
        for (body, expected) in cases {
            let msg = message(parse_api_body(&config(None), Some("bob"), &object(body.clone())));
            assert!(msg.starts_with(expected), "{body}: got {msg:?}, want {expected:?}");
        }
        let msg = message(parse_api_body(
            &config(None),
            None,
            &object(json!({"password": "Temp-Passw0rd"})),
        ));
        assert!(msg.starts_with("username: missing"), "{msg}");
    }

    #[test]
    fn direct_payload_carries_audit_labels() {
        let payload = json!({"username": "bob", "password": "Temp-Passw0rd", "requestedBy": "onboarding", "correlationId": "exec-42"});
        let payload = object(payload);
        let cmd = parse_direct(&config(None), &payload).unwrap();
        let iam = iam_labels(&payload);
        assert_eq!(cmd.username.as_str(), "bob");
        assert_eq!(iam.requested_by.as_deref(), Some("onboarding"));
        assert_eq!(iam.correlation_id.as_deref(), Some("exec-42"));
    }

    #[test]
    fn direct_payload_rejections_name_the_field() {
        let c = config(Some("onboarding/"));
        let cases = [
            (json!({"password": "Temp-Passw0rd"}), "username: is required"),
            (
                json!({"username": null, "password": "Temp-Passw0rd"}),
                "username: must be a string",
            ),
            (
                json!({"username": ["bob"], "password": "Temp-Passw0rd"}),
                "username: must be a string",
            ),
            (json!({"username": "bob"}), "password: one of"),
            (
                json!({"username": "bob", "password": "Temp-Passw0rd", "passwordSecretId": "onboarding/x"}),
                "password: give",
            ),
            (
                json!({"username": "bob", "passwordSecretId": "other/x"}),
                "passwordSecretId: must name the secret onboarding/<username>",
            ),
            (
                json!({"username": "bob", "passwordSecretId": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:other/x-AbCdEf"}),
                "passwordSecretId: must name",
            ),
            (
                json!({"username": "bob", "passwordSecretId": "arn:aws:secretsmanager:eu-west-1:210987654321:secret:onboarding/bob-AbCdEf"}),
                "passwordSecretId: a secret ARN must be in this function's own account",
            ),
            (
                json!({"username": "bob", "passwordSecretId": "arn:aws:secretsmanager:us-east-1:123456789012:secret:onboarding/bob-AbCdEf"}),
                "passwordSecretId: a secret ARN must be in this function's own account",
            ),
            (
                json!({"username": "bob", "passwordSecretId": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:"}),
                "passwordSecretId: must be a secret name or a Secrets",
            ),
            (
                json!({"username": "bob", "passwordSecretId": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:onboarding/bobby"}),
                "passwordSecretId: must name",
            ),
            (
                json!({"username": "bob", "passwordSecretId": "onboarding/bob-AbCdEf"}),
                "passwordSecretId: must name",
            ),
            (
                json!({"username": "bob", "passwordSecretId": "onboarding/carol"}),
                "passwordSecretId: must name the secret onboarding/<username>",
            ),
            (
                json!({"username": "bob", "passwordSecretId": "has space"}),
                "passwordSecretId: must be a secret name",
            ),
            (
                json!({"username": "bob", "password": "Temp-Passw0rd", "requestedBy": ""}),
                "requestedBy: must be",
            ),
            (
                json!({"username": "bob", "password": "Temp-Passw0rd", "correlationId": "a\nb"}),
                "correlationId: must be",
            ),
            (
                json!({"username": "bob", "password": "Temp-Passw0rd", "extra": 1}),
                "event: unknown field \"extra\"",
            ),
        ];
        for (payload, expected) in cases {
            let msg = message(parse_direct(&c, &object(payload.clone())));
            assert!(msg.starts_with(expected), "{payload}: got {msg:?}, want {expected:?}");
        }
    }

    #[test]
    fn secret_references_need_the_feature_and_the_prefix() {
        let payload = object(json!({"username": "bob", "passwordSecretId": "onboarding/bob"}));
        let msg = message(parse_direct(&config(None), &payload));
        assert!(msg.contains("not enabled"), "{msg}");
        let cmd = parse_direct(&config(Some("onboarding/")), &payload).unwrap();
        assert!(matches!(cmd.password, PasswordSource::SecretRef(ref id) if id == "onboarding/bob"));
        let arn = object(
            json!({"username": "bob", "passwordSecretId": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:onboarding/bob-AbCdEf"}),
        );
        assert!(parse_direct(&config(Some("onboarding/")), &arn).is_ok());
        // A partial ARN (no suffix) passes, and so does one another secret's name could end
        // in: the flow binds the secret by the name Secrets Manager reports.
        for partial in ["onboarding/bob", "onboarding/bob-smith1"] {
            let arn = format!("arn:aws:secretsmanager:eu-west-1:123456789012:secret:{partial}");
            let payload = object(json!({"username": "bob", "passwordSecretId": arn}));
            assert!(
                parse_direct(&config(Some("onboarding/")), &payload).is_ok(),
                "{partial}"
            );
        }
        assert!(
            super::parse_direct(&config(Some("onboarding/")), &arn, None).is_err(),
            "no known home, no ARN"
        );
    }

    #[test]
    fn without_per_user_secrets_any_name_under_the_prefix_will_do() {
        let c = crate::testing::config(&[("PASSWORD_SECRET_PER_USER", "false")]);
        let payload = object(json!({"username": "bob", "passwordSecretId": "onboarding/batch-7"}));
        assert!(parse_direct(&c, &payload).is_ok());
    }

    #[test]
    fn workflows_refuse_literal_passwords_by_default() {
        let c = crate::testing::config(&[]);
        let payload = object(json!({"username": "bob", "password": "Temp-Passw0rd"}));
        let msg = message(parse_direct(&c, &payload));
        assert!(msg.contains("use passwordSecretId"), "{msg}");
    }

    #[test]
    fn generate_asks_for_a_temporary_password_and_excludes_the_others() {
        let c = config(None);
        let cmd = parse_api_body(&c, Some("bob"), &object(json!({"generate": true, "signOut": true}))).unwrap();
        assert!(matches!(cmd.password, PasswordSource::Generate) && !cmd.permanent && cmd.sign_out);
        let cases = [
            (
                json!({"generate": true, "password": "Temp-Passw0rd"}),
                "password: give password or",
            ),
            (
                json!({"generate": true, "permanent": true}),
                "generate: generated passwords are temporary",
            ),
            (json!({"generate": false}), "password: is required"),
            (json!({"generate": "yes"}), "generate: must be true or false"),
        ];
        for (body, expected) in cases {
            let msg = message(parse_api_body(&c, Some("bob"), &object(body.clone())));
            assert!(msg.starts_with(expected), "{body}: {msg}");
        }
        let msg = message(parse_direct(&c, &object(json!({"username": "bob", "generate": true}))));
        assert!(msg.starts_with("generate: is for the API only"), "{msg}");
    }

    #[test]
    fn a_reset_takes_only_sign_out_and_reason() {
        let c = config(None);
        let reset = parse_reset_body(&c, Some("bob"), &Map::new()).unwrap();
        assert_eq!(
            (reset.username.as_str(), reset.sign_out, reset.reason.is_none()),
            ("bob", false, true)
        );
        let reset = parse_reset_body(&c, Some("bob"), &object(json!({"signOut": true, "reason": "INC-1"}))).unwrap();
        assert!(reset.sign_out);
        assert_eq!(reset.reason.unwrap().as_str(), "INC-1");
        for (body, field) in [
            (json!({"password": "Temp-Passw0rd"}), "body: unknown field \"password\""),
            (json!({"permanent": false}), "body: unknown field \"permanent\""),
            (json!({"signOut": "yes"}), "signOut: "),
            (json!({"reason": ""}), "reason: "),
        ] {
            let msg = message(parse_reset_body(&c, Some("bob"), &object(body.clone())));
            assert!(msg.starts_with(field), "{body}: {msg}");
        }
        assert!(message(parse_reset_body(&c, None, &Map::new())).starts_with("username: "));
        let strict = crate::testing::config(&[("REQUIRE_REASON", "true")]);
        assert!(message(parse_reset_body(&strict, Some("bob"), &Map::new())).starts_with("reason: is required"));
    }

    #[test]
    fn reasons_are_recorded_and_can_be_required() {
        let c = config(None);
        let cmd = parse_api_body(
            &c,
            Some("bob"),
            &object(json!({"password": "Temp-Passw0rd", "reason": "INC-4711"})),
        )
        .unwrap();
        assert_eq!(cmd.reason.unwrap().as_str(), "INC-4711");
        let cmd = parse_direct(
            &c,
            &object(json!({"username": "bob", "password": "Temp-Passw0rd", "reason": "onboarding"})),
        )
        .unwrap();
        assert_eq!(cmd.reason.unwrap().as_str(), "onboarding");
        for bad in [json!(""), json!("a\nb"), json!("x".repeat(201)), json!(7)] {
            let msg = message(parse_api_body(
                &c,
                Some("bob"),
                &object(json!({"password": "Temp-Passw0rd", "reason": bad})),
            ));
            assert!(msg.starts_with("reason: "), "{msg}");
        }
        let strict = crate::testing::config(&[("REQUIRE_REASON", "true")]);
        let msg = message(parse_api_body(
            &strict,
            Some("bob"),
            &object(json!({"password": "Temp-Passw0rd"})),
        ));
        assert!(msg.starts_with("reason: is required"), "{msg}");
    }

    #[test]
    fn function_arns_give_the_home_account_and_region() {
        assert_eq!(home().account, "123456789012");
        assert_eq!(home().region, "eu-west-1");
        for bad in [
            "",
            "arn:aws:lambda:eu-west-1:123:function:f",
            "arn:aws:s3:::bucket",
            "x",
        ] {
            assert_eq!(FunctionHome::from_function_arn(bad), None, "{bad}");
        }
    }

    #[test]
    fn function_arns_give_the_qualifier_invoked() {
        let base = "arn:aws:lambda:eu-west-1:123456789012:function:f";
        let qualified = |q: &str| Invoked::Qualified(q.to_owned());
        let cases = [
            (format!("{base}:live"), qualified("live")),
            (format!("{base}:7"), qualified("7")),
            (format!("{base}:$LATEST"), qualified("$LATEST")),
            (base.to_owned(), Invoked::Unqualified),
            (format!("{base}:"), Invoked::Unreadable),
            (format!("{base}:live:7"), Invoked::Unreadable),
            (
                "arn:aws:lambda:eu-west-1:123456789012:layer:f:1".to_owned(),
                Invoked::Unreadable,
            ),
            (
                "arn:aws:lambda:eu-west-1:123456789012:function:".to_owned(),
                Invoked::Unreadable,
            ),
            (
                "arn:aws:lambda:eu-west-1:123:function:f:live".to_owned(),
                Invoked::Unreadable,
            ),
            (String::new(), Invoked::Unreadable),
        ];
        for (arn, expected) in cases {
            assert_eq!(Invoked::from_function_arn(&arn), expected, "{arn}");
        }
    }
}
