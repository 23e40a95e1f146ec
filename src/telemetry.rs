//! Logs (tracing) and metrics (Prometheus).

use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry,
    TextEncoder,
};

use crate::config::{Config, LogFormat};
use crate::version;

/// Installs the global tracing subscriber: JSON lines or text, filtered by `logLevel` (or `RUST_LOG`).
pub fn init_logging(config: &Config) {
    // The audit trail is kept whatever the level, unless the filter itself says otherwise about `audit`.
    let with_audit = |level: &str| match level.contains("audit") {
        true => level.to_owned(),
        false => format!("{level},audit=info"),
    };
    let filter = match std::env::var("RUST_LOG") {
        Ok(level) => tracing_subscriber::EnvFilter::try_new(with_audit(&level)),
        Err(_) => tracing_subscriber::EnvFilter::try_new(with_audit(&config.log_level)),
    }
    .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(with_audit(&config.log_level)));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match config.log_format {
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .try_init(),
        LogFormat::Text => builder
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .try_init(),
    };
}

/// Every metric the service exports, in its own registry (one per running service).
#[derive(Debug)]
pub struct Metrics {
    pub registry: Registry,
    pub http_requests: IntCounterVec,
    pub http_duration: HistogramVec,
    pub http_in_flight: IntGauge,
    pub aws_requests: IntCounterVec,
    pub aws_duration: HistogramVec,
    /// AWS answers that said "too many calls" (each attempt; most are retried).
    pub aws_throttled: IntCounterVec,
    /// Time calls waited for their turn in an account's pace for a service.
    pub aws_pacing_wait: HistogramVec,
    pub rollbacks: IntCounterVec,
    /// Requests refused before any AWS call for their token, by reason.
    pub auth_refused: IntCounterVec,
    /// Authenticated requests by token name (`legacy` for the single token): names come from the configuration.
    pub requests_by_token: IntCounterVec,
    pub cleaner_runs: IntCounterVec,
    pub cleaner_deleted: IntCounterVec,
    /// The name of every metric registered, read from the collectors as they are registered.
    names: Vec<String>,
}

const LATENCY_BUCKETS: &[f64] = &[
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

impl Metrics {
    pub fn new() -> Metrics {
        let registry = Registry::new();
        let http_requests = IntCounterVec::new(
            Opts::new(
                "http_requests_total",
                "HTTP requests served, by route template and status",
            ),
            &["method", "route", "status"],
        )
        .unwrap();
        let http_duration = HistogramVec::new(
            HistogramOpts::new(
                "http_request_duration_seconds",
                "HTTP request latency by route template",
            )
            .buckets(LATENCY_BUCKETS.to_vec()),
            &["method", "route"],
        )
        .unwrap();
        let http_in_flight =
            IntGauge::new("http_requests_in_flight", "HTTP requests being served").unwrap();
        let aws_requests = IntCounterVec::new(
            Opts::new(
                "aws_requests_total",
                "AWS API calls, by account, service, operation and outcome",
            ),
            &["account", "service", "operation", "outcome"],
        )
        .unwrap();
        let aws_duration = HistogramVec::new(
            HistogramOpts::new(
                "aws_request_duration_seconds",
                "AWS API call latency, retries included",
            )
            .buckets(LATENCY_BUCKETS.to_vec()),
            &["service", "operation"],
        )
        .unwrap();
        let aws_throttled = IntCounterVec::new(
            Opts::new(
                "aws_throttled_total",
                "AWS answers that throttled a call (each attempt; retried until the request's deadline), by \
                 account, service and operation",
            ),
            &["account", "service", "operation"],
        )
        .unwrap();
        let aws_pacing_wait = HistogramVec::new(
            HistogramOpts::new(
                "aws_pacing_wait_seconds",
                "Time an AWS call attempt waited for its turn in the account's pace for the service",
            )
            .buckets(vec![
                0.001, 0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
            ]),
            &["account", "service"],
        )
        .unwrap();
        let rollbacks = IntCounterVec::new(
            Opts::new(
                "rollbacks_total",
                "Rollbacks of failed creates, by operation and outcome",
            ),
            &["operation", "outcome"],
        )
        .unwrap();
        let auth_refused = IntCounterVec::new(
            Opts::new(
                "auth_refused_total",
                "Requests refused for their token: missing, invalid, expired, not_allowed",
            ),
            &["reason"],
        )
        .unwrap();
        let requests_by_token = IntCounterVec::new(
            Opts::new(
                "auth_requests_total",
                "Authenticated requests by token name (legacy for the single token)",
            ),
            &["token"],
        )
        .unwrap();
        let cleaner_runs = IntCounterVec::new(
            Opts::new(
                "cleaner_runs_total",
                "Cleaner runs, by account and outcome (ok, partial, error)",
            ),
            &["account", "outcome"],
        )
        .unwrap();
        let cleaner_deleted = IntCounterVec::new(
            Opts::new(
                "cleaner_deleted_distributions_total",
                "Distributions the cleaner deleted",
            ),
            &["account"],
        )
        .unwrap();
        let build_info = IntGaugeVec::new(
            Opts::new(
                "s3_api_build_info",
                "Build of the running service (always 1)",
            ),
            &["version", "githash", "buildstamp"],
        )
        .unwrap();
        build_info
            .with_label_values(&[version::VERSION, version::GIT_HASH, version::BUILD_STAMP])
            .set(1);

        let mut names = Vec::new();
        for c in [
            Box::new(http_requests.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(http_duration.clone()),
            Box::new(http_in_flight.clone()),
            Box::new(aws_requests.clone()),
            Box::new(aws_duration.clone()),
            Box::new(aws_throttled.clone()),
            Box::new(aws_pacing_wait.clone()),
            Box::new(rollbacks.clone()),
            Box::new(auth_refused.clone()),
            Box::new(requests_by_token.clone()),
            Box::new(cleaner_runs.clone()),
            Box::new(cleaner_deleted.clone()),
            Box::new(build_info),
            #[cfg(target_os = "linux")]
            Box::new(prometheus::process_collector::ProcessCollector::for_self()),
        ] {
            names.extend(c.desc().iter().map(|d| d.fq_name.clone()));
            registry.register(c).expect("metric names are unique");
        }

        Metrics {
            registry,
            http_requests,
            http_duration,
            http_in_flight,
            aws_requests,
            aws_duration,
            aws_throttled,
            aws_pacing_wait,
            rollbacks,
            auth_refused,
            requests_by_token,
            cleaner_runs,
            cleaner_deleted,
            names,
        }
    }

    /// The name of every metric the service exports (process metrics included), whether or not it has a series
    /// yet: what dashboards and alerts may refer to.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// The Prometheus text exposition of every metric.
    pub fn render(&self) -> String {
        let mut out = Vec::new();
        TextEncoder::new()
            .encode(&self.registry.gather(), &mut out)
            .expect("encoding metrics into memory cannot fail");
        String::from_utf8(out).expect("metrics are UTF-8")
    }

    /// The number of AWS calls made so far, all accounts and operations together.
    pub fn aws_calls(&self) -> u64 {
        self.registry
            .gather()
            .iter()
            .filter(|f| f.name() == "aws_requests_total")
            .flat_map(|f| f.get_metric())
            .map(|m| m.get_counter().value() as u64)
            .sum()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}
