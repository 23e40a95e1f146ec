//! Bucket workflows: create (with rollback), show, head, list, update, delete.

use std::collections::{BTreeMap, BTreeSet};

use aws_sdk_iam::types::{Group, Policy};
use futures::future::join_all;

use super::ownership::Kind;
use super::rollback::{Journal, Undo};
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
    pub policy: Policy,
    pub group: Group,
}

/// A bucket as the show route reports it.
#[derive(Debug, Clone)]
pub struct BucketView {
    pub tags: Vec<Tag>,
    /// Access-log target bucket and prefix, when logging is on.
    pub logging: Option<(String, String)>,
    pub empty: bool,
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

    /// Creates the IAM policy of a bucket's group of `kind`; the name is unique per account, so this is also the
    /// lock that decides which of several concurrent requests goes on.
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

/// Creates a bucket with its admin policy and group (ORCHESTRATION §4.1): three sequential round trips.
pub async fn create(ctx: Ctx, req: CreateBucket) -> Result<CreatedBucket, OpError> {
    let c = ctx.clone();
    ctx.with_rollback("create_bucket", move |journal| async move {
        let tags = req.tags.with(std::slice::from_ref(&c.org_tag));
        create_bucket_resources(
            &c,
            &req.bucket,
            &tags,
            req.lifecycle,
            PublicAccess::BLOCK_ALL,
            Subject::Bucket,
            &journal,
        )
        .await
    })
    .await
}

/// The bucket part shared by bucket and website creation.
pub(crate) async fn create_bucket_resources(
    ctx: &Ctx,
    bucket: &BucketName,
    tags: &[Tag],
    lifecycle: Option<Lifecycle>,
    public_access: PublicAccess,
    subject: Subject<'_>,
    journal: &Journal,
) -> Result<CreatedBucket, OpError> {
    let aws = &ctx.aws;
    let admin = BucketGroup::new(bucket, GroupKind::Admin).expect("bucket names fit IAM names");

    // 1. Is the name free? ∥ Take the lock: of concurrent creates of one name, one wins CreatePolicy.
    let (state, policy) = tokio::join!(
        aws.head_bucket(bucket),
        ctx.create_group_policy(&admin, bucket, subject)
    );
    // A bucket in another region exists all the same: the name is taken.
    let state = state.or_else(|e| match e.is_other_region() {
        true => Ok(BucketState::Forbidden),
        false => Err(e),
    });
    let policy = match policy {
        Ok(p) => {
            journal.record(Undo::DeletePolicy {
                arn: p.arn().unwrap_or_default().to_owned(),
            });
            Some(p)
        }
        Err(e) => {
            // A taken bucket name explains a taken policy name best; report that first.
            if matches!(state, Ok(BucketState::Reachable | BucketState::Forbidden)) {
                return Err(OpError::exists(Resource::Bucket, bucket.as_str()));
            }
            return Err(e);
        }
    };
    match state? {
        BucketState::Missing => {}
        BucketState::Reachable | BucketState::Forbidden => {
            return Err(OpError::exists(Resource::Bucket, bucket.as_str()))
        }
    }
    let mut policy = policy.expect("policy created");
    let policy_arn = policy.arn().unwrap_or_default().to_owned();

    // 2–3. Two independent chains: the bucket, then everything that configures it ∥ the admin group, then its
    //      policy on it. Each chain goes on as soon as its own create returns; both are awaited to the end even
    //      when one fails, so that nothing created goes unrecorded.
    let bucket_chain = async {
        let created = journal.created(
            aws.create_bucket(bucket).await,
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
    let group_chain = async {
        let group = aws.create_group(&admin.group, &admin.iam_path).await;
        let group = journal
            .created(
                group,
                Undo::DeleteGroup {
                    group: admin.group.as_str().to_owned(),
                },
            )
            .map_err(|e| match e.is_already_exists() {
                true => OpError::exists(Resource::Group, admin.group.as_str()),
                false => OpError::from(e),
            })?;
        let attached =
            retry_not_visible(|| aws.attach_group_policy(admin.group.as_str(), &policy_arn)).await;
        journal.created(
            attached,
            Undo::DetachGroupPolicy {
                group: admin.group.as_str().to_owned(),
                policy_arn: policy_arn.clone(),
            },
        )?;
        Ok::<_, OpError>(group)
    };
    let (configured, group) = tokio::join!(bucket_chain, group_chain);
    // A taken bucket name explains the failure best.
    configured?;
    let group = group?;

    policy.attachment_count = Some(1);
    Ok(CreatedBucket {
        bucket: bucket.clone(),
        policy,
        group,
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

/// Tags ∥ emptiness ∥ logging: one round trip.
pub async fn show(ctx: &Ctx, bucket: &BucketName) -> Result<BucketView, OpError> {
    let aws = &ctx.aws;
    let (tags, empty, logging) = tokio::join!(
        aws.get_bucket_tagging(bucket),
        aws.bucket_is_empty(bucket),
        aws.get_bucket_logging(bucket)
    );
    let missing = |e: crate::aws::AwsError| match e.is_not_found() {
        true => OpError::not_found(Resource::Bucket, bucket.as_str()),
        false => e.into(),
    };
    Ok(BucketView {
        tags: tags.map_err(missing)?,
        empty: empty.map_err(missing)?,
        logging: logging.map_err(missing)?,
    })
}

/// Whether the bucket exists, as a route of `kind` sees it: the website routes do not see a plain bucket.
pub async fn head(ctx: &Ctx, bucket: &BucketName, kind: Kind) -> Result<BucketState, OpError> {
    if kind == Kind::Bucket {
        return Ok(ctx.aws.head_bucket(bucket).await?);
    }
    let (state, facts) = tokio::join!(ctx.aws.head_bucket(bucket), ctx.facts(bucket));
    Ok(match (state?, facts?) {
        (BucketState::Reachable, Some(f)) if !f.website => BucketState::Missing,
        (state, _) => state,
    })
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
    let (state, facts, no_versions, iam) = tokio::join!(
        ctx.aws.head_bucket(bucket),
        ctx.facts(bucket),
        async {
            match ctx.aws.bucket_has_no_versions(bucket).await {
                Err(e) if e.is_not_found() => Ok(true),
                other => other,
            }
        },
        BucketIam::read(ctx, &names),
    );
    let state = state?;
    // Someone else's bucket, or a website's (whose name DNS and CloudFront still point at), stays untouched.
    if let Some(facts) = facts? {
        facts.may_change(Kind::Bucket, bucket)?;
    }
    if !no_versions? {
        return Err(OpError::NotEmpty(bucket.to_string()));
    }
    let iam = iam?;
    if state == BucketState::Missing && iam.is_empty() {
        return Err(OpError::not_found(Resource::Bucket, bucket.as_str()));
    }
    let mut deleted = iam.tear_down(ctx, &names).await?;
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
    /// 1. each member's keys, groups and policies are read ∥ every attachment of the bucket's groups and of its
    ///    policies is detached;
    /// 2. each member is unlinked (keys deleted, memberships removed) ∥ the detached policies are deleted;
    /// 3. each exclusive member is deleted;
    /// 4. the groups are deleted (the bucket goes after, in the caller).
    ///
    /// A member that could not be deleted is put back into the groups it left, so that a repeated delete
    /// finds it again through them.
    pub(crate) async fn tear_down(
        &self,
        ctx: &Ctx,
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
        let members = join_all(
            users
                .iter()
                .map(|user| release_user(ctx, user, &our_groups, &our_policies)),
        );
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

/// Takes a member user out of the bucket. A user that belongs only to this bucket (no other group, no other
/// policy) is deleted with its keys; one that also belongs elsewhere only leaves the bucket's groups. If a step
/// fails, the user is put back into the groups it left, so a repeated delete finds it again.
async fn release_user<'a>(
    ctx: &Ctx,
    user: &'a str,
    our_groups: &BTreeSet<&str>,
    our_policies: &BTreeSet<&str>,
) -> Result<&'a str, OpError> {
    let aws = &ctx.aws;
    let (keys, groups, policies) = tokio::join!(
        aws.list_access_keys(user),
        aws.list_groups_for_user(user),
        aws.list_attached_user_policies(user)
    );
    let (keys, groups, policies) = match (keys, groups, policies) {
        (Ok(k), Ok(g), Ok(p)) => (k, g, p),
        // Deleted by someone else in the meantime: nothing left to do for it.
        (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) if e.is_not_found() => return Ok(user),
        (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => return Err(e.into()),
    };
    let ours = |p: &aws_sdk_iam::types::AttachedPolicy| {
        p.policy_name().is_some_and(|n| our_policies.contains(n))
    };
    let exclusive =
        groups.iter().all(|g| our_groups.contains(g.group_name())) && policies.iter().all(ours);
    let leave: Vec<&str> = groups
        .iter()
        .map(|g| g.group_name())
        .filter(|g| our_groups.contains(g))
        .collect();

    let left = join_all(
        leave
            .iter()
            .map(|g| async move { gone(aws.remove_user_from_group(user, g).await) }),
    );
    let detached = join_all(
        policies
            .iter()
            .filter(|p| ours(p))
            .filter_map(|p| p.policy_arn())
            .map(|arn| async move { gone(aws.detach_user_policy(user, arn).await) }),
    );
    let keys_deleted = join_all(
        keys.iter()
            .filter(|_| exclusive)
            .filter_map(|k| k.access_key_id())
            .map(|id| async move { gone(aws.delete_access_key(user, id).await) }),
    );
    let (left, detached, keys_deleted) = tokio::join!(left, detached, keys_deleted);
    let mut outcome = detached
        .into_iter()
        .chain(keys_deleted)
        .collect::<Result<Vec<()>, _>>()
        .map(|_| ());
    let mut rejoin = Vec::new();
    for (group, r) in leave.iter().zip(left) {
        match r {
            Ok(()) => rejoin.push(*group),
            Err(e) => outcome = outcome.and(Err(e)),
        }
    }
    if outcome.is_ok() && exclusive {
        outcome = gone(aws.delete_user(user).await);
    }
    if let Err(e) = outcome {
        for group in rejoin {
            if let Err(again) = aws.add_user_to_group(user, group).await {
                tracing::error!(error = %again, user, group, "could not put a user back into its group");
            }
        }
        return Err(e.into());
    }
    Ok(user)
}
