//! `s3-api convert-config`: the Go service's configuration (a fixture written from its documented keys) becomes
//! a configuration that `check-config` accepts and that serves both of its accounts.

use std::process::Command;
use std::sync::Arc;

use axum::http::Method;
use s3_api::app::{App, AppState};
use s3_api::aws::AwsHooks;
use tower::ServiceExt;

use crate::helpers::{remember_secret, unique};
use crate::moto;

const FIXTURE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/go-config.json");

fn s3_api(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_s3-api"))
        .args(args)
        .output()
        .unwrap()
}

#[tokio::test]
async fn a_converted_go_config_passes_check_config_and_serves_both_accounts() {
    remember_secret("go-era-secret");
    let out = s3_api(&["convert-config", FIXTURE]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let toml = String::from_utf8(out.stdout).unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("account.sessionToken"), "{stderr}");
    for secret in ["never-print", "go-era-secret", "go-era-token"] {
        assert!(!stderr.contains(secret), "{stderr}");
    }

    let path = std::env::temp_dir().join(format!("{}.toml", unique("converted")));
    std::fs::write(&path, &toml).unwrap();
    let check = s3_api(&["--config", path.to_str().unwrap(), "check-config"]);
    assert!(
        check.status.success(),
        "{}\n{toml}",
        String::from_utf8_lossy(&check.stderr)
    );
    assert!(String::from_utf8_lossy(&check.stdout).contains("2 accounts"));

    // Served, with both accounts pointed at the emulator (the Go config left the endpoint to the SDK).
    let env = ["SPINUP", "SPINUPSEC"].map(|a| {
        (
            format!("S3API__ACCOUNTS__{a}__ENDPOINT"),
            moto::endpoint().to_owned(),
        )
    });
    let config = s3_api::config::Config::load(&path, env).unwrap();
    let _ = std::fs::remove_file(&path);
    let app = App::new(config, AwsHooks::default()).await.unwrap();
    let router = s3_api::http::router(AppState(Arc::new(app)));
    for account in ["spinup", "spinupsec"] {
        let request = axum::http::Request::builder()
            .method(Method::GET)
            .uri(format!("/v1/s3/{account}/buckets"))
            .header("X-Auth-Token", "go-era-token")
            .body(axum::body::Body::empty())
            .unwrap();
        let response = router.clone().oneshot(request).await.unwrap();
        assert_eq!(response.status(), 200, "{account}");
    }
}

#[test]
fn the_older_go_shape_is_refused_with_a_message() {
    let path = std::env::temp_dir().join(format!("{}.json", unique("old-go")));
    std::fs::write(
        &path,
        r#"{"token": "t", "org": "o", "accounts": {"x": {"region": "us-east-1"}}}"#,
    )
    .unwrap();
    let out = s3_api(&["convert-config", path.to_str().unwrap()]);
    let _ = std::fs::remove_file(&path);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("older shape"));
    assert!(out.stdout.is_empty());
}
