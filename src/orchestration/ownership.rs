//! Ownership (API §1.2a): the service changes only buckets it made — those carrying the org tag — and keeps
//! buckets and websites apart, so that a bucket route cannot take a live website's bucket (and its domain) away.
//!
//! What a route needs to know is read in one round of two calls, made alongside the first calls the route
//! makes anyway: the bucket's tags (the org tag, the website's bookkeeping tag) and whether S3 website hosting
//! is on (how a website made by the earlier service, which kept no bookkeeping tag, is recognised).

use super::{Ctx, OpError, Resource};
use crate::aws::AwsError;
use crate::domain::names::BucketName;
use crate::domain::tags::Tag;
use crate::domain::website::DISTRIBUTION_TAG;

/// Which family of routes a request came through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Bucket,
    Website,
}

/// What the service knows of an existing bucket.
#[derive(Debug, Clone)]
pub struct Facts {
    pub tags: Vec<Tag>,
    /// It carries the org tag: this service (or the earlier one) made it.
    pub managed: bool,
    /// The service recorded it as a website, or S3 website hosting is on.
    pub website: bool,
}

impl Facts {
    /// The distribution id the service recorded on the bucket.
    pub fn distribution_id(&self) -> Option<String> {
        self.tags
            .iter()
            .find(|t| t.key == DISTRIBUTION_TAG)
            .map(|t| t.value.clone())
    }

    /// Whether a route of `kind` may read this bucket: a website route sees only websites (404 otherwise).
    pub fn may_read(&self, kind: Kind, bucket: &BucketName) -> Result<(), OpError> {
        match (kind, self.website) {
            (Kind::Website, false) => Err(OpError::not_found(Resource::Website, bucket.as_str())),
            _ => Ok(()),
        }
    }

    /// Whether a route of `kind` may change this bucket or anything of it (its tags, policy, users, keys): it
    /// must be of the route's kind, and managed.
    pub fn may_change(&self, kind: Kind, bucket: &BucketName) -> Result<(), OpError> {
        self.may_read(kind, bucket)?;
        if kind == Kind::Bucket && self.website {
            return Err(OpError::IsWebsite(bucket.to_string()));
        }
        if !self.managed {
            return Err(OpError::NotManaged(bucket.to_string()));
        }
        Ok(())
    }
}

impl Ctx {
    /// The bucket's tags ∥ its website configuration, in one round. None when the bucket does not exist.
    pub(crate) async fn facts(&self, bucket: &BucketName) -> Result<Option<Facts>, AwsError> {
        let (tags, hosting) = tokio::join!(
            self.aws.get_bucket_tagging(bucket),
            self.aws.has_website_configuration(bucket)
        );
        let (tags, hosting) = match (tags, hosting) {
            (Err(e), _) | (_, Err(e)) if e.is_not_found() => return Ok(None),
            (tags, hosting) => (tags?, hosting?),
        };
        let managed = tags
            .iter()
            .any(|t| t.key == self.org_tag.key && t.value == self.org_tag.value);
        let website = hosting || tags.iter().any(|t| t.key == DISTRIBUTION_TAG);
        Ok(Some(Facts {
            tags,
            managed,
            website,
        }))
    }

    /// The facts of a bucket that must exist: 404 (as a bucket or a website, by `kind`) when it does not.
    pub(crate) async fn existing(&self, bucket: &BucketName, kind: Kind) -> Result<Facts, OpError> {
        self.facts(bucket)
            .await?
            .ok_or_else(|| missing(bucket, kind))
    }
}

/// "Not found", as the route's kind names it.
pub(crate) fn missing(bucket: &BucketName, kind: Kind) -> OpError {
    let what = match kind {
        Kind::Bucket => Resource::Bucket,
        Kind::Website => Resource::Website,
    };
    OpError::not_found(what, bucket.as_str())
}
