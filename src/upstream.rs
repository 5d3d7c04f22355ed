//! What the AWS adapters (`directory/`) share: one SDK configuration with bounded timeouts and
//! retries, on one HTTPS client.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, ConfigLoader};
use aws_smithy_runtime_api::client::http::{http_client_fn, SharedHttpClient, SharedHttpConnector};

pub mod https;

/// Timeouts and retries for every Cognito and Secrets Manager call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpstreamSettings {
    pub connect_timeout: Duration,
    pub attempt_timeout: Duration,
    pub operation_timeout: Duration,
    pub max_attempts: u32,
    /// Call `DescribeUserPool` at init: proves `USER_POOL_ID` and the role before the first
    /// request. Off by default: measured, it adds a round trip to init and saves almost
    /// nothing later, because the concurrent look-ups need connections of their own
    /// (docs/performance.md).
    pub warmup: bool,
}

/// Region, credentials and `AWS_ENDPOINT_URL` from the environment, with our timeouts and
/// retries, so a Cognito endpoint that never answers costs at most `operation_timeout` per
/// phase. Tests add an explicit endpoint and credentials to the same loader.
pub fn sdk_config_loader(settings: &UpstreamSettings) -> ConfigLoader {
    sdk_config_loader_with(settings, &SharedHttps::new(settings))
}

/// The same configuration built straight from Lambda's environment, without aws-config's
/// provider chains: region from `AWS_REGION`, the execution role's credentials from the
/// environment (where Lambda puts them), `AWS_ENDPOINT_URL` if set. Nothing of aws-config's
/// profile files, SSO, STS web identity, ECS or IMDS providers is then reachable, so LTO
/// drops them from the binary (docs/performance.md, "Levers": the size lever). Errors name
/// the missing variable.
pub fn sdk_config_from_env(settings: &UpstreamSettings, https: &SharedHttps) -> Result<aws_config::SdkConfig, String> {
    use aws_sdk_cognitoidentityprovider::config::{Credentials, Region, SharedCredentialsProvider};
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    let required = |name: &'static str| var(name).ok_or_else(|| format!("{name} is required but not set"));
    let credentials = Credentials::new(
        required("AWS_ACCESS_KEY_ID")?,
        required("AWS_SECRET_ACCESS_KEY")?,
        var("AWS_SESSION_TOKEN"),
        None,
        "lambda-environment",
    );
    let mut builder = aws_config::SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(required("AWS_REGION")?))
        .credentials_provider(SharedCredentialsProvider::new(credentials))
        .http_client(https.http_client())
        .timeout_config(timeout_config(settings))
        .retry_config(RetryConfig::standard().with_max_attempts(settings.max_attempts));
    if let Some(endpoint) = var("AWS_ENDPOINT_URL") {
        builder = builder.endpoint_url(endpoint);
    }
    Ok(builder.build())
}

fn timeout_config(settings: &UpstreamSettings) -> TimeoutConfig {
    TimeoutConfig::builder()
        .connect_timeout(settings.connect_timeout)
        .operation_attempt_timeout(settings.attempt_timeout)
        .operation_timeout(settings.operation_timeout)
        .build()
}

/// The same, with the SDK clients on `https`, so that whatever else uses `https` (the JWKS
/// fetch) shares their connection pool and root store.
pub fn sdk_config_loader_with(settings: &UpstreamSettings, https: &SharedHttps) -> ConfigLoader {
    aws_config::defaults(BehaviorVersion::latest())
        .http_client(https.http_client())
        .timeout_config(timeout_config(settings))
        .retry_config(RetryConfig::standard().with_max_attempts(settings.max_attempts))
}

/// One HTTPS stack (`https::HttpsConnector`: hyper + rustls with ring, HTTP/1.1), one
/// connector, so one connection pool and one root store for every client of it: the SDK
/// clients and the JWKS fetch. Built on first use, not at init, and the environment's roots
/// (`SSL_CERT_FILE`/`SSL_CERT_DIR`) are only read if set (docs/performance.md, "Levers").
#[derive(Clone)]
pub struct SharedHttps {
    connector: Arc<OnceLock<SharedHttpConnector>>,
    connect_timeout: Duration,
}

impl SharedHttps {
    pub fn new(settings: &UpstreamSettings) -> Self {
        Self::with_connect_timeout(settings.connect_timeout)
    }

    pub fn with_connect_timeout(connect_timeout: Duration) -> Self {
        Self {
            connector: Arc::new(OnceLock::new()),
            connect_timeout,
        }
    }

    /// The connector, built on the first call. Operation and attempt timeouts stay the SDK's
    /// (its orchestrator enforces them); the connector only bounds connecting.
    pub fn connector(&self) -> SharedHttpConnector {
        self.connector
            .get_or_init(|| {
                let (roots, _) = https::root_store(|name| std::env::var(name).ok());
                SharedHttpConnector::new(https::HttpsConnector::new(roots, self.connect_timeout))
            })
            .clone()
    }

    /// This connector as the SDK's HTTP client (whatever per-operation settings it asks with).
    pub fn http_client(&self) -> SharedHttpClient {
        let https = self.clone();
        http_client_fn(move |_settings, _components| https.connector())
    }
}
