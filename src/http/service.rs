//! Service routes: liveness, version, metrics.

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use serde::Serialize;

use crate::app::AppState;
use crate::version;

pub async fn ping() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        "pong",
    )
}

#[derive(Serialize)]
pub struct Version {
    version: &'static str,
    githash: &'static str,
    buildstamp: &'static str,
}

pub async fn version() -> axum::Json<Version> {
    axum::Json(Version {
        version: version::VERSION,
        githash: version::GIT_HASH,
        buildstamp: version::BUILD_STAMP,
    })
}

pub async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, prometheus::TEXT_FORMAT)],
        state.metrics.render(),
    )
}
