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

/// The actions that change what the service owns on a website's bucket: the public-read bucket policy, the
/// website hosting configuration, the public access block, the ownership controls and the ACL — and the bucket's
/// existence. Every policy the service attaches for a website denies them on the bucket.
///
/// A website's public access block lets bucket policies be public (the public-read policy needs that), so a user
/// who may put a bucket policy can make the site publicly writable; one who may change hosting, the public access
/// block, ownership or the ACL can take the site offline or expose it; and once the bucket is deleted anyone can
/// create a bucket of that name and the site's distribution serves their content. In IAM an explicit Deny wins
/// over every Allow, so this holds even where an account's `defaultS3BucketActions` grant these actions (the
/// defaults grant several). The names are IAM actions, not API calls: `s3:PutBucketPublicAccessBlock` also
/// authorizes `DeletePublicAccessBlock`, and `s3:PutBucketOwnershipControls` also
/// `DeleteBucketOwnershipControls`.
pub const WEBSITE_OWNED_ACTIONS: &[&str] = &[
    "s3:PutBucketPolicy",
    "s3:DeleteBucketPolicy",
    "s3:PutBucketWebsite",
    "s3:DeleteBucketWebsite",
    "s3:PutBucketPublicAccessBlock",
    "s3:PutBucketOwnershipControls",
    "s3:PutBucketAcl",
    "s3:DeleteBucket",
];

/// The actions an account grants to bucket and website admins (from its configuration).
#[derive(Debug, Clone)]
pub struct AdminActions {
    pub bucket: Vec<String>,
    pub object: Vec<String>,
    pub cloudfront: Vec<String>,
}

/// What a group's policy is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subject<'a> {
    /// A plain bucket: its admins may change all of it.
    Bucket,
    /// A website's bucket (its admin, read-write and read-only groups, at the root or path-scoped): the service
    /// owns some of its settings ([`WEBSITE_OWNED_ACTIONS`]).
    Website,
    /// A website's CloudFront distribution, by ARN: what the `WebAdmGrp` policy is about.
    Distribution(&'a str),
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

/// The policy document of a bucket's group, about `subject`. None when the group's kind is not about that
/// subject: `WebAdmGrp` is about a distribution, the other groups about a bucket or a website.
pub fn group_policy(
    group: &BucketGroup,
    bucket: &BucketName,
    admin: &AdminActions,
    subject: Subject<'_>,
) -> Option<Value> {
    let mut statements = match (group.kind, subject, &group.scope) {
        (GroupKind::WebAdmin, Subject::Distribution(arn), _) => {
            vec![json!({"Effect": "Allow", "Action": admin.cloudfront, "Resource": [arn]})]
        }
        (GroupKind::WebAdmin, _, _) | (_, Subject::Distribution(_), _) => return None,
        (kind, _, Some(scope)) => scoped_statements(kind, bucket, scope, admin),
        (kind, _, None) => root_statements(kind, bucket, admin),
    };
    if subject != Subject::Bucket {
        statements.push(json!({
            "Sid": "ServiceOwnedWebsiteSettings",
            "Effect": "Deny",
            "Action": WEBSITE_OWNED_ACTIONS,
            "Resource": [bucket.arn()],
        }));
    }
    Some(json!({"Version": "2012-10-17", "Statement": statements}))
}

/// Bucket actions on the bucket ARN and object actions on every object.
fn root_statements(kind: GroupKind, bucket: &BucketName, admin: &AdminActions) -> Vec<Value> {
    let bucket_actions = match kind {
        GroupKind::Admin => strs(&admin.bucket),
        GroupKind::ReadWrite => [READ_BUCKET_ACTIONS, WRITE_BUCKET_ACTIONS].concat(),
        GroupKind::ReadOnly | GroupKind::WebAdmin => READ_BUCKET_ACTIONS.to_vec(),
    };
    vec![
        json!({"Effect": "Allow", "Action": bucket_actions, "Resource": [bucket.arn()]}),
        json!({"Effect": "Allow", "Action": object_actions(kind, admin),
               "Resource": [format!("{}/*", bucket.arn())]}),
    ]
}

/// The listing actions of a path-scoped policy: the only bucket actions that carry the `s3:prefix` condition key.
///
/// A request for an action that does not carry a condition key has no value for it, so a `StringLike` on that key
/// never matches and the grant does nothing; no other action may be granted under the prefix condition.
/// `s3:ListBucketMultipartUploads` has no `s3:prefix` key: granted without the condition it would show the key
/// names of every unfinished upload in the bucket, outside the user's prefix too, so scoped users do not get it.
/// They can still list the parts of and abort their own uploads, whose object ARNs are under their prefix.
const SCOPED_LISTING_ACTIONS: &[&str] = &["s3:ListBucket", "s3:ListBucketVersions"];

/// Statements scoped to one prefix of the bucket: objects under `arn:aws:s3:::<bucket>/<prefix>*` only, and
/// listing only with the prefix condition. Finding the bucket's region has no key to scope and stays
/// unconditional.
fn scoped_statements(
    kind: GroupKind,
    bucket: &BucketName,
    scope: &ScopePath,
    admin: &AdminActions,
) -> Vec<Value> {
    let prefix = scope.key_prefix();
    vec![
        json!({"Effect": "Allow", "Action": ["s3:GetBucketLocation"], "Resource": [bucket.arn()]}),
        json!({"Effect": "Allow", "Action": SCOPED_LISTING_ACTIONS, "Resource": [bucket.arn()],
               "Condition": {"StringLike": {"s3:prefix": [prefix, format!("{prefix}*")]}}}),
        json!({"Effect": "Allow", "Action": object_actions(kind, admin),
               "Resource": [format!("{}/{prefix}*", bucket.arn())]}),
    ]
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
    use std::collections::{BTreeSet, HashSet};

    fn owned(l: &[&str]) -> Vec<String> {
        l.iter().map(|s| s.to_string()).collect()
    }

    fn admin() -> AdminActions {
        AdminActions {
            bucket: owned(DEFAULT_S3_BUCKET_ACTIONS),
            object: owned(DEFAULT_S3_OBJECT_ACTIONS),
            cloudfront: owned(DEFAULT_CLOUDFRONT_DISTRIBUTION_ACTIONS),
        }
    }

    fn bucket_policy(kind: GroupKind, b: &BucketName, admin: &AdminActions) -> Value {
        group_policy(
            &BucketGroup::new(b, kind).unwrap(),
            b,
            admin,
            Subject::Bucket,
        )
        .unwrap()
    }

    const DIST: &str = "arn:aws:cloudfront::123456789012:distribution/E1";

    #[test]
    fn the_admin_policy_is_the_seed_document() {
        let b = BucketName::parse("my-awesome-bucket").unwrap();
        let doc = bucket_policy(GroupKind::Admin, &b, &admin());
        assert_eq!(doc["Statement"].as_array().unwrap().len(), 2);
        assert_eq!(doc["Statement"][0]["Action"].as_array().unwrap().len(), 43);
        assert_eq!(
            doc["Statement"][0]["Action"],
            json!(DEFAULT_S3_BUCKET_ACTIONS)
        );
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
    fn plain_bucket_read_write_and_read_only_policies_are_unchanged() {
        let b = BucketName::parse("bkt").unwrap();
        let read = json!(["s3:GetObject", "s3:GetObjectVersion", "s3:GetObjectTagging"]);
        assert_eq!(
            bucket_policy(GroupKind::ReadOnly, &b, &admin()),
            json!({"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Resource": ["arn:aws:s3:::bkt"],
                 "Action": ["s3:GetBucketLocation", "s3:ListBucket", "s3:ListBucketVersions"]},
                {"Effect": "Allow", "Resource": ["arn:aws:s3:::bkt/*"], "Action": read},
            ]})
        );
        assert_eq!(
            bucket_policy(GroupKind::ReadWrite, &b, &admin()),
            json!({"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Resource": ["arn:aws:s3:::bkt"],
                 "Action": ["s3:GetBucketLocation", "s3:ListBucket", "s3:ListBucketVersions",
                            "s3:ListBucketMultipartUploads"]},
                {"Effect": "Allow", "Resource": ["arn:aws:s3:::bkt/*"],
                 "Action": ["s3:GetObject", "s3:GetObjectVersion", "s3:GetObjectTagging", "s3:PutObject",
                            "s3:PutObjectTagging", "s3:PutObjectAcl", "s3:DeleteObject",
                            "s3:DeleteObjectVersion", "s3:AbortMultipartUpload",
                            "s3:ListMultipartUploadParts"]},
            ]})
        );
    }

    #[test]
    fn scoped_policies_grant_only_the_prefix() {
        let b = BucketName::parse("site.example.org").unwrap();
        let scope = ScopePath::parse("/team/").unwrap();
        let g = BucketGroup::scoped(&b, GroupKind::ReadWrite, &scope).unwrap();
        let doc = group_policy(&g, &b, &admin(), Subject::Website).unwrap();
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
            let doc = group_policy(&g, &b, &admin(), Subject::Website).unwrap();
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
        assert!(group_policy(&g, &b, &admin(), Subject::Website).is_none());
        assert!(group_policy(&g, &b, &admin(), Subject::Bucket).is_none());
        let doc = group_policy(&g, &b, &admin(), Subject::Distribution(DIST)).unwrap();
        assert_eq!(doc["Statement"][0]["Resource"], json!([DIST]));
        assert_eq!(doc["Statement"][0]["Action"].as_array().unwrap().len(), 3);
        assert_eq!(
            group_policy_description(&g, &b),
            "Admin policy for site.example.org web distribution"
        );
        // The bucket groups are never about a distribution.
        let a = BucketGroup::new(&b, GroupKind::Admin).unwrap();
        assert!(group_policy(&a, &b, &admin(), Subject::Distribution(DIST)).is_none());
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
        let owned: HashSet<_> = WEBSITE_OWNED_ACTIONS.iter().collect();
        assert_eq!(owned.len(), WEBSITE_OWNED_ACTIONS.len());
    }

    #[test]
    fn read_only_cannot_write_and_read_write_can() {
        let b = BucketName::parse("bkt").unwrap();
        let ro = bucket_policy(GroupKind::ReadOnly, &b, &admin()).to_string();
        let rw = bucket_policy(GroupKind::ReadWrite, &b, &admin()).to_string();
        assert!(!ro.contains("s3:PutObject") && !ro.contains("s3:DeleteObject"));
        assert!(rw.contains("s3:PutObject") && rw.contains("s3:GetObject"));
    }

    // What the documents grant, decided as IAM decides one request against an identity policy.

    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    enum Decision {
        Allowed,
        /// An explicit Deny: no Allow in any other policy can grant it.
        Denied,
        /// Neither: another policy could still grant it.
        NotAllowed,
    }

    /// IAM's wildcard match: `*` any run of characters, `?` one.
    fn glob(pattern: &str, text: &str) -> bool {
        fn go(p: &[u8], t: &[u8]) -> bool {
            match (p.first(), t.first()) {
                (None, None) => true,
                (Some(b'*'), _) => go(&p[1..], t) || (!t.is_empty() && go(p, &t[1..])),
                (Some(b'?'), Some(_)) => go(&p[1..], &t[1..]),
                (Some(a), Some(b)) if a == b => go(&p[1..], &t[1..]),
                _ => false,
            }
        }
        go(pattern.as_bytes(), text.as_bytes())
    }

    fn strings(v: &Value) -> Vec<&str> {
        match v {
            Value::String(s) => vec![s.as_str()],
            Value::Array(a) => a.iter().map(|s| s.as_str().unwrap()).collect(),
            other => panic!("not a string or list: {other}"),
        }
    }

    /// The decision for `action` on `resource`, with `prefix` as the request's `s3:prefix` (listing requests
    /// only). An explicit Deny wins over any Allow; without either the request is not allowed. Action names
    /// match case-insensitively, ARNs case-sensitively; a condition matches only when the request has the key.
    fn decide(doc: &Value, action: &str, resource: &str, prefix: Option<&str>) -> Decision {
        let mut allowed = false;
        for st in doc["Statement"].as_array().unwrap() {
            let action_matches = strings(&st["Action"])
                .iter()
                .any(|a| glob(&a.to_lowercase(), &action.to_lowercase()));
            let resource_matches = strings(&st["Resource"]).iter().any(|r| glob(r, resource));
            let condition_matches = match st.get("Condition") {
                None => true,
                Some(c) => {
                    let keys = c.as_object().unwrap();
                    assert_eq!(keys.len(), 1, "only StringLike is known here: {c}");
                    let patterns = strings(&c["StringLike"]["s3:prefix"]);
                    prefix.is_some_and(|p| patterns.iter().any(|pat| glob(pat, p)))
                }
            };
            if action_matches && resource_matches && condition_matches {
                match st["Effect"].as_str().unwrap() {
                    "Deny" => return Decision::Denied,
                    "Allow" => allowed = true,
                    other => panic!("unknown effect {other}"),
                }
            }
        }
        match allowed {
            true => Decision::Allowed,
            false => Decision::NotAllowed,
        }
    }

    const SITE: &str = "site.example.org";
    const BUCKET_ARN: &str = "arn:aws:s3:::site.example.org";
    /// Objects: at the root of the site, under the scope `/team/docs/`, next to the scope, in another bucket.
    const ROOT_OBJECT: &str = "arn:aws:s3:::site.example.org/index.html";
    const SCOPED_OBJECT: &str = "arn:aws:s3:::site.example.org/team/docs/page.html";
    const NEXT_TO_SCOPE: &str = "arn:aws:s3:::site.example.org/team/docsx/page.html";
    const OTHER_OBJECT: &str = "arn:aws:s3:::site.example.org.old/index.html";
    const OTHER_BUCKET: &str = "arn:aws:s3:::site.example.org.old";

    /// Bucket-level actions asked about on bucket ARNs: the admin defaults, the website-owned ones and listing.
    fn bucket_probes() -> BTreeSet<&'static str> {
        let mut p: BTreeSet<_> = DEFAULT_S3_BUCKET_ACTIONS.iter().copied().collect();
        p.extend(WEBSITE_OWNED_ACTIONS);
        p.extend(["s3:PutBucketCORS", "s3:PutEncryptionConfiguration"]);
        p
    }

    /// Object-level actions asked about on object ARNs.
    const OBJECT_PROBES: &[&str] = &[
        "s3:GetObject",
        "s3:GetObjectVersion",
        "s3:GetObjectTagging",
        "s3:PutObject",
        "s3:PutObjectTagging",
        "s3:PutObjectAcl",
        "s3:DeleteObject",
        "s3:DeleteObjectVersion",
        "s3:AbortMultipartUpload",
        "s3:ListMultipartUploadParts",
        "s3:RestoreObject",
        "s3:PutObjectRetention",
    ];

    fn set(l: &[&'static str]) -> BTreeSet<&'static str> {
        l.iter().copied().collect()
    }

    fn with(
        doc: &Value,
        probes: &BTreeSet<&'static str>,
        resource: &str,
        prefix: Option<&str>,
        d: Decision,
    ) -> BTreeSet<&'static str> {
        probes
            .iter()
            .copied()
            .filter(|a| decide(doc, a, resource, prefix) == d)
            .collect()
    }

    /// What one kind of user is granted and denied on the bucket and its objects.
    struct Expect {
        /// Allowed on the bucket ARN (listing without a prefix).
        bucket: BTreeSet<&'static str>,
        /// Allowed on the bucket ARN when listing under the scope `team/docs/`.
        listing_in_scope: BTreeSet<&'static str>,
        /// Allowed on objects at the site's root and under the scope.
        root_objects: BTreeSet<&'static str>,
        scoped_objects: BTreeSet<&'static str>,
        /// Explicitly denied on the bucket ARN.
        denied: BTreeSet<&'static str>,
    }

    #[track_caller]
    fn check(what: &str, doc: &Value, e: &Expect) {
        use Decision::*;
        let bp = bucket_probes();
        let op = set(OBJECT_PROBES);
        assert_eq!(
            with(doc, &bp, BUCKET_ARN, None, Allowed),
            e.bucket,
            "{what}: bucket"
        );
        assert_eq!(
            with(doc, &bp, BUCKET_ARN, Some("team/docs/"), Allowed),
            e.listing_in_scope,
            "{what}: listing team/docs/"
        );
        assert_eq!(
            with(doc, &bp, BUCKET_ARN, None, Denied),
            e.denied,
            "{what}: denied"
        );
        assert_eq!(
            with(doc, &op, ROOT_OBJECT, None, Allowed),
            e.root_objects,
            "{what}: root objects"
        );
        assert_eq!(
            with(doc, &op, SCOPED_OBJECT, None, Allowed),
            e.scoped_objects,
            "{what}: scoped objects"
        );
        // Never anything in a bucket whose name merely starts like this one, nor in a sibling of the scope
        // beyond what the root grants.
        assert!(
            with(doc, &bp, OTHER_BUCKET, None, Allowed).is_empty(),
            "{what}"
        );
        assert!(
            with(doc, &op, OTHER_OBJECT, None, Allowed).is_empty(),
            "{what}"
        );
        assert_eq!(
            with(doc, &op, NEXT_TO_SCOPE, None, Allowed),
            e.root_objects,
            "{what}: next to the scope"
        );
    }

    fn minus(a: &BTreeSet<&'static str>, b: &[&'static str]) -> BTreeSet<&'static str> {
        a.iter().copied().filter(|x| !b.contains(x)).collect()
    }

    /// Per kind: bucket and website, admin/RW/RO, at the root and (websites) scoped to `/team/docs/`.
    fn expectations(website: bool) -> Vec<(GroupKind, bool, Expect)> {
        let denied = match website {
            true => set(WEBSITE_OWNED_ACTIONS),
            false => BTreeSet::new(),
        };
        let all_objects = set(OBJECT_PROBES);
        let read = set(READ_OBJECT_ACTIONS);
        let read_write = set(&[READ_OBJECT_ACTIONS, WRITE_OBJECT_ACTIONS].concat());
        let admin_bucket = match website {
            true => minus(&set(DEFAULT_S3_BUCKET_ACTIONS), WEBSITE_OWNED_ACTIONS),
            false => set(DEFAULT_S3_BUCKET_ACTIONS),
        };
        let ro_bucket = set(READ_BUCKET_ACTIONS);
        let rw_bucket = set(&[READ_BUCKET_ACTIONS, WRITE_BUCKET_ACTIONS].concat());
        let located = set(&["s3:GetBucketLocation"]);
        let scoped_listing = set(&[
            "s3:GetBucketLocation",
            "s3:ListBucket",
            "s3:ListBucketVersions",
        ]);
        let root = |bucket: &BTreeSet<_>, objects: &BTreeSet<_>| Expect {
            bucket: bucket.clone(),
            listing_in_scope: bucket.clone(),
            root_objects: objects.clone(),
            scoped_objects: objects.clone(),
            denied: denied.clone(),
        };
        let scoped = |objects: &BTreeSet<_>| Expect {
            bucket: located.clone(),
            listing_in_scope: scoped_listing.clone(),
            root_objects: BTreeSet::new(),
            scoped_objects: objects.clone(),
            denied: denied.clone(),
        };
        let mut v = vec![
            (GroupKind::Admin, false, root(&admin_bucket, &all_objects)),
            (GroupKind::ReadWrite, false, root(&rw_bucket, &read_write)),
            (GroupKind::ReadOnly, false, root(&ro_bucket, &read)),
        ];
        if website {
            v.extend([
                (GroupKind::Admin, true, scoped(&all_objects)),
                (GroupKind::ReadWrite, true, scoped(&read_write)),
                (GroupKind::ReadOnly, true, scoped(&read)),
            ]);
        }
        v
    }

    fn group(b: &BucketName, kind: GroupKind, scoped: bool) -> BucketGroup {
        match scoped {
            true => {
                BucketGroup::scoped(b, kind, &ScopePath::parse("/team/docs/").unwrap()).unwrap()
            }
            false => BucketGroup::new(b, kind).unwrap(),
        }
    }

    #[test]
    fn bucket_users_are_granted_by_kind_and_denied_nothing() {
        let b = BucketName::parse(SITE).unwrap();
        for (kind, scoped, e) in expectations(false) {
            let doc =
                group_policy(&group(&b, kind, scoped), &b, &admin(), Subject::Bucket).unwrap();
            check(&format!("bucket {kind:?}"), &doc, &e);
        }
        // A plain bucket's admin may change its bucket policy, hosting and ACL: it owns the bucket.
        let doc = bucket_policy(GroupKind::Admin, &b, &admin());
        assert_eq!(
            decide(&doc, "s3:PutBucketPolicy", BUCKET_ARN, None),
            Decision::Allowed
        );
    }

    #[test]
    fn website_users_are_granted_by_kind_and_denied_what_the_service_owns() {
        let b = BucketName::parse(SITE).unwrap();
        for (kind, scoped, e) in expectations(true) {
            let doc =
                group_policy(&group(&b, kind, scoped), &b, &admin(), Subject::Website).unwrap();
            let what = format!("website {kind:?}{}", if scoped { " scoped" } else { "" });
            check(&what, &doc, &e);
        }
        // A scoped user lists nothing outside its prefix, and no user lists a website's unfinished uploads
        // under a condition that cannot match.
        let doc = group_policy(
            &group(&b, GroupKind::Admin, true),
            &b,
            &admin(),
            Subject::Website,
        )
        .unwrap();
        for prefix in ["", "team/", "other/", "team/docsx/"] {
            assert_eq!(
                decide(&doc, "s3:ListBucket", BUCKET_ARN, Some(prefix)),
                Decision::NotAllowed,
                "{prefix:?}"
            );
        }
        assert_eq!(
            decide(&doc, "s3:ListBucket", BUCKET_ARN, Some("team/docs/sub/")),
            Decision::Allowed
        );
    }

    #[test]
    fn the_web_admin_may_invalidate_its_distribution_and_not_change_the_bucket() {
        let b = BucketName::parse(SITE).unwrap();
        let doc = group_policy(
            &group(&b, GroupKind::WebAdmin, false),
            &b,
            &admin(),
            Subject::Distribution(DIST),
        )
        .unwrap();
        for a in DEFAULT_CLOUDFRONT_DISTRIBUTION_ACTIONS {
            assert_eq!(decide(&doc, a, DIST, None), Decision::Allowed, "{a}");
            let other = "arn:aws:cloudfront::123456789012:distribution/E2";
            assert_eq!(decide(&doc, a, other, None), Decision::NotAllowed, "{a}");
        }
        check(
            "web admin",
            &doc,
            &Expect {
                bucket: BTreeSet::new(),
                listing_in_scope: BTreeSet::new(),
                root_objects: BTreeSet::new(),
                scoped_objects: BTreeSet::new(),
                denied: set(WEBSITE_OWNED_ACTIONS),
            },
        );
    }

    #[test]
    fn no_configured_grant_lets_a_website_user_change_what_the_service_owns() {
        // An account that grants everything: `s3:*` on the bucket and on its objects.
        let everything = AdminActions {
            bucket: owned(&["s3:*"]),
            object: owned(&["s3:*"]),
            cloudfront: owned(&["cloudfront:*"]),
        };
        let b = BucketName::parse(SITE).unwrap();
        for kind in GroupKind::ALL {
            for scoped in [false, true] {
                let doc = group_policy(&group(&b, kind, scoped), &b, &everything, Subject::Website)
                    .unwrap();
                for a in WEBSITE_OWNED_ACTIONS {
                    assert_eq!(
                        decide(&doc, a, BUCKET_ARN, None),
                        Decision::Denied,
                        "{kind:?} scoped={scoped} {a}"
                    );
                }
            }
        }
        // The same grant on a plain bucket allows them: the Deny is the website's alone.
        let doc = bucket_policy(GroupKind::Admin, &b, &everything);
        for a in WEBSITE_OWNED_ACTIONS {
            assert_eq!(decide(&doc, a, BUCKET_ARN, None), Decision::Allowed, "{a}");
        }
    }

    #[test]
    fn a_website_policy_is_the_bucket_policy_plus_the_deny() {
        let b = BucketName::parse(SITE).unwrap();
        for kind in GroupKind::ALL {
            let g = BucketGroup::new(&b, kind).unwrap();
            let plain = group_policy(&g, &b, &admin(), Subject::Bucket).unwrap();
            let site = group_policy(&g, &b, &admin(), Subject::Website).unwrap();
            let mut expected = plain["Statement"].as_array().unwrap().clone();
            expected.push(json!({
                "Sid": "ServiceOwnedWebsiteSettings", "Effect": "Deny",
                "Action": WEBSITE_OWNED_ACTIONS, "Resource": [BUCKET_ARN],
            }));
            assert_eq!(site["Statement"], json!(expected), "{kind:?}");
        }
    }
}
