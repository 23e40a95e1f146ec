//! The OpenAPI 3.1 document, generated from the handlers' annotations and the body types (so it cannot drift
//! from the code), served at `/v1/s3/openapi.json` and printed by `s3-api openapi`.

use std::collections::BTreeMap;

use utoipa::openapi::security::{ApiKey, ApiKeyValue, SecurityScheme};
use utoipa::openapi::{ContentBuilder, Ref, RefOr, Response, ResponseBuilder};
use utoipa::{Modify, OpenApi};

use super::error::Problem;
use crate::orchestration::rollback::RollbackReport;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "s3-api",
        description = "Token-protected REST API over AWS: S3 buckets with their IAM policies, groups and users, and \
                       static websites (S3 + CloudFront + ACM + Route 53).",
        license(name = "AGPL-3.0-only", identifier = "AGPL-3.0-only")
    ),
    servers((url = "http://127.0.0.1:8080", description = "The service on its default address (scripts/run-local)")),
    components(schemas(Problem, RollbackReport)),
    modifiers(&TokenAuth),
    tags(
        (name = "service", description = "Liveness, version, metrics, this document"),
        (name = "buckets", description = "S3 buckets with their admin, read-write and read-only groups"),
        (name = "bucket users", description = "IAM users that belong to a bucket through its groups"),
        (name = "websites", description = "Buckets served by CloudFront under a configured domain"),
        (name = "website users", description = "Website users, optionally scoped to a path"),
    )
)]
pub struct ApiDoc;

/// The `X-Auth-Token` header every non-public route requires.
struct TokenAuth;

impl Modify for TokenAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "token",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "X-Auth-Token",
                "The secret of a named token (`[[tokens]]`, scoped to accounts and read, write or admin), or the \
                 single legacy token, or a bcrypt hash of it",
            ))),
        );
    }
}

/// The problem documents any route that calls AWS may answer with.
pub struct Errors;

impl utoipa::IntoResponses for Errors {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        [
            (
                400,
                "Invalid request: malformed JSON, unknown field, invalid name, tag or value, or a reserved tag",
            ),
            (
                403,
                "Missing or wrong X-Auth-Token (InvalidToken), a token outside its scope or accounts (TokenNotAllowed) or expired (TokenExpired), a bucket the service does not manage (NotManaged), or AWS denied the service's credentials",
            ),
            (404, "Unknown account, or the resource does not exist"),
            (
                409,
                "The resource exists already, is not empty, is a website's bucket (IsWebsite), or is a bucket in another region than the account's (BucketInOtherRegion)",
            ),
            (413, "Request body over 64 KiB"),
            (429, "AWS throttling or an AWS quota"),
            (
                500,
                "A bug, an unexpected AWS answer or a configuration problem",
            ),
            (
                503,
                "AWS unavailable, the service overloaded or stopping, or the request timed out",
            ),
            (504, "An AWS call exceeded its deadline"),
        ]
        .into_iter()
        .map(|(status, description)| {
            let content = ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("Problem")))
                .build();
            let response = ResponseBuilder::new()
                .description(description)
                .content("application/problem+json", content)
                .build();
            (status.to_string(), RefOr::T(response))
        })
        .collect()
    }
}

/// The document as JSON.
pub fn json() -> String {
    super::api()
        .1
        .to_pretty_json()
        .expect("the OpenAPI document serializes")
}
