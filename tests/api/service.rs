//! Service routes and the HTTP rules every route shares: auth, errors, limits, request ids.

use std::collections::BTreeSet;

use axum::http::Method;
use serde_json::{json, Value};

use crate::helpers::{known_secrets, log_text, unique, TestApp, TOKEN};

#[tokio::test]
async fn ping_version_and_metrics_need_no_token() {
    let app = TestApp::spawn().await;
    let ping = app.raw(Method::GET, "/v1/s3/ping", None, vec![]).await;
    ping.assert_status(200);
    assert_eq!(ping.text(), "pong");
    assert!(ping.headers["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/plain"));

    let version = app.raw(Method::GET, "/v1/s3/version", None, vec![]).await;
    version.assert_status(200);
    let v = version.json();
    assert_eq!(v["version"], env!("CARGO_PKG_VERSION"));
    assert!(v["githash"].as_str().is_some_and(|h| !h.is_empty()));
    let stamp = v["buildstamp"].as_str().unwrap();
    assert!(
        stamp == "unknown" || (stamp.ends_with('Z') && stamp.contains('T')),
        "{stamp}"
    );

    let metrics = app.raw(Method::GET, "/v1/s3/metrics", None, vec![]).await;
    metrics.assert_status(200);
    assert!(
        metrics.text().contains("http_requests_total"),
        "{}",
        metrics.text()
    );
}

#[tokio::test]
async fn metrics_use_route_templates_and_count_aws_calls() {
    let app = TestApp::spawn().await;
    let bucket = unique("metrics");
    app.create_bucket(&bucket).await;
    app.get(&app.buckets(&format!("/{bucket}")))
        .await
        .assert_status(200);
    let text = app
        .raw(Method::GET, "/v1/s3/metrics", None, vec![])
        .await
        .text();
    assert!(
        text.contains(r#"http_requests_total{method="GET",route="/v1/s3/{account}/buckets/{bucket}",status="200"} 1"#),
        "{text}"
    );
    assert!(!text.contains(&bucket), "raw paths must not become labels");
    assert!(
        text.contains(r#"aws_requests_total{account="test",operation="CreateBucket",outcome="ok",service="s3"} 1"#),
        "{text}"
    );
    assert!(text.contains("aws_request_duration_seconds_bucket"));
    assert!(text.contains("s3_api_build_info"));
    assert!(text.contains("process_resident_memory_bytes"));
}

/// The series of the `http_*` metrics in an exposition: each sample's name and label set, without its value.
fn http_series(text: &str) -> BTreeSet<String> {
    text.lines()
        .filter(|l| l.starts_with("http_"))
        .map(|l| l.rsplit_once(' ').unwrap().0.to_owned())
        .collect()
}

/// The value of `name` in a series' label set.
fn label<'a>(series: &'a str, name: &str) -> Option<&'a str> {
    let start = series.find(&format!("{name}=\""))? + name.len() + 2;
    series[start..].split('"').next()
}

/// Requests with made-up methods and no token, spread over known, unknown and odd paths.
async fn send_made_up(app: &TestApp, range: std::ops::Range<usize>) {
    let long = format!("/v1/s3/{}", "a".repeat(300));
    let paths = [
        "/v1/s3/ping",
        "/v1/s3/test/buckets",
        "/v1/s3/test/buckets/b1/users/u1",
        "/nowhere",
        "/v1/s3/acct-unknown-0/buckets",
        "/v1/s3//buckets",
        "/v1/s3/test/buckets/%2F..%2F",
        long.as_str(),
    ];
    for i in range {
        let method = Method::from_bytes(format!("MADEUP{i}X").as_bytes()).unwrap();
        let r = app.raw(method, paths[i % paths.len()], None, vec![]).await;
        assert!(matches!(r.status.as_u16(), 403 | 405), "{}", r.status);
    }
}

async fn metrics_text(app: &TestApp) -> String {
    let r = app.raw(Method::GET, "/v1/s3/metrics", None, vec![]).await;
    r.assert_status(200);
    r.text()
}

/// Prometheus keeps every series it has ever seen, so a label whose value a caller chooses lets anyone, without a
/// token, grow the service's memory and every scrape. Methods, paths and accounts are the caller's to choose; the
/// labels are not.
#[tokio::test]
async fn no_request_can_add_a_metric_series() {
    let app = TestApp::spawn().await;
    let before = http_series(&metrics_text(&app).await);
    send_made_up(&app, 0..40).await;
    // Unknown paths and accounts, with and without the token, and a method the API does not serve.
    for (method, path, token) in [
        (Method::GET, "/v1/s3/acct-unknown-1/buckets", Some(TOKEN)),
        (
            Method::DELETE,
            "/v1/s3/acct-unknown-2/websites/x.example.org",
            Some(TOKEN),
        ),
        (Method::PATCH, "/v1/s3/acct-unknown-3/buckets", Some(TOKEN)),
        (Method::GET, "/v1/s3/acct-unknown-4/nothing", Some(TOKEN)),
        (Method::GET, "/v1/s3/acct-unknown-5/buckets", None),
        (Method::HEAD, "/acct-unknown-6", Some(TOKEN)),
        (Method::OPTIONS, "/v1/s3/test/buckets", Some(TOKEN)),
        (Method::TRACE, "/v1/s3/ping", None),
    ] {
        let r = app.raw(method, path, token, vec![]).await;
        assert!(r.status.is_client_error(), "{path}: {}", r.status);
    }
    metrics_text(&app).await; // the metrics route's own series, so that later reads compare like with like
    let text = metrics_text(&app).await;

    let templates: BTreeSet<String> = s3_api::http::api().1.paths.paths.into_keys().collect();
    let served = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "other"];
    let after_40 = http_series(&text);
    for series in after_40.difference(&before) {
        let method = label(series, "method").unwrap_or_else(|| panic!("{series}"));
        let route = label(series, "route").unwrap_or_else(|| panic!("{series}"));
        assert!(served.contains(&method), "{series}");
        assert!(
            route == "unmatched" || templates.contains(route),
            "{series}"
        );
    }
    assert!(
        after_40.iter().any(|s| s
            .starts_with(r#"http_requests_total{method="other",route="unmatched",status="403"}"#)),
        "made-up methods are counted together: {text}"
    );
    for line in text.lines() {
        assert!(!line.contains("MADEUP"), "{line}");
        assert!(!line.contains("acct-unknown"), "{line}");
    }

    send_made_up(&app, 40..80).await;
    let text_80 = metrics_text(&app).await;
    assert_eq!(
        http_series(&text_80),
        after_40,
        "40 more made-up methods add no series"
    );
    assert_eq!(text_80.lines().count(), text.lines().count());
    assert!(!text_80.contains("MADEUP"));
}

#[tokio::test]
async fn metrics_can_require_the_token() {
    let app = TestApp::spawn_with(|c| c.metrics_require_token = true).await;
    app.raw(Method::GET, "/v1/s3/metrics", None, vec![])
        .await
        .assert_status(403);
    app.raw(Method::GET, "/v1/s3/metrics", Some(TOKEN), vec![])
        .await
        .assert_status(200);
}

#[tokio::test]
async fn token_is_required_and_checked_before_routing() {
    let app = TestApp::spawn().await;
    for (token, path) in [
        (None, "/v1/s3/test/buckets"),
        (Some("wrong"), "/v1/s3/test/buckets"),
        (Some(""), "/v1/s3/test/buckets"),
        (None, "/v1/s3/no/such/route"),
    ] {
        let r = app.raw(Method::GET, path, token, vec![]).await;
        r.assert_status(403);
        assert_eq!(r.code(), "InvalidToken");
        assert_eq!(r.headers["content-type"], "application/problem+json");
    }
    assert!(
        app.faults.calls().is_empty(),
        "no AWS call without a valid token"
    );
}

#[tokio::test]
async fn a_bcrypt_hash_of_the_token_is_accepted() {
    let app = TestApp::spawn().await;
    let hash = bcrypt::hash(TOKEN, 4).unwrap();
    app.raw(Method::GET, "/v1/s3/test/buckets", Some(&hash), vec![])
        .await
        .assert_status(200);
    app.raw(Method::GET, "/v1/s3/test/buckets", Some(&hash), vec![])
        .await
        .assert_status(200);
    let other = bcrypt::hash("not-the-token", 4).unwrap();
    app.raw(Method::GET, "/v1/s3/test/buckets", Some(&other), vec![])
        .await
        .assert_status(403);
    let costly = hash.replacen("$04$", "$31$", 1);
    app.raw(Method::GET, "/v1/s3/test/buckets", Some(&costly), vec![])
        .await
        .assert_status(403);
}

#[tokio::test]
async fn unknown_routes_methods_and_accounts() {
    let app = TestApp::spawn().await;
    let r = app.get("/v1/s3/test/nothing").await;
    r.assert_status(404);
    assert_eq!(r.code(), "NotFound");
    app.get("/v1/s3/test/buckets/").await.assert_status(404);

    let r = app
        .request(Method::PATCH, "/v1/s3/test/buckets", None)
        .await;
    r.assert_status(405);
    assert_eq!(r.code(), "MethodNotAllowed");
    let allow = r.headers["allow"].to_str().unwrap();
    assert!(allow.contains("GET") && allow.contains("POST"), "{allow}");

    let r = app.get("/v1/s3/nosuchaccount/buckets").await;
    r.assert_status(404);
    assert_eq!(r.code(), "AccountNotFound");
    assert_eq!(r.json()["detail"], "account nosuchaccount not found");
    assert!(
        app.faults.calls().is_empty(),
        "an unknown account costs no AWS call"
    );
}

#[tokio::test]
async fn problem_documents_carry_the_request_id() {
    let app = TestApp::spawn().await;
    let req = axum::http::Request::builder()
        .uri("/v1/s3/test/nothing")
        .header("X-Auth-Token", TOKEN)
        .header("X-Request-Id", "caller-id-123")
        .body(axum::body::Body::empty())
        .unwrap();
    let response = tower::ServiceExt::oneshot(app.router.clone(), req)
        .await
        .unwrap();
    assert_eq!(response.headers()["x-request-id"], "caller-id-123");
    let body = http_body_util::BodyExt::collect(response.into_body())
        .await
        .unwrap()
        .to_bytes();
    let problem: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(problem["requestId"], "caller-id-123");
    assert_eq!(problem["status"], 404);
    assert_eq!(problem["type"], "about:blank");

    let fresh = app.get("/v1/s3/ping").await;
    assert!(!fresh.headers["x-request-id"].is_empty());
}

/// The `X-Request-Id` a request to `/v1/s3/ping` that sent `id` gets back.
async fn request_id_for(app: &TestApp, id: &[u8]) -> String {
    let req = axum::http::Request::builder()
        .uri("/v1/s3/ping")
        .header("X-Request-Id", id)
        .body(axum::body::Body::empty())
        .unwrap();
    let response = tower::ServiceExt::oneshot(app.router.clone(), req)
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let ids: Vec<_> = response.headers().get_all("x-request-id").iter().collect();
    assert_eq!(ids.len(), 1, "{ids:?}");
    ids[0].to_str().unwrap().to_owned()
}

/// A caller's request id is echoed and put on every log line of the request, so only a short, printable one is
/// kept; any other is replaced by a fresh UUID, which the response and the logs then carry instead.
#[tokio::test]
async fn long_or_unprintable_request_ids_are_replaced() {
    let app = TestApp::spawn().await;
    let tag = unique("rid");
    let long = format!("{tag}-long-{}", "x".repeat(5000 - tag.len() - 6));
    assert_eq!(long.len(), 5000);
    let over = format!("{tag}-over-{}", "y".repeat(129 - tag.len() - 6));
    assert_eq!(over.len(), 129);
    let space = format!("{tag} space");
    let tab = format!("{tag}\ttab");
    let latin1 = [tag.as_bytes(), b"-caf\xe9"].concat();
    for sent in [
        long.as_bytes(),
        over.as_bytes(),
        space.as_bytes(),
        tab.as_bytes(),
        &latin1,
    ] {
        let got = request_id_for(&app, sent).await;
        assert!(uuid::Uuid::parse_str(&got).is_ok(), "a fresh UUID: {got}");
        assert!(log_text().contains(&got), "the logs carry the fresh id");
    }
    let logs = log_text();
    for sent in [&long, &over, &space, &tab] {
        let escaped = serde_json::to_string(sent).unwrap();
        assert!(!logs.contains(sent.as_str()) && !logs.contains(escaped.trim_matches('"')));
    }
    assert!(!logs.contains(&format!("{tag}-caf")));

    let printable: String = (0x21u8..=0x7e).map(char::from).cycle().take(128).collect();
    let at_limit = format!("{tag}{}", &printable[tag.len()..]);
    assert_eq!(at_limit.len(), 128);
    assert_eq!(request_id_for(&app, at_limit.as_bytes()).await, at_limit);
    let short = format!("{tag}-short");
    assert_eq!(request_id_for(&app, short.as_bytes()).await, short);
    assert!(log_text().contains(&format!("request_id\":\"{short}\"")));
}

#[tokio::test]
async fn bodies_over_64_kib_are_refused() {
    let app = TestApp::spawn().await;
    let tags: Vec<_> = (0..2000)
        .map(|i| json!({"Key": format!("k{i}"), "Value": "v".repeat(30)}))
        .collect();
    let body = json!({"Tags": tags, "BucketInput": {"Bucket": unique("big")}});
    let r = app.post(&app.buckets(""), body).await;
    r.assert_status(413);
    assert_eq!(r.code(), "PayloadTooLarge");
    assert!(app.faults.calls().is_empty());
}

/// Runs a scenario that handles every kind of secret, then reads everything the service logged in this test
/// run (every test's service logs into the same buffer) for any secret any test has seen.
#[tokio::test]
async fn no_secret_reaches_the_logs() {
    let app = TestApp::spawn().await;
    let bucket = unique("secrets");
    app.create_bucket(&bucket).await;
    app.create_user(&bucket, &unique("u"), None).await;
    let user = unique("u");
    app.create_user(&bucket, &user, None).await;
    app.request(
        Method::PUT,
        &app.buckets(&format!("/{bucket}/users/{user}")),
        None,
    )
    .await
    .assert_status(200);
    app.raw(
        Method::GET,
        "/v1/s3/test/buckets",
        Some("wrong-token"),
        vec![],
    )
    .await
    .assert_status(403);
    app.faults.fail_once(
        "iam:CreateAccessKey",
        crate::faults::Fault::Service {
            status: 403,
            code: "AccessDenied",
        },
    );
    app.post(
        &app.buckets(&format!("/{bucket}/users")),
        json!({"User": {"UserName": unique("u")}}),
    )
    .await
    .assert_status(403);

    let logs = log_text();
    assert!(logs.contains("request served"), "the log capture works");
    assert!(logs.contains("aws call"), "AWS calls are logged at debug");
    for secret in known_secrets() {
        assert!(!logs.contains(&secret), "a secret reached the logs");
    }
}

#[tokio::test]
async fn the_openapi_document_describes_every_route() {
    let app = TestApp::spawn().await;
    let r = app
        .raw(Method::GET, "/v1/s3/openapi.json", None, vec![])
        .await;
    r.assert_status(200);
    let doc = r.json();
    assert!(
        doc["openapi"].as_str().unwrap().starts_with("3.1"),
        "{}",
        doc["openapi"]
    );
    let paths = doc["paths"].as_object().unwrap();
    let expected: &[(&str, &[&str])] = &[
        ("/v1/s3/ping", &["get"]),
        ("/v1/s3/version", &["get"]),
        ("/v1/s3/metrics", &["get"]),
        ("/v1/s3/openapi.json", &["get"]),
        ("/v1/s3/{account}/buckets", &["get", "post"]),
        (
            "/v1/s3/{account}/buckets/{bucket}",
            &["get", "head", "put", "delete"],
        ),
        ("/v1/s3/{account}/buckets/{bucket}/duck", &["get"]),
        ("/v1/s3/{account}/buckets/{bucket}/users", &["get", "post"]),
        (
            "/v1/s3/{account}/buckets/{bucket}/users/{user}",
            &["get", "put", "delete"],
        ),
        ("/v1/s3/{account}/websites", &["post"]),
        (
            "/v1/s3/{account}/websites/{website}",
            &["get", "head", "put", "patch", "delete"],
        ),
        ("/v1/s3/{account}/websites/{website}/duck", &["get"]),
        (
            "/v1/s3/{account}/websites/{website}/users",
            &["get", "post"],
        ),
        (
            "/v1/s3/{account}/websites/{website}/users/{user}",
            &["get", "put", "delete"],
        ),
    ];
    assert_eq!(
        paths.len(),
        expected.len(),
        "{:?}",
        paths.keys().collect::<Vec<_>>()
    );
    for (path, methods) in expected {
        let item = paths.get(*path).unwrap_or_else(|| panic!("{path} missing"));
        for m in *methods {
            assert!(item.get(*m).is_some(), "{m} {path} missing");
        }
    }
    let create = &paths["/v1/s3/{account}/buckets"]["post"];
    assert!(create["responses"]["202"].is_object());
    assert!(create["responses"]["409"]["content"]["application/problem+json"].is_object());
    assert_eq!(create["security"][0]["token"], serde_json::json!([]));
    let schemas = doc["components"]["schemas"].as_object().unwrap();
    for s in [
        "CreateBucketBody",
        "Problem",
        "Tag",
        "UserView",
        "CreateWebsiteBody",
    ] {
        assert!(schemas.contains_key(s), "{s} missing");
    }
    assert_eq!(
        schemas["CreateBucketBody"]["additionalProperties"], false,
        "unknown fields are refused"
    );
}

/// What a generated client needs of the response schemas: every property the service always writes is
/// `required` (a generated model then has no "unset" state for it; `null` stays possible where the schema says so),
/// every timestamp is a `date-time`, and the closed sets are enums.
#[tokio::test]
async fn response_schemas_declare_what_is_always_there() {
    let app = TestApp::spawn().await;
    let doc = app
        .raw(Method::GET, "/v1/s3/openapi.json", None, vec![])
        .await
        .json();
    let schemas = doc["components"]["schemas"].as_object().unwrap();
    fn refs(v: &serde_json::Value, out: &mut Vec<String>) {
        match v {
            serde_json::Value::Object(o) => {
                for (k, v) in o {
                    match (k.as_str(), v.as_str()) {
                        ("$ref", Some(r)) => out.push(r.rsplit('/').next().unwrap().to_owned()),
                        _ => refs(v, out),
                    }
                }
            }
            serde_json::Value::Array(a) => a.iter().for_each(|v| refs(v, out)),
            _ => {}
        }
    }
    let mut todo = Vec::new();
    for item in doc["paths"].as_object().unwrap().values() {
        for op in item.as_object().unwrap().values() {
            refs(&op["responses"], &mut todo);
        }
    }
    let mut seen = std::collections::BTreeSet::new();
    while let Some(name) = todo.pop() {
        if seen.insert(name.clone()) {
            refs(&schemas[&name], &mut todo);
        }
    }
    assert!(seen.len() > 20, "{seen:?}");
    let mut unsaid = Vec::new();
    for name in &seen {
        let schema = &schemas[name];
        let required: Vec<&str> = (schema["required"].as_array().into_iter().flatten())
            .filter_map(|r| r.as_str())
            .collect();
        for (prop, def) in schema["properties"].as_object().into_iter().flatten() {
            // A problem document carries `rollback` only for a create that was rolled back.
            if !required.contains(&prop.as_str())
                && (name.as_str(), prop.as_str()) != ("Problem", "rollback")
            {
                unsaid.push(format!("{name}.{prop} is not required"));
            }
            let timestamp = ["Date", "Time", "At", "LastUsed"]
                .iter()
                .any(|s| prop.ends_with(s));
            if timestamp && def["format"] != "date-time" {
                unsaid.push(format!("{name}.{prop} is not a date-time"));
            }
        }
    }
    assert!(unsaid.is_empty(), "{unsaid:#?}");
    let closed = |name: &str| -> Vec<String> {
        (schemas[name]["enum"].as_array().into_iter().flatten())
            .map(|v| v.as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(closed("KeyStatus"), ["Active", "Inactive", "Expired"]);
    assert_eq!(
        closed("GroupKindName"),
        ["BktAdmGrp", "BktRWGrp", "BktROGrp", "WebAdmGrp"]
    );
    assert_eq!(
        closed("Lifecycle"),
        ["deep-archive", "glacier", "intelligent-tiering"]
    );
    let duck = &doc["paths"]["/v1/s3/{account}/buckets/{bucket}/duck"]["get"]["responses"]["200"]
        ["content"];
    assert!(
        duck["application/xml"].is_object() && duck["text/xml"].is_object(),
        "{duck}"
    );
}

/// `promtool check metrics` (Prometheus' own linter) accepts the exposition after traffic of every kind: HTTP,
/// AWS calls, errors. `scripts/promtool` fetches the pinned promtool on first use.
#[tokio::test]
async fn metrics_pass_promtool() {
    let promtool = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/promtool");
    let app = TestApp::spawn().await;
    let bucket = unique("promtool");
    app.create_bucket(&bucket).await;
    app.get(&app.buckets("/Not_Valid")).await.assert_status(400);
    app.get("/v1/s3/nosuchaccount/buckets")
        .await
        .assert_status(404);
    let text = app
        .raw(Method::GET, "/v1/s3/metrics", None, vec![])
        .await
        .body;

    use std::io::Write;
    let child = std::process::Command::new(&promtool)
        .args(["check", "metrics"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn();
    let mut child = child.unwrap_or_else(|e| panic!("cannot run {}: {e}", promtool.display()));
    child.stdin.take().unwrap().write_all(&text).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "promtool: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The alerting rules load (`promtool check rules`) and fire as their unit tests say (`promtool test rules`).
#[test]
fn alerting_rules_pass_promtool() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let promtool = root.join("scripts/promtool");
    for args in [
        ["check", "rules", "deploy/prometheus/alerts.yml"],
        ["test", "rules", "deploy/prometheus/alerts.test.yml"],
    ] {
        let out = std::process::Command::new(&promtool)
            .args(args)
            .current_dir(root)
            .output()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", promtool.display()));
        assert!(
            out.status.success(),
            "promtool {args:?}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// Every metric the dashboard and the alerts name is one the service exports.
#[test]
fn the_dashboard_and_the_alerts_use_the_service_s_metrics() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let exported = s3_api::telemetry::Metrics::new().names().to_vec();
    let dashboard: Value = serde_json::from_str(
        &std::fs::read_to_string(root.join("deploy/grafana/s3-api.json")).unwrap(),
    )
    .unwrap();
    let mut exprs: Vec<String> = dashboard["panels"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|p| p["targets"].as_array().unwrap().clone())
        .map(|t| t["expr"].as_str().unwrap().to_owned())
        .collect();
    assert!(exprs.len() >= 15, "{exprs:?}");
    let alerts = std::fs::read_to_string(root.join("deploy/prometheus/alerts.yml")).unwrap();
    exprs.push(alerts);
    let metric =
        regex::Regex::new(r"\b((?:http|aws|auth|rollbacks|cleaner|process|s3_api)_[a-z_]+)\b")
            .unwrap();
    let mut used = std::collections::BTreeSet::new();
    for e in &exprs {
        for m in metric.captures_iter(e) {
            used.insert(m[1].to_owned());
        }
    }
    for name in &used {
        let base = ["_bucket", "_count", "_sum"]
            .iter()
            .find_map(|s| name.strip_suffix(s))
            .unwrap_or(name);
        assert!(
            exported.iter().any(|e| e == base || e == name),
            "{name} is not a metric of the service: {exported:?}"
        );
    }
    assert!(used.len() >= 12, "{used:?}");
}
