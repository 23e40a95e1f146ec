//! Bucket users: IAM users that belong to a bucket through membership in its groups.

use std::collections::{BTreeMap, BTreeSet};

use aws_sdk_iam::types::{AccessKeyMetadata, AttachedPolicy, Group, User};
use futures::future::join_all;

use super::groups::{make_group, IfExists};
use super::marker::Intent;
use super::ownership::{missing, Facts, Kind};
use super::records;
use super::rollback::{Journal, Undo};
use super::{first_error, Ctx, OpError, Resource};
use crate::aws::iam::{found, gone};
use crate::aws::s3::BucketState;
use crate::aws::{retry_not_visible, AwsAccount, AwsError};
use crate::domain::names::{BucketGroup, BucketName, GroupKind, UserName};
use crate::domain::policy::Subject;
use crate::domain::tags::{Tag, USER_BUCKET_TAG};
use crate::domain::website::PLACEHOLDER_TAGGING;

/// A validated user create request.
#[derive(Debug, Clone)]
pub struct CreateUser {
    pub bucket: BucketName,
    /// The route family the request came through (and so whether groups made for the user get website
    /// policies: the bucket must be of that kind).
    pub kind: Kind,
    pub user: UserName,
    /// The groups to join; the ones that do not exist yet are created with their policies.
    pub groups: Vec<BucketGroup>,
    /// A page to write at this key unless an object is there already (a path-scoped website user's
    /// `<prefix>/index.html`): (key, content).
    pub placeholder: Option<(String, String)>,
}

/// Which IAM groups make a user a member of a bucket (or website): its root groups, and for websites the
/// path-scoped groups under the website's IAM path prefix.
#[derive(Debug, Clone)]
pub struct Membership {
    pub bucket: BucketName,
    /// Whether the request came through the bucket or the website routes (API §1.2a).
    pub kind: Kind,
    pub root: Vec<BucketGroup>,
    pub scoped_prefix: Option<String>,
}

impl Membership {
    pub fn bucket(bucket: &BucketName) -> Self {
        Membership {
            bucket: bucket.clone(),
            kind: Kind::Bucket,
            root: BucketGroup::all(bucket),
            scoped_prefix: None,
        }
    }

    pub fn website(bucket: &BucketName) -> Self {
        Membership {
            bucket: bucket.clone(),
            kind: Kind::Website,
            root: GroupKind::WEBSITE
                .into_iter()
                .map(|k| BucketGroup::new(bucket, k).expect("bucket names fit IAM names"))
                .collect(),
            scoped_prefix: Some(crate::domain::names::scoped_iam_prefix(bucket)),
        }
    }

    /// The bucket's facts as this route family may read them: 404 when it is missing or of the other kind.
    fn readable(&self, facts: Result<Option<Facts>, AwsError>) -> Result<Facts, OpError> {
        let facts = facts?.ok_or_else(|| missing(&self.bucket, self.kind))?;
        facts.may_read(self.kind, &self.bucket)?;
        Ok(facts)
    }

    /// As `readable`, and the bucket must be one this route family may change: managed, of its kind.
    fn changeable(&self, facts: Result<Option<Facts>, AwsError>) -> Result<Facts, OpError> {
        let facts = self.readable(facts)?;
        facts.may_change(self.kind, &self.bucket)?;
        Ok(facts)
    }

    /// Whether the user carries the service's tags naming this bucket: the org tag and `USER_BUCKET_TAG`.
    fn tagged(&self, user: &User, org_tag: &Tag) -> bool {
        let has = |key: &str, value: &str| {
            user.tags()
                .iter()
                .any(|t| t.key() == key && t.value() == value)
        };
        has(&org_tag.key, &org_tag.value) && has(USER_BUCKET_TAG, self.bucket.as_str())
    }

    fn contains(&self, g: &Group) -> bool {
        self.root.iter().any(|r| r.group.as_str() == g.group_name())
            || self
                .scoped_prefix
                .as_deref()
                .is_some_and(|p| g.path().starts_with(p))
    }

    /// The names of every group of the bucket that exists or may exist.
    async fn group_names(&self, ctx: &Ctx) -> Result<Vec<String>, AwsError> {
        let mut names: Vec<String> = self
            .root
            .iter()
            .map(|g| g.group.as_str().to_owned())
            .collect();
        if let Some(prefix) = &self.scoped_prefix {
            names.extend(ctx.aws.list_by_path(prefix).await?.0);
        }
        Ok(names)
    }
}

#[derive(Debug, Clone)]
pub struct CreatedUser {
    pub user: records::User,
    pub access_key: records::NewAccessKey,
}

#[derive(Debug, Clone)]
pub struct UserView {
    pub user: records::User,
    pub access_keys: Vec<records::AccessKey>,
    /// The user's groups that belong to the bucket.
    pub groups: Vec<records::Group>,
    /// The managed policies attached to those groups.
    pub policies: Vec<records::AttachedPolicy>,
}

#[derive(Debug, Clone)]
pub struct ResetKeys {
    pub deleted_key_ids: Vec<String>,
    pub access_key: records::NewAccessKey,
}

#[derive(Debug, Clone)]
pub struct DeletedUser {
    pub user: String,
    pub deleted_key_ids: Vec<String>,
    pub groups: Vec<String>,
}

/// A bucket that users can be managed for: one that exists and that the service can reach.
fn usable(state: BucketState, bucket: &BucketName) -> Result<(), OpError> {
    match state {
        BucketState::Reachable => Ok(()),
        BucketState::Missing => Err(OpError::not_found(Resource::Bucket, bucket.as_str())),
        BucketState::Forbidden => Err(OpError::Forbidden {
            what: Resource::Bucket,
            name: bucket.to_string(),
        }),
    }
}

fn user_missing(user: &UserName) -> OpError {
    OpError::not_found(Resource::User, user.as_str())
}

/// The tag that records a user's bucket on the user.
fn bucket_tag(bucket: &BucketName) -> Tag {
    Tag::new(USER_BUCKET_TAG, bucket.as_str())
}

/// Creates the user in its groups with a first access key (ORCHESTRATION §4.5); undoes all of it on failure.
pub async fn create(ctx: Ctx, req: CreateUser) -> Result<CreatedUser, OpError> {
    let c = ctx.clone();
    ctx.with_rollback("create_user", move |journal| async move {
        create_steps(&c, &req, &journal).await
    })
    .await
}

async fn create_steps(
    ctx: &Ctx,
    req: &CreateUser,
    journal: &Journal,
) -> Result<CreatedUser, OpError> {
    let aws = &ctx.aws;
    let user_name = req.user.as_str();

    // 0. The create's marker, so that a process killed half-way leaves nothing the cleaner cannot find. It costs
    //    one round trip: the user is made in the next round, and must not exist unmarked.
    let intent = Intent::CreateUser {
        bucket: req.bucket.to_string(),
        user: user_name.to_owned(),
        groups: (req.groups.iter())
            .map(|g| g.kind.group_suffix().to_owned())
            .collect(),
        scope: (req.groups.iter())
            .find_map(|g| g.scope.as_ref())
            .map(|s| s.as_str().to_owned()),
        website: req.kind == Kind::Website,
    };
    ctx.begin(&intent, journal).await?;

    // 1. Does the bucket exist, and may this route change it? ∥ Which groups exist? ∥ The user (its name is the
    //    lock; made in this round so the check costs no round trip, and undone when the check fails).
    let user_tags = [ctx.org_tag.clone(), bucket_tag(&req.bucket)];
    let (state, facts, existing, user) = tokio::join!(
        aws.head_bucket(&req.bucket),
        ctx.facts(&req.bucket),
        join_all(
            req.groups
                .iter()
                .map(|g| async move { found(aws.get_group(g.group.as_str()).await) })
        ),
        aws.create_user(&req.user, &user_tags),
    );
    // Recorded also when the answer was lost: this request holds the user name's marker, so a user of that name
    // made now is its own — also when an SDK retry answered "already exists" to the attempt that made it.
    let user = (journal.claim(user, aws.get_user(user_name), |u| Some(u.create_date()))).await;
    let user = journal.created(
        user,
        Undo::DeleteUser {
            user: user_name.to_owned(),
        },
    );
    // A missing bucket explains the failure best, whatever happened to the user; then a bucket that is not
    // this route's to change.
    usable(state?, &req.bucket)?;
    let facts = &facts?.ok_or_else(|| missing(&req.bucket, req.kind))?;
    facts.may_change(req.kind, &req.bucket)?;
    let user = user.map_err(|e| match e.is_already_exists() {
        true => OpError::exists(Resource::User, user_name),
        false => OpError::from(e),
    })?;

    // 2. The first key ∥ each group joined (created first when missing).
    let key = async {
        let r = retry_not_visible(|| aws.create_access_key(user_name)).await;
        journal.track(r, |k| Undo::DeleteAccessKey {
            user: user_name.to_owned(),
            key_id: k.access_key_id().to_owned(),
        })
    };
    let joins = join_all(
        req.groups
            .iter()
            .zip(existing)
            .map(|(g, existing)| async move {
                let exists = existing?.is_some();
                if !exists {
                    ensure_group(ctx, &req.bucket, facts, g, journal).await?;
                }
                let r =
                    retry_not_visible(|| aws.add_user_to_group(user_name, g.group.as_str())).await;
                journal.created(
                    r,
                    Undo::RemoveUserFromGroup {
                        user: user_name.to_owned(),
                        group: g.group.as_str().to_owned(),
                    },
                )?;
                Ok::<(), OpError>(())
            }),
    );
    let placeholder = async {
        let Some((key, body)) = &req.placeholder else {
            return Ok(());
        };
        if aws.object_exists(&req.bucket, key).await? {
            return Ok(());
        }
        let r = aws
            .put_html(&req.bucket, key, body, PLACEHOLDER_TAGGING)
            .await;
        journal.created(
            r,
            Undo::DeleteObject {
                bucket: req.bucket.clone(),
                key: key.clone(),
            },
        )?;
        Ok::<(), OpError>(())
    };
    let (key, joins, placeholder) = tokio::join!(key, joins, placeholder);
    first_error(joins)?;
    placeholder?;
    Ok(CreatedUser {
        user: records::User::from(&user),
        access_key: records::NewAccessKey::from(&key?),
    })
}

/// Creates a missing group of the bucket with its policy, attached. Another request may be doing the same at
/// this moment: whatever it already made is used, not failed on, and only what this request made is recorded
/// for rollback.
pub(crate) async fn ensure_group(
    ctx: &Ctx,
    bucket: &BucketName,
    facts: &Facts,
    g: &BucketGroup,
    journal: &Journal,
) -> Result<(), OpError> {
    // The CloudFront admin policy is about the website's own distribution.
    let distribution_arn = match g.kind {
        GroupKind::WebAdmin => match ctx.website_distribution(bucket, facts).await? {
            Some(d) => Some(d.arn),
            None => {
                return Err(OpError::Invalid(format!(
                    "{bucket} has no CloudFront distribution"
                )))
            }
        },
        _ => None,
    };
    let subject = match (distribution_arn.as_deref(), facts.website) {
        (Some(arn), _) => Subject::Distribution(arn),
        (None, true) => Subject::Website,
        (None, false) => Subject::Bucket,
    };
    make_group(ctx, bucket, g, subject, IfExists::Join, journal).await?;
    Ok(())
}

/// Every user in any of the bucket's groups, once, sorted by name.
pub async fn list(
    ctx: &Ctx,
    bucket: &BucketName,
    membership: &Membership,
) -> Result<Vec<records::User>, OpError> {
    let aws = &ctx.aws;
    // The member lists are read right away for buckets, and after one listing of the scoped groups for websites.
    let members = async {
        let groups = membership.group_names(ctx).await?;
        let members = join_all(
            groups
                .iter()
                .map(|g| async move { found(aws.get_group(g).await) }),
        )
        .await;
        members.into_iter().collect::<Result<Vec<_>, AwsError>>()
    };
    let (state, facts, members) = tokio::join!(aws.head_bucket(bucket), ctx.facts(bucket), members);
    usable(state?, bucket)?;
    membership.readable(facts)?;
    let members = members?;
    let mut users: BTreeMap<String, User> = BTreeMap::new();
    for (_, members) in members.into_iter().flatten() {
        for u in members {
            users.entry(u.user_id().to_owned()).or_insert(u);
        }
    }
    let mut users: Vec<User> = users.into_values().collect();
    users.sort_by(|a, b| a.user_name().cmp(b.user_name()));
    Ok(users.iter().map(records::User::from).collect())
}

/// The user's groups that belong to the bucket. The user is the bucket's when it is in one of them, or when it
/// carries the service's tags for the bucket: a user whose delete failed after it had left its groups (none of
/// the bucket's groups is then left to find it by). "Not found" otherwise.
fn bucket_memberships(
    ctx: &Ctx,
    name: &UserName,
    groups: &[Group],
    user: &User,
    membership: &Membership,
) -> Result<Vec<Group>, OpError> {
    let ours: Vec<Group> = groups
        .iter()
        .filter(|g| membership.contains(g))
        .cloned()
        .collect();
    match ours.is_empty() && !membership.tagged(user, &ctx.org_tag) {
        true => Err(user_missing(name)),
        false => Ok(ours),
    }
}

pub async fn show(
    ctx: &Ctx,
    user: &UserName,
    membership: &Membership,
) -> Result<UserView, OpError> {
    let aws = &ctx.aws;
    // The policies of the root groups are read in the same round as the user's memberships (their names are
    // known); only path-scoped groups, found through the memberships, cost a second round.
    let root_policies = join_all(membership.root.iter().map(|g| async move {
        let attached = found(aws.list_attached_group_policies(g.group.as_str()).await)?;
        Ok::<_, AwsError>((g.group.as_str(), attached.unwrap_or_default()))
    }));
    let (facts, groups, details, keys, root_policies) = tokio::join!(
        ctx.facts(&membership.bucket),
        aws.list_groups_for_user(user.as_str()),
        aws.get_user(user.as_str()),
        aws.list_access_keys(user.as_str()),
        root_policies,
    );
    membership.readable(facts)?;
    let missing = |e: AwsError| match e.is_not_found() {
        true => user_missing(user),
        false => OpError::from(e),
    };
    let details = details.map_err(missing)?;
    let groups = bucket_memberships(ctx, user, &groups.map_err(missing)?, &details, membership)?;
    let access_keys = keys.map_err(missing)?;
    let mut attached: Vec<Vec<AttachedPolicy>> = Vec::new();
    for r in root_policies {
        let (group, policies) = r?;
        if groups.iter().any(|g| g.group_name() == group) {
            attached.push(policies);
        }
    }
    let scoped = groups.iter().filter(|g| {
        !membership
            .root
            .iter()
            .any(|r| r.group.as_str() == g.group_name())
    });
    for list in join_all(scoped.map(|g| aws.list_attached_group_policies(g.group_name()))).await {
        attached.push(list?);
    }
    let mut policies: BTreeMap<String, AttachedPolicy> = BTreeMap::new();
    for p in attached.into_iter().flatten() {
        policies
            .entry(p.policy_arn().unwrap_or_default().to_owned())
            .or_insert(p);
    }
    Ok(UserView {
        user: records::User::from(&details),
        access_keys: access_keys.iter().map(records::AccessKey::from).collect(),
        groups: groups.iter().map(records::Group::from).collect(),
        policies: policies
            .values()
            .map(records::AttachedPolicy::from)
            .collect(),
    })
}

/// Creates a new access key and deletes the older ones. IAM allows two keys per user: with two, the oldest goes
/// first; if creating the new key fails, no other key is deleted.
pub async fn reset_keys(
    ctx: &Ctx,
    user: &UserName,
    membership: &Membership,
) -> Result<ResetKeys, OpError> {
    let aws = &ctx.aws;
    let name = user.as_str();
    let (facts, details, groups, keys) = tokio::join!(
        ctx.facts(&membership.bucket),
        aws.get_user(name),
        aws.list_groups_for_user(name),
        aws.list_access_keys(name)
    );
    membership.changeable(facts)?;
    let missing = |e: AwsError| match e.is_not_found() {
        true => user_missing(user),
        false => OpError::from(e),
    };
    let details = details.map_err(missing)?;
    bucket_memberships(ctx, user, &groups.map_err(missing)?, &details, membership)?;
    let mut keys = keys.map_err(missing)?;
    keys.sort_by_key(|k| k.create_date().map(|d| (d.secs(), d.subsec_nanos())));
    let mut deleted = Vec::new();
    if keys.len() >= 2 {
        let oldest = keys.remove(0);
        let id = oldest.access_key_id().unwrap_or_default().to_owned();
        gone(aws.delete_access_key(name, &id).await)?;
        deleted.push(id);
    }
    let access_key = aws.create_access_key(name).await?;
    let rest: Vec<String> = keys
        .iter()
        .filter_map(|k| k.access_key_id().map(str::to_owned))
        .collect();
    let results = join_all(rest.iter().map(|id| aws.delete_access_key(name, id))).await;
    for r in results {
        gone(r)?;
    }
    deleted.extend(rest);
    Ok(ResetKeys {
        deleted_key_ids: deleted,
        access_key: records::NewAccessKey::from(&access_key),
    })
}

/// Deletes the user (ORCHESTRATION §4.5): its keys, memberships (of other buckets' groups too), policies and
/// whatever else IAM wants gone first, then the user.
///
/// The membership check and the read of all of that share one round. A user that the service did not tag for
/// this bucket (made before users were tagged, or for another bucket) is tagged before anything is removed, so
/// that a repeat finds it once it has left the bucket's groups.
pub async fn delete(
    ctx: &Ctx,
    user: &UserName,
    membership: &Membership,
) -> Result<DeletedUser, OpError> {
    let aws = &ctx.aws;
    let name = user.as_str();
    let (facts, found) = tokio::join!(ctx.facts(&membership.bucket), IamUser::read(aws, name));
    membership.changeable(facts)?;
    let found = found?.ok_or_else(|| user_missing(user))?;
    bucket_memberships(ctx, user, &found.groups, &found.user, membership)?;
    if !membership.tagged(&found.user, &ctx.org_tag) {
        aws.tag_user(name, &[ctx.org_tag.clone(), bucket_tag(&membership.bucket)])
            .await?;
    }
    release(&ctx.aws, &found, &Release::Delete).await?;
    Ok(DeletedUser {
        user: name.to_owned(),
        deleted_key_ids: found.key_ids().map(str::to_owned).collect(),
        groups: found
            .groups
            .iter()
            .map(|g| g.group_name().to_owned())
            .collect(),
    })
}

/// An IAM user with everything real IAM wants removed before it deletes the user (`DeleteConflict` otherwise):
/// access keys, group memberships, attached and inline policies, the console password, MFA devices, SSH keys,
/// signing certificates and service-specific credentials.
#[derive(Debug, Clone)]
pub(crate) struct IamUser {
    /// With its tags.
    pub user: User,
    pub keys: Vec<AccessKeyMetadata>,
    pub groups: Vec<Group>,
    pub attached: Vec<AttachedPolicy>,
    /// Inline policy names.
    pub inline: Vec<String>,
    pub login_profile: bool,
    /// Serial numbers.
    pub mfa_devices: Vec<String>,
    pub ssh_keys: Vec<String>,
    pub certificates: Vec<String>,
    pub service_credentials: Vec<String>,
}

impl IamUser {
    /// Reads the user in one round of concurrent calls; `None` when the user does not exist.
    pub(crate) async fn read(aws: &AwsAccount, name: &str) -> Result<Option<IamUser>, AwsError> {
        let (user, keys, groups, attached, inline, login, mfa, ssh, certificates, credentials) = tokio::join!(
            aws.get_user(name),
            aws.list_access_keys(name),
            aws.list_groups_for_user(name),
            aws.list_attached_user_policies(name),
            aws.list_user_policies(name),
            aws.get_login_profile(name),
            aws.list_mfa_devices(name),
            aws.list_ssh_public_keys(name),
            aws.list_signing_certificates(name),
            aws.list_service_specific_credentials(name),
        );
        // "Not found" from any of these means the user is gone, except from GetLoginProfile, which also says
        // it when the user merely has no password.
        let missing = [
            user.as_ref().err(),
            keys.as_ref().err(),
            groups.as_ref().err(),
            attached.as_ref().err(),
            inline.as_ref().err(),
            mfa.as_ref().err(),
            ssh.as_ref().err(),
            certificates.as_ref().err(),
            credentials.as_ref().err(),
        ]
        .into_iter()
        .flatten()
        .any(AwsError::is_not_found);
        if missing {
            return Ok(None);
        }
        Ok(Some(IamUser {
            user: user?,
            keys: keys?,
            groups: groups?,
            attached: attached?,
            inline: inline?,
            login_profile: found(login)?.is_some(),
            mfa_devices: mfa?.iter().map(|d| d.serial_number().to_owned()).collect(),
            ssh_keys: ssh?
                .iter()
                .map(|k| k.ssh_public_key_id().to_owned())
                .collect(),
            certificates: certificates?
                .iter()
                .map(|c| c.certificate_id().to_owned())
                .collect(),
            service_credentials: credentials?
                .iter()
                .map(|c| c.service_specific_credential_id().to_owned())
                .collect(),
        }))
    }

    pub(crate) fn name(&self) -> &str {
        self.user.user_name()
    }

    fn key_ids(&self) -> impl Iterator<Item = &str> {
        self.keys.iter().filter_map(|k| k.access_key_id())
    }
}

/// How far `release` takes a user out.
pub(crate) enum Release<'a> {
    /// The user routes: the user is deleted, whatever else it belongs to.
    Delete,
    /// Bucket and website delete: the user is deleted only when it belongs to nothing but the bucket (its
    /// groups and policies); one that also belongs elsewhere only leaves the bucket's groups and policies.
    Bucket {
        bucket: &'a BucketName,
        groups: &'a BTreeSet<&'a str>,
        policies: &'a BTreeSet<&'a str>,
    },
}

/// Virtual MFA devices are IAM resources of their own (their serial number is their ARN,
/// `arn:aws:iam::<account>:mfa/<name>`) and outlive their deactivation; hardware devices and security keys do not.
fn is_virtual_mfa(serial: &str) -> bool {
    serial.starts_with("arn:")
        && serial
            .split(':')
            .nth(5)
            .is_some_and(|r| r.starts_with("mfa/"))
}

/// Takes the user out: everything IAM wants removed is removed concurrently, then the user is deleted (or, for
/// a user that belongs elsewhere too, only the bucket's groups and policies are left). Every step counts
/// "already gone" as done. A user that could not be deleted is put back into the groups it left: bucket and
/// website delete find users only through the groups (finding them by tag would take a scan of every user of
/// the account).
pub(crate) async fn release(
    aws: &AwsAccount,
    found: &IamUser,
    how: &Release<'_>,
) -> Result<(), AwsError> {
    let user = found.name();
    let (exclusive, leave, detach, untag): (bool, Vec<&str>, Vec<&str>, bool) = match how {
        Release::Delete => (
            true,
            found.groups.iter().map(|g| g.group_name()).collect(),
            found
                .attached
                .iter()
                .filter_map(|p| p.policy_arn())
                .collect(),
            false,
        ),
        Release::Bucket {
            bucket,
            groups,
            policies,
        } => {
            let ours = |p: &AttachedPolicy| p.policy_name().is_some_and(|n| policies.contains(n));
            let exclusive = found.groups.iter().all(|g| groups.contains(g.group_name()))
                && found.attached.iter().all(ours);
            let leave = found
                .groups
                .iter()
                .map(|g| g.group_name())
                .filter(|g| groups.contains(g))
                .collect();
            let detach = found
                .attached
                .iter()
                .filter(|p| exclusive || ours(p))
                .filter_map(|p| p.policy_arn())
                .collect();
            // A user that stays must not keep naming a bucket that is going away: a later bucket of that name
            // would find it by the tag.
            let untag = !exclusive
                && found
                    .user
                    .tags()
                    .iter()
                    .any(|t| t.key() == USER_BUCKET_TAG && t.value() == bucket.as_str());
            (exclusive, leave, detach, untag)
        }
    };

    let left = join_all(
        leave
            .iter()
            .map(|g| async move { gone(aws.remove_user_from_group(user, g).await) }),
    );
    let detached = join_all(
        detach
            .iter()
            .map(|arn| async move { gone(aws.detach_user_policy(user, arn).await) }),
    );
    let untagged = async {
        match untag {
            true => gone(aws.untag_user(user, &[USER_BUCKET_TAG]).await),
            false => Ok(()),
        }
    };
    let credentials = async {
        if !exclusive {
            return Vec::new();
        }
        let keys = found
            .key_ids()
            .map(|id| async move { gone(aws.delete_access_key(user, id).await) });
        let inline = found
            .inline
            .iter()
            .map(|p| async move { gone(aws.delete_user_policy(user, p).await) });
        let mfa = found.mfa_devices.iter().map(|serial| async move {
            gone(aws.deactivate_mfa_device(user, serial).await)?;
            if is_virtual_mfa(serial) {
                // Once deactivated, the device is no longer listed for the user: a repeat cannot find it.
                gone(aws.delete_virtual_mfa_device(serial).await).inspect_err(|error| {
                    tracing::error!(%error, user, serial = %serial, "a deactivated virtual MFA device is left");
                })?;
            }
            Ok(())
        });
        let ssh = found
            .ssh_keys
            .iter()
            .map(|id| async move { gone(aws.delete_ssh_public_key(user, id).await) });
        let certificates = found
            .certificates
            .iter()
            .map(|id| async move { gone(aws.delete_signing_certificate(user, id).await) });
        let service = found
            .service_credentials
            .iter()
            .map(|id| async move { gone(aws.delete_service_specific_credential(user, id).await) });
        let login = async {
            match found.login_profile {
                true => gone(aws.delete_login_profile(user).await),
                false => Ok(()),
            }
        };
        let (mut results, keys, inline, mfa, ssh, certificates, service) = tokio::join!(
            async { vec![login.await] },
            join_all(keys),
            join_all(inline),
            join_all(mfa),
            join_all(ssh),
            join_all(certificates),
            join_all(service),
        );
        results.extend(keys.into_iter().chain(inline).chain(mfa).chain(ssh));
        results.extend(certificates.into_iter().chain(service));
        results
    };
    let (left, detached, untagged, credentials) =
        tokio::join!(left, detached, untagged, credentials);

    let mut outcome = detached
        .into_iter()
        .chain(credentials)
        .chain([untagged])
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
        let rejoined = join_all(rejoin.iter().map(|g| aws.add_user_to_group(user, g))).await;
        for (group, r) in rejoin.iter().zip(rejoined) {
            if let Err(again) = r {
                tracing::error!(error = %again, user, group, "could not put a user back into its group");
            }
        }
        return Err(e);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::is_virtual_mfa;

    #[test]
    fn only_virtual_mfa_devices_are_deleted_after_deactivation() {
        assert!(is_virtual_mfa("arn:aws:iam::123456789012:mfa/alice"));
        assert!(is_virtual_mfa(
            "arn:aws-cn:iam::123456789012:mfa/team/alice"
        ));
        // A hardware token's serial number, and a FIDO security key.
        assert!(!is_virtual_mfa("GAHT12345678"));
        assert!(!is_virtual_mfa(
            "arn:aws:iam::123456789012:u2f/user/alice/key-ABCDEFGHIJKLMNOPQRSTUVWXYZ"
        ));
    }
}
