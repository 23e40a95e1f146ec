//! Response bodies: the workflows' records in the wire shape of the API (PascalCase, RFC 3339 timestamps,
//! `null` for what AWS did not return, `[]` for empty lists). Every field is always present; `null` only where
//! the schema says it may be.

use std::time::SystemTime;

use serde::Serialize;

use crate::domain::tags::Tag;
use crate::orchestration::records;

/// `2019-03-01T15:33:52Z`: whole seconds, UTC.
pub fn timestamp(t: SystemTime) -> String {
    humantime::format_rfc3339_seconds(t).to_string()
}

/// A tag as the service reports it; a request's `Tag` may leave out an empty `Value`, a response's always has it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "PascalCase")]
pub struct TagView {
    pub key: String,
    pub value: String,
}

impl From<&Tag> for TagView {
    fn from(t: &Tag) -> Self {
        TagView {
            key: t.key.clone(),
            value: t.value.clone(),
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "PascalCase")]
pub struct PolicyView {
    pub arn: String,
    #[schema(required)]
    pub attachment_count: Option<i32>,
    #[schema(format = DateTime, required)]
    pub create_date: Option<String>,
    #[schema(required)]
    pub default_version_id: Option<String>,
    #[schema(required)]
    pub description: Option<String>,
    pub is_attachable: bool,
    pub path: String,
    #[schema(required)]
    pub permissions_boundary_usage_count: Option<i32>,
    pub policy_id: String,
    pub policy_name: String,
    #[schema(format = DateTime, required)]
    pub update_date: Option<String>,
}

impl From<&records::Policy> for PolicyView {
    fn from(p: &records::Policy) -> Self {
        PolicyView {
            arn: p.arn.clone(),
            attachment_count: p.attachment_count,
            create_date: p.created.map(timestamp),
            default_version_id: p.default_version_id.clone(),
            description: p.description.clone(),
            is_attachable: p.is_attachable,
            path: p.path.clone(),
            permissions_boundary_usage_count: p.permissions_boundary_usage_count,
            policy_id: p.id.clone(),
            policy_name: p.name.clone(),
            update_date: p.updated.map(timestamp),
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "PascalCase")]
pub struct GroupView {
    pub arn: String,
    #[schema(format = DateTime)]
    pub create_date: String,
    pub group_id: String,
    /// `<bucket>-BktAdmGrp`, `-BktRWGrp`, `-BktROGrp` or `-WebAdmGrp` (path-scoped groups carry a hash too).
    pub group_name: String,
    pub path: String,
}

impl From<&records::Group> for GroupView {
    fn from(g: &records::Group) -> Self {
        GroupView {
            arn: g.arn.clone(),
            create_date: timestamp(g.created),
            group_id: g.id.clone(),
            group_name: g.name.clone(),
            path: g.path.clone(),
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "PascalCase")]
pub struct BoundaryView {
    #[schema(required)]
    pub permissions_boundary_arn: Option<String>,
    #[schema(required)]
    pub permissions_boundary_type: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "PascalCase")]
pub struct UserView {
    pub arn: String,
    #[schema(format = DateTime)]
    pub create_date: String,
    #[schema(format = DateTime, required)]
    pub password_last_used: Option<String>,
    pub path: String,
    #[schema(required)]
    pub permissions_boundary: Option<BoundaryView>,
    pub tags: Vec<TagView>,
    pub user_id: String,
    pub user_name: String,
}

impl From<&records::User> for UserView {
    fn from(u: &records::User) -> Self {
        UserView {
            arn: u.arn.clone(),
            create_date: timestamp(u.created),
            password_last_used: u.password_last_used.map(timestamp),
            path: u.path.clone(),
            permissions_boundary: u.permissions_boundary.as_ref().map(|b| BoundaryView {
                permissions_boundary_arn: b.arn.clone(),
                permissions_boundary_type: b.kind.clone(),
            }),
            tags: views(&u.tags),
            user_id: u.id.clone(),
            user_name: u.name.clone(),
        }
    }
}

/// An access key's status: only an `Active` key signs requests.
#[derive(Debug, Clone, Copy, Serialize, utoipa::ToSchema)]
pub enum KeyStatus {
    Active,
    Inactive,
    Expired,
}

impl From<records::KeyStatus> for KeyStatus {
    fn from(s: records::KeyStatus) -> Self {
        match s {
            records::KeyStatus::Active => KeyStatus::Active,
            records::KeyStatus::Inactive => KeyStatus::Inactive,
            records::KeyStatus::Expired => KeyStatus::Expired,
        }
    }
}

/// A new access key, with its secret: shown once.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "PascalCase")]
pub struct NewAccessKeyView {
    pub access_key_id: String,
    #[schema(format = DateTime, required)]
    pub create_date: Option<String>,
    pub secret_access_key: String,
    pub status: KeyStatus,
    pub user_name: String,
}

impl From<&records::NewAccessKey> for NewAccessKeyView {
    fn from(k: &records::NewAccessKey) -> Self {
        NewAccessKeyView {
            access_key_id: k.key.id.clone(),
            create_date: k.key.created.map(timestamp),
            secret_access_key: k.secret.clone(),
            status: k.key.status.into(),
            user_name: k.key.user.clone(),
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "PascalCase")]
pub struct AccessKeyView {
    pub access_key_id: String,
    #[schema(format = DateTime, required)]
    pub create_date: Option<String>,
    pub status: KeyStatus,
    pub user_name: String,
}

impl From<&records::AccessKey> for AccessKeyView {
    fn from(k: &records::AccessKey) -> Self {
        AccessKeyView {
            access_key_id: k.id.clone(),
            create_date: k.created.map(timestamp),
            status: k.status.into(),
            user_name: k.user.clone(),
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "PascalCase")]
pub struct AttachedPolicyView {
    pub policy_arn: String,
    pub policy_name: String,
}

impl From<&records::AttachedPolicy> for AttachedPolicyView {
    fn from(p: &records::AttachedPolicy) -> Self {
        AttachedPolicyView {
            policy_arn: p.arn.clone(),
            policy_name: p.name.clone(),
        }
    }
}

/// Maps a list of records to their views.
pub fn views<'a, T: 'a, V: From<&'a T>>(items: &'a [T]) -> Vec<V> {
    items.iter().map(V::from).collect()
}

/// A list in CloudFront's wire shape: the items and how many there are.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "PascalCase")]
pub struct Strings {
    pub items: Vec<String>,
    pub quantity: i64,
}

impl Strings {
    fn of(items: &[String]) -> Strings {
        Strings {
            quantity: items.len() as i64,
            items: items.to_vec(),
        }
    }
}

/// A CloudFront distribution in the seed's shape.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "PascalCase")]
pub struct DistributionView {
    #[serde(rename = "ARN")]
    pub arn: String,
    #[schema(required)]
    pub distribution_config: Option<DistributionConfigView>,
    pub domain_name: String,
    pub id: String,
    pub in_progress_invalidation_batches: i32,
    #[schema(format = DateTime)]
    pub last_modified_time: String,
    /// `InProgress` while CloudFront deploys the configuration, then `Deployed`.
    pub status: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "PascalCase")]
pub struct DistributionConfigView {
    pub aliases: Strings,
    pub caller_reference: String,
    pub comment: String,
    #[schema(required)]
    pub default_cache_behavior: Option<CacheBehaviorView>,
    #[schema(required)]
    pub default_root_object: Option<String>,
    pub enabled: bool,
    #[schema(required)]
    pub http_version: Option<String>,
    #[serde(rename = "IsIPV6Enabled")]
    #[schema(required)]
    pub is_ipv6_enabled: Option<bool>,
    #[schema(required)]
    pub logging: Option<DistributionLoggingView>,
    pub origins: OriginsView,
    #[schema(required)]
    pub price_class: Option<String>,
    pub restrictions: RestrictionsView,
    #[schema(required)]
    pub viewer_certificate: Option<ViewerCertificateView>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "PascalCase")]
pub struct CacheBehaviorView {
    pub target_origin_id: String,
    pub viewer_protocol_policy: String,
    #[schema(required)]
    pub compress: Option<bool>,
    #[schema(required)]
    pub cache_policy_id: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "PascalCase")]
pub struct DistributionLoggingView {
    pub bucket: String,
    pub enabled: bool,
    pub include_cookies: bool,
    pub prefix: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "PascalCase")]
pub struct OriginsView {
    pub items: Vec<OriginView>,
    pub quantity: i64,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "PascalCase")]
pub struct OriginView {
    pub id: String,
    pub domain_name: String,
    #[schema(required)]
    pub origin_path: Option<String>,
    #[schema(required)]
    pub custom_origin_config: Option<CustomOriginView>,
    /// Always null: a website's origin is the bucket's website endpoint, a custom origin.
    #[schema(value_type = Option<Object>, required)]
    #[serde(rename = "S3OriginConfig")]
    pub s3_origin_config: Option<serde_json::Value>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "PascalCase")]
pub struct CustomOriginView {
    #[serde(rename = "HTTPPort")]
    pub http_port: i32,
    #[serde(rename = "HTTPSPort")]
    pub https_port: i32,
    pub origin_protocol_policy: String,
    #[schema(required)]
    pub origin_read_timeout: Option<i32>,
    #[schema(required)]
    pub origin_keepalive_timeout: Option<i32>,
    #[schema(required)]
    pub origin_ssl_protocols: Option<Strings>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "PascalCase")]
pub struct RestrictionsView {
    #[schema(required)]
    pub geo_restriction: Option<GeoRestrictionView>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "PascalCase")]
pub struct GeoRestrictionView {
    pub items: Vec<String>,
    pub quantity: i32,
    /// `none` or `whitelist`.
    pub restriction_type: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "PascalCase")]
pub struct ViewerCertificateView {
    #[serde(rename = "ACMCertificateArn")]
    #[schema(required)]
    pub acm_certificate_arn: Option<String>,
    /// The older fields the seed shows, derived from the current ones.
    #[schema(required)]
    pub certificate: Option<String>,
    #[schema(required)]
    pub certificate_source: Option<String>,
    #[schema(required)]
    pub cloud_front_default_certificate: Option<bool>,
    #[serde(rename = "IAMCertificateId")]
    #[schema(required)]
    pub iam_certificate_id: Option<String>,
    #[schema(required)]
    pub minimum_protocol_version: Option<String>,
    #[serde(rename = "SSLSupportMethod")]
    #[schema(required)]
    pub ssl_support_method: Option<String>,
}

impl From<&records::Distribution> for DistributionView {
    fn from(d: &records::Distribution) -> Self {
        let config = d.config.as_ref().map(|c| {
            let origins: Vec<OriginView> = (c.origins.iter())
                .map(|o| OriginView {
                    id: o.id.clone(),
                    domain_name: o.domain_name.clone(),
                    origin_path: o.origin_path.clone(),
                    custom_origin_config: o.custom.as_ref().map(|c| CustomOriginView {
                        http_port: c.http_port,
                        https_port: c.https_port,
                        origin_protocol_policy: c.protocol_policy.clone(),
                        origin_read_timeout: c.read_timeout,
                        origin_keepalive_timeout: c.keepalive_timeout,
                        origin_ssl_protocols: c.ssl_protocols.as_deref().map(Strings::of),
                    }),
                    s3_origin_config: None,
                })
                .collect();
            DistributionConfigView {
                aliases: Strings::of(&c.aliases),
                caller_reference: c.caller_reference.clone(),
                comment: c.comment.clone(),
                default_cache_behavior: c.default_cache_behavior.as_ref().map(|b| {
                    CacheBehaviorView {
                        target_origin_id: b.target_origin_id.clone(),
                        viewer_protocol_policy: b.viewer_protocol_policy.clone(),
                        compress: b.compress,
                        cache_policy_id: b.cache_policy_id.clone(),
                    }
                }),
                default_root_object: c.default_root_object.clone(),
                enabled: c.enabled,
                http_version: c.http_version.clone(),
                is_ipv6_enabled: c.ipv6,
                logging: c.logging.as_ref().map(|l| DistributionLoggingView {
                    bucket: l.bucket.clone(),
                    enabled: l.enabled,
                    include_cookies: l.include_cookies,
                    prefix: l.prefix.clone(),
                }),
                origins: OriginsView {
                    quantity: origins.len() as i64,
                    items: origins,
                },
                price_class: c.price_class.clone(),
                restrictions: RestrictionsView {
                    geo_restriction: c.geo_restriction.as_ref().map(|g| GeoRestrictionView {
                        quantity: g.locations.len() as i32,
                        items: g.locations.clone(),
                        restriction_type: g.restriction_type.clone(),
                    }),
                },
                viewer_certificate: c.certificate.as_ref().map(|v| ViewerCertificateView {
                    acm_certificate_arn: v.acm_certificate_arn.clone(),
                    certificate: v.acm_certificate_arn.clone(),
                    certificate_source: v.acm_certificate_arn.as_ref().map(|_| "acm".to_owned()),
                    cloud_front_default_certificate: v.cloudfront_default,
                    iam_certificate_id: v.iam_certificate_id.clone(),
                    minimum_protocol_version: v.minimum_protocol_version.clone(),
                    ssl_support_method: v.ssl_support_method.clone(),
                }),
            }
        });
        DistributionView {
            arn: d.arn.clone(),
            distribution_config: config,
            domain_name: d.domain_name.clone(),
            id: d.id.clone(),
            in_progress_invalidation_batches: d.in_progress_invalidations,
            last_modified_time: timestamp(d.last_modified),
            status: d.status.clone(),
        }
    }
}

/// A Route 53 record set in the seed's shape.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "PascalCase")]
pub struct DnsRecordView {
    #[schema(required)]
    pub alias_target: Option<AliasTargetView>,
    #[schema(required)]
    pub failover: Option<String>,
    /// Always null: the service makes no geolocation records.
    #[schema(value_type = Option<Object>, required)]
    pub geo_location: Option<serde_json::Value>,
    #[schema(required)]
    pub health_check_id: Option<String>,
    #[schema(required)]
    pub multi_value_answer: Option<bool>,
    pub name: String,
    #[schema(required)]
    pub region: Option<String>,
    #[schema(required)]
    pub resource_records: Option<Vec<ResourceRecordView>>,
    #[schema(required)]
    pub set_identifier: Option<String>,
    #[serde(rename = "TTL")]
    #[schema(required)]
    pub ttl: Option<i64>,
    #[schema(required)]
    pub traffic_policy_instance_id: Option<String>,
    #[serde(rename = "Type")]
    pub record_type: String,
    #[schema(required)]
    pub weight: Option<i64>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "PascalCase")]
pub struct AliasTargetView {
    #[serde(rename = "DNSName")]
    pub dns_name: String,
    pub evaluate_target_health: bool,
    pub hosted_zone_id: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "PascalCase")]
pub struct ResourceRecordView {
    pub value: String,
}

impl From<&records::DnsRecord> for DnsRecordView {
    fn from(r: &records::DnsRecord) -> Self {
        DnsRecordView {
            alias_target: r.alias.as_ref().map(|a| AliasTargetView {
                dns_name: a.dns_name.clone(),
                evaluate_target_health: a.evaluate_target_health,
                hosted_zone_id: a.hosted_zone_id.clone(),
            }),
            failover: r.failover.clone(),
            geo_location: None,
            health_check_id: r.health_check_id.clone(),
            multi_value_answer: r.multi_value_answer,
            name: r.name.clone(),
            region: r.region.clone(),
            resource_records: (!r.values.is_empty()).then(|| {
                (r.values.iter())
                    .map(|value| ResourceRecordView {
                        value: value.clone(),
                    })
                    .collect()
            }),
            set_identifier: r.set_identifier.clone(),
            ttl: r.ttl,
            traffic_policy_instance_id: r.traffic_policy_instance_id.clone(),
            record_type: r.record_type.clone(),
            weight: r.weight,
        }
    }
}

/// A Route 53 change in the seed's shape.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "PascalCase")]
pub struct DnsChangeView {
    #[schema(required)]
    pub comment: Option<String>,
    pub id: String,
    /// `PENDING`, then `INSYNC`.
    pub status: String,
    #[schema(format = DateTime)]
    pub submitted_at: String,
}

impl From<&records::DnsChange> for DnsChangeView {
    fn from(c: &records::DnsChange) -> Self {
        DnsChangeView {
            comment: c.comment.clone(),
            id: c.id.clone(),
            status: c.status.clone(),
            submitted_at: timestamp(c.submitted),
        }
    }
}

/// A CloudFront invalidation in the seed's shape.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "PascalCase")]
pub struct InvalidationView {
    #[schema(format = DateTime)]
    pub create_time: String,
    pub id: String,
    #[schema(required)]
    pub invalidation_batch: Option<InvalidationBatchView>,
    /// `InProgress`, then `Completed`.
    pub status: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "PascalCase")]
pub struct InvalidationBatchView {
    pub caller_reference: String,
    #[schema(required)]
    pub paths: Option<Strings>,
}

impl From<&records::Invalidation> for InvalidationView {
    fn from(i: &records::Invalidation) -> Self {
        InvalidationView {
            create_time: timestamp(i.created),
            id: i.id.clone(),
            invalidation_batch: i.caller_reference.as_ref().map(|c| InvalidationBatchView {
                caller_reference: c.clone(),
                paths: i.paths.as_deref().map(Strings::of),
            }),
            status: i.status.clone(),
        }
    }
}
