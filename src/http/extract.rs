//! Extractors whose rejections are problem documents: strict JSON bodies and path parameters.

use axum::extract::rejection::PathRejection;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::StatusCode;
use bytes::Bytes;
use serde::de::DeserializeOwned;

use super::error::ApiError;

/// The answer to a request body over the limit.
pub fn too_large() -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "PayloadTooLarge",
        "request bodies are limited to 64 KiB",
    )
}

/// A JSON body: any content type, unknown fields rejected by the target type, at most the body limit.
pub struct Json<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Json<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(|r| match r.status() {
                StatusCode::PAYLOAD_TOO_LARGE => too_large(),
                _ => ApiError::bad_request("MalformedJson", r.body_text()),
            })?;
        serde_json::from_slice(&bytes)
            .map(Json)
            .map_err(|e| match e.classify() {
                serde_json::error::Category::Data => {
                    ApiError::bad_request("InvalidRequestBody", e.to_string())
                }
                _ => ApiError::bad_request(
                    "MalformedJson",
                    format!("the body is not valid JSON: {e}"),
                ),
            })
    }
}

/// Path parameters.
pub struct Params<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for Params<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|p| Params(p.0))
            .map_err(|e: PathRejection| ApiError::bad_request("InvalidPath", e.body_text()))
    }
}
