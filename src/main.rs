//! Init only: logging, configuration (fail fast, naming the variable), SDK clients built
//! once, the admin pool's signing keys fetched in the background, then the runtime loop.

use std::sync::Arc;
use std::time::SystemTime;

use admin_set_password::directory::eventbridge::EventBridgeChangeEvents;
use admin_set_password::error::AppError;
use admin_set_password::token::{HttpJwksFetch, JwksCache};
use admin_set_password::{telemetry, App, CognitoDirectory, Config, Invocation, Output, SecretsManagerStore};
use lambda_runtime::{service_fn, Error, LambdaEvent};
use serde_json::value::RawValue;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    telemetry::init_from_env();
    let config = Config::from_env().inspect_err(|err| {
        tracing::error!(error = %err, "configuration is invalid; fix the function's environment");
    })?;

    // Started first so the fetch overlaps the rest of init and the wait for the first event;
    // the first invocation awaits it.
    let https = admin_set_password::upstream::SharedHttps::new(&config.upstream);
    let keys = config.token.as_ref().map(|token| {
        let cache = Arc::new(JwksCache::new(HttpJwksFetch::with_https(
            token.jwks_url.clone(),
            https.clone(),
            config.upstream.operation_timeout,
        )));
        cache.start();
        cache
    });

    // Straight from Lambda's environment: aws-config's provider chains (profiles, SSO, STS,
    // ECS, IMDS) are then unreachable and LTO drops them (docs/performance.md, size).
    let sdk_config =
        admin_set_password::upstream::sdk_config_from_env(&config.upstream, &https).inspect_err(|err| {
            tracing::error!(error = %err, "the function's environment lacks what the SDK needs");
        })?;
    // A service-specific endpoint (AWS_ENDPOINT_URL_<SERVICE>) wins over the global one.
    macro_rules! client {
        ($sdk:ident, $sdk_config:expr, $endpoint:expr) => {{
            let mut builder = $sdk::config::Builder::from($sdk_config);
            if let Some(endpoint) = $endpoint {
                builder = builder.endpoint_url(endpoint);
            }
            $sdk::Client::from_conf(builder.build())
        }};
    }
    let endpoints = &config.endpoints;
    let directory = CognitoDirectory::new(client!(
        aws_sdk_cognitoidentityprovider,
        &sdk_config,
        endpoints.cognito.clone()
    ));
    let secrets = {
        let (sdk_config, endpoint) = (sdk_config.clone(), endpoints.secrets_manager.clone());
        SecretsManagerStore::lazy(move || client!(aws_sdk_secretsmanager, &sdk_config, endpoint.clone()))
    };

    if config.upstream.warmup {
        match directory.describe_pool(&config.user_pool_id).await {
            Ok(()) => {}
            Err(err @ AppError::Configuration { .. }) => {
                tracing::error!(detail = err.detail(), "USER_POOL_ID or the function's role is wrong");
                return Err(err.to_string().into());
            }
            Err(err) => tracing::warn!(detail = err.detail(), "warm-up call failed; continuing"),
        }
    }

    let events = config.event_bus_name.as_ref().map(|bus| {
        EventBridgeChangeEvents::new(
            client!(aws_sdk_eventbridge, &sdk_config, endpoints.eventbridge.clone()),
            bus.clone(),
        )
    });

    let app = App::new(config, directory, secrets, keys, events, Output::Stdout);
    let app = &app;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Box<RawValue>>| async move {
        let context = event.context;
        let invocation = Invocation {
            request_id: context.request_id,
            function_arn: context.invoked_function_arn,
            deadline: Invocation::deadline_from_runtime(context.deadline, SystemTime::now()),
        };
        app.handle(event.payload.get(), &invocation).await
    }))
    .await
}
