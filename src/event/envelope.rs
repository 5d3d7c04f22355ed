//! One pass over a raw event into only the fields the function uses. Nothing whose size the
//! sender controls is kept: unknown keys and header values other than `Authorization` are
//! skipped without allocating (`IgnoredAny`), strings are borrowed from the raw event where
//! JSON escapes allow, and a repeated `Authorization` header is compared, not collected. So
//! an event with 24,600 header names costs one scan, not a `HeaderMap` that panics at its
//! capacity (and a panic aborts a release build).

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;

/// Top-level keys that only API Gateway events carry. Their presence makes an event
/// "API-shaped", which a workflow-only deployment refuses.
pub const API_MARKERS: &[&str] = &[
    "requestContext",
    "httpMethod",
    "routeKey",
    "headers",
    "version",
    "multiValueHeaders",
];

/// More header names than any request API Gateway forwards (it caps the headers' total
/// size at about 10 KiB); a larger map is hostile and refused, though scanning it is cheap.
pub const MAX_HEADER_NAMES: usize = 1_000;

/// Why an event could not be read. Says nothing about the content.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EnvelopeError {
    NotAnObject,
    DuplicateKey,
    TooManyHeaders,
    Malformed,
}

impl fmt::Display for EnvelopeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::NotAnObject => "must be a JSON object",
            Self::DuplicateKey => "contains a duplicated object key",
            Self::TooManyHeaders => "has more header names than API Gateway forwards",
            Self::Malformed => "is not valid JSON or does not match the API Gateway proxy event shape",
        })
    }
}

/// The `Authorization` header as found in `headers` and `multiValueHeaders`.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Authorization {
    /// The one value seen (every occurrence agreed).
    pub value: Option<String>,
    /// Two occurrences disagreed: no value can be trusted to be the one API Gateway checked.
    pub conflicting: bool,
}

impl Authorization {
    fn add(&mut self, value: &str) {
        match &self.value {
            None if !self.conflicting => self.value = Some(value.to_owned()),
            Some(seen) if seen == value => {}
            _ => {
                self.value = None;
                self.conflicting = true;
            }
        }
    }
}

/// The fields of an event that matter, whatever its shape.
#[derive(Debug, Default)]
pub struct Envelope<'a> {
    /// Some top-level key in `API_MARKERS` was present.
    pub api_shaped: bool,
    pub version: Option<Cow<'a, str>>,
    pub http_method: Option<Cow<'a, str>>,
    /// REST: the resource the route matched (`/users/{username}/password`).
    pub resource: Option<Cow<'a, str>>,
    /// HTTP API: the route that matched (`PUT /users/{username}/password`).
    pub route_key: Option<Cow<'a, str>>,
    pub authorization: Authorization,
    pub path_username: Option<Cow<'a, str>>,
    pub request_context: Option<RequestContext<'a>>,
    pub body: Option<Cow<'a, str>>,
    pub is_base64_encoded: bool,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RequestContext<'a> {
    #[serde(borrow, default)]
    pub request_id: Option<Cow<'a, str>>,
    /// REST (v1) caller details.
    #[serde(borrow, default)]
    pub identity: Option<Identity<'a>>,
    /// HTTP API (v2) request details.
    #[serde(borrow, default)]
    pub http: Option<HttpDetails<'a>>,
    #[serde(borrow, default)]
    pub authorizer: Option<Authorizer<'a>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Identity<'a> {
    #[serde(borrow, default)]
    pub source_ip: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub user_agent: Option<Cow<'a, str>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HttpDetails<'a> {
    #[serde(borrow, default)]
    pub method: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub source_ip: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub user_agent: Option<Cow<'a, str>>,
}

/// REST (v1) puts a Cognito authorizer's claims in `claims`; HTTP API (v2) a JWT
/// authorizer's in `jwt.claims`.
#[derive(Debug, Default, Deserialize)]
pub struct Authorizer<'a> {
    #[serde(borrow, default)]
    pub claims: Option<RawClaims<'a>>,
    #[serde(borrow, default)]
    pub jwt: Option<Jwt<'a>>,
}

#[derive(Debug, Default, Deserialize)]
pub struct Jwt<'a> {
    #[serde(borrow, default)]
    pub claims: Option<RawClaims<'a>>,
}

/// The claims the function compares with the verified token, as API Gateway wrote them.
/// A repeated claim is a malformed event (serde refuses duplicate fields).
#[derive(Debug, Default, Deserialize)]
pub struct RawClaims<'a> {
    #[serde(borrow, default)]
    pub iss: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub sub: Option<Cow<'a, str>>,
    #[serde(borrow, default, rename = "cognito:username")]
    pub cognito_username: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub username: Option<Cow<'a, str>>,
    #[serde(borrow, default, rename = "cognito:groups")]
    pub groups: Option<Cow<'a, str>>,
}

#[derive(Debug, Default, Deserialize)]
struct PathParameters<'a> {
    #[serde(borrow, default)]
    username: Option<Cow<'a, str>>,
}

/// Reads `raw` in one pass.
pub fn read(raw: &str) -> Result<Envelope<'_>, EnvelopeError> {
    let mut deserializer = serde_json::Deserializer::from_str(raw);
    let envelope = deserializer
        .deserialize_any(EnvelopeVisitor)
        .and_then(|envelope| deserializer.end().map(|()| envelope))
        .map_err(classify)?;
    envelope.ok_or(EnvelopeError::NotAnObject)
}

const TOO_MANY_HEADERS: &str = "too many header names";

fn classify(err: serde_json::Error) -> EnvelopeError {
    let message = err.to_string();
    if message.starts_with("duplicate") {
        EnvelopeError::DuplicateKey
    } else if message.starts_with(TOO_MANY_HEADERS) {
        EnvelopeError::TooManyHeaders
    } else {
        EnvelopeError::Malformed
    }
}

struct EnvelopeVisitor;

impl<'de> Visitor<'de> for EnvelopeVisitor {
    /// `None` for any JSON value that is not an object.
    type Value = Option<Envelope<'de>>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_str<E>(self, _: &str) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(None)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut envelope = Envelope::default();
        let mut seen: Vec<&'static str> = Vec::new();
        while let Some(key) = map.next_key::<Cow<'de, str>>()? {
            let Some(known) = KNOWN_KEYS.iter().copied().find(|k| *k == key) else {
                map.next_value::<IgnoredAny>()?;
                continue;
            };
            if seen.contains(&known) {
                return Err(de::Error::custom("duplicate top-level key"));
            }
            seen.push(known);
            if API_MARKERS.contains(&known) {
                envelope.api_shaped = true;
            }
            match known {
                "version" => envelope.version = map.next_value()?,
                "httpMethod" => envelope.http_method = map.next_value()?,
                "resource" => envelope.resource = map.next_value()?,
                "routeKey" => envelope.route_key = map.next_value()?,
                "headers" => map.next_value_seed(HeadersSeed {
                    authorization: &mut envelope.authorization,
                    multi: false,
                })?,
                "multiValueHeaders" => map.next_value_seed(HeadersSeed {
                    authorization: &mut envelope.authorization,
                    multi: true,
                })?,
                "pathParameters" => {
                    envelope.path_username = map
                        .next_value::<Option<PathParameters<'de>>>()?
                        .and_then(|p| p.username)
                }
                "requestContext" => envelope.request_context = map.next_value()?,
                "body" => envelope.body = map.next_value()?,
                "isBase64Encoded" => envelope.is_base64_encoded = map.next_value::<Option<bool>>()?.unwrap_or(false),
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(Some(envelope))
    }
}

const KNOWN_KEYS: &[&str] = &[
    "version",
    "httpMethod",
    "resource",
    "routeKey",
    "headers",
    "multiValueHeaders",
    "pathParameters",
    "requestContext",
    "body",
    "isBase64Encoded",
];

/// Scans a header object for `Authorization` (any case), skipping everything else.
struct HeadersSeed<'s> {
    authorization: &'s mut Authorization,
    /// `multiValueHeaders`: each value is an array of strings.
    multi: bool,
}

impl<'de> DeserializeSeed<'de> for HeadersSeed<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_option(self)
    }
}

impl<'de> Visitor<'de> for HeadersSeed<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a header object or null")
    }

    fn visit_none<E>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_map(self)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut names = 0;
        while let Some(name) = map.next_key::<Cow<'de, str>>()? {
            names += 1;
            if names > MAX_HEADER_NAMES {
                return Err(de::Error::custom(TOO_MANY_HEADERS));
            }
            if !name.eq_ignore_ascii_case("authorization") {
                map.next_value::<IgnoredAny>()?;
            } else if self.multi {
                map.next_value_seed(ValuesSeed(&mut *self.authorization))?;
            } else if let Some(value) = map.next_value::<Option<Cow<'de, str>>>()? {
                self.authorization.add(&value);
            }
        }
        Ok(())
    }
}

/// The values of one multi-value header, compared as they stream past.
struct ValuesSeed<'s>(&'s mut Authorization);

impl<'de> DeserializeSeed<'de> for ValuesSeed<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_option(self)
    }
}

impl<'de> Visitor<'de> for ValuesSeed<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of header values or null")
    }

    fn visit_none<E>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_seq(self)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(value) = seq.next_element::<Cow<'de, str>>()? {
            self.0.add(&value);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_only_the_fields_used_from_a_rest_event() {
        let raw = json!({
            "httpMethod": "PUT",
            "headers": {"Authorization": "Bearer tok", "X-Other": "1"},
            "multiValueHeaders": {"authorization": ["Bearer tok"], "x-other": ["1", "2"]},
            "pathParameters": {"username": "bob", "other": "x"},
            "requestContext": {"requestId": "r1", "identity": {"sourceIp": "203.0.113.1", "userAgent": "ua", "extra": 1},
                "authorizer": {"claims": {"iss": "i", "sub": "s", "cognito:username": "alice", "cognito:groups": "admins", "email": "a@x"}}},
            "body": "{}",
            "isBase64Encoded": false,
            "stageVariables": null
        })
        .to_string();
        let e = read(&raw).unwrap();
        assert!(e.api_shaped);
        assert_eq!(e.http_method.as_deref(), Some("PUT"));
        assert_eq!(
            e.authorization,
            Authorization {
                value: Some("Bearer tok".into()),
                conflicting: false
            }
        );
        assert_eq!(e.path_username.as_deref(), Some("bob"));
        let context = e.request_context.unwrap();
        assert_eq!(context.request_id.as_deref(), Some("r1"));
        let claims = context.authorizer.unwrap().claims.unwrap();
        assert_eq!(claims.cognito_username.as_deref(), Some("alice"));
        assert_eq!(claims.groups.as_deref(), Some("admins"));
    }

    #[test]
    fn header_names_are_case_insensitive_and_disagreeing_values_conflict() {
        let cases = [
            (json!({"headers": {"AUTHORIZATION": "a"}}), Some("a"), false),
            (
                json!({"headers": {"authorization": "a", "Authorization": "a"}}),
                Some("a"),
                false,
            ),
            (
                json!({"headers": {"authorization": "a", "Authorization": "b"}}),
                None,
                true,
            ),
            (
                json!({"headers": {"authorization": "a"}, "multiValueHeaders": {"Authorization": ["a", "b"]}}),
                None,
                true,
            ),
            (
                json!({"headers": {"authorization": "a"}, "multiValueHeaders": {"Authorization": ["b"]}}),
                None,
                true,
            ),
            (json!({"headers": null, "multiValueHeaders": null}), None, false),
            (json!({"headers": {"authorization": null}}), None, false),
        ];
        for (event, value, conflicting) in cases {
            let raw = event.to_string();
            let e = read(&raw).unwrap();
            assert_eq!(
                (e.authorization.value.as_deref(), e.authorization.conflicting),
                (value, conflicting),
                "{event}"
            );
        }
    }

    #[test]
    fn duplicated_keys_that_matter_are_refused() {
        for raw in [
            r#"{"body":"a","body":"b"}"#,
            r#"{"requestContext":{"authorizer":{"claims":{"cognito:groups":"x","cognito:groups":"admins"}}}}"#,
            r#"{"pathParameters":{"username":"a","username":"b"}}"#,
        ] {
            assert_eq!(read(raw).unwrap_err(), EnvelopeError::DuplicateKey, "{raw}");
        }
    }

    #[test]
    fn non_objects_and_garbage_are_told_apart() {
        for raw in ["1", "\"x\"", "[1,[2]]", "null", "true"] {
            assert_eq!(read(raw).unwrap_err(), EnvelopeError::NotAnObject, "{raw}");
        }
        for raw in [
            "",
            "{",
            "{} {}",
            r#"{"headers":"x"}"#,
            r#"{"requestContext":{"authorizer":{"claims":{"sub":1}}}}"#,
        ] {
            assert_eq!(read(raw).unwrap_err(), EnvelopeError::Malformed, "{raw}");
        }
    }

    #[test]
    fn tens_of_thousands_of_header_names_are_refused_without_being_stored() {
        let headers = |n: usize| {
            let mut headers = serde_json::Map::new();
            for i in 0..n {
                headers.insert(format!("x-h-{i}"), json!("v"));
            }
            headers.insert("authorization".into(), json!("tok"));
            headers
        };
        let event = |h: serde_json::Map<String, serde_json::Value>| {
            let multi: serde_json::Map<_, _> = h.iter().map(|(k, v)| (k.clone(), json!([v]))).collect();
            json!({"httpMethod": "PUT", "headers": h, "multiValueHeaders": multi}).to_string()
        };
        let fine = event(headers(MAX_HEADER_NAMES - 1));
        assert_eq!(read(&fine).unwrap().authorization.value.as_deref(), Some("tok"));
        assert_eq!(
            read(&event(headers(40_000))).unwrap_err(),
            EnvelopeError::TooManyHeaders
        );
    }

    #[test]
    fn api_markers_make_an_event_api_shaped() {
        for marker in API_MARKERS {
            let raw = format!("{{\"{marker}\":null}}");
            assert!(read(&raw).unwrap().api_shaped, "{marker}");
        }
        assert!(!read(r#"{"username":"bob","body":"x"}"#).unwrap().api_shaped);
    }
}
