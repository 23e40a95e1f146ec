//! The HTTP error: an RFC 9457 problem document with a stable `code`, built from the errors of the layers below.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::domain::failure::FailureKind;
use crate::orchestration::rollback::RollbackReport;
use crate::orchestration::{AwsFailure, OpError, Resource};

tokio::task_local! {
    /// The id of the request being served, for problem documents (set by the observe middleware).
    pub static REQUEST_ID: String;
}

/// An error response. `code` values are stable and documented in the README.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub detail: String,
    pub rollback: Option<RollbackReport>,
    pub retry_after: Option<u32>,
    /// The full cause, for the log only (5xx details never reach the caller).
    pub cause: Option<String>,
}

/// An RFC 9457 problem document.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Problem<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    title: &'a str,
    status: u16,
    /// A sentence for a human.
    detail: &'a str,
    /// A stable, machine-readable identifier of the error.
    code: &'a str,
    /// The request's X-Request-Id.
    request_id: String,
    /// Whether a failed create undid everything it had made.
    #[serde(skip_serializing_if = "Option::is_none")]
    rollback: Option<&'a RollbackReport>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, detail: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            detail: detail.into(),
            rollback: None,
            retry_after: None,
            cause: None,
        }
    }

    pub fn bad_request(code: &'static str, detail: impl Into<String>) -> Self {
        ApiError::new(StatusCode::BAD_REQUEST, code, detail)
    }

    pub fn forbidden() -> Self {
        ApiError::new(
            StatusCode::FORBIDDEN,
            "InvalidToken",
            "missing or invalid X-Auth-Token",
        )
    }

    pub fn internal(cause: impl Into<String>) -> Self {
        ApiError {
            cause: Some(cause.into()),
            ..ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "InternalError",
                "an internal error occurred",
            )
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if self.status.is_server_error() {
            tracing::error!(status = self.status.as_u16(), code = self.code, cause = ?self.cause, "request failed");
        } else if let Some(cause) = &self.cause {
            tracing::info!(status = self.status.as_u16(), code = self.code, cause = %cause, "request refused");
        }
        let request_id = REQUEST_ID.try_with(Clone::clone).unwrap_or_default();
        let problem = Problem {
            kind: "about:blank",
            title: self.status.canonical_reason().unwrap_or("Error"),
            status: self.status.as_u16(),
            detail: &self.detail,
            code: self.code,
            request_id,
            rollback: self.rollback.as_ref(),
        };
        let body = serde_json::to_vec(&problem).expect("problem documents serialize");
        let mut response = (self.status, body).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if let Some(secs) = self.retry_after {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }
}

fn resource_code(what: Resource, exists: bool) -> &'static str {
    match (what, exists) {
        (Resource::Bucket, true) => "BucketAlreadyExists",
        (Resource::Policy, true) => "PolicyAlreadyExists",
        (Resource::Group, true) => "GroupAlreadyExists",
        (Resource::User, true) => "UserAlreadyExists",
        (Resource::Bucket, false) => "BucketNotFound",
        (Resource::Policy, false) => "PolicyNotFound",
        (Resource::Group, false) => "GroupNotFound",
        (Resource::User, false) => "UserNotFound",
        (Resource::Website, true) => "WebsiteAlreadyExists",
        (Resource::Website, false) => "WebsiteNotFound",
        (Resource::Distribution, true) => "DistributionAlreadyExists",
        (Resource::Distribution, false) => "DistributionNotFound",
        (Resource::DnsRecord, true) => "DnsRecordAlreadyExists",
        (Resource::DnsRecord, false) => "DnsRecordNotFound",
    }
}

impl From<OpError> for ApiError {
    fn from(e: OpError) -> Self {
        let detail = e.to_string();
        match e {
            OpError::NotFound { what, .. } => {
                ApiError::new(StatusCode::NOT_FOUND, resource_code(what, false), detail)
            }
            OpError::AlreadyExists { what, .. } => {
                ApiError::new(StatusCode::CONFLICT, resource_code(what, true), detail)
            }
            OpError::Forbidden { .. } => {
                ApiError::new(StatusCode::FORBIDDEN, "AwsAccessDenied", detail)
            }
            OpError::NotEmpty(_) => ApiError::new(StatusCode::CONFLICT, "BucketNotEmpty", detail),
            OpError::NotManaged(_) => ApiError::new(StatusCode::FORBIDDEN, "NotManaged", detail),
            OpError::IsWebsite(_) => ApiError::new(StatusCode::CONFLICT, "IsWebsite", detail),
            OpError::Invalid(_) => ApiError::bad_request("InvalidRequest", detail),
            OpError::Config(_) => ApiError {
                cause: Some(detail.clone()),
                ..ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "ConfigurationError",
                    detail,
                )
            },
            OpError::Aws(e) => e.into(),
            OpError::RolledBack { error, rollback } => ApiError {
                rollback: Some(rollback),
                ..ApiError::from(*error)
            },
        }
    }
}

impl From<AwsFailure> for ApiError {
    fn from(e: AwsFailure) -> Self {
        let what = e.call();
        let aws_says = e.message();
        let (status, code, detail) = match e.kind() {
            FailureKind::AlreadyExists => (
                StatusCode::CONFLICT,
                "AlreadyExists",
                format!("{what}: {aws_says}"),
            ),
            FailureKind::Conflict => (
                StatusCode::CONFLICT,
                "Conflict",
                format!("{what}: {aws_says}"),
            ),
            // The account's clients reach buckets in the account's region only; a client for the bucket's region
            // would be another configured account.
            FailureKind::OtherRegion => (
                StatusCode::CONFLICT,
                "BucketInOtherRegion",
                match e.bucket_region() {
                    Some(region) => format!(
                        "{what}: the bucket is in region {region}, not in the region this account is configured for"
                    ),
                    None => format!(
                        "{what}: the bucket is in another region than the one this account is configured for"
                    ),
                },
            ),
            FailureKind::AccessDenied => (
                StatusCode::FORBIDDEN,
                "AwsAccessDenied",
                format!("{what}: the service's AWS credentials are not allowed to do this"),
            ),
            FailureKind::Throttled => (
                StatusCode::TOO_MANY_REQUESTS,
                "Throttled",
                format!("{what}: AWS is throttling requests"),
            ),
            FailureKind::LimitExceeded => (
                StatusCode::TOO_MANY_REQUESTS,
                "LimitExceeded",
                format!("{what}: {aws_says}"),
            ),
            FailureKind::Invalid => (
                StatusCode::BAD_REQUEST,
                "AwsInvalidRequest",
                format!("{what}: {aws_says}"),
            ),
            FailureKind::Timeout => (
                StatusCode::GATEWAY_TIMEOUT,
                "AwsTimeout",
                format!("{what} did not answer in time"),
            ),
            FailureKind::Unavailable => (
                StatusCode::SERVICE_UNAVAILABLE,
                "AwsUnavailable",
                format!("{what}: AWS is unavailable"),
            ),
            // A "not found" that the workflow did not turn into one of the caller's resources is a dependency
            // the caller did not name (the access-log bucket, say): a configuration problem on our side.
            FailureKind::NotFound | FailureKind::Other => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "InternalError",
                "an internal error occurred".to_owned(),
            ),
        };
        ApiError {
            // A pace whose next turn is known says when; AWS's own throttling answers do not.
            retry_after: (e.kind() == FailureKind::Throttled)
                .then(|| e.retry_after().map_or(1, u32::from)),
            cause: Some(e.to_string()),
            ..ApiError::new(status, code, detail)
        }
    }
}
