//! Shared by the integration tests: a moto server per test binary on a free loopback port,
//! pool seeding and state checks through the real SDK, an `App` wired to moto with the real
//! adapters, and artifacts (captured logs, secrets used, API responses) written under
//! `target/test-artifacts/` for the secret scan and the OpenAPI check that `make test` runs.
#![allow(dead_code)]

pub mod events;
pub mod fault_proxy;
pub mod http;
pub mod runtime_api;

use std::io::Write as _;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use admin_set_password::directory::eventbridge::EventBridgeChangeEvents;
use admin_set_password::telemetry::{self, CapturedLogs};
use admin_set_password::token::{HttpJwksFetch, JwksCache};
use admin_set_password::{App, CognitoDirectory, Config, Output, SecretsManagerStore};
use aws_config::Region;
use aws_sdk_cognitoidentityprovider::config::Credentials;
use aws_sdk_cognitoidentityprovider::types::{
    AttributeType, AuthFlowType, ExplicitAuthFlowsType, MessageActionType, PasswordPolicyType, UserPoolPolicyType,
};
use aws_sdk_cognitoidentityprovider::Client as Cognito;
use serde_json::Value;
use tracing::level_filters::LevelFilter;

pub const REGION: &str = "us-east-1";
/// The pool id the sample events carry; replaced by the seeded pool's id.
pub const SAMPLE_POOL: &str = "us-east-1_Example";
/// The password every seeded user starts with.
pub const INITIAL_PASSWORD: &str = "Initial-Passw0rd!1";

pub fn project_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

pub fn artifacts_dir(kind: &str) -> PathBuf {
    let dir = project_root().join("target/test-artifacts").join(kind);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A free loopback port (bound, then released).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Waits until something accepts connections on `port`.
pub fn wait_for_port(port: u16, within: Duration) -> bool {
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    false
}

/// The moto server for this test binary: started once, on a free port, killed when the test
/// process exits (it is spawned from a thread that lives as long as the process, with
/// PR_SET_PDEATHSIG).
pub fn moto_endpoint() -> &'static str {
    static ENDPOINT: OnceLock<String> = OnceLock::new();
    ENDPOINT.get_or_init(|| {
        let program = std::env::var("MOTO_SERVER")
            .map(PathBuf::from)
            .unwrap_or_else(|_| project_root().join(".venv/bin/moto_server"));
        assert!(
            program.exists(),
            "{} not found: run `make venv` (or set MOTO_SERVER)",
            program.display()
        );
        let port = free_port();
        let (started, ready) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut command = Command::new(&program);
            command
                .args(["-H", "127.0.0.1", "-p", &port.to_string()])
                .stdout(Stdio::null())
                .stderr(Stdio::null());
            unsafe {
                use std::os::unix::process::CommandExt;
                command.pre_exec(|| {
                    libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                    Ok(())
                });
            }
            let child = command.spawn().expect("start moto_server");
            started.send(()).unwrap();
            let _keep = child;
            loop {
                std::thread::park();
            }
        });
        ready.recv().unwrap();
        assert!(
            wait_for_port(port, Duration::from_secs(60)),
            "moto_server did not start on port {port}"
        );
        format!("http://127.0.0.1:{port}")
    })
}

/// SDK configuration pointed at `endpoint` with dummy credentials, through the function's own
/// loader (same timeouts and retries).
pub async fn sdk_config(endpoint: &str, config: &Config) -> aws_config::SdkConfig {
    admin_set_password::upstream::sdk_config_loader(&config.upstream)
        .endpoint_url(endpoint)
        .region(Region::new(REGION))
        .credentials_provider(Credentials::new("testing", "testing", None, None, "tests"))
        .load()
        .await
}

/// A seeded user pool in moto.
pub struct Pool {
    /// This pool's secret prefix: moto's Secrets Manager is shared by every test of the
    /// binary, so each pool's secrets live under their own `onboarding/<tag>/`.
    pub secret_prefix: String,
    pub id: String,
    pub client_id: String,
    pub cognito: Cognito,
    pub endpoint: String,
}

/// How a sign-in went.
#[derive(Debug, PartialEq, Eq)]
pub enum SignIn {
    Tokens,
    Challenge(String),
    Refused(String),
}

impl Pool {
    /// A new pool with a strict password policy, an app client for admin sign-in, the groups
    /// `admins`, `helpdesk`, `root`, `staff`, and users `alice` (admins), `bob` (staff),
    /// `carol` (admins), `rooty` (root), `erin` (staff, with a verified email: a reset target).
    pub async fn seeded() -> Self {
        let strict = PasswordPolicyType::builder()
            .minimum_length(10)
            .require_uppercase(true)
            .require_lowercase(true)
            .require_numbers(true)
            .require_symbols(true)
            .build();
        Self::seeded_with(strict).await
    }

    /// `seeded` with another password policy.
    pub async fn seeded_with(policy: PasswordPolicyType) -> Self {
        let endpoint = moto_endpoint().to_owned();
        let base = admin_set_password::testing::config(&[]);
        let cognito = Cognito::new(&sdk_config(&endpoint, &base).await);
        let pool = cognito
            .create_user_pool()
            .pool_name(format!("test-{}", free_port()))
            .policies(UserPoolPolicyType::builder().password_policy(policy).build())
            .send()
            .await
            .expect("create pool");
        let id = pool.user_pool().and_then(|p| p.id()).unwrap().to_owned();
        let client = cognito
            .create_user_pool_client()
            .user_pool_id(&id)
            .client_name("admin-portal")
            .explicit_auth_flows(ExplicitAuthFlowsType::AllowAdminUserPasswordAuth)
            .explicit_auth_flows(ExplicitAuthFlowsType::AllowRefreshTokenAuth)
            .send()
            .await
            .expect("create client");
        let client_id = client
            .user_pool_client()
            .and_then(|c| c.client_id())
            .unwrap()
            .to_owned();
        let pool = Self {
            secret_prefix: format!("onboarding/{}/", &id[id.len().saturating_sub(10)..]),
            id,
            client_id,
            cognito,
            endpoint,
        };
        for group in ["admins", "helpdesk", "root", "staff"] {
            pool.cognito
                .create_group()
                .user_pool_id(&pool.id)
                .group_name(group)
                .send()
                .await
                .expect("group");
        }
        for (user, groups) in [
            ("alice", &["admins"][..]),
            ("bob", &["staff"]),
            ("carol", &["admins"]),
            ("rooty", &["root"]),
        ] {
            pool.add_user(user, groups).await;
        }
        pool.add_user("erin", &["staff"]).await;
        pool.verify_email("erin").await;
        pool.add_new_user("newbie", &["staff"]).await;
        pool
    }

    /// Gives the user a verified email: somewhere Cognito can send a reset code.
    pub async fn verify_email(&self, username: &str) {
        let attribute = |name: &str, value: &str| AttributeType::builder().name(name).value(value).build().unwrap();
        self.cognito
            .admin_update_user_attributes()
            .user_pool_id(&self.id)
            .username(username)
            .user_attributes(attribute("email", &format!("{username}@example.com")))
            .user_attributes(attribute("email_verified", "true"))
            .send()
            .await
            .expect("verify email");
    }

    /// A user as an onboarding workflow finds them: created, status FORCE_CHANGE_PASSWORD.
    pub async fn add_new_user(&self, username: &str, groups: &[&str]) {
        self.cognito
            .admin_create_user()
            .user_pool_id(&self.id)
            .username(username)
            .temporary_password(INITIAL_PASSWORD)
            .message_action(MessageActionType::Suppress)
            .send()
            .await
            .expect("create user");
        for group in groups {
            self.cognito
                .admin_add_user_to_group()
                .user_pool_id(&self.id)
                .username(username)
                .group_name(*group)
                .send()
                .await
                .expect("add to group");
        }
    }

    /// A real ID token from moto (`AdminInitiateAuth`, `ADMIN_USER_PASSWORD_AUTH`) for a user
    /// who still has `INITIAL_PASSWORD`.
    pub async fn id_token(&self, username: &str) -> String {
        self.tokens(username).await.0
    }

    /// `(id token, access token)` for `username` from moto's `AdminInitiateAuth`.
    pub async fn tokens(&self, username: &str) -> (String, String) {
        let out = self
            .initiate_auth(username, INITIAL_PASSWORD)
            .await
            .expect("AdminInitiateAuth");
        let tokens = out.authentication_result().expect("tokens, not a challenge");
        (
            tokens.id_token().expect("an ID token").to_owned(),
            tokens.access_token().expect("an access token").to_owned(),
        )
    }

    /// `AdminInitiateAuth` with `ADMIN_USER_PASSWORD_AUTH` through the pool's app client.
    async fn initiate_auth(
        &self,
        username: &str,
        password: &str,
    ) -> Result<
        aws_sdk_cognitoidentityprovider::operation::admin_initiate_auth::AdminInitiateAuthOutput,
        aws_sdk_cognitoidentityprovider::error::SdkError<
            aws_sdk_cognitoidentityprovider::operation::admin_initiate_auth::AdminInitiateAuthError,
        >,
    > {
        self.cognito
            .admin_initiate_auth()
            .user_pool_id(&self.id)
            .client_id(&self.client_id)
            .auth_flow(AuthFlowType::AdminUserPasswordAuth)
            .auth_parameters("USERNAME", username)
            .auth_parameters("PASSWORD", password)
            .send()
            .await
    }

    /// A sample API event retargeted at this pool, carrying a real moto ID token of the user
    /// its claims name, with the claims rewritten to what API Gateway would pass for that
    /// token (real `sub`, groups in the shape's format).
    pub async fn api_event(&self, name: &str) -> Value {
        let mut event = self.event(name);
        let username = claims_mut(&mut event)["cognito:username"].as_str().unwrap().to_owned();
        let token = self.id_token(&username).await;
        authorize_as(&mut event, &token);
        event
    }

    /// Disables a user (AdminDisableUser).
    pub async fn disable(&self, username: &str) {
        self.cognito
            .admin_disable_user()
            .user_pool_id(&self.id)
            .username(username)
            .send()
            .await
            .expect("disable user");
    }

    /// Deletes a user and creates a new one under the same name, groups and password.
    pub async fn recreate(&self, username: &str, groups: &[&str]) {
        self.cognito
            .admin_delete_user()
            .user_pool_id(&self.id)
            .username(username)
            .send()
            .await
            .expect("delete user");
        self.add_user(username, groups).await;
    }

    /// A confirmed user with `INITIAL_PASSWORD`, in `groups`.
    pub async fn add_user(&self, username: &str, groups: &[&str]) {
        self.add_new_user(username, groups).await;
        self.confirm(username).await;
    }

    /// Gives the user `INITIAL_PASSWORD` again, permanently (status CONFIRMED).
    pub async fn confirm(&self, username: &str) {
        self.cognito
            .admin_set_user_password()
            .user_pool_id(&self.id)
            .username(username)
            .password(INITIAL_PASSWORD)
            .permanent(true)
            .send()
            .await
            .expect("confirm user");
    }

    pub async fn remove_from_group(&self, username: &str, group: &str) {
        self.cognito
            .admin_remove_user_from_group()
            .user_pool_id(&self.id)
            .username(username)
            .group_name(group)
            .send()
            .await
            .expect("remove from group");
    }

    async fn get_user(
        &self,
        username: &str,
    ) -> aws_sdk_cognitoidentityprovider::operation::admin_get_user::AdminGetUserOutput {
        let request = self.cognito.admin_get_user().user_pool_id(&self.id).username(username);
        request.send().await.expect("get user")
    }

    /// The user's status as Cognito (moto) holds it.
    pub async fn status(&self, username: &str) -> String {
        let user = self.get_user(username).await;
        user.user_status().map(|s| s.as_str().to_owned()).unwrap_or_default()
    }

    pub async fn sub(&self, username: &str) -> String {
        let user = self.get_user(username).await;
        let sub = user.user_attributes().iter().find(|a| a.name() == "sub");
        sub.and_then(|a| a.value()).expect("every user has a sub").to_owned()
    }

    /// `AdminInitiateAuth` with `ADMIN_USER_PASSWORD_AUTH`.
    pub async fn sign_in(&self, username: &str, password: &str) -> SignIn {
        match self.initiate_auth(username, password).await {
            Ok(out) if out.authentication_result().is_some() => SignIn::Tokens,
            Ok(out) => SignIn::Challenge(out.challenge_name().map(|c| c.as_str().to_owned()).unwrap_or_default()),
            Err(err) => SignIn::Refused(
                aws_sdk_cognitoidentityprovider::error::ProvideErrorMetadata::code(&err)
                    .unwrap_or("")
                    .to_owned(),
            ),
        }
    }

    /// The secret id a workflow gives for `username` in this pool.
    pub fn secret_id(&self, username: &str) -> String {
        format!("{}{username}", self.secret_prefix)
    }

    /// A Secrets Manager secret in moto; a name under `onboarding/` goes under this pool's prefix.
    pub async fn create_secret(&self, name: &str, value: &str) -> String {
        let name = &name.replacen("onboarding/", &self.secret_prefix, 1);
        let base = self.config(&[]);
        let secrets = aws_sdk_secretsmanager::Client::new(&sdk_config(&self.endpoint, &base).await);
        let out = secrets
            .create_secret()
            .name(name)
            .secret_string(value)
            .send()
            .await
            .expect("create secret");
        out.arn().unwrap().to_owned()
    }

    /// Function configuration for this pool (the one test builder, `testing::config`, with
    /// this pool, its app client, moto as the endpoint for the keys, no warm-up), plus `extra`.
    pub fn config(&self, extra: &[(&str, &str)]) -> Config {
        let mut vars = vec![
            ("USER_POOL_ID", self.id.as_str()),
            ("ADMIN_CLIENT_IDS", self.client_id.as_str()),
            ("AWS_ENDPOINT_URL", self.endpoint.as_str()),
            ("COGNITO_WARMUP", "false"),
            ("PASSWORD_SECRET_PREFIX", self.secret_prefix.as_str()),
        ];
        vars.extend_from_slice(extra);
        admin_set_password::testing::config(&vars)
    }

    /// A sample event from `events/`, retargeted at this pool.
    pub fn event(&self, name: &str) -> Value {
        let text = sample(name)
            .replace(SAMPLE_POOL, &self.id)
            .replace("\"onboarding/", &format!("\"{}", self.secret_prefix));
        serde_json::from_str(&text).unwrap()
    }
}

/// The authorizer claims of an API event (REST `claims` or HTTP `jwt.claims`).
pub fn claims_mut(event: &mut Value) -> &mut Value {
    if event["version"] == "2.0" {
        &mut event["requestContext"]["authorizer"]["jwt"]["claims"]
    } else {
        &mut event["requestContext"]["authorizer"]["claims"]
    }
}

/// The payload of a JWT, decoded without any check (tests read what moto put in).
pub fn token_claims(token: &str) -> Value {
    use base64::Engine as _;
    let payload = token.split('.').nth(1).expect("a JWT");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .expect("base64url");
    serde_json::from_slice(&bytes).expect("JSON claims")
}

/// Puts `token` in the event's `Authorization` header and makes the authorizer claims say
/// what the token says, as API Gateway would.
pub fn authorize_as(event: &mut Value, token: &str) {
    let http = event["version"] == "2.0";
    let claims = token_claims(token);
    let groups: Vec<&str> = claims["cognito:groups"]
        .as_array()
        .map(|g| g.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let target = claims_mut(event);
    for name in ["iss", "sub", "cognito:username", "aud", "token_use"] {
        target[name] = claims[name].clone();
    }
    match groups.is_empty() {
        true => {
            target.as_object_mut().unwrap().remove("cognito:groups");
        }
        false if http => target["cognito:groups"] = Value::from(format!("[{}]", groups.join(" "))),
        false => target["cognito:groups"] = Value::from(groups.join(",")),
    }
    admin_set_password::testing::set_authorization(event, &format!("Bearer {token}"));
}

pub fn sample(name: &str) -> String {
    let path = project_root().join("events").join(format!("{name}.json"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The function wired to `endpoint` with the real adapters, logs captured at TRACE (the most
/// talkative level, so the secret scan sees everything that could ever be written).
/// The admin pool's keys as the function gets them: fetched over HTTP from the endpoint.
pub type Keys = Option<Arc<JwksCache<HttpJwksFetch>>>;

pub struct Harness {
    pub app: App<CognitoDirectory, SecretsManagerStore, Keys, EventBridgeChangeEvents>,
    pub logs: CapturedLogs,
    pub output: Output,
    name: String,
    secrets_used: Vec<String>,
}

/// The result of one invocation.
pub struct Invocation {
    pub response: Result<Value, lambda_runtime::Diagnostic>,
    pub audit: Value,
}

impl Invocation {
    /// Status and parsed body of an API response.
    pub fn api(&self) -> (u64, Value) {
        let response = self.response.as_ref().expect("API shapes answer with a proxy response");
        let body = serde_json::from_str(response["body"].as_str().expect("body is a string")).expect("JSON body");
        (response["statusCode"].as_u64().unwrap(), body)
    }

    /// The `errorType` of a direct invocation's failure.
    pub fn error_type(&self) -> &str {
        &self
            .response
            .as_ref()
            .expect_err("expected a function error")
            .error_type
    }
}

impl Harness {
    pub async fn new(name: &str, endpoint: &str, config: Config) -> Self {
        let sdk = sdk_config(endpoint, &config).await;
        let output = admin_set_password::testing::buffer();
        let keys = config.token.as_ref().map(|token| {
            let cache = Arc::new(JwksCache::new(HttpJwksFetch::new(
                token.jwks_url.clone(),
                config.upstream.connect_timeout,
                config.upstream.operation_timeout,
            )));
            cache.start();
            cache
        });
        let events = config
            .event_bus_name
            .as_ref()
            .map(|bus| EventBridgeChangeEvents::new(aws_sdk_eventbridge::Client::new(&sdk), bus.clone()));
        let app = App::new(
            config,
            CognitoDirectory::new(Cognito::new(&sdk)),
            SecretsManagerStore::new(aws_sdk_secretsmanager::Client::new(&sdk)),
            keys,
            events,
            output.clone(),
        );
        Self {
            app,
            logs: CapturedLogs::default(),
            output,
            name: name.to_owned(),
            secrets_used: Vec::new(),
        }
    }

    /// Remembers a password or secret value this test used, for the scans.
    pub fn uses_secret(&mut self, secret: &str) {
        self.secrets_used.push(secret.to_owned());
    }

    /// Invokes the handler with Lambda's default 15 s left; checks there is exactly one
    /// audit line; records API responses.
    pub async fn invoke(&mut self, event: &Value) -> Invocation {
        self.invoke_with_deadline(event, Duration::from_secs(15)).await
    }

    /// Like `invoke`, with `left` until the Lambda deadline.
    pub async fn invoke_with_deadline(&mut self, event: &Value, left: Duration) -> Invocation {
        if let Some(password) = event.get("password").and_then(Value::as_str) {
            self.secrets_used.push(password.to_owned());
        }
        if let Some(body) = event.get("body").and_then(Value::as_str) {
            if let Ok(Value::Object(body)) = serde_json::from_str::<Value>(body) {
                if let Some(Value::String(password)) = body.get("password") {
                    self.secrets_used.push(password.clone());
                }
            }
        }
        for map in ["headers", "multiValueHeaders"] {
            if let Some(headers) = event.get(map).and_then(Value::as_object) {
                for (name, value) in headers {
                    if name.eq_ignore_ascii_case("authorization") {
                        let value = value.as_str().or_else(|| value.get(0).and_then(Value::as_str));
                        if let Some(token) = value.map(|v| v.trim_start_matches("Bearer ")).filter(|t| t.len() > 40) {
                            self.secrets_used.push(token.to_owned());
                        }
                    }
                }
            }
        }
        let before = admin_set_password::testing::audit_lines(&self.output).len();
        let invocation = admin_set_password::Invocation {
            request_id: format!("lambda-{}", self.name),
            function_arn: format!("arn:aws:lambda:{REGION}:123456789012:function:admin-set-password"),
            deadline: Some(std::time::SystemTime::now() + left),
        };
        let response = {
            let subscriber = telemetry::subscriber(self.logs.clone(), LevelFilter::TRACE, true);
            let _guard = tracing::subscriber::set_default(subscriber);
            self.app.handle(&event.to_string(), &invocation).await
        };
        let audit_lines = admin_set_password::testing::audit_lines(&self.output);
        assert_eq!(
            audit_lines.len(),
            before + 1,
            "one audit line per invocation:\n{:?}",
            admin_set_password::testing::lines(&self.output)
        );
        let invocation = Invocation {
            response,
            audit: audit_lines[before].clone(),
        };
        // A generated password is a secret too: it must appear nowhere but in this response.
        let generated = match &invocation.response {
            Ok(response) if response.get("statusCode").is_some() => {
                serde_json::from_str::<Value>(response["body"].as_str().unwrap_or("{}"))
                    .ok()
                    .and_then(|body| body["password"].as_str().map(str::to_owned))
            }
            _ => None,
        };
        self.secrets_used.extend(generated);
        if let Ok(response) = &invocation.response {
            if response.get("statusCode").is_some() {
                let (status, body) = invocation.api();
                let n = audit_lines.len();
                let file = artifacts_dir("responses").join(format!("{}-{n}.json", self.name));
                let headers = response["headers"].clone();
                let action = invocation.audit["action"].clone();
                let record = serde_json::json!({"status": status, "headers": headers, "body": body, "action": action});
                std::fs::write(file, record.to_string()).unwrap();
            }
        }
        invocation
    }

    /// Asserts that no secret this test used appears in its logs or metrics, then writes both
    /// for the run-wide scan.
    pub fn assert_no_secret_leaked(&self) {
        let logs = self.logs.contents();
        let metrics = admin_set_password::testing::lines(&self.output).concat();
        for secret in &self.secrets_used {
            assert!(
                !logs.contains(secret.as_str()),
                "a password reached the logs of {}",
                self.name
            );
            assert!(
                !metrics.contains(secret.as_str()),
                "a password reached the metrics of {}",
                self.name
            );
        }
        write_artifacts(&self.name, &format!("{logs}{metrics}"), &self.secrets_used);
    }
}

/// Saves captured output and the secrets used, for `tools/scan_secrets.py`.
pub fn write_artifacts(name: &str, output: &str, secrets: &[String]) {
    std::fs::write(artifacts_dir("logs").join(format!("{name}.log")), output).unwrap();
    let mut file = std::fs::File::create(artifacts_dir("secrets").join(format!("{name}.txt"))).unwrap();
    for secret in secrets {
        writeln!(file, "{secret}").unwrap();
    }
}

/// moto's fixed signing key (shipped in its package resources as n/e/d), as PKCS#1 DER and
/// its public key as PEM, so a test can make tokens moto would have signed with one claim
/// wrong. Converted by the venv's Python (`cryptography`, a moto dependency).
pub fn moto_signing_key() -> (Vec<u8>, Vec<u8>) {
    static KEY: OnceLock<(Vec<u8>, Vec<u8>)> = OnceLock::new();
    KEY.get_or_init(|| {
        const SCRIPT: &str = r#"
import base64, gzip, json, os, sys
import moto
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
path = os.path.join(os.path.dirname(moto.__file__), "cognitoidp", "resources", "jwks-private.json.gz")
k = json.load(gzip.open(path))
num = lambda s: int.from_bytes(base64.urlsafe_b64decode(s + "=" * (-len(s) % 4)), "big")
n, e, d = num(k["n"]), num(k["e"]), num(k["d"])
p, q = rsa.rsa_recover_prime_factors(n, e, d)
key = rsa.RSAPrivateNumbers(p, q, d, rsa.rsa_crt_dmp1(d, p), rsa.rsa_crt_dmq1(d, q),
                            rsa.rsa_crt_iqmp(p, q), rsa.RSAPublicNumbers(e, n)).private_key()
der = key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.TraditionalOpenSSL,
                        serialization.NoEncryption())
pem = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
sys.stdout.write(der.hex() + "\n" + pem.hex())
"#;
        let python = std::env::var("MOTO_SERVER")
            .map(|m| PathBuf::from(m).with_file_name("python"))
            .unwrap_or_else(|_| project_root().join(".venv/bin/python"));
        let out = Command::new(python)
            .args(["-c", SCRIPT])
            .output()
            .expect("run the venv python");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let text = String::from_utf8(out.stdout).unwrap();
        let (der, pem) = text.split_once('\n').unwrap();
        let hex = |h: &str| {
            (0..h.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&h[i..i + 2], 16).unwrap())
                .collect()
        };
        (hex(der), hex(pem))
    })
    .clone()
}

/// A token signed with `alg` and `key` over `header` and `claims` taken verbatim.
pub fn sign_token(
    header: &Value,
    claims: &Value,
    key: &jsonwebtoken::EncodingKey,
    alg: jsonwebtoken::Algorithm,
) -> String {
    use base64::Engine as _;
    let b64 = |v: &Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
    let input = format!("{}.{}", b64(header), b64(claims));
    let signature = jsonwebtoken::crypto::sign(input.as_bytes(), key, alg).expect("sign");
    format!("{input}.{signature}")
}
