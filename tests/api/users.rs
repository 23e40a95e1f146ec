//! Bucket users: create, list, show, reset keys, delete — and that only the bucket's users are reachable.

use axum::http::Method;
use serde_json::json;

use crate::helpers::{unique, TestApp};

#[tokio::test]
async fn create_with_the_seed_body_joins_the_admin_group_with_one_key() {
    let app = TestApp::spawn().await;
    let bucket = unique("users");
    app.create_bucket(&bucket).await;
    let user = unique("somebucketuser");
    let r = app
        .post(
            &app.buckets(&format!("/{bucket}/users")),
            json!({"User": {"UserName": user}}),
        )
        .await;
    r.assert_status(200);
    assert_eq!(r.headers["cache-control"], "no-store");
    let v = r.json();
    assert_eq!(v["User"]["UserName"], user);
    assert_eq!(
        v["User"]["Arn"],
        format!("arn:aws:iam::{}:user/{user}", app.account_id)
    );
    assert_eq!(v["User"]["PasswordLastUsed"], serde_json::Value::Null);
    assert_eq!(v["User"]["Path"], "/");
    assert_eq!(v["AccessKey"]["UserName"], user);
    assert_eq!(v["AccessKey"]["Status"], "Active");
    assert!(v["AccessKey"]["SecretAccessKey"]
        .as_str()
        .is_some_and(|s| s.len() >= 20));
    let key_id = v["AccessKey"]["AccessKeyId"].as_str().unwrap().to_owned();

    assert_eq!(
        app.aws.groups_of(&user).await,
        vec![format!("{bucket}-BktAdmGrp")]
    );
    assert_eq!(app.aws.keys_of(&user).await, vec![key_id]);

    let again = app
        .post(
            &app.buckets(&format!("/{bucket}/users")),
            json!({"User": {"UserName": user}}),
        )
        .await;
    again.assert_status(409);
    assert_eq!(again.code(), "UserAlreadyExists");
    assert_eq!(
        app.aws.keys_of(&user).await.len(),
        1,
        "the existing user is left as it was"
    );
}

#[tokio::test]
async fn read_write_and_read_only_groups_are_made_on_first_use() {
    let app = TestApp::spawn().await;
    let bucket = unique("rwro");
    app.create_bucket(&bucket).await;
    let rw = unique("writer");
    app.create_user(&bucket, &rw, Some(&["BktRWGrp", "BktROGrp"]))
        .await;
    assert_eq!(
        app.aws.groups_of(&rw).await,
        vec![format!("{bucket}-BktROGrp"), format!("{bucket}-BktRWGrp")]
    );
    let rw_policy = app.policy_arn(&format!("{bucket}-BktRWPlc"));
    let ro_policy = app.policy_arn(&format!("{bucket}-BktROPlc"));
    assert_eq!(
        app.aws.group_policies(&format!("{bucket}-BktRWGrp")).await,
        vec![rw_policy.clone()]
    );
    assert_eq!(
        app.aws.group_policies(&format!("{bucket}-BktROGrp")).await,
        vec![ro_policy.clone()]
    );
    let ro = app.aws.policy_document(&ro_policy).await.to_string();
    assert!(
        ro.contains("s3:GetObject") && !ro.contains("s3:PutObject"),
        "{ro}"
    );
    let rwdoc = app.aws.policy_document(&rw_policy).await.to_string();
    assert!(
        rwdoc.contains("s3:PutObject") && rwdoc.contains(&format!("arn:aws:s3:::{bucket}/*")),
        "{rwdoc}"
    );

    // A second user reuses the groups.
    let reader = unique("reader");
    app.create_user(&bucket, &reader, Some(&["BktROGrp"])).await;
    assert_eq!(
        app.aws.groups_of(&reader).await,
        vec![format!("{bucket}-BktROGrp")]
    );

    // Two concurrent creates that both find the group missing both succeed.
    let other = unique("lazy");
    app.create_bucket(&other).await;
    let (a, b) = (unique("a"), unique("b"));
    let path = app.buckets(&format!("/{other}/users"));
    let (ra, rb) = tokio::join!(
        app.post(
            &path,
            json!({"User": {"UserName": a}, "Groups": ["BktRWGrp"]})
        ),
        app.post(
            &path,
            json!({"User": {"UserName": b}, "Groups": ["BktRWGrp"]})
        ),
    );
    ra.assert_status(200);
    rb.assert_status(200);
    assert_eq!(
        app.aws.groups_of(&a).await,
        vec![format!("{other}-BktRWGrp")]
    );
    assert_eq!(
        app.aws.groups_of(&b).await,
        vec![format!("{other}-BktRWGrp")]
    );
    assert_eq!(
        app.aws.group_policies(&format!("{other}-BktRWGrp")).await,
        vec![app.policy_arn(&format!("{other}-BktRWPlc"))]
    );
}

#[tokio::test]
async fn list_show_reset_and_delete() {
    let app = TestApp::spawn().await;
    let bucket = unique("crud");
    app.create_bucket(&bucket).await;
    let (u1, u2) = (unique("u1"), unique("u2"));
    app.create_user(&bucket, &u2, Some(&["BktROGrp"])).await;
    let created = app
        .create_user(&bucket, &u1, Some(&["BktAdmGrp", "BktRWGrp"]))
        .await;
    let first_key = created["AccessKey"]["AccessKeyId"]
        .as_str()
        .unwrap()
        .to_owned();

    let list = app.get(&app.buckets(&format!("/{bucket}/users"))).await;
    list.assert_status(200);
    let names: Vec<String> = list
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["UserName"].as_str().unwrap().to_owned())
        .collect();
    let mut expected = vec![u1.clone(), u2.clone()];
    expected.sort();
    assert_eq!(names, expected, "each user once, sorted by name");

    let show = app
        .get(&app.buckets(&format!("/{bucket}/users/{u1}")))
        .await;
    show.assert_status(200);
    let v = show.json();
    assert_eq!(v["User"]["UserName"], u1);
    assert_eq!(v["AccessKeys"][0]["AccessKeyId"], first_key);
    assert!(v["AccessKeys"][0].get("SecretAccessKey").is_none());
    let groups: Vec<&str> = v["Groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["GroupName"].as_str().unwrap())
        .collect();
    assert_eq!(groups.len(), 2);
    let policies: Vec<&str> = v["Policies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["PolicyName"].as_str().unwrap())
        .collect();
    assert!(
        policies.contains(&format!("{bucket}-BktAdmPlc").as_str()),
        "{policies:?}"
    );
    assert!(
        policies.contains(&format!("{bucket}-BktRWPlc").as_str()),
        "{policies:?}"
    );

    // Reset with one key: a new key, the old one deleted.
    let r = app
        .request(
            Method::PUT,
            &app.buckets(&format!("/{bucket}/users/{u1}")),
            None,
        )
        .await;
    r.assert_status(200);
    assert_eq!(r.headers["cache-control"], "no-store");
    let v = r.json();
    assert_eq!(v["DeletedKeyIds"], json!([first_key]));
    let second_key = v["AccessKey"]["AccessKeyId"].as_str().unwrap().to_owned();
    assert!(v["AccessKey"]["SecretAccessKey"].is_string());
    assert_eq!(app.aws.keys_of(&u1).await, vec![second_key.clone()]);

    // Reset with two keys (the limit): the oldest goes first, then the other old one.
    let extra = app
        .aws
        .iam
        .create_access_key()
        .user_name(&u1)
        .send()
        .await
        .unwrap();
    let extra_id = extra.access_key().unwrap().access_key_id().to_owned();
    let r = app
        .request(
            Method::PUT,
            &app.buckets(&format!("/{bucket}/users/{u1}")),
            None,
        )
        .await;
    r.assert_status(200);
    let v = r.json();
    let deleted: Vec<&str> = v["DeletedKeyIds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k.as_str().unwrap())
        .collect();
    assert_eq!(deleted.len(), 2);
    assert!(deleted.contains(&second_key.as_str()) && deleted.contains(&extra_id.as_str()));
    let newest = v["AccessKey"]["AccessKeyId"].as_str().unwrap();
    assert_eq!(app.aws.keys_of(&u1).await, vec![newest.to_owned()]);

    // Delete: keys, memberships, the user.
    let r = app
        .delete(&app.buckets(&format!("/{bucket}/users/{u1}")))
        .await;
    r.assert_status(200);
    let v = r.json();
    assert_eq!(v["User"], u1);
    assert_eq!(v["DeletedKeyIds"], json!([newest]));
    assert_eq!(v["Groups"].as_array().unwrap().len(), 2);
    assert!(!app.aws.user_exists(&u1).await);
    assert!(
        app.aws.group_exists(&format!("{bucket}-BktRWGrp")).await,
        "groups stay"
    );

    app.get(&app.buckets(&format!("/{bucket}/users/{u1}")))
        .await
        .assert_status(404);
    app.delete(&app.buckets(&format!("/{bucket}/users/{u1}")))
        .await
        .assert_status(404);
    let list = app
        .get(&app.buckets(&format!("/{bucket}/users")))
        .await
        .json();
    assert_eq!(list.as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn users_of_other_buckets_and_unrelated_users_are_not_found_and_not_touched() {
    let app = TestApp::spawn().await;
    let (mine, theirs) = (unique("mine"), unique("theirs"));
    app.create_bucket(&mine).await;
    app.create_bucket(&theirs).await;
    let their_user = unique("theirs-user");
    app.create_user(&theirs, &their_user, None).await;
    let loner = unique("loner");
    app.aws
        .iam
        .create_user()
        .user_name(&loner)
        .send()
        .await
        .unwrap();
    app.aws
        .iam
        .create_access_key()
        .user_name(&loner)
        .send()
        .await
        .unwrap();

    for user in [&their_user, &loner, &unique("nobody")] {
        let path = app.buckets(&format!("/{mine}/users/{user}"));
        let r = app.get(&path).await;
        r.assert_status(404);
        assert_eq!(r.code(), "UserNotFound");
        app.request(Method::PUT, &path, None)
            .await
            .assert_status(404);
        app.delete(&path).await.assert_status(404);
    }
    assert_eq!(app.aws.keys_of(&their_user).await.len(), 1);
    assert_eq!(app.aws.keys_of(&loner).await.len(), 1);
    assert!(app.aws.user_exists(&loner).await);
    assert_eq!(
        app.aws.groups_of(&their_user).await,
        vec![format!("{theirs}-BktAdmGrp")]
    );
    let list = app.get(&app.buckets(&format!("/{mine}/users"))).await;
    assert_eq!(list.json(), json!([]));
}

#[tokio::test]
async fn user_requests_are_validated_and_need_the_bucket() {
    let app = TestApp::spawn().await;
    let bucket = unique("val");
    app.create_bucket(&bucket).await;
    app.faults.clear_calls();
    let path = app.buckets(&format!("/{bucket}/users"));
    for body in [
        json!({"User": {"UserName": "has space"}}),
        json!({"User": {"UserName": "a\"b"}}),
        json!({"User": {"UserName": "u".repeat(65)}}),
        json!({"User": {"UserName": ""}}),
        json!({"User": {"UserName": "ok", "Path": "/team/"}}),
        json!({"User": {"UserName": "ok"}, "Groups": ["WebAdmGrp"]}),
        json!({"User": {"UserName": "ok"}, "Groups": ["Admins"]}),
        json!({"User": {"UserName": "ok"}, "Groups": []}),
        json!({"User": {}}),
        json!({"Users": {"UserName": "ok"}}),
    ] {
        app.post(&path, body.clone()).await.assert_status(400);
    }
    app.get(&app.buckets(&format!("/{bucket}/users/bad%20name")))
        .await
        .assert_status(400);
    assert!(app.faults.calls().is_empty(), "{:?}", app.faults.calls());

    let missing = unique("missing");
    let user = unique("orphan");
    let r = app
        .post(
            &app.buckets(&format!("/{missing}/users")),
            json!({"User": {"UserName": user}}),
        )
        .await;
    r.assert_status(404);
    assert_eq!(r.code(), "BucketNotFound");
    assert!(
        !app.aws.user_exists(&user).await,
        "the user made alongside the check is rolled back"
    );
    // An existing user name on a missing bucket is still about the bucket, and the user is left alone.
    let existing = unique("existing");
    app.aws
        .iam
        .create_user()
        .user_name(&existing)
        .send()
        .await
        .unwrap();
    let r = app
        .post(
            &app.buckets(&format!("/{missing}/users")),
            json!({"User": {"UserName": existing}}),
        )
        .await;
    r.assert_status(404);
    assert!(app.aws.user_exists(&existing).await);
    app.get(&app.buckets(&format!("/{missing}/users")))
        .await
        .assert_status(404);
}
