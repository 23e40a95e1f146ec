//! One piece that makes a bucket's (or website's) group with its policy, attached: bucket create (the admin
//! group), website create (the CloudFront admin group) and user create (groups made on first use) all use it.

use aws_sdk_iam::types::{Group, Policy};

use super::rollback::{Journal, Undo};
use super::{Ctx, OpError, Resource};
use crate::aws::retry_not_visible;
use crate::domain::names::{BucketGroup, BucketName};
use crate::domain::policy::Subject;

/// What an existing policy or group of the name means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum IfExists {
    /// A conflict (409): the group must be this request's own (a create holds the name's lock, so an existing
    /// one is a leftover that is not ours to adopt).
    Conflict,
    /// Use it: another request made it meanwhile (read-write and read-only groups are made on first use by
    /// whichever request needs them first).
    Join,
}

/// What `make_group` made; `None` where an existing one was joined.
pub(crate) struct MadeGroup {
    pub policy: Option<Policy>,
    pub group: Option<Group>,
}

/// Makes group `g` of `bucket` and its policy at once, then attaches the policy: two round trips. Everything
/// this request made is recorded for rollback before any error is looked at, so a failure of one leaves nothing
/// of the other; with `Join`, whatever another request made is used and never recorded.
pub(crate) async fn make_group(
    ctx: &Ctx,
    bucket: &BucketName,
    g: &BucketGroup,
    subject: Subject<'_>,
    if_exists: IfExists,
    journal: &Journal,
) -> Result<MadeGroup, OpError> {
    let aws = &ctx.aws;
    let (policy, group) = tokio::join!(
        ctx.create_group_policy(g, bucket, subject),
        aws.create_group(&g.group, &g.iam_path)
    );
    // Under `Conflict` the create holds the bucket name's lock: an existing policy or group made after its marker
    // is its own, and an SDK retry answered "already exists" to the first attempt that made it.
    let policy = match policy {
        Ok(p) => Ok(Some(p)),
        Err(OpError::AlreadyExists { .. }) if if_exists == IfExists::Join => Ok(None),
        Err(e @ OpError::AlreadyExists { .. }) => match own_policy(ctx, g, journal).await {
            Some(p) => Ok(Some(p)),
            None => Err(e),
        },
        // A timeout or a lost connection may hide a success; under the lock the policy can only be ours.
        Err(OpError::Aws(e)) if e.0.is_ambiguous() && if_exists == IfExists::Conflict => {
            if let Ok(arn) = aws.policy_arn(&g.iam_path, g.policy.as_str()).await {
                journal.record(Undo::DeletePolicy { arn });
            }
            Err(OpError::Aws(e))
        }
        Err(e) => Err(e),
    };
    if let Ok(Some(p)) = &policy {
        journal.record(Undo::DeletePolicy {
            arn: p.arn().unwrap_or_default().to_owned(),
        });
    }
    let group = match if_exists {
        IfExists::Conflict => {
            let read = async {
                aws.get_group(g.group.as_str())
                    .await
                    .map(|(group, _)| group)
            };
            journal.claim(group, read, |g| Some(g.create_date())).await
        }
        IfExists::Join => group,
    };
    let group = match journal.created(
        group,
        Undo::DeleteGroup {
            group: g.group.as_str().to_owned(),
        },
    ) {
        Ok(group) => Some(group),
        Err(e) if e.is_already_exists() && if_exists == IfExists::Join => None,
        Err(e) if e.is_already_exists() => {
            return Err(OpError::exists(Resource::Group, g.group.as_str()))
        }
        Err(e) => return Err(e.into()),
    };
    let mut policy = policy?;
    let arn = match &policy {
        Some(p) => p.arn().unwrap_or_default().to_owned(),
        None => aws.policy_arn(&g.iam_path, g.policy.as_str()).await?,
    };
    // Attaching is idempotent, so requests that joined the same group may all do it.
    let attached = retry_not_visible(|| aws.attach_group_policy(g.group.as_str(), &arn)).await;
    if group.is_some() || policy.is_some() {
        journal.created(
            attached,
            Undo::DetachGroupPolicy {
                group: g.group.as_str().to_owned(),
                policy_arn: arn,
            },
        )?;
    } else {
        attached?;
    }
    if let Some(p) = &mut policy {
        p.attachment_count = Some(1);
    }
    Ok(MadeGroup { policy, group })
}

/// Group `g`'s policy when this create made it (see [`Journal::made_under_lock`]); a failed read counts as not.
async fn own_policy(ctx: &Ctx, g: &BucketGroup, journal: &Journal) -> Option<Policy> {
    let arn = (ctx.aws.policy_arn(&g.iam_path, g.policy.as_str()).await).ok()?;
    let policy = ctx.aws.get_policy(&arn).await.ok()?;
    journal
        .made_under_lock(policy.create_date())
        .then_some(policy)
}
