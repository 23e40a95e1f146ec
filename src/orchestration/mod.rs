//! The orchestration layer: one module per workflow, each turning a validated request into AWS calls in the
//! order (and with the concurrency) of the design, rolling back what it created when a step fails.

pub mod buckets;
pub mod cleaner;
mod contents;
mod groups;
pub mod marker;
pub mod ownership;
pub mod reclaim;
pub mod records;
pub mod rollback;
pub mod users;
pub mod websites;

use std::sync::Arc;

use crate::aws::{AwsAccount, AwsError};
use crate::domain::failure::FailureKind;
use crate::domain::tags::Tag;
use crate::telemetry::Metrics;
use rollback::RollbackReport;

/// What a workflow needs: the account's clients, the metrics, and the service's own tag.
#[derive(Clone)]
pub struct Ctx {
    /// The account's AWS clients: the workflows' own; the layers above reach AWS through the workflows only.
    pub(in crate::orchestration) aws: Arc<AwsAccount>,
    pub metrics: Arc<Metrics>,
    pub org_tag: Tag,
    /// The service's background tasks, which a stopping service waits for.
    pub tasks: tokio_util::task::TaskTracker,
    /// How long a rollback may take in all: the stopping service's grace period, so that it can wait for it.
    pub rollback_deadline: std::time::Duration,
}

/// The kinds of resource a workflow reports about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resource {
    Bucket,
    Policy,
    Group,
    User,
    Website,
    Distribution,
    DnsRecord,
}

impl Resource {
    pub fn as_str(self) -> &'static str {
        match self {
            Resource::Bucket => "bucket",
            Resource::Policy => "IAM policy",
            Resource::Group => "IAM group",
            Resource::User => "user",
            Resource::Website => "website",
            Resource::Distribution => "CloudFront distribution for",
            Resource::DnsRecord => "DNS record",
        }
    }
}

/// Why a workflow did not succeed.
#[derive(Debug, thiserror::Error)]
pub enum OpError {
    #[error("{} {name} not found", what.as_str())]
    NotFound { what: Resource, name: String },
    #[error("{} {name} already exists", what.as_str())]
    AlreadyExists { what: Resource, name: String },
    #[error("the service's AWS credentials cannot access {} {name}", what.as_str())]
    Forbidden { what: Resource, name: String },
    #[error("bucket {0} is not empty")]
    NotEmpty(String),
    /// The bucket does not carry the org tag: the service did not make it and changes nothing of it.
    #[error("bucket {0} is not managed by this service (it has no org tag); nothing was changed")]
    NotManaged(String),
    /// A bucket route asked to change a website's bucket.
    #[error("bucket {0} belongs to a website; change it through /websites/{0}")]
    IsWebsite(String),
    #[error("{0}")]
    Invalid(String),
    /// The configuration does not fit what AWS holds (a missing certificate, say): the operator's to fix.
    #[error("{0}")]
    Config(String),
    #[error(transparent)]
    Aws(AwsFailure),
    /// A create failed and what it had created was undone (as far as `rollback` says).
    #[error("{error}")]
    RolledBack {
        error: Box<OpError>,
        rollback: RollbackReport,
    },
}

impl From<AwsError> for OpError {
    fn from(e: AwsError) -> Self {
        OpError::Aws(AwsFailure(e))
    }
}

/// A failed AWS call as the layers above see it: what kind of failure, which call, and what AWS said. The call's
/// full description (its `Display`) is for the log.
#[derive(Debug, Clone, thiserror::Error)]
#[error(transparent)]
pub struct AwsFailure(pub(in crate::orchestration) AwsError);

impl AwsFailure {
    pub fn kind(&self) -> FailureKind {
        self.0.kind
    }

    /// The call, as `AWS IAM CreatePolicy`.
    pub fn call(&self) -> String {
        format!("AWS {} {}", self.0.service.as_str(), self.0.operation)
    }

    /// AWS's own message, if it gave one.
    pub fn message(&self) -> &str {
        self.0.message.as_deref().unwrap_or_default()
    }

    /// The bucket's region, when S3 said it is in another one.
    pub fn bucket_region(&self) -> Option<&str> {
        self.0.bucket_region.as_deref()
    }

    /// In how many seconds a throttled call could be made again, if known.
    pub fn retry_after(&self) -> Option<u16> {
        self.0.retry_after
    }
}

impl OpError {
    pub fn not_found(what: Resource, name: impl Into<String>) -> Self {
        OpError::NotFound {
            what,
            name: name.into(),
        }
    }

    pub fn exists(what: Resource, name: impl Into<String>) -> Self {
        OpError::AlreadyExists {
            what,
            name: name.into(),
        }
    }
}

impl Ctx {
    pub fn new(
        aws: Arc<AwsAccount>,
        metrics: Arc<Metrics>,
        org_tag: Tag,
        tasks: tokio_util::task::TaskTracker,
        rollback_deadline: std::time::Duration,
    ) -> Ctx {
        Ctx {
            aws,
            metrics,
            org_tag,
            tasks,
            rollback_deadline,
        }
    }

    /// The account's configuration.
    pub fn config(&self) -> &crate::config::AccountConfig {
        &self.aws.config
    }

    /// Runs a create workflow; on failure unwinds its journal and reports the rollback with the error.
    pub(crate) async fn with_rollback<T, F, Fut>(
        &self,
        operation: &'static str,
        f: F,
    ) -> Result<T, OpError>
    where
        F: FnOnce(rollback::Journal) -> Fut,
        Fut: std::future::Future<Output = Result<T, OpError>>,
    {
        let journal = rollback::Journal::new();
        match f(journal.clone()).await {
            Ok(v) => {
                self.finish(&journal);
                Ok(v)
            }
            Err(error) if journal.is_empty() => Err(error),
            Err(error) => {
                tracing::warn!(%error, operation, "create failed, rolling back");
                let rollback = journal
                    .unwind(self.aws.clone(), self.rollback_deadline, &self.tasks)
                    .await;
                let outcome = if rollback.complete {
                    "complete"
                } else {
                    "incomplete"
                };
                self.metrics
                    .rollbacks
                    .with_label_values(&[operation, outcome])
                    .inc();
                if rollback.complete {
                    tracing::info!(operation, "rollback complete");
                } else {
                    tracing::error!(operation, leftovers = ?rollback.leftovers, "rollback incomplete");
                }
                Err(OpError::RolledBack {
                    error: Box::new(error),
                    rollback,
                })
            }
        }
    }
}

/// Waits for every future (never abandoning a call that may be creating something) and returns the first error.
pub(crate) fn first_error<I>(results: I) -> Result<(), OpError>
where
    I: IntoIterator<Item = Result<(), OpError>>,
{
    results
        .into_iter()
        .collect::<Result<Vec<()>, OpError>>()
        .map(|_| ())
}
