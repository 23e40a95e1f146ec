//! `/v1/s3/{account}/buckets…`: create, list, head, show, update, delete, and the Cyberduck bookmark.

use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use super::error::ApiError;
use super::extract::{Json, Params};
use super::views::{views, GroupView, PolicyView, TagView};
use super::{detached, parse};
use crate::app::AppState;
use crate::domain::bookmark::Bookmark;
use crate::domain::lifecycle::Lifecycle;
use crate::domain::names::BucketName;
use crate::domain::tags::{CallerTags, Tag, BUCKET_OWN_TAGS};
use crate::orchestration::buckets::{self, BucketView, CreateBucket, UpdateBucket};
use crate::orchestration::ownership::Kind;
use crate::orchestration::records::Presence;

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct CreateBucketBody {
    #[serde(default)]
    tags: Option<Vec<Tag>>,
    #[serde(default)]
    lifecycle: Option<Lifecycle>,
    bucket_input: BucketInput,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
struct BucketInput {
    bucket: String,
}

#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "PascalCase")]
pub struct CreatedBucketBody {
    bucket: String,
    policy: PolicyView,
    group: GroupView,
}

/// The bucket as the show route reports it.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "PascalCase")]
pub struct BucketBody {
    tags: Vec<TagView>,
    #[schema(required)]
    logging: Option<LoggingBody>,
    empty: bool,
    /// The bucket policy in the form PUT takes it (a JSON document as a string); null when there is none.
    #[schema(required)]
    bucket_policy: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "PascalCase")]
pub struct LoggingBody {
    target_bucket: String,
    #[schema(value_type = Option<Object>, required)]
    target_grants: Option<serde_json::Value>,
    target_prefix: String,
}

impl LoggingBody {
    /// Access logging as the orchestration reports it: target bucket and prefix, when it is on.
    pub fn of(logging: Option<(String, String)>) -> Option<LoggingBody> {
        logging.map(|(target_bucket, target_prefix)| LoggingBody {
            target_bucket,
            target_grants: None,
            target_prefix,
        })
    }
}

impl From<BucketView> for BucketBody {
    fn from(v: BucketView) -> Self {
        BucketBody {
            tags: views(&v.tags),
            logging: LoggingBody::of(v.logging),
            empty: v.empty,
            bucket_policy: v.policy,
        }
    }
}

/// The caller's tags for a resource on which the service keeps `own` tags of its own.
pub fn caller_tags(
    state: &AppState,
    tags: Option<Vec<Tag>>,
    own: usize,
) -> Result<CallerTags, ApiError> {
    CallerTags::parse(tags.unwrap_or_default(), &state.config.org_tag_key, own).map_err(|e| {
        let code = if e.reserved {
            "ReservedTag"
        } else {
            "InvalidTag"
        };
        ApiError::bad_request(code, e.to_string())
    })
}

/// Create a bucket
///
/// Creates the bucket (encrypted, public access blocked, owner-enforced, access logging and lifecycle as
/// configured) with its admin policy and group. Anything made is rolled back when a step fails. `Location` names
/// the route that shows the bucket.
#[utoipa::path(post, operation_id = "create_bucket", path = "/v1/s3/{account}/buckets", tag = "buckets", params(("account" = String, Path, description = "An account of the configuration", example = "local")), request_body = CreateBucketBody, security(("token" = [])),
    responses((status = 202, description = "Creation accepted", body = CreatedBucketBody,
        headers(("Location" = String, description = "The route that shows the bucket: /v1/s3/{account}/buckets/{bucket}"))),
        crate::http::openapi::Errors))]
pub async fn create(
    State(state): State<AppState>,
    Params(account): Params<String>,
    Json(body): Json<CreateBucketBody>,
) -> Result<Response, ApiError> {
    let ctx = state.ctx(&account)?;
    let req = CreateBucket {
        bucket: parse(BucketName::parse(&body.bucket_input.bucket))?,
        tags: caller_tags(&state, body.tags, BUCKET_OWN_TAGS)?,
        lifecycle: body.lifecycle,
    };
    let created = detached(&ctx, |ctx| buckets::create(ctx, req)).await?;
    // The account is a configured one (`ctx` found it) and the name a valid bucket name: safe in a header.
    let location = format!("/v1/s3/{account}/buckets/{}", created.bucket);
    let body = CreatedBucketBody {
        bucket: format!("/{}", created.bucket),
        policy: PolicyView::from(&created.policy),
        group: GroupView::from(&created.group),
    };
    Ok((
        StatusCode::ACCEPTED,
        [(header::LOCATION, location)],
        axum::Json(body),
    )
        .into_response())
}

/// List buckets
///
/// The names of every bucket of the account, sorted.
#[utoipa::path(get, operation_id = "list_bucket", path = "/v1/s3/{account}/buckets", tag = "buckets", params(("account" = String, Path, description = "An account of the configuration", example = "local")), security(("token" = [])),
    responses((status = 200, description = "All bucket names, sorted", body = Vec<String>), crate::http::openapi::Errors))]
pub async fn list(
    State(state): State<AppState>,
    Params(account): Params<String>,
) -> Result<Response, ApiError> {
    let ctx = state.ctx(&account)?;
    Ok(axum::Json(buckets::list(&ctx).await?).into_response())
}

/// Does the bucket exist
///
/// 200 when it exists and the service can reach it, 403 when it exists but is not accessible, 404 when missing,
/// 409 when it is in another region than the account's. No body.
#[utoipa::path(head, operation_id = "head_bucket", path = "/v1/s3/{account}/buckets/{bucket}", tag = "buckets", params(("account" = String, Path, description = "An account of the configuration", example = "local"), ("bucket" = String, Path, description = "Bucket name", example = "foobarbucketname")), security(("token" = [])),
    responses((status = 200, description = "The bucket exists"), (status = 400, description = "Invalid bucket name"),
              (status = 403, description = "It exists but the service cannot reach it, or the token may not read this account"),
              (status = 404, description = "No such bucket or account"),
              (status = 409, description = "It exists in another region than the account's (BucketInOtherRegion)")))]
pub async fn head(
    State(state): State<AppState>,
    Params((account, bucket)): Params<(String, String)>,
) -> StatusCode {
    let result = async {
        let ctx = state.ctx(&account)?;
        let bucket = parse(BucketName::parse(&bucket))?;
        Ok::<_, ApiError>(buckets::head(&ctx, &bucket, Kind::Bucket).await?)
    };
    head_status(result.await)
}

/// The status of a HEAD on a bucket or website (HEAD answers carry no body, errors included).
pub fn head_status(state: Result<Presence, ApiError>) -> StatusCode {
    match state {
        Ok(Presence::Reachable) => StatusCode::OK,
        Ok(Presence::Forbidden) => StatusCode::FORBIDDEN,
        Ok(Presence::Missing) => StatusCode::NOT_FOUND,
        Err(e) => e.status,
    }
}

/// Show a bucket
///
/// Its tags, access logging, whether it is empty (by the rule delete follows) and its bucket policy.
#[utoipa::path(get, operation_id = "show_bucket", path = "/v1/s3/{account}/buckets/{bucket}", tag = "buckets", params(("account" = String, Path, description = "An account of the configuration", example = "local"), ("bucket" = String, Path, description = "Bucket name", example = "foobarbucketname")), security(("token" = [])),
    responses((status = 200, description = "The bucket", body = BucketBody), crate::http::openapi::Errors))]
pub async fn show(
    State(state): State<AppState>,
    Params((account, bucket)): Params<(String, String)>,
) -> Result<Response, ApiError> {
    let ctx = state.ctx(&account)?;
    let bucket = parse(BucketName::parse(&bucket))?;
    Ok(axum::Json(BucketBody::from(buckets::show(&ctx, &bucket).await?)).into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct UpdateBucketBody {
    #[serde(default)]
    tags: Option<Vec<Tag>>,
    #[serde(default)]
    bucket_policy: Option<String>,
}

/// Update a bucket
///
/// Replaces the caller's tags (the service's own tags are kept) and/or sets the bucket policy; answers with the
/// bucket as show reports it. Only buckets the service manages.
#[utoipa::path(put, operation_id = "update_bucket", path = "/v1/s3/{account}/buckets/{bucket}", tag = "buckets", params(("account" = String, Path, description = "An account of the configuration", example = "local"), ("bucket" = String, Path, description = "Bucket name", example = "foobarbucketname")), request_body = UpdateBucketBody, security(("token" = [])),
    responses((status = 200, description = "The bucket as updated", body = BucketBody), crate::http::openapi::Errors))]
pub async fn update(
    State(state): State<AppState>,
    Params((account, bucket)): Params<(String, String)>,
    Json(body): Json<UpdateBucketBody>,
) -> Result<Response, ApiError> {
    let ctx = state.ctx(&account)?;
    let bucket = parse(BucketName::parse(&bucket))?;
    if body.tags.is_none() && body.bucket_policy.is_none() {
        return Err(ApiError::bad_request(
            "InvalidRequestBody",
            "give Tags, BucketPolicy or both",
        ));
    }
    let tags = body
        .tags
        .map(|t| caller_tags(&state, Some(t), BUCKET_OWN_TAGS))
        .transpose()?;
    if let Some(policy) = &body.bucket_policy {
        let doc: serde_json::Value = serde_json::from_str(policy).map_err(|e| {
            ApiError::bad_request(
                "InvalidBucketPolicy",
                format!("BucketPolicy is not JSON: {e}"),
            )
        })?;
        if !doc
            .get("Statement")
            .is_some_and(|s| s.is_array() || s.is_object())
        {
            return Err(ApiError::bad_request(
                "InvalidBucketPolicy",
                "BucketPolicy must be a JSON object with a Statement",
            ));
        }
    }
    let req = UpdateBucket {
        tags,
        policy: body.bucket_policy,
    };
    let view = detached(&ctx, move |ctx| async move {
        buckets::update(&ctx, &bucket, req).await
    })
    .await?;
    Ok(axum::Json(BucketBody::from(view)).into_response())
}

#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "PascalCase")]
struct DeletedBucketBody {
    bucket: String,
    users: Vec<String>,
    policies: Vec<String>,
    groups: Vec<String>,
}

/// Delete a bucket
///
/// Deletes an empty bucket with its groups, their policies and the users that belong to it alone. Safe to repeat
/// after a partial failure.
#[utoipa::path(delete, operation_id = "delete_bucket", path = "/v1/s3/{account}/buckets/{bucket}", tag = "buckets", params(("account" = String, Path, description = "An account of the configuration", example = "local"), ("bucket" = String, Path, description = "Bucket name", example = "foobarbucketname")), security(("token" = [])),
    responses((status = 200, description = "What was deleted", body = DeletedBucketBody), crate::http::openapi::Errors))]
pub async fn delete(
    State(state): State<AppState>,
    Params((account, bucket)): Params<(String, String)>,
) -> Result<Response, ApiError> {
    let ctx = state.ctx(&account)?;
    let bucket = parse(BucketName::parse(&bucket))?;
    let d = detached(&ctx, move |ctx| async move {
        buckets::delete(&ctx, &bucket).await
    })
    .await?;
    Ok(axum::Json(DeletedBucketBody {
        bucket: d.bucket,
        users: d.users,
        policies: d.policies,
        groups: d.groups,
    })
    .into_response())
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DuckQuery {
    /// A prefix to open the bookmark at, like `/team/docs/`.
    path: Option<String>,
}

/// A prefix given as `/some/prefix/`: printable ASCII segments, no `.` or `..` segments.
fn bookmark_path(path: Option<&str>) -> Result<Option<String>, ApiError> {
    let Some(path) = path else { return Ok(None) };
    let inner = path.trim_matches('/');
    if inner.is_empty() {
        return Ok(None);
    }
    let valid = path.len() <= 512
        && inner.split('/').all(|seg| {
            !seg.is_empty()
                && seg != "."
                && seg != ".."
                && seg.bytes().all(|b| b.is_ascii_graphic())
        });
    match valid {
        true => Ok(Some(inner.to_owned())),
        false => Err(ApiError::bad_request(
            "InvalidPath",
            "path must look like /some/prefix/: printable ASCII, no empty, `.` or `..` segments",
        )),
    }
}

/// Cyberduck bookmark
///
/// A `.duck` bookmark (XML property list) for the bucket, optionally opening at `?path=/prefix/`. No credentials
/// in it.
#[utoipa::path(get, operation_id = "duck_bucket", path = "/v1/s3/{account}/buckets/{bucket}/duck", tag = "buckets", params(("account" = String, Path, description = "An account of the configuration", example = "local"), ("bucket" = String, Path, description = "Bucket name", example = "foobarbucketname"), DuckQuery), security(("token" = [])),
    responses((status = 200, description = "A Cyberduck bookmark: `application/xml`, or `text/xml` (the same content under its RFC 7303 alias) for a client that accepts only that", content((String = "application/xml"), (String = "text/xml")),
        headers(("Content-Disposition" = String, description = "attachment; filename=\"<bucket>.duck\""))), crate::http::openapi::Errors))]
pub async fn duck(
    State(state): State<AppState>,
    Params((account, bucket)): Params<(String, String)>,
    headers: HeaderMap,
    query: Result<Query<DuckQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let ctx = state.ctx(&account)?;
    let bucket = parse(BucketName::parse(&bucket))?;
    bookmark(&state, &ctx, &bucket, Kind::Bucket, &headers, query).await
}

/// The Cyberduck bookmark of a bucket or website; 404 when the bucket does not exist (or, for a website route,
/// is not a website).
pub async fn bookmark(
    state: &AppState,
    ctx: &crate::orchestration::Ctx,
    bucket: &BucketName,
    kind: Kind,
    headers: &HeaderMap,
    query: Result<Query<DuckQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(query) = query.map_err(|e| ApiError::bad_request("InvalidQuery", e.body_text()))?;
    let path = bookmark_path(query.path.as_deref())?;
    let (hostname, port) = buckets::bookmark_host(ctx, bucket, kind).await?;
    let xml = Bookmark {
        hostname: &hostname,
        port,
        org: &state.config.org,
        bucket: bucket.as_str(),
        path: path.as_deref(),
    }
    .to_xml();
    Ok((
        [
            (
                header::CONTENT_TYPE,
                bookmark_media_type(headers).to_owned(),
            ),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{bucket}.duck\""),
            ),
        ],
        xml,
    )
        .into_response())
}

/// The bookmark's media type: `application/xml`, or `text/xml` — RFC 7303's alias for the same content, which
/// generated clients read as text — for a client whose `Accept` names that one and not `application/xml`.
fn bookmark_media_type(headers: &HeaderMap) -> &'static str {
    // A media range with `q=0` is one the client refuses.
    let refused = |params: std::str::Split<'_, char>| {
        params
            .filter_map(|p| p.trim().strip_prefix("q="))
            .any(|q| q.trim().parse::<f32>() == Ok(0.0))
    };
    let accepted: Vec<&str> = (headers.get_all(header::ACCEPT).iter())
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|range| {
            let mut parts = range.split(';');
            let media = parts.next().unwrap_or_default().trim();
            (!refused(parts)).then_some(media)
        })
        .collect();
    let xml = ["application/xml", "application/*", "*/*"];
    match accepted.contains(&"text/xml") && !accepted.iter().any(|a| xml.contains(a)) {
        true => "text/xml",
        false => "application/xml",
    }
}

#[cfg(test)]
mod tests {
    use super::{bookmark_media_type, bookmark_path};
    use axum::http::{header, HeaderMap, HeaderValue};

    #[test]
    fn bookmark_media_types() {
        let accept = |v: &'static str| {
            let mut h = HeaderMap::new();
            h.insert(header::ACCEPT, HeaderValue::from_static(v));
            h
        };
        assert_eq!(bookmark_media_type(&HeaderMap::new()), "application/xml");
        assert_eq!(bookmark_media_type(&accept("*/*")), "application/xml");
        assert_eq!(bookmark_media_type(&accept("text/xml")), "text/xml");
        assert_eq!(
            bookmark_media_type(&accept("text/xml, application/xml;q=0.9")),
            "application/xml"
        );
        assert_eq!(
            bookmark_media_type(&accept("text/xml, application/xml;q=0")),
            "text/xml"
        );
        assert_eq!(
            bookmark_media_type(&accept("text/xml;q=0, */*")),
            "application/xml"
        );
    }

    #[test]
    fn bookmark_paths() {
        assert_eq!(
            bookmark_path(Some("/team/x/")).unwrap().as_deref(),
            Some("team/x")
        );
        assert_eq!(bookmark_path(Some("/")).unwrap(), None);
        assert!(bookmark_path(Some("/a/../b/")).is_err());
        assert!(bookmark_path(Some("/a//b/")).is_err());
        assert!(bookmark_path(Some("/a b/")).is_err());
    }
}
