//! Creates interrupted half-way, as a killed process leaves them, and the cleaner's reclaim. In-process: the
//! create's workflow runs on a task of its own that is aborted while one AWS call hangs — nothing of the
//! workflow runs after that, no rollback either, just as when the process dies. (The real binary killed with
//! SIGKILL is in `crash.rs`.)

use std::time::Duration;

use serde_json::json;

use crate::faults::{split_op, Fault};
use crate::helpers::{unique, TestApp};
use s3_api::domain::names::{BucketGroup, BucketName, GroupKind, UserName};
use s3_api::domain::tags::CallerTags;
use s3_api::orchestration::{buckets, cleaner, users, Ctx};

/// Starts `create` on a task, waits until `op` hangs, lets the calls beside it land, and aborts the task.
async fn interrupt<F>(app: &TestApp, op: &str, create: F)
where
    F: std::future::Future + Send + 'static,
    F::Output: Send + 'static,
{
    app.faults.fail_once(op, Fault::Hang);
    let task = tokio::spawn(create);
    let (base, _) = split_op(op);
    for _ in 0..200 {
        if app.faults.count(base) > 0 || task.is_finished() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    task.abort();
    let _ = task.await;
    app.faults.clear();
}

fn ctx(app: &TestApp) -> Ctx {
    app.state.ctx("test").unwrap()
}

async fn clean(app: &TestApp, after: Duration) -> cleaner::CleanReport {
    cleaner::run_once(&ctx(app), after).await.unwrap()
}

/// Bucket create interrupted at each of its calls: after a clean, nothing of it is left, or all of it.
#[tokio::test]
async fn an_interrupted_bucket_create_is_reclaimed_at_every_call() {
    for op in crate::creates::BUCKET_CREATE_CALLS {
        let app = TestApp::spawn().await;
        let bucket = unique("kill");
        let req = buckets::CreateBucket {
            bucket: BucketName::parse(&bucket).unwrap(),
            tags: CallerTags::parse(vec![], "spinup:org", 1).unwrap(),
            lifecycle: Some(s3_api::domain::lifecycle::Lifecycle::DeepArchive),
        };
        interrupt(&app, op, buckets::create(ctx(&app), req)).await;
        let report = clean(&app, Duration::ZERO).await;
        assert!(report.reclaimed.failed.is_empty(), "{op}: {report:?}");
        assert!(app.aws.markers().await.is_empty(), "{op}: marker left");
        let finished = app.aws.bucket_exists(&bucket).await;
        if finished {
            // Kept only when it is whole.
            let show = app.get(&app.buckets(&format!("/{bucket}"))).await.json();
            assert!(show["Tags"].to_string().contains("spinup:org"), "{op}");
            assert_eq!(
                app.aws.group_policies(&format!("{bucket}-BktAdmGrp")).await,
                vec![app.policy_arn(&format!("{bucket}-BktAdmPlc"))],
                "{op}"
            );
        } else {
            assert!(
                app.aws.policy_names().await.is_empty(),
                "{op}: policies left"
            );
            assert!(app.aws.group_names().await.is_empty(), "{op}: groups left");
        }
    }
}

/// A user create interrupted at each of its calls (joining the admin group and a read-write group it makes):
/// after a clean, no user and no group or policy of it is left; the bucket's own are intact.
#[tokio::test]
async fn an_interrupted_user_create_is_reclaimed_at_every_call() {
    for op in crate::creates::USER_CREATE_CALLS {
        let app = TestApp::spawn().await;
        let bucket = unique("ukill");
        app.create_bucket(&bucket).await;
        app.aws.settle().await;
        let groups_before = app.aws.group_names().await;
        let user = unique("u");
        let b = BucketName::parse(&bucket).unwrap();
        let req = users::CreateUser {
            bucket: b.clone(),
            kind: s3_api::orchestration::ownership::Kind::Bucket,
            user: UserName::parse(&user).unwrap(),
            groups: vec![
                BucketGroup::new(&b, GroupKind::Admin).unwrap(),
                BucketGroup::new(&b, GroupKind::ReadWrite).unwrap(),
            ],
            placeholder: None,
        };
        interrupt(&app, op, users::create(ctx(&app), req)).await;
        let report = clean(&app, Duration::ZERO).await;
        assert!(report.reclaimed.failed.is_empty(), "{op}: {report:?}");
        assert!(app.aws.markers().await.is_empty(), "{op}: marker left");
        if app.aws.user_exists(&user).await {
            assert_eq!(app.aws.keys_of(&user).await.len(), 1, "{op}");
            assert_eq!(app.aws.groups_of(&user).await.len(), 2, "{op}");
        } else {
            assert_eq!(
                app.aws.group_names().await,
                groups_before,
                "{op}: groups left"
            );
            assert_eq!(
                app.aws.policy_names().await,
                vec![format!("{bucket}-BktAdmPlc")],
                "{op}: policies left"
            );
        }
    }
}

/// A marker younger than `reclaimAfter` is another replica's create in progress: a clean leaves it and all its
/// work alone; once old enough, it is reclaimed.
#[tokio::test]
async fn a_younger_create_is_left_alone() {
    let app = TestApp::spawn().await;
    let bucket = unique("young");
    let req = buckets::CreateBucket {
        bucket: BucketName::parse(&bucket).unwrap(),
        tags: CallerTags::parse(vec![], "spinup:org", 1).unwrap(),
        lifecycle: None,
    };
    interrupt(
        &app,
        "s3:PutBucketEncryption",
        buckets::create(ctx(&app), req),
    )
    .await;
    let report = clean(&app, Duration::from_secs(600)).await;
    assert_eq!(report.reclaimed, Default::default());
    assert!(app.aws.bucket_exists(&bucket).await);
    assert_eq!(
        app.aws.markers().await,
        vec![format!("s3-api-creating-{bucket}")]
    );
    // Meanwhile the name is taken: another create of it is a conflict, and changes nothing.
    let r = app
        .post(&app.buckets(""), json!({"BucketInput": {"Bucket": bucket}}))
        .await;
    r.assert_status(409);

    tokio::time::sleep(Duration::from_millis(1100)).await;
    let report = clean(&app, Duration::from_secs(1)).await;
    assert_eq!(report.reclaimed.undone.len(), 1, "{report:?}");
    assert!(!app.aws.bucket_exists(&bucket).await);
    assert!(app.aws.markers().await.is_empty());
    assert!(app.aws.policy_names().await.is_empty());
}

/// Website create interrupted at each of its calls: after a clean, nothing of it is left but a disabled
/// distribution for the cleaner to delete once deployed — or all of it.
#[tokio::test]
async fn an_interrupted_website_create_is_reclaimed_at_every_call() {
    use s3_api::orchestration::websites;
    for op in crate::creates::WEBSITE_CREATE_CALLS {
        let (app, w) = TestApp::spawn_websites().await;
        let name = crate::websites::site_name(&w, "wkill");
        let req = websites::CreateWebsite {
            site: s3_api::domain::website::WebsiteName::parse(
                &name,
                &app.state.accounts["test"].config.domains,
            )
            .unwrap(),
            tags: CallerTags::parse(vec![], "spinup:org", 2).unwrap(),
            index_document: "index.html".into(),
            error_document: None,
        };
        interrupt(&app, op, websites::create(ctx(&app), req)).await;
        let report = clean(&app, Duration::ZERO).await;
        assert!(report.reclaimed.failed.is_empty(), "{op}: {report:?}");
        assert!(app.aws.markers().await.is_empty(), "{op}: marker left");
        let distributions = app
            .aws
            .cloudfront
            .list_distributions()
            .send()
            .await
            .unwrap();
        let enabled = distributions
            .distribution_list()
            .map(|l| l.items())
            .unwrap_or_default()
            .iter()
            .filter(|d| d.enabled())
            .count();
        if app.aws.bucket_exists(&name).await {
            // Kept only when it is whole.
            app.get(&app.websites(&format!("/{name}")))
                .await
                .assert_status(200);
            assert_eq!(
                crate::websites::records(&app, &w, &name).await.len(),
                2,
                "{op}"
            );
            assert_eq!(
                app.aws.group_policies(&format!("{name}-WebAdmGrp")).await,
                vec![app.policy_arn(&format!("{name}-WebAdmPlc"))],
                "{op}"
            );
        } else {
            assert_eq!(enabled, 0, "{op}: an enabled distribution was left");
            assert!(
                app.aws.policy_names().await.is_empty(),
                "{op}: policies left"
            );
            assert!(app.aws.group_names().await.is_empty(), "{op}: groups left");
            assert!(
                crate::websites::records(&app, &w, &name).await.is_empty(),
                "{op}: DNS left"
            );
        }
    }
}

/// When a website create's rollback cannot disable its distribution, the bucket is not deleted — freeing the name
/// while CloudFront still serves it would let anyone claim it — and the marker stays; the cleaner finishes the
/// job once AWS lets it.
#[tokio::test]
async fn a_rollback_that_cannot_disable_the_distribution_keeps_the_bucket() {
    let (app, w) = TestApp::spawn_websites().await;
    let name = crate::websites::site_name(&w, "unsafe");
    app.faults.fail_once(
        "route53:ChangeResourceRecordSets",
        Fault::Service {
            status: 403,
            code: "AccessDenied",
        },
    );
    app.faults.fail_always(
        "cloudfront:UpdateDistribution",
        Fault::Service {
            status: 403,
            code: "AccessDenied",
        },
    );
    let r = app
        .post(&app.websites(""), crate::websites::seed_body(&name))
        .await;
    r.assert_status(403);
    let rollback = &r.json()["rollback"];
    assert_eq!(rollback["complete"], false, "{rollback}");
    assert!(rollback["leftovers"]
        .to_string()
        .contains(&format!("arn:aws:s3:::{name}")));
    assert!(app.aws.bucket_exists(&name).await);
    assert_eq!(
        app.aws.markers().await,
        vec![format!("s3-api-creating-{name}")]
    );

    app.faults.clear();
    let report = clean(&app, Duration::ZERO).await;
    assert_eq!(report.reclaimed.undone.len(), 1, "{report:?}");
    assert!(!app.aws.bucket_exists(&name).await);
    assert!(app.aws.markers().await.is_empty());
    assert!(app.aws.policy_names().await.is_empty());
}
