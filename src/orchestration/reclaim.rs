//! Reclaiming creates that a killed process left unfinished (ORCHESTRATION §4.8a), as part of each cleaner run.
//!
//! Every create leaves a marker in AWS before it makes anything (`marker.rs`) and removes it once it has finished
//! or has been rolled back. A marker older than `cleaner.reclaimAfter` belongs to a create that will never go on:
//! the cleaner looks at what of its intent exists, and
//! - keeps a create that got to its end (its process died after the work, before removing the marker — its
//!   caller may have been told it succeeded), or
//! - undoes it exactly as rollback would, through the same undo steps.
//!
//! Only what the create made is undone: a resource counts as the create's when it was made after the marker
//! (IAM and S3 creation dates), since the marker's name was the create's lock. A younger marker is left alone:
//! its create may still be running in another replica.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::marker::{Intent, MARKER_PATH};
use super::rollback::{Journal, Undo};
use super::{Ctx, OpError};
use crate::aws::route53::aliases;
use crate::domain::names::{BucketGroup, BucketName, GroupKind, ScopePath};
use crate::domain::website::{is_placeholder, WebsiteName, DISTRIBUTION_TAG};

/// What reclaiming did in one cleaner run.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ReclaimReport {
    /// Markers of interrupted creates that were undone.
    pub undone: Vec<String>,
    /// Markers of creates that had finished: the work was kept.
    pub finished: Vec<String>,
    /// Markers that could not be reclaimed this time (they are tried again on the next run).
    pub failed: Vec<String>,
}

/// Reclaims every marker older than `older_than`.
pub async fn run(ctx: &Ctx, older_than: Duration) -> Result<ReclaimReport, OpError> {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    let mut report = ReclaimReport::default();
    for marker in ctx.aws.list_policies_under(MARKER_PATH).await? {
        let (Some(arn), Some(name)) = (marker.arn(), marker.policy_name()) else {
            continue;
        };
        let since = marker.create_date().map_or(now, |d| d.secs());
        if now - since < older_than.as_secs() as i64 {
            continue;
        }
        match reclaim_one(ctx, arn, since).await {
            Ok(Some(true)) => report.finished.push(name.to_owned()),
            Ok(Some(false)) => report.undone.push(name.to_owned()),
            Ok(None) => {}
            Err(e) => {
                tracing::warn!(marker = %name, error = %e, "could not reclaim an interrupted create");
                report.failed.push(name.to_owned());
            }
        }
    }
    Ok(report)
}

/// Reclaims one marker: Some(true) when its create had finished, Some(false) when it was undone, None when the
/// marker is not this service's (another deployment's org) or is gone (another replica reclaimed it).
async fn reclaim_one(ctx: &Ctx, arn: &str, since: i64) -> Result<Option<bool>, OpError> {
    let aws = &ctx.aws;
    let (policy, tags) = tokio::join!(maybe(aws.get_policy(arn)), maybe(aws.list_policy_tags(arn)));
    let (Some(policy), Some(tags)) = (policy?, tags?) else {
        return Ok(None);
    };
    if !tags
        .iter()
        .any(|t| t.key == ctx.org_tag.key && t.value == ctx.org_tag.value)
    {
        return Ok(None);
    }
    let intent: Intent = match serde_json::from_str(policy.description().unwrap_or_default()) {
        Ok(i) => i,
        Err(e) => {
            return Err(OpError::Invalid(format!(
                "marker {arn} does not describe a create: {e}"
            )))
        }
    };
    let journal = Journal::new();
    let finished = match &intent {
        Intent::CreateBucket { bucket, lifecycle } => {
            let bucket = BucketName::parse(bucket).map_err(|e| OpError::Invalid(e.to_string()))?;
            let b = BucketPart::read(ctx, &bucket, since).await?;
            let finished = b.finished(ctx, &bucket, *lifecycle).await?;
            if !finished {
                b.undo(&bucket, &journal);
            }
            finished
        }
        Intent::CreateWebsite { website, index } => {
            reclaim_website(ctx, website, index, since, &journal).await?
        }
        Intent::CreateUser {
            bucket,
            user,
            groups,
            scope,
            website,
        } => {
            reclaim_user(
                ctx,
                bucket,
                user,
                groups,
                scope.as_deref(),
                *website,
                since,
                &journal,
            )
            .await?
        }
    };
    if !finished {
        let report = journal
            .unwind(aws.clone(), ctx.rollback_deadline, &ctx.tasks)
            .await;
        if !report.complete {
            return Err(OpError::Invalid(format!(
                "left behind: {}",
                report.leftovers.join(", ")
            )));
        }
        tracing::info!(
            ?intent,
            "undid a create that a stopped process left unfinished"
        );
    } else {
        tracing::info!(
            ?intent,
            "kept a create that had finished before its process stopped"
        );
    }
    crate::aws::iam::gone(aws.delete_policy(arn).await)?;
    Ok(Some(finished))
}

/// A read whose "not found" is an answer, not an error.
async fn maybe<T>(
    read: impl std::future::Future<Output = Result<T, crate::aws::AwsError>>,
) -> Result<Option<T>, crate::aws::AwsError> {
    crate::aws::iam::found(read.await)
}

/// Whether a creation time (seconds) is the create's own: at or after its marker.
fn made_since(at: Option<i64>, since: i64) -> bool {
    at.is_some_and(|t| t >= since)
}

/// A bucket create's own part: the bucket and its admin policy and group, where they were made after the marker.
struct BucketPart {
    bucket: bool,
    /// The admin policy's ARN, when it is the create's.
    policy: Option<String>,
    group: bool,
    attached: bool,
}

impl BucketPart {
    async fn read(ctx: &Ctx, bucket: &BucketName, since: i64) -> Result<BucketPart, OpError> {
        let aws = &ctx.aws;
        let admin = BucketGroup::new(bucket, GroupKind::Admin).expect("bucket names fit");
        let arn = aws
            .policy_arn(&admin.iam_path, admin.policy.as_str())
            .await?;
        let (created, policy, group, attached) = tokio::join!(
            aws.bucket_created(bucket),
            maybe(aws.get_policy(&arn)),
            maybe(aws.get_group(admin.group.as_str())),
            maybe(aws.list_attached_group_policies(admin.group.as_str())),
        );
        let policy_at = policy?.and_then(|p| p.create_date().map(|d| d.secs()));
        let group_at = group?.map(|(g, _)| g.create_date().secs());
        Ok(BucketPart {
            bucket: made_since(created?, since),
            policy: made_since(policy_at, since).then_some(arn.clone()),
            group: made_since(group_at, since),
            attached: attached?
                .unwrap_or_default()
                .iter()
                .any(|p| p.policy_arn() == Some(arn.as_str())),
        })
    }

    /// Whether all of the bucket create is there: its bucket with the org tag and every setting, and its admin
    /// group with the policy attached.
    async fn finished(
        &self,
        ctx: &Ctx,
        bucket: &BucketName,
        lifecycle: Option<crate::domain::lifecycle::Lifecycle>,
    ) -> Result<bool, OpError> {
        if !(self.bucket && self.policy.is_some() && self.group && self.attached) {
            return Ok(false);
        }
        let aws = &ctx.aws;
        let (tags, settings, logging) = tokio::join!(
            aws.get_bucket_tagging(bucket),
            aws.bucket_settings(bucket, lifecycle),
            aws.get_bucket_logging(bucket),
        );
        let tagged = tags?
            .iter()
            .any(|t| t.key == ctx.org_tag.key && t.value == ctx.org_tag.value);
        let logged = aws.config.access_log.is_none() || logging?.is_some();
        Ok(tagged && logged && settings?.iter().all(|s| *s))
    }

    fn undo(&self, bucket: &BucketName, journal: &Journal) {
        let admin = BucketGroup::new(bucket, GroupKind::Admin).expect("bucket names fit");
        if let (true, Some(arn)) = (self.attached, &self.policy) {
            journal.record(Undo::DetachGroupPolicy {
                group: admin.group.as_str().to_owned(),
                policy_arn: arn.clone(),
            });
        }
        if self.group {
            journal.record(Undo::DeleteGroup {
                group: admin.group.as_str().to_owned(),
            });
        }
        if let Some(arn) = &self.policy {
            journal.record(Undo::DeletePolicy { arn: arn.clone() });
        }
        if self.bucket {
            journal.record(Undo::DeleteBucket {
                bucket: bucket.clone(),
            });
        }
    }
}

/// A website create is finished when its last step, the CloudFront admin policy on its group, is done and so
/// are the steps beside it: the bookkeeping tag and the DNS records. Otherwise everything of it is undone, the
/// distribution disabled (for the cleaner to delete once deployed) and its DNS records removed first.
async fn reclaim_website(
    ctx: &Ctx,
    website: &str,
    index: &str,
    since: i64,
    journal: &Journal,
) -> Result<bool, OpError> {
    let aws = &ctx.aws;
    let site = WebsiteName::parse(website, &aws.config.domains)
        .map_err(|e| OpError::Invalid(e.to_string()))?;
    let bucket = site.bucket();
    let zone = ctx.zone_of(&site)?.to_owned();
    let web = BucketGroup::new(bucket, GroupKind::WebAdmin).expect("bucket names fit");
    let web_arn = aws.policy_arn(&web.iam_path, web.policy.as_str()).await?;
    let (part, distribution, web_policy, web_group, web_attached, tags, records) = tokio::join!(
        BucketPart::read(ctx, bucket, since),
        aws.distribution_serving(website, website),
        maybe(aws.get_policy(&web_arn)),
        maybe(aws.get_group(web.group.as_str())),
        maybe(aws.list_attached_group_policies(web.group.as_str())),
        maybe(aws.get_bucket_tagging(bucket)),
        aws.records_of(&zone, website),
    );
    let part = part?;
    // Only a distribution serving the create's own bucket can be the create's.
    let distribution = match (part.bucket, distribution?) {
        (true, Some(id)) => maybe(aws.get_distribution(&id)).await?,
        _ => None,
    };
    let records: Vec<_> = match &distribution {
        Some(d) => records?
            .into_iter()
            .filter(|r| aliases(r, &d.domain_name))
            .collect(),
        None => Vec::new(),
    };
    let web_policy = made_since(
        web_policy?.and_then(|p| p.create_date().map(|d| d.secs())),
        since,
    );
    let web_group = made_since(web_group?.map(|(g, _)| g.create_date().secs()), since);
    let web_attached = web_attached?
        .unwrap_or_default()
        .iter()
        .any(|p| p.policy_arn() == Some(web_arn.as_str()));
    let tagged = tags?
        .unwrap_or_default()
        .iter()
        .any(|t| t.key == DISTRIBUTION_TAG);
    if part.bucket && web_policy && web_group && web_attached && tagged && !records.is_empty() {
        return Ok(true);
    }
    if !records.is_empty() {
        journal.record(Undo::DeleteRecords { zone, records });
    }
    if let Some(d) = &distribution {
        journal.record(Undo::DisableDistribution {
            id: Some(d.id.clone()),
            alias: website.to_owned(),
        });
    }
    if web_attached && web_policy {
        journal.record(Undo::DetachGroupPolicy {
            group: web.group.as_str().to_owned(),
            policy_arn: web_arn.clone(),
        });
    }
    if web_group {
        journal.record(Undo::DeleteGroup {
            group: web.group.as_str().to_owned(),
        });
    }
    if web_policy {
        journal.record(Undo::DeletePolicy { arn: web_arn });
    }
    if part.bucket {
        journal.record(Undo::DeleteObject {
            bucket: bucket.clone(),
            key: index.to_owned(),
        });
    }
    part.undo(bucket, journal);
    Ok(false)
}

/// A user create is finished when its user has a key and is in every group it was to join (and a scoped user's
/// prefix has its page). Otherwise the user is removed with its keys and memberships, and each group this create
/// made that nobody else has joined goes with its policy.
#[allow(clippy::too_many_arguments)]
async fn reclaim_user(
    ctx: &Ctx,
    bucket: &str,
    user: &str,
    groups: &[String],
    scope: Option<&str>,
    website: bool,
    since: i64,
    journal: &Journal,
) -> Result<bool, OpError> {
    let aws = &ctx.aws;
    let invalid = |e: crate::domain::names::NameError| OpError::Invalid(e.to_string());
    let bucket = BucketName::parse(bucket).map_err(invalid)?;
    let scope = scope.map(ScopePath::parse).transpose().map_err(invalid)?;
    let mut wanted = Vec::new();
    for g in groups {
        let kind = match website {
            true => GroupKind::parse_website(g),
            false => GroupKind::parse(g),
        }
        .map_err(invalid)?;
        wanted.push(
            match &scope {
                Some(scope) => BucketGroup::scoped(&bucket, kind, scope),
                None => BucketGroup::new(&bucket, kind),
            }
            .map_err(invalid)?,
        );
    }
    let name = crate::domain::names::UserName::parse(user).map_err(invalid)?;
    let (details, member_of, keys) = tokio::join!(
        maybe(aws.get_user(name.as_str())),
        maybe(aws.list_groups_for_user(user)),
        maybe(aws.list_access_keys(user)),
    );
    let user_ours = made_since(details?.map(|u| u.create_date().secs()), since);
    let member_of: Vec<String> = member_of?
        .unwrap_or_default()
        .iter()
        .map(|g| g.group_name().to_owned())
        .collect();
    let keys: Vec<String> = keys?
        .unwrap_or_default()
        .iter()
        .filter_map(|k| k.access_key_id().map(str::to_owned))
        .collect();
    let placeholder = scope
        .as_ref()
        .map(|s| format!("{}index.html", s.key_prefix()));
    let etag = match &placeholder {
        Some(key) => aws.object_etag(&bucket, key).await?,
        None => None,
    };
    let page = placeholder.is_none() || etag.is_some();
    let joined_all = wanted
        .iter()
        .all(|g| member_of.iter().any(|m| m == g.group.as_str()));
    if user_ours && !keys.is_empty() && joined_all && page {
        return Ok(true);
    }
    if user_ours {
        for group in &member_of {
            journal.record(Undo::RemoveUserFromGroup {
                user: user.to_owned(),
                group: group.clone(),
            });
        }
        for key_id in keys {
            journal.record(Undo::DeleteAccessKey {
                user: user.to_owned(),
                key_id,
            });
        }
        journal.record(Undo::DeleteUser {
            user: user.to_owned(),
        });
    }
    // Whether the scope stays in use (a group of it that is not this create's, or that someone else joined).
    let mut scope_kept = false;
    // Groups made by this create that no one else has joined. A user create makes only read-write, read-only and
    // path-scoped groups; the root admin groups are the bucket's (creation times are to the second, so "made
    // after the marker" alone could not tell them from a group made just before).
    for g in wanted.iter().filter(|g| {
        g.scope.is_some() || matches!(g.kind, GroupKind::ReadWrite | GroupKind::ReadOnly)
    }) {
        let arn = aws.policy_arn(&g.iam_path, g.policy.as_str()).await?;
        let (group, policy, attached) = tokio::join!(
            maybe(aws.get_group(g.group.as_str())),
            maybe(aws.get_policy(&arn)),
            maybe(aws.list_attached_group_policies(g.group.as_str())),
        );
        let (group_exists, group_ours, others) = match group? {
            Some((group, members)) => (
                true,
                made_since(Some(group.create_date().secs()), since),
                members.iter().any(|m| m.user_name() != user),
            ),
            None => (false, false, false),
        };
        if others || (group_exists && !group_ours) {
            scope_kept |= g.scope.is_some();
        }
        if others {
            continue;
        }
        let policy_ours = made_since(
            policy?.and_then(|p| p.create_date().map(|d| d.secs())),
            since,
        );
        let attached = attached?
            .unwrap_or_default()
            .iter()
            .any(|p| p.policy_arn() == Some(arn.as_str()));
        if attached && (group_ours || policy_ours) {
            journal.record(Undo::DetachGroupPolicy {
                group: g.group.as_str().to_owned(),
                policy_arn: arn.clone(),
            });
        }
        if group_ours {
            journal.record(Undo::DeleteGroup {
                group: g.group.as_str().to_owned(),
            });
        }
        if policy_ours {
            journal.record(Undo::DeletePolicy { arn });
        }
    }
    // The scope's placeholder page goes with the scope's last group — only when it is the service's page, so
    // that a page the site's owners put there stays.
    if let (Some(key), Some(etag), false) = (placeholder, etag, scope_kept) {
        if is_placeholder(bucket.as_str(), &key, &etag) {
            journal.record(Undo::DeleteObject {
                bucket: bucket.clone(),
                key,
            });
        }
    }
    Ok(false)
}
