//! Log output: JSON by default (Lambda's advanced logging and the audit trail want it), text
//! if `AWS_LAMBDA_LOG_FORMAT=Text`; level from `AWS_LAMBDA_LOG_LEVEL`, then `RUST_LOG`.

use tracing::level_filters::LevelFilter;
use tracing::Subscriber;
use tracing_subscriber::filter::Targets;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt;

/// Installs the global subscriber from Lambda's environment variables.
pub fn init_from_env() {
    let level = std::env::var("AWS_LAMBDA_LOG_LEVEL")
        .or_else(|_| std::env::var("RUST_LOG"))
        .ok()
        .and_then(|v| parse_level(&v))
        .unwrap_or(LevelFilter::INFO);
    let json = !std::env::var("AWS_LAMBDA_LOG_FORMAT").is_ok_and(|f| f.eq_ignore_ascii_case("text"));
    let _ = tracing::subscriber::set_global_default(subscriber(std::io::stdout, level, json));
}

/// Lambda's level names (FATAL included) or tracing's.
fn parse_level(value: &str) -> Option<LevelFilter> {
    match value.trim().to_ascii_lowercase().as_str() {
        "fatal" => Some(LevelFilter::ERROR),
        other => other.parse().ok(),
    }
}

/// The subscriber used in Lambda and, with a capturing writer, in tests.
pub fn subscriber<W>(writer: W, level: LevelFilter, json: bool) -> Box<dyn Subscriber + Send + Sync>
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    let builder = tracing_subscriber::fmt()
        .with_max_level(LevelFilter::TRACE)
        .with_writer(writer);
    if json {
        Box::new(
            builder
                .json()
                .flatten_event(true)
                .with_current_span(false)
                .with_span_list(false)
                .finish()
                .with(filter(level)),
        )
    } else {
        Box::new(builder.finish().with(filter(level)))
    }
}

/// Audit lines always pass. Dependencies never log below DEBUG: at TRACE, the runtime logs
/// each raw event and the HTTP stack can log request bodies, and both hold the password.
/// (`Targets` rather than `EnvFilter`: the same per-target levels without a regex engine.)
fn filter(level: LevelFilter) -> Targets {
    Targets::new()
        .with_default(level.min(LevelFilter::DEBUG))
        .with_target("admin_set_password", level)
        .with_target("audit", LevelFilter::INFO)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lambda_level_names_are_understood() {
        assert_eq!(parse_level("FATAL"), Some(LevelFilter::ERROR));
        assert_eq!(parse_level("WARN"), Some(LevelFilter::WARN));
        assert_eq!(parse_level("trace"), Some(LevelFilter::TRACE));
        assert_eq!(parse_level("loud"), None);
    }

    #[test]
    fn trace_level_is_capped_for_dependencies_and_audit_always_passes() {
        let capture = |level: LevelFilter| {
            let logs = CapturedLogs::default();
            tracing::subscriber::with_default(subscriber(logs.clone(), level, true), || {
                tracing::trace!(target: "lambda_runtime::layers::api_response", body = "raw event", "dependency trace");
                tracing::trace!("own trace");
                tracing::info!(target: "audit", event = crate::audit::AUDIT_EVENT, "audit line");
            });
            logs.contents()
        };
        let trace = capture(LevelFilter::TRACE);
        assert!(
            !trace.contains("raw event"),
            "dependency TRACE must be dropped: {trace}"
        );
        assert!(trace.contains("own trace"), "{trace}");
        let error = capture(LevelFilter::ERROR);
        assert!(error.contains("audit line") && !error.contains("own trace"), "{error}");
    }
}

/// A `MakeWriter` that keeps everything in memory, so tests can read (and grep) the exact
/// lines production would write.
#[derive(Debug, Clone, Default)]
pub struct CapturedLogs(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl CapturedLogs {
    /// Everything written so far.
    pub fn contents(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }

    /// The JSON audit lines written so far.
    pub fn audit_lines(&self) -> Vec<serde_json::Value> {
        self.contents()
            .lines()
            .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
            .filter(|v| v["event"] == crate::audit::AUDIT_EVENT)
            .collect()
    }
}

impl std::io::Write for CapturedLogs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for CapturedLogs {
    type Writer = CapturedLogs;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}
