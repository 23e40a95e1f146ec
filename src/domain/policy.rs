//! IAM policy documents, built as data so that no name can change a document's structure.

use serde_json::{json, Value};

use super::names::{BucketGroup, BucketName, GroupKind, ScopePath};

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

/// The actions an account grants to bucket and website admins (from its configuration).
#[derive(Debug, Clone)]
pub struct AdminActions {
    pub bucket: Vec<String>,
    pub object: Vec<String>,
    pub cloudfront: Vec<String>,
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

fn strs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

/// The object actions of a group kind.
fn object_actions(kind: GroupKind, admin: &AdminActions) -> Vec<&str> {
    match kind {
        GroupKind::Admin => strs(&admin.object),
        GroupKind::ReadWrite => [READ_OBJECT_ACTIONS, WRITE_OBJECT_ACTIONS].concat(),
        GroupKind::ReadOnly | GroupKind::WebAdmin => READ_OBJECT_ACTIONS.to_vec(),
    }
}

/// The policy document of a bucket's group. `distribution_arn` is the website's CloudFront distribution, which
/// the `WebAdmGrp` policy is about; None for that kind means there is nothing to grant it on.
pub fn group_policy(
    group: &BucketGroup,
    bucket: &BucketName,
    admin: &AdminActions,
    distribution_arn: Option<&str>,
) -> Option<Value> {
    if let Some(scope) = &group.scope {
        return Some(scoped_policy(group.kind, bucket, scope, admin));
    }
    Some(match group.kind {
        GroupKind::Admin => document(
            &strs(&admin.bucket),
            &object_actions(group.kind, admin),
            bucket,
        ),
        GroupKind::ReadWrite => document(
            &[READ_BUCKET_ACTIONS, WRITE_BUCKET_ACTIONS].concat(),
            &object_actions(group.kind, admin),
            bucket,
        ),
        GroupKind::ReadOnly => document(
            READ_BUCKET_ACTIONS,
            &object_actions(group.kind, admin),
            bucket,
        ),
        GroupKind::WebAdmin => json!({
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": admin.cloudfront, "Resource": [distribution_arn?]}]
        }),
    })
}

/// The listing actions of a path-scoped policy: the only bucket actions that carry the `s3:prefix` condition key.
///
/// A request for an action that does not carry a condition key has no value for it, so a `StringLike` on that key
/// never matches and the grant does nothing; no other action may be granted under the prefix condition.
/// `s3:ListBucketMultipartUploads` has no `s3:prefix` key: granted without the condition it would show the key
/// names of every unfinished upload in the bucket, outside the user's prefix too, so scoped users do not get it.
/// They can still list the parts of and abort their own uploads, whose object ARNs are under their prefix.
const SCOPED_LISTING_ACTIONS: &[&str] = &["s3:ListBucket", "s3:ListBucketVersions"];

/// A policy scoped to one prefix of the bucket: objects under `arn:aws:s3:::<bucket>/<prefix>*` only, and
/// listing only with the prefix condition. Finding the bucket's region has no key to scope and stays
/// unconditional.
fn scoped_policy(
    kind: GroupKind,
    bucket: &BucketName,
    scope: &ScopePath,
    admin: &AdminActions,
) -> Value {
    let prefix = scope.key_prefix();
    json!({
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": ["s3:GetBucketLocation"], "Resource": [bucket.arn()]},
            {"Effect": "Allow", "Action": SCOPED_LISTING_ACTIONS, "Resource": [bucket.arn()],
             "Condition": {"StringLike": {"s3:prefix": [prefix, format!("{prefix}*")]}}},
            {"Effect": "Allow", "Action": object_actions(kind, admin),
             "Resource": [format!("{}/{prefix}*", bucket.arn())]},
        ]
    })
}

/// The description IAM shows for a bucket's policy.
pub fn group_policy_description(group: &BucketGroup, bucket: &BucketName) -> String {
    let what = match group.kind {
        GroupKind::Admin => "Admin",
        GroupKind::ReadWrite => "Read-write",
        GroupKind::ReadOnly => "Read-only",
        GroupKind::WebAdmin => return format!("Admin policy for {bucket} web distribution"),
    };
    match &group.scope {
        Some(scope) => format!("{what} policy for {scope} in {bucket} bucket"),
        None => format!("{what} policy for {bucket} bucket"),
    }
}

/// The bucket policy that lets anyone read a website's objects (what CloudFront's custom origin needs).
pub fn public_read_bucket_policy(bucket: &BucketName) -> Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [{"Sid": "PublicReadGetObject", "Effect": "Allow", "Principal": "*",
                       "Action": ["s3:GetObject"], "Resource": [format!("{}/*", bucket.arn())]}]
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    fn admin() -> AdminActions {
        let owned = |l: &[&str]| l.iter().map(|s| s.to_string()).collect();
        AdminActions {
            bucket: owned(DEFAULT_S3_BUCKET_ACTIONS),
            object: owned(DEFAULT_S3_OBJECT_ACTIONS),
            cloudfront: owned(DEFAULT_CLOUDFRONT_DISTRIBUTION_ACTIONS),
        }
    }

    fn bucket_policy(kind: GroupKind, b: &BucketName, admin: &AdminActions) -> Value {
        group_policy(&BucketGroup::new(b, kind).unwrap(), b, admin, None).unwrap()
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
    fn scoped_policies_grant_only_the_prefix() {
        let b = BucketName::parse("site.example.org").unwrap();
        let scope = ScopePath::parse("/team/").unwrap();
        let g = BucketGroup::scoped(&b, GroupKind::ReadWrite, &scope).unwrap();
        let doc = group_policy(&g, &b, &admin(), None).unwrap();
        let st = doc["Statement"].as_array().unwrap();
        assert_eq!(st[0]["Action"], json!(["s3:GetBucketLocation"]));
        assert!(st[0].get("Condition").is_none());
        assert_eq!(
            st[1]["Condition"]["StringLike"]["s3:prefix"],
            json!(["team/", "team/*"])
        );
        assert_eq!(
            st[2]["Resource"],
            json!(["arn:aws:s3:::site.example.org/team/*"])
        );
        assert!(!doc.to_string().contains("arn:aws:s3:::site.example.org/*"));
    }

    #[test]
    fn the_prefix_condition_is_only_on_actions_that_carry_it() {
        let b = BucketName::parse("site.example.org").unwrap();
        let scope = ScopePath::parse("/team/").unwrap();
        for kind in GroupKind::ALL {
            let g = BucketGroup::scoped(&b, kind, &scope).unwrap();
            let doc = group_policy(&g, &b, &admin(), None).unwrap();
            for st in doc["Statement"].as_array().unwrap() {
                if st.get("Condition").is_some() {
                    assert_eq!(
                        st["Action"],
                        json!(["s3:ListBucket", "s3:ListBucketVersions"]),
                        "{kind:?}"
                    );
                }
            }
            assert!(
                !doc.to_string().contains("s3:ListBucketMultipartUploads"),
                "{kind:?}: would list uploads outside the prefix"
            );
        }
    }

    #[test]
    fn the_web_admin_policy_is_about_the_distribution_only() {
        let b = BucketName::parse("site.example.org").unwrap();
        let g = BucketGroup::new(&b, GroupKind::WebAdmin).unwrap();
        assert!(group_policy(&g, &b, &admin(), None).is_none());
        let arn = "arn:aws:cloudfront::123456789012:distribution/E1";
        let doc = group_policy(&g, &b, &admin(), Some(arn)).unwrap();
        assert_eq!(doc["Statement"][0]["Resource"], json!([arn]));
        assert_eq!(doc["Statement"][0]["Action"].as_array().unwrap().len(), 3);
        assert_eq!(
            group_policy_description(&g, &b),
            "Admin policy for site.example.org web distribution"
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
