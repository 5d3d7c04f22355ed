//! Init only: logging, configuration (fail fast, naming the variable), SDK clients built
//! once, optional connection warm-up, then the runtime loop.

use admin_set_password::error::AppError;
use admin_set_password::{telemetry, App, CognitoDirectory, Config, MetricsSink, SecretsManagerStore};
use lambda_runtime::{service_fn, Error, LambdaEvent};
use serde_json::value::RawValue;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    telemetry::init_from_env();
    let config = Config::from_env().inspect_err(|err| {
        tracing::error!(error = %err, "configuration is invalid; fix the function's environment");
    })?;

    let sdk_config = admin_set_password::upstream::sdk_config_loader(&config.upstream)
        .load()
        .await;
    let directory = CognitoDirectory::new(aws_sdk_cognitoidentityprovider::Client::new(&sdk_config));
    let secrets = SecretsManagerStore::new(aws_sdk_secretsmanager::Client::new(&sdk_config));

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

    let app = App::new(config, directory, secrets, MetricsSink::Stdout);
    let app = &app;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Box<RawValue>>| async move {
        app.handle(event.payload.get(), &event.context.request_id).await
    }))
    .await
}
