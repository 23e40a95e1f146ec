//! An integrator's view: a Python client generated from the served OpenAPI document with openapi-python-client
//! (pinned in the test tools' virtualenv, `scripts/moto-requirements.txt`) drives buckets, users, a website and
//! its users, and every response must parse into its declared model (`generated_client.py`).

use std::process::Command;

use axum::http::Method;

use crate::helpers::{TestApp, TOKEN};
use crate::moto;

#[tokio::test]
async fn a_generated_python_client_parses_every_response_into_its_model() {
    let (app, w) = TestApp::spawn_websites().await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let router = app.router.clone();
    tokio::spawn(async move { axum::serve(listener, router).await });

    let dir = std::env::temp_dir().join(crate::helpers::unique("generated-client"));
    std::fs::create_dir_all(&dir).unwrap();
    let document = app
        .raw(Method::GET, "/v1/s3/openapi.json", None, vec![])
        .await
        .body;
    std::fs::write(dir.join("openapi.json"), document).unwrap();
    // No formatter runs after generation: the generator would warn that `ruff` is missing.
    std::fs::write(dir.join("generator.yaml"), "post_hooks: []\n").unwrap();
    let venv = moto::python().parent().unwrap().to_owned();
    let generated = Command::new(venv.join("openapi-python-client"))
        .args(["generate", "--path"])
        .arg(dir.join("openapi.json"))
        .arg("--config")
        .arg(dir.join("generator.yaml"))
        .arg("--output-path")
        .arg(dir.join("s3_api_client"))
        .args(["--meta", "none"])
        .output()
        .unwrap();
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&generated.stdout),
        String::from_utf8_lossy(&generated.stderr)
    );
    // A warning means an operation or a schema the generator skipped (the bookmark's XML did, before it was also
    // declared as `text/xml`).
    assert!(
        generated.status.success() && !said.to_lowercase().contains("warning"),
        "{said}"
    );

    // The client is blocking: off the runtime that serves it.
    let driver = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/api/generated_client.py");
    let (python, dir2, domain) = (moto::python(), dir.clone(), w.domain.clone());
    let run = tokio::task::spawn_blocking(move || {
        Command::new(python)
            .arg(driver)
            .arg(&dir2)
            .arg(format!("http://{addr}"))
            .arg(TOKEN)
            .arg(domain)
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    eprintln!("{}", String::from_utf8_lossy(&run.stdout));
    assert!(
        run.status.success(),
        "{}{}",
        String::from_utf8_lossy(&run.stdout),
        String::from_utf8_lossy(&run.stderr)
    );
}
