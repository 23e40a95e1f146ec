//! Crash safety (ORCHESTRATION §4.8a). Rollback runs in the process; a process that is killed cannot roll back.
//! So before a create makes anything, it records in AWS what it is about to make: a *marker*, an IAM policy
//! under the path `/s3-api/creating/` whose description is the create's intent and whose name is derived from
//! the name being created. The marker is also the create's lock — IAM names are unique in an account, so of
//! several concurrent creates of one name exactly one makes it — and it is made in the create's first round,
//! so it costs bucket and website creates no round trip. It is removed once the create has finished (after the
//! answer, off the critical path) or has been rolled back completely; a rollback that leaves something behind
//! keeps it. The cleaner lists the markers (one listing by path, not a scan of the account) and reclaims those
//! older than `cleaner.reclaimAfter` (`reclaim.rs`).
//!
//! A marker is never attached to anything; its document denies everything, so that attaching it by mistake
//! could only take access away.

use aws_sdk_iam::types::Policy;
use serde::{Deserialize, Serialize};

use super::rollback::Journal;
use super::{Ctx, OpError, Resource};
use crate::domain::lifecycle::Lifecycle;
use crate::domain::names::IamName;

/// The IAM path of every marker.
pub const MARKER_PATH: &str = "/s3-api/creating/";

/// What a create is about to make: the marker's description, read back by the cleaner.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "operation", rename_all = "snake_case")]
pub enum Intent {
    CreateBucket {
        bucket: String,
        /// The lifecycle preset the bucket gets.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        lifecycle: Option<Lifecycle>,
    },
    CreateWebsite {
        website: String,
        /// The key of the placeholder page.
        index: String,
    },
    CreateUser {
        bucket: String,
        user: String,
        /// The groups the user joins, by wire name (`BktAdmGrp`, …).
        groups: Vec<String>,
        /// The prefix a website user is scoped to.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        scope: Option<String>,
        /// Whether the bucket is a website's (its groups get website policies).
        website: bool,
    },
}

impl Intent {
    /// The marker's name: one per bucket or website name (a bucket and a website of one name exclude each
    /// other), and one per user name. `_` is in no bucket name, so the two kinds never share a name.
    pub fn marker_name(&self) -> IamName {
        let name = match self {
            Intent::CreateBucket { bucket, .. } => format!("s3-api-creating-{bucket}"),
            Intent::CreateWebsite { website, .. } => format!("s3-api-creating-{website}"),
            Intent::CreateUser { user, .. } => format!("s3-api-creating_{user}"),
        };
        IamName::compose(&[&name]).expect("bucket and user names fit IAM policy names")
    }

    /// What losing the lock means to the caller.
    fn taken(&self) -> OpError {
        match self {
            Intent::CreateBucket { bucket, .. } => OpError::exists(Resource::Bucket, bucket),
            Intent::CreateWebsite { website, .. } => OpError::exists(Resource::Bucket, website),
            Intent::CreateUser { user, .. } => OpError::exists(Resource::User, user),
        }
    }
}

/// A marker's description: the intent, and the token of the create that made it.
fn description(intent: &Intent, token: &str) -> String {
    let mut value = serde_json::to_value(intent).expect("intents serialize");
    value[CREATOR] = serde_json::Value::from(token);
    value.to_string()
}

/// The token of the create that made the marker of this description.
fn creator(description: &str) -> Option<String> {
    let value: serde_json::Value = serde_json::from_str(description).ok()?;
    value.get(CREATOR)?.as_str().map(str::to_owned)
}

/// The description's key of the creating create's token (the intent's own fields never use it).
const CREATOR: &str = "create";

/// The document of every marker: it grants nothing.
fn marker_document() -> serde_json::Value {
    serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{"Sid": "S3ApiCreateInProgress", "Effect": "Deny", "Action": "*", "Resource": "*"}]
    })
}

impl Ctx {
    /// Makes the create's marker (and so takes its lock) and records it in the journal. Another create of the
    /// same name running — or one that a killed process left, until the cleaner reclaims it — is a conflict.
    pub(crate) async fn begin(&self, intent: &Intent, journal: &Journal) -> Result<(), OpError> {
        // A token of this create alone, so that it can tell its own marker from another create's.
        let token = uuid::Uuid::new_v4().to_string();
        let made = self
            .aws
            .create_policy(
                &intent.marker_name(),
                MARKER_PATH,
                &marker_document(),
                &description(intent, &token),
                std::slice::from_ref(&self.org_tag),
            )
            .await;
        let made = match made {
            // An SDK retry answering its own first attempt, or another create's lock.
            Err(e) if e.is_already_exists() => match self.own_marker(intent, &token).await? {
                Some(p) => Ok(p),
                None => return Err(intent.taken()),
            },
            other => other,
        };
        match made {
            Ok(p) => {
                journal.set_marker(p.arn().unwrap_or_default().to_owned(), p.create_date);
                Ok(())
            }
            Err(e) if e.is_ambiguous() => {
                // The marker may exist: record it, so that a rollback removes it and the create is never left
                // behind unmarked.
                let arn = self
                    .aws
                    .policy_arn(MARKER_PATH, intent.marker_name().as_str())
                    .await?;
                journal.set_marker(arn, None);
                Err(e.into())
            }
            Err(e) => Err(e.into()),
        }
    }

    /// The marker of `intent`'s name when it is the one this create (`token`) made.
    async fn own_marker(&self, intent: &Intent, token: &str) -> Result<Option<Policy>, OpError> {
        let arn = (self.aws)
            .policy_arn(MARKER_PATH, intent.marker_name().as_str())
            .await?;
        let policy = match self.aws.get_policy(&arn).await {
            Ok(p) => p,
            // Gone meanwhile: another create's, finished.
            Err(e) if e.is_not_found() => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        Ok(
            (creator(policy.description().unwrap_or_default()).as_deref() == Some(token))
                .then_some(policy),
        )
    }

    /// Removes a finished create's marker, after the answer: it is off the critical path, and a process killed
    /// before it leaves a finished create that the cleaner recognises as such.
    pub(crate) fn finish(&self, journal: &Journal) {
        let Some(arn) = journal.marker() else {
            return;
        };
        let aws = self.aws.clone();
        let removal = async move {
            if let Err(e) = crate::aws::iam::gone(aws.delete_policy(&arn).await) {
                tracing::warn!(error = %e, marker = %arn, "could not remove a finished create's marker; the cleaner will");
            }
        };
        // Logged with the request id of the create.
        self.tasks.spawn(tracing::Instrument::instrument(
            removal,
            tracing::Span::current(),
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intents_round_trip_through_the_description() {
        let intent = Intent::CreateUser {
            bucket: "site.example.org".into(),
            user: "docs-editor".into(),
            groups: vec!["BktRWGrp".into()],
            scope: Some("/team/docs,x/".into()),
            website: true,
        };
        let text = serde_json::to_string(&intent).unwrap();
        assert!(text.len() < 1000, "IAM descriptions hold 1000 characters");
        assert_eq!(serde_json::from_str::<Intent>(&text).unwrap(), intent);
    }

    #[test]
    fn a_description_names_its_create_and_still_reads_as_the_intent() {
        let intent = Intent::CreateWebsite {
            website: "site.example.org".into(),
            index: "index.html".into(),
        };
        let text = description(&intent, "5f0c3e9a-token");
        assert!(text.len() < 1000, "IAM descriptions hold 1000 characters");
        assert_eq!(creator(&text).as_deref(), Some("5f0c3e9a-token"));
        // The cleaner reads the intent of the same text.
        assert_eq!(serde_json::from_str::<Intent>(&text).unwrap(), intent);
        // A marker of an older version carries no token: no create claims it.
        let old = serde_json::to_string(&intent).unwrap();
        assert_eq!(creator(&old), None);
    }

    #[test]
    fn marker_names_of_buckets_and_users_never_meet() {
        let bucket = Intent::CreateBucket {
            bucket: "user-x".into(),
            lifecycle: None,
        };
        let user = Intent::CreateUser {
            bucket: "b".into(),
            user: "x".into(),
            groups: vec![],
            scope: None,
            website: false,
        };
        assert_ne!(bucket.marker_name(), user.marker_name());
        let website = Intent::CreateWebsite {
            website: "user-x".into(),
            index: "index.html".into(),
        };
        assert_eq!(bucket.marker_name(), website.marker_name());
    }
}
