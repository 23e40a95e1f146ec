//! The HTTP layer: routes under `/v1/s3`, authentication, problem documents, request ids, metrics.

mod audit;
pub mod auth;
mod buckets;
pub mod error;
mod extract;
mod observe;
pub mod openapi;
mod service;
mod users;
pub mod views;
mod websites;

use std::future::Future;

use axum::error_handling::HandleErrorLayer;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, StatusCode};
use axum::middleware::from_fn_with_state;
use axum::Router;
use tower::limit::GlobalConcurrencyLimitLayer;
use tower::util::MapRequestLayer;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tracing::Instrument;

use crate::app::AppState;
use crate::domain::names::NameError;
use crate::orchestration::{Ctx, OpError};
pub use error::ApiError;

/// Request bodies above this are refused with 413.
pub const BODY_LIMIT: usize = 64 * 1024;

/// The routes and the OpenAPI document, both from the handlers' annotations.
pub fn api() -> (Router<AppState>, utoipa::openapi::OpenApi) {
    use utoipa::OpenApi;
    use utoipa_axum::router::OpenApiRouter;
    use utoipa_axum::routes;
    OpenApiRouter::with_openapi(openapi::ApiDoc::openapi())
        .routes(routes!(service::ping))
        .routes(routes!(service::version))
        .routes(routes!(service::metrics))
        .routes(routes!(service::openapi))
        .routes(routes!(buckets::list, buckets::create))
        .routes(routes!(
            buckets::show,
            buckets::head,
            buckets::update,
            buckets::delete
        ))
        .routes(routes!(buckets::duck))
        .routes(routes!(users::list_bucket_users, users::create_bucket_user))
        .routes(routes!(
            users::show_bucket_user,
            users::reset_bucket_user,
            users::delete_bucket_user
        ))
        .routes(routes!(websites::list, websites::create))
        .routes(routes!(
            websites::show,
            websites::head,
            websites::update,
            websites::invalidate,
            websites::delete
        ))
        .routes(routes!(websites::duck))
        .routes(routes!(
            users::list_website_users,
            users::create_website_user
        ))
        .routes(routes!(
            users::show_website_user,
            users::reset_website_user,
            users::delete_website_user
        ))
        .split_for_parts()
}

/// The whole service as an axum router.
pub fn router(state: AppState) -> Router {
    let request_id = HeaderName::from_static(observe::REQUEST_ID_HEADER);
    api()
        .0
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(from_fn_with_state(state.clone(), with_deadline))
        .layer(from_fn_with_state(state.clone(), auth::require_token))
        .layer(
            tower::ServiceBuilder::new()
                .layer(HandleErrorLayer::new(|e: tower::BoxError| async move {
                    limit_error(e)
                }))
                .load_shed()
                .layer(GlobalConcurrencyLimitLayer::new(
                    state.config.max_concurrent_requests,
                ))
                .timeout(state.config.request_timeout),
        )
        // Outside the token check and the time limit, so that refused and timed-out changes are audited too.
        .layer(axum::middleware::from_fn(audit::audit))
        .layer(CatchPanicLayer::custom(panicked))
        .layer(from_fn_with_state(state.clone(), refuse_when_stopping))
        .layer(from_fn_with_state(state.clone(), observe::observe))
        .layer(PropagateRequestIdLayer::new(request_id.clone()))
        .layer(SetRequestIdLayer::new(request_id, MakeRequestUuid))
        .layer(MapRequestLayer::new(observe::keep_acceptable_request_id))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .with_state(state)
}

/// What the resilience stack answers: a request that would exceed `maxConcurrentRequests` is refused at once
/// (503, not queued), and one that runs longer than `requestTimeout` gets 503 (a workflow it started goes on
/// detached).
fn limit_error(e: tower::BoxError) -> ApiError {
    if e.is::<tower::load_shed::error::Overloaded>() {
        ApiError {
            retry_after: Some(1),
            ..ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "Overloaded",
                "too many requests in flight; retry shortly",
            )
        }
    } else if e.is::<tower::timeout::error::Elapsed>() {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "RequestTimeout",
            "the request took too long; a create or delete it started goes on, and is rolled back if it fails",
        )
    } else {
        ApiError::internal(format!("middleware error: {e}"))
    }
}

/// The deadlines of a request (`crate::deadline`): waiting for turns in an account's pace and retrying throttled
/// calls stop after three quarters of `requestTimeout`, which leaves the last quarter for a rollback and the
/// answer — so that a request AWS keeps throttling gets 429, not the 503 of a request that timed out. The answer
/// is due a moment before `requestTimeout`; a rollback still running then goes on after it.
async fn with_deadline(
    axum::extract::State(state): axum::extract::State<AppState>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let start = std::time::Instant::now();
    let timeout = state.config.request_timeout;
    let deadline = crate::deadline::Deadline {
        calls: start + timeout.mul_f64(0.75),
        answer: Some(start + timeout.mul_f64(0.95)),
    };
    crate::deadline::within(deadline, next.run(req)).await
}

/// Once the service is stopping, new requests (on connections still open) get 503 so that load balancers move on.
async fn refuse_when_stopping(
    axum::extract::State(state): axum::extract::State<AppState>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    if state.stopping.load(std::sync::atomic::Ordering::SeqCst) {
        let mut response = ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "ShuttingDown",
            "the service is stopping",
        )
        .into_response();
        response.headers_mut().insert(
            axum::http::header::CONNECTION,
            axum::http::HeaderValue::from_static("close"),
        );
        return response;
    }
    next.run(req).await
}

async fn not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "NotFound", "no such route")
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "MethodNotAllowed",
        "method not allowed on this route",
    )
}

fn panicked(_: Box<dyn std::any::Any + Send + 'static>) -> axum::response::Response {
    use axum::response::IntoResponse;
    ApiError::internal("handler panicked").into_response()
}

/// An invalid name is the caller's mistake: 400 with the reason.
fn parse<T>(r: Result<T, NameError>) -> Result<T, ApiError> {
    r.map_err(|e| {
        let code = match e.what {
            "bucket name" => "InvalidBucketName",
            "user name" => "InvalidUserName",
            _ => "InvalidName",
        };
        ApiError::bad_request(code, e.to_string())
    })
}

/// A website name: a valid bucket and DNS name under one of the account's configured domains (400 otherwise,
/// before any AWS call).
fn parse_website(
    name: &str,
    ctx: &crate::orchestration::Ctx,
) -> Result<crate::domain::website::WebsiteName, ApiError> {
    use crate::domain::website::{WebsiteName, WebsiteNameError};
    WebsiteName::parse(name, &ctx.config().domains).map_err(|e| match e {
        WebsiteNameError::Name(e) => ApiError::bad_request("InvalidWebsiteName", e.to_string()),
        WebsiteNameError::Domain(_) => ApiError::bad_request("DomainNotConfigured", e.to_string()),
    })
}

/// Runs a workflow in a task of its own: if the client disconnects, the workflow (and any rollback) still runs
/// to its end instead of stopping half-way between two AWS calls. The task is tracked, so a stopping service
/// waits for it.
async fn detached<T, F, Fut>(ctx: &Ctx, work: F) -> Result<T, ApiError>
where
    F: FnOnce(Ctx) -> Fut,
    Fut: Future<Output = Result<T, OpError>> + Send + 'static,
    T: Send + 'static,
{
    ctx.tasks
        .spawn(crate::deadline::inherit(work(ctx.clone())).instrument(tracing::Span::current()))
        .await
        .map_err(|e| ApiError::internal(format!("workflow task failed: {e}")))?
        .map_err(ApiError::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_panic_becomes_a_500_problem_document() {
        let response = panicked(Box::new("boom"));
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(
            response.headers()["content-type"],
            "application/problem+json"
        );
        let body = axum::body::to_bytes(response.into_body(), 1 << 16)
            .await
            .unwrap();
        let problem: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(problem["code"], "InternalError");
        assert!(
            !problem["detail"].as_str().unwrap().contains("boom"),
            "panic messages stay in the log"
        );
    }

    #[test]
    fn shed_and_timed_out_requests_are_503() {
        let shed = limit_error(Box::new(tower::load_shed::error::Overloaded::new()));
        assert_eq!(
            (shed.status, shed.code, shed.retry_after),
            (StatusCode::SERVICE_UNAVAILABLE, "Overloaded", Some(1))
        );
        let late = limit_error(Box::new(tower::timeout::error::Elapsed::new()));
        assert_eq!(
            (late.status, late.code),
            (StatusCode::SERVICE_UNAVAILABLE, "RequestTimeout")
        );
    }
}
