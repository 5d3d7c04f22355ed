//! Entry points and their shapes. The deployment says which entry points it serves
//! (`ENTRY_POINTS`); the event's shape only says which API Gateway format to read and answer
//! in. An API event is read in one pass into the caller's token, the authorizer's claims and
//! the request (`envelope`); a direct payload is size-capped, then read strictly. Nothing
//! past this module sees the raw event.

mod claims;
mod envelope;

use base64::Engine;
use serde_json::{Map, Value};

pub use claims::{AuthorizerClaims, GroupClaimFormat};
pub use envelope::Authorization;

use crate::config::EntryPoints;
use crate::error::AppError;
use crate::json::{parse_strict, JsonError};
use crate::request::MAX_BODY_BYTES;
use envelope::Envelope;

/// Step Functions' largest state payload: a direct invocation above it is not a workflow's.
pub const MAX_DIRECT_EVENT_BYTES: usize = 256 * 1024;
/// Largest API event read: the body is capped at 4 KiB and API Gateway caps headers, so a
/// larger event is hostile.
pub const MAX_API_EVENT_BYTES: usize = 1024 * 1024;

/// How the function was invoked; decides the response format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryShape {
    RestApi,
    HttpApi,
    Direct,
}

impl EntryShape {
    /// The `entry` value in the audit record.
    pub fn audit_name(self) -> &'static str {
        match self {
            Self::RestApi => "rest",
            Self::HttpApi => "http",
            Self::Direct => "direct",
        }
    }

    /// The `EntryShape` metric dimension value.
    pub fn metric_name(self) -> &'static str {
        match self {
            Self::RestApi => "RestApi",
            Self::HttpApi => "HttpApi",
            Self::Direct => "Direct",
        }
    }

    pub fn is_api(self) -> bool {
        self != Self::Direct
    }
}

/// What API Gateway tells us about the request and its caller. None of it is trusted: the
/// token is verified by the function, and the claims only have to agree with it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ApiContext {
    pub request_id: Option<String>,
    pub source_ip: Option<String>,
    pub user_agent: Option<String>,
    pub authorization: Authorization,
    /// The authorizer's claims; `None` when the event had no authorizer context.
    pub claims: Option<AuthorizerClaims>,
}

/// The request part, still to be validated by `request`.
#[derive(Debug, Clone, PartialEq)]
pub enum RequestInput {
    Api {
        route: Route,
        path_username: Option<String>,
        body: Map<String, Value>,
    },
    Direct(Map<String, Value>),
}

/// An event taken apart. `api` is set whenever the event had a readable API Gateway context,
/// even if its body is bad, so the token is still verified and the audit line can name the
/// caller.
/// The API routes the function serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// `PUT /users/{username}/password`: set a password.
    SetPassword,
    /// `POST /users/{username}/password-reset`: Cognito sends the user a reset code.
    ResetPassword,
}

impl Route {
    const SET_PATH: &'static str = "/users/{username}/password";
    const RESET_PATH: &'static str = "/users/{username}/password-reset";

    /// The route for a matched resource path and method, or what API Gateway would answer
    /// (404, 405) had it not matched. An event naming no path (API Gateway always names
    /// one) is the set's.
    fn resolve(path: Option<&str>, method: Option<&str>) -> Result<Self, AppError> {
        let (route, path, allowed) = match path {
            None | Some(Self::SET_PATH) => (Self::SetPassword, Self::SET_PATH, "PUT"),
            Some(Self::RESET_PATH) => (Self::ResetPassword, Self::RESET_PATH, "POST"),
            Some(_) => return Err(AppError::RouteNotFound),
        };
        match method {
            Some(method) if method == allowed => Ok(route),
            _ => Err(AppError::MethodNotAllowed { path, allowed }),
        }
    }
}

#[derive(Debug)]
pub struct ParsedEvent {
    pub shape: EntryShape,
    pub api: Option<ApiContext>,
    /// The target as given, for the audit line, before validation.
    pub target_hint: Option<String>,
    pub input: Result<RequestInput, AppError>,
}

impl ParsedEvent {
    fn refused(shape: EntryShape, err: AppError) -> Self {
        Self {
            shape,
            api: None,
            target_hint: None,
            input: Err(err),
        }
    }
}

/// Takes a raw event apart for the configured entry points. Never fails: a bad event becomes
/// a `ParsedEvent` whose `input` is the error, in the shape the caller will understand: an
/// API-only deployment answers everything as API Gateway (a function error would reach the
/// client as a 502), a workflow-only one with typed function errors.
pub fn parse_event(entry_points: EntryPoints, raw: &str) -> ParsedEvent {
    // The shape a refusal is answered in before the event could be read.
    let fallback = if entry_points.workflow {
        EntryShape::Direct
    } else {
        EntryShape::RestApi
    };
    let cap = if entry_points.api {
        MAX_API_EVENT_BYTES
    } else {
        MAX_DIRECT_EVENT_BYTES
    };
    if raw.len() > cap {
        return ParsedEvent::refused(
            fallback,
            AppError::invalid("event", format!("must be at most {} KiB", cap / 1024)),
        );
    }
    let envelope = match envelope::read(raw) {
        Ok(envelope) => envelope,
        Err(err) => return ParsedEvent::refused(fallback, AppError::invalid("event", err)),
    };
    match (envelope.api_shaped, entry_points.api, entry_points.workflow) {
        (true, true, _) => parse_api(envelope),
        (true, false, _) => ParsedEvent::refused(
            EntryShape::Direct,
            AppError::invalid(
                "event",
                "API Gateway events are not served by this function (ENTRY_POINTS=workflow)",
            ),
        ),
        (false, _, true) => parse_direct(raw),
        (false, _, false) => ParsedEvent::refused(
            EntryShape::RestApi,
            AppError::invalid("event", "is not an API Gateway proxy event (ENTRY_POINTS=api)"),
        ),
    }
}

fn parse_direct(raw: &str) -> ParsedEvent {
    let shape = EntryShape::Direct;
    if raw.len() > MAX_DIRECT_EVENT_BYTES {
        return ParsedEvent::refused(
            shape,
            AppError::invalid(
                "event",
                format!("must be at most {} KiB", MAX_DIRECT_EVENT_BYTES / 1024),
            ),
        );
    }
    match parse_strict(raw) {
        Ok(Value::Object(payload)) => ParsedEvent {
            shape,
            api: None,
            target_hint: payload.get("username").and_then(Value::as_str).map(audit_label),
            input: Ok(RequestInput::Direct(payload)),
        },
        Ok(_) => ParsedEvent::refused(shape, AppError::invalid("event", "must be a JSON object")),
        Err(err) => ParsedEvent::refused(shape, AppError::invalid("event", err)),
    }
}

fn parse_api(envelope: Envelope<'_>) -> ParsedEvent {
    let context = envelope.request_context.unwrap_or_default();
    let (shape, method, format) = if envelope.version.as_deref() == Some("2.0") {
        let method = context
            .http
            .as_ref()
            .and_then(|h| h.method.as_deref())
            .map(str::to_owned);
        (EntryShape::HttpApi, method, GroupClaimFormat::Bracketed)
    } else {
        let method = envelope.http_method.as_deref().map(str::to_owned);
        (EntryShape::RestApi, method, GroupClaimFormat::CommaSeparated)
    };
    let (source_ip, user_agent) = match (&context.identity, &context.http) {
        (_, Some(http)) if shape == EntryShape::HttpApi => (http.source_ip.as_deref(), http.user_agent.as_deref()),
        (Some(identity), _) => (identity.source_ip.as_deref(), identity.user_agent.as_deref()),
        _ => (None, None),
    };
    let raw_claims = context.authorizer.as_ref().and_then(|a| match shape {
        EntryShape::HttpApi => a.jwt.as_ref().and_then(|j| j.claims.as_ref()),
        _ => a.claims.as_ref(),
    });
    let api = ApiContext {
        request_id: context.request_id.as_deref().map(audit_label),
        source_ip: source_ip.map(audit_label),
        user_agent: user_agent.map(audit_label),
        authorization: envelope.authorization,
        claims: raw_claims.map(|c| AuthorizerClaims::parse(c, format)),
    };
    let path_username = envelope.path_username.map(|u| u.into_owned());
    // REST names the matched resource; an HTTP API its route key, `METHOD path` (`$default`
    // has no path, and no route of ours).
    let path = match shape {
        EntryShape::HttpApi => envelope
            .route_key
            .as_deref()
            .map(|key| key.split_once(' ').map_or(key, |(_, path)| path)),
        _ => envelope.resource.as_deref(),
    };
    let input = Route::resolve(path, method.as_deref()).and_then(|route| {
        let body = envelope.body.as_deref();
        let body = match route {
            // The reset's body is optional.
            Route::ResetPassword if body.is_none_or(str::is_empty) => Ok(Map::new()),
            _ => decode_body(body, envelope.is_base64_encoded),
        };
        body.map(|body| RequestInput::Api {
            route,
            path_username: path_username.clone(),
            body,
        })
    });
    ParsedEvent {
        shape,
        api: Some(api),
        target_hint: path_username.as_deref().map(audit_label),
        input,
    }
}

/// The body as a JSON object: base64-decoded if flagged, at most `MAX_BODY_BYTES`, UTF-8,
/// strict JSON.
fn decode_body(body: Option<&str>, is_base64_encoded: bool) -> Result<Map<String, Value>, AppError> {
    let body = body
        .filter(|b| !b.is_empty())
        .ok_or_else(|| AppError::invalid("body", "is required"))?;
    let too_large = || AppError::invalid("body", format!("must be at most {MAX_BODY_BYTES} bytes"));
    let decoded;
    let text = if is_base64_encoded {
        if body.len() > MAX_BODY_BYTES.div_ceil(3) * 4 {
            return Err(too_large());
        }
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(body.as_bytes())
            .map_err(|_| AppError::invalid("body", "is flagged base64 but is not valid base64"))?;
        decoded = String::from_utf8(bytes).map_err(|_| AppError::invalid("body", "is not valid UTF-8"))?;
        decoded.as_str()
    } else {
        body
    };
    if text.len() > MAX_BODY_BYTES {
        return Err(too_large());
    }
    match parse_strict(text) {
        Ok(Value::Object(object)) => Ok(object),
        Ok(_) => Err(AppError::invalid("body", "must be a JSON object")),
        Err(err @ (JsonError::DuplicateKey | JsonError::Malformed)) => Err(AppError::invalid("body", err)),
    }
}

/// Attacker-controlled text bound for the audit log: bounded, one line. (JSON encoding of the
/// log line already escapes it; this keeps a hostile value from flooding the trail.)
pub(crate) fn audit_label(raw: &str) -> String {
    raw.chars()
        .take(256)
        .map(|c| if c.is_control() { '\u{FFFD}' } else { c })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const ISS: &str = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Pool1";
    const BOTH: EntryPoints = EntryPoints {
        api: true,
        workflow: true,
    };
    const API: EntryPoints = EntryPoints {
        api: true,
        workflow: false,
    };
    const WORKFLOW: EntryPoints = EntryPoints {
        api: false,
        workflow: true,
    };

    fn rest_event(groups: Value, body: Value) -> Value {
        json!({
            "resource": "/users/{username}/password",
            "path": "/users/bob/password",
            "httpMethod": "PUT",
            "headers": {"content-type": "application/json", "Authorization": "Bearer tok"},
            "pathParameters": {"username": "bob"},
            "requestContext": {
                "requestId": "api-req-1",
                "httpMethod": "PUT",
                "identity": {"sourceIp": "203.0.113.7", "userAgent": "portal/1.0"},
                "authorizer": {"claims": {"cognito:username": "alice", "sub": "sub-alice", "iss": ISS, "cognito:groups": groups}}
            },
            "body": body,
            "isBase64Encoded": false
        })
    }

    fn http_event(groups: &str, body: &str, base64: bool) -> Value {
        json!({
            "version": "2.0",
            "routeKey": "PUT /users/{username}/password",
            "rawPath": "/users/bob/password",
            "headers": {"content-type": "application/json", "authorization": "Bearer tok"},
            "pathParameters": {"username": "bob"},
            "requestContext": {
                "requestId": "api-req-2",
                "http": {"method": "PUT", "path": "/users/bob/password", "sourceIp": "198.51.100.9", "userAgent": "curl/8"},
                "authorizer": {"jwt": {"claims": {"cognito:username": "alice", "sub": "sub-alice", "iss": ISS, "cognito:groups": groups}, "scopes": null}}
            },
            "body": body,
            "isBase64Encoded": base64
        })
    }

    #[test]
    fn rest_event_yields_token_claims_context_and_body() {
        let parsed = parse_event(
            BOTH,
            &rest_event(json!("admins,editors"), json!("{\"password\":\"Temp-Passw0rd\"}")).to_string(),
        );
        assert_eq!(parsed.shape, EntryShape::RestApi);
        let api = parsed.api.unwrap();
        assert_eq!(api.request_id.as_deref(), Some("api-req-1"));
        assert_eq!(api.source_ip.as_deref(), Some("203.0.113.7"));
        assert_eq!(api.authorization.value.as_deref(), Some("Bearer tok"));
        let claims = api.claims.unwrap();
        assert_eq!(claims.cognito_username.as_deref(), Some("alice"));
        assert_eq!(claims.groups, Ok(vec!["admins".to_owned(), "editors".to_owned()]));
        assert_eq!(parsed.target_hint.as_deref(), Some("bob"));
        let Ok(RequestInput::Api {
            route: Route::SetPassword,
            path_username,
            body,
        }) = parsed.input
        else {
            panic!("input")
        };
        assert_eq!(path_username.as_deref(), Some("bob"));
        assert_eq!(body.get("password"), Some(&json!("Temp-Passw0rd")));
    }

    #[test]
    fn http_event_uses_bracketed_groups_and_decodes_base64_bodies() {
        let body = base64::engine::general_purpose::STANDARD.encode("{\"password\":\"Temp-Passw0rd\"}");
        let parsed = parse_event(API, &http_event("[admins editors]", &body, true).to_string());
        assert_eq!(parsed.shape, EntryShape::HttpApi);
        let api = parsed.api.unwrap();
        assert_eq!(
            api.claims.unwrap().groups,
            Ok(vec!["admins".to_owned(), "editors".to_owned()])
        );
        assert_eq!(api.user_agent.as_deref(), Some("curl/8"));
        assert!(matches!(parsed.input, Ok(RequestInput::Api { .. })));
    }

    #[test]
    fn a_rest_style_groups_claim_in_an_http_event_agrees_with_nothing() {
        let parsed = parse_event(
            BOTH,
            &http_event("admins", "{\"password\":\"Temp-Passw0rd\"}", false).to_string(),
        );
        assert_eq!(parsed.api.unwrap().claims.unwrap().groups, Err(()));
    }

    #[test]
    fn direct_payloads_pass_through_as_objects() {
        let parsed = parse_event(WORKFLOW, r#"{"username":"bob","password":"Temp-Passw0rd"}"#);
        assert_eq!(parsed.shape, EntryShape::Direct);
        assert!(parsed.api.is_none());
        assert_eq!(parsed.target_hint.as_deref(), Some("bob"));
        assert!(matches!(parsed.input, Ok(RequestInput::Direct(_))));
    }

    fn refusal(entry_points: EntryPoints, raw: &str) -> (EntryShape, String) {
        let parsed = parse_event(entry_points, raw);
        let err = parsed.input.expect_err(raw);
        assert_eq!(err.code(), "InvalidRequest", "{raw}");
        (parsed.shape, err.to_string())
    }

    #[test]
    fn non_objects_are_answered_in_the_deployments_format() {
        for raw in ["1", "\"x\"", "[]", "null", "", "{"] {
            let (shape, message) = refusal(WORKFLOW, raw);
            assert_eq!(shape, EntryShape::Direct, "{raw}");
            assert!(message.starts_with("event: "), "{raw}: {message}");
            let (shape, _) = refusal(API, raw);
            assert_eq!(
                shape,
                EntryShape::RestApi,
                "{raw}: an API-only deployment answers as API Gateway"
            );
        }
    }

    #[test]
    fn entry_points_refuse_each_others_events() {
        let rest = rest_event(json!("admins"), json!("{}")).to_string();
        let (shape, message) = refusal(WORKFLOW, &rest);
        assert_eq!(shape, EntryShape::Direct);
        assert!(message.contains("ENTRY_POINTS=workflow"), "{message}");
        for marker in ["requestContext", "httpMethod", "routeKey", "headers", "version"] {
            let raw = format!(r#"{{"username":"bob","{marker}":{{}}}}"#);
            assert_eq!(refusal(WORKFLOW, &raw).0, EntryShape::Direct, "{marker}");
        }
        let (shape, message) = refusal(API, r#"{"username":"bob","passwordSecretId":"onboarding/bob"}"#);
        assert_eq!(shape, EntryShape::RestApi);
        assert!(message.contains("ENTRY_POINTS=api"), "{message}");
    }

    #[test]
    fn oversized_events_are_refused_before_parsing() {
        let big = format!(
            r#"{{"username":"bob","password":"{}"}}"#,
            "x".repeat(MAX_DIRECT_EVENT_BYTES)
        );
        let (shape, message) = refusal(WORKFLOW, &big);
        assert_eq!(shape, EntryShape::Direct);
        assert_eq!(message, "event: must be at most 256 KiB");
        let (_, message) = refusal(BOTH, &big);
        assert_eq!(
            message, "event: must be at most 256 KiB",
            "a direct payload in a local run too"
        );
        let huge = "[".repeat(MAX_API_EVENT_BYTES + 1);
        assert_eq!(refusal(API, &huge).1, "event: must be at most 1024 KiB");
    }

    #[test]
    fn duplicated_claims_are_refused_in_the_callers_format() {
        let raw = rest_event(json!("admins"), json!("{}")).to_string().replace(
            "\"cognito:groups\":\"admins\"",
            "\"cognito:groups\":\"readers\",\"cognito:groups\":\"admins\"",
        );
        assert!(raw.contains("readers"), "test setup: {raw}");
        let (shape, message) = refusal(API, &raw);
        assert_eq!(shape, EntryShape::RestApi);
        assert!(message.contains("duplicated"), "{message}");
    }

    #[test]
    fn bad_bodies_are_refused_with_the_reason() {
        let cases = [
            (json!(null), "body: is required"),
            (json!(""), "body: is required"),
            (json!("[1]"), "body: must be a JSON object"),
            (json!("{\"password\":1,\"password\":2}"), "body: contains a duplicated"),
            (json!("not json"), "body: is not valid JSON"),
            (
                json!(format!("{{\"password\":\"{}\"}}", "x".repeat(5000))),
                "body: must be at most 4096 bytes",
            ),
        ];
        for (body, expected) in cases {
            let parsed = parse_event(API, &rest_event(json!("admins"), body.clone()).to_string());
            assert!(
                parsed.api.is_some(),
                "the context is kept so the token is still verified"
            );
            let message = parsed.input.unwrap_err().to_string();
            assert!(message.starts_with(expected), "{body}: {message}");
        }
        let invalid_utf8 = base64::engine::general_purpose::STANDARD.encode([0x7b, 0xff, 0xfe, 0x7d]);
        let message = parse_event(API, &http_event("[admins]", &invalid_utf8, true).to_string())
            .input
            .unwrap_err()
            .to_string();
        assert_eq!(message, "body: is not valid UTF-8");
        let message = parse_event(API, &http_event("[admins]", "%%%", true).to_string())
            .input
            .unwrap_err()
            .to_string();
        assert!(message.contains("not valid base64"), "{message}");
    }

    #[test]
    fn routes_are_told_apart_and_others_answered_as_api_gateway_would() {
        let route = |resource: &str, method: &str, body: Value| {
            let mut rest = rest_event(json!("admins"), body.clone());
            rest["resource"] = json!(resource);
            rest["httpMethod"] = json!(method);
            let body = body.as_str().unwrap_or_default().to_owned();
            let mut http = http_event("[admins]", &body, false);
            http["routeKey"] = json!(format!("{method} {resource}"));
            http["requestContext"]["http"]["method"] = json!(method);
            let rest = parse_event(API, &rest.to_string()).input;
            let http = parse_event(API, &http.to_string()).input;
            let answer = |input: Result<RequestInput, AppError>| match input {
                Ok(RequestInput::Api { route, .. }) => Ok(route),
                Ok(other) => panic!("{other:?}"),
                Err(err) => Err((err.code(), err.status())),
            };
            let (rest, http) = (answer(rest), answer(http));
            assert_eq!(rest, http, "{method} {resource}");
            rest
        };
        let set = "/users/{username}/password";
        let reset = "/users/{username}/password-reset";
        assert_eq!(route(set, "PUT", json!("{}")), Ok(Route::SetPassword));
        assert_eq!(route(reset, "POST", json!("{}")), Ok(Route::ResetPassword));
        assert_eq!(route(reset, "POST", json!(null)), Ok(Route::ResetPassword), "no body");
        assert_eq!(
            route(reset, "POST", json!("")),
            Ok(Route::ResetPassword),
            "an empty body"
        );
        for (path, method) in [(set, "POST"), (set, "DELETE"), (reset, "PUT"), (reset, "GET")] {
            assert_eq!(
                route(path, method, json!("{}")),
                Err(("MethodNotAllowed", 405)),
                "{method} {path}"
            );
        }
        for path in ["/users/{username}", "/users/{username}/password/reset", "$default"] {
            assert_eq!(route(path, "PUT", json!("{}")), Err(("NotFound", 404)), "{path}");
        }
    }

    #[test]
    fn audit_labels_are_bounded_single_lines() {
        assert_eq!(audit_label("a\nb"), "a\u{FFFD}b");
        assert_eq!(audit_label(&"x".repeat(1000)).chars().count(), 256);
    }
}
