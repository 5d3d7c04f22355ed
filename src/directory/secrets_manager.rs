//! `SecretStore` over Secrets Manager: `passwordSecretId` resolved to a password.

use std::sync::{Arc, OnceLock};

use aws_sdk_secretsmanager::Client as SecretsClient;

use super::sdk_errors::get_secret_value_error;
use super::{SecretStore, StoredSecret};
use crate::error::AppError;
use crate::request::Password;

/// Secrets Manager through the function's execution role.
#[derive(Clone)]
pub struct SecretsManagerStore {
    client: Arc<OnceLock<SecretsClient>>,
    build: Arc<dyn Fn() -> SecretsClient + Send + Sync>,
}

impl std::fmt::Debug for SecretsManagerStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SecretsManagerStore")
            .field("built", &self.client.get().is_some())
            .finish()
    }
}

impl SecretsManagerStore {
    pub fn new(client: SecretsClient) -> Self {
        // An SDK client is an `Arc` inside: the clone is the same client.
        Self::lazy(move || client.clone())
    }

    /// The client is built by `build` when the first `passwordSecretId` arrives. Most cold
    /// starts never read a secret (every API request, workflows with literal passwords), and
    /// building an SDK client is not free: its runtime plugins, and the endpoint partitions
    /// parsed from JSON once per SDK crate (docs/performance.md, "Levers").
    pub fn lazy(build: impl Fn() -> SecretsClient + Send + Sync + 'static) -> Self {
        Self {
            client: Arc::new(OnceLock::new()),
            build: Arc::new(build),
        }
    }

    fn client(&self) -> &SecretsClient {
        self.client.get_or_init(|| (self.build)())
    }
}

impl SecretStore for SecretsManagerStore {
    async fn password(&self, secret_id: &str) -> Result<StoredSecret, AppError> {
        let output = self
            .client()
            .get_secret_value()
            .secret_id(secret_id)
            .send()
            .await
            .map_err(get_secret_value_error)?;
        let unusable = |detail: &str| AppError::SecretUnusable {
            detail: detail.to_owned(),
        };
        let (Some(name), Some(arn)) = (output.name(), output.arn()) else {
            return Err(unusable("GetSecretValue answered without the secret's Name and ARN"));
        };
        let text = output
            .secret_string()
            .ok_or_else(|| unusable("the secret has no SecretString"))?;
        Ok(StoredSecret {
            name: name.to_owned(),
            arn: arn.to_owned(),
            password: password_from_secret_string(text.to_owned()).map_err(|err| unusable(&err.to_string()))?,
        })
    }
}

/// A secret holds either the bare password or a JSON object with a `password` key
/// (the shape the console's "key/value" editor writes).
fn password_from_secret_string(text: String) -> Result<Password, AppError> {
    let field = "passwordSecretId";
    if !text.trim_start().starts_with('{') {
        return Password::parse(text, field);
    }
    let Ok(serde_json::Value::Object(mut object)) = serde_json::from_str::<serde_json::Value>(&text) else {
        return Err(AppError::invalid(
            field,
            "the secret is neither a password nor a JSON object",
        ));
    };
    // Zero the raw JSON (it holds the password) instead of leaving it to the allocator.
    drop(secrecy::SecretString::from(text));
    match object.remove("password") {
        Some(serde_json::Value::String(password)) => Password::parse(password, field),
        _ => Err(AppError::invalid(
            field,
            "the secret's JSON has no string \"password\" key",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_strings_hold_a_bare_password_or_a_json_password_key() {
        assert!(password_from_secret_string("Bare-Passw0rd".into()).is_ok());
        assert!(password_from_secret_string(r#"{"password":"Json-Passw0rd","note":"x"}"#.into()).is_ok());
        for (bad, reason) in [
            (r#"{"pass":"x"}"#, "no string \"password\" key"),
            (r#"{"password":1}"#, "no string \"password\" key"),
            ("{not json", "neither a password nor a JSON object"),
            ("short", "6 to 256 characters"),
            (" Padded-Passw0rd", "whitespace"),
        ] {
            let err = password_from_secret_string(bad.into()).unwrap_err();
            assert!(err.to_string().contains(reason), "{bad}: {err}");
        }
    }
}
