//! IAM policy documents, built as data so that no name can change a document's structure.

use serde_json::{json, Value};

use super::names::{BucketName, GroupKind};

/// The bucket actions of the admin policy: exactly the earlier service's document (43 actions).
pub const DEFAULT_S3_BUCKET_ACTIONS: &[&str] = &[
    "s3:AbortMultipartUpload",
    "s3:DeleteBucketWebsite",
    "s3:DeleteObject",
    "s3:DeleteObjectVersion",
    "s3:GetAccelerateConfiguration",
    "s3:GetBucketAcl",
    "s3:GetBucketCORS",
    "s3:GetBucketLocation",
    "s3:GetBucketLogging",
    "s3:GetBucketNotification",
    "s3:GetBucketPolicy",
    "s3:GetBucketTagging",
    "s3:GetBucketVersioning",
    "s3:GetBucketWebsite",
    "s3:GetLifecycleConfiguration",
    "s3:GetObject",
    "s3:GetObjectAcl",
    "s3:GetObjectVersion",
    "s3:GetObjectVersionAcl",
    "s3:GetReplicationConfiguration",
    "s3:ListAllMyBuckets",
    "s3:ListBucket",
    "s3:ListBucketMultipartUploads",
    "s3:ListBucketVersions",
    "s3:ListMultipartUploadParts",
    "s3:PutAccelerateConfiguration",
    "s3:PutBucketAcl",
    "s3:PutBucketCORS",
    "s3:PutBucketLogging",
    "s3:PutBucketNotification",
    "s3:PutBucketPolicy",
    "s3:PutBucketRequestPayment",
    "s3:PutBucketTagging",
    "s3:PutBucketVersioning",
    "s3:PutBucketWebsite",
    "s3:PutLifecycleConfiguration",
    "s3:PutReplicationConfiguration",
    "s3:PutObject",
    "s3:PutObjectAcl",
    "s3:PutObjectVersionAcl",
    "s3:ReplicateDelete",
    "s3:ReplicateObject",
    "s3:RestoreObject",
];

/// The object actions of the admin policy.
pub const DEFAULT_S3_OBJECT_ACTIONS: &[&str] = &["s3:*"];

/// What a website's CloudFront admin group may do with its distribution.
pub const DEFAULT_CLOUDFRONT_DISTRIBUTION_ACTIONS: &[&str] = &[
    "cloudfront:CreateInvalidation",
    "cloudfront:GetInvalidation",
    "cloudfront:ListInvalidations",
];

/// Bucket-level actions of the read-only and read-write policies: find the bucket and list its keys.
const READ_BUCKET_ACTIONS: &[&str] = &[
    "s3:GetBucketLocation",
    "s3:ListBucket",
    "s3:ListBucketVersions",
];
/// Extra bucket-level action of the read-write policy: list unfinished uploads so they can be aborted.
const WRITE_BUCKET_ACTIONS: &[&str] = &["s3:ListBucketMultipartUploads"];
/// Object actions of the read-only policy.
const READ_OBJECT_ACTIONS: &[&str] =
    &["s3:GetObject", "s3:GetObjectVersion", "s3:GetObjectTagging"];
/// Extra object actions of the read-write policy.
const WRITE_OBJECT_ACTIONS: &[&str] = &[
    "s3:PutObject",
    "s3:PutObjectTagging",
    "s3:PutObjectAcl",
    "s3:DeleteObject",
    "s3:DeleteObjectVersion",
    "s3:AbortMultipartUpload",
    "s3:ListMultipartUploadParts",
];

/// The actions an account grants to bucket admins (from its configuration).
#[derive(Debug, Clone)]
pub struct AdminActions {
    pub bucket: Vec<String>,
    pub object: Vec<String>,
}

fn document(bucket_actions: &[&str], object_actions: &[&str], bucket: &BucketName) -> Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": bucket_actions, "Resource": [bucket.arn()]},
            {"Effect": "Allow", "Action": object_actions, "Resource": [format!("{}/*", bucket.arn())]},
        ]
    })
}

/// The policy document of a bucket's group of `kind`.
pub fn bucket_policy(kind: GroupKind, bucket: &BucketName, admin: &AdminActions) -> Value {
    match kind {
        GroupKind::Admin => {
            let b: Vec<&str> = admin.bucket.iter().map(String::as_str).collect();
            let o: Vec<&str> = admin.object.iter().map(String::as_str).collect();
            document(&b, &o, bucket)
        }
        GroupKind::ReadWrite => document(
            &[READ_BUCKET_ACTIONS, WRITE_BUCKET_ACTIONS].concat(),
            &[READ_OBJECT_ACTIONS, WRITE_OBJECT_ACTIONS].concat(),
            bucket,
        ),
        GroupKind::ReadOnly => document(READ_BUCKET_ACTIONS, READ_OBJECT_ACTIONS, bucket),
    }
}

/// The description IAM shows for a bucket's policy of `kind`.
pub fn bucket_policy_description(kind: GroupKind, bucket: &BucketName) -> String {
    match kind {
        GroupKind::Admin => format!("Admin policy for {bucket} bucket"),
        GroupKind::ReadWrite => format!("Read-write policy for {bucket} bucket"),
        GroupKind::ReadOnly => format!("Read-only policy for {bucket} bucket"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    fn admin() -> AdminActions {
        AdminActions {
            bucket: DEFAULT_S3_BUCKET_ACTIONS
                .iter()
                .map(|s| s.to_string())
                .collect(),
            object: DEFAULT_S3_OBJECT_ACTIONS
                .iter()
                .map(|s| s.to_string())
                .collect(),
        }
    }

    #[test]
    fn the_admin_policy_is_the_seed_document() {
        let b = BucketName::parse("my-awesome-bucket").unwrap();
        let doc = bucket_policy(GroupKind::Admin, &b, &admin());
        assert_eq!(doc["Statement"][0]["Action"].as_array().unwrap().len(), 43);
        assert_eq!(
            doc["Statement"][0]["Resource"],
            json!(["arn:aws:s3:::my-awesome-bucket"])
        );
        assert_eq!(doc["Statement"][1]["Action"], json!(["s3:*"]));
        assert_eq!(
            doc["Statement"][1]["Resource"],
            json!(["arn:aws:s3:::my-awesome-bucket/*"])
        );
    }

    #[test]
    fn action_lists_have_no_duplicates() {
        let unique: HashSet<_> = DEFAULT_S3_BUCKET_ACTIONS.iter().collect();
        assert_eq!(unique.len(), DEFAULT_S3_BUCKET_ACTIONS.len());
        let rw_objects = [READ_OBJECT_ACTIONS, WRITE_OBJECT_ACTIONS].concat();
        assert_eq!(
            rw_objects.iter().collect::<HashSet<_>>().len(),
            rw_objects.len()
        );
    }

    #[test]
    fn read_only_cannot_write_and_read_write_can() {
        let b = BucketName::parse("bkt").unwrap();
        let ro = bucket_policy(GroupKind::ReadOnly, &b, &admin()).to_string();
        let rw = bucket_policy(GroupKind::ReadWrite, &b, &admin()).to_string();
        assert!(!ro.contains("s3:PutObject") && !ro.contains("s3:DeleteObject"));
        assert!(rw.contains("s3:PutObject") && rw.contains("s3:GetObject"));
    }
}
