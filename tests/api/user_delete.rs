//! User delete, on every path that deletes users (the bucket and website user routes, bucket delete, website
//! delete): it removes everything that makes real IAM refuse `DeleteUser`, and a delete that failed at any step
//! finishes when repeated. moto deletes a user whatever it still has, so the tests read back what the service
//! removed (and which calls it made) rather than rely on the emulator refusing.

use axum::http::Method;
use serde_json::json;

use crate::faults::Fault;
use crate::helpers::{unique, TestApp, ORG};
use crate::websites::{create_site, site_name};

const DENIED: Fault = Fault::Service {
    status: 403,
    code: "AccessDenied",
};

/// Every AWS call a user route makes to delete a user that has everything `give_blockers` gives it.
const USER_DELETE_CALLS: &[&str] = &[
    "s3:GetBucketTagging",
    "s3:GetBucketWebsite",
    "iam:GetUser",
    "iam:ListAccessKeys",
    "iam:ListGroupsForUser",
    "iam:ListAttachedUserPolicies",
    "iam:ListUserPolicies",
    "iam:GetLoginProfile",
    "iam:ListMFADevices",
    "iam:ListSSHPublicKeys",
    "iam:ListSigningCertificates",
    "iam:ListServiceSpecificCredentials",
    "iam:DeleteAccessKey",
    "iam:RemoveUserFromGroup",
    "iam:DetachUserPolicy",
    "iam:DeleteUserPolicy",
    "iam:DeleteLoginProfile",
    "iam:DeactivateMFADevice",
    "iam:DeleteVirtualMFADevice",
    "iam:DeleteSSHPublicKey",
    "iam:DeleteSigningCertificate",
    "iam:DeleteServiceSpecificCredential",
    "iam:DeleteUser",
];

/// The IAM calls of `USER_DELETE_CALLS`: the steps bucket and website delete take for each of their users.
fn user_steps() -> impl Iterator<Item = &'static str> {
    USER_DELETE_CALLS
        .iter()
        .copied()
        .filter(|op| op.starts_with("iam:"))
}

/// A self-signed certificate, as IAM accepts for a user's signing certificate.
const SIGNING_CERTIFICATE: &str = "-----BEGIN CERTIFICATE-----
MIIBqzCCAVGgAwIBAgIUTZdlmB0qB/t3ibcCGe2CnadsibswCgYIKoZIzj0EAwIw
KjEoMCYGA1UEAwwfczMtYXBpIHRlc3Qgc2lnbmluZyBjZXJ0aWZpY2F0ZTAgFw0y
NjExMzAxMjQ5NDFaGA8yMTI2MTEwNjEyNDk0MVowKjEoMCYGA1UEAwwfczMtYXBp
IHRlc3Qgc2lnbmluZyBjZXJ0aWZpY2F0ZTBZMBMGByqGSM49AgEGCCqGSM49AwEH
A0IABIub5cP7CP4BkUSzCxtjTQnQyANuqYzVZwxVH/eJcnQWY5CACs8Kh8p9fIcO
y7Wh1wti30ymS0cFMqRspv++2PmjUzBRMB0GA1UdDgQWBBRVSwc0dQOPRyltb1nI
LF9zOCE+LDAfBgNVHSMEGDAWgBRVSwc0dQOPRyltb1nILF9zOCE+LDAPBgNVHRMB
Af8EBTADAQH/MAoGCCqGSM49BAMCA0gAMEUCIAuK5EkJ3MgZ1ms6rdbAb46DWJxA
iN3WApihda58BAzqAiEAyGuQYmMJSpWh35jk0BceVPmTW+6RmdesB3GFMKgjRvA=
-----END CERTIFICATE-----
";

const SSH_PUBLIC_KEY: &str =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEDn+CErTrRMeYgb6delzZUBWtPeHBUNitp3gbXdQNcY s3-api-test";

/// Gives `user`, directly in the emulator, everything besides keys and groups that makes real IAM refuse
/// `DeleteUser`: a managed policy attached to the user (`policy_arn`, one of the bucket's own, so that bucket
/// delete still counts the user as the bucket's alone), an inline policy, a console password, an enabled
/// virtual MFA device, an SSH key, a signing certificate and a service-specific credential. Returns the MFA
/// device's serial number.
async fn give_blockers(app: &TestApp, user: &str, policy_arn: &str) -> String {
    let iam = &app.aws.iam;
    iam.attach_user_policy()
        .user_name(user)
        .policy_arn(policy_arn)
        .send()
        .await
        .unwrap();
    let document = json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "s3:ListAllMyBuckets", "Resource": "*"}]});
    iam.put_user_policy()
        .user_name(user)
        .policy_name("extra")
        .policy_document(document.to_string())
        .send()
        .await
        .unwrap();
    iam.create_login_profile()
        .user_name(user)
        .password("Correct-Horse-Battery-9")
        .send()
        .await
        .unwrap();
    let device = iam
        .create_virtual_mfa_device()
        .virtual_mfa_device_name(format!("{user}-mfa"))
        .send()
        .await
        .unwrap();
    let serial = device
        .virtual_mfa_device()
        .unwrap()
        .serial_number()
        .to_owned();
    iam.enable_mfa_device()
        .user_name(user)
        .serial_number(&serial)
        .authentication_code1("123456")
        .authentication_code2("654321")
        .send()
        .await
        .unwrap();
    iam.upload_ssh_public_key()
        .user_name(user)
        .ssh_public_key_body(SSH_PUBLIC_KEY)
        .send()
        .await
        .unwrap();
    iam.upload_signing_certificate()
        .user_name(user)
        .certificate_body(SIGNING_CERTIFICATE)
        .send()
        .await
        .unwrap();
    iam.create_service_specific_credential()
        .user_name(user)
        .service_name("codecommit.amazonaws.com")
        .send()
        .await
        .unwrap();
    serial
}

/// Serial numbers of the account's virtual MFA devices.
async fn virtual_mfa_devices(app: &TestApp) -> Vec<String> {
    let out = app.aws.iam.list_virtual_mfa_devices().send().await.unwrap();
    out.virtual_mfa_devices()
        .iter()
        .map(|d| d.serial_number().to_owned())
        .collect()
}

/// The user is gone, and so is its virtual MFA device — unless `op` is the call that deletes the device: once
/// deactivated, the device is no longer listed for the user, so a repeat cannot find it.
async fn assert_user_gone(app: &TestApp, user: &str, serial: &str, op: &str) {
    assert!(!app.aws.user_exists(user).await, "{op}: the user is left");
    let devices = virtual_mfa_devices(app).await;
    if op == "iam:DeleteVirtualMFADevice" {
        assert!(devices.iter().any(|d| d == serial), "{op}");
    } else {
        assert!(
            !devices.iter().any(|d| d == serial),
            "{op}: the MFA device is left"
        );
    }
}

/// Tags of `user`, as (key, value).
async fn user_tags(app: &TestApp, user: &str) -> Vec<(String, String)> {
    let out = app
        .aws
        .iam
        .list_user_tags()
        .user_name(user)
        .send()
        .await
        .unwrap();
    let mut tags: Vec<(String, String)> = out
        .tags()
        .iter()
        .map(|t| (t.key().to_owned(), t.value().to_owned()))
        .collect();
    tags.sort();
    tags
}

/// Names of the account's groups and customer-managed policies that belong to `bucket`.
async fn iam_left_of(app: &TestApp, bucket: &str) -> Vec<String> {
    let mut left: Vec<String> = app.aws.group_names().await;
    left.extend(app.aws.policy_names().await);
    left.retain(|n| n.starts_with(bucket));
    left
}

#[tokio::test]
async fn users_are_created_with_their_bucket_recorded_on_them() {
    let app = TestApp::spawn().await;
    let bucket = unique("rec");
    app.create_bucket(&bucket).await;
    let user = unique("u");
    let created = app.create_user(&bucket, &user, None).await;
    let expected = vec![
        ("s3-api:bucket".to_owned(), bucket.clone()),
        ("spinup:org".to_owned(), ORG.to_owned()),
    ];
    assert_eq!(user_tags(&app, &user).await, expected);
    let mut shown: Vec<(String, String)> = created["User"]["Tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["Key"].as_str().unwrap().to_owned(),
                t["Value"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    shown.sort();
    assert_eq!(shown, expected);
}

#[tokio::test]
async fn the_test_covers_every_call_of_user_delete() {
    let app = TestApp::spawn().await;
    let bucket = unique("calls");
    app.create_bucket(&bucket).await;
    let user = unique("u");
    app.create_user(&bucket, &user, None).await;
    let serial = give_blockers(&app, &user, &app.policy_arn(&format!("{bucket}-BktAdmPlc"))).await;
    app.faults.clear_calls();
    app.delete(&app.buckets(&format!("/{bucket}/users/{user}")))
        .await
        .assert_status(200);
    app.assert_calls(USER_DELETE_CALLS);
    assert_user_gone(&app, &user, &serial, "").await;
}

#[tokio::test]
async fn a_bucket_user_delete_that_failed_at_any_step_finishes_when_repeated() {
    let app = TestApp::spawn().await;
    let bucket = unique("ud");
    app.create_bucket(&bucket).await;
    let policy = app.policy_arn(&format!("{bucket}-BktAdmPlc"));
    for op in USER_DELETE_CALLS {
        let user = unique("u");
        app.create_user(&bucket, &user, Some(&["BktAdmGrp", "BktRWGrp"]))
            .await;
        let serial = give_blockers(&app, &user, &policy).await;
        let path = app.buckets(&format!("/{bucket}/users/{user}"));

        app.faults.fail_once(op, DENIED);
        let r = app.delete(&path).await;
        assert!(!r.status.is_success(), "{op}: {}", r.text());
        app.faults.clear();

        let r = app.delete(&path).await;
        r.assert_status(200);
        assert_eq!(r.json()["User"], user.as_str(), "{op}");
        assert_user_gone(&app, &user, &serial, op).await;
        app.delete(&path).await.assert_status(404);
    }
    // The bucket's groups and policies stay.
    assert_eq!(iam_left_of(&app, &bucket).await.len(), 4);
}

#[tokio::test]
async fn a_website_user_delete_that_failed_at_any_step_finishes_when_repeated() {
    let (app, w) = TestApp::spawn_websites().await;
    let site = site_name(&w, "ud");
    create_site(&app, &site).await;
    let policy = app.policy_arn(&format!("{site}-BktAdmPlc"));
    for op in USER_DELETE_CALLS {
        let user = unique("u");
        app.post(
            &app.websites(&format!("/{site}/users")),
            json!({"User": {"UserName": user}}),
        )
        .await
        .assert_status(200);
        let serial = give_blockers(&app, &user, &policy).await;
        let path = app.websites(&format!("/{site}/users/{user}"));

        app.faults.fail_once(op, DENIED);
        let r = app.delete(&path).await;
        assert!(!r.status.is_success(), "{op}: {}", r.text());
        app.faults.clear();

        let r = app.delete(&path).await;
        r.assert_status(200);
        assert_eq!(
            r.json()["Groups"],
            json!([format!("{site}-BktAdmGrp"), format!("{site}-WebAdmGrp")]),
            "{op}"
        );
        assert_user_gone(&app, &user, &serial, op).await;
        app.delete(&path).await.assert_status(404);
    }
}

#[tokio::test]
async fn a_bucket_delete_that_failed_at_any_user_step_finishes_when_repeated() {
    let app = TestApp::spawn().await;
    for op in user_steps() {
        let bucket = unique("bd");
        app.create_bucket(&bucket).await;
        let (user, other) = (unique("u"), unique("o"));
        app.create_user(&bucket, &user, Some(&["BktAdmGrp", "BktRWGrp"]))
            .await;
        app.create_user(&bucket, &other, Some(&["BktROGrp"])).await;
        let serial =
            give_blockers(&app, &user, &app.policy_arn(&format!("{bucket}-BktAdmPlc"))).await;

        app.faults.clear_calls();
        app.faults.fail_once(op, DENIED);
        let r = app.delete(&app.buckets(&format!("/{bucket}"))).await;
        assert!(!r.status.is_success(), "{op}: {}", r.text());
        assert!(
            app.faults.calls().iter().any(|c| c == op),
            "{op} was not called"
        );
        app.faults.clear();

        app.delete(&app.buckets(&format!("/{bucket}")))
            .await
            .assert_status(200);
        assert_user_gone(&app, &user, &serial, op).await;
        assert!(!app.aws.user_exists(&other).await, "{op}");
        assert!(!app.aws.bucket_exists(&bucket).await, "{op}");
        assert_eq!(
            iam_left_of(&app, &bucket).await,
            Vec::<String>::new(),
            "{op}"
        );
    }
}

#[tokio::test]
async fn a_website_delete_that_failed_at_any_user_step_finishes_when_repeated() {
    let (app, w) = TestApp::spawn_websites().await;
    for op in user_steps() {
        let site = site_name(&w, "wd");
        create_site(&app, &site).await;
        let user = unique("u");
        app.post(
            &app.websites(&format!("/{site}/users")),
            json!({"User": {"UserName": user}}),
        )
        .await
        .assert_status(200);
        let serial =
            give_blockers(&app, &user, &app.policy_arn(&format!("{site}-BktAdmPlc"))).await;

        app.faults.clear_calls();
        app.faults.fail_once(op, DENIED);
        let r = app.delete(&app.websites(&format!("/{site}"))).await;
        assert!(!r.status.is_success(), "{op}: {}", r.text());
        assert!(
            app.faults.calls().iter().any(|c| c == op),
            "{op} was not called"
        );
        app.faults.clear();

        app.delete(&app.websites(&format!("/{site}")))
            .await
            .assert_status(200);
        assert_user_gone(&app, &user, &serial, op).await;
        assert!(!app.aws.bucket_exists(&site).await, "{op}");
        assert_eq!(iam_left_of(&app, &site).await, Vec::<String>::new(), "{op}");
    }
}

#[tokio::test]
async fn a_user_with_a_password_mfa_keys_and_certificates_is_deleted_by_every_path() {
    let app = TestApp::spawn().await;
    let bucket = unique("all");
    app.create_bucket(&bucket).await;
    let policy = app.policy_arn(&format!("{bucket}-BktAdmPlc"));
    let (by_route, by_bucket) = (unique("route"), unique("bucket"));
    app.create_user(&bucket, &by_route, None).await;
    app.create_user(&bucket, &by_bucket, Some(&["BktRWGrp"]))
        .await;
    let route_serial = give_blockers(&app, &by_route, &policy).await;
    let bucket_serial = give_blockers(&app, &by_bucket, &policy).await;

    app.faults.clear_calls();
    app.delete(&app.buckets(&format!("/{bucket}/users/{by_route}")))
        .await
        .assert_status(200);
    app.delete(&app.buckets(&format!("/{bucket}")))
        .await
        .assert_status(200);
    for (user, serial) in [(&by_route, &route_serial), (&by_bucket, &bucket_serial)] {
        assert_user_gone(&app, user, serial, "").await;
    }
    // Each of them had one of everything, and each of it was removed before the user was deleted.
    for op in [
        "iam:DeleteAccessKey",
        "iam:DeleteUserPolicy",
        "iam:DeleteLoginProfile",
        "iam:DeactivateMFADevice",
        "iam:DeleteVirtualMFADevice",
        "iam:DeleteSSHPublicKey",
        "iam:DeleteSigningCertificate",
        "iam:DeleteServiceSpecificCredential",
        "iam:DeleteUser",
    ] {
        assert_eq!(app.faults.count(op), 2, "{op}");
    }
}

#[tokio::test]
async fn a_user_that_already_left_its_groups_is_found_by_its_tag() {
    let app = TestApp::spawn().await;
    let bucket = unique("tag");
    app.create_bucket(&bucket).await;
    let user = unique("u");
    app.create_user(&bucket, &user, Some(&["BktAdmGrp", "BktRWGrp"]))
        .await;
    let path = app.buckets(&format!("/{bucket}/users/{user}"));

    // DeleteUser fails: the user is put back into its groups.
    app.faults.fail_once("iam:DeleteUser", DENIED);
    app.delete(&path).await.assert_status(403);
    assert_eq!(
        app.aws.groups_of(&user).await,
        vec![format!("{bucket}-BktAdmGrp"), format!("{bucket}-BktRWGrp")]
    );

    // DeleteUser fails and putting it back fails too: the user is in none of the bucket's groups.
    app.faults.fail_once("iam:DeleteUser", DENIED);
    app.faults.fail_always("iam:AddUserToGroup", DENIED);
    app.delete(&path).await.assert_status(403);
    app.faults.clear();
    assert!(app.aws.user_exists(&user).await);
    assert!(app.aws.groups_of(&user).await.is_empty());

    // The user routes still find it.
    let shown = app.get(&path).await;
    shown.assert_status(200);
    assert_eq!(shown.json()["Groups"], json!([]));
    let r = app.delete(&path).await;
    r.assert_status(200);
    assert_eq!(r.json()["Groups"], json!([]));
    assert!(!app.aws.user_exists(&user).await);
    app.delete(&path).await.assert_status(404);
}

#[tokio::test]
async fn the_tag_must_name_the_bucket_and_come_with_the_org_tag() {
    let app = TestApp::spawn().await;
    let (mine, theirs) = (unique("mine"), unique("theirs"));
    app.create_bucket(&mine).await;
    app.create_bucket(&theirs).await;
    let tag = |k: &str, v: &str| {
        aws_sdk_iam::types::Tag::builder()
            .key(k)
            .value(v)
            .build()
            .unwrap()
    };
    let cases = [
        (
            unique("other-bucket"),
            vec![tag("spinup:org", ORG), tag("s3-api:bucket", &theirs)],
        ),
        (unique("no-org"), vec![tag("s3-api:bucket", &mine)]),
        (
            unique("other-org"),
            vec![tag("spinup:org", "elsewhere"), tag("s3-api:bucket", &mine)],
        ),
    ];
    for (user, tags) in &cases {
        app.aws
            .iam
            .create_user()
            .user_name(user)
            .set_tags(Some(tags.clone()))
            .send()
            .await
            .unwrap();
        let path = app.buckets(&format!("/{mine}/users/{user}"));
        app.get(&path).await.assert_status(404);
        app.request(Method::PUT, &path, None)
            .await
            .assert_status(404);
        app.delete(&path).await.assert_status(404);
        assert!(app.aws.user_exists(user).await, "{user}");
        assert!(app.aws.keys_of(user).await.is_empty(), "{user}");
    }
}

#[tokio::test]
async fn a_member_made_before_users_were_tagged_is_tagged_before_it_is_taken_apart() {
    let app = TestApp::spawn().await;
    let bucket = unique("old");
    app.create_bucket(&bucket).await;
    // As the earlier service made users: no tags.
    let user = unique("legacy");
    app.aws
        .iam
        .create_user()
        .user_name(&user)
        .send()
        .await
        .unwrap();
    app.aws
        .iam
        .add_user_to_group()
        .user_name(&user)
        .group_name(format!("{bucket}-BktAdmGrp"))
        .send()
        .await
        .unwrap();
    app.aws
        .iam
        .create_access_key()
        .user_name(&user)
        .send()
        .await
        .unwrap();
    let path = app.buckets(&format!("/{bucket}/users/{user}"));
    app.get(&path).await.assert_status(200);

    app.faults.fail_once("iam:DeleteUser", DENIED);
    app.faults.fail_always("iam:AddUserToGroup", DENIED);
    app.delete(&path).await.assert_status(403);
    app.faults.clear();
    assert!(app.aws.groups_of(&user).await.is_empty());
    assert_eq!(
        user_tags(&app, &user).await,
        vec![
            ("s3-api:bucket".to_owned(), bucket.clone()),
            ("spinup:org".to_owned(), ORG.to_owned()),
        ]
    );

    app.delete(&path).await.assert_status(200);
    assert!(!app.aws.user_exists(&user).await);
}

#[tokio::test]
async fn a_user_that_bucket_delete_leaves_in_place_no_longer_names_the_bucket() {
    let app = TestApp::spawn().await;
    let (foo, bar) = (unique("foo"), unique("bar"));
    app.create_bucket(&foo).await;
    app.create_bucket(&bar).await;
    // Made for foo, and a member of bar's group as well.
    let shared = unique("shared");
    app.create_user(&foo, &shared, None).await;
    app.create_user(&bar, &unique("b"), Some(&["BktROGrp"]))
        .await;
    app.aws
        .iam
        .add_user_to_group()
        .user_name(&shared)
        .group_name(format!("{bar}-BktROGrp"))
        .send()
        .await
        .unwrap();

    app.delete(&app.buckets(&format!("/{foo}")))
        .await
        .assert_status(200);
    assert_eq!(
        app.aws.groups_of(&shared).await,
        vec![format!("{bar}-BktROGrp")]
    );
    assert_eq!(app.aws.keys_of(&shared).await.len(), 1);
    assert_eq!(
        user_tags(&app, &shared).await,
        vec![("spinup:org".to_owned(), ORG.to_owned())]
    );

    // A new bucket of the old name does not get the user.
    app.create_bucket(&foo).await;
    app.get(&app.buckets(&format!("/{foo}/users/{shared}")))
        .await
        .assert_status(404);
}
