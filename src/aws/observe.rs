//! An SDK interceptor that counts and times every AWS call (metrics) and logs it at debug.

use std::sync::Arc;
use std::time::Instant;

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::{
    BeforeSerializationInterceptorContextRef, FinalizerInterceptorContextRef,
};
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::{ConfigBag, Storable, StoreReplace};

use crate::telemetry::Metrics;

#[derive(Debug)]
pub(super) struct ObserveCalls {
    /// The `account` label: a configured account's name (one interceptor per configured account, made at
    /// start-up), so an `{account}` a caller puts in a path can never become a label.
    account: String,
    metrics: Arc<Metrics>,
}

impl ObserveCalls {
    pub(super) fn new(account: &str, metrics: Arc<Metrics>) -> Self {
        ObserveCalls {
            account: account.to_owned(),
            metrics,
        }
    }
}

#[derive(Debug, Clone)]
struct Started(Instant);

impl Storable for Started {
    type Storer = StoreReplace<Self>;
}

impl Intercept for ObserveCalls {
    fn name(&self) -> &'static str {
        "ObserveCalls"
    }

    fn read_before_execution(
        &self,
        _context: &BeforeSerializationInterceptorContextRef<'_>,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        cfg.interceptor_state().store_put(Started(Instant::now()));
        Ok(())
    }

    fn read_after_execution(
        &self,
        context: &FinalizerInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let elapsed = cfg.load::<Started>().map(|s| s.0.elapsed());
        let (service, operation) = match cfg.load::<Metadata>() {
            Some(m) => (
                m.service().to_ascii_lowercase().replace(' ', ""),
                m.name().to_owned(),
            ),
            None => ("unknown".to_owned(), "unknown".to_owned()),
        };
        let ok = matches!(context.output_or_error(), Some(Ok(_)));
        let status = context.response().map(|r| r.status().as_u16());
        let outcome = if ok { "ok" } else { "error" };
        self.metrics
            .aws_requests
            .with_label_values(&[&self.account, &service, &operation, outcome])
            .inc();
        if let Some(elapsed) = elapsed {
            self.metrics
                .aws_duration
                .with_label_values(&[&service, &operation])
                .observe(elapsed.as_secs_f64());
        }
        let request_id = context.response().and_then(|r| {
            let h = r.headers();
            h.get("x-amzn-requestid")
                .or_else(|| h.get("x-amz-request-id"))
                .map(str::to_owned)
        });
        tracing::debug!(
            account = %self.account,
            aws.service = %service,
            aws.operation = %operation,
            aws.status = ?status,
            aws.request_id = ?request_id,
            latency_ms = elapsed.map(|e| e.as_secs_f64() * 1000.0),
            outcome,
            "aws call"
        );
        Ok(())
    }
}
