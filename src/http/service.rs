//! Service routes: liveness, version, metrics.

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use serde::Serialize;

use crate::app::AppState;
use crate::version;

/// Liveness
///
/// Answers `pong` without a token and without calling AWS: the probe for load balancers and containers.
#[utoipa::path(get, path = "/v1/s3/ping", tag = "service", security(()), responses((status = 200, description = "Alive", content_type = "text/plain", body = String)))]
pub async fn ping() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        "pong",
    )
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Version {
    version: &'static str,
    githash: &'static str,
    buildstamp: &'static str,
}

/// Version
///
/// The crate version, the git commit and the build time of the running service.
#[utoipa::path(get, path = "/v1/s3/version", tag = "service", security(()), responses((status = 200, description = "What is running", body = Version)))]
pub async fn version() -> axum::Json<Version> {
    axum::Json(Version {
        version: version::VERSION,
        githash: version::GIT_HASH,
        buildstamp: version::BUILD_STAMP,
    })
}

/// Prometheus metrics
///
/// Requests, AWS calls, pacing and throttling, rollbacks, the cleaner and tokens, in Prometheus text format.
/// Public unless `metricsRequireToken` is set.
#[utoipa::path(get, path = "/v1/s3/metrics", tag = "service", security((), ("token" = [])), responses((status = 200, description = "Prometheus text format", content_type = "text/plain", body = String), (status = 403, description = "The token is required and missing", body = crate::http::error::Problem, content_type = "application/problem+json")))]
pub async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, prometheus::TEXT_FORMAT)],
        state.metrics.render(),
    )
}

/// This document
///
/// The OpenAPI 3.1 document of every route, generated from the code.
#[utoipa::path(get, path = "/v1/s3/openapi.json", tag = "service", security(()),
    responses((status = 200, description = "This document", content_type = "application/json", body = Object)))]
pub async fn openapi() -> impl IntoResponse {
    static DOCUMENT: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let body = DOCUMENT.get_or_init(super::openapi::json).clone();
    ([(header::CONTENT_TYPE, "application/json")], body)
}
