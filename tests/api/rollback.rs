//! Failure injection: every AWS call of bucket create and user create fails once, and nothing the request
//! created is left behind; deletes that fail half-way finish when repeated.

use std::time::Duration;

use serde_json::json;

use crate::creates::{
    bucket_create_body, user_create_body, BUCKET_CREATE_CALLS, USER_CREATE_CALLS,
};
use crate::faults::Fault;
use crate::helpers::{unique, TestApp};

const DENIED: Fault = Fault::Service {
    status: 403,
    code: "AccessDenied",
};

async fn assert_no_bucket_left(app: &TestApp, bucket: &str) {
    assert!(
        !app.aws.bucket_exists(bucket).await,
        "bucket {bucket} left behind"
    );
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
    assert!(app.aws.markers().await.is_empty(), "create marker left");
}

#[tokio::test]
async fn the_test_covers_every_call_of_bucket_create() {
    let app = TestApp::spawn().await;
    let bucket = unique("calls");
    app.post(&app.buckets(""), bucket_create_body(&bucket))
        .await
        .assert_status(202);
    app.assert_create_calls(BUCKET_CREATE_CALLS);
}

#[tokio::test]
async fn bucket_create_rolls_back_when_any_call_fails() {
    for op in BUCKET_CREATE_CALLS {
        let app = TestApp::spawn().await;
        let bucket = unique("rb");
        app.faults.fail_once(op, DENIED);
        let r = app
            .post(&app.buckets(""), bucket_create_body(&bucket))
            .await;
        let problem = r.json();
        if *op == "s3:HeadBucket" {
            // 403 on HeadBucket means "someone else's bucket": the name is taken.
            r.assert_status(409);
        } else {
            r.assert_status(403);
            assert_eq!(r.code(), "AwsAccessDenied", "{op}");
        }
        // A create whose marker (its lock) was refused made nothing, so there is nothing to roll back.
        if !op.contains("s3-api-creating") {
            assert_eq!(problem["rollback"]["complete"], true, "{op}: {problem}");
            assert_eq!(problem["rollback"]["leftovers"], json!([]), "{op}");
        }
        assert_no_bucket_left(&app, &bucket).await;
    }
}

#[tokio::test]
async fn head_bucket_forbidden_means_the_name_is_taken() {
    let app = TestApp::spawn().await;
    let bucket = unique("taken");
    app.faults.fail_once("s3:HeadBucket", DENIED);
    let r = app
        .post(&app.buckets(""), json!({"BucketInput": {"Bucket": bucket}}))
        .await;
    r.assert_status(409);
    assert_eq!(r.code(), "BucketAlreadyExists");
    assert_eq!(r.json()["rollback"]["complete"], true);
    assert_no_bucket_left(&app, &bucket).await;
}

#[tokio::test]
async fn bucket_create_timeout_is_504_and_rolled_back() {
    let app = TestApp::spawn_with(|c| c.aws_timeout = Duration::from_millis(1500)).await;
    let bucket = unique("slow");
    app.faults.fail_once("s3:PutBucketEncryption", Fault::Hang);
    let r = app
        .post(&app.buckets(""), json!({"BucketInput": {"Bucket": bucket}}))
        .await;
    r.assert_status(504);
    assert_eq!(r.code(), "AwsTimeout");
    assert_eq!(r.json()["rollback"]["complete"], true);
    assert_no_bucket_left(&app, &bucket).await;
}

#[tokio::test]
async fn an_incomplete_rollback_says_what_is_left() {
    let app = TestApp::spawn().await;
    let bucket = unique("left");
    app.faults.fail_once("s3:PutBucketTagging", DENIED);
    app.faults.fail_always("s3:DeleteBucket", DENIED);
    let r = app
        .post(&app.buckets(""), json!({"BucketInput": {"Bucket": bucket}}))
        .await;
    r.assert_status(403);
    let rollback = &r.json()["rollback"];
    assert_eq!(rollback["complete"], false);
    assert_eq!(
        rollback["leftovers"],
        json!([format!("arn:aws:s3:::{bucket}")])
    );
    // Everything else was undone; the create's marker stays, so that the cleaner finds what is left.
    assert!(app.aws.policy_names().await.is_empty());
    assert!(app.aws.group_names().await.is_empty());
    assert_eq!(
        app.aws.markers().await,
        vec![format!("s3-api-creating-{bucket}")]
    );
    let metrics = app.state.metrics.render();
    assert!(
        metrics.contains(r#"rollbacks_total{operation="create_bucket",outcome="incomplete"} 1"#),
        "{metrics}"
    );
}

async fn user_fixture() -> (TestApp, String, Vec<String>, Vec<String>) {
    let app = TestApp::spawn().await;
    let bucket = unique("urb");
    app.create_bucket(&bucket).await;
    app.aws.settle().await;
    let groups = app.aws.group_names().await;
    let policies = app.aws.policy_names().await;
    app.faults.clear_calls();
    (app, bucket, groups, policies)
}

#[tokio::test]
async fn the_test_covers_every_call_of_user_create() {
    let (app, bucket, _, _) = user_fixture().await;
    app.create_user(&bucket, &unique("u"), Some(&["BktAdmGrp", "BktRWGrp"]))
        .await;
    app.assert_create_calls(USER_CREATE_CALLS);
}

#[tokio::test]
async fn user_create_rolls_back_when_any_call_fails() {
    for op in USER_CREATE_CALLS {
        let (app, bucket, groups, policies) = user_fixture().await;
        let user = unique("ru");
        app.faults.fail_once(op, DENIED);
        let r = app
            .post(
                &app.buckets(&format!("/{bucket}/users")),
                user_create_body(&user),
            )
            .await;
        r.assert_status(403);
        // A refused marker made nothing, so there is nothing to roll back.
        if !op.contains("s3-api-creating") {
            assert_eq!(r.json()["rollback"]["complete"], true, "{op}: {}", r.text());
        }
        assert!(!app.aws.user_exists(&user).await, "{op}: user left behind");
        assert!(app.aws.markers().await.is_empty(), "{op}: marker left");
        assert_eq!(app.aws.group_names().await, groups, "{op}: groups differ");
        assert_eq!(
            app.aws.policy_names().await,
            policies,
            "{op}: policies differ"
        );
        // The bucket's admin group is intact.
        let admin = format!("{bucket}-BktAdmGrp");
        assert_eq!(
            app.aws.group_policies(&admin).await,
            vec![app.policy_arn(&format!("{bucket}-BktAdmPlc"))],
            "{op}"
        );
        let members = app
            .aws
            .iam
            .get_group()
            .group_name(&admin)
            .send()
            .await
            .unwrap();
        assert!(members.users().is_empty(), "{op}");
    }
}

#[tokio::test]
async fn a_bucket_delete_that_fails_half_way_finishes_when_repeated() {
    for op in [
        "iam:DeleteAccessKey",
        "iam:RemoveUserFromGroup",
        "iam:DeleteUser",
        "iam:DeleteGroup",
        "iam:DeletePolicy",
        "iam:DetachGroupPolicy",
        "s3:DeleteBucket",
    ] {
        let app = TestApp::spawn().await;
        let bucket = unique("half");
        app.create_bucket(&bucket).await;
        let (a, b) = (unique("a"), unique("b"));
        app.create_user(&bucket, &a, None).await;
        app.create_user(&bucket, &b, Some(&["BktRWGrp"])).await;

        app.faults.fail_once(op, DENIED);
        let r = app.delete(&app.buckets(&format!("/{bucket}"))).await;
        r.assert_status(403);

        let r = app.delete(&app.buckets(&format!("/{bucket}"))).await;
        r.assert_status(200);
        assert!(!app.aws.bucket_exists(&bucket).await, "{op}");
        assert!(
            !app.aws.user_exists(&a).await && !app.aws.user_exists(&b).await,
            "{op}"
        );
        assert!(app.aws.group_names().await.is_empty(), "{op}");
        assert!(app.aws.policy_names().await.is_empty(), "{op}");
        app.delete(&app.buckets(&format!("/{bucket}")))
            .await
            .assert_status(404);
    }
}

#[tokio::test]
async fn aws_errors_map_to_statuses() {
    // Throttling is retried until three quarters of the request timeout.
    let app = TestApp::spawn_with(|c| c.request_timeout = Duration::from_secs(6)).await;
    let cases = [
        (
            Fault::Service {
                status: 400,
                code: "Throttling",
            },
            429,
            "Throttled",
        ),
        (
            Fault::Service {
                status: 500,
                code: "InternalError",
            },
            503,
            "AwsUnavailable",
        ),
        (Fault::Refuse, 503, "AwsUnavailable"),
        (
            Fault::Service {
                status: 400,
                code: "SomethingNew",
            },
            500,
            "InternalError",
        ),
        (
            Fault::Service {
                status: 400,
                code: "InvalidArgument",
            },
            400,
            "AwsInvalidRequest",
        ),
    ];
    for (fault, status, code) in cases {
        app.faults.fail_always("s3:ListBuckets", fault);
        let r = app.get(&app.buckets("")).await;
        r.assert_status(status);
        assert_eq!(r.code(), code);
        if status == 429 {
            assert_eq!(r.headers["retry-after"], "1");
        }
        if status >= 500 {
            let detail = r.json()["detail"].as_str().unwrap().to_owned();
            assert!(
                !detail.contains("127.0.0.1") && !detail.contains("injected"),
                "5xx details leak: {detail}"
            );
        }
        app.faults.clear();
    }
}

#[tokio::test]
async fn user_create_timeout_is_504_and_rolled_back() {
    let app = TestApp::spawn_with(|c| c.aws_timeout = Duration::from_millis(1500)).await;
    let bucket = unique("uslow");
    app.create_bucket(&bucket).await;
    let user = unique("slow");
    app.faults.fail_once("iam:CreateAccessKey", Fault::Hang);
    let r = app
        .post(
            &app.buckets(&format!("/{bucket}/users")),
            json!({"User": {"UserName": user}}),
        )
        .await;
    r.assert_status(504);
    assert_eq!(r.json()["rollback"]["complete"], true);
    assert!(!app.aws.user_exists(&user).await);
    let members = app
        .aws
        .iam
        .get_group()
        .group_name(format!("{bucket}-BktAdmGrp"))
        .send()
        .await
        .unwrap();
    assert!(members.users().is_empty());
}

/// The client gives up while the create is waiting on AWS: the create still fails and is still rolled back.
#[tokio::test]
async fn rollback_completes_after_the_client_has_gone() {
    let app = TestApp::spawn_with(|c| c.aws_timeout = Duration::from_millis(1500)).await;
    let bucket = unique("gone");
    app.faults.fail_once("s3:PutBucketEncryption", Fault::Hang);
    let path = app.buckets("");
    let request = app.post(&path, json!({"BucketInput": {"Bucket": bucket}}));
    assert!(
        tokio::time::timeout(Duration::from_millis(500), request)
            .await
            .is_err(),
        "the client gave up"
    );

    // Poll (bounded) until the rollback has run in the background.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let metrics = app.state.metrics.render();
        if metrics.contains(r#"rollbacks_total{operation="create_bucket",outcome="complete"} 1"#) {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no rollback happened: {metrics}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_no_bucket_left(&app, &bucket).await;
}

/// A rollback runs after the request's own work, on a task of its own: its log lines still carry the request id
/// of the request whose create it undoes.
#[tokio::test]
async fn the_rollback_logs_with_the_request_s_id() {
    let app = TestApp::spawn().await;
    let bucket = unique("rid");
    app.faults.fail_once("s3:PutBucketEncryption", DENIED);
    let r = app
        .post(&app.buckets(""), json!({"BucketInput": {"Bucket": bucket}}))
        .await;
    r.assert_status(403);
    let id = r.json()["requestId"].as_str().unwrap().to_owned();
    let logs = crate::helpers::log_text();
    let undone: Vec<&str> = logs
        .lines()
        .filter(|l| l.contains("rolled back") && l.contains(&bucket))
        .collect();
    assert!(!undone.is_empty(), "no rollback lines");
    for line in undone {
        assert!(line.contains(&id), "{line}");
    }
}

/// A read-write group that a failing user create made, and that another request's user joined meanwhile, is not
/// rolled back: deleting it would take that user's access away.
#[tokio::test]
async fn a_group_another_user_joined_survives_the_rollback() {
    let app = TestApp::spawn_with(|c| c.aws_timeout = std::time::Duration::from_secs(2)).await;
    let bucket = unique("shared");
    app.create_bucket(&bucket).await;
    let rw = format!("{bucket}-BktRWGrp");
    // A's first key hangs past the deadline, after A has made the read-write group.
    app.faults.fail_once("iam:CreateAccessKey", Fault::Hang);
    let (a, b) = (unique("a"), unique("b"));
    let path = app.buckets(&format!("/{bucket}/users"));
    let first = app.post(
        &path,
        json!({"User": {"UserName": a}, "Groups": ["BktRWGrp"]}),
    );
    let second = async {
        while !app.aws.group_exists(&rw).await || app.aws.group_policies(&rw).await.is_empty() {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        app.post(
            &path,
            json!({"User": {"UserName": b}, "Groups": ["BktRWGrp"]}),
        )
        .await
    };
    let (first, second) = tokio::join!(first, second);
    second.assert_status(200);
    first.assert_status(504);
    assert_eq!(
        first.json()["rollback"]["complete"],
        true,
        "{}",
        first.text()
    );
    assert!(!app.aws.user_exists(&a).await);
    assert_eq!(app.aws.groups_of(&b).await, vec![rw.clone()]);
    assert_eq!(
        app.aws.group_policies(&rw).await,
        vec![app.policy_arn(&format!("{bucket}-BktRWPlc"))]
    );
}
