//! Named, scoped tokens (API.md §1.1): each allowed call works, each refused one is 403 before any AWS call, the
//! legacy token (and a bcrypt hash of it) still opens everything, and every changing request leaves one audit
//! event naming its token.

use axum::http::Method;
use serde_json::{json, Value};

use crate::helpers::{log_text, remember_secret, unique, TestApp, TOKEN};

/// A token of the configuration, and its secret.
struct Token {
    name: &'static str,
    secret: String,
}

fn token(
    c: &mut s3_api::config::Config,
    name: &'static str,
    accounts: &[&str],
    scope: s3_api::config::Scope,
    expires: Option<std::time::SystemTime>,
) -> Token {
    let secret = format!("s3t_{}-{}", name, unique("secret"));
    remember_secret(&secret);
    c.tokens.push(s3_api::config::TokenConfig {
        name: name.to_owned(),
        sha256: hex::encode(s3_api::http::auth::sha256(&secret)),
        accounts: accounts.iter().map(|a| a.to_string()).collect(),
        scope,
        expires,
    });
    Token { name, secret }
}

struct Tokens {
    reader: Token,
    writer: Token,
    admin: Token,
    anywhere: Token,
    expired: Token,
}

async fn app_with_tokens() -> (TestApp, Tokens) {
    use s3_api::config::Scope;
    let mut made = None;
    let app = TestApp::spawn_with(|c| {
        let past = std::time::SystemTime::now() - std::time::Duration::from_secs(60);
        made = Some(Tokens {
            reader: token(c, "reader", &["test"], Scope::Read, None),
            writer: token(c, "writer", &["test"], Scope::Write, None),
            admin: token(c, "admin", &["test"], Scope::Admin, None),
            anywhere: token(c, "anywhere", &["*"], Scope::Read, None),
            expired: token(c, "expired", &["*"], Scope::Admin, Some(past)),
        });
    })
    .await;
    (app, made.unwrap())
}

async fn call(
    app: &TestApp,
    t: &str,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (u16, String) {
    let body = body.map(|b| b.to_string().into_bytes()).unwrap_or_default();
    let r = app.raw(method, path, Some(t), body).await;
    let code = serde_json::from_slice::<Value>(&r.body)
        .ok()
        .and_then(|v| v["code"].as_str().map(str::to_owned))
        .unwrap_or_default();
    (r.status.as_u16(), code)
}

#[tokio::test]
async fn each_scope_may_do_its_part_on_its_accounts_and_no_more() {
    let (app, t) = app_with_tokens().await;
    let bucket = unique("scoped");
    let path = app.buckets(&format!("/{bucket}"));

    // Refused: 403 with the reason, and not one AWS call.
    app.faults.clear_calls();
    let refused = [
        (&t.reader, Method::POST, app.buckets(""), "TokenNotAllowed"),
        (&t.reader, Method::DELETE, path.clone(), "TokenNotAllowed"),
        (&t.writer, Method::DELETE, path.clone(), "TokenNotAllowed"),
        (&t.anywhere, Method::PUT, path.clone(), "TokenNotAllowed"),
        (
            &t.reader,
            Method::GET,
            "/v1/s3/elsewhere/buckets".to_owned(),
            "TokenNotAllowed",
        ),
        (&t.expired, Method::GET, app.buckets(""), "TokenExpired"),
    ];
    for (token, method, p, code) in refused {
        let body = (method == Method::POST).then(|| json!({"BucketInput": {"Bucket": bucket}}));
        let (status, got) = call(&app, &token.secret, method.clone(), &p, body).await;
        assert_eq!(
            (status, got.as_str()),
            (403, code),
            "{} {method} {p}",
            token.name
        );
    }
    let r = app
        .raw(
            Method::GET,
            &app.buckets(""),
            Some(&t.reader.secret.replace("s3t_", "s3x_")),
            vec![],
        )
        .await;
    assert_eq!(
        (r.status.as_u16(), r.code().as_str()),
        (403, "InvalidToken")
    );
    assert!(
        app.faults.calls().is_empty(),
        "refused requests made AWS calls: {:?}",
        app.faults.calls()
    );
    let detail = app
        .raw(Method::DELETE, &path, Some(&t.writer.secret), vec![])
        .await
        .json()["detail"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        detail.contains("scope write") && detail.contains("needs admin"),
        "{detail}"
    );

    // Allowed: each scope its part, in order (the create first, the delete last).
    let create = json!({"BucketInput": {"Bucket": bucket}});
    let tags = json!({"Tags": [{"Key": "Team", "Value": "a"}]});
    let allowed = [
        (
            &t.writer,
            Method::POST,
            app.buckets(""),
            Some(create),
            202,
            "",
        ),
        (&t.reader, Method::GET, path.clone(), None, 200, ""),
        (&t.reader, Method::HEAD, path.clone(), None, 200, ""),
        (&t.anywhere, Method::GET, path.clone(), None, 200, ""),
        // "*" reaches every account; an account that does not exist is then simply not found.
        (
            &t.anywhere,
            Method::GET,
            "/v1/s3/elsewhere/buckets".to_owned(),
            None,
            404,
            "AccountNotFound",
        ),
        (&t.writer, Method::PUT, path.clone(), Some(tags), 200, ""),
        (&t.admin, Method::DELETE, path.clone(), None, 200, ""),
    ];
    for (token, method, p, body, status, code) in allowed {
        if method == Method::DELETE {
            app.aws.settle().await;
        }
        let got = call(&app, &token.secret, method.clone(), &p, body).await;
        assert_eq!(
            (got.0, got.1.as_str()),
            (status, code),
            "{} {method} {p}",
            token.name
        );
    }

    // The legacy token, and a bcrypt hash of it, still open everything.
    let legacy = unique("legacy");
    let hash = bcrypt::hash(TOKEN, 4).unwrap();
    let body = json!({"BucketInput": {"Bucket": legacy}})
        .to_string()
        .into_bytes();
    let r = app
        .raw(Method::POST, &app.buckets(""), Some(&hash), body)
        .await;
    assert_eq!(r.status.as_u16(), 202);
    app.aws.settle().await;
    let r = app
        .raw(
            Method::DELETE,
            &app.buckets(&format!("/{legacy}")),
            Some(TOKEN),
            vec![],
        )
        .await;
    assert_eq!(r.status.as_u16(), 200);

    let metrics = app
        .raw(Method::GET, "/v1/s3/metrics", None, vec![])
        .await
        .text();
    for line in [
        "auth_refused_total{reason=\"not_allowed\"}",
        "auth_refused_total{reason=\"expired\"}",
        "auth_refused_total{reason=\"invalid\"}",
        "auth_requests_total{token=\"writer\"}",
        "auth_requests_total{token=\"legacy\"}",
    ] {
        assert!(metrics.contains(line), "{line} missing from\n{metrics}");
    }
}

/// The audit events of the log, by request id.
fn audit_events() -> Vec<Value> {
    log_text()
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v["target"] == "audit")
        // The test log nests an event's fields; the service's own JSON format puts them at the top.
        .map(|v| match v.get("fields") {
            Some(fields) => fields.clone(),
            None => v,
        })
        .collect()
}

#[tokio::test]
async fn every_changing_request_has_one_audit_event_naming_its_token() {
    let (app, t) = app_with_tokens().await;
    let bucket = unique("audited");
    let user = unique("audited-u");
    let mut expected: Vec<(String, &str, u16)> = Vec::new();
    let send =
        |token: &str, name: &'static str, method: Method, path: String, body: Option<Value>| {
            let app = &app;
            let token = token.to_owned();
            async move {
                let body = body.map(|b| b.to_string().into_bytes()).unwrap_or_default();
                let r = app.raw(method, &path, Some(&token), body).await;
                let id = r.headers["x-request-id"].to_str().unwrap().to_owned();
                (id, name, r.status.as_u16())
            }
        };
    let bucket_body = json!({"BucketInput": {"Bucket": bucket}});
    for (token, name) in [(&t.reader.secret, "reader"), (&t.writer.secret, "writer")] {
        let path = app.buckets("");
        let r = send(token, name, Method::POST, path, Some(bucket_body.clone())).await;
        expected.push(r);
    }
    app.aws.settle().await;
    let users = app.buckets(&format!("/{bucket}/users"));
    let the_user = format!("{users}/{user}");
    let user_body = json!({"User": {"UserName": user}});
    let steps = [
        (
            t.writer.secret.as_str(),
            "writer",
            Method::POST,
            users.clone(),
            Some(user_body),
        ),
        (
            &t.expired.secret,
            "expired",
            Method::DELETE,
            the_user.clone(),
            None,
        ),
        ("not-a-token", "-", Method::DELETE, the_user.clone(), None),
        (&t.admin.secret, "admin", Method::DELETE, the_user, None),
        (
            TOKEN,
            "legacy",
            Method::DELETE,
            app.buckets(&format!("/{bucket}")),
            None,
        ),
    ];
    for (token, name, method, path, body) in steps {
        expected.push(send(token, name, method, path, body).await);
    }
    // Reads leave no audit event.
    let (read_id, _, _) = send(
        &t.reader.secret,
        "reader",
        Method::GET,
        app.buckets(""),
        None,
    )
    .await;

    let events = audit_events();
    for (id, token, status) in &expected {
        let mine: Vec<&Value> = events
            .iter()
            .filter(|e| e["requestId"] == id.as_str())
            .collect();
        assert_eq!(mine.len(), 1, "request {id}: {mine:?}");
        let e = mine[0];
        assert_eq!(e["token"], *token, "{e}");
        assert_eq!(e["status"], *status, "{e}");
        assert_eq!(e["account"], "test", "{e}");
        assert!(
            e["route"]
                .as_str()
                .unwrap()
                .starts_with("/v1/s3/{account}/buckets"),
            "{e}"
        );
    }
    assert!(!events.iter().any(|e| e["requestId"] == read_id.as_str()));
    // What was made and deleted, in AWS terms, and the names involved.
    let by_id = |i: usize| {
        events
            .iter()
            .find(|e| e["requestId"] == expected[i].0.as_str())
            .unwrap()
    };
    for (i, field, part) in [
        (1, "created", "BktAdmGrp".to_owned()),
        (1, "resource", bucket.clone()),
        (2, "created", "access key".to_owned()),
        (5, "resource", user.clone()),
        (6, "deleted", format!("{bucket}-BktAdmPlc")),
    ] {
        let e = by_id(i);
        assert!(
            e[field].as_str().unwrap_or_default().contains(&part),
            "{field} of {e}"
        );
    }

    // No log line holds a token secret or a secret access key.
    let logs = log_text();
    let secrets = crate::helpers::known_secrets();
    for s in secrets.iter().chain([&t.reader.secret, &t.admin.secret]) {
        assert!(!logs.contains(s.as_str()), "a secret is in the log");
    }
}
