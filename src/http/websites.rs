//! `/v1/s3/{account}/websites…`: create, head, show, update tags, invalidate, delete, and the bookmark.

use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use super::buckets::{bookmark, caller_tags, head_status, DuckQuery, LoggingBody};
use super::error::ApiError;
use super::extract::{Json, Params};
use super::views::{
    views, DistributionView, DnsChangeView, DnsRecordView, GroupView, InvalidationView, PolicyView,
    TagView,
};
use super::{detached, parse_website};
use crate::app::AppState;
use crate::domain::tags::Tag;
use crate::domain::website::WEBSITE_OWN_TAGS;
use crate::orchestration::buckets;
use crate::orchestration::ownership::Kind;
use crate::orchestration::websites::{self, CreateWebsite, WebsiteView};

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct CreateWebsiteBody {
    #[serde(default)]
    tags: Option<Vec<Tag>>,
    bucket_input: BucketInput,
    #[serde(default)]
    website_configuration: Option<WebsiteConfiguration>,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
#[schema(as = WebsiteInput)]
struct BucketInput {
    bucket: String,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
struct WebsiteConfiguration {
    #[serde(default)]
    index_document: Option<IndexDocument>,
    #[serde(default)]
    error_document: Option<ErrorDocument>,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
struct IndexDocument {
    suffix: String,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
struct ErrorDocument {
    key: String,
}

/// An index suffix or error key: a plain object name, not a path out of the bucket.
fn document_name(what: &str, name: &str) -> Result<String, ApiError> {
    let ok = !name.is_empty()
        && name.len() <= 1024
        && !name.starts_with('/')
        && !name
            .split('/')
            .any(|s| s.is_empty() || s == "." || s == "..")
        && name.chars().all(|c| !c.is_control());
    match ok {
        true => Ok(name.to_owned()),
        false => Err(ApiError::bad_request(
            "InvalidWebsiteConfiguration",
            format!("{what} {name:?} is not a valid object key"),
        )),
    }
}

/// List websites
///
/// The names of the account's websites (managed website buckets), sorted; plain buckets are not listed.
#[utoipa::path(get, operation_id = "list_websites", path = "/v1/s3/{account}/websites", tag = "websites", params(("account" = String, Path, description = "An account of the configuration", example = "local")), security(("token" = [])),
    responses((status = 200, description = "The names of the account's websites (managed website buckets), sorted; plain buckets are not listed", body = Vec<String>), crate::http::openapi::Errors))]
pub async fn list(
    State(state): State<AppState>,
    Params(account): Params<String>,
) -> Result<Response, ApiError> {
    let ctx = state.ctx(&account)?;
    Ok(axum::Json(websites::list(&ctx).await?).into_response())
}

/// Create a website
///
/// Creates the website's bucket with hosting and a placeholder page, its CloudFront distribution with the domain's
/// certificate, the DNS alias records and the admin groups. Anything made is rolled back when a step fails.
/// `Location` names the route that shows the website.
#[utoipa::path(post, operation_id = "create_website", path = "/v1/s3/{account}/websites", tag = "websites", params(("account" = String, Path, description = "An account of the configuration", example = "local")), request_body = CreateWebsiteBody, security(("token" = [])),
    responses((status = 202, description = "Creation accepted", body = CreatedWebsiteBody,
        headers(("Location" = String, description = "The route that shows the website: /v1/s3/{account}/websites/{website}"))),
        crate::http::openapi::Errors))]
pub async fn create(
    State(state): State<AppState>,
    Params(account): Params<String>,
    Json(body): Json<CreateWebsiteBody>,
) -> Result<Response, ApiError> {
    let ctx = state.ctx(&account)?;
    let site = parse_website(&body.bucket_input.bucket, &ctx)?;
    let tags = caller_tags(&state, body.tags, WEBSITE_OWN_TAGS)?;
    let config = body.website_configuration;
    let index_document = match config.as_ref().and_then(|c| c.index_document.as_ref()) {
        Some(i) if i.suffix.contains('/') => {
            return Err(ApiError::bad_request(
                "InvalidWebsiteConfiguration",
                "IndexDocument.Suffix must not contain `/`",
            ))
        }
        Some(i) => document_name("IndexDocument.Suffix", &i.suffix)?,
        None => "index.html".to_owned(),
    };
    let error_document = match config.as_ref().and_then(|c| c.error_document.as_ref()) {
        Some(e) => Some(document_name("ErrorDocument.Key", &e.key)?),
        None => None,
    };
    let req = CreateWebsite {
        site,
        tags,
        index_document,
        error_document,
    };
    let w = detached(&ctx, |ctx| websites::create(ctx, req)).await?;
    let body = CreatedWebsiteBody {
        bucket: format!("/{}", w.bucket.bucket),
        policy: PolicyView::from(&w.bucket.policy),
        group: GroupView::from(&w.bucket.group),
        web_policy: PolicyView::from(&w.web_policy),
        web_group: GroupView::from(&w.web_group),
        distribution: DistributionView::from(&w.distribution),
        dns_change: DnsChangeView::from(&w.dns_change),
    };
    let location = format!("/v1/s3/{account}/websites/{}", w.bucket.bucket);
    Ok((
        StatusCode::ACCEPTED,
        [(header::LOCATION, location)],
        axum::Json(body),
    )
        .into_response())
}

/// Does the website exist
///
/// As HEAD of a bucket, for a website's bucket.
#[utoipa::path(head, operation_id = "head_website", path = "/v1/s3/{account}/websites/{website}", tag = "websites", params(("account" = String, Path, description = "An account of the configuration", example = "local"), ("website" = String, Path, description = "Website name under a configured domain", example = "www.example.org")), security(("token" = [])),
    responses((status = 200, description = "The website's bucket exists"), (status = 400, description = "Invalid name or domain"),
              (status = 403, description = "It exists but the service cannot reach it"), (status = 404, description = "No such website or account"),
              (status = 409, description = "The bucket exists in another region than the account's (BucketInOtherRegion)")))]
pub async fn head(
    State(state): State<AppState>,
    Params((account, website)): Params<(String, String)>,
) -> StatusCode {
    let result = async {
        let ctx = state.ctx(&account)?;
        let site = parse_website(&website, &ctx)?;
        Ok::<_, ApiError>(buckets::head(&ctx, site.bucket(), Kind::Website).await?)
    };
    head_status(result.await)
}

/// What website create made.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "PascalCase")]
pub struct CreatedWebsiteBody {
    bucket: String,
    policy: PolicyView,
    group: GroupView,
    web_policy: PolicyView,
    web_group: GroupView,
    distribution: DistributionView,
    dns_change: DnsChangeView,
}

/// The website as the show route reports it.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "PascalCase")]
pub struct WebsiteBody {
    tags: Vec<TagView>,
    #[schema(required)]
    logging: Option<LoggingBody>,
    /// True while the bucket holds nothing but the service's placeholder pages.
    empty: bool,
    /// The name's A record (an alias of the distribution).
    #[serde(rename = "DNSRecord")]
    #[schema(required)]
    dns_record: Option<DnsRecordView>,
    #[schema(required)]
    distribution: Option<DistributionView>,
}

impl From<WebsiteView> for WebsiteBody {
    fn from(v: WebsiteView) -> Self {
        WebsiteBody {
            tags: views(&v.bucket.tags),
            logging: LoggingBody::of(v.bucket.logging),
            empty: v.bucket.empty,
            dns_record: v.dns_record.as_ref().map(DnsRecordView::from),
            distribution: v.distribution.as_ref().map(DistributionView::from),
        }
    }
}

/// An invalidation made, and where CloudFront shows it.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "PascalCase")]
pub struct InvalidatedBody {
    invalidation: InvalidationView,
    location: String,
}

/// What website delete removed.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "PascalCase")]
pub struct DeletedWebsiteBody {
    website: String,
    users: Vec<String>,
    policies: Vec<String>,
    groups: Vec<String>,
    /// The A record removed, if there was one of the site's.
    #[serde(rename = "DNSRecord")]
    #[schema(required)]
    dns_record: Option<DnsRecordView>,
    /// The distribution, disabled: the cleaner deletes it once CloudFront has deployed that.
    #[schema(required)]
    distribution: Option<DistributionView>,
}

/// Show a website
///
/// Its tags, logging, emptiness (placeholder pages aside), DNS record and distribution with its status: poll it to
/// know when the site is live.
#[utoipa::path(get, operation_id = "show_website", path = "/v1/s3/{account}/websites/{website}", tag = "websites", params(("account" = String, Path, description = "An account of the configuration", example = "local"), ("website" = String, Path, description = "Website name under a configured domain", example = "www.example.org")), security(("token" = [])),
    responses((status = 200, description = "The website", body = WebsiteBody), crate::http::openapi::Errors))]
pub async fn show(
    State(state): State<AppState>,
    Params((account, website)): Params<(String, String)>,
) -> Result<Response, ApiError> {
    let ctx = state.ctx(&account)?;
    let site = parse_website(&website, &ctx)?;
    Ok(axum::Json(WebsiteBody::from(websites::show(&ctx, &site).await?)).into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct UpdateWebsiteBody {
    tags: Vec<Tag>,
}

/// Update a website's tags
///
/// Replaces the caller's tags on the bucket and on the distribution alike.
#[utoipa::path(put, operation_id = "update_website", path = "/v1/s3/{account}/websites/{website}", tag = "websites", params(("account" = String, Path, description = "An account of the configuration", example = "local"), ("website" = String, Path, description = "Website name under a configured domain", example = "www.example.org")), request_body = UpdateWebsiteBody, security(("token" = [])),
    responses((status = 200, description = "The website as updated", body = WebsiteBody), crate::http::openapi::Errors))]
pub async fn update(
    State(state): State<AppState>,
    Params((account, website)): Params<(String, String)>,
    Json(body): Json<UpdateWebsiteBody>,
) -> Result<Response, ApiError> {
    let ctx = state.ctx(&account)?;
    let site = parse_website(&website, &ctx)?;
    let tags = caller_tags(&state, Some(body.tags), WEBSITE_OWN_TAGS)?;
    let v = detached(&ctx, move |ctx| async move {
        websites::update_tags(&ctx, &site, &tags).await
    })
    .await?;
    Ok(axum::Json(WebsiteBody::from(v)).into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct InvalidateBody {
    cache_invalidation: Vec<String>,
}

/// Invalidate the CDN cache
///
/// Creates a CloudFront invalidation of 1 to 15 paths.
#[utoipa::path(patch, operation_id = "invalidate_website", path = "/v1/s3/{account}/websites/{website}", tag = "websites", params(("account" = String, Path, description = "An account of the configuration", example = "local"), ("website" = String, Path, description = "Website name under a configured domain", example = "www.example.org")), request_body = InvalidateBody, security(("token" = [])),
    responses((status = 200, description = "The invalidation", body = InvalidatedBody), crate::http::openapi::Errors))]
pub async fn invalidate(
    State(state): State<AppState>,
    Params((account, website)): Params<(String, String)>,
    Json(body): Json<InvalidateBody>,
) -> Result<Response, ApiError> {
    let ctx = state.ctx(&account)?;
    let site = parse_website(&website, &ctx)?;
    let paths = body.cache_invalidation;
    if paths.is_empty() || paths.len() > 15 {
        return Err(ApiError::bad_request(
            "InvalidInvalidation",
            "CacheInvalidation takes 1 to 15 paths",
        ));
    }
    if let Some(bad) = paths
        .iter()
        .find(|p| !p.starts_with('/') || p.len() > 4096 || p.chars().any(char::is_control))
    {
        return Err(ApiError::bad_request(
            "InvalidInvalidation",
            format!("path {bad:?} must start with `/`"),
        ));
    }
    let invalidation = websites::invalidate(&ctx, &site, &paths).await?;
    Ok(axum::Json(InvalidatedBody {
        invalidation: InvalidationView::from(&invalidation),
        location: invalidation.location,
    })
    .into_response())
}

/// Delete a website
///
/// Removes the DNS records, disables the distribution (the cleaner deletes it once deployed), deletes the IAM
/// groups, users and policies, the placeholder pages and the bucket last.
#[utoipa::path(delete, operation_id = "delete_website", path = "/v1/s3/{account}/websites/{website}", tag = "websites", params(("account" = String, Path, description = "An account of the configuration", example = "local"), ("website" = String, Path, description = "Website name under a configured domain", example = "www.example.org")), security(("token" = [])),
    responses((status = 200, description = "What was deleted", body = DeletedWebsiteBody), crate::http::openapi::Errors))]
pub async fn delete(
    State(state): State<AppState>,
    Params((account, website)): Params<(String, String)>,
) -> Result<Response, ApiError> {
    let ctx = state.ctx(&account)?;
    let site = parse_website(&website, &ctx)?;
    let d = detached(&ctx, move |ctx| async move {
        websites::delete(&ctx, &site).await
    })
    .await?;
    Ok(axum::Json(DeletedWebsiteBody {
        website: d.iam.bucket,
        users: d.iam.users,
        policies: d.iam.policies,
        groups: d.iam.groups,
        dns_record: d.dns_record.as_ref().map(DnsRecordView::from),
        distribution: d.distribution.as_ref().map(DistributionView::from),
    })
    .into_response())
}

/// Cyberduck bookmark of a website
///
/// As for buckets.
#[utoipa::path(get, operation_id = "duck_website", path = "/v1/s3/{account}/websites/{website}/duck", tag = "websites", params(("account" = String, Path, description = "An account of the configuration", example = "local"), ("website" = String, Path, description = "Website name under a configured domain", example = "www.example.org"), DuckQuery), security(("token" = [])),
    responses((status = 200, description = "A Cyberduck bookmark: `application/xml`, or `text/xml` (the same content under its RFC 7303 alias) for a client that accepts only that", content((String = "application/xml"), (String = "text/xml")),
        headers(("Content-Disposition" = String, description = "attachment; filename=\"<bucket>.duck\""))), crate::http::openapi::Errors))]
pub async fn duck(
    State(state): State<AppState>,
    Params((account, website)): Params<(String, String)>,
    headers: HeaderMap,
    query: Result<Query<DuckQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let ctx = state.ctx(&account)?;
    let site = parse_website(&website, &ctx)?;
    bookmark(&state, &ctx, site.bucket(), Kind::Website, &headers, query).await
}
