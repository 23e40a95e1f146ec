//! Bursts within AWS's rate limits. The emulator never throttles, so the account's IAM is put behind a proxy
//! that limits it as AWS does (a token bucket, answering `Throttling` beyond it); a second account of the same
//! service talks to the emulator directly and is never throttled.

use std::time::{Duration, Instant};

use futures::future::join_all;
use serde_json::json;

use crate::helpers::{emulator, random_account_id, unique, Emulator, TestApp};
use crate::moto;
use crate::proxy::Proxy;
use crate::websites::{seed_body, site_name};

/// A service whose account `test` reaches AWS through `proxy`, and whose account `other` (a fresh AWS account)
/// reaches it directly; `adjust` may change the configuration further.
async fn behind_proxy(
    adjust: impl FnOnce(&mut s3_api::config::Config) + Send,
) -> (TestApp, crate::helpers::Website, Proxy, Emulator) {
    let proxy = Proxy::start(moto::endpoint());
    let url = proxy.url();
    let other_id = random_account_id();
    let other = emulator(&other_id).await;
    let (app, w) = TestApp::spawn_websites_with(move |c, _| {
        let test = c.accounts.get_mut("test").unwrap();
        let mut second = test.clone();
        test.endpoint = Some(url);
        second.role_arn = Some(format!("arn:aws:iam::{other_id}:role/s3-api"));
        second.external_id = Some(format!("ext-{other_id}"));
        second.access_log = None;
        second.domains.clear();
        c.accounts.insert("other".into(), second);
        adjust(c);
    })
    .await;
    (app, w, proxy, other)
}

fn other_buckets() -> String {
    "/v1/s3/other/buckets".to_owned()
}

/// Creates a bucket in account `other` and returns how long it took.
async fn timed_other_create(app: &TestApp) -> Duration {
    let started = Instant::now();
    app.post(
        &other_buckets(),
        json!({"BucketInput": {"Bucket": unique("other")}}),
    )
    .await
    .assert_status(202);
    started.elapsed()
}

fn user_body(user: &str, rw: bool) -> serde_json::Value {
    match rw {
        true => json!({"User": {"UserName": user}, "Groups": ["BktRWGrp"]}),
        false => json!({"User": {"UserName": user}}),
    }
}

/// The IAM rate the proxy allows, and the service is configured for.
const IAM_RATE: f64 = 10.0;

#[tokio::test]
async fn a_burst_within_the_rate_limit_succeeds_at_the_paced_rate() {
    let (app, w, proxy, _) = behind_proxy(|c| {
        c.accounts.get_mut("test").unwrap().rate_limits.iam = IAM_RATE;
        // The emulator serves the whole suite at once and can stall for seconds; this test is about pace.
        c.aws_timeout = Duration::from_secs(20);
        c.shutdown_grace_period = Duration::from_secs(60);
    })
    .await;
    let users_bucket = unique("burst-users");
    app.create_bucket(&users_bucket).await;
    app.aws.settle().await;
    // Latency of the other account, unloaded.
    let mut baseline = Duration::ZERO;
    for _ in 0..3 {
        baseline = baseline.max(timed_other_create(&app).await);
    }

    proxy.throttle("iam", IAM_RATE, IAM_RATE);
    proxy.clear_calls();
    let mut requests: Vec<(String, serde_json::Value)> = Vec::new();
    for _ in 0..10 {
        let body = json!({"BucketInput": {"Bucket": unique("burst")}});
        requests.push((app.buckets(""), body));
    }
    for i in 0..6 {
        let path = app.buckets(&format!("/{users_bucket}/users"));
        requests.push((path, user_body(&unique("u"), i % 2 == 0)));
    }
    for _ in 0..2 {
        requests.push((app.websites(""), seed_body(&site_name(&w, "burst"))));
    }
    let started = Instant::now();
    // The other account, while the burst runs.
    let during = async {
        let mut worst = Duration::ZERO;
        for _ in 0..3 {
            worst = worst.max(timed_other_create(&app).await);
        }
        worst
    };
    let (answers, during) = tokio::join!(
        join_all(
            requests
                .iter()
                .map(|(path, body)| app.post(path, body.clone()))
        ),
        during
    );
    let took = started.elapsed();

    for r in &answers {
        assert!(r.status.is_success(), "{} {}", r.status, r.text());
    }
    let calls = proxy.calls();
    let iam = calls.iter().filter(|c| c.starts_with("iam:")).count();
    let throttled = proxy.throttled().len();
    let needed = iam.saturating_sub(throttled);
    let paced = needed as f64 / IAM_RATE;
    eprintln!(
        "burst: {} requests, {needed} IAM calls at {IAM_RATE}/s ({throttled} throttled answers): \
         {:.1}s, {:.2}× the paced time; other account {:?} unloaded, {:?} during",
        answers.len(),
        took.as_secs_f64(),
        took.as_secs_f64() / paced,
        baseline,
        during
    );
    assert!(
        took.as_secs_f64() <= 1.5 * paced,
        "{:.1}s for {needed} IAM calls at {IAM_RATE}/s",
        took.as_secs_f64()
    );
    // Queued behind the burst, a create would wait about 10 s (the queue is as long as the burst); what is left
    // is the emulator being busier, more so while the rest of the suite runs too.
    assert!(
        during <= (baseline * 4).max(Duration::from_secs(2)),
        "the other account slowed from {baseline:?} to {during:?}"
    );
    // What the pace shows.
    let metrics = app
        .raw(axum::http::Method::GET, "/v1/s3/metrics", None, vec![])
        .await
        .text();
    assert!(
        metrics.contains("aws_pacing_wait_seconds_count{account=\"test\",service=\"iam\"}"),
        "{metrics}"
    );
}

#[tokio::test]
async fn throttling_that_outlasts_the_deadline_is_429_and_the_cleaner_leaves_nothing() {
    let (app, _, proxy, _) = behind_proxy(|c| {
        c.request_timeout = Duration::from_secs(3);
    })
    .await;
    let users_bucket = unique("starved-users");
    app.create_bucket(&users_bucket).await;
    app.aws.settle().await;
    let before_policies = app.aws.policy_names().await;
    let before_groups = app.aws.group_names().await;

    // IAM lets one call in two seconds through; the service, configured for far more, learns it the hard way.
    proxy.throttle("iam", 0.5, 1.0);
    let buckets: Vec<String> = (0..4).map(|_| unique("starved")).collect();
    let users: Vec<String> = (0..3).map(|_| unique("starved-u")).collect();
    let mut requests: Vec<(String, serde_json::Value)> = Vec::new();
    for b in &buckets {
        requests.push((app.buckets(""), json!({"BucketInput": {"Bucket": b}})));
    }
    for u in &users {
        let path = app.buckets(&format!("/{users_bucket}/users"));
        requests.push((path, user_body(u, true)));
    }
    let started = Instant::now();
    let answers = join_all(
        requests
            .iter()
            .map(|(path, body)| app.post(path, body.clone())),
    )
    .await;
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "answered in time"
    );
    for r in &answers {
        r.assert_status(429);
        assert_eq!(r.code(), "Throttled", "{}", r.text());
        assert!(r.headers.contains_key("retry-after"), "{:?}", r.headers);
    }
    assert!(!proxy.throttled().is_empty());
    let unfinished = answers
        .iter()
        .filter(|r| r.json()["rollback"]["complete"] == false)
        .count();
    eprintln!(
        "starved: {} answers 429, {unfinished} with a rollback not finished; {} throttled answers",
        answers.len(),
        proxy.throttled().len()
    );

    let metrics = app
        .raw(axum::http::Method::GET, "/v1/s3/metrics", None, vec![])
        .await
        .text();
    assert!(
        metrics.contains(
            "aws_throttled_total{account=\"test\",operation=\"CreatePolicy\",service=\"iam\"}"
        ),
        "{metrics}"
    );

    // AWS recovers; rollbacks still running finish, and the cleaner reclaims whatever they could not undo.
    proxy.unthrottle();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let ctx = app.state.ctx("test").unwrap();
    let report = s3_api::orchestration::cleaner::run_once(&ctx, Duration::from_secs(1))
        .await
        .unwrap();
    assert!(report.reclaimed.failed.is_empty(), "{report:?}");
    eprintln!("cleaner: {:?}", report.reclaimed);
    app.aws.settle().await;
    for b in &buckets {
        assert!(!app.aws.bucket_exists(b).await, "{b} left");
    }
    for u in &users {
        assert!(!app.aws.user_exists(u).await, "{u} left");
    }
    assert_eq!(app.aws.policy_names().await, before_policies);
    assert_eq!(app.aws.group_names().await, before_groups);
}

/// Throttling that starts half-way through creates and also starves their rollbacks: the answers come in time,
/// saying what their rollbacks had not undone yet; what the rollbacks could not undo by their own deadline stays
/// recorded by the creates' markers, and the cleaner reclaims it once AWS lets calls through again.
#[tokio::test]
async fn a_rollback_starved_by_throttling_is_finished_by_the_cleaner() {
    let (app, _, proxy, _) = behind_proxy(|c| {
        c.request_timeout = Duration::from_secs(3);
        c.aws_timeout = Duration::from_secs(1);
        c.shutdown_grace_period = Duration::from_secs(3);
    })
    .await;
    let before_policies = app.aws.policy_names().await;
    let before_groups = app.aws.group_names().await;
    // The bucket, its policy and group are made; attaching them, and deleting the group again, are not.
    for op in ["iam:AttachGroupPolicy", "iam:DeleteGroup"] {
        proxy.throttle(op, 0.01, 0.0);
    }
    let buckets: Vec<String> = (0..3).map(|_| unique("halfway")).collect();
    let path = app.buckets("");
    let answers = join_all(
        buckets
            .iter()
            .map(|b| app.post(&path, json!({"BucketInput": {"Bucket": b}}))),
    )
    .await;
    for r in &answers {
        r.assert_status(429);
        let rollback = &r.json()["rollback"];
        assert_eq!(rollback["complete"], false, "{}", r.text());
        assert!(
            rollback["leftovers"]
                .as_array()
                .unwrap()
                .iter()
                .any(|l| l.as_str().unwrap().contains("BktAdmGrp")),
            "{}",
            r.text()
        );
    }
    // The rollbacks give up on the group at their deadline (and on whatever comes after it) and keep the markers.
    tokio::time::sleep(Duration::from_secs(4)).await;
    assert_eq!(app.aws.markers().await.len(), buckets.len());

    proxy.unthrottle();
    let ctx = app.state.ctx("test").unwrap();
    let report = s3_api::orchestration::cleaner::run_once(&ctx, Duration::from_secs(1))
        .await
        .unwrap();
    assert_eq!(report.reclaimed.undone.len(), buckets.len(), "{report:?}");
    assert!(app.aws.markers().await.is_empty());
    for b in &buckets {
        assert!(!app.aws.bucket_exists(b).await, "{b} left");
    }
    assert_eq!(app.aws.policy_names().await, before_policies);
    assert_eq!(app.aws.group_names().await, before_groups);
}
