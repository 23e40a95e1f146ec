//! The service on a real socket: HTTP/1.1 over TCP, HEAD without a body, graceful shutdown.

use std::time::Duration;

use s3_api::app::App;
use s3_api::aws::AwsHooks;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::helpers::{test_config, unique, TOKEN};

/// Sends one HTTP/1.1 request with `Connection: close` and returns the raw response.
async fn http(addr: std::net::SocketAddr, request: &str) -> String {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.unwrap();
    String::from_utf8_lossy(&response).into_owned()
}

#[tokio::test]
async fn serves_on_a_socket_and_stops_gracefully() {
    let config = test_config("123456789012", &unique("logs"));
    let app = App::new(config, AwsHooks::default()).await.unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(s3_api::server::serve(
        listener,
        app,
        async {
            let _ = stopped.await;
        },
        None,
    ));

    let ping = http(
        addr,
        "GET /v1/s3/ping HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert!(ping.starts_with("HTTP/1.1 200"), "{ping}");
    assert!(ping.ends_with("pong"), "{ping}");
    assert!(
        ping.to_ascii_lowercase().contains("x-request-id:"),
        "{ping}"
    );

    let head = http(
        addr,
        &format!(
            "HEAD /v1/s3/nosuchaccount/buckets/b HTTP/1.1\r\nHost: x\r\nX-Auth-Token: {TOKEN}\r\nConnection: close\r\n\r\n"
        ),
    )
    .await;
    assert!(head.starts_with("HTTP/1.1 404"), "{head}");
    assert!(
        head.ends_with("\r\n\r\n"),
        "a HEAD response has no body: {head:?}"
    );

    let healthy = tokio::task::spawn_blocking(move || s3_api::server::healthcheck(addr))
        .await
        .unwrap();
    assert!(healthy.is_ok(), "{healthy:?}");

    stop.send(()).unwrap();
    let result = tokio::time::timeout(Duration::from_secs(10), server)
        .await
        .expect("server stops");
    result.unwrap().unwrap();
    assert!(
        TcpStream::connect(addr).await.is_err(),
        "the socket is closed after shutdown"
    );
}
