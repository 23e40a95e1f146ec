//! The resilience stack: AWS deadlines, refused connections, overload, request timeouts, graceful stop.

use std::time::{Duration, Instant};

use axum::http::Method;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::faults::Fault;
use crate::helpers::{start_binary, TestApp, TOKEN};
use crate::moto;

#[tokio::test]
async fn an_aws_call_that_never_answers_is_504_within_the_deadline() {
    let app = TestApp::spawn_with(|c| c.aws_timeout = Duration::from_secs(1)).await;
    app.faults.fail_always("s3:ListBuckets", Fault::Hang);
    let started = Instant::now();
    let r = app.get(&app.buckets("")).await;
    r.assert_status(504);
    assert_eq!(r.code(), "AwsTimeout");
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "took {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn too_many_requests_at_once_are_shed_with_503() {
    let app = TestApp::spawn_with(|c| {
        c.max_concurrent_requests = 1;
        c.aws_timeout = Duration::from_secs(2);
    })
    .await;
    app.faults.fail_always("s3:ListBuckets", Fault::Hang);
    let path = app.buckets("");
    let slow = app.get(&path);
    let second = async {
        tokio::time::sleep(Duration::from_millis(300)).await;
        app.get("/v1/s3/test/buckets/some-bucket").await
    };
    let (slow, second) = tokio::join!(slow, second);
    slow.assert_status(504);
    second.assert_status(503);
    assert_eq!(second.code(), "Overloaded");
    assert_eq!(second.headers["retry-after"], "1");
}

#[tokio::test]
async fn a_request_over_the_request_timeout_gets_503() {
    let app = TestApp::spawn_with(|c| {
        c.request_timeout = Duration::from_millis(500);
        c.aws_timeout = Duration::from_secs(3);
    })
    .await;
    app.faults.fail_always("s3:ListBuckets", Fault::Hang);
    let started = Instant::now();
    let r = app.get(&app.buckets("")).await;
    r.assert_status(503);
    assert_eq!(r.code(), "RequestTimeout");
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[tokio::test]
async fn a_stopping_service_refuses_new_requests() {
    let app = TestApp::spawn().await;
    app.state
        .stopping
        .store(true, std::sync::atomic::Ordering::SeqCst);
    let r = app.request(Method::GET, "/v1/s3/ping", None).await;
    r.assert_status(503);
    assert_eq!(r.code(), "ShuttingDown");
    assert_eq!(r.headers["connection"], "close");
}

/// A TCP proxy to moto that holds every new connection for `delay` before passing bytes on: AWS being slow.
async fn slow_proxy(delay: Duration) -> std::net::SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let target = moto::endpoint().trim_start_matches("http://").to_owned();
    tokio::spawn(async move {
        loop {
            let Ok((mut client, _)) = listener.accept().await else {
                return;
            };
            let target = target.clone();
            tokio::spawn(async move {
                tokio::time::sleep(delay).await;
                if let Ok(mut upstream) = TcpStream::connect(&target).await {
                    let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
                }
            });
        }
    });
    addr
}

async fn get(addr: std::net::SocketAddr, path: &str) -> String {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: x\r\nX-Auth-Token: {TOKEN}\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.unwrap();
    String::from_utf8_lossy(&response).into_owned()
}

/// The real binary: SIGTERM while a request waits on AWS lets the request finish, then the process exits 0.
#[tokio::test]
async fn sigterm_lets_the_request_in_flight_finish_and_exits_zero() {
    let proxy = slow_proxy(Duration::from_millis(1500)).await;
    let (mut child, addr, config) = start_binary(&format!(
        r#"token = "{TOKEN}"
org = "testorg"
logFormat = "text"
shutdownGracePeriod = "10s"
awsTimeout = "3s"
[accounts.test]
region = "us-east-1"
endpoint = "http://{proxy}"
akid = "sigterm"
secret = "sigterm"
"#
    ))
    .await;

    let request = tokio::spawn(async move { get(addr, "/v1/s3/test/buckets").await });
    tokio::time::sleep(Duration::from_millis(400)).await;
    // SAFETY: sending a signal to the child process this test started.
    assert_eq!(unsafe { libc::kill(child.id() as i32, libc::SIGTERM) }, 0);

    let response = request.await.unwrap();
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    let deadline = Instant::now() + Duration::from_secs(15);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "the service did not stop");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(status.success(), "{status:?}");
    let _ = std::fs::remove_file(&config);
}

/// SIGTERM right after the service first answers is a graceful stop too (the signal handlers are in place
/// before the first connection is accepted).
#[tokio::test]
async fn sigterm_right_after_start_exits_zero() {
    for _ in 0..10 {
        let (mut child, _, config) = start_binary(&format!(
            "token = \"t\"\norg = \"o\"\n[accounts.a]\nregion = \"us-east-1\"\nendpoint = \"{}\"\nakid = \"a\"\nsecret = \"s\"\n",
            moto::endpoint()
        ))
        .await;
        // SAFETY: sending a signal to the child process this test started.
        assert_eq!(unsafe { libc::kill(child.id() as i32, libc::SIGTERM) }, 0);
        let status = tokio::task::spawn_blocking(move || child.wait())
            .await
            .unwrap()
            .unwrap();
        assert!(status.success(), "{status:?}");
        let _ = std::fs::remove_file(&config);
    }
}
