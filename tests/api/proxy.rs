//! A fault proxy between the real binary and moto, for the crash tests.
//!
//! The in-process fault injector (`faults.rs`) cannot reach into another process, so the binary's AWS endpoint
//! is pointed here instead. Every request is forwarded to moto unchanged, and named as the AWS operation it is
//! (`"s3:PutBucketEncryption"`, `"iam:CreatePolicy"`, …, the names the SDK interceptor uses). One chosen call
//! can be held: it is never forwarded and never answered (moto never sees it), and the test is told that it
//! is being held — the moment to kill the process, with that call in flight.
//!
//! The proxy serves on a thread of its own and stops when it is dropped, its connections (the held one
//! included) with it.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::header::{HeaderMap, CONNECTION, TRANSFER_ENCODING};
use hyper::{Method, Request, Response, StatusCode, Uri};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::net::TcpListener;
use tokio::sync::watch;

/// A running proxy in front of one upstream (moto).
pub struct Proxy {
    addr: SocketAddr,
    shared: Arc<Shared>,
}

struct Shared {
    upstream: String,
    client: Client<HttpConnector, Full<Bytes>>,
    state: Mutex<State>,
    /// The operation being held, once it is.
    held: watch::Sender<Option<String>>,
    /// Set to let the held request through.
    release: watch::Sender<bool>,
    /// Set when the proxy is dropped.
    stop: watch::Sender<bool>,
}

#[derive(Default)]
struct State {
    /// Every request seen, as its operation, in arrival order.
    calls: Vec<String>,
    /// The operation to hold and how many more of its requests to let through first.
    hold: Option<(String, usize)>,
    /// Forwarded requests not yet answered (the held one is not counted).
    in_flight: usize,
    /// When a request (the held one too) last arrived, or a forwarded one was answered.
    last_change: Option<Instant>,
    /// Services and operations limited to a rate, as AWS limits an account: by service name (`"iam"`) or
    /// operation (`"iam:DeleteGroup"`, which takes precedence).
    limits: std::collections::HashMap<String, TokenBucket>,
    /// Every request answered as throttled, as its operation.
    throttled: Vec<String>,
}

/// AWS's rate limit of one service: `rate` requests per second, up to `burst` at once after a quiet spell.
#[derive(Debug, Clone)]
struct TokenBucket {
    rate: f64,
    burst: f64,
    tokens: f64,
    refilled: Instant,
}

impl TokenBucket {
    fn take(&mut self) -> bool {
        let now = Instant::now();
        let earned = now.duration_since(self.refilled).as_secs_f64() * self.rate;
        self.tokens = (self.tokens + earned).min(self.burst);
        self.refilled = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

impl Proxy {
    /// Starts a proxy on a free loopback port in front of `upstream` (`http://host:port`), on a thread and
    /// runtime of its own: however busy the test's runtime is, requests pass at once (a test waits for the
    /// calls the process makes and takes a pause in them for "everything it could do is done").
    pub fn start(upstream: &str) -> Proxy {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap();
        let shared = Arc::new(Shared {
            upstream: upstream.trim_end_matches('/').to_owned(),
            client: Client::builder(TokioExecutor::new()).build_http(),
            state: Mutex::new(State::default()),
            held: watch::channel(None).0,
            release: watch::channel(false).0,
            stop: watch::channel(false).0,
        });
        let for_thread = shared.clone();
        std::thread::Builder::new()
            .name("crash-proxy".into())
            .spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("proxy runtime");
                runtime.block_on(serve(listener, for_thread));
            })
            .expect("spawn the proxy thread");
        Proxy { addr, shared }
    }

    /// The endpoint URL to configure, e.g. `http://127.0.0.1:41234`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Holds the `nth` (1-based) request of `op` seen from now on; earlier ones are forwarded.
    pub fn hold(&self, op: &str, nth: usize) {
        assert!(nth >= 1, "occurrences count from 1");
        self.shared.state().hold = Some((op.to_owned(), nth - 1));
    }

    /// Waits until a request is held and returns its operation.
    pub async fn held(&self) -> String {
        let mut rx = self.shared.held.subscribe();
        let held = rx.wait_for(Option::is_some).await.expect("proxy alive");
        held.clone().unwrap_or_default()
    }

    /// The operation held, if any (still named after it was released).
    pub fn holding(&self) -> Option<String> {
        self.shared.held.borrow().clone()
    }

    /// Limits `service` (`"iam"`, `"route53"`, …) or one operation (`"iam:DeleteGroup"`) to `rate` requests
    /// per second with `burst` at once, as AWS limits an account: a request beyond it is answered as the service answers throttled calls (IAM, Route 53
    /// and CloudFront `Throttling`, ACM `ThrottlingException`, S3 `SlowDown`) and never reaches moto.
    pub fn throttle(&self, what: &str, rate: f64, burst: f64) {
        self.shared.state().limits.insert(
            what.to_owned(),
            TokenBucket {
                rate,
                burst,
                tokens: burst,
                refilled: Instant::now(),
            },
        );
    }

    /// Lifts every limit.
    pub fn unthrottle(&self) {
        self.shared.state().limits.clear();
    }

    /// Every request answered as throttled, as its operation.
    pub fn throttled(&self) -> Vec<String> {
        self.shared.state().throttled.clone()
    }

    /// Lets the held request through to moto (and its answer back).
    pub fn release(&self) {
        self.shared.release.send_replace(true);
    }

    /// Every request seen since the start or the last [`Proxy::clear_calls`], as its operation, in arrival
    /// order (retries count again; a held request is included).
    pub fn calls(&self) -> Vec<String> {
        self.shared.state().calls.clone()
    }

    pub fn clear_calls(&self) {
        self.shared.state().calls.clear();
    }

    /// Waits until every call of `expected` (counted, in any order) has been seen since the last
    /// [`Proxy::clear_calls`]; on timeout, returns the ones missing.
    pub async fn seen(&self, expected: &[String], limit: Duration) -> Result<(), Vec<String>> {
        let started = Instant::now();
        loop {
            let mut missing = expected.to_vec();
            for call in self.calls() {
                if let Some(i) = missing.iter().position(|m| *m == call) {
                    missing.swap_remove(i);
                }
            }
            if missing.is_empty() {
                return Ok(());
            }
            if started.elapsed() >= limit {
                missing.sort();
                return Err(missing);
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Waits until for `quiet` no request has arrived and none forwarded has been in flight (the held one
    /// aside): everything the client does without the held call is done. False when that did not happen
    /// within `limit`.
    pub async fn settle(&self, quiet: Duration, limit: Duration) -> bool {
        let started = Instant::now();
        loop {
            {
                let state = self.shared.state();
                let idle = state.last_change.is_none_or(|t| t.elapsed() >= quiet);
                if state.in_flight == 0 && idle {
                    return true;
                }
            }
            if started.elapsed() >= limit {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.shared.stop.send_replace(true);
    }
}

/// Accepts connections until the proxy is dropped; its runtime, and every connection with it, ends then.
async fn serve(listener: std::net::TcpListener, shared: Arc<Shared>) {
    let listener = TcpListener::from_std(listener).expect("a tokio listener");
    let mut stop = shared.stop.subscribe();
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(_) => continue,
            },
            _ = stop.wait_for(|s| *s) => return,
        };
        let shared = shared.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |req| {
                let shared = shared.clone();
                async move { Ok::<_, Infallible>(shared.handle(req).await) }
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

/// Counts a forwarded request as in flight until it is answered (or its connection dropped).
struct InFlight<'a>(&'a Shared);

impl<'a> InFlight<'a> {
    fn new(shared: &'a Shared) -> Self {
        let mut state = shared.state();
        state.in_flight += 1;
        state.last_change = Some(Instant::now());
        InFlight(shared)
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        let mut state = self.0.state();
        state.in_flight -= 1;
        state.last_change = Some(Instant::now());
    }
}

impl Shared {
    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Records the request's operation; true when it is the one to hold.
    fn arrive(&self, op: &str) -> bool {
        let mut state = self.state();
        state.calls.push(op.to_owned());
        state.last_change = Some(Instant::now());
        match &mut state.hold {
            Some((held, 0)) if held == op => {
                state.hold = None;
                true
            }
            Some((held, before)) if held == op => {
                *before -= 1;
                false
            }
            _ => false,
        }
    }

    async fn handle(&self, req: Request<Incoming>) -> Response<Full<Bytes>> {
        let (parts, body) = req.into_parts();
        let body = match body.collect().await {
            Ok(b) => b.to_bytes(),
            Err(e) => return plain(StatusCode::BAD_GATEWAY, format!("proxy: reading: {e}")),
        };
        let op = operation(&parts.method, &parts.uri, &parts.headers, &body);
        if let Some(answer) = self.throttle_answer(&op) {
            return answer;
        }
        if self.arrive(&op) {
            self.held.send_replace(Some(op));
            let mut release = self.release.subscribe();
            let mut stop = self.stop.subscribe();
            tokio::select! {
                _ = release.wait_for(|r| *r) => {}
                _ = stop.wait_for(|s| *s) => {
                    return plain(StatusCode::SERVICE_UNAVAILABLE, "proxy stopped".into());
                }
            }
        }
        let _in_flight = InFlight::new(self);
        let path = parts.uri.path_and_query().map_or("/", |p| p.as_str());
        let mut forward = Request::builder()
            .method(parts.method.clone())
            .uri(format!("{}{path}", self.upstream));
        for (name, value) in &parts.headers {
            // Hop-by-hop: the body is passed on whole, with its length.
            if name != CONNECTION && name != TRANSFER_ENCODING {
                forward = forward.header(name, value);
            }
        }
        let forward = forward.body(Full::new(body)).expect("a valid request");
        let response = match self.client.request(forward).await {
            Ok(r) => r,
            Err(e) => return plain(StatusCode::BAD_GATEWAY, format!("proxy: forwarding: {e}")),
        };
        let (mut parts, body) = response.into_parts();
        let body = match body.collect().await {
            Ok(b) => b.to_bytes(),
            Err(e) => return plain(StatusCode::BAD_GATEWAY, format!("proxy: answer: {e}")),
        };
        parts.headers.remove(CONNECTION);
        parts.headers.remove(TRANSFER_ENCODING);
        Response::from_parts(parts, Full::new(body))
    }
}

impl Shared {
    /// The throttling answer to `op` when its service is over its limit (the request is then only counted as
    /// throttled).
    fn throttle_answer(&self, op: &str) -> Option<Response<Full<Bytes>>> {
        let service = op.split(':').next().unwrap_or_default();
        let mut state = self.state();
        let key = match state.limits.contains_key(op) {
            true => op,
            false => service,
        };
        let bucket = state.limits.get_mut(key)?;
        if bucket.take() {
            return None;
        }
        state.throttled.push(op.to_owned());
        let (status, content_type, body) = match service {
            "acm" => (
                StatusCode::BAD_REQUEST,
                "application/x-amz-json-1.1",
                r#"{"__type":"ThrottlingException","message":"Rate exceeded"}"#.to_owned(),
            ),
            "s3" => (
                StatusCode::SERVICE_UNAVAILABLE,
                "application/xml",
                "<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message>\
                 <RequestId>throttled</RequestId></Error>"
                    .to_owned(),
            ),
            // The Query protocol (IAM, STS) and the REST-XML services answer in one shape.
            _ => (
                StatusCode::BAD_REQUEST,
                "text/xml",
                "<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code>\
                 <Message>Rate exceeded</Message></Error><RequestId>throttled</RequestId></ErrorResponse>"
                    .to_owned(),
            ),
        };
        let mut r = Response::new(Full::new(Bytes::from(body)));
        *r.status_mut() = status;
        let headers = r.headers_mut();
        headers.insert(
            hyper::header::CONTENT_TYPE,
            hyper::header::HeaderValue::from_static(content_type),
        );
        headers.insert(
            "x-amzn-requestid",
            hyper::header::HeaderValue::from_static("throttled"),
        );
        Some(r)
    }
}

fn plain(status: StatusCode, text: String) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::from(text)));
    *r.status_mut() = status;
    r
}

/// The AWS operation of a request, as `"service:Operation"`; `"<service>:?<METHOD> <path>"` when not
/// recognised (so a call list compared with it shows what is missing).
///
/// The service is the one the request is signed for (the SigV4 credential scope), or ACM's JSON target.
/// IAM and STS use the Query protocol (`Action=` in the form body); S3 is REST (method, path-style
/// `/bucket[/key]`, sub-resource flags in the query, or the SDK's own `x-id=` hint); CloudFront and
/// Route 53 are REST-XML under their API version.
pub fn operation(method: &Method, uri: &Uri, headers: &HeaderMap, body: &[u8]) -> String {
    if let Some(target) = headers.get("x-amz-target").and_then(|v| v.to_str().ok()) {
        let (prefix, action) = target.split_once('.').unwrap_or(("", target));
        let service = match prefix {
            "CertificateManager" => "acm",
            other => other,
        };
        return format!("{service}:{action}");
    }
    let service = signed_service(headers).unwrap_or_else(|| "unknown".to_owned());
    let path = uri.path();
    let query: Vec<(String, String)> = uri
        .query()
        .map(|q| {
            url::form_urlencoded::parse(q.as_bytes())
                .into_owned()
                .collect()
        })
        .unwrap_or_default();
    let name = match service.as_str() {
        "iam" | "sts" => url::form_urlencoded::parse(body)
            .find(|(k, _)| k == "Action")
            .map(|(_, v)| v.into_owned()),
        "s3" => s3_operation(method, path, &query),
        "cloudfront" => cloudfront_operation(method, path, &query),
        "route53" => route53_operation(method, path),
        _ => None,
    };
    match name {
        Some(name) => format!("{service}:{name}"),
        None => format!("{service}:?{method} {uri}"),
    }
}

/// `s3` from `Authorization: AWS4-HMAC-SHA256 Credential=AKID/20250101/us-east-1/s3/aws4_request, …`.
fn signed_service(headers: &HeaderMap) -> Option<String> {
    let auth = headers.get("authorization")?.to_str().ok()?;
    let scope = auth.split("Credential=").nth(1)?.split(',').next()?;
    let parts: Vec<&str> = scope.split('/').collect();
    (parts.len() >= 5).then(|| parts[parts.len() - 2].to_owned())
}

fn has(query: &[(String, String)], key: &str) -> bool {
    query.iter().any(|(k, _)| k == key)
}

fn s3_operation(method: &Method, path: &str, query: &[(String, String)]) -> Option<String> {
    if let Some((_, id)) = query.iter().find(|(k, _)| k == "x-id") {
        return Some(id.clone());
    }
    let rest = path.trim_start_matches('/');
    if rest.is_empty() {
        return (method == Method::GET).then(|| "ListBuckets".to_owned());
    }
    let has_key = rest.split_once('/').is_some_and(|(_, key)| !key.is_empty());
    // The bucket's sub-resources this service uses, with the operation each method makes of them.
    const SUBRESOURCES: &[(&str, &str, &str, &str)] = &[
        // (flag, GET, PUT, DELETE)
        (
            "tagging",
            "GetBucketTagging",
            "PutBucketTagging",
            "DeleteBucketTagging",
        ),
        (
            "encryption",
            "GetBucketEncryption",
            "PutBucketEncryption",
            "DeleteBucketEncryption",
        ),
        (
            "publicAccessBlock",
            "GetPublicAccessBlock",
            "PutPublicAccessBlock",
            "DeletePublicAccessBlock",
        ),
        (
            "ownershipControls",
            "GetBucketOwnershipControls",
            "PutBucketOwnershipControls",
            "DeleteBucketOwnershipControls",
        ),
        ("logging", "GetBucketLogging", "PutBucketLogging", "-"),
        (
            "lifecycle",
            "GetBucketLifecycleConfiguration",
            "PutBucketLifecycleConfiguration",
            "DeleteBucketLifecycle",
        ),
        (
            "website",
            "GetBucketWebsite",
            "PutBucketWebsite",
            "DeleteBucketWebsite",
        ),
        (
            "policy",
            "GetBucketPolicy",
            "PutBucketPolicy",
            "DeleteBucketPolicy",
        ),
        (
            "versioning",
            "GetBucketVersioning",
            "PutBucketVersioning",
            "-",
        ),
        ("location", "GetBucketLocation", "-", "-"),
        ("versions", "ListObjectVersions", "-", "-"),
    ];
    let name = if has_key {
        match *method {
            Method::HEAD => "HeadObject",
            Method::GET if has(query, "tagging") => "GetObjectTagging",
            Method::GET => "GetObject",
            Method::PUT if has(query, "tagging") => "PutObjectTagging",
            Method::PUT => "PutObject",
            Method::DELETE if has(query, "tagging") => "DeleteObjectTagging",
            Method::DELETE => "DeleteObject",
            _ => return None,
        }
    } else if let Some(&(_, get, put, delete)) =
        SUBRESOURCES.iter().find(|(flag, ..)| has(query, flag))
    {
        let name = match *method {
            Method::GET => get,
            Method::PUT => put,
            Method::DELETE => delete,
            _ => "-",
        };
        if name == "-" {
            return None;
        }
        name
    } else {
        match *method {
            Method::HEAD => "HeadBucket",
            Method::PUT => "CreateBucket",
            Method::DELETE => "DeleteBucket",
            Method::POST if has(query, "delete") => "DeleteObjects",
            Method::GET if query.iter().any(|(k, v)| k == "list-type" && v == "2") => {
                "ListObjectsV2"
            }
            Method::GET => "ListObjects",
            _ => return None,
        }
    };
    Some(name.to_owned())
}

fn cloudfront_operation(method: &Method, path: &str, query: &[(String, String)]) -> Option<String> {
    let rest = path.strip_prefix("/2020-05-31/")?.trim_end_matches('/');
    let segments: Vec<&str> = rest.split('/').collect();
    let name = match (method.as_str(), segments.as_slice()) {
        ("POST", ["distribution"]) if has(query, "WithTags") => "CreateDistributionWithTags",
        ("POST", ["distribution"]) => "CreateDistribution",
        ("GET", ["distribution"]) => "ListDistributions",
        ("GET", ["distribution", _]) => "GetDistribution",
        ("DELETE", ["distribution", _]) => "DeleteDistribution",
        ("GET", ["distribution", _, "config"]) => "GetDistributionConfig",
        ("PUT", ["distribution", _, "config"]) => "UpdateDistribution",
        ("POST", ["distribution", _, "invalidation"]) => "CreateInvalidation",
        ("GET", ["tagging"]) => "ListTagsForResource",
        ("POST", ["tagging"]) => {
            match query
                .iter()
                .find(|(k, _)| k == "Operation")
                .map(|(_, v)| v.as_str())
            {
                Some("Tag") => "TagResource",
                Some("Untag") => "UntagResource",
                _ => return None,
            }
        }
        _ => return None,
    };
    Some(name.to_owned())
}

fn route53_operation(method: &Method, path: &str) -> Option<String> {
    let rest = path.strip_prefix("/2013-04-01/")?;
    let segments: Vec<&str> = rest.trim_end_matches('/').split('/').collect();
    let name = match (method.as_str(), segments.as_slice()) {
        ("GET", ["hostedzonesbyname"]) => "ListHostedZonesByName",
        ("GET", ["hostedzone"]) => "ListHostedZones",
        ("POST", ["hostedzone"]) => "CreateHostedZone",
        ("GET", ["hostedzone", _]) => "GetHostedZone",
        ("DELETE", ["hostedzone", _]) => "DeleteHostedZone",
        ("POST", ["hostedzone", _, "rrset"]) => "ChangeResourceRecordSets",
        ("GET", ["hostedzone", _, "rrset"]) => "ListResourceRecordSets",
        ("GET", ["change", _]) => "GetChange",
        _ => return None,
    };
    Some(name.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signed(service: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(
            "authorization",
            format!(
                "AWS4-HMAC-SHA256 Credential=AKID/20250101/us-east-1/{service}/aws4_request, \
                 SignedHeaders=host, Signature=00"
            )
            .parse()
            .unwrap(),
        );
        h
    }

    fn op(service: &str, method: Method, uri: &str, body: &str) -> String {
        operation(
            &method,
            &uri.parse().unwrap(),
            &signed(service),
            body.as_bytes(),
        )
    }

    #[test]
    fn operations_are_named_as_the_sdk_names_them() {
        let cases = [
            (
                op(
                    "iam",
                    Method::POST,
                    "/",
                    "Action=CreatePolicy&Version=2010-05-08",
                ),
                "iam:CreatePolicy",
            ),
            (
                op("sts", Method::POST, "/", "Action=AssumeRole&RoleArn=x"),
                "sts:AssumeRole",
            ),
            (op("s3", Method::HEAD, "/b", ""), "s3:HeadBucket"),
            (op("s3", Method::PUT, "/b", ""), "s3:CreateBucket"),
            (
                op("s3", Method::PUT, "/b?tagging", ""),
                "s3:PutBucketTagging",
            ),
            (
                op("s3", Method::PUT, "/b?encryption", ""),
                "s3:PutBucketEncryption",
            ),
            (
                op("s3", Method::PUT, "/b?publicAccessBlock", ""),
                "s3:PutPublicAccessBlock",
            ),
            (
                op("s3", Method::PUT, "/b?ownershipControls", ""),
                "s3:PutBucketOwnershipControls",
            ),
            (
                op("s3", Method::PUT, "/b?logging", ""),
                "s3:PutBucketLogging",
            ),
            (
                op("s3", Method::PUT, "/b?lifecycle", ""),
                "s3:PutBucketLifecycleConfiguration",
            ),
            (
                op("s3", Method::PUT, "/b?website", ""),
                "s3:PutBucketWebsite",
            ),
            (op("s3", Method::PUT, "/b?policy", ""), "s3:PutBucketPolicy"),
            (
                op("s3", Method::GET, "/b?tagging", ""),
                "s3:GetBucketTagging",
            ),
            (
                op("s3", Method::GET, "/b?list-type=2&max-keys=1", ""),
                "s3:ListObjectsV2",
            ),
            (
                op("s3", Method::PUT, "/b/team/index.html?x-id=PutObject", ""),
                "s3:PutObject",
            ),
            (op("s3", Method::PUT, "/b/index.html", ""), "s3:PutObject"),
            (
                op("s3", Method::HEAD, "/b/team/index.html", ""),
                "s3:HeadObject",
            ),
            (op("s3", Method::GET, "/", ""), "s3:ListBuckets"),
            (
                op(
                    "cloudfront",
                    Method::POST,
                    "/2020-05-31/distribution?WithTags",
                    "",
                ),
                "cloudfront:CreateDistributionWithTags",
            ),
            (
                op(
                    "cloudfront",
                    Method::GET,
                    "/2020-05-31/distribution/E1/config",
                    "",
                ),
                "cloudfront:GetDistributionConfig",
            ),
            (
                op(
                    "cloudfront",
                    Method::POST,
                    "/2020-05-31/tagging?Operation=Tag&Resource=a",
                    "",
                ),
                "cloudfront:TagResource",
            ),
            (
                op(
                    "route53",
                    Method::POST,
                    "/2013-04-01/hostedzone/Z1/rrset",
                    "",
                ),
                "route53:ChangeResourceRecordSets",
            ),
            (
                op(
                    "route53",
                    Method::POST,
                    "/2013-04-01/hostedzone/Z1/rrset/",
                    "",
                ),
                "route53:ChangeResourceRecordSets",
            ),
            (
                op(
                    "route53",
                    Method::GET,
                    "/2013-04-01/hostedzone/Z1/rrset?name=a.b.&type=A&maxitems=1",
                    "",
                ),
                "route53:ListResourceRecordSets",
            ),
            (
                op(
                    "route53",
                    Method::GET,
                    "/2013-04-01/hostedzonesbyname?dnsname=a.b",
                    "",
                ),
                "route53:ListHostedZonesByName",
            ),
            (op("s3", Method::PATCH, "/b", ""), "s3:?PATCH /b"),
        ];
        for (got, want) in cases {
            assert_eq!(got, want);
        }
        let mut acm = HeaderMap::new();
        acm.insert(
            "x-amz-target",
            "CertificateManager.ListCertificates".parse().unwrap(),
        );
        assert_eq!(
            operation(&Method::POST, &"/".parse().unwrap(), &acm, b"{}"),
            "acm:ListCertificates"
        );
    }
}
