//! What real AWS answers and the emulator never does, injected from our side: transient conflicts
//! (`OperationAborted`, `ConcurrentModification`, stale ETags) are retried, HeadBucket's 301 for a bucket in
//! another region means "exists", every certificate key type is found, placeholder versions are deleted, the
//! cleaner removes what a site left behind when it was created again, and a create whose answer was lost (the
//! SDK's retry then answers "already exists") is recognised as the create's own.

use std::time::Duration;

use axum::http::Method;
use serde_json::json;

use crate::faults::Fault;
use crate::helpers::{unique, TestApp, ORG};
use crate::websites::{create_site, records, seed_body, site_name};

const OPERATION_ABORTED: Fault = Fault::Service {
    status: 409,
    code: "OperationAborted",
};
const CONCURRENT_MODIFICATION: Fault = Fault::Service {
    status: 409,
    code: "ConcurrentModification",
};
const PRECONDITION_FAILED: Fault = Fault::Service {
    status: 412,
    code: "PreconditionFailed",
};
const ELSEWHERE: Fault = Fault::Redirect {
    region: "eu-west-1",
};
/// As S3 answers through another regional endpoint (a bare 400 for HEAD).
const ELSEWHERE_REGIONAL: Fault = Fault::WrongRegion {
    region: "eu-west-1",
};

/// The configuration calls bucket create makes concurrently on the new bucket: the ones S3 may answer with
/// `OperationAborted` while the others are in progress.
const BUCKET_CONFIGURATION_CALLS: &[&str] = &[
    "s3:PutBucketTagging",
    "s3:PutBucketEncryption",
    "s3:PutPublicAccessBlock",
    "s3:PutBucketOwnershipControls",
    "s3:PutBucketLogging",
    "s3:PutBucketLifecycleConfiguration",
];

fn create_body(bucket: &str) -> serde_json::Value {
    json!({
        "Tags": [{"Key": "Application", "Value": "HowToGet"}],
        "Lifecycle": "deep-archive",
        "BucketInput": {"Bucket": bucket}
    })
}

/// Reads the bucket back from the emulator: everything bucket create sets is there.
async fn assert_fully_configured(app: &TestApp, bucket: &str) {
    let s3 = &app.aws.s3;
    let tags = s3.get_bucket_tagging().bucket(bucket).send().await.unwrap();
    let mut tags: Vec<(String, String)> = tags
        .tag_set()
        .iter()
        .map(|t| (t.key().to_owned(), t.value().to_owned()))
        .collect();
    tags.sort();
    assert_eq!(
        tags,
        vec![
            ("Application".into(), "HowToGet".into()),
            ("spinup:org".into(), ORG.into())
        ],
        "{bucket}"
    );
    let enc = s3
        .get_bucket_encryption()
        .bucket(bucket)
        .send()
        .await
        .unwrap();
    let rule = &enc.server_side_encryption_configuration().unwrap().rules()[0];
    assert_eq!(
        rule.apply_server_side_encryption_by_default()
            .unwrap()
            .sse_algorithm(),
        &aws_sdk_s3::types::ServerSideEncryption::Aes256
    );
    assert_eq!(rule.bucket_key_enabled(), Some(true));
    assert_eq!(
        app.aws.public_access_flags(bucket).await,
        (true, true, true, true)
    );
    let own = s3
        .get_bucket_ownership_controls()
        .bucket(bucket)
        .send()
        .await
        .unwrap();
    assert_eq!(
        own.ownership_controls().unwrap().rules()[0].object_ownership(),
        &aws_sdk_s3::types::ObjectOwnership::BucketOwnerEnforced
    );
    let logging = s3.get_bucket_logging().bucket(bucket).send().await.unwrap();
    assert_eq!(
        logging.logging_enabled().unwrap().target_prefix(),
        format!("s3/{bucket}/")
    );
    let lifecycle = s3
        .get_bucket_lifecycle_configuration()
        .bucket(bucket)
        .send()
        .await
        .unwrap();
    assert_eq!(lifecycle.rules()[0].id(), Some("deep-archive"));
    let group = format!("{bucket}-BktAdmGrp");
    assert_eq!(
        app.aws.group_policies(&group).await,
        vec![app.policy_arn(&format!("{bucket}-BktAdmPlc"))]
    );
}

async fn assert_nothing_left(app: &TestApp, bucket: &str) {
    assert!(!app.aws.bucket_exists(bucket).await, "bucket {bucket} left");
    assert!(
        app.aws.policy_names().await.is_empty(),
        "policies left: {:?}",
        app.aws.policy_names().await
    );
    assert!(
        app.aws.group_names().await.is_empty(),
        "groups left: {:?}",
        app.aws.group_names().await
    );
}

#[tokio::test]
async fn operation_aborted_once_on_a_configuration_call_is_retried() {
    let app = TestApp::spawn().await;
    for op in BUCKET_CONFIGURATION_CALLS {
        let bucket = unique("aborted");
        app.faults.fail_once(op, OPERATION_ABORTED);
        let before = app.faults.attempts(op);
        app.post(&app.buckets(""), create_body(&bucket))
            .await
            .assert_status(202);
        assert_eq!(app.faults.attempts(op) - before, 2, "{op}: one retry");
        assert_fully_configured(&app, &bucket).await;
    }
}

#[tokio::test]
async fn concurrent_modification_once_on_an_iam_call_is_retried() {
    let app = TestApp::spawn().await;
    for op in [
        "iam:CreatePolicy",
        "iam:CreateGroup",
        "iam:AttachGroupPolicy",
    ] {
        let bucket = unique("concurrent");
        app.faults.fail_once(op, CONCURRENT_MODIFICATION);
        let before = app.faults.attempts(op);
        app.post(&app.buckets(""), create_body(&bucket))
            .await
            .assert_status(202);
        // CreatePolicy makes the create's marker and the admin policy: one call more.
        let calls = if op == "iam:CreatePolicy" { 2 } else { 1 };
        assert_eq!(
            app.faults.attempts(op) - before,
            calls + 1,
            "{op}: one retry"
        );
        assert_fully_configured(&app, &bucket).await;
    }

    // User create, with a read-write group it makes on the way.
    let bucket = unique("users");
    app.create_bucket(&bucket).await;
    for op in [
        "iam:CreateUser",
        "iam:CreatePolicy",
        "iam:CreateGroup",
        "iam:AttachGroupPolicy",
        "iam:AddUserToGroup",
        "iam:CreateAccessKey",
    ] {
        // The read-write group is made by the first user that needs it; delete it so each round makes it anew.
        let rw = format!("{bucket}-BktRWGrp");
        if app.aws.group_exists(&rw).await {
            let rw_policy = app.policy_arn(&format!("{bucket}-BktRWPlc"));
            let members = app
                .aws
                .iam
                .get_group()
                .group_name(&rw)
                .send()
                .await
                .unwrap();
            for u in members.users() {
                app.aws
                    .iam
                    .remove_user_from_group()
                    .group_name(&rw)
                    .user_name(u.user_name())
                    .send()
                    .await
                    .unwrap();
            }
            app.aws
                .iam
                .detach_group_policy()
                .group_name(&rw)
                .policy_arn(&rw_policy)
                .send()
                .await
                .unwrap();
            app.aws
                .iam
                .delete_group()
                .group_name(&rw)
                .send()
                .await
                .unwrap();
            app.aws
                .iam
                .delete_policy()
                .policy_arn(&rw_policy)
                .send()
                .await
                .unwrap();
        }
        let user = unique("cm");
        app.faults.fail_once(op, CONCURRENT_MODIFICATION);
        let before = app.faults.attempts(op);
        let created = app
            .create_user(&bucket, &user, Some(&["BktAdmGrp", "BktRWGrp"]))
            .await;
        assert!(app.faults.attempts(op) - before >= 2, "{op}: retried");
        assert_eq!(
            app.aws.groups_of(&user).await,
            vec![format!("{bucket}-BktAdmGrp"), rw.clone()],
            "{op}"
        );
        assert_eq!(
            app.aws.keys_of(&user).await,
            vec![created["AccessKey"]["AccessKeyId"]
                .as_str()
                .unwrap()
                .to_owned()],
            "{op}"
        );
        assert_eq!(
            app.aws.group_policies(&rw).await,
            vec![app.policy_arn(&format!("{bucket}-BktRWPlc"))],
            "{op}"
        );
    }
}

#[tokio::test]
async fn a_conflict_that_outlasts_the_retries_fails_cleanly() {
    let app = TestApp::spawn().await;
    let bucket = unique("persistent");
    app.faults
        .fail_always("s3:PutBucketEncryption", OPERATION_ABORTED);
    let r = app.post(&app.buckets(""), create_body(&bucket)).await;
    r.assert_status(409);
    assert_eq!(r.code(), "Conflict");
    assert_eq!(r.json()["rollback"]["complete"], true, "{}", r.text());
    assert_eq!(
        app.faults.attempts("s3:PutBucketEncryption"),
        3,
        "the SDK's standard attempts"
    );
    assert_nothing_left(&app, &bucket).await;

    let user_bucket = unique("persistent-users");
    app.faults.clear();
    app.create_bucket(&user_bucket).await;
    app.faults
        .fail_always("iam:AddUserToGroup", CONCURRENT_MODIFICATION);
    let user = unique("cm");
    let r = app
        .post(
            &app.buckets(&format!("/{user_bucket}/users")),
            json!({"User": {"UserName": user}}),
        )
        .await;
    r.assert_status(409);
    assert_eq!(r.json()["rollback"]["complete"], true, "{}", r.text());
    assert!(!app.aws.user_exists(&user).await);
}

/// A deadline shorter than the SDK's backoff: the transient answer is still there when the deadline is reached,
/// or the attempts run out first (the backoff is random). Either way the create fails and is rolled back.
#[tokio::test]
async fn a_conflict_that_outlasts_the_deadline_fails_cleanly() {
    let app = TestApp::spawn_with(|c| c.aws_timeout = Duration::from_millis(400)).await;
    let bucket = unique("deadline");
    app.faults
        .fail_always("s3:PutPublicAccessBlock", OPERATION_ABORTED);
    let r = app.post(&app.buckets(""), create_body(&bucket)).await;
    assert!(
        matches!(
            (r.status.as_u16(), r.code().as_str()),
            (504, "AwsTimeout") | (409, "Conflict")
        ),
        "{}",
        r.text()
    );
    assert_eq!(r.json()["rollback"]["complete"], true, "{}", r.text());
    assert_nothing_left(&app, &bucket).await;
}

#[tokio::test]
async fn a_stale_etag_on_website_delete_is_read_again() {
    let (app, w) = TestApp::spawn_websites().await;
    let name = site_name(&w, "etag");
    let id = create_site(&app, &name).await["Distribution"]["Id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.faults.clear_calls();
    app.faults
        .fail_once("cloudfront:UpdateDistribution", PRECONDITION_FAILED);
    let r = app.delete(&app.websites(&format!("/{name}"))).await;
    r.assert_status(200);
    assert_eq!(
        r.json()["Distribution"]["DistributionConfig"]["Enabled"],
        false
    );
    assert_eq!(
        app.faults.count("cloudfront:GetDistributionConfig"),
        2,
        "read again after the stale ETag"
    );
    let config = app
        .aws
        .cloudfront
        .get_distribution_config()
        .id(&id)
        .send()
        .await
        .unwrap();
    let config = config.distribution_config().unwrap();
    assert!(!config.enabled());
    assert_eq!(config.aliases().unwrap().quantity(), 0);
    assert!(!app.aws.bucket_exists(&name).await);
}

#[tokio::test]
async fn a_stale_etag_that_persists_fails_the_delete_which_finishes_when_repeated() {
    let (app, w) = TestApp::spawn_websites().await;
    let name = site_name(&w, "stale");
    create_site(&app, &name).await;
    app.faults
        .fail_always("cloudfront:UpdateDistribution", PRECONDITION_FAILED);
    let r = app.delete(&app.websites(&format!("/{name}"))).await;
    r.assert_status(409);
    assert!(app.aws.bucket_exists(&name).await, "the bucket goes last");
    app.faults.clear();
    app.delete(&app.websites(&format!("/{name}")))
        .await
        .assert_status(200);
    assert!(!app.aws.bucket_exists(&name).await);
}

#[tokio::test]
async fn a_bucket_in_another_region_is_taken() {
    for fault in [ELSEWHERE, ELSEWHERE_REGIONAL] {
        let app = TestApp::spawn().await;
        let bucket = unique("elsewhere");
        app.faults.fail_once("s3:HeadBucket", fault);
        let r = app.post(&app.buckets(""), create_body(&bucket)).await;
        r.assert_status(409);
        assert_eq!(r.code(), "BucketAlreadyExists", "{fault:?}");
        assert_eq!(r.json()["rollback"]["complete"], true, "{}", r.text());
        assert_eq!(app.faults.count("s3:CreateBucket"), 0);
        assert_nothing_left(&app, &bucket).await;
    }

    let (app, w) = TestApp::spawn_websites().await;
    let name = site_name(&w, "elsewhere");
    app.faults.fail_once("s3:HeadBucket", ELSEWHERE);
    let r = app.post(&app.websites(""), seed_body(&name)).await;
    r.assert_status(409);
    assert_eq!(r.code(), "BucketAlreadyExists");
    assert_eq!(r.json()["rollback"]["complete"], true, "{}", r.text());
    assert_eq!(app.faults.count("cloudfront:CreateDistributionWithTags"), 0);
    assert_nothing_left(&app, &name).await;
    assert!(records(&app, &w, &name).await.is_empty());
}

/// Every S3 call on the bucket answers as S3 does for a bucket in another region.
fn move_away(app: &TestApp, fault: Fault) {
    for op in [
        "s3:HeadBucket",
        "s3:GetBucketTagging",
        "s3:GetBucketWebsite",
        "s3:GetBucketLogging",
        "s3:ListObjectVersions",
    ] {
        app.faults.fail_always(op, fault);
    }
}

#[tokio::test]
async fn head_show_and_delete_of_a_bucket_in_another_region_say_so() {
    let app = TestApp::spawn().await;
    let bucket = unique("moved");
    app.create_bucket(&bucket).await;
    for fault in [ELSEWHERE, ELSEWHERE_REGIONAL] {
        move_away(&app, fault);

        let r = app
            .request(Method::HEAD, &app.buckets(&format!("/{bucket}")), None)
            .await;
        r.assert_status(409);
        assert!(r.body.is_empty());

        let r = app.get(&app.buckets(&format!("/{bucket}"))).await;
        r.assert_status(409);
        assert_eq!(r.code(), "BucketInOtherRegion", "{fault:?}");
        if fault == ELSEWHERE {
            assert!(
                r.json()["detail"].as_str().unwrap().contains("eu-west-1"),
                "{}",
                r.text()
            );
        }

        let r = app.delete(&app.buckets(&format!("/{bucket}"))).await;
        r.assert_status(409);
        assert_eq!(r.code(), "BucketInOtherRegion", "{fault:?}");
        assert!(
            r.json()["detail"].as_str().unwrap().contains("eu-west-1"),
            "{}",
            r.text()
        );

        let r = app
            .post(
                &app.buckets(&format!("/{bucket}/users")),
                json!({"User": {"UserName": unique("u")}}),
            )
            .await;
        r.assert_status(409);
        assert_eq!(r.code(), "BucketInOtherRegion", "{fault:?}");

        // Nothing was deleted, and nothing made by the user create is left.
        app.faults.clear();
        assert!(app.aws.bucket_exists(&bucket).await);
        assert!(app.aws.group_exists(&format!("{bucket}-BktAdmGrp")).await);
        assert_eq!(
            app.aws.policy_names().await,
            vec![format!("{bucket}-BktAdmPlc")]
        );
        let users = app.aws.iam.list_users().send().await.unwrap();
        assert!(users.users().is_empty());
    }
}

/// The HeadBucket answer alone stops a delete: the other reads would not have said so on their own here.
#[tokio::test]
async fn a_delete_stops_at_the_head_bucket_redirect() {
    let app = TestApp::spawn().await;
    let bucket = unique("moved");
    app.create_bucket(&bucket).await;
    app.aws.settle().await;
    app.faults.clear_calls();
    app.faults.fail_always("s3:HeadBucket", ELSEWHERE);
    let r = app.delete(&app.buckets(&format!("/{bucket}"))).await;
    r.assert_status(409);
    assert_eq!(r.code(), "BucketInOtherRegion");
    let calls = app.faults.calls();
    assert!(
        !calls
            .iter()
            .any(|c| c.contains(":Delete") || c.contains(":Detach")),
        "{calls:?}"
    );
    assert!(app.aws.bucket_exists(&bucket).await);
    assert!(app.aws.group_exists(&format!("{bucket}-BktAdmGrp")).await);
}

#[tokio::test]
async fn a_website_in_another_region_says_so() {
    let (app, w) = TestApp::spawn_websites().await;
    let name = site_name(&w, "moved");
    create_site(&app, &name).await;
    move_away(&app, ELSEWHERE);
    let path = app.websites(&format!("/{name}"));

    app.request(Method::HEAD, &path, None)
        .await
        .assert_status(409);
    for r in [app.get(&path).await, app.delete(&path).await] {
        r.assert_status(409);
        assert_eq!(r.code(), "BucketInOtherRegion");
    }
    app.faults.clear();
    assert!(app.aws.bucket_exists(&name).await);
    assert_eq!(records(&app, &w, &name).await.len(), 2);
}

/// An EC P-256 certificate for `*.<domain>` and its key, made with Python's `cryptography` (moto's own
/// dependency): moto ignores `KeyAlgorithm` on a requested certificate, but keeps an imported one's key type.
fn ec_certificate(domain: &str) -> (String, String) {
    let script = r#"
import datetime, sys
from cryptography import x509
from cryptography.x509.oid import NameOID
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
domain = sys.argv[1]
key = ec.generate_private_key(ec.SECP256R1())
name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "*." + domain)])
now = datetime.datetime.now(datetime.timezone.utc)
cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
    .serial_number(x509.random_serial_number())
    .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=30))
    .add_extension(x509.SubjectAlternativeName([x509.DNSName("*." + domain), x509.DNSName(domain)]), critical=False)
    .sign(key, hashes.SHA256()))
sys.stdout.write(cert.public_bytes(serialization.Encoding.PEM).decode())
sys.stdout.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
    serialization.NoEncryption()).decode())
"#;
    let out = std::process::Command::new(crate::moto::python())
        .args(["-c", script, domain])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let pem = String::from_utf8(out.stdout).unwrap();
    let at = pem.find("-----BEGIN PRIVATE KEY-----").unwrap();
    (pem[..at].to_owned(), pem[at..].to_owned())
}

#[tokio::test]
async fn an_ec_certificate_is_found_and_used() {
    use aws_sdk_acm::types::{CertificateStatus, Filters, KeyAlgorithm};

    let (app, w) = TestApp::spawn_websites().await;
    // The domain's only certificate is an EC one.
    app.aws
        .acm
        .delete_certificate()
        .certificate_arn(&w.cert_arn)
        .send()
        .await
        .unwrap();
    let (cert, key) = ec_certificate(&w.domain);
    let imported = app
        .aws
        .acm
        .import_certificate()
        .certificate(aws_sdk_acm::primitives::Blob::new(cert))
        .private_key(aws_sdk_acm::primitives::Blob::new(key))
        .send()
        .await
        .unwrap();
    let ec_arn = imported.certificate_arn().unwrap().to_owned();

    // The emulator honours the key type filter, as ACM does: asked for RSA only, it hides the EC certificate.
    let listed = |types: Vec<KeyAlgorithm>| {
        let acm = app.aws.acm.clone();
        async move {
            acm.list_certificates()
                .certificate_statuses(CertificateStatus::Issued)
                .includes(Filters::builder().set_key_types(Some(types)).build())
                .send()
                .await
                .unwrap()
                .certificate_summary_list()
                .iter()
                .filter_map(|c| c.certificate_arn().map(str::to_owned))
                .collect::<Vec<_>>()
        }
    };
    assert!(listed(vec![KeyAlgorithm::Rsa1024, KeyAlgorithm::Rsa2048])
        .await
        .is_empty());
    assert_eq!(
        listed(vec![KeyAlgorithm::EcPrime256v1]).await,
        vec![ec_arn.clone()]
    );

    // Without a filter, though, the emulator lists every key type where ACM lists RSA-1024 and RSA-2048 only:
    // the request itself must name every key type.
    app.faults.capture("acm:ListCertificates");
    let name = site_name(&w, "ec");
    let created = create_site(&app, &name).await;
    let id = created["Distribution"]["Id"].as_str().unwrap();
    let config = app
        .aws
        .cloudfront
        .get_distribution_config()
        .id(id)
        .send()
        .await
        .unwrap();
    assert_eq!(
        config
            .distribution_config()
            .unwrap()
            .viewer_certificate()
            .unwrap()
            .acm_certificate_arn(),
        Some(ec_arn.as_str())
    );
    let bodies = app.faults.bodies("acm:ListCertificates");
    assert!(!bodies.is_empty());
    for body in &bodies {
        let request: serde_json::Value = serde_json::from_str(body).unwrap();
        let mut asked: Vec<&str> = request["Includes"]["keyTypes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k.as_str().unwrap())
            .collect();
        asked.sort_unstable();
        let mut every = s3_api::aws::acm::KEY_TYPES.to_vec();
        every.sort_unstable();
        assert_eq!(asked, every, "{body}");
    }
}

async fn turn_versioning_on(app: &TestApp, bucket: &str) {
    app.aws
        .s3
        .put_bucket_versioning()
        .bucket(bucket)
        .versioning_configuration(
            aws_sdk_s3::types::VersioningConfiguration::builder()
                .status(aws_sdk_s3::types::BucketVersioningStatus::Enabled)
                .build(),
        )
        .send()
        .await
        .unwrap();
}

/// Versioning turned on and the placeholder written again: two versions of it.
async fn version_the_placeholder(app: &TestApp, name: &str) {
    let s3 = &app.aws.s3;
    turn_versioning_on(app, name).await;
    let page = s3
        .get_object()
        .bucket(name)
        .key("index.html")
        .send()
        .await
        .unwrap()
        .body
        .collect()
        .await
        .unwrap()
        .into_bytes();
    s3.put_object()
        .bucket(name)
        .key("index.html")
        .content_type("text/html; charset=utf-8")
        .body(page.to_vec().into())
        .send()
        .await
        .unwrap();
    let versions = s3.list_object_versions().bucket(name).send().await.unwrap();
    assert_eq!(versions.versions().len(), 2);
}

#[tokio::test]
async fn a_website_delete_removes_every_version_of_its_placeholders() {
    let (app, w) = TestApp::spawn_websites().await;
    let name = site_name(&w, "versions");
    create_site(&app, &name).await;
    version_the_placeholder(&app, &name).await;
    let show = app.get(&app.websites(&format!("/{name}"))).await;
    show.assert_status(200);
    assert_eq!(show.json()["Empty"], true);

    app.delete(&app.websites(&format!("/{name}")))
        .await
        .assert_status(200);
    assert!(!app.aws.bucket_exists(&name).await);
    assert!(records(&app, &w, &name).await.is_empty());
}

#[tokio::test]
async fn a_website_delete_refuses_a_version_of_anything_else() {
    let (app, w) = TestApp::spawn_websites().await;
    let name = site_name(&w, "foreign");
    let id = create_site(&app, &name).await["Distribution"]["Id"]
        .as_str()
        .unwrap()
        .to_owned();
    version_the_placeholder(&app, &name).await;
    // Someone's page, since deleted: an old version and a delete marker remain.
    let s3 = &app.aws.s3;
    s3.put_object()
        .bucket(&name)
        .key("real.html")
        .body(b"hi".to_vec().into())
        .send()
        .await
        .unwrap();
    s3.delete_object()
        .bucket(&name)
        .key("real.html")
        .send()
        .await
        .unwrap();

    app.faults.clear_calls();
    let r = app.delete(&app.websites(&format!("/{name}"))).await;
    r.assert_status(409);
    assert_eq!(r.code(), "BucketNotEmpty");
    let calls = app.faults.calls();
    assert!(
        !calls.iter().any(|c| c.contains(":Delete")
            || c.contains(":Detach")
            || c.contains("ChangeResourceRecordSets")
            || c.contains("UpdateDistribution")),
        "{calls:?}"
    );
    assert!(app.aws.bucket_exists(&name).await);
    assert_eq!(records(&app, &w, &name).await.len(), 2);
    let versions = s3
        .list_object_versions()
        .bucket(&name)
        .send()
        .await
        .unwrap();
    assert_eq!(versions.versions().len(), 3);
    assert_eq!(versions.delete_markers().len(), 1);
    let config = app
        .aws
        .cloudfront
        .get_distribution_config()
        .id(&id)
        .send()
        .await
        .unwrap();
    assert!(config.distribution_config().unwrap().enabled());
}

/// Versioning on, and an object written and deleted: nothing is current, an old version and a delete marker
/// remain (and keep S3 from deleting the bucket). Returns their version ids.
async fn leave_an_old_version(app: &TestApp, bucket: &str, key: &str) -> [String; 2] {
    let s3 = &app.aws.s3;
    turn_versioning_on(app, bucket).await;
    let put = s3
        .put_object()
        .bucket(bucket)
        .key(key)
        .body(b"hi".to_vec().into())
        .send()
        .await
        .unwrap();
    let marker = s3
        .delete_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .unwrap();
    let listed = s3.list_objects_v2().bucket(bucket).send().await.unwrap();
    assert!(
        !listed.contents().iter().any(|o| o.key() == Some(key)),
        "{key} is no current object"
    );
    [
        put.version_id().unwrap().to_owned(),
        marker.version_id().unwrap().to_owned(),
    ]
}

/// Show's `Empty` and delete's 409 follow one rule: whatever show calls empty, delete deletes, and whatever
/// delete refuses, show does not call empty — old versions and delete markers included.
#[tokio::test]
async fn show_and_delete_agree_on_emptiness() {
    let (app, w) = TestApp::spawn_websites().await;
    let bucket = unique("versioned");
    app.create_bucket(&bucket).await;
    let site = site_name(&w, "versioned");
    create_site(&app, &site).await;
    for (path, key) in [
        (app.buckets(&format!("/{bucket}")), "data.csv"),
        (app.websites(&format!("/{site}")), "real.html"),
    ] {
        let name = path.rsplit('/').next().unwrap().to_owned();
        let show = app.get(&path).await;
        assert_eq!(show.json()["Empty"], true, "{path}: {}", show.text());

        let versions = leave_an_old_version(&app, &name, key).await;
        let show = app.get(&path).await;
        assert_eq!(show.json()["Empty"], false, "{path}: {}", show.text());
        let r = app.delete(&path).await;
        r.assert_status(409);
        assert_eq!(r.code(), "BucketNotEmpty");
        assert!(app.aws.bucket_exists(&name).await);

        // Taken away by its owner: empty, and deleted.
        for id in versions {
            app.aws
                .s3
                .delete_object()
                .bucket(&name)
                .key(key)
                .version_id(id)
                .send()
                .await
                .unwrap();
        }
        let show = app.get(&path).await;
        assert_eq!(show.json()["Empty"], true, "{path}: {}", show.text());
        app.delete(&path).await.assert_status(200);
        assert!(!app.aws.bucket_exists(&name).await, "{path}");
    }
}

#[tokio::test]
async fn the_cleaner_deletes_a_re_created_site_s_old_distribution() {
    let (app, w) = TestApp::spawn_websites().await;
    let name = site_name(&w, "again");
    let old = create_site(&app, &name).await["Distribution"]["Id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.delete(&app.websites(&format!("/{name}")))
        .await
        .assert_status(200);
    let current = create_site(&app, &name).await["Distribution"]["Id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_ne!(old, current);

    let ctx = app.state.ctx("test").unwrap();
    let report =
        s3_api::orchestration::cleaner::run_once(&ctx, std::time::Duration::from_secs(900))
            .await
            .unwrap();
    assert_eq!(report.deleted, vec![old.clone()]);
    assert!(report.failed.is_empty());
    let cf = &app.aws.cloudfront;
    assert!(cf.get_distribution().id(&old).send().await.is_err());
    let d = cf.get_distribution().id(&current).send().await.unwrap();
    assert!(d
        .distribution()
        .unwrap()
        .distribution_config()
        .unwrap()
        .enabled());
    let show = app.get(&app.websites(&format!("/{name}"))).await;
    show.assert_status(200);
    assert_eq!(show.json()["Distribution"]["Id"], current);

    // Disabled, the site's current distribution is still its own: a half-finished delete must find it.
    app.state.accounts["test"]
        .disable_distribution(&current)
        .await
        .unwrap();
    let report =
        s3_api::orchestration::cleaner::run_once(&ctx, std::time::Duration::from_secs(900))
            .await
            .unwrap();
    assert!(report.deleted.is_empty(), "{report:?}");
    assert!(cf.get_distribution().id(&current).send().await.is_ok());
}

/// A create whose answer was lost: the attempt did its work, the SDK retried, and the retry answers "already
/// exists" (S3: `BucketAlreadyOwnedByYou` outside us-east-1, where these tests run; answered here after the lost
/// answer). `[creating]` is the create's marker, `[BktAdmPlc]` the admin policy.
const LOST_BUCKET_CREATE_CALLS: &[&str] = &[
    "iam:CreatePolicy[creating]",
    "iam:CreatePolicy[BktAdmPlc]",
    "iam:CreateGroup",
    "s3:CreateBucket",
];

fn lose_the_answer(app: &TestApp, op: &str) {
    app.faults.fail_once(op, Fault::LostAnswer);
    if op == "s3:CreateBucket" {
        app.faults.fail_once(
            op,
            Fault::Service {
                status: 409,
                code: "BucketAlreadyOwnedByYou",
            },
        );
    }
}

#[tokio::test]
async fn a_create_whose_answer_was_lost_is_the_create_s_own() {
    let app = TestApp::spawn().await;
    for op in LOST_BUCKET_CREATE_CALLS {
        let bucket = unique("lost");
        lose_the_answer(&app, op);
        let r = app.post(&app.buckets(""), create_body(&bucket)).await;
        r.assert_status(202);
        assert!(app.faults.pending().is_empty(), "{op}: not reached");
        assert_fully_configured(&app, &bucket).await;
        app.aws.settle().await;
    }
}

#[tokio::test]
async fn a_create_whose_answer_was_lost_is_rolled_back_with_the_rest() {
    let app = TestApp::spawn().await;
    for op in LOST_BUCKET_CREATE_CALLS {
        let bucket = unique("lost-undone");
        lose_the_answer(&app, op);
        // A step that fails after everything else was made.
        app.faults.fail_always(
            "iam:AttachGroupPolicy",
            Fault::Service {
                status: 400,
                code: "InvalidInput",
            },
        );
        let r = app.post(&app.buckets(""), create_body(&bucket)).await;
        assert_eq!(r.json()["rollback"]["complete"], true, "{op}: {}", r.text());
        app.faults.clear();
        assert_nothing_left(&app, &bucket).await;
        assert!(app.aws.markers().await.is_empty(), "{op}: marker left");
    }
}

/// The lock protects only what is made after it was taken: a policy of the name made before is not adopted.
#[tokio::test]
async fn a_leftover_policy_of_the_name_is_still_a_conflict() {
    let app = TestApp::spawn().await;
    let bucket = unique("leftover");
    let policy = app
        .aws
        .iam
        .create_policy()
        .policy_name(format!("{bucket}-BktAdmPlc"))
        .policy_document(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*"}]}"#)
        .send()
        .await
        .unwrap();
    let arn = policy.policy().unwrap().arn().unwrap().to_owned();
    // The SDK's retry of a lost answer meets it: not this create's.
    lose_the_answer(&app, "iam:CreatePolicy[BktAdmPlc]");
    let r = app.post(&app.buckets(""), create_body(&bucket)).await;
    r.assert_status(409);
    assert!(app.aws.policy_exists(&arn).await, "the leftover is kept");
    assert!(!app.aws.bucket_exists(&bucket).await);
    assert!(app.aws.markers().await.is_empty());
}

#[tokio::test]
async fn a_user_create_whose_answer_was_lost_is_the_create_s_own() {
    let app = TestApp::spawn().await;
    let bucket = unique("lost-users");
    app.create_bucket(&bucket).await;
    for op in ["iam:CreatePolicy[creating]", "iam:CreateUser"] {
        let user = unique("lost");
        app.faults.fail_once(op, Fault::LostAnswer);
        let body = app.create_user(&bucket, &user, None).await;
        assert!(app.faults.pending().is_empty(), "{op}: not reached");
        assert_eq!(body["User"]["UserName"], user.as_str(), "{body}");
        assert_eq!(
            app.aws.groups_of(&user).await,
            vec![format!("{bucket}-BktAdmGrp")]
        );
        app.aws.settle().await;
    }
    // Undone with the rest when a later step fails: the user, and every key a retried CreateAccessKey made.
    for op in ["iam:CreateUser", "iam:CreateAccessKey"] {
        let user = unique("lost-undone");
        app.faults.fail_once(op, Fault::LostAnswer);
        app.faults.fail_always(
            "iam:AddUserToGroup",
            Fault::Service {
                status: 400,
                code: "InvalidInput",
            },
        );
        let r = app
            .post(
                &app.buckets(&format!("/{bucket}/users")),
                json!({"User": {"UserName": user}}),
            )
            .await;
        assert_eq!(r.json()["rollback"]["complete"], true, "{op}: {}", r.text());
        app.faults.clear();
        assert!(!app.aws.user_exists(&user).await, "{op}: user left");
        assert!(app.aws.markers().await.is_empty(), "{op}: marker left");
    }
}

/// A create that timed out may have taken effect: whatever the request made under its lock is undone all the
/// same.
#[tokio::test]
async fn a_create_that_timed_out_after_taking_effect_is_rolled_back() {
    let app = TestApp::spawn_with(|c| c.aws_timeout = Duration::from_millis(1500)).await;
    for op in [
        "iam:CreatePolicy[BktAdmPlc]",
        "iam:CreateGroup",
        "s3:CreateBucket",
    ] {
        let bucket = unique("late");
        app.faults.fail_once(op, Fault::AnswerNever);
        let r = app.post(&app.buckets(""), create_body(&bucket)).await;
        r.assert_status(504);
        assert_eq!(r.json()["rollback"]["complete"], true, "{op}: {}", r.text());
        assert_nothing_left(&app, &bucket).await;
        assert!(app.aws.markers().await.is_empty(), "{op}");
    }
}
