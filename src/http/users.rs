//! Bucket users (`/v1/s3/{account}/buckets/{bucket}/users…`) and website users
//! (`/v1/s3/{account}/websites/{website}/users…`): one implementation, two kinds of site.

use axum::extract::State;
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use super::error::ApiError;
use super::extract::{Json, Params};
use super::views::{
    views, AccessKeyView, AttachedPolicyView, GroupView, NewAccessKeyView, UserView,
};
use super::{detached, parse, parse_website};
use crate::app::AppState;
use crate::domain::names::{BucketGroup, BucketName, GroupKind, NameError, ScopePath, UserName};
use crate::domain::website::placeholder_page;
use crate::orchestration::users::{self, CreateUser, Membership};
use crate::orchestration::Ctx;

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct CreateUserBody {
    user: UserInput,
    /// The groups to join: by default `BktAdmGrp` (and `WebAdmGrp` for a website's root user).
    #[serde(default)]
    #[schema(value_type = Option<Vec<GroupKindName>>)]
    groups: Option<Vec<String>>,
}

/// A group of the bucket a user can join: admin, read-write or read-only; for websites also `WebAdmGrp`, which
/// may invalidate the website's CDN cache. The names are parsed by `GroupKind`, so that an unknown one is an
/// `InvalidGroup` naming the choices; this type declares them in the document.
#[derive(utoipa::ToSchema)]
#[allow(dead_code, clippy::enum_variant_names)] // the names are the wire's
enum GroupKindName {
    BktAdmGrp,
    BktRWGrp,
    BktROGrp,
    WebAdmGrp,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
struct UserInput {
    user_name: String,
    /// Websites only: the prefix the user is scoped to.
    #[serde(default)]
    path: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "PascalCase")]
struct CreatedUserBody {
    user: UserView,
    access_key: NewAccessKeyView,
}

/// The site a user route is about: a bucket, or a website (whose users may also be in `WebAdmGrp` or scoped
/// to a prefix).
struct Site {
    ctx: Ctx,
    bucket: BucketName,
    website: bool,
}

impl Site {
    fn bucket(state: &AppState, account: &str, bucket: &str) -> Result<Site, ApiError> {
        let ctx = state.ctx(account)?;
        let bucket = parse(BucketName::parse(bucket))?;
        Ok(Site {
            ctx,
            bucket,
            website: false,
        })
    }

    fn website(state: &AppState, account: &str, website: &str) -> Result<Site, ApiError> {
        let ctx = state.ctx(account)?;
        let site = parse_website(website, &ctx)?;
        Ok(Site {
            ctx,
            bucket: site.bucket().clone(),
            website: true,
        })
    }

    fn membership(&self) -> Membership {
        match self.website {
            true => Membership::website(&self.bucket),
            false => Membership::bucket(&self.bucket),
        }
    }
}

/// A response that carries a secret access key must not be stored by any cache.
fn no_store(body: impl Serialize) -> Response {
    let mut response = axum::Json(body).into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

fn invalid_group(e: NameError) -> ApiError {
    ApiError::bad_request("InvalidGroup", e.to_string())
}

/// The groups a new user joins: as asked, or by default the site's admin groups.
fn requested_groups(
    site: &Site,
    groups: Option<Vec<String>>,
    scope: Option<&ScopePath>,
) -> Result<Vec<BucketGroup>, ApiError> {
    let names = match groups {
        Some(names) => names,
        None if site.website && scope.is_none() => {
            vec!["BktAdmGrp".to_owned(), "WebAdmGrp".to_owned()]
        }
        None => vec!["BktAdmGrp".to_owned()],
    };
    if names.is_empty() {
        return Err(ApiError::bad_request(
            "InvalidGroup",
            "Groups must name at least one group",
        ));
    }
    let mut kinds = Vec::new();
    for name in &names {
        let kind = match site.website {
            true => GroupKind::parse_website(name),
            false => GroupKind::parse(name),
        }
        .map_err(invalid_group)?;
        if !kinds.contains(&kind) {
            kinds.push(kind);
        }
    }
    kinds
        .into_iter()
        .map(|k| match scope {
            Some(scope) => BucketGroup::scoped(&site.bucket, k, scope),
            None => BucketGroup::new(&site.bucket, k),
        })
        .collect::<Result<_, _>>()
        .map_err(invalid_group)
}

async fn create(site: Site, body: CreateUserBody) -> Result<Response, ApiError> {
    let user = parse(UserName::parse(&body.user.user_name))?;
    let scope = match (&body.user.path, site.website) {
        (None, _) => None,
        (Some(_), false) => {
            return Err(ApiError::bad_request(
                "InvalidRequestBody",
                "User.Path is for website users only",
            ))
        }
        (Some(p), true) => Some(
            ScopePath::parse(p).map_err(|e| ApiError::bad_request("InvalidPath", e.to_string()))?,
        ),
    };
    let groups = requested_groups(&site, body.groups, scope.as_ref())?;
    let placeholder = scope.as_ref().map(|s| {
        (
            format!("{}index.html", s.key_prefix()),
            placeholder_page(site.bucket.as_str()),
        )
    });
    let req = CreateUser {
        kind: site.membership().kind,
        bucket: site.bucket,
        user,
        groups,
        placeholder,
    };
    let created = detached(&site.ctx, |ctx| users::create(ctx, req)).await?;
    Ok(no_store(CreatedUserBody {
        user: UserView::from(&created.user),
        access_key: NewAccessKeyView::from(&created.access_key),
    }))
}

async fn list(site: Site) -> Result<Response, ApiError> {
    let users = users::list(&site.ctx, &site.bucket, &site.membership()).await?;
    Ok(axum::Json(views::<_, UserView>(&users)).into_response())
}

#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "PascalCase")]
struct UserBody {
    user: UserView,
    access_keys: Vec<AccessKeyView>,
    groups: Vec<GroupView>,
    policies: Vec<AttachedPolicyView>,
}

async fn show(site: Site, user: &str) -> Result<Response, ApiError> {
    let user = parse(UserName::parse(user))?;
    let v = users::show(&site.ctx, &user, &site.membership()).await?;
    Ok(axum::Json(UserBody {
        user: UserView::from(&v.user),
        access_keys: views(&v.access_keys),
        groups: views(&v.groups),
        policies: views(&v.policies),
    })
    .into_response())
}

#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "PascalCase")]
struct ResetBody {
    deleted_key_ids: Vec<String>,
    access_key: NewAccessKeyView,
}

async fn reset_keys(site: Site, user: &str) -> Result<Response, ApiError> {
    let user = parse(UserName::parse(user))?;
    let membership = site.membership();
    let ctx = site.ctx;
    let r = detached(&ctx, move |ctx| async move {
        users::reset_keys(&ctx, &user, &membership).await
    })
    .await?;
    Ok(no_store(ResetBody {
        deleted_key_ids: r.deleted_key_ids,
        access_key: NewAccessKeyView::from(&r.access_key),
    }))
}

#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "PascalCase")]
struct DeletedUserBody {
    user: String,
    deleted_key_ids: Vec<String>,
    groups: Vec<String>,
}

async fn delete(site: Site, user: &str) -> Result<Response, ApiError> {
    let user = parse(UserName::parse(user))?;
    let membership = site.membership();
    let ctx = site.ctx;
    let d = detached(&ctx, move |ctx| async move {
        users::delete(&ctx, &user, &membership).await
    })
    .await?;
    Ok(axum::Json(DeletedUserBody {
        user: d.user,
        deleted_key_ids: d.deleted_key_ids,
        groups: d.groups,
    })
    .into_response())
}

/// Create a bucket user
///
/// Creates an IAM user in the bucket's groups (admin by default; read-write and read-only groups are made on first
/// use) with a first access key. Its secret is in this answer only.
#[utoipa::path(post, path = "/v1/s3/{account}/buckets/{bucket}/users", tag = "bucket users", params(("account" = String, Path, description = "An account of the configuration", example = "local"), ("bucket" = String, Path, description = "Bucket name", example = "foobarbucketname")), request_body = CreateUserBody, security(("token" = [])),
    responses((status = 200, description = "The user and its first access key", body = CreatedUserBody), crate::http::openapi::Errors))]
pub async fn create_bucket_user(
    State(state): State<AppState>,
    Params((account, bucket)): Params<(String, String)>,
    Json(body): Json<CreateUserBody>,
) -> Result<Response, ApiError> {
    create(Site::bucket(&state, &account, &bucket)?, body).await
}

/// List bucket users
///
/// The users in any of the bucket's groups.
#[utoipa::path(get, path = "/v1/s3/{account}/buckets/{bucket}/users", tag = "bucket users", params(("account" = String, Path, description = "An account of the configuration", example = "local"), ("bucket" = String, Path, description = "Bucket name", example = "foobarbucketname")), security(("token" = [])),
    responses((status = 200, description = "The users, sorted by name", body = Vec<UserView>), crate::http::openapi::Errors))]
pub async fn list_bucket_users(
    State(state): State<AppState>,
    Params((account, bucket)): Params<(String, String)>,
) -> Result<Response, ApiError> {
    list(Site::bucket(&state, &account, &bucket)?).await
}

/// Show a bucket user
///
/// The user, its access keys' metadata, the bucket's groups it is in and their policies.
#[utoipa::path(get, path = "/v1/s3/{account}/buckets/{bucket}/users/{user}", tag = "bucket users", params(("account" = String, Path, description = "An account of the configuration", example = "local"), ("bucket" = String, Path, description = "Bucket name", example = "foobarbucketname"), ("user" = String, Path, description = "IAM user name", example = "somebucketuser")), security(("token" = [])),
    responses((status = 200, description = "The user", body = UserBody), crate::http::openapi::Errors))]
pub async fn show_bucket_user(
    State(state): State<AppState>,
    Params((account, bucket, user)): Params<(String, String, String)>,
) -> Result<Response, ApiError> {
    show(Site::bucket(&state, &account, &bucket)?, &user).await
}

/// Reset a bucket user's keys
///
/// Creates a new access key and deletes the older ones. The secret is in this answer only.
#[utoipa::path(put, path = "/v1/s3/{account}/buckets/{bucket}/users/{user}", tag = "bucket users", params(("account" = String, Path, description = "An account of the configuration", example = "local"), ("bucket" = String, Path, description = "Bucket name", example = "foobarbucketname"), ("user" = String, Path, description = "IAM user name", example = "somebucketuser")), security(("token" = [])),
    responses((status = 200, description = "A new access key; the older ones are deleted", body = ResetBody), crate::http::openapi::Errors))]
pub async fn reset_bucket_user(
    State(state): State<AppState>,
    Params((account, bucket, user)): Params<(String, String, String)>,
) -> Result<Response, ApiError> {
    reset_keys(Site::bucket(&state, &account, &bucket)?, &user).await
}

/// Delete a bucket user
///
/// Deletes the user with everything IAM requires gone first (keys, login profile, MFA devices, policies, …). Safe
/// to repeat.
#[utoipa::path(delete, path = "/v1/s3/{account}/buckets/{bucket}/users/{user}", tag = "bucket users", params(("account" = String, Path, description = "An account of the configuration", example = "local"), ("bucket" = String, Path, description = "Bucket name", example = "foobarbucketname"), ("user" = String, Path, description = "IAM user name", example = "somebucketuser")), security(("token" = [])),
    responses((status = 200, description = "What was deleted", body = DeletedUserBody), crate::http::openapi::Errors))]
pub async fn delete_bucket_user(
    State(state): State<AppState>,
    Params((account, bucket, user)): Params<(String, String, String)>,
) -> Result<Response, ApiError> {
    delete(Site::bucket(&state, &account, &bucket)?, &user).await
}

/// Create a website user
///
/// As for buckets, plus `WebAdmGrp` (CloudFront invalidations) and `User.Path` to scope the user to a prefix.
#[utoipa::path(post, path = "/v1/s3/{account}/websites/{website}/users", tag = "website users", params(("account" = String, Path, description = "An account of the configuration", example = "local"), ("website" = String, Path, description = "Website name under a configured domain", example = "www.example.org")), request_body = CreateUserBody, security(("token" = [])),
    responses((status = 200, description = "The user and its first access key", body = CreatedUserBody), crate::http::openapi::Errors))]
pub async fn create_website_user(
    State(state): State<AppState>,
    Params((account, website)): Params<(String, String)>,
    Json(body): Json<CreateUserBody>,
) -> Result<Response, ApiError> {
    create(Site::website(&state, &account, &website)?, body).await
}

/// List website users
///
/// Root and path-scoped users alike.
#[utoipa::path(get, path = "/v1/s3/{account}/websites/{website}/users", tag = "website users", params(("account" = String, Path, description = "An account of the configuration", example = "local"), ("website" = String, Path, description = "Website name under a configured domain", example = "www.example.org")), security(("token" = [])),
    responses((status = 200, description = "The users, sorted by name", body = Vec<UserView>), crate::http::openapi::Errors))]
pub async fn list_website_users(
    State(state): State<AppState>,
    Params((account, website)): Params<(String, String)>,
) -> Result<Response, ApiError> {
    list(Site::website(&state, &account, &website)?).await
}

/// Show a website user
///
/// As for buckets.
#[utoipa::path(get, path = "/v1/s3/{account}/websites/{website}/users/{user}", tag = "website users", params(("account" = String, Path, description = "An account of the configuration", example = "local"), ("website" = String, Path, description = "Website name under a configured domain", example = "www.example.org"), ("user" = String, Path, description = "IAM user name", example = "somebucketuser")), security(("token" = [])),
    responses((status = 200, description = "The user", body = UserBody), crate::http::openapi::Errors))]
pub async fn show_website_user(
    State(state): State<AppState>,
    Params((account, website, user)): Params<(String, String, String)>,
) -> Result<Response, ApiError> {
    show(Site::website(&state, &account, &website)?, &user).await
}

/// Reset a website user's keys
///
/// As for buckets.
#[utoipa::path(put, path = "/v1/s3/{account}/websites/{website}/users/{user}", tag = "website users", params(("account" = String, Path, description = "An account of the configuration", example = "local"), ("website" = String, Path, description = "Website name under a configured domain", example = "www.example.org"), ("user" = String, Path, description = "IAM user name", example = "somebucketuser")), security(("token" = [])),
    responses((status = 200, description = "A new access key; the older ones are deleted", body = ResetBody), crate::http::openapi::Errors))]
pub async fn reset_website_user(
    State(state): State<AppState>,
    Params((account, website, user)): Params<(String, String, String)>,
) -> Result<Response, ApiError> {
    reset_keys(Site::website(&state, &account, &website)?, &user).await
}

/// Delete a website user
///
/// As for buckets.
#[utoipa::path(delete, path = "/v1/s3/{account}/websites/{website}/users/{user}", tag = "website users", params(("account" = String, Path, description = "An account of the configuration", example = "local"), ("website" = String, Path, description = "Website name under a configured domain", example = "www.example.org"), ("user" = String, Path, description = "IAM user name", example = "somebucketuser")), security(("token" = [])),
    responses((status = 200, description = "What was deleted", body = DeletedUserBody), crate::http::openapi::Errors))]
pub async fn delete_website_user(
    State(state): State<AppState>,
    Params((account, website, user)): Params<(String, String, String)>,
) -> Result<Response, ApiError> {
    delete(Site::website(&state, &account, &website)?, &user).await
}
