//! Rollback of failed creates: a journal of what a request created, undone in reverse dependency order.
//!
//! Each step that creates something records its undo right after the AWS call returns and before the next call
//! starts. On failure the journal is unwound: links first (keys, memberships, attachments), then entities (users,
//! groups), then the bases (policies, buckets); steps of one tier run concurrently. Only what this request created
//! is ever recorded, so a rollback never touches a resource that existed before.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_sdk_iam::primitives::DateTime;
use futures::future::join_all;
use serde::Serialize;
use tracing::Instrument;

use crate::aws::iam::gone;
use crate::aws::{AwsAccount, AwsError};
use crate::domain::names::BucketName;

/// Attempts per undo step (the SDK retries transient errors inside each attempt as well).
const ATTEMPTS: u32 = 3;

/// One thing a request created, as the call that removes it.
#[derive(Debug, Clone, PartialEq)]
pub enum Undo {
    DeleteAccessKey {
        user: String,
        key_id: String,
    },
    RemoveUserFromGroup {
        user: String,
        group: String,
    },
    DetachGroupPolicy {
        group: String,
        policy_arn: String,
    },
    DeleteUser {
        user: String,
    },
    DeleteGroup {
        group: String,
    },
    DeletePolicy {
        arn: String,
    },
    DeleteBucket {
        bucket: BucketName,
    },
    /// Route 53 records created in `zone`.
    DeleteRecords {
        zone: String,
        records: Vec<aws_sdk_route53::types::ResourceRecordSet>,
    },
    /// A distribution cannot be deleted while enabled: it is disabled, and the cleaner deletes it later. When
    /// its id is unknown (the create timed out), it is found by its alias, which CloudFront keeps unique.
    DisableDistribution {
        id: Option<String>,
        alias: String,
    },
    DeleteObject {
        bucket: BucketName,
        key: String,
    },
}

impl Undo {
    /// Lower tiers are undone first: a group cannot be deleted while it has members or policies, a policy while
    /// it is attached, a user while it has keys.
    fn tier(&self) -> u8 {
        match self {
            // DNS first: the name must stop pointing at the site before anything behind it goes.
            Undo::DeleteAccessKey { .. }
            | Undo::RemoveUserFromGroup { .. }
            | Undo::DetachGroupPolicy { .. }
            | Undo::DeleteRecords { .. } => 0,
            Undo::DeleteUser { .. }
            | Undo::DeleteGroup { .. }
            | Undo::DisableDistribution { .. }
            | Undo::DeleteObject { .. } => 1,
            Undo::DeletePolicy { .. } | Undo::DeleteBucket { .. } => 2,
        }
    }

    /// How the resource is named in the rollback report when it could not be removed.
    fn resource(&self, aws: &AwsAccount) -> String {
        let account = aws.known_account_id().unwrap_or("unknown");
        match self {
            Undo::DeleteAccessKey { user, key_id } => format!("access key {key_id} of user {user}"),
            Undo::RemoveUserFromGroup { user, group } => {
                format!("membership of user {user} in group {group}")
            }
            Undo::DetachGroupPolicy { group, policy_arn } => {
                format!("attachment of {policy_arn} to group {group}")
            }
            Undo::DeleteUser { user } => {
                format!("arn:{}:iam::{account}:user/{user}", aws.partition())
            }
            Undo::DeleteGroup { group } => {
                format!("arn:{}:iam::{account}:group/{group}", aws.partition())
            }
            Undo::DeletePolicy { arn } => arn.clone(),
            Undo::DeleteBucket { bucket } => bucket.arn(),
            Undo::DeleteRecords { zone, records } => {
                let names: Vec<String> = records
                    .iter()
                    .map(|r| format!("{} {}", r.name, r.r#type.as_str()))
                    .collect();
                format!("DNS records {} in zone {zone}", names.join(", "))
            }
            Undo::DisableDistribution { id, alias } => match id {
                Some(id) => format!("arn:aws:cloudfront::{account}:distribution/{id}"),
                None => format!("CloudFront distribution for {alias}"),
            },
            Undo::DeleteObject { bucket, key } => format!("{}/{key}", bucket.arn()),
        }
    }

    async fn run(&self, aws: &AwsAccount) -> Result<(), AwsError> {
        gone(match self {
            Undo::DeleteAccessKey { user, key_id } => aws.delete_access_key(user, key_id).await,
            Undo::RemoveUserFromGroup { user, group } => {
                aws.remove_user_from_group(user, group).await
            }
            Undo::DetachGroupPolicy { group, policy_arn } => {
                aws.detach_group_policy(group, policy_arn).await
            }
            // Whatever else the user has — a key whose creating answer was lost, say — would make IAM refuse
            // the delete: the one user-delete path removes all of it.
            Undo::DeleteUser { user } => match super::users::IamUser::read(aws, user).await? {
                Some(found) => {
                    super::users::release(aws, &found, &super::users::Release::Delete).await
                }
                None => Ok(()),
            },
            Undo::DeleteGroup { group } => aws.delete_group(group).await,
            Undo::DeletePolicy { arn } => aws.delete_policy(arn).await,
            Undo::DeleteBucket { bucket } => aws.delete_bucket(bucket).await,
            Undo::DeleteRecords { zone, records } => {
                // Only records exactly as this request made them: a create whose answer was lost may have failed
                // because someone else's record holds the name, and that one stays (Route 53 itself refuses a
                // DELETE whose values differ; some implementations do not).
                let mut ours = Vec::new();
                for name in records
                    .iter()
                    .map(|r| r.name.as_str())
                    .collect::<std::collections::BTreeSet<_>>()
                {
                    let existing = aws.records_of(zone, name).await?;
                    ours.extend(existing.into_iter().filter(|e| {
                        records
                            .iter()
                            .any(|r| crate::aws::route53::same_alias(e, r))
                    }));
                }
                match ours.is_empty() {
                    true => Ok(()),
                    false => aws
                        .change_records(zone, aws_sdk_route53::types::ChangeAction::Delete, &ours)
                        .await
                        .map(|_| ()),
                }
            }
            Undo::DisableDistribution { id, alias } => {
                // The website's name is its bucket's: only a distribution holding the alias *and* serving that
                // bucket can be this request's (another one may hold the alias, which is why the create failed).
                let id = match id {
                    Some(id) => Some(id.clone()),
                    None => aws.distribution_serving(alias, alias).await?,
                };
                match id {
                    Some(id) => aws.disable_distribution(&id).await.map(|_| ()),
                    None => Ok(()),
                }
            }
            Undo::DeleteObject { bucket, key } => aws.delete_object(bucket, key).await,
        })
    }
}

/// What a rollback achieved, as reported to the caller in the problem document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct RollbackReport {
    pub complete: bool,
    pub leftovers: Vec<String>,
}

/// The undo steps of one request, and the marker that records the create in AWS (`marker.rs`). Cheap to share
/// between the concurrent branches of a create.
#[derive(Debug, Clone, Default)]
pub struct Journal(Arc<Mutex<Entries>>);

#[derive(Debug, Default)]
struct Entries {
    steps: Vec<Undo>,
    /// The ARN of the create's marker: removed only once everything else is undone, so that whatever a rollback
    /// could not undo is still found by the cleaner.
    marker: Option<String>,
    /// When the marker was made, as IAM reports it: whatever IAM made later under the create's lock is the
    /// create's own.
    marked_at: Option<DateTime>,
}

impl Journal {
    pub fn new() -> Self {
        Journal::default()
    }

    pub fn record(&self, undo: Undo) {
        self.0.lock().expect("journal lock").steps.push(undo);
    }

    pub fn set_marker(&self, arn: String, made: Option<DateTime>) {
        let mut entries = self.0.lock().expect("journal lock");
        entries.marker = Some(arn);
        entries.marked_at = made;
    }

    pub fn marker(&self) -> Option<String> {
        self.0.lock().expect("journal lock").marker.clone()
    }

    /// Whether an IAM entity that IAM says was made at `made` is this create's own. This is asked where a create
    /// answered "already exists": an SDK retry whose first attempt succeeded unseen answers that. Made strictly
    /// after the create's marker, the entity was made while this create held the name's lock, by this create.
    /// IAM reports whole seconds, so an entity of the marker's own second is not counted: it could be a
    /// previous lock holder's (then the create is refused, as before, and nothing of the entity is undone).
    pub fn made_under_lock(&self, made: Option<&DateTime>) -> bool {
        let marked_at = self.0.lock().expect("journal lock").marked_at;
        let instant = |d: &DateTime| (d.secs(), d.subsec_nanos());
        match (marked_at, made) {
            (Some(marked), Some(made)) => instant(made) > instant(&marked),
            _ => false,
        }
    }

    /// A create's answer, with "already exists" taken as the create's own success when `read` finds the entity
    /// made under the lock (see [`Journal::made_under_lock`]); a failed read leaves the answer as it was.
    pub async fn claim<T>(
        &self,
        made: Result<T, AwsError>,
        read: impl std::future::Future<Output = Result<T, AwsError>>,
        created: impl Fn(&T) -> Option<&DateTime>,
    ) -> Result<T, AwsError> {
        match made {
            Err(e) if e.is_already_exists() => match read.await {
                Ok(entity) if self.made_under_lock(created(&entity)) => Ok(entity),
                _ => Err(e),
            },
            other => other,
        }
    }

    /// Records `undo` when `result` says the resource was created.
    pub fn track<T>(
        &self,
        result: Result<T, AwsError>,
        undo: impl FnOnce(&T) -> Undo,
    ) -> Result<T, AwsError> {
        if let Ok(value) = &result {
            self.record(undo(value));
        }
        result
    }

    /// Records `undo` when the create succeeded, and also when its outcome is unknown (a timeout or a lost
    /// connection may hide a success). Only for creates made while the request holds its lock, so that the
    /// resource cannot be anyone else's.
    pub fn created<T>(&self, result: Result<T, AwsError>, undo: Undo) -> Result<T, AwsError> {
        match &result {
            Ok(_) => self.record(undo),
            Err(e) if e.is_ambiguous() => self.record(undo),
            Err(_) => {}
        }
        result
    }

    pub fn is_empty(&self) -> bool {
        let entries = self.0.lock().expect("journal lock");
        entries.steps.is_empty() && entries.marker.is_none()
    }

    /// Undoes everything recorded, in a task of its own (tracked by `tasks`, so a stopping service waits for
    /// it) so that it completes even when the request that started it is dropped (the client went away).
    /// `deadline` bounds the whole rollback (the configured `shutdownGracePeriod`, so a stopping service can wait
    /// for it); what it could not undo in time keeps the create's marker, for the cleaner. A request's rollback
    /// still running when the request must answer goes on after the answer, which reports everything not yet
    /// undone as left over.
    pub async fn unwind(
        self,
        aws: Arc<AwsAccount>,
        deadline: Duration,
        tasks: &tokio_util::task::TaskTracker,
    ) -> RollbackReport {
        let Entries { steps, marker, .. } =
            std::mem::take(&mut *self.0.lock().expect("journal lock"));
        let pending: Vec<String> = (steps.iter().map(|s| s.resource(&aws)))
            .chain(marker.clone())
            .collect();
        let answer = crate::deadline::current().and_then(|d| d.answer);
        // Its AWS calls wait for their turns and retry throttled answers until the rollback's own deadline.
        let own = crate::deadline::Deadline {
            calls: Instant::now() + deadline,
            answer: None,
        };
        let task = tasks.spawn(
            crate::deadline::within(own, async move {
                let mut leftovers =
                    tokio::time::timeout(deadline, unwind_steps(&aws, steps.clone()))
                        .await
                        .unwrap_or_else(|_| {
                            tracing::error!("rollback did not finish within {deadline:?}");
                            steps.iter().map(|s| s.resource(&aws)).collect()
                        });
                match (marker, leftovers.is_empty()) {
                    (Some(arn), true) => {
                        if let Err(e) =
                            undo_with_retries(&aws, &Undo::DeletePolicy { arn: arn.clone() })
                                .await
                        {
                            tracing::error!(error = %e, marker = %arn, "could not remove the create's marker");
                            leftovers.push(arn);
                        }
                    }
                    (Some(arn), false) => {
                        tracing::warn!(marker = %arn, "rollback incomplete: the marker stays, so the cleaner reclaims what is left");
                    }
                    (None, _) => {}
                }
                if leftovers.is_empty() {
                    tracing::info!("rollback complete");
                }
                leftovers
            })
            // The rollback logs with the request id of the request whose create it undoes.
            .instrument(tracing::Span::current()),
        );
        let finished = match answer {
            Some(at) => tokio::time::timeout_at(at.into(), task).await.ok(),
            None => Some(task.await),
        };
        let leftovers = match finished {
            Some(Ok(leftovers)) => leftovers,
            Some(Err(e)) => {
                tracing::error!(error = %e, "rollback task failed");
                vec!["unknown: the rollback task failed".to_owned()]
            }
            None => {
                tracing::warn!("the request must answer; its rollback goes on");
                pending
            }
        };
        RollbackReport {
            complete: leftovers.is_empty(),
            leftovers,
        }
    }
}

async fn unwind_steps(aws: &AwsAccount, steps: Vec<Undo>) -> Vec<String> {
    let steps = without_shared_groups(aws, steps).await;
    let mut leftovers = Vec::new();
    // Set when the name stopped pointing at nothing of ours could not be made sure of: then the bucket stays.
    let mut domain_unsafe = false;
    for tier in 0..=2 {
        // Newest first, as the reverse of creation, though within a tier the order does not matter.
        let this_tier: Vec<&Undo> = steps
            .iter()
            .rev()
            .filter(|s| s.tier() == tier)
            .filter(|s| {
                // Freeing the bucket name while DNS or CloudFront may still point at it would let anyone claim
                // the name and serve content on the domain: the bucket waits for the cleaner's reclaim.
                let keep = domain_unsafe && matches!(s, Undo::DeleteBucket { .. });
                if keep {
                    tracing::error!(undo = ?s, "DNS or distribution undo failed: the bucket is kept");
                    leftovers.push(s.resource(aws));
                }
                !keep
            })
            .collect();
        let results = join_all(this_tier.iter().map(|step| undo_with_retries(aws, step))).await;
        for (step, result) in this_tier.into_iter().zip(results) {
            if let Err(e) = result {
                tracing::error!(error = %e, undo = ?step, "rollback step failed");
                leftovers.push(step.resource(aws));
                domain_unsafe |= matches!(
                    step,
                    Undo::DeleteRecords { .. } | Undo::DisableDistribution { .. }
                );
            }
        }
    }
    leftovers
}

/// Drops the undo of a group this request made (and of its policy's attachment and the policy) when another
/// request's user has joined it meanwhile: read-write and read-only groups are shared by whoever needs them
/// first, and deleting one would take that user's access away. A group that cannot be read is undone as
/// recorded.
async fn without_shared_groups(aws: &AwsAccount, steps: Vec<Undo>) -> Vec<Undo> {
    let own_users: std::collections::BTreeSet<&str> = steps
        .iter()
        .filter_map(|s| match s {
            Undo::DeleteUser { user } | Undo::RemoveUserFromGroup { user, .. } => {
                Some(user.as_str())
            }
            _ => None,
        })
        .collect();
    let groups: Vec<&str> = steps
        .iter()
        .filter_map(|s| match s {
            Undo::DeleteGroup { group } => Some(group.as_str()),
            _ => None,
        })
        .collect();
    let members = join_all(groups.iter().map(|g| aws.get_group(g))).await;
    let mut shared = std::collections::BTreeSet::new();
    for (group, members) in groups.iter().zip(members) {
        if let Ok((_, users)) = members {
            if users.iter().any(|u| !own_users.contains(u.user_name())) {
                shared.insert(group.to_string());
            }
        }
    }
    if shared.is_empty() {
        return steps;
    }
    let shared_policies: std::collections::BTreeSet<String> = steps
        .iter()
        .filter_map(|s| match s {
            Undo::DetachGroupPolicy { group, policy_arn } if shared.contains(group) => {
                Some(policy_arn.clone())
            }
            _ => None,
        })
        .collect();
    tracing::info!(?shared, "groups joined by other requests' users are kept");
    steps
        .into_iter()
        .filter(|s| match s {
            Undo::DeleteGroup { group } | Undo::DetachGroupPolicy { group, .. } => {
                !shared.contains(group)
            }
            Undo::DeletePolicy { arn } => !shared_policies.contains(arn),
            _ => true,
        })
        .collect()
}

async fn undo_with_retries(aws: &AwsAccount, step: &Undo) -> Result<(), AwsError> {
    let mut delay = Duration::from_millis(200);
    let mut attempt = 1;
    loop {
        match step.run(aws).await {
            Ok(()) => {
                tracing::info!(undo = ?step, "rolled back");
                return Ok(());
            }
            Err(e) if attempt < ATTEMPTS => {
                tracing::warn!(error = %e, undo = ?step, attempt, "rollback step failed, retrying");
                tokio::time::sleep(delay).await;
                delay *= 2;
                attempt += 1;
            }
            Err(e) => return Err(e),
        }
    }
}
