//! Per-request observation: the request id in every log line, one access-log line per request, and the HTTP
//! metrics by route template.

use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::Response;
use tracing::Instrument;

use super::error::REQUEST_ID;
use crate::app::AppState;

pub const REQUEST_ID_HEADER: &str = "x-request-id";

/// The longest caller `X-Request-Id` that is kept.
const MAX_REQUEST_ID: usize = 128;

/// Whether a caller's `X-Request-Id` is kept as the request's id. The id is echoed in the response and repeated
/// on every log line of the request, so a long one would let a caller multiply its size into the logs, and
/// spaces or control characters would let it break or forge log lines.
fn acceptable_request_id(id: &[u8]) -> bool {
    (1..=MAX_REQUEST_ID).contains(&id.len()) && id.iter().all(|b| (0x21..=0x7e).contains(b))
}

/// Keeps a caller's `X-Request-Id` only when it is acceptable (and only the first, if several were sent);
/// otherwise removes it, so that `SetRequestIdLayer` behind this gives the request a fresh UUID.
pub fn keep_acceptable_request_id(mut req: Request) -> Request {
    let headers = req.headers_mut();
    match headers.get(REQUEST_ID_HEADER).cloned() {
        Some(id) if acceptable_request_id(id.as_bytes()) => {
            headers.insert(REQUEST_ID_HEADER, id);
        }
        Some(_) => {
            headers.remove(REQUEST_ID_HEADER);
        }
        None => {}
    }
    req
}

pub async fn observe(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = req.method().clone();
    // A template of the router, never the path as sent: paths are the caller's to choose.
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".to_owned());
    // Log fields are bounded like metric labels: an unknown account is not repeated on every line as sent.
    let account = account_of(&route, req.uri().path())
        .filter(|a| state.accounts.contains_key(a))
        .unwrap_or_default();
    let id = req
        .headers()
        .get(REQUEST_ID_HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let span = tracing::info_span!("request", request_id = %id, method = %method_label(&method), route = %route, account = %account);

    let metrics = &state.metrics;
    let in_flight = InFlight::enter(&metrics.http_in_flight);
    let response = REQUEST_ID
        .scope(id, next.run(req).instrument(span.clone()))
        .await;
    drop(in_flight);

    let elapsed = started.elapsed();
    let status = response.status().as_u16();
    metrics
        .http_requests
        .with_label_values(&[method_label(&method), &route, &status.to_string()])
        .inc();
    metrics
        .http_duration
        .with_label_values(&[method_label(&method), &route])
        .observe(elapsed.as_secs_f64());
    span.in_scope(|| {
        tracing::info!(
            status,
            latency_ms = elapsed.as_secs_f64() * 1000.0,
            "request served"
        );
    });
    response
}

/// Counts a request as in flight until dropped, also when the client goes away and the request is cancelled.
struct InFlight<'a>(&'a prometheus::IntGauge);

impl<'a> InFlight<'a> {
    fn enter(gauge: &'a prometheus::IntGauge) -> Self {
        gauge.inc();
        InFlight(gauge)
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.dec();
    }
}

/// The `method` label: the methods the API serves, every other one `other`. HTTP lets a caller send any token as
/// the method, and requests are counted before the token check (403s are worth seeing too), so a label taken
/// from the request as sent would let anyone add a series per made-up method until the registry fills memory.
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        _ => "other",
    }
}

/// The `{account}` segment of a path, found through the route template.
pub(super) fn account_of(template: &str, path: &str) -> Option<String> {
    let index = template.split('/').position(|s| s == "{account}")?;
    path.split('/').nth(index).map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use axum::http::Method;

    #[test]
    fn only_served_methods_are_labels() {
        for served in ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"] {
            let method = Method::from_bytes(served.as_bytes()).unwrap();
            assert_eq!(super::method_label(&method), served);
        }
        for other in ["OPTIONS", "TRACE", "CONNECT", "get", "FOO1", "PROPFIND"] {
            let method = Method::from_bytes(other.as_bytes()).unwrap();
            assert_eq!(super::method_label(&method), "other", "{other}");
        }
    }

    #[test]
    fn request_ids_are_short_printable_ascii() {
        use super::acceptable_request_id as ok;
        assert!(ok(b"caller-id-123"));
        assert!(ok(b"0cb72360-24b1-4918-bdbe-8313bd74aee5"));
        let printable: Vec<u8> = (0x21..=0x7e).cycle().take(128).collect();
        assert_eq!(printable.len(), 128);
        assert!(ok(&printable));
        assert!(!ok(&[b'a'; 129]));
        assert!(!ok(&[b'a'; 5000]));
        assert!(!ok(b""));
        for bad in [
            &b"with space"[..],
            b"tab\there",
            b"del\x7f",
            b"nul\0",
            "caf\u{e9}".as_bytes(),
        ] {
            assert!(!ok(bad), "{bad:?}");
        }
    }

    #[tokio::test]
    async fn only_an_acceptable_caller_id_is_kept() {
        let request = |ids: &[&str]| {
            let mut builder = axum::http::Request::builder();
            for id in ids {
                builder = builder.header(super::REQUEST_ID_HEADER, *id);
            }
            super::keep_acceptable_request_id(builder.body(axum::body::Body::empty()).unwrap())
        };
        let ids = |r: &axum::extract::Request| -> Vec<String> {
            r.headers()
                .get_all(super::REQUEST_ID_HEADER)
                .iter()
                .map(|v| v.to_str().unwrap().to_owned())
                .collect()
        };
        assert_eq!(ids(&request(&["good"])), ["good"]);
        assert_eq!(ids(&request(&["good", "second"])), ["good"]);
        assert!(ids(&request(&["not good", "good"])).is_empty());
        assert!(ids(&request(&[&"x".repeat(129)])).is_empty());
        assert!(ids(&request(&[])).is_empty());
    }

    #[test]
    fn account_comes_from_the_template_position() {
        assert_eq!(
            super::account_of("/v1/s3/{account}/buckets/{bucket}", "/v1/s3/prod/buckets/x")
                .as_deref(),
            Some("prod")
        );
        assert_eq!(super::account_of("/v1/s3/ping", "/v1/s3/ping"), None);
    }
}
