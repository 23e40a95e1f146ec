//! Bucket workflows: create (with rollback), show, head, list, update, delete.

use std::collections::{BTreeMap, BTreeSet};

use aws_sdk_iam::types::Policy;
use futures::future::join_all;

use super::contents;
use super::groups::{make_group, IfExists};
use super::marker::Intent;
use super::ownership::{missing, Kind};
use super::records::{self, Presence};
use super::rollback::{Journal, Undo};
use super::users::{release, IamUser, Release};
use super::{first_error, Ctx, OpError, Resource};
use crate::aws::iam::{found, gone};
use crate::aws::retry_not_visible;
use crate::aws::s3::{BucketState, PublicAccess};
use crate::domain::lifecycle::Lifecycle;
use crate::domain::names::{BucketGroup, BucketName, GroupKind};
use crate::domain::policy::{group_policy, group_policy_description, AdminActions, Subject};
use crate::domain::tags::{CallerTags, Tag};

/// A validated bucket create request.
#[derive(Debug, Clone)]
pub struct CreateBucket {
    pub bucket: BucketName,
    pub tags: CallerTags,
    pub lifecycle: Option<Lifecycle>,
}

/// What a bucket create made in IAM.
#[derive(Debug, Clone)]
pub struct CreatedBucket {
    pub bucket: BucketName,
    pub policy: records::Policy,
    pub group: records::Group,
}

/// A bucket as the show route reports it.
#[derive(Debug, Clone)]
pub struct BucketView {
    pub tags: Vec<Tag>,
    /// Access-log target bucket and prefix, when logging is on.
    pub logging: Option<(String, String)>,
    pub empty: bool,
    /// The bucket policy, as PUT sets it (a JSON document as text); None when there is none, or not read.
    pub policy: Option<String>,
}

/// What a bucket delete removed.
#[derive(Debug, Clone, Default)]
pub struct DeletedBucket {
    pub bucket: String,
    pub users: Vec<String>,
    pub policies: Vec<String>,
    pub groups: Vec<String>,
}

impl Ctx {
    fn admin_actions(&self) -> AdminActions {
        AdminActions {
            bucket: self.aws.config.default_s3_bucket_actions.clone(),
            object: self.aws.config.default_s3_object_actions.clone(),
            cloudfront: self
                .aws
                .config
                .default_cloudfront_distribution_actions
                .clone(),
        }
    }

    /// Creates the IAM policy of a bucket's group of `kind`.
    pub(crate) async fn create_group_policy(
        &self,
        names: &BucketGroup,
        bucket: &BucketName,
        subject: Subject<'_>,
    ) -> Result<Policy, OpError> {
        let document = group_policy(names, bucket, &self.admin_actions(), subject)
            .ok_or_else(|| OpError::Invalid(format!("{bucket} has no CloudFront distribution")))?;
        let description = group_policy_description(names, bucket);
        self.aws
            .create_policy(
                &names.policy,
                &names.iam_path,
                &document,
                &description,
                std::slice::from_ref(&self.org_tag),
            )
            .await
            .map_err(|e| match e.is_already_exists() {
                true => OpError::exists(Resource::Policy, names.policy.as_str()),
                false => e.into(),
            })
    }
}

/// Creates a bucket with its admin policy and group (ORCHESTRATION §4.1): three sequential round trips, the
/// create's marker taken in the first.
pub async fn create(ctx: Ctx, req: CreateBucket) -> Result<CreatedBucket, OpError> {
    let c = ctx.clone();
    ctx.with_rollback("create_bucket", move |journal| async move {
        let tags = req.tags.with(std::slice::from_ref(&c.org_tag));
        let intent = Intent::CreateBucket {
            bucket: req.bucket.to_string(),
            lifecycle: req.lifecycle,
        };
        create_bucket_resources(
            &c,
            &req.bucket,
            &tags,
            req.lifecycle,
            PublicAccess::BLOCK_ALL,
            Subject::Bucket,
            &intent,
            &journal,
        )
        .await
    })
    .await
}

/// The bucket part shared by bucket and website creation: three sequential round trips.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn create_bucket_resources(
    ctx: &Ctx,
    bucket: &BucketName,
    tags: &[Tag],
    lifecycle: Option<Lifecycle>,
    public_access: PublicAccess,
    subject: Subject<'_>,
    intent: &Intent,
    journal: &Journal,
) -> Result<CreatedBucket, OpError> {
    let aws = &ctx.aws;
    let admin = BucketGroup::new(bucket, GroupKind::Admin).expect("bucket names fit IAM names");

    // 1. Is the name free? ∥ The marker: it records the create for the cleaner should the process die, and its
    //    name is the lock — of concurrent creates of one name exactly one makes it.
    let (state, marked) = tokio::join!(aws.head_bucket(bucket), ctx.begin(intent, journal));
    // A bucket in another region exists all the same: the name is taken.
    let state = state.or_else(|e| match e.is_other_region() {
        true => Ok(BucketState::Forbidden),
        false => Err(e),
    });
    // A taken bucket name explains a taken lock best; report that first.
    if matches!(state, Ok(BucketState::Reachable | BucketState::Forbidden)) {
        return Err(OpError::exists(Resource::Bucket, bucket.as_str()));
    }
    marked?;
    state?;

    // 2–3. Two independent chains: the bucket, then everything that configures it ∥ the admin policy and group,
    //      then the policy on the group. Each chain goes on as soon as its own creates return; both are awaited
    //      to the end even when one fails, so that nothing created goes unrecorded.
    let bucket_chain = async {
        let made = match aws.create_bucket(bucket).await {
            // HeadBucket found the name free and this request holds its lock: an SDK retry is answering its own
            // first attempt.
            Err(e) if e.has_code("BucketAlreadyOwnedByYou") => Ok(()),
            other => other,
        };
        let created = journal.created(
            made,
            Undo::DeleteBucket {
                bucket: bucket.clone(),
            },
        );
        created.map_err(|e| match e.is_already_exists() {
            true => OpError::exists(Resource::Bucket, bucket.as_str()),
            false => e.into(),
        })?;
        configure_bucket(ctx, bucket, tags, lifecycle, public_access).await
    };
    let group_chain = make_group(ctx, bucket, &admin, subject, IfExists::Conflict, journal);
    let (configured, made) = tokio::join!(bucket_chain, group_chain);
    // A taken bucket name explains the failure best.
    configured?;
    let made = made?;
    Ok(CreatedBucket {
        bucket: bucket.clone(),
        policy: made.policy.as_ref().expect("made, not joined").into(),
        group: made.group.as_ref().expect("made, not joined").into(),
    })
}

/// Tags, encryption, public access block, ownership, access logging and lifecycle of a new bucket, concurrently.
async fn configure_bucket(
    ctx: &Ctx,
    bucket: &BucketName,
    tags: &[Tag],
    lifecycle: Option<Lifecycle>,
    public_access: PublicAccess,
) -> Result<(), OpError> {
    let aws = &ctx.aws;
    let logging = async {
        match &aws.config.access_log {
            Some(log) => {
                let prefix = match log.prefix.trim_matches('/') {
                    "" => format!("{bucket}/"),
                    p => format!("{p}/{bucket}/"),
                };
                retry_not_visible(|| aws.put_bucket_logging(bucket, &log.bucket, &prefix)).await
            }
            None => Ok(()),
        }
    };
    let lifecycle = async {
        match lifecycle {
            Some(l) => retry_not_visible(|| aws.put_lifecycle(bucket, l)).await,
            None => Ok(()),
        }
    };
    let (a, b, c, d, e, f) = tokio::join!(
        retry_not_visible(|| aws.put_bucket_tagging(bucket, tags)),
        retry_not_visible(|| aws.put_bucket_encryption(bucket)),
        retry_not_visible(|| aws.put_public_access_block(bucket, public_access)),
        retry_not_visible(|| aws.put_bucket_ownership_controls(bucket)),
        logging,
        lifecycle,
    );
    first_error([a, b, c, d, e, f].map(|r| r.map_err(OpError::from)))
}

/// Tags ∥ emptiness ∥ logging ∥ policy: one round trip.
pub async fn show(ctx: &Ctx, bucket: &BucketName) -> Result<BucketView, OpError> {
    let aws = &ctx.aws;
    let (tags, contents, logging, policy) = tokio::join!(
        aws.get_bucket_tagging(bucket),
        contents::read(aws, bucket, None),
        aws.get_bucket_logging(bucket),
        aws.get_bucket_policy(bucket)
    );
    let missing = |e: crate::aws::AwsError| match e.is_not_found() {
        true => OpError::not_found(Resource::Bucket, bucket.as_str()),
        false => e.into(),
    };
    Ok(BucketView {
        tags: tags.map_err(missing)?,
        empty: contents.map_err(missing)?.empty,
        logging: logging.map_err(missing)?,
        policy: policy.map_err(missing)?,
    })
}

/// Whether the bucket exists, as a route of `kind` sees it: the website routes do not see a plain bucket.
pub async fn head(ctx: &Ctx, bucket: &BucketName, kind: Kind) -> Result<Presence, OpError> {
    let state = match kind {
        Kind::Bucket => ctx.aws.head_bucket(bucket).await?,
        Kind::Website => {
            let (state, facts) = tokio::join!(ctx.aws.head_bucket(bucket), ctx.facts(bucket));
            match (state?, facts?) {
                (BucketState::Reachable, Some(f)) if !f.website => BucketState::Missing,
                (state, _) => state,
            }
        }
    };
    Ok(match state {
        BucketState::Reachable => Presence::Reachable,
        BucketState::Forbidden => Presence::Forbidden,
        BucketState::Missing => Presence::Missing,
    })
}

/// Where a Cyberduck bookmark of the bucket points: the account's S3 host and port. 404 when the bucket does not
/// exist as a route of `kind` sees it.
pub async fn bookmark_host(
    ctx: &Ctx,
    bucket: &BucketName,
    kind: Kind,
) -> Result<(String, u16), OpError> {
    match head(ctx, bucket, kind).await? {
        Presence::Missing => Err(missing(bucket, kind)),
        _ => Ok(ctx.aws.s3_host()),
    }
}

pub async fn list(ctx: &Ctx) -> Result<Vec<String>, OpError> {
    Ok(ctx.aws.list_buckets().await?)
}

/// A validated bucket update: new caller tags and/or a bucket policy (a JSON document).
#[derive(Debug, Clone)]
pub struct UpdateBucket {
    pub tags: Option<CallerTags>,
    pub policy: Option<String>,
}

/// Replaces the caller's tags (keeping the service's own) and/or sets the bucket policy, then shows the bucket.
/// Only a managed plain bucket: a website's policy is the service's own (public-read), and changing a bucket
/// the service did not make is not its business.
pub async fn update(
    ctx: &Ctx,
    bucket: &BucketName,
    req: UpdateBucket,
) -> Result<BucketView, OpError> {
    let aws = &ctx.aws;
    let facts = ctx.existing(bucket, Kind::Bucket).await?;
    facts.may_change(Kind::Bucket, bucket)?;
    let tags = async {
        let Some(caller) = &req.tags else {
            return Ok(());
        };
        // Keep the service's bookkeeping tags; the org tag is always set anew.
        let own: Vec<Tag> = std::iter::once(ctx.org_tag.clone())
            .chain(
                (facts.tags.iter())
                    .filter(|t| {
                        t.key != ctx.org_tag.key && CallerTags::is_own_key(&t.key, &ctx.org_tag.key)
                    })
                    .cloned(),
            )
            .collect();
        aws.put_bucket_tagging(bucket, &caller.with(&own)).await
    };
    let policy = async {
        match &req.policy {
            Some(p) => aws.put_bucket_policy(bucket, p).await,
            None => Ok(()),
        }
    };
    let (t, p) = tokio::join!(tags, policy);
    for r in [t, p] {
        r.map_err(|e| match e.is_not_found() {
            true => OpError::not_found(Resource::Bucket, bucket.as_str()),
            false => OpError::from(e),
        })?;
    }
    show(ctx, bucket).await
}

/// Deletes a bucket and the IAM resources the service made for it (ORCHESTRATION §4.4). Safe to repeat after a
/// partial failure: every step treats "already gone" as done, and the bucket goes last.
pub async fn delete(ctx: &Ctx, bucket: &BucketName) -> Result<DeletedBucket, OpError> {
    let names = IamNames::of(ctx, &BucketGroup::all(bucket)).await?;
    let (state, facts, contents, iam) = tokio::join!(
        ctx.aws.head_bucket(bucket),
        ctx.facts(bucket),
        contents::read_unless_gone(&ctx.aws, bucket, None),
        BucketIam::read(ctx, &names),
    );
    let state = state?;
    // Someone else's bucket, or a website's (whose name DNS and CloudFront still point at), stays untouched.
    if let Some(facts) = facts? {
        facts.may_change(Kind::Bucket, bucket)?;
    }
    if !contents?.empty {
        return Err(OpError::NotEmpty(bucket.to_string()));
    }
    let iam = iam?;
    if state == BucketState::Missing && iam.is_empty() {
        return Err(OpError::not_found(Resource::Bucket, bucket.as_str()));
    }
    let mut deleted = iam.tear_down(ctx, bucket, &names).await?;
    if state != BucketState::Missing {
        gone(ctx.aws.delete_bucket(bucket).await).map_err(|e| {
            match e.has_code("BucketNotEmpty") {
                true => OpError::NotEmpty(bucket.to_string()),
                false => OpError::from(e),
            }
        })?;
    }
    deleted.bucket = bucket.to_string();
    Ok(deleted)
}

/// The exact IAM names of a bucket's groups and policies: what a delete may remove, and nothing else.
#[derive(Debug, Clone, Default)]
pub(crate) struct IamNames {
    pub groups: Vec<String>,
    /// (name, ARN)
    pub policies: Vec<(String, String)>,
}

impl IamNames {
    pub(crate) async fn of(ctx: &Ctx, groups: &[BucketGroup]) -> Result<IamNames, OpError> {
        let mut names = IamNames::default();
        for g in groups {
            names.groups.push(g.group.as_str().to_owned());
            let arn = ctx.aws.policy_arn(&g.iam_path, g.policy.as_str()).await?;
            names.policies.push((g.policy.as_str().to_owned(), arn));
        }
        Ok(names)
    }
}

/// What exists in IAM of one bucket's groups: their members, attached policies, and the bucket's own policies
/// with everything they are attached to. Read in one round of concurrent calls, by exact names only.
#[derive(Debug, Default)]
pub(crate) struct BucketIam {
    /// Existing group name → its member user names.
    members: BTreeMap<String, Vec<String>>,
    /// Existing group name → ARNs of the policies attached to it.
    group_policies: BTreeMap<String, Vec<String>>,
    /// Existing bucket policy (name, ARN) → what it is attached to.
    policies: Vec<(String, String, crate::aws::iam::PolicyEntities)>,
}

impl BucketIam {
    pub(crate) async fn read(ctx: &Ctx, names: &IamNames) -> Result<BucketIam, OpError> {
        let aws = &ctx.aws;
        let group_reads = join_all(names.groups.iter().map(|g| async move {
            let (members, attached) =
                tokio::join!(async { found(aws.get_group(g).await) }, async {
                    found(aws.list_attached_group_policies(g).await)
                });
            Ok::<_, crate::aws::AwsError>((g, members?, attached?))
        }));
        let policy_reads = join_all(names.policies.iter().map(|(name, arn)| async move {
            // GetPolicy says whether it exists (moto lists no entities for a missing policy instead of failing).
            let (policy, entities) =
                tokio::join!(async { found(aws.get_policy(arn).await) }, async {
                    found(aws.list_entities_for_policy(arn).await)
                });
            let entities = policy?.and(entities?);
            Ok::<_, crate::aws::AwsError>((name.clone(), arn.clone(), entities))
        }));
        let (group_reads, policy_reads) = tokio::join!(group_reads, policy_reads);
        let mut iam = BucketIam::default();
        for r in group_reads {
            let (g, members, attached) = r?;
            if let Some((_, users)) = members {
                let names = users.iter().map(|u| u.user_name().to_owned()).collect();
                iam.members.insert(g.clone(), names);
                let arns = attached
                    .unwrap_or_default()
                    .iter()
                    .filter_map(|p| p.policy_arn().map(str::to_owned))
                    .collect();
                iam.group_policies.insert(g.clone(), arns);
            }
        }
        for r in policy_reads {
            if let (name, arn, Some(entities)) = r? {
                iam.policies.push((name, arn, entities));
            }
        }
        Ok(iam)
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.members.is_empty() && self.policies.is_empty()
    }

    /// Removes the bucket's users (or only their memberships, when they belong elsewhere too), groups and
    /// policies, in the order IAM requires, in six sequential round trips at most (counting the read before):
    ///
    /// 1. each member is read with everything IAM wants removed before `DeleteUser` (`users::IamUser`) ∥
    ///    every attachment of the bucket's groups and of its policies is detached;
    /// 2. each member is unlinked (`users::release`, the user routes' path too) ∥ the detached policies are
    ///    deleted;
    /// 3. each exclusive member is deleted;
    /// 4. the groups are deleted (the bucket goes after, in the caller).
    ///
    /// A member that could not be deleted is put back into the groups it left, so that a repeated delete
    /// finds it again through them.
    pub(crate) async fn tear_down(
        &self,
        ctx: &Ctx,
        bucket: &BucketName,
        names: &IamNames,
    ) -> Result<DeletedBucket, OpError> {
        let aws = &ctx.aws;
        let our_groups: BTreeSet<&str> = names.groups.iter().map(String::as_str).collect();
        let our_policies: BTreeSet<&str> = names.policies.iter().map(|(n, _)| n.as_str()).collect();
        let users: BTreeSet<&str> = self
            .members
            .values()
            .flatten()
            .map(String::as_str)
            .collect();

        let mut detach: BTreeSet<(Attached, String, String)> = BTreeSet::new();
        for (group, arns) in &self.group_policies {
            for arn in arns {
                detach.insert((Attached::Group, group.clone(), arn.clone()));
            }
        }
        for (_, arn, entities) in &self.policies {
            detach.extend(
                entities
                    .groups
                    .iter()
                    .map(|g| (Attached::Group, g.clone(), arn.clone())),
            );
            detach.extend(
                entities
                    .users
                    .iter()
                    .map(|u| (Attached::User, u.clone(), arn.clone())),
            );
            detach.extend(
                entities
                    .roles
                    .iter()
                    .map(|r| (Attached::Role, r.clone(), arn.clone())),
            );
        }
        let policies = async {
            let detached = join_all(detach.iter().map(|(kind, name, arn)| async move {
                gone(match kind {
                    Attached::Group => aws.detach_group_policy(name, arn).await,
                    Attached::User => aws.detach_user_policy(name, arn).await,
                    Attached::Role => aws.detach_role_policy(name, arn).await,
                })
            }))
            .await;
            detached.into_iter().collect::<Result<Vec<()>, _>>()?;
            let deleted = join_all(
                self.policies
                    .iter()
                    .map(|(_, arn, _)| async move { gone(aws.delete_policy(arn).await) }),
            )
            .await;
            deleted
                .into_iter()
                .collect::<Result<Vec<()>, _>>()
                .map(|_| ())
        };
        let how = Release::Bucket {
            bucket,
            groups: &our_groups,
            policies: &our_policies,
        };
        let members = join_all(users.iter().map(|user| {
            let how = &how;
            async move {
                match IamUser::read(aws, user).await? {
                    Some(found) => release(&ctx.aws, &found, how)
                        .await
                        .map(|_| *user)
                        .map_err(OpError::from),
                    // Deleted by someone else in the meantime: nothing left to do for it.
                    None => Ok(*user),
                }
            }
        }));
        let (members, policies) = tokio::join!(members, policies);
        let mut released = Vec::new();
        for r in members {
            released.push(r?.to_owned());
        }
        policies?;

        let group_names: Vec<&String> = self.members.keys().collect();
        let deleted = join_all(
            group_names
                .iter()
                .map(|g| async move { gone(aws.delete_group(g).await) }),
        )
        .await;
        for r in deleted {
            r?;
        }
        Ok(DeletedBucket {
            bucket: String::new(),
            users: released,
            policies: self
                .policies
                .iter()
                .map(|(name, _, _)| name.clone())
                .collect(),
            groups: group_names.into_iter().cloned().collect(),
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Attached {
    Group,
    User,
    Role,
}
