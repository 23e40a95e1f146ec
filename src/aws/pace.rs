//! Pacing and throttling: how the service stays within the rate AWS allows one account.
//!
//! AWS limits how fast one account may call a service's control plane (Route 53: five requests per second;
//! IAM, CloudFront and ACM: a few per second, undocumented or per operation) and answers `Throttling` beyond it.
//! A burst of creates makes several calls each, so without pacing most of a burst fails.
//!
//! - **Pacing.** Every attempt of every call to a paced service (IAM, Route 53, CloudFront, ACM) of one account
//!   takes its turn from that account's [`Lane`] for the service: a token bucket with the configured rate and one
//!   second's worth of burst (GCRA, so a turn is a time to wait for, not a poll). Pages and retries take turns
//!   too, because the lane sits in the SDK's HTTP client ([`PacedHttpClient`]). Lanes belong to one account, so
//!   a burst on one account never delays another. S3 and STS are not paced (S3's limits are per prefix and far
//!   above what the service does).
//! - **Adapting.** An account's limit is shared with whatever else calls it. A throttled answer cuts the lane's
//!   rate to 70 %, at most once a second (down to a sixteenth of the configured rate); every answer that is not
//!   throttled wins a fiftieth of the configured rate back.
//! - **Retrying to the deadline.** A throttled attempt is retried with the SDK's exponential backoff until the
//!   request's deadline ([`crate::deadline`]), not three times; only then does the caller get 429. Other errors keep the
//!   SDK's standard retries (three attempts). The wait for a turn is not AWS's time: each attempt has
//!   `awsTimeout` from when it is sent, and an attempt that timed out is not tried again.
//!
//! The SDK's adaptive retry mode was the alternative. It starts pacing only after the first throttled answer
//! (it learns each limit by exceeding it, so every burst begins with failures), counts its waits against the
//! operation timeout, and still gives up after the maximum attempts; the limits known up front are better paced
//! from the first call.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_smithy_runtime::client::retries::classifiers::run_classifiers_on_ctx;
use aws_smithy_runtime::client::retries::TokenBucket;
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient,
    SharedHttpConnector,
};
use aws_smithy_runtime_api::client::interceptors::context::{
    BeforeSerializationInterceptorContextRef, FinalizerInterceptorContextRef,
};
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, Metadata};
use aws_smithy_runtime_api::client::result::ConnectorError;
use aws_smithy_runtime_api::client::retries::classifiers::{RetryAction, RetryReason};
use aws_smithy_runtime_api::client::retries::RequestAttempts;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::{ConfigBag, Storable, StoreReplace};
use aws_smithy_types::retry::{ErrorKind, RetryConfig};

use crate::telemetry::Metrics;

/// One account's pace for one service: a token bucket (GCRA) whose rate adapts to throttled answers.
#[derive(Debug)]
pub struct Lane {
    /// The configured rate, in calls per second.
    configured: f64,
    /// Calls that may go at once after a quiet second.
    burst: f64,
    state: Mutex<LaneState>,
}

#[derive(Debug)]
struct LaneState {
    /// The rate now, in calls per second.
    rate: f64,
    /// The theoretical arrival time of the next call: the bucket is full when it lies in the past.
    tat: Instant,
    /// When the rate was last cut.
    cut: Option<Instant>,
}

impl Lane {
    pub fn new(calls_per_second: f64) -> Lane {
        Lane {
            configured: calls_per_second,
            burst: calls_per_second.floor().max(1.0),
            state: Mutex::new(LaneState {
                rate: calls_per_second,
                tat: Instant::now(),
                cut: None,
            }),
        }
    }

    /// Takes the first turn at or after `earliest`: Ok(when), or Err(when) when that is past `deadline` (then
    /// nothing is taken).
    pub fn reserve(&self, earliest: Instant, deadline: Instant) -> Result<Instant, Instant> {
        let mut s = self.state.lock().expect("lane lock");
        let interval = Duration::from_secs_f64(1.0 / s.rate);
        let tolerance = interval.mul_f64(self.burst - 1.0);
        let at = match s.tat.checked_sub(tolerance) {
            Some(free) => earliest.max(free),
            None => earliest,
        };
        if at > deadline {
            return Err(at);
        }
        s.tat = s.tat.max(at) + interval;
        Ok(at)
    }

    /// AWS throttled a call despite the pace: someone else uses the account's limit too, or the turns and
    /// AWS's bucket drifted apart. The rate is cut to 70 % (as TCP's CUBIC does), at most once a second: the
    /// calls in flight when AWS's bucket ran dry are throttled together, and that is one event, not several.
    pub fn throttled(&self) {
        let mut s = self.state.lock().expect("lane lock");
        let now = Instant::now();
        if s.cut
            .is_some_and(|at| now.duration_since(at) < Duration::from_secs(1))
        {
            return;
        }
        s.cut = Some(now);
        s.rate = (s.rate * 0.7).max(self.configured / 16.0);
    }

    /// A call went through.
    pub fn passed(&self) {
        let mut s = self.state.lock().expect("lane lock");
        s.rate = (s.rate + self.configured / 50.0).min(self.configured);
    }

    /// The rate now, in calls per second.
    pub fn rate(&self) -> f64 {
        self.state.lock().expect("lane lock").rate
    }
}

/// Why a call was not made: its turn would have come after the request's deadline.
#[derive(Debug)]
pub struct NoTurnInTime {
    /// How long until the turn would have come.
    pub wait: Duration,
}

impl std::fmt::Display for NoTurnInTime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "the account's pace for the service has no turn before the request's deadline (next in {:.1}s)",
            self.wait.as_secs_f64()
        )
    }
}

impl std::error::Error for NoTurnInTime {}

/// What pacing needs to know about one service client.
#[derive(Debug, Clone)]
pub(crate) struct Pace {
    pub account: String,
    /// The `service` label.
    pub service: &'static str,
    /// None for a service that is not paced.
    pub lane: Option<Arc<Lane>>,
    /// How long one attempt may take from when it is sent (`awsTimeout`).
    pub attempt_timeout: Duration,
    /// The deadline of a call made outside any request (the cleaner, start-up): this long after it starts.
    pub default_budget: Duration,
    pub metrics: Arc<Metrics>,
}

impl Pace {
    fn deadline(&self) -> Instant {
        crate::deadline::current().map_or_else(|| Instant::now() + self.default_budget, |d| d.calls)
    }
}

/// The SDK's HTTP client, with every attempt waiting for its turn first and then bounded by `awsTimeout`.
#[derive(Debug, Clone)]
pub(crate) struct PacedHttpClient {
    pub inner: SharedHttpClient,
    pub pace: Pace,
}

impl HttpClient for PacedHttpClient {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        SharedHttpConnector::new(PacedConnector {
            inner: self.inner.http_connector(settings, components),
            pace: self.pace.clone(),
        })
    }
}

#[derive(Debug)]
struct PacedConnector {
    inner: SharedHttpConnector,
    pace: Pace,
}

impl HttpConnector for PacedConnector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let inner = self.inner.clone();
        let pace = self.pace.clone();
        HttpConnectorFuture::new(async move {
            if let Some(lane) = &pace.lane {
                let now = Instant::now();
                match lane.reserve(now, pace.deadline()) {
                    Ok(at) => {
                        pace.metrics
                            .aws_pacing_wait
                            .with_label_values(&[&pace.account, pace.service])
                            .observe((at - now).as_secs_f64());
                        tokio::time::sleep_until(at.into()).await;
                    }
                    Err(at) => {
                        return Err(ConnectorError::user(Box::new(NoTurnInTime {
                            wait: at - now,
                        })))
                    }
                }
            }
            match tokio::time::timeout(pace.attempt_timeout, inner.call(request)).await {
                Ok(answer) => answer,
                Err(_) => Err(ConnectorError::timeout(
                    format!("no answer within awsTimeout ({:?})", pace.attempt_timeout).into(),
                )),
            }
        })
    }
}

/// The call's deadline, kept in the SDK's per-call configuration.
#[derive(Debug, Clone, Copy)]
struct CallDeadline(Instant);

impl Storable for CallDeadline {
    type Storer = StoreReplace<Self>;
}

/// An SDK interceptor that decides, after each attempt, what the retry may do: a throttled attempt may be
/// retried until the call's deadline (the SDK's standard strategy then waits its backoff and tries again), a
/// timed-out one not at all. It also tells the lane how its pace fares, and counts throttled answers.
#[derive(Debug)]
pub(crate) struct PaceRetries {
    pub pace: Pace,
}

/// The longest backoff between two throttled attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(5);

impl Intercept for PaceRetries {
    fn name(&self) -> &'static str {
        "PaceRetries"
    }

    fn read_before_execution(
        &self,
        _context: &BeforeSerializationInterceptorContextRef<'_>,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        cfg.interceptor_state()
            .store_put(CallDeadline(self.pace.deadline()));
        Ok(())
    }

    fn read_after_attempt(
        &self,
        context: &FinalizerInterceptorContextRef<'_>,
        runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let ctx = context.inner();
        let attempts = cfg
            .load::<RequestAttempts>()
            .map_or(1, RequestAttempts::attempts);
        let timed_out = matches!(
            ctx.output_or_error(),
            Some(Err(e)) if e.as_connector_error().is_some_and(ConnectorError::is_timeout)
        );
        if timed_out {
            // The attempt had its awsTimeout; the call is not given another.
            let retry = retry_config(cfg).with_max_attempts(attempts);
            cfg.interceptor_state().store_put(retry);
            return Ok(());
        }
        let action = run_classifiers_on_ctx(runtime_components.retry_classifiers(), ctx);
        let throttled = matches!(
            action,
            RetryAction::RetryIndicated(RetryReason::RetryableError {
                kind: ErrorKind::ThrottlingError,
                ..
            })
        );
        if !throttled {
            if ctx.response().is_some() {
                if let Some(lane) = &self.pace.lane {
                    lane.passed();
                }
            }
            return Ok(());
        }
        if let Some(lane) = &self.pace.lane {
            lane.throttled();
        }
        let operation = cfg.load::<Metadata>().map_or("unknown", Metadata::name);
        self.pace
            .metrics
            .aws_throttled
            .with_label_values(&[&self.pace.account, self.pace.service, operation])
            .inc();
        let deadline = cfg
            .load::<CallDeadline>()
            .map_or_else(|| self.pace.deadline(), |d| d.0);
        let left = deadline.saturating_duration_since(Instant::now());
        // Another attempt only when a backoff still leaves it time before the deadline; the retry quota, which
        // protects AWS from retry storms of failing calls, does not apply: the pace already keeps the rate down.
        let retry = retry_config(cfg);
        let retry = match left > retry.initial_backoff() {
            true => {
                cfg.interceptor_state().store_put(TokenBucket::unlimited());
                retry
                    .with_max_attempts(attempts + 1)
                    .with_max_backoff(MAX_BACKOFF.min(left / 2))
            }
            false => retry.with_max_attempts(attempts),
        };
        cfg.interceptor_state().store_put(retry);
        Ok(())
    }
}

fn retry_config(cfg: &ConfigBag) -> RetryConfig {
    cfg.load::<RetryConfig>()
        .cloned()
        .unwrap_or_else(RetryConfig::standard)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(d: Duration) -> u128 {
        d.as_millis()
    }

    #[test]
    fn a_lane_lets_its_burst_go_at_once_then_one_call_per_interval() {
        let lane = Lane::new(5.0);
        let t0 = Instant::now();
        let far = t0 + Duration::from_secs(60);
        let turns: Vec<u128> = (0..8)
            .map(|_| ms(lane.reserve(t0, far).unwrap() - t0))
            .collect();
        assert_eq!(turns, vec![0, 0, 0, 0, 0, 200, 400, 600]);
        // After a quiet spell the bucket is full again, but never fuller than the burst.
        let later = t0 + Duration::from_secs(10);
        let turns: Vec<u128> = (0..7)
            .map(|_| ms(lane.reserve(later, far).unwrap() - later))
            .collect();
        assert_eq!(turns, vec![0, 0, 0, 0, 0, 200, 400]);
    }

    #[test]
    fn a_turn_past_the_deadline_is_refused_and_not_taken() {
        let lane = Lane::new(1.0);
        let t0 = Instant::now();
        let soon = t0 + Duration::from_millis(1500);
        assert_eq!(lane.reserve(t0, soon), Ok(t0));
        assert_eq!(lane.reserve(t0, soon), Ok(t0 + Duration::from_secs(1)));
        assert_eq!(lane.reserve(t0, soon), Err(t0 + Duration::from_secs(2)));
        // The refused turn is still free for a call with more time.
        let later = t0 + Duration::from_secs(5);
        assert_eq!(lane.reserve(t0, later), Ok(t0 + Duration::from_secs(2)));
    }

    #[test]
    fn throttled_answers_slow_a_lane_down_and_answers_bring_it_back() {
        let lane = Lane::new(16.0);
        lane.throttled();
        assert!((lane.rate() - 11.2).abs() < 1e-9, "{}", lane.rate());
        // Throttled together: one cut.
        for _ in 0..10 {
            lane.throttled();
        }
        assert!((lane.rate() - 11.2).abs() < 1e-9, "{}", lane.rate());
        // Throttled again a second later: another; never below a sixteenth.
        for _ in 0..20 {
            lane.state.lock().unwrap().cut = Some(Instant::now() - Duration::from_secs(2));
            lane.throttled();
        }
        assert_eq!(lane.rate(), 1.0, "never below a sixteenth");
        for _ in 0..25 {
            lane.passed();
        }
        assert!((lane.rate() - 9.0).abs() < 1e-9, "{}", lane.rate());
        for _ in 0..100 {
            lane.passed();
        }
        assert_eq!(lane.rate(), 16.0, "never above the configured rate");
    }
}
