//! Response bodies: AWS objects in the wire shape of the API (PascalCase, RFC 3339 timestamps, `null` for
//! what AWS did not return, `[]` for empty lists).

use aws_sdk_iam::types::{AccessKey, AccessKeyMetadata, AttachedPolicy, Group, Policy, User};
use aws_smithy_types::DateTime;
use serde::Serialize;

use crate::domain::tags::Tag;

/// `2019-03-01T15:33:52Z`: whole seconds, UTC.
pub fn timestamp(d: &DateTime) -> String {
    DateTime::from_secs(d.secs())
        .fmt(aws_smithy_types::date_time::Format::DateTime)
        .unwrap_or_default()
}

fn opt_timestamp(d: Option<&DateTime>) -> Option<String> {
    d.map(timestamp)
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct PolicyView {
    pub arn: Option<String>,
    pub attachment_count: Option<i32>,
    pub create_date: Option<String>,
    pub default_version_id: Option<String>,
    pub description: Option<String>,
    pub is_attachable: bool,
    pub path: Option<String>,
    pub permissions_boundary_usage_count: Option<i32>,
    pub policy_id: Option<String>,
    pub policy_name: Option<String>,
    pub update_date: Option<String>,
}

impl From<&Policy> for PolicyView {
    fn from(p: &Policy) -> Self {
        PolicyView {
            arn: p.arn().map(str::to_owned),
            attachment_count: p.attachment_count(),
            create_date: opt_timestamp(p.create_date()),
            default_version_id: p.default_version_id().map(str::to_owned),
            description: p.description().map(str::to_owned),
            is_attachable: p.is_attachable(),
            path: p.path().map(str::to_owned),
            permissions_boundary_usage_count: p.permissions_boundary_usage_count(),
            policy_id: p.policy_id().map(str::to_owned),
            policy_name: p.policy_name().map(str::to_owned),
            update_date: opt_timestamp(p.update_date()),
        }
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct GroupView {
    pub arn: String,
    pub create_date: String,
    pub group_id: String,
    pub group_name: String,
    pub path: String,
}

impl From<&Group> for GroupView {
    fn from(g: &Group) -> Self {
        GroupView {
            arn: g.arn().to_owned(),
            create_date: timestamp(g.create_date()),
            group_id: g.group_id().to_owned(),
            group_name: g.group_name().to_owned(),
            path: g.path().to_owned(),
        }
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct BoundaryView {
    pub permissions_boundary_arn: Option<String>,
    pub permissions_boundary_type: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct UserView {
    pub arn: String,
    pub create_date: String,
    pub password_last_used: Option<String>,
    pub path: String,
    pub permissions_boundary: Option<BoundaryView>,
    pub tags: Vec<Tag>,
    pub user_id: String,
    pub user_name: String,
}

impl From<&User> for UserView {
    fn from(u: &User) -> Self {
        UserView {
            arn: u.arn().to_owned(),
            create_date: timestamp(u.create_date()),
            password_last_used: opt_timestamp(u.password_last_used()),
            path: u.path().to_owned(),
            permissions_boundary: u.permissions_boundary().map(|b| BoundaryView {
                permissions_boundary_arn: b.permissions_boundary_arn().map(str::to_owned),
                permissions_boundary_type: b
                    .permissions_boundary_type()
                    .map(|t| t.as_str().to_owned()),
            }),
            tags: u
                .tags()
                .iter()
                .map(|t| Tag::new(t.key(), t.value()))
                .collect(),
            user_id: u.user_id().to_owned(),
            user_name: u.user_name().to_owned(),
        }
    }
}

/// A new access key, with its secret: shown once.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct NewAccessKeyView {
    pub access_key_id: String,
    pub create_date: Option<String>,
    pub secret_access_key: String,
    pub status: String,
    pub user_name: String,
}

impl From<&AccessKey> for NewAccessKeyView {
    fn from(k: &AccessKey) -> Self {
        NewAccessKeyView {
            access_key_id: k.access_key_id().to_owned(),
            create_date: opt_timestamp(k.create_date()),
            secret_access_key: k.secret_access_key().to_owned(),
            status: k.status().as_str().to_owned(),
            user_name: k.user_name().to_owned(),
        }
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct AccessKeyView {
    pub access_key_id: Option<String>,
    pub create_date: Option<String>,
    pub status: Option<String>,
    pub user_name: Option<String>,
}

impl From<&AccessKeyMetadata> for AccessKeyView {
    fn from(k: &AccessKeyMetadata) -> Self {
        AccessKeyView {
            access_key_id: k.access_key_id().map(str::to_owned),
            create_date: opt_timestamp(k.create_date()),
            status: k.status().map(|s| s.as_str().to_owned()),
            user_name: k.user_name().map(str::to_owned),
        }
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct AttachedPolicyView {
    pub policy_arn: Option<String>,
    pub policy_name: Option<String>,
}

impl From<&AttachedPolicy> for AttachedPolicyView {
    fn from(p: &AttachedPolicy) -> Self {
        AttachedPolicyView {
            policy_arn: p.policy_arn().map(str::to_owned),
            policy_name: p.policy_name().map(str::to_owned),
        }
    }
}

/// Maps a list of AWS objects to their views.
pub fn views<'a, T: 'a, V: From<&'a T>>(items: &'a [T]) -> Vec<V> {
    items.iter().map(V::from).collect()
}
