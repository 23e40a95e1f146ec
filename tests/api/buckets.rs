//! Buckets: the routes' answers, and what they did in the emulator.

use axum::http::Method;
use futures::future::join_all;
use serde_json::{json, Value};

use crate::helpers::{moto_python_plist, unique, TestApp, ORG};

/// The seed's create body, with a fresh bucket name — and with `USD` for the seed's `$$$$`, which AWS refuses in a
/// tag value (see `the_seed_s_dollar_tag_is_refused_before_any_aws_call`).
fn seed_create_body(bucket: &str) -> Value {
    json!({
        "Tags": [
            {"Key": "Application", "Value": "HowToGet"},
            {"Key": "COA", "Value": "Take.My.Money.USD"},
            {"Key": "CreatedBy", "Value": "Big Bird"}
        ],
        "Lifecycle": "deep-archive",
        "BucketInput": {"Bucket": bucket}
    })
}

fn sorted_tags(v: &Value) -> Vec<(String, String)> {
    let mut tags: Vec<(String, String)> = v
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
    tags.sort();
    tags
}

#[tokio::test]
async fn create_with_the_seed_body_sets_up_the_bucket_and_its_admin_group() {
    let app = TestApp::spawn().await;
    let bucket = unique("seed");
    let r = app.post(&app.buckets(""), seed_create_body(&bucket)).await;
    r.assert_status(202);
    // Where what was made is shown.
    let location = r.headers["location"].to_str().unwrap().to_owned();
    assert_eq!(location, format!("/v1/s3/test/buckets/{bucket}"));
    app.get(&location).await.assert_status(200);
    let body = r.json();
    assert_eq!(body["Bucket"], format!("/{bucket}"));
    let policy_name = format!("{bucket}-BktAdmPlc");
    let group_name = format!("{bucket}-BktAdmGrp");
    assert_eq!(body["Policy"]["PolicyName"], policy_name);
    assert_eq!(body["Policy"]["Arn"], app.policy_arn(&policy_name));
    assert_eq!(body["Policy"]["AttachmentCount"], 1);
    assert_eq!(
        body["Policy"]["Description"],
        format!("Admin policy for {bucket} bucket")
    );
    assert_eq!(body["Group"]["GroupName"], group_name);
    assert!(body["Group"]["CreateDate"].as_str().unwrap().ends_with('Z'));

    let s3 = &app.aws.s3;
    let tags = s3
        .get_bucket_tagging()
        .bucket(&bucket)
        .send()
        .await
        .unwrap();
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
            ("COA".into(), "Take.My.Money.USD".into()),
            ("CreatedBy".into(), "Big Bird".into()),
            ("spinup:org".into(), ORG.into()),
        ]
    );

    let enc = s3
        .get_bucket_encryption()
        .bucket(&bucket)
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
        app.aws.public_access_flags(&bucket).await,
        (true, true, true, true)
    );

    let own = s3
        .get_bucket_ownership_controls()
        .bucket(&bucket)
        .send()
        .await
        .unwrap();
    assert_eq!(
        own.ownership_controls().unwrap().rules()[0].object_ownership(),
        &aws_sdk_s3::types::ObjectOwnership::BucketOwnerEnforced
    );

    let logging = s3
        .get_bucket_logging()
        .bucket(&bucket)
        .send()
        .await
        .unwrap();
    let logging = logging.logging_enabled().unwrap();
    assert_eq!(logging.target_bucket(), app.log_bucket);
    assert_eq!(logging.target_prefix(), format!("s3/{bucket}/"));

    let lifecycle = s3
        .get_bucket_lifecycle_configuration()
        .bucket(&bucket)
        .send()
        .await
        .unwrap();
    let rule = &lifecycle.rules()[0];
    assert_eq!(rule.status(), &aws_sdk_s3::types::ExpirationStatus::Enabled);
    let transition = &rule.transitions()[0];
    assert_eq!(transition.days(), Some(1));
    assert_eq!(
        transition.storage_class(),
        Some(&aws_sdk_s3::types::TransitionStorageClass::DeepArchive)
    );

    let doc = app.aws.policy_document(&app.policy_arn(&policy_name)).await;
    let statements = doc["Statement"].as_array().unwrap();
    assert_eq!(statements.len(), 2);
    assert_eq!(statements[0]["Action"].as_array().unwrap().len(), 43);
    assert_eq!(
        statements[0]["Resource"],
        json!([format!("arn:aws:s3:::{bucket}")])
    );
    assert_eq!(statements[1]["Action"], json!(["s3:*"]));
    assert_eq!(
        statements[1]["Resource"],
        json!([format!("arn:aws:s3:::{bucket}/*")])
    );

    assert_eq!(
        app.aws.group_policies(&group_name).await,
        vec![app.policy_arn(&policy_name)]
    );
}

#[tokio::test]
async fn list_show_head_and_update() {
    let app = TestApp::spawn().await;
    let (a, b) = (unique("list-a"), unique("list-b"));
    app.create_bucket(&b).await;
    app.post(&app.buckets(""), seed_create_body(&a))
        .await
        .assert_status(202);

    let list = app.get(&app.buckets("")).await;
    list.assert_status(200);
    let names: Vec<String> = serde_json::from_value(list.json()).unwrap();
    let ours: Vec<&String> = names.iter().filter(|n| **n == a || **n == b).collect();
    assert_eq!(ours, vec![&a, &b], "sorted: {names:?}");

    let show = app.get(&app.buckets(&format!("/{a}"))).await;
    show.assert_status(200);
    let v = show.json();
    assert_eq!(v["Empty"], true);
    assert_eq!(v["Logging"]["TargetBucket"], app.log_bucket);
    assert_eq!(v["Logging"]["TargetPrefix"], format!("s3/{a}/"));
    assert_eq!(v["Logging"]["TargetGrants"], Value::Null);
    assert_eq!(sorted_tags(&v["Tags"]).len(), 4);

    app.aws
        .s3
        .put_object()
        .bucket(&a)
        .key("x.txt")
        .body(b"x".to_vec().into())
        .send()
        .await
        .unwrap();
    assert_eq!(
        app.get(&app.buckets(&format!("/{a}"))).await.json()["Empty"],
        false
    );

    let head = app
        .request(Method::HEAD, &app.buckets(&format!("/{a}")), None)
        .await;
    head.assert_status(200);
    assert!(head.body.is_empty());
    let missing = unique("missing");
    let head = app
        .request(Method::HEAD, &app.buckets(&format!("/{missing}")), None)
        .await;
    head.assert_status(404);
    assert!(head.body.is_empty());
    app.get(&app.buckets(&format!("/{missing}")))
        .await
        .assert_status(404);

    // Tags replace the caller's tags; the org tag stays.
    let r = app
        .put(
            &app.buckets(&format!("/{a}")),
            json!({"Tags": [{"Key": "Owner", "Value": "Oscar"}]}),
        )
        .await;
    r.assert_status(200);
    assert_eq!(
        sorted_tags(&r.json()["Tags"]),
        vec![
            ("Owner".into(), "Oscar".into()),
            ("spinup:org".into(), ORG.into())
        ]
    );

    // A policy-only update leaves the tags alone.
    let policy = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Principal": "*",
        "Action": "s3:DeleteBucket", "Resource": format!("arn:aws:s3:::{a}")}]});
    let r = app
        .put(
            &app.buckets(&format!("/{a}")),
            json!({"BucketPolicy": policy.to_string()}),
        )
        .await;
    r.assert_status(200);
    assert_eq!(sorted_tags(&r.json()["Tags"]).len(), 2);
    let stored = app
        .aws
        .s3
        .get_bucket_policy()
        .bucket(&a)
        .send()
        .await
        .unwrap();
    let stored: Value = serde_json::from_str(stored.policy().unwrap()).unwrap();
    assert_eq!(stored["Statement"][0]["Effect"], "Deny");
    // Show reads it back in the form PUT takes it: a JSON document as a string.
    let shown = app.get(&app.buckets(&format!("/{a}"))).await.json();
    let shown: Value = serde_json::from_str(shown["BucketPolicy"].as_str().unwrap()).unwrap();
    assert_eq!(shown, policy);
    let none = app.get(&app.buckets(&format!("/{b}"))).await.json();
    assert_eq!(none["BucketPolicy"], Value::Null, "{none}");

    app.put(&app.buckets(&format!("/{a}")), json!({}))
        .await
        .assert_status(400);
    app.put(
        &app.buckets(&format!("/{a}")),
        json!({"BucketPolicy": "not json"}),
    )
    .await
    .assert_status(400);
    app.put(
        &app.buckets(&format!("/{a}")),
        json!({"BucketPolicy": "{\"Version\": 1}"}),
    )
    .await
    .assert_status(400);
    app.put(&app.buckets(&format!("/{missing}")), json!({"Tags": []}))
        .await
        .assert_status(404);
}

#[tokio::test]
async fn delete_removes_the_bucket_its_groups_policies_and_users() {
    let app = TestApp::spawn().await;
    let bucket = unique("del");
    app.create_bucket(&bucket).await;
    let (admin, reader) = (unique("adm"), unique("ro"));
    app.create_user(&bucket, &admin, None).await;
    app.create_user(&bucket, &reader, Some(&["BktROGrp", "BktRWGrp"]))
        .await;

    app.aws
        .s3
        .put_object()
        .bucket(&bucket)
        .key("k")
        .body(b"x".to_vec().into())
        .send()
        .await
        .unwrap();
    let r = app.delete(&app.buckets(&format!("/{bucket}"))).await;
    r.assert_status(409);
    assert_eq!(r.code(), "BucketNotEmpty");
    assert!(
        app.aws.user_exists(&admin).await,
        "nothing is deleted when the bucket is not empty"
    );
    app.aws
        .s3
        .delete_object()
        .bucket(&bucket)
        .key("k")
        .send()
        .await
        .unwrap();

    let r = app.delete(&app.buckets(&format!("/{bucket}"))).await;
    r.assert_status(200);
    let v = r.json();
    assert_eq!(v["Bucket"], bucket);
    let mut users: Vec<String> = serde_json::from_value(v["Users"].clone()).unwrap();
    users.sort();
    let mut expected = vec![admin.clone(), reader.clone()];
    expected.sort();
    assert_eq!(users, expected);
    assert_eq!(v["Groups"].as_array().unwrap().len(), 3);
    assert_eq!(v["Policies"].as_array().unwrap().len(), 3);

    assert!(!app.aws.bucket_exists(&bucket).await);
    for kind in ["Adm", "RW", "RO"] {
        assert!(
            !app.aws
                .group_exists(&format!("{bucket}-Bkt{kind}Grp"))
                .await
        );
        assert!(
            !app.aws
                .policy_exists(&app.policy_arn(&format!("{bucket}-Bkt{kind}Plc")))
                .await
        );
    }
    assert!(!app.aws.user_exists(&admin).await);
    assert!(!app.aws.user_exists(&reader).await);

    let again = app.delete(&app.buckets(&format!("/{bucket}"))).await;
    again.assert_status(404);
    assert_eq!(again.code(), "BucketNotFound");
}

#[tokio::test]
async fn deleting_foo_leaves_foox_and_shared_users_alone() {
    let app = TestApp::spawn().await;
    let foo = unique("foo");
    let foox = format!("{foo}x");
    app.create_bucket(&foo).await;
    app.create_bucket(&foox).await;
    let foo_user = unique("fu");
    let foox_user = unique("fxu");
    let shared = unique("shared");
    app.create_user(&foo, &foo_user, None).await;
    app.create_user(&foox, &foox_user, Some(&["BktRWGrp"]))
        .await;
    app.create_user(&foox, &shared, Some(&["BktROGrp"])).await;
    // The shared user joins foo's group as well.
    app.aws
        .iam
        .add_user_to_group()
        .user_name(&shared)
        .group_name(format!("{foo}-BktAdmGrp"))
        .send()
        .await
        .unwrap();

    app.delete(&app.buckets(&format!("/{foo}")))
        .await
        .assert_status(200);

    assert!(app.aws.bucket_exists(&foox).await);
    assert!(app.aws.group_exists(&format!("{foox}-BktAdmGrp")).await);
    assert!(app.aws.group_exists(&format!("{foox}-BktRWGrp")).await);
    assert!(
        app.aws
            .policy_exists(&app.policy_arn(&format!("{foox}-BktAdmPlc")))
            .await
    );
    assert_eq!(
        app.aws.groups_of(&foox_user).await,
        vec![format!("{foox}-BktRWGrp")]
    );
    assert_eq!(app.aws.keys_of(&foox_user).await.len(), 1);
    // The shared user lost only its membership of foo's group, and kept its key.
    assert_eq!(
        app.aws.groups_of(&shared).await,
        vec![format!("{foox}-BktROGrp")]
    );
    assert_eq!(app.aws.keys_of(&shared).await.len(), 1);
    assert!(!app.aws.user_exists(&foo_user).await);
}

#[tokio::test]
async fn sixteen_concurrent_creates_of_one_name_make_one_bucket() {
    let app = TestApp::spawn().await;
    let bucket = unique("race");
    let path = app.buckets("");
    let responses = join_all((0..16).map(|_| app.post(&path, seed_create_body(&bucket)))).await;
    let statuses: Vec<u16> = responses.iter().map(|r| r.status.as_u16()).collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 202).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 409).count(),
        15,
        "{statuses:?}"
    );

    assert!(app.aws.bucket_exists(&bucket).await);
    let group = format!("{bucket}-BktAdmGrp");
    let policy = app.policy_arn(&format!("{bucket}-BktAdmPlc"));
    assert!(app.aws.policy_exists(&policy).await);
    assert_eq!(app.aws.group_policies(&group).await, vec![policy]);
    let show = app.get(&app.buckets(&format!("/{bucket}"))).await.json();
    assert_eq!(sorted_tags(&show["Tags"]).len(), 4);
}

#[tokio::test]
async fn creating_an_existing_bucket_is_a_conflict_that_changes_nothing() {
    let app = TestApp::spawn().await;
    let bucket = unique("exists");
    // A bucket made outside the service: the service must not adopt or touch it.
    app.aws
        .s3
        .create_bucket()
        .bucket(&bucket)
        .send()
        .await
        .unwrap();
    let r = app.post(&app.buckets(""), seed_create_body(&bucket)).await;
    r.assert_status(409);
    assert_eq!(r.code(), "BucketAlreadyExists");
    assert!(app.aws.bucket_exists(&bucket).await);
    assert!(
        !app.aws
            .policy_exists(&app.policy_arn(&format!("{bucket}-BktAdmPlc")))
            .await
    );
    assert!(app.aws.policy_names().await.is_empty());

    // A bucket of another account: the name is taken all the same.
    let other = TestApp::spawn().await;
    let r = other
        .post(&other.buckets(""), seed_create_body(&bucket))
        .await;
    r.assert_status(409);
    assert!(other.aws.policy_names().await.is_empty());
}

#[tokio::test]
async fn invalid_requests_are_refused_before_any_aws_call() {
    let app = TestApp::spawn().await;
    let long = "a".repeat(10_000);
    let bad_names = [
        "ab",
        "UPPER",
        "under_score",
        "a..b",
        "192.168.0.1",
        "xn--punycode",
        "ends-s3alias",
        "quo\"te",
        "star*",
        "sl/ash",
        "dot.",
        "ünïcode",
        "b\",\"Resource\":\"*",
        long.as_str(),
    ];
    for name in bad_names {
        let r = app
            .post(&app.buckets(""), json!({"BucketInput": {"Bucket": name}}))
            .await;
        r.assert_status(400);
        assert_eq!(r.code(), "InvalidBucketName", "{name}");
    }
    let valid = unique("valid");
    let cases = [
        (
            json!({"BucketInput": {"Bucket": valid}, "Lifecycle": "forever"}),
            "InvalidRequestBody",
        ),
        (
            json!({"BucketInput": {"Bucket": valid}, "Tag": []}),
            "InvalidRequestBody",
        ),
        (
            json!({"BucketInput": {"Bucket": valid, "ACL": "public-read"}}),
            "InvalidRequestBody",
        ),
        (json!({"Tags": []}), "InvalidRequestBody"),
        (
            json!({"BucketInput": {"Bucket": valid}, "Tags": [{"Key": "aws:x", "Value": "v"}]}),
            "InvalidTag",
        ),
        (
            json!({"BucketInput": {"Bucket": valid}, "Tags": [{"Key": "spinup:org", "Value": "v"}]}),
            "ReservedTag",
        ),
        (
            json!({"BucketInput": {"Bucket": valid}, "Tags": [{"Key": "s3-api:distribution", "Value": "E1"}]}),
            "ReservedTag",
        ),
        (
            json!({"BucketInput": {"Bucket": valid}, "Tags": [{"Key": "COA", "Value": "Take.My.Money.$$$$"}]}),
            "InvalidTag",
        ),
        (
            json!({"BucketInput": {"Bucket": valid}, "Tags": [{"Key": "", "Value": "v"}]}),
            "InvalidTag",
        ),
        (
            json!({"BucketInput": {"Bucket": valid}, "Tags": [{"Key": "a"}, {"Key": "a"}]}),
            "InvalidTag",
        ),
        (
            json!({"BucketInput": {"Bucket": valid}, "Tags": [{"Key": "k", "Value": "v", "X": 1}]}),
            "InvalidRequestBody",
        ),
    ];
    for (body, code) in cases {
        let r = app.post(&app.buckets(""), body.clone()).await;
        r.assert_status(400);
        assert_eq!(r.code(), code, "{body}");
    }
    let too_many: Vec<Value> = (0..50)
        .map(|i| json!({"Key": format!("k{i}"), "Value": "v"}))
        .collect();
    let r = app
        .post(
            &app.buckets(""),
            json!({"BucketInput": {"Bucket": valid}, "Tags": too_many}),
        )
        .await;
    r.assert_status(400);

    for raw in [&b"{"[..], b"not json", b"", b"[]"] {
        let r = app
            .raw(
                Method::POST,
                &app.buckets(""),
                Some(crate::helpers::TOKEN),
                raw.to_vec(),
            )
            .await;
        r.assert_status(400);
    }
    let r = app
        .raw(
            Method::POST,
            &app.buckets(""),
            Some(crate::helpers::TOKEN),
            b"{\"BucketInput\":".to_vec(),
        )
        .await;
    assert_eq!(r.code(), "MalformedJson");

    // Names in the path are checked too.
    app.get(&app.buckets("/Not_A_Bucket"))
        .await
        .assert_status(400);
    app.delete(&app.buckets("/Not_A_Bucket"))
        .await
        .assert_status(400);

    assert!(
        app.faults.calls().is_empty(),
        "AWS was called: {:?}",
        app.faults.calls()
    );
}

#[tokio::test]
async fn cyberduck_bookmark() {
    let app = TestApp::spawn().await;
    let bucket = unique("duck");
    app.create_bucket(&bucket).await;
    let r = app
        .get(&app.buckets(&format!("/{bucket}/duck?path=/team/docs/")))
        .await;
    r.assert_status(200);
    assert_eq!(r.headers["content-type"], "application/xml");
    assert_eq!(
        r.headers["content-disposition"],
        format!("attachment; filename=\"{bucket}.duck\"").as_str()
    );
    let parsed = moto_python_plist(&r.body);
    assert_eq!(parsed["Protocol"], "s3");
    assert_eq!(parsed["Provider"], "iterate GmbH");
    let moto_port = crate::moto::endpoint().rsplit(':').next().unwrap();
    assert_eq!(
        parsed["Port"], moto_port,
        "the port is a string, as Cyberduck writes it"
    );
    assert_eq!(parsed["Hostname"], "127.0.0.1");
    assert_eq!(parsed["Path"], format!("/{bucket}/team/docs"));
    assert_eq!(parsed["Nickname"], format!("{ORG} - {bucket}/team/docs"));
    assert_eq!(parsed["Web URL"], format!("s3://{bucket}/"));
    assert!(parsed["UUID"].as_str().is_some_and(|u| u.len() == 36));
    assert!(!r.text().to_lowercase().contains("secret"));

    let plain = app.get(&app.buckets(&format!("/{bucket}/duck"))).await;
    assert_eq!(moto_python_plist(&plain.body)["Path"], format!("/{bucket}"));
    app.get(&app.buckets(&format!("/{bucket}/duck?path=/a/../b/")))
        .await
        .assert_status(400);
    app.get(&app.buckets(&format!("/{}/duck", unique("nope"))))
        .await
        .assert_status(404);
}

#[tokio::test]
async fn a_hundred_concurrent_creates_of_different_buckets_all_succeed() {
    let app = TestApp::spawn().await;
    let names: Vec<String> = (0..100).map(|i| unique(&format!("many{i}"))).collect();
    let path = app.buckets("");
    let responses = join_all(
        names
            .iter()
            .map(|n| app.post(&path, json!({"BucketInput": {"Bucket": n}}))),
    )
    .await;
    for (name, r) in names.iter().zip(&responses) {
        assert_eq!(r.status.as_u16(), 202, "{name}: {}", r.text());
    }
    assert_eq!(app.aws.group_names().await.len(), 100);
}
