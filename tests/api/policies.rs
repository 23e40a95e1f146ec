//! Policy documents: every document the service can produce passes parliament, an IAM policy linter, and the
//! website's Deny of what the service owns is in the documents IAM stores.

use std::io::Write;
use std::process::{Command, Stdio};

use s3_api::domain::names::{BucketGroup, BucketName, GroupKind, ScopePath};
use s3_api::domain::policy::{
    group_policy, public_read_bucket_policy, AdminActions, Subject, WEBSITE_OWNED_ACTIONS,
};
use serde_json::{json, Map, Value};

use crate::helpers::{random_account_id, test_config, unique, TestApp};
use crate::moto;

/// Every document the service can produce, by name: the group policies of a bucket and of a website (root and
/// path-scoped), the website's CloudFront admin policy and its public-read bucket policy. The admin actions are
/// those of a configuration that leaves them out, i.e. the defaults.
fn service_documents() -> Map<String, Value> {
    let config = test_config(&random_account_id(), "access-logs");
    let account = &config.accounts["test"];
    let admin = AdminActions {
        bucket: account.default_s3_bucket_actions.clone(),
        object: account.default_s3_object_actions.clone(),
        cloudfront: account.default_cloudfront_distribution_actions.clone(),
    };
    let bucket = BucketName::parse("my-awesome-bucket").unwrap();
    let site = BucketName::parse("www.example.org").unwrap();
    let scope = ScopePath::parse("/team/docs/").unwrap();
    let distribution = "arn:aws:cloudfront::123456789012:distribution/E2QWRUHAPOMQZL";

    let mut docs = Map::new();
    let mut add = |name: String, doc: Option<Value>| {
        docs.insert(name, doc.expect("the group's kind fits the subject"));
    };
    for kind in GroupKind::ALL {
        let root = BucketGroup::new(&bucket, kind).unwrap();
        add(
            format!("bucket {kind:?}"),
            group_policy(&root, &bucket, &admin, Subject::Bucket),
        );
        let root = BucketGroup::new(&site, kind).unwrap();
        add(
            format!("website {kind:?}"),
            group_policy(&root, &site, &admin, Subject::Website),
        );
        let scoped = BucketGroup::scoped(&site, kind, &scope).unwrap();
        add(
            format!("website {kind:?} scoped"),
            group_policy(&scoped, &site, &admin, Subject::Website),
        );
    }
    let web = BucketGroup::new(&site, GroupKind::WebAdmin).unwrap();
    add(
        "website WebAdmin".into(),
        group_policy(&web, &site, &admin, Subject::Distribution(distribution)),
    );
    add(
        "website public-read bucket policy".into(),
        Some(public_read_bucket_policy(&site)),
    );
    docs
}

/// One finding of parliament's default auditors (see `parliament_lint.py`).
#[derive(Debug)]
struct Finding {
    policy: String,
    statement: Option<usize>,
    issue: String,
    severity: String,
    detail: Value,
}

/// Runs parliament on each document (in the test tools' virtualenv, where `scripts/moto-requirements.txt`
/// pins it).
fn lint(docs: &Map<String, Value>) -> Vec<Finding> {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/api/parliament_lint.py");
    let mut child = Command::new(moto::python())
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(Value::Object(docs.clone()).to_string().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "parliament could not lint the documents:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let found: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    found
        .into_iter()
        .map(|f| Finding {
            policy: f["policy"].as_str().unwrap().to_owned(),
            statement: f["statement"].as_u64().map(|i| i as usize),
            issue: f["issue"].as_str().unwrap().to_owned(),
            severity: f["severity"].as_str().unwrap().to_owned(),
            detail: f["detail"].clone(),
        })
        .collect()
}

/// parliament's severities, lowest first (as its CLI orders them for `--minimum_severity`).
const SEVERITIES: &[&str] = &["MUTE", "INFO", "LOW", "MEDIUM", "HIGH", "CRITICAL"];

/// Error level: MEDIUM and above. parliament gives those to documents that are malformed, that grant nothing
/// where they seem to grant (a condition key the action does not carry, a resource no action of the statement
/// applies to, a bad ARN) or that open a way to escalate.
///
/// The test fails on every finding that `justified` does not name, whatever its level. Below error level (LOW,
/// INFO) too, because LOW includes UNKNOWN_ACTION: an action name IAM does not know (an API call's name instead
/// of the IAM action's, a typo), which IAM accepts and then never matches. At error level, the two kinds of
/// RESOURCE_MISMATCH in `justified` stay, in the documents the test pins.
fn is_error_level(severity: &str) -> bool {
    let rank = |s: &str| SEVERITIES.iter().position(|x| *x == s);
    rank(severity).expect("a parliament severity") >= rank("MEDIUM").unwrap()
}

/// The object actions among the seed's 43 bucket actions, and `s3:ListAllMyBuckets`: on the bucket ARN, where
/// the seed document puts them, IAM applies none of them.
const SEED_ACTIONS_THAT_DO_NOT_APPLY_TO_THE_BUCKET: &[&str] = &[
    "s3:AbortMultipartUpload",
    "s3:DeleteObject",
    "s3:DeleteObjectVersion",
    "s3:GetObject",
    "s3:GetObjectAcl",
    "s3:GetObjectVersion",
    "s3:GetObjectVersionAcl",
    "s3:ListAllMyBuckets",
    "s3:ListMultipartUploadParts",
    "s3:PutObject",
    "s3:PutObjectAcl",
    "s3:PutObjectVersionAcl",
    "s3:ReplicateDelete",
    "s3:ReplicateObject",
    "s3:RestoreObject",
];

/// parliament's format for object ARNs, the resource every object action needs.
const OBJECT_ARN_FORMAT: &str = "arn:*:s3:::*/*";

/// Why a finding may stay, for the few that may. Both are RESOURCE_MISMATCH (MEDIUM): actions of a statement
/// that none of its resources fits, so that the statement does not grant them.
fn justified(f: &Finding, docs: &Map<String, Value>) -> Option<&'static str> {
    if f.issue != "RESOURCE_MISMATCH" {
        return None;
    }
    let statement = &docs[&f.policy]["Statement"][f.statement?];
    let actions: Vec<&str> = statement["Action"]
        .as_array()?
        .iter()
        .filter_map(Value::as_str)
        .collect();
    let resources: Vec<&str> = statement["Resource"]
        .as_array()?
        .iter()
        .filter_map(Value::as_str)
        .collect();
    let mismatched: Vec<(&str, &str)> = f
        .detail
        .as_array()?
        .iter()
        .map(|m| {
            (
                m["action"].as_str().unwrap_or_default(),
                m["required_format"].as_str().unwrap_or_default(),
            )
        })
        .collect();
    let on_objects = resources.iter().all(|r| r.contains('/'));
    let on_the_bucket = resources.iter().all(|r| !r.contains('/'));

    // `s3:*` on object ARNs (the default `defaultS3ObjectActions`): parliament expands the wildcard to every S3
    // action and reports all that are not object actions. IAM applies the wildcard's object actions to the
    // objects, which is what the grant means; every object action does fit the resource.
    if actions == ["s3:*"] && on_objects && mismatched.iter().all(|(_, f)| *f != OBJECT_ARN_FORMAT)
    {
        return Some("s3:* on objects grants the object actions");
    }
    // The admin policy's bucket statement keeps the earlier Go service's 43 actions exactly, so that its
    // documents and this service's are the same. Fourteen of them are object actions and one is
    // s3:ListAllMyBuckets (which needs Resource "*"): on the bucket ARN they grant nothing. The object statement
    // grants the object actions anyway; bucket admins never could list all buckets, under the Go service either.
    if on_the_bucket
        && mismatched
            .iter()
            .all(|(a, _)| SEED_ACTIONS_THAT_DO_NOT_APPLY_TO_THE_BUCKET.contains(a))
    {
        return Some("the seed's object actions and ListAllMyBuckets on the bucket ARN");
    }
    None
}

/// The findings that fail the test: every one not justified, at error level or below it.
fn failing<'a>(findings: &'a [Finding], docs: &Map<String, Value>) -> Vec<&'a Finding> {
    findings
        .iter()
        .filter(|f| justified(f, docs).is_none())
        .collect()
}

fn report(failed: &[&Finding]) -> String {
    failed
        .iter()
        .map(|f| {
            let level = match is_error_level(&f.severity) {
                true => "error level",
                false => "below error level, not justified",
            };
            format!("{level}: {f:?}")
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn every_policy_document_the_service_produces_passes_parliament() {
    let docs = service_documents();
    assert_eq!(
        docs.len(),
        11,
        "3 bucket + 3 website + 3 scoped + WebAdm + public read"
    );
    let findings = lint(&docs);
    let failed = failing(&findings, &docs);
    assert!(failed.is_empty(), "parliament:\n{}", report(&failed));
    // The justified findings are exactly the ones expected, so a new one of the same issue cannot hide there:
    // the seed's dead grants on the bucket ARN in the two root admin documents, and s3:* on objects in the
    // documents that grant it (root and scoped admins).
    let mut stayed: Vec<(String, usize, &str)> = findings
        .iter()
        .map(|f| {
            (
                f.policy.clone(),
                f.statement.unwrap(),
                justified(f, &docs).unwrap(),
            )
        })
        .collect();
    stayed.sort();
    let seed = "the seed's object actions and ListAllMyBuckets on the bucket ARN";
    let wildcard = "s3:* on objects grants the object actions";
    assert_eq!(
        stayed,
        vec![
            ("bucket Admin".to_owned(), 0, seed),
            ("bucket Admin".to_owned(), 1, wildcard),
            ("website Admin".to_owned(), 0, seed),
            ("website Admin".to_owned(), 1, wildcard),
            ("website Admin scoped".to_owned(), 2, wildcard),
        ]
    );
}

#[test]
fn parliament_finds_what_the_test_must_fail_on() {
    let site = "arn:aws:s3:::www.example.org";
    let docs: Map<String, Value> = serde_json::from_value(json!({
        // The earlier scoped policy: s3:prefix on an action that never carries it, so that grant did nothing.
        "prefix on uploads": {"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Resource": [site],
             "Action": ["s3:ListBucket", "s3:ListBucketMultipartUploads"],
             "Condition": {"StringLike": {"s3:prefix": ["team/", "team/*"]}}}]},
        // API call names instead of IAM actions: IAM would accept the Deny and never match it.
        "API names in a Deny": {"Version": "2012-10-17", "Statement": [
            {"Effect": "Deny", "Resource": [site],
             "Action": ["s3:PutPublicAccessBlock", "s3:DeleteBucketOwnershipControls"]}]},
    }))
    .unwrap();
    let findings = lint(&docs);
    let mut failed: Vec<(String, String, String)> = failing(&findings, &docs)
        .into_iter()
        .map(|f| (f.policy.clone(), f.issue.clone(), f.severity.clone()))
        .collect();
    failed.sort();
    let expected = |p: &str, i: &str, s: &str| (p.to_owned(), i.to_owned(), s.to_owned());
    assert_eq!(
        failed,
        vec![
            expected("API names in a Deny", "UNKNOWN_ACTION", "LOW"),
            expected("API names in a Deny", "UNKNOWN_ACTION", "LOW"),
            expected(
                "prefix on uploads",
                "UNKNOWN_CONDITION_FOR_ACTION",
                "MEDIUM"
            ),
        ]
    );
}

/// `doc` has one Deny: of what the service owns on the website `bucket`, on the bucket, without a condition.
fn assert_denies_what_the_service_owns(doc: &Value, bucket: &str, what: &str) {
    let denies: Vec<&Value> = doc["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["Effect"] == "Deny")
        .collect();
    assert_eq!(denies.len(), 1, "{what}: {doc}");
    assert_eq!(denies[0]["Action"], json!(WEBSITE_OWNED_ACTIONS), "{what}");
    assert_eq!(
        denies[0]["Resource"],
        json!([format!("arn:aws:s3:::{bucket}")]),
        "{what}"
    );
    assert!(
        denies[0].get("Condition").is_none(),
        "{what}: unconditional"
    );
}

#[tokio::test]
async fn iam_holds_the_website_deny_for_root_and_scoped_admins() {
    let (app, w) = TestApp::spawn_websites().await;
    let name = format!("{}.{}", unique("deny"), w.domain);
    app.post(
        &app.websites(""),
        json!({"BucketInput": {"Bucket": name},
               "WebsiteConfiguration": {"IndexDocument": {"Suffix": "index.html"}}}),
    )
    .await
    .assert_status(202);
    let users = app.websites(&format!("/{name}/users"));
    // A root user (BktAdmGrp and WebAdmGrp), a root read-write user (its group made now, by the user route) and
    // a path-scoped admin.
    for body in [
        json!({"User": {"UserName": unique("root")}}),
        json!({"User": {"UserName": unique("writer")}, "Groups": ["BktRWGrp"]}),
        json!({"User": {"UserName": unique("scoped"), "Path": "/team/"}, "Groups": ["BktAdmGrp"]}),
    ] {
        app.post(&users, body).await.assert_status(200);
    }

    let root_admin = app.policy_arn(&format!("{name}-BktAdmPlc"));
    let root_writer = app.policy_arn(&format!("{name}-BktRWPlc"));
    let web_admin = app.policy_arn(&format!("{name}-WebAdmPlc"));
    let scoped_admin = format!(
        "arn:aws:iam::{}:policy/{name}/team/{name}_team-BktAdmPlc",
        app.account_id
    );
    assert_eq!(
        app.aws
            .group_policies(&format!("{name}_team-BktAdmGrp"))
            .await,
        vec![scoped_admin.clone()]
    );
    for (what, arn) in [
        ("root admin", &root_admin),
        ("root read-write", &root_writer),
        ("CloudFront admin", &web_admin),
        ("scoped admin", &scoped_admin),
    ] {
        let doc = app.aws.policy_document(arn).await;
        assert_denies_what_the_service_owns(&doc, &name, what);
    }
    // The root admin is granted the account's bucket actions, s3:PutBucketPolicy among them; the Deny is what
    // keeps the public-read policy the service's.
    let doc = app.aws.policy_document(&root_admin).await;
    assert!(doc["Statement"][0]["Action"]
        .as_array()
        .unwrap()
        .contains(&json!("s3:PutBucketPolicy")));

    // A plain bucket's policies carry no Deny: its admins own all of it.
    let bucket = unique("plain");
    app.create_bucket(&bucket).await;
    app.create_user(&bucket, &unique("writer"), Some(&["BktRWGrp"]))
        .await;
    for policy in ["BktAdmPlc", "BktRWPlc"] {
        let doc = app
            .aws
            .policy_document(&app.policy_arn(&format!("{bucket}-{policy}")))
            .await;
        assert!(!doc.to_string().contains("Deny"), "{policy}: {doc}");
    }
}
