//! The S3 calls the service makes, each mapping its SDK error in one place.

use aws_sdk_s3::error::BuildError;
use aws_sdk_s3::types::{
    BucketLifecycleConfiguration, BucketLocationConstraint, BucketLoggingStatus,
    CreateBucketConfiguration, ExpirationStatus, LifecycleRule, LifecycleRuleFilter,
    LoggingEnabled, ObjectOwnership, OwnershipControls, OwnershipControlsRule,
    PublicAccessBlockConfiguration, ServerSideEncryption, ServerSideEncryptionByDefault,
    ServerSideEncryptionConfiguration, ServerSideEncryptionRule, Tagging, Transition,
    TransitionStorageClass,
};

use super::error::err;
use super::{AwsAccount, AwsError, ErrorKind, Service};
use crate::domain::lifecycle::Lifecycle;
use crate::domain::names::BucketName;
use crate::domain::tags::Tag;

/// SDK builders fail only when a required field is missing: a bug here, never a runtime condition.
fn built<T>(r: Result<T, BuildError>) -> T {
    r.expect("all required fields are set")
}

/// What `HeadBucket` says about a bucket name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BucketState {
    /// Exists and the service can reach it.
    Reachable,
    /// Exists, but belongs to someone else or the service lacks access.
    Forbidden,
    Missing,
}

/// The public access block flags.
#[derive(Debug, Clone, Copy)]
pub struct PublicAccess {
    pub block_public_acls: bool,
    pub ignore_public_acls: bool,
    pub block_public_policy: bool,
    pub restrict_public_buckets: bool,
}

impl PublicAccess {
    /// Nothing public, ever.
    pub const BLOCK_ALL: PublicAccess = PublicAccess {
        block_public_acls: true,
        ignore_public_acls: true,
        block_public_policy: true,
        restrict_public_buckets: true,
    };
}

impl AwsAccount {
    /// A bucket in another region than the account's is an error of kind `OtherRegion` (S3 answers 301 with
    /// the bucket's region): it exists, but none of the account's routes can act on it through this client.
    pub async fn head_bucket(&self, bucket: &BucketName) -> Result<BucketState, AwsError> {
        match self
            .s3
            .head_bucket()
            .bucket(bucket.as_str())
            .send()
            .await
            .map_err(err(Service::S3, "HeadBucket"))
        {
            Ok(_) => Ok(BucketState::Reachable),
            Err(e) if e.kind == ErrorKind::NotFound => Ok(BucketState::Missing),
            Err(e) if e.kind == ErrorKind::AccessDenied => Ok(BucketState::Forbidden),
            // Through another regional endpoint S3 answers a bare 400 that names the bucket's region.
            Err(e)
                if e.status == Some(400)
                    && e.code.is_none()
                    && (e.bucket_region.as_deref()).is_some_and(|r| r != self.config.region) =>
            {
                Err(AwsError {
                    kind: ErrorKind::OtherRegion,
                    ..e
                })
            }
            Err(e) => Err(e),
        }
    }

    pub async fn create_bucket(&self, bucket: &BucketName) -> Result<(), AwsError> {
        let mut req = self.s3.create_bucket().bucket(bucket.as_str());
        // us-east-1 is the one region that refuses an explicit location constraint.
        if self.config.region != "us-east-1" {
            req = req.create_bucket_configuration(
                CreateBucketConfiguration::builder()
                    .location_constraint(BucketLocationConstraint::from(
                        self.config.region.as_str(),
                    ))
                    .build(),
            );
        }
        req.send().await.map_err(err(Service::S3, "CreateBucket"))?;
        Ok(())
    }

    pub async fn delete_bucket(&self, bucket: &BucketName) -> Result<(), AwsError> {
        self.s3
            .delete_bucket()
            .bucket(bucket.as_str())
            .send()
            .await
            .map_err(err(Service::S3, "DeleteBucket"))?;
        Ok(())
    }

    /// When the bucket was created (seconds since the epoch), or None when the account has no such bucket: one
    /// listing narrowed to the name by prefix (an implementation that ignores the prefix is filtered here).
    pub async fn bucket_created(&self, bucket: &BucketName) -> Result<Option<i64>, AwsError> {
        let mut pages = self
            .s3
            .list_buckets()
            .prefix(bucket.as_str())
            .max_buckets(1000)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(err(Service::S3, "ListBuckets"))?;
            if let Some(b) = page
                .buckets()
                .iter()
                .find(|b| b.name() == Some(bucket.as_str()))
            {
                return Ok(Some(b.creation_date().map_or(0, |d| d.secs())));
            }
        }
        Ok(None)
    }

    pub async fn list_buckets(&self) -> Result<Vec<String>, AwsError> {
        let mut names = Vec::new();
        let mut pages = self
            .s3
            .list_buckets()
            .max_buckets(1000)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(err(Service::S3, "ListBuckets"))?;
            names.extend(
                page.buckets()
                    .iter()
                    .filter_map(|b| b.name().map(str::to_owned)),
            );
        }
        names.sort();
        Ok(names)
    }

    pub async fn put_bucket_tagging(
        &self,
        bucket: &BucketName,
        tags: &[Tag],
    ) -> Result<(), AwsError> {
        let set = tags
            .iter()
            .map(|t| {
                built(
                    aws_sdk_s3::types::Tag::builder()
                        .key(&t.key)
                        .value(&t.value)
                        .build(),
                )
            })
            .collect();
        self.s3
            .put_bucket_tagging()
            .bucket(bucket.as_str())
            .tagging(built(Tagging::builder().set_tag_set(Some(set)).build()))
            .send()
            .await
            .map_err(err(Service::S3, "PutBucketTagging"))?;
        Ok(())
    }

    /// The bucket's tags; `[]` when it has none.
    pub async fn get_bucket_tagging(&self, bucket: &BucketName) -> Result<Vec<Tag>, AwsError> {
        match self
            .s3
            .get_bucket_tagging()
            .bucket(bucket.as_str())
            .send()
            .await
            .map_err(err(Service::S3, "GetBucketTagging"))
        {
            Ok(out) => Ok(out
                .tag_set()
                .iter()
                .map(|t| Tag::new(t.key(), t.value()))
                .collect()),
            Err(e) if e.has_code("NoSuchTagSet") => Ok(Vec::new()),
            Err(e) => Err(e),
        }
    }

    /// SSE-S3 (AES256) by default, with an S3 bucket key to cut KMS-style request costs.
    pub async fn put_bucket_encryption(&self, bucket: &BucketName) -> Result<(), AwsError> {
        let rule = ServerSideEncryptionRule::builder()
            .apply_server_side_encryption_by_default(built(
                ServerSideEncryptionByDefault::builder()
                    .sse_algorithm(ServerSideEncryption::Aes256)
                    .build(),
            ))
            .bucket_key_enabled(true)
            .build();
        self.s3
            .put_bucket_encryption()
            .bucket(bucket.as_str())
            .server_side_encryption_configuration(built(
                ServerSideEncryptionConfiguration::builder()
                    .rules(rule)
                    .build(),
            ))
            .send()
            .await
            .map_err(err(Service::S3, "PutBucketEncryption"))?;
        Ok(())
    }

    pub async fn put_public_access_block(
        &self,
        bucket: &BucketName,
        flags: PublicAccess,
    ) -> Result<(), AwsError> {
        self.s3
            .put_public_access_block()
            .bucket(bucket.as_str())
            .public_access_block_configuration(
                PublicAccessBlockConfiguration::builder()
                    .block_public_acls(flags.block_public_acls)
                    .ignore_public_acls(flags.ignore_public_acls)
                    .block_public_policy(flags.block_public_policy)
                    .restrict_public_buckets(flags.restrict_public_buckets)
                    .build(),
            )
            .send()
            .await
            .map_err(err(Service::S3, "PutPublicAccessBlock"))?;
        Ok(())
    }

    /// ACLs off: the bucket owner owns every object.
    pub async fn put_bucket_ownership_controls(&self, bucket: &BucketName) -> Result<(), AwsError> {
        let rule = built(
            OwnershipControlsRule::builder()
                .object_ownership(ObjectOwnership::BucketOwnerEnforced)
                .build(),
        );
        self.s3
            .put_bucket_ownership_controls()
            .bucket(bucket.as_str())
            .ownership_controls(built(OwnershipControls::builder().rules(rule).build()))
            .send()
            .await
            .map_err(err(Service::S3, "PutBucketOwnershipControls"))?;
        Ok(())
    }

    pub async fn put_bucket_logging(
        &self,
        bucket: &BucketName,
        target: &str,
        prefix: &str,
    ) -> Result<(), AwsError> {
        let logging = built(
            LoggingEnabled::builder()
                .target_bucket(target)
                .target_prefix(prefix)
                .build(),
        );
        self.s3
            .put_bucket_logging()
            .bucket(bucket.as_str())
            .bucket_logging_status(
                BucketLoggingStatus::builder()
                    .logging_enabled(logging)
                    .build(),
            )
            .send()
            .await
            .map_err(err(Service::S3, "PutBucketLogging"))?;
        Ok(())
    }

    /// The access-log target bucket and prefix, when logging is on.
    pub async fn get_bucket_logging(
        &self,
        bucket: &BucketName,
    ) -> Result<Option<(String, String)>, AwsError> {
        let out = self
            .s3
            .get_bucket_logging()
            .bucket(bucket.as_str())
            .send()
            .await
            .map_err(err(Service::S3, "GetBucketLogging"))?;
        Ok(out
            .logging_enabled()
            .map(|l| (l.target_bucket().to_owned(), l.target_prefix().to_owned())))
    }

    /// Which of the settings a bucket create makes are in place: the service's encryption (SSE-S3 *with* a bucket
    /// key — S3's default encryption has none), a public access block, ownership controls, and a lifecycle rule
    /// with `lifecycle`'s id. For the cleaner, to tell a finished create from an interrupted one.
    pub async fn bucket_settings(
        &self,
        bucket: &BucketName,
        lifecycle: Option<Lifecycle>,
    ) -> Result<[bool; 4], AwsError> {
        let absent = |e: AwsError, codes: &[&str]| match codes.iter().any(|c| e.has_code(c)) {
            true => Ok(false),
            false => Err(e),
        };
        let encryption = async {
            match self
                .s3
                .get_bucket_encryption()
                .bucket(bucket.as_str())
                .send()
                .await
            {
                Ok(out) => Ok(out.server_side_encryption_configuration().is_some_and(|c| {
                    c.rules()
                        .iter()
                        .any(|r| r.bucket_key_enabled() == Some(true))
                })),
                Err(e) => absent(
                    err(Service::S3, "GetBucketEncryption")(e),
                    &["ServerSideEncryptionConfigurationNotFoundError"],
                ),
            }
        };
        let public_access = async {
            match self
                .s3
                .get_public_access_block()
                .bucket(bucket.as_str())
                .send()
                .await
            {
                Ok(_) => Ok(true),
                Err(e) => absent(
                    err(Service::S3, "GetPublicAccessBlock")(e),
                    &["NoSuchPublicAccessBlockConfiguration"],
                ),
            }
        };
        let ownership = async {
            match self
                .s3
                .get_bucket_ownership_controls()
                .bucket(bucket.as_str())
                .send()
                .await
            {
                Ok(_) => Ok(true),
                Err(e) => absent(
                    err(Service::S3, "GetBucketOwnershipControls")(e),
                    &["OwnershipControlsNotFoundError"],
                ),
            }
        };
        let rule = async {
            let Some(lifecycle) = lifecycle else {
                return Ok(true);
            };
            let id = lifecycle.transition().0;
            match self
                .s3
                .get_bucket_lifecycle_configuration()
                .bucket(bucket.as_str())
                .send()
                .await
            {
                Ok(out) => Ok(out.rules().iter().any(|r| r.id() == Some(id))),
                Err(e) => absent(
                    err(Service::S3, "GetBucketLifecycleConfiguration")(e),
                    &["NoSuchLifecycleConfiguration"],
                ),
            }
        };
        let (a, b, c, d) = tokio::join!(encryption, public_access, ownership, rule);
        Ok([a?, b?, c?, d?])
    }

    pub async fn put_lifecycle(
        &self,
        bucket: &BucketName,
        lifecycle: Lifecycle,
    ) -> Result<(), AwsError> {
        let (id, class, days) = lifecycle.transition();
        let rule = built(
            LifecycleRule::builder()
                .id(id)
                .status(ExpirationStatus::Enabled)
                .filter(LifecycleRuleFilter::builder().prefix("").build())
                .transitions(
                    Transition::builder()
                        .days(days)
                        .storage_class(TransitionStorageClass::from(class))
                        .build(),
                )
                .build(),
        );
        self.s3
            .put_bucket_lifecycle_configuration()
            .bucket(bucket.as_str())
            .lifecycle_configuration(built(
                BucketLifecycleConfiguration::builder().rules(rule).build(),
            ))
            .send()
            .await
            .map_err(err(Service::S3, "PutBucketLifecycleConfiguration"))?;
        Ok(())
    }

    /// The bucket's policy document as S3 keeps it, None when it has none.
    pub async fn get_bucket_policy(&self, bucket: &BucketName) -> Result<Option<String>, AwsError> {
        match self
            .s3
            .get_bucket_policy()
            .bucket(bucket.as_str())
            .send()
            .await
            .map_err(err(Service::S3, "GetBucketPolicy"))
        {
            Ok(out) => Ok(out.policy),
            Err(e) if e.has_code("NoSuchBucketPolicy") => Ok(None),
            Err(e) => Err(e),
        }
    }

    pub async fn put_bucket_policy(
        &self,
        bucket: &BucketName,
        policy: &str,
    ) -> Result<(), AwsError> {
        self.s3
            .put_bucket_policy()
            .bucket(bucket.as_str())
            .policy(policy)
            .send()
            .await
            .map_err(err(Service::S3, "PutBucketPolicy"))?;
        Ok(())
    }
}

/// An object as a listing shows it.
#[derive(Debug, Clone)]
pub struct ListedObject {
    pub key: String,
    pub etag: String,
    pub delete_marker: bool,
    /// In a listing of versions: the version's id (`null` for one written while versioning was off).
    pub version_id: Option<String>,
}

impl AwsAccount {
    pub async fn put_bucket_website(
        &self,
        bucket: &BucketName,
        index: &str,
        error: Option<&str>,
    ) -> Result<(), AwsError> {
        use aws_sdk_s3::types::{ErrorDocument, IndexDocument, WebsiteConfiguration};
        let mut website = WebsiteConfiguration::builder()
            .index_document(built(IndexDocument::builder().suffix(index).build()));
        if let Some(key) = error {
            website = website.error_document(built(ErrorDocument::builder().key(key).build()));
        }
        self.s3
            .put_bucket_website()
            .bucket(bucket.as_str())
            .website_configuration(website.build())
            .send()
            .await
            .map_err(err(Service::S3, "PutBucketWebsite"))?;
        Ok(())
    }

    /// Whether the bucket has an S3 website configuration (hosting on), as every website bucket has.
    pub async fn has_website_configuration(&self, bucket: &BucketName) -> Result<bool, AwsError> {
        match self
            .s3
            .get_bucket_website()
            .bucket(bucket.as_str())
            .send()
            .await
            .map_err(err(Service::S3, "GetBucketWebsite"))
        {
            Ok(_) => Ok(true),
            Err(e) if e.has_code("NoSuchWebsiteConfiguration") => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Writes a small HTML object, tagged so people can tell it was the service's.
    pub async fn put_html(
        &self,
        bucket: &BucketName,
        key: &str,
        body: &str,
        tagging: &str,
    ) -> Result<(), AwsError> {
        self.s3
            .put_object()
            .bucket(bucket.as_str())
            .key(key)
            .content_type("text/html; charset=utf-8")
            .tagging(tagging)
            .body(body.as_bytes().to_vec().into())
            .send()
            .await
            .map_err(err(Service::S3, "PutObject"))?;
        Ok(())
    }

    pub async fn object_exists(&self, bucket: &BucketName, key: &str) -> Result<bool, AwsError> {
        Ok(self.object_etag(bucket, key).await?.is_some())
    }

    /// The object's ETag, or None when there is no such object.
    pub async fn object_etag(
        &self,
        bucket: &BucketName,
        key: &str,
    ) -> Result<Option<String>, AwsError> {
        match self
            .s3
            .head_object()
            .bucket(bucket.as_str())
            .key(key)
            .send()
            .await
            .map_err(err(Service::S3, "HeadObject"))
        {
            Ok(out) => Ok(Some(out.e_tag.unwrap_or_default())),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }

    pub async fn delete_object(&self, bucket: &BucketName, key: &str) -> Result<(), AwsError> {
        self.s3
            .delete_object()
            .bucket(bucket.as_str())
            .key(key)
            .send()
            .await
            .map_err(err(Service::S3, "DeleteObject"))?;
        Ok(())
    }

    /// Deletes one version of an object, or one delete marker, for good. Without a version id this is a plain
    /// delete, which in a versioned bucket only adds a delete marker.
    pub async fn delete_object_version(
        &self,
        bucket: &BucketName,
        key: &str,
        version_id: Option<&str>,
    ) -> Result<(), AwsError> {
        self.s3
            .delete_object()
            .bucket(bucket.as_str())
            .key(key)
            .set_version_id(version_id.map(str::to_owned))
            .send()
            .await
            .map_err(err(Service::S3, "DeleteObject"))?;
        Ok(())
    }

    /// Up to `limit` object versions and delete markers of the bucket (together, as S3 counts `MaxKeys`).
    pub async fn list_some_versions(
        &self,
        bucket: &BucketName,
        limit: i32,
    ) -> Result<Vec<ListedObject>, AwsError> {
        let out = self
            .s3
            .list_object_versions()
            .bucket(bucket.as_str())
            .max_keys(limit)
            .send()
            .await
            .map_err(err(Service::S3, "ListObjectVersions"))?;
        let objects = out.versions().iter().map(|v| ListedObject {
            key: v.key().unwrap_or_default().to_owned(),
            etag: v.e_tag().unwrap_or_default().to_owned(),
            delete_marker: false,
            version_id: v.version_id().map(str::to_owned),
        });
        let markers = out.delete_markers().iter().map(|m| ListedObject {
            key: m.key().unwrap_or_default().to_owned(),
            etag: String::new(),
            delete_marker: true,
            version_id: m.version_id().map(str::to_owned),
        });
        Ok(objects.chain(markers).collect())
    }
}
