//! `/v1/s3/{account}/buckets/{bucket}/users…`: create, list, show, reset keys, delete.

use axum::extract::State;
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use super::error::ApiError;
use super::extract::{Json, Params};
use super::views::{
    views, AccessKeyView, AttachedPolicyView, GroupView, NewAccessKeyView, UserView,
};
use super::{detached, parse};
use crate::app::AppState;
use crate::domain::names::{BucketGroup, BucketName, GroupKind, UserName};
use crate::orchestration::users::{self, CreateUser};

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct CreateUserBody {
    user: UserInput,
    #[serde(default)]
    groups: Option<Vec<String>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
struct UserInput {
    user_name: String,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct CreatedUserBody {
    user: UserView,
    access_key: NewAccessKeyView,
}

/// A response that carries a secret access key must not be stored by any cache.
fn no_store(body: impl Serialize) -> Response {
    let mut response = axum::Json(body).into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

fn group_kinds(groups: Option<Vec<String>>) -> Result<Vec<GroupKind>, ApiError> {
    let names = groups.unwrap_or_else(|| vec![GroupKind::Admin.group_suffix().to_owned()]);
    if names.is_empty() {
        return Err(ApiError::bad_request(
            "InvalidGroup",
            "Groups must name at least one group",
        ));
    }
    let mut kinds = Vec::new();
    for name in &names {
        let kind = GroupKind::parse(name)
            .map_err(|e| ApiError::bad_request("InvalidGroup", e.to_string()))?;
        if !kinds.contains(&kind) {
            kinds.push(kind);
        }
    }
    Ok(kinds)
}

pub async fn create(
    State(state): State<AppState>,
    Params((account, bucket)): Params<(String, String)>,
    Json(body): Json<CreateUserBody>,
) -> Result<Response, ApiError> {
    let ctx = state.ctx(&account)?;
    let bucket = parse(BucketName::parse(&bucket))?;
    let user = parse(UserName::parse(&body.user.user_name))?;
    let groups = group_kinds(body.groups)?
        .into_iter()
        .map(|k| {
            BucketGroup::new(&bucket, k)
                .map_err(|e| ApiError::bad_request("InvalidGroup", e.to_string()))
        })
        .collect::<Result<_, _>>()?;
    let created = detached(users::create(
        ctx,
        CreateUser {
            bucket,
            user,
            groups,
        },
    ))
    .await?;
    Ok(no_store(CreatedUserBody {
        user: UserView::from(&created.user),
        access_key: NewAccessKeyView::from(&created.access_key),
    }))
}

pub async fn list(
    State(state): State<AppState>,
    Params((account, bucket)): Params<(String, String)>,
) -> Result<Response, ApiError> {
    let ctx = state.ctx(&account)?;
    let bucket = parse(BucketName::parse(&bucket))?;
    let users = users::list(&ctx, &bucket, &BucketGroup::all(&bucket)).await?;
    Ok(axum::Json(views::<_, UserView>(&users)).into_response())
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct UserBody {
    user: UserView,
    access_keys: Vec<AccessKeyView>,
    groups: Vec<GroupView>,
    policies: Vec<AttachedPolicyView>,
}

/// The account context, the bucket's groups and the user named by the path.
fn user_route(
    state: &AppState,
    (account, bucket, user): (String, String, String),
) -> Result<(crate::orchestration::Ctx, Vec<BucketGroup>, UserName), ApiError> {
    let ctx = state.ctx(&account)?;
    let bucket = parse(BucketName::parse(&bucket))?;
    let user = parse(UserName::parse(&user))?;
    Ok((ctx, BucketGroup::all(&bucket), user))
}

pub async fn show(
    State(state): State<AppState>,
    Params(params): Params<(String, String, String)>,
) -> Result<Response, ApiError> {
    let (ctx, groups, user) = user_route(&state, params)?;
    let v = users::show(&ctx, &user, &groups).await?;
    Ok(axum::Json(UserBody {
        user: UserView::from(&v.user),
        access_keys: views(&v.access_keys),
        groups: views(&v.groups),
        policies: views(&v.policies),
    })
    .into_response())
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct ResetBody {
    deleted_key_ids: Vec<String>,
    access_key: NewAccessKeyView,
}

pub async fn reset_keys(
    State(state): State<AppState>,
    Params(params): Params<(String, String, String)>,
) -> Result<Response, ApiError> {
    let (ctx, groups, user) = user_route(&state, params)?;
    let r = detached(async move { users::reset_keys(&ctx, &user, &groups).await }).await?;
    Ok(no_store(ResetBody {
        deleted_key_ids: r.deleted_key_ids,
        access_key: NewAccessKeyView::from(&r.access_key),
    }))
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct DeletedUserBody {
    user: String,
    deleted_key_ids: Vec<String>,
    groups: Vec<String>,
}

pub async fn delete(
    State(state): State<AppState>,
    Params(params): Params<(String, String, String)>,
) -> Result<Response, ApiError> {
    let (ctx, groups, user) = user_route(&state, params)?;
    let d = detached(async move { users::delete(&ctx, &user, &groups).await }).await?;
    Ok(axum::Json(DeletedUserBody {
        user: d.user,
        deleted_key_ids: d.deleted_key_ids,
        groups: d.groups,
    })
    .into_response())
}
