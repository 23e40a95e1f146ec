//! Fault injection for AWS SDK clients, as an interceptor.
//!
//! Push one [`Faults`] (cheaply cloneable, shared state) onto every service
//! client. It records every operation as `"service:Operation"` and, when a
//! rule matches an attempt, redirects that attempt's HTTP request away from
//! moto to a local fault server (or to a closed port), so the call never
//! reaches moto and no resource is created there.
//!
//! Rules apply per *attempt* (`modify_before_transmit` runs once per attempt):
//! `fail_once` with a retryable fault (e.g. a 500) fails the first attempt
//! and lets the SDK's retry reach moto; `fail_always` fails every attempt.
//! [`Faults::calls`] records once per *operation*, however often it is retried;
//! [`Faults::attempts`] counts every attempt.
//! The standard retry strategy retries 5xx, connection errors and
//! throttling codes (`Throttling`, `SlowDown`, `LimitExceededException`, ...
//! even with a 4xx), and the service's clients add S3 `OperationAborted` and
//! IAM `ConcurrentModification`: use `fail_always` to make those reach the
//! caller.

// Not every test binary uses the whole API.
#![allow(dead_code)]

use std::collections::VecDeque;
use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::sync::{mpsc, Arc, Mutex, MutexGuard, OnceLock};
use std::time::Duration;

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::{
    BeforeSerializationInterceptorContextRef, BeforeTransmitInterceptorContextMut,
};
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;
use axum::body::Body;
use axum::extract::Path;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use axum::Router;

/// What an intercepted attempt runs into.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// The service answers `status` with an error body carrying `code`, in the
    /// service's wire protocol, so `ProvideErrorMetadata::code()` is `code`.
    /// HEAD responses have no body: S3 `HeadBucket`/`HeadObject` then report
    /// code `NotFound` for a 404 and no code otherwise (the status is kept).
    Service { status: u16, code: &'static str },
    /// The connection is accepted and never answered (for timeout tests).
    Hang,
    /// The connection is refused (nothing listens on the port).
    Refuse,
    /// S3's answer for a bucket in another region: 301 with `x-amz-bucket-region`, and (but for HEAD) a
    /// `PermanentRedirect` error body.
    Redirect { region: &'static str },
    /// The same, as answered through another regional endpoint: 400, `x-amz-bucket-region`, and (but for
    /// HEAD) an `AuthorizationHeaderMalformed` error body.
    WrongRegion { region: &'static str },
    /// The attempt reaches moto and does its work there, but its answer is lost: the client gets a 500
    /// `InternalError` instead, so the SDK retries a call that has already succeeded.
    LostAnswer,
    /// The attempt reaches moto and does its work there, but its answer never comes (for timeouts that hide a
    /// success).
    AnswerNever,
}

/// Shared fault rules and call log; clones share state.
#[derive(Clone, Default, Debug)]
pub struct Faults(Arc<Inner>);

#[derive(Default, Debug)]
struct Inner {
    state: Mutex<State>,
}

#[derive(Default, Debug)]
struct State {
    /// Checked in insertion order; the first match wins.
    rules: VecDeque<Rule>,
    calls: Vec<String>,
    /// Every attempt (retries included), as `"service:Operation"`.
    attempts: Vec<String>,
    /// Operations whose request bodies are kept, and the bodies kept.
    capture: Vec<String>,
    bodies: Vec<(String, String)>,
}

#[derive(Debug)]
struct Rule {
    op: String,
    fault: Fault,
    once: bool,
}

impl Faults {
    /// Fails the next attempt of `op` (e.g. `"s3:CreateBucket"`) with `fault`.
    pub fn fail_once(&self, op: &str, fault: Fault) {
        self.add(op, fault, true);
    }

    /// Fails every attempt of `op` with `fault` until [`Faults::clear`].
    pub fn fail_always(&self, op: &str, fault: Fault) {
        self.add(op, fault, false);
    }

    /// The operations of the rules not yet used up.
    pub fn pending(&self) -> Vec<String> {
        self.state().rules.iter().map(|r| r.op.clone()).collect()
    }

    /// Drops all rules (the call log is kept).
    pub fn clear(&self) {
        self.state().rules.clear();
    }

    /// Every operation attempted through a client carrying this interceptor,
    /// in order, as `"service:Operation"`, once per operation (not per retry).
    pub fn calls(&self) -> Vec<String> {
        self.state().calls.clone()
    }

    pub fn clear_calls(&self) {
        self.state().calls.clear();
    }

    /// How many times `op` appears in [`Faults::calls`].
    pub fn count(&self, op: &str) -> usize {
        self.state().calls.iter().filter(|c| *c == op).count()
    }

    /// How many attempts of `op` were sent, the SDK's retries included.
    pub fn attempts(&self, op: &str) -> usize {
        self.state().attempts.iter().filter(|c| *c == op).count()
    }

    /// Keeps the request body of every later attempt of `op`, for [`Faults::bodies`].
    pub fn capture(&self, op: &str) {
        self.state().capture.push(op.to_owned());
    }

    /// The request bodies of `op` kept since [`Faults::capture`], in order.
    pub fn bodies(&self, op: &str) -> Vec<String> {
        (self.state().bodies.iter())
            .filter(|(o, _)| o == op)
            .map(|(_, b)| b.clone())
            .collect()
    }

    fn add(&self, op: &str, fault: Fault, once: bool) {
        assert!(
            op.contains(':'),
            "operation must look like \"s3:CreateBucket\", got {op:?}"
        );
        self.state().rules.push_back(Rule {
            op: op.to_owned(),
            fault,
            once,
        });
    }

    /// Returns the fault for this attempt of `op`, consuming a `fail_once` rule. A rule's op may name a part of
    /// the request body in brackets, `"iam:CreatePolicy[BktAdmPlc]"`, to pick one of several calls of the same
    /// operation.
    fn take(&self, op: &str, body: &[u8]) -> Option<Fault> {
        let mut state = self.state();
        let i = state
            .rules
            .iter()
            .position(|r| matches_call(&r.op, op, body))?;
        let fault = state.rules[i].fault;
        if state.rules[i].once {
            state.rules.remove(i);
        }
        Some(fault)
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // A panicking test must not poison the rules for the others.
        self.0.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Whether a rule's op (`"iam:CreatePolicy"`, or with a body part `"iam:CreatePolicy[BktAdmPlc]"`) names this
/// call.
fn matches_call(rule: &str, op: &str, body: &[u8]) -> bool {
    let (base, part) = split_op(rule);
    base == op
        && part.is_none_or(|part| {
            body.windows(part.len().max(1))
                .any(|w| w == part.as_bytes())
        })
}

/// `"iam:CreatePolicy[BktAdmPlc]"` → `("iam:CreatePolicy", Some("BktAdmPlc"))`.
pub fn split_op(op: &str) -> (&str, Option<&str>) {
    match op.split_once('[') {
        Some((base, rest)) => (base, Some(rest.trim_end_matches(']'))),
        None => (op, None),
    }
}

/// `("s3", "CreateBucket")` from the operation's [`Metadata`].
///
/// `Metadata::service()` is the model's sdkId ("S3", "IAM", "STS", and for
/// the other SDKs "CloudFront", "Route 53", "ACM"); it is lower-cased with
/// spaces and dashes removed to give the ids used in rules.
fn operation(cfg: &ConfigBag) -> (String, String) {
    match cfg.load::<Metadata>() {
        Some(m) => {
            let service = m
                .service()
                .chars()
                .filter(|c| !c.is_whitespace() && *c != '-')
                .flat_map(char::to_lowercase)
                .collect();
            (service, m.name().to_owned())
        }
        None => ("unknown".into(), "Unknown".into()),
    }
}

impl Intercept for Faults {
    fn name(&self) -> &'static str {
        "Faults"
    }

    // Not `read_before_execution`: for client-level interceptors it runs
    // before the operation's runtime plugin has stored `Metadata` in the bag.
    // `read_before_serialization` is the first hook that runs exactly once
    // per operation with `Metadata` available.
    fn read_before_serialization(
        &self,
        _context: &BeforeSerializationInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let (service, name) = operation(cfg);
        self.state().calls.push(format!("{service}:{name}"));
        Ok(())
    }

    fn modify_before_transmit(
        &self,
        context: &mut BeforeTransmitInterceptorContextMut<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let (service, name) = operation(cfg);
        let op = format!("{service}:{name}");
        let body = context
            .request()
            .body()
            .bytes()
            .unwrap_or_default()
            .to_vec();
        {
            let mut state = self.state();
            state.attempts.push(op.clone());
            if state.capture.contains(&op) {
                state
                    .bodies
                    .push((op.clone(), String::from_utf8_lossy(&body).into_owned()));
            }
        }
        let Some(fault) = self.take(&op, &body) else {
            return Ok(());
        };
        // The request is already signed; the fault server ignores signatures.
        if matches!(fault, Fault::LostAnswer | Fault::AnswerNever) {
            let upstream = context.request().uri().to_owned();
            context.request_mut().headers_mut().insert(
                UPSTREAM_HEADER,
                HeaderValue::from_str(&upstream).expect("a URI is a header value"),
            );
        }
        let uri = match fault {
            Fault::Service { status, code } => {
                format!(
                    "http://{}/__fault/error/{service}/{status}/{code}",
                    fault_server()
                )
            }
            Fault::Redirect { region } => {
                format!("http://{}/__fault/redirect/301/{region}", fault_server())
            }
            Fault::WrongRegion { region } => {
                format!("http://{}/__fault/redirect/400/{region}", fault_server())
            }
            Fault::Hang => format!("http://{}/__fault/hang", fault_server()),
            Fault::LostAnswer => format!("http://{}/__fault/lost/{service}", fault_server()),
            Fault::AnswerNever => format!("http://{}/__fault/late/{service}", fault_server()),
            Fault::Refuse => format!("http://127.0.0.1:{}/__fault/refused", refused_port()),
        };
        context.request_mut().set_uri(uri)?;
        Ok(())
    }
}

/// Address of the fault server, started once per process on its own thread
/// and tokio runtime (tests' runtimes come and go with each test).
fn fault_server() -> SocketAddr {
    static ADDR: OnceLock<SocketAddr> = OnceLock::new();
    *ADDR.get_or_init(|| {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind fault server");
        let addr = listener.local_addr().expect("fault server address");
        listener
            .set_nonblocking(true)
            .expect("nonblocking fault listener");
        let (tx, rx) = mpsc::channel();
        std::thread::Builder::new()
            .name("fault-server".into())
            .spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("fault server runtime");
                rt.block_on(async move {
                    let listener =
                        tokio::net::TcpListener::from_std(listener).expect("tokio fault listener");
                    let app = Router::new()
                        .route("/__fault/hang", any(hang))
                        .route("/__fault/lost/{service}", any(lost))
                        .route("/__fault/late/{service}", any(late))
                        .route("/__fault/error/{service}/{status}/{code}", any(error))
                        .route("/__fault/redirect/{status}/{region}", any(redirect));
                    let _ = tx.send(());
                    axum::serve(listener, app).await.expect("fault server");
                });
            })
            .expect("spawn fault-server thread");
        rx.recv().expect("fault server failed to start");
        addr
    })
}

/// A loopback port that refuses connections: a TCP socket bound to it but
/// never listening. Holding the socket (leaked on purpose) keeps the port from
/// being reused by anyone else for the life of the process.
fn refused_port() -> u16 {
    static PORT: OnceLock<u16> = OnceLock::new();
    *PORT.get_or_init(|| {
        // SAFETY: plain socket syscalls on a descriptor created and owned here.
        unsafe {
            let fd = libc::socket(libc::AF_INET, libc::SOCK_STREAM | libc::SOCK_CLOEXEC, 0);
            assert!(fd >= 0, "socket: {}", std::io::Error::last_os_error());
            let mut addr: libc::sockaddr_in = std::mem::zeroed();
            addr.sin_family = libc::AF_INET as libc::sa_family_t;
            addr.sin_addr.s_addr = u32::from(Ipv4Addr::LOCALHOST).to_be();
            let len = std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t;
            let rc = libc::bind(fd, (&raw const addr).cast(), len);
            assert!(rc == 0, "bind: {}", std::io::Error::last_os_error());
            let mut len = len;
            let rc = libc::getsockname(fd, (&raw mut addr).cast(), &mut len);
            assert!(rc == 0, "getsockname: {}", std::io::Error::last_os_error());
            u16::from_be(addr.sin_port)
        }
    })
}

async fn hang(body: Body) -> StatusCode {
    // Read the request so the client is left waiting for the response only.
    let _ = axum::body::to_bytes(body, usize::MAX).await;
    tokio::time::sleep(Duration::from_secs(3600)).await;
    StatusCode::GATEWAY_TIMEOUT
}

/// Where a `LostAnswer` attempt was going (the fault server forwards it there).
const UPSTREAM_HEADER: &str = "x-fault-upstream";

async fn late(request: axum::extract::Request) -> Response {
    forward(request).await;
    tokio::time::sleep(Duration::from_secs(3600)).await;
    StatusCode::GATEWAY_TIMEOUT.into_response()
}

async fn lost(Path(service): Path<String>, request: axum::extract::Request) -> Response {
    forward(request).await;
    error_response(&service, 500, "InternalError")
}

/// Passes a request on to where it was going (moto), and waits for the whole answer, so that moto has done the
/// work.
async fn forward(request: axum::extract::Request) {
    use http_body_util::{BodyExt, Full};
    let (mut parts, body) = request.into_parts();
    let body = axum::body::to_bytes(body, usize::MAX)
        .await
        .expect("request body");
    let upstream = parts
        .headers
        .remove(UPSTREAM_HEADER)
        .expect("lost answers name their upstream");
    let mut forward = hyper::Request::builder()
        .method(parts.method)
        .uri(upstream.to_str().expect("an ASCII URI"));
    for (name, value) in &parts.headers {
        forward = forward.header(name, value);
    }
    let forward = forward.body(Full::new(body)).expect("a forwarded request");
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build_http();
    let answer = client.request(forward).await.expect("moto answers");
    let _ = answer.into_body().collect().await;
}

async fn error(Path((service, status, code)): Path<(String, u16, String)>, body: Body) -> Response {
    // Drain the request body: answering before the upload finished can make
    // the client fail writing it instead of reading our response.
    let _ = axum::body::to_bytes(body, usize::MAX).await;
    error_response(&service, status, &code)
}

/// An error answer in `service`'s wire protocol.
fn error_response(service: &str, status: u16, code: &str) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let (content_type, body) = match service {
        // restXml without the ErrorResponse wrapper.
        "s3" => (
            "application/xml",
            format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code>\
                 <Message>injected</Message><RequestId>fault-1</RequestId></Error>"
            ),
        ),
        // awsJson1_1.
        "acm" => (
            "application/x-amz-json-1.1",
            format!("{{\"__type\":\"{code}\",\"message\":\"injected\"}}"),
        ),
        // awsQuery (iam, sts) and wrapped restXml (cloudfront, route53) share
        // this shape.
        _ => (
            "text/xml",
            format!(
                "<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code>\
                 <Message>injected</Message></Error><RequestId>fault-1</RequestId></ErrorResponse>"
            ),
        ),
    };
    let mut response = (status, body).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert("x-amz-request-id", HeaderValue::from_static("fault-1"));
    headers.insert("x-amzn-requestid", HeaderValue::from_static("fault-1"));
    response
}

async fn redirect(Path((status, region)): Path<(u16, String)>, body: Body) -> Response {
    let _ = axum::body::to_bytes(body, usize::MAX).await;
    let body = if status == 301 {
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>PermanentRedirect</Code>\
             <Message>The bucket you are attempting to access must be addressed using the specified endpoint. \
             Please send all future requests to this endpoint.</Message>\
             <Endpoint>s3.{region}.amazonaws.com</Endpoint><RequestId>fault-1</RequestId></Error>"
        )
    } else {
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>AuthorizationHeaderMalformed</Code>\
             <Message>The authorization header is malformed; the region 'us-east-1' is wrong; expecting \
             '{region}'</Message><Region>{region}</Region><RequestId>fault-1</RequestId></Error>"
        )
    };
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::MOVED_PERMANENTLY);
    let mut response = (status, body).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/xml"),
    );
    headers.insert(
        "x-amz-bucket-region",
        HeaderValue::from_str(&region).expect("a region is a header value"),
    );
    headers.insert("x-amz-request-id", HeaderValue::from_static("fault-1"));
    response
}
