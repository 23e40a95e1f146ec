//! The cleaner: deletes the distributions that website deletes (and rollbacks) left disabled, once CloudFront
//! has deployed them and they no longer serve a site: their bucket is gone, or the site was created again and
//! its bucket records its new distribution (ORCHESTRATION §5).

use std::time::Duration;

use futures::stream::{self, StreamExt};
use rand::Rng;

use super::websites::serves;
use super::{Ctx, OpError};
use crate::aws::s3::BucketState;
use crate::config::CleanerConfig;
use crate::domain::names::BucketName;

/// How many distributions are examined at once.
const CONCURRENCY: usize = 4;

/// What one run did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct CleanReport {
    pub deleted: Vec<String>,
    pub failed: Vec<String>,
    /// Creates that a stopped process left unfinished.
    pub reclaimed: super::reclaim::ReclaimReport,
}

/// One run: first the creates that stopped processes left unfinished longer than `reclaim_after` ago are
/// reclaimed (their distributions disabled, so that a later run deletes them); then, over the account's
/// distributions, each disabled, deployed, org-tagged distribution whose origin bucket no longer exists in this
/// account, or whose site's bucket records another distribution of the site, is deleted. A failure skips that
/// distribution, not the run; losing a race with another replica (already deleted, changed meanwhile) is not a
/// failure.
pub async fn run_once(ctx: &Ctx, reclaim_after: Duration) -> Result<CleanReport, OpError> {
    let reclaimed = super::reclaim::run(ctx, reclaim_after).await?;
    let aws = &ctx.aws;
    let candidates: Vec<_> = aws
        .list_distributions()
        .await?
        .into_iter()
        .filter(|d| !d.enabled && d.status == "Deployed")
        .collect();
    let outcomes: Vec<(String, Result<bool, OpError>)> = stream::iter(candidates)
        .map(|d| async move {
            let outcome = clean_one(ctx, &d).await;
            (d.id.clone(), outcome)
        })
        .buffer_unordered(CONCURRENCY)
        .collect()
        .await;
    let mut report = CleanReport {
        reclaimed,
        ..CleanReport::default()
    };
    for (id, outcome) in outcomes {
        match outcome {
            Ok(true) => report.deleted.push(id),
            Ok(false) => {}
            Err(e) => {
                tracing::warn!(distribution = %id, error = %e, "cleaner skipped a distribution");
                report.failed.push(id);
            }
        }
    }
    let account = aws.name.as_str();
    ctx.metrics
        .cleaner_deleted
        .with_label_values(&[account])
        .inc_by(report.deleted.len() as u64);
    Ok(report)
}

/// Deletes one candidate when it is ours and orphaned; true when it was deleted.
async fn clean_one(
    ctx: &Ctx,
    d: &aws_sdk_cloudfront::types::DistributionSummary,
) -> Result<bool, OpError> {
    let aws = &ctx.aws;
    let tags = aws.distribution_tags(&d.arn).await?;
    if !tags
        .iter()
        .any(|t| t.key == ctx.org_tag.key && t.value == ctx.org_tag.value)
    {
        return Ok(false);
    }
    let origin = d
        .origins()
        .and_then(|o| o.items().first())
        .map(|o| o.id().to_owned());
    let Some(bucket) = origin.as_deref().and_then(|o| BucketName::parse(o).ok()) else {
        return Ok(false);
    };
    // A bucket of that name in another account or another region is not the site's: the distribution is
    // orphaned all the same. A site whose bucket exists keeps its current distribution; an older one, left
    // disabled by an earlier delete of the site, is no longer the one the bucket records.
    match aws.head_bucket(&bucket).await {
        Ok(BucketState::Reachable) => {
            if !superseded(ctx, &bucket, &d.id).await? {
                return Ok(false);
            }
        }
        Ok(BucketState::Missing | BucketState::Forbidden) => {}
        Err(e) if e.is_other_region() => {}
        Err(e) => return Err(e.into()),
    }
    let (config, etag) = match aws.get_distribution_config(&d.id).await {
        Err(e) if e.is_not_found() => return Ok(false),
        other => other?,
    };
    if config.enabled {
        return Ok(false);
    }
    match aws.delete_distribution(&d.id, &etag).await {
        Ok(()) => {
            tracing::info!(distribution = %d.id, %bucket, "cleaner deleted a distribution");
            Ok(true)
        }
        // Another replica got there first, or the distribution changed since: nothing to do this time.
        Err(e) if e.is_not_found() || e.kind == crate::aws::ErrorKind::Conflict => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// Whether the site's bucket records another distribution as its own, one that exists and serves the bucket:
/// then `id` belongs to an earlier life of the site. A bucket that records nothing (a site of the earlier
/// service, or a create still running) or an id that is not the site's keeps `id`: when in doubt, nothing is
/// deleted.
async fn superseded(ctx: &Ctx, bucket: &BucketName, id: &str) -> Result<bool, OpError> {
    let Some(facts) = ctx.facts(bucket).await? else {
        return Ok(false);
    };
    let Some(current) = facts.distribution_id() else {
        return Ok(false);
    };
    if current == id || !facts.managed {
        return Ok(false);
    }
    let current = crate::aws::iam::found(ctx.aws.get_distribution(&current).await)?;
    Ok(current.is_some_and(|d| serves(&d, bucket)))
}

/// Runs the cleaner for one account until the process stops: first after one random splay, then every
/// interval plus a random splay, so replicas spread out.
pub async fn run_forever(ctx: Ctx, config: CleanerConfig, interval: Duration) {
    let account = ctx.aws.name.clone();
    let splay = || {
        let max = config.max_splay.as_millis() as u64;
        Duration::from_millis(if max == 0 {
            0
        } else {
            rand::rng().random_range(0..=max)
        })
    };
    tokio::time::sleep(splay()).await;
    loop {
        let outcome = match run_once(&ctx, config.reclaim_after).await {
            Ok(report) => {
                tracing::info!(%account, deleted = report.deleted.len(), failed = report.failed.len(),
                    undone = report.reclaimed.undone.len(), finished = report.reclaimed.finished.len(),
                    not_reclaimed = report.reclaimed.failed.len(), "cleaner run");
                if report.failed.is_empty() && report.reclaimed.failed.is_empty() {
                    "ok"
                } else {
                    "partial"
                }
            }
            Err(e) => {
                tracing::error!(%account, error = %e, "cleaner run failed");
                "error"
            }
        };
        ctx.metrics
            .cleaner_runs
            .with_label_values(&[&account, outcome])
            .inc();
        tokio::time::sleep(interval + splay()).await;
    }
}
