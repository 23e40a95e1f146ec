//! Every AWS call of each create, with the request that makes them: one list per create, so that a call added
//! to a create is failed in turn by the rollback tests (`rollback.rs`, `websites.rs`) and becomes a kill point
//! of the crash tests (`crash.rs`). The "covers every call" tests keep each list equal to what the create calls.

use serde_json::{json, Value};

/// Every AWS call bucket create makes (with an access-log bucket and a lifecycle), for [`bucket_create_body`].
pub const BUCKET_CREATE_CALLS: &[&str] = &[
    "s3:HeadBucket",
    "iam:CreatePolicy[s3-api-creating]",
    "iam:CreatePolicy[BktAdmPlc]",
    "s3:CreateBucket",
    "iam:CreateGroup",
    "iam:AttachGroupPolicy",
    "s3:PutBucketTagging",
    "s3:PutBucketEncryption",
    "s3:PutPublicAccessBlock",
    "s3:PutBucketOwnershipControls",
    "s3:PutBucketLogging",
    "s3:PutBucketLifecycleConfiguration",
];

pub fn bucket_create_body(bucket: &str) -> Value {
    json!({"BucketInput": {"Bucket": bucket}, "Lifecycle": "deep-archive"})
}

/// Every AWS call user create makes when it also creates the read-write group, for [`user_create_body`] on a
/// bucket and for [`website_user_create_body`] (a user at a website's root) on a website.
pub const USER_CREATE_CALLS: &[&str] = &[
    "iam:CreatePolicy[s3-api-creating]",
    "s3:HeadBucket",
    "s3:GetBucketTagging",
    "s3:GetBucketWebsite",
    "iam:GetGroup",
    "iam:CreateUser",
    "iam:CreatePolicy[BktRWPlc]",
    "iam:CreateGroup",
    "iam:AttachGroupPolicy",
    "iam:AddUserToGroup",
    "iam:CreateAccessKey",
];

pub fn user_create_body(user: &str) -> Value {
    json!({"User": {"UserName": user}, "Groups": ["BktAdmGrp", "BktRWGrp"]})
}

/// A user at a website's root: joins the existing CloudFront admin group and the read-write group, made for it.
pub fn website_user_create_body(user: &str) -> Value {
    json!({"User": {"UserName": user}, "Groups": ["WebAdmGrp", "BktRWGrp"]})
}

/// Every AWS call website create makes, for the seed body (`websites::seed_body`).
pub const WEBSITE_CREATE_CALLS: &[&str] = &[
    "acm:ListCertificates",
    "s3:HeadBucket",
    "iam:CreatePolicy[s3-api-creating]",
    "iam:CreatePolicy[BktAdmPlc]",
    "iam:CreatePolicy[WebAdmPlc]",
    "s3:CreateBucket",
    "iam:CreateGroup",
    "iam:AttachGroupPolicy",
    "s3:PutBucketTagging",
    "s3:PutBucketEncryption",
    "s3:PutPublicAccessBlock",
    "s3:PutBucketOwnershipControls",
    "s3:PutBucketLogging",
    "s3:PutBucketWebsite",
    "s3:PutBucketPolicy",
    "s3:PutObject",
    "cloudfront:CreateDistributionWithTags",
    "route53:ChangeResourceRecordSets",
    "route53:ListResourceRecordSets",
];

/// Every AWS call the first path-scoped user of a website makes, for [`scoped_website_user_body`]: its scoped
/// group and policy, and the scope's placeholder page.
pub const WEBSITE_USER_CREATE_CALLS: &[&str] = &[
    "iam:CreatePolicy[s3-api-creating]",
    "s3:HeadBucket",
    "s3:GetBucketTagging",
    "s3:GetBucketWebsite",
    "iam:GetGroup",
    "iam:CreateUser",
    "iam:CreatePolicy[Plc]",
    "iam:CreateGroup",
    "iam:AttachGroupPolicy",
    "iam:AddUserToGroup",
    "iam:CreateAccessKey",
    "s3:HeadObject",
    "s3:PutObject",
];

pub fn scoped_website_user_body(user: &str) -> Value {
    json!({"User": {"UserName": user, "Path": "/team/"}, "Groups": ["BktROGrp"]})
}
