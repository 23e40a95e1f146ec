//! Rotation without a restart: the real binary reads its tokens again on SIGHUP.

use std::time::{Duration, Instant};

use crate::helpers::{start_binary, unique};

fn sha(secret: &str) -> String {
    hex::encode(s3_api::http::auth::sha256(secret))
}

fn config(endpoint: &str, tokens: &[(&str, &str)]) -> String {
    let mut text = format!(
        "org = \"o\"\nawsTimeout = \"2s\"\n[accounts.test]\nregion = \"us-east-1\"\nendpoint = \"{endpoint}\"\n\
         akid = \"a\"\nsecret = \"s\"\n"
    );
    for (name, secret) in tokens {
        text.push_str(&format!(
            "[[tokens]]\nname = \"{name}\"\nsha256 = \"{}\"\naccounts = [\"*\"]\nscope = \"admin\"\n",
            sha(secret)
        ));
    }
    text
}

/// The status of `GET path` with `token`, over a fresh connection.
async fn status(addr: std::net::SocketAddr, path: &str, token: &str) -> u16 {
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: x\r\nX-Auth-Token: {token}\r\nConnection: close\r\n\r\n"
    );
    tokio::task::spawn_blocking(move || {
        use std::io::{Read, Write};
        let mut s = std::net::TcpStream::connect(addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        s.write_all(request.as_bytes()).unwrap();
        let mut out = String::new();
        let _ = s.read_to_string(&mut out);
        out.split(' ')
            .nth(1)
            .and_then(|c| c.parse().ok())
            .unwrap_or(0)
    })
    .await
    .unwrap()
}

fn hangup(child: &std::process::Child) {
    // SAFETY: a signal to the child this test started.
    let rc = unsafe { libc::kill(child.id() as i32, libc::SIGHUP) };
    assert_eq!(rc, 0);
}

#[tokio::test]
async fn sighup_puts_new_tokens_in_force_and_refuses_a_broken_file() {
    // An AWS endpoint that accepts and never answers: a request to it stays in flight for awsTimeout.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("http://{}", silent.local_addr().unwrap());
    let (old, new) = (unique("s3t_old"), unique("s3t_new"));
    let (mut child, addr, path) = start_binary(&config(&endpoint, &[("old", &old)])).await;
    let unknown = "/v1/s3/nosuch/buckets";
    assert_eq!(status(addr, unknown, &old).await, 404);
    assert_eq!(status(addr, unknown, &new).await, 403);

    // A request in flight with the old token (its AWS call hangs until awsTimeout).
    let flying = old.clone();
    let in_flight = tokio::spawn(async move { status(addr, "/v1/s3/test/buckets", &flying).await });
    tokio::time::sleep(Duration::from_millis(300)).await;

    let text = std::fs::read_to_string(&path).unwrap();
    let listen = text.lines().next().unwrap().to_owned();
    std::fs::write(
        &path,
        format!("{listen}\n{}", config(&endpoint, &[("new", &new)])),
    )
    .unwrap();
    let sent = Instant::now();
    hangup(&child);
    loop {
        if status(addr, unknown, &new).await == 404 {
            break;
        }
        assert!(
            sent.elapsed() < Duration::from_secs(1),
            "the new token was not in force within a second"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(
        status(addr, unknown, &old).await,
        403,
        "the removed token is refused"
    );
    // The request that was in flight completes with its own outcome, not a refusal.
    assert_eq!(in_flight.await.unwrap(), 504);

    // A broken file is refused; the running tokens stay.
    std::fs::write(
        &path,
        format!("{listen}\norg = \"o\"\n[[tokens]]\nname = \"x\"\n"),
    )
    .unwrap();
    hangup(&child);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        child.try_wait().unwrap().is_none(),
        "the service kept running"
    );
    assert_eq!(status(addr, unknown, &new).await, 404);

    let _ = child.kill();
    let _ = child.wait();
    let _ = std::fs::remove_file(&path);
    drop(silent);
}
