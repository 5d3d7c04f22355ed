//! Strict JSON: like `serde_json::from_str::<Value>`, but a duplicated object key is an error.
//! Otherwise `{"cognito:groups":"x","cognito:groups":"admins"}` would silently keep the last
//! value, and a forged duplicate could win. Nesting stays bounded by serde_json's recursion limit.

use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

/// Why a document was refused. Deliberately says nothing about the content.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JsonError {
    DuplicateKey,
    Malformed,
}

impl fmt::Display for JsonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::DuplicateKey => "contains a duplicated object key",
            Self::Malformed => "is not valid JSON (or is nested too deeply)",
        })
    }
}

const DUPLICATE: &str = "duplicate object key";

/// Parses `input`, refusing duplicated keys at any depth.
pub fn parse_strict(input: &str) -> Result<Value, JsonError> {
    let mut deserializer = serde_json::Deserializer::from_str(input);
    let value = StrictValue
        .deserialize(&mut deserializer)
        .and_then(|v| deserializer.end().map(|()| v))
        .map_err(|e| {
            if e.to_string().starts_with(DUPLICATE) {
                JsonError::DuplicateKey
            } else {
                JsonError::Malformed
            }
        })?;
    Ok(value)
}

struct StrictValue;

impl<'de> DeserializeSeed<'de> for StrictValue {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for StrictValue {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(StrictValue)? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut object = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if object.contains_key(&key) {
                return Err(de::Error::custom(DUPLICATE));
            }
            let value = map.next_value_seed(StrictValue)?;
            object.insert(key, value);
        }
        Ok(Value::Object(object))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn ordinary_documents_parse_like_serde_json() {
        let doc = r#"{"a":[1,-2,3.5,true,null,"x"],"b":{"c":"d"}}"#;
        assert_eq!(parse_strict(doc).unwrap(), serde_json::from_str::<Value>(doc).unwrap());
        assert_eq!(parse_strict(" 1 ").unwrap(), json!(1));
    }

    #[test]
    fn duplicated_keys_are_refused_at_any_depth() {
        assert_eq!(parse_strict(r#"{"a":1,"a":2}"#), Err(JsonError::DuplicateKey));
        assert_eq!(
            parse_strict(r#"{"claims":{"cognito:groups":"x","cognito:groups":"admins"}}"#),
            Err(JsonError::DuplicateKey)
        );
        assert_eq!(parse_strict(r#"[{"k":1,"k":1}]"#), Err(JsonError::DuplicateKey));
    }

    #[test]
    fn malformed_trailing_and_deeply_nested_input_is_refused() {
        for bad in ["", "{", "{\"a\":1} x", "\"unterminated", "nul"] {
            assert_eq!(parse_strict(bad), Err(JsonError::Malformed), "{bad:?}");
        }
        let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
        assert_eq!(parse_strict(&deep), Err(JsonError::Malformed));
    }
}
