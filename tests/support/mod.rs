//! Shared by the integration tests: a moto server per test binary on a free loopback port,
//! pool seeding and state checks through the real SDK, an `App` wired to moto with the real
//! adapters, and artifacts (captured logs, secrets used, API responses) written under
//! `target/test-artifacts/` for the secret scan and the OpenAPI check that `make test` runs.
#![allow(dead_code)]

pub mod http;
pub mod runtime_api;

use std::io::Write as _;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use admin_set_password::telemetry::{self, CapturedLogs};
use admin_set_password::{App, CognitoDirectory, Config, MetricsSink, SecretsManagerStore};
use aws_config::Region;
use aws_sdk_cognitoidentityprovider::config::Credentials;
use aws_sdk_cognitoidentityprovider::types::{
    AuthFlowType, ExplicitAuthFlowsType, MessageActionType, PasswordPolicyType, UserPoolPolicyType,
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
    /// `carol` (admins), `rooty` (root).
    pub async fn seeded() -> Self {
        let endpoint = moto_endpoint().to_owned();
        let base = Config::from_lookup(|k| match k {
            "USER_POOL_ID" => Some(format!("{REGION}_Seed")),
            "ADMIN_GROUPS" => Some("admins".into()),
            _ => None,
        })
        .unwrap();
        let cognito = Cognito::new(&sdk_config(&endpoint, &base).await);
        let policy = PasswordPolicyType::builder()
            .minimum_length(10)
            .require_uppercase(true)
            .require_lowercase(true)
            .require_numbers(true)
            .require_symbols(true)
            .build();
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
        pool
    }

    /// A confirmed user with `INITIAL_PASSWORD`, in `groups`.
    pub async fn add_user(&self, username: &str, groups: &[&str]) {
        self.cognito
            .admin_create_user()
            .user_pool_id(&self.id)
            .username(username)
            .temporary_password(INITIAL_PASSWORD)
            .message_action(MessageActionType::Suppress)
            .send()
            .await
            .expect("create user");
        self.cognito
            .admin_set_user_password()
            .user_pool_id(&self.id)
            .username(username)
            .password(INITIAL_PASSWORD)
            .permanent(true)
            .send()
            .await
            .expect("confirm user");
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
        let result = self
            .cognito
            .admin_initiate_auth()
            .user_pool_id(&self.id)
            .client_id(&self.client_id)
            .auth_flow(AuthFlowType::AdminUserPasswordAuth)
            .auth_parameters("USERNAME", username)
            .auth_parameters("PASSWORD", password)
            .send()
            .await;
        match result {
            Ok(out) if out.authentication_result().is_some() => SignIn::Tokens,
            Ok(out) => SignIn::Challenge(out.challenge_name().map(|c| c.as_str().to_owned()).unwrap_or_default()),
            Err(err) => SignIn::Refused(
                aws_sdk_cognitoidentityprovider::error::ProvideErrorMetadata::code(&err)
                    .unwrap_or("")
                    .to_owned(),
            ),
        }
    }

    /// A Secrets Manager secret in moto.
    pub async fn create_secret(&self, name: &str, value: &str) -> String {
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

    /// Function configuration for this pool: `ADMIN_GROUPS=admins,helpdesk`,
    /// `PASSWORD_SECRET_PREFIX=onboarding/`, no warm-up, plus `extra`.
    pub fn config(&self, extra: &[(&str, &str)]) -> Config {
        let mut vars: Vec<(String, String)> = vec![
            ("USER_POOL_ID".into(), self.id.clone()),
            ("ADMIN_GROUPS".into(), "admins,helpdesk".into()),
            ("PASSWORD_SECRET_PREFIX".into(), "onboarding/".into()),
            ("COGNITO_WARMUP".into(), "false".into()),
        ];
        vars.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        Config::from_lookup(|k| vars.iter().rev().find(|(n, _)| n == k).map(|(_, v)| v.clone())).unwrap()
    }

    /// A sample event from `events/`, retargeted at this pool.
    pub fn event(&self, name: &str) -> Value {
        serde_json::from_str(&sample(name).replace(SAMPLE_POOL, &self.id)).unwrap()
    }
}

pub fn sample(name: &str) -> String {
    let path = project_root().join("events").join(format!("{name}.json"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The function wired to `endpoint` with the real adapters, logs captured at TRACE (the most
/// talkative level, so the secret scan sees everything that could ever be written).
pub struct Harness {
    pub app: App<CognitoDirectory, SecretsManagerStore>,
    pub logs: CapturedLogs,
    pub metrics: Arc<Mutex<Vec<String>>>,
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
        let metrics = Arc::new(Mutex::new(Vec::new()));
        let app = App::new(
            config,
            CognitoDirectory::new(Cognito::new(&sdk)),
            SecretsManagerStore::new(aws_sdk_secretsmanager::Client::new(&sdk)),
            MetricsSink::Buffer(metrics.clone()),
        );
        Self {
            app,
            logs: CapturedLogs::default(),
            metrics,
            name: name.to_owned(),
            secrets_used: Vec::new(),
        }
    }

    /// Remembers a password or secret value this test used, for the scans.
    pub fn uses_secret(&mut self, secret: &str) {
        self.secrets_used.push(secret.to_owned());
    }

    /// Invokes the handler; checks there is exactly one audit line; records API responses.
    pub async fn invoke(&mut self, event: &Value) -> Invocation {
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
        let before = self.logs.audit_lines().len();
        let response = {
            let subscriber = telemetry::subscriber(self.logs.clone(), LevelFilter::TRACE, true);
            let _guard = tracing::subscriber::set_default(subscriber);
            self.app
                .handle(&event.to_string(), &format!("lambda-{}", self.name))
                .await
        };
        let audit_lines = self.logs.audit_lines();
        assert_eq!(
            audit_lines.len(),
            before + 1,
            "one audit line per invocation:\n{}",
            self.logs.contents()
        );
        let invocation = Invocation {
            response,
            audit: audit_lines[before].clone(),
        };
        if let Ok(response) = &invocation.response {
            if response.get("statusCode").is_some() {
                let (status, body) = invocation.api();
                let n = audit_lines.len();
                let file = artifacts_dir("responses").join(format!("{}-{n}.json", self.name));
                let headers = response["headers"].clone();
                let record = serde_json::json!({"status": status, "headers": headers, "body": body});
                std::fs::write(file, record.to_string()).unwrap();
            }
        }
        invocation
    }

    /// Asserts that no secret this test used appears in its logs or metrics, then writes both
    /// for the run-wide scan.
    pub fn assert_no_secret_leaked(&self) {
        let logs = self.logs.contents();
        let metrics = self.metrics.lock().unwrap().concat();
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
