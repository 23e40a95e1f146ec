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

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "PascalCase")]
pub struct PolicyView {
    pub arn: Option<String>,
    pub attachment_count: Option<i32>,
    #[schema(format = DateTime)]
    pub create_date: Option<String>,
    pub default_version_id: Option<String>,
    pub description: Option<String>,
    pub is_attachable: bool,
    pub path: Option<String>,
    pub permissions_boundary_usage_count: Option<i32>,
    pub policy_id: Option<String>,
    pub policy_name: Option<String>,
    #[schema(format = DateTime)]
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

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "PascalCase")]
pub struct GroupView {
    pub arn: String,
    #[schema(format = DateTime)]
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

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "PascalCase")]
pub struct BoundaryView {
    pub permissions_boundary_arn: Option<String>,
    pub permissions_boundary_type: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "PascalCase")]
pub struct UserView {
    pub arn: String,
    #[schema(format = DateTime)]
    pub create_date: String,
    #[schema(format = DateTime)]
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
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "PascalCase")]
pub struct NewAccessKeyView {
    pub access_key_id: String,
    #[schema(format = DateTime)]
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

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "PascalCase")]
pub struct AccessKeyView {
    pub access_key_id: Option<String>,
    #[schema(format = DateTime)]
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

#[derive(Debug, Serialize, utoipa::ToSchema)]
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

/// A list in CloudFront's wire shape: the items and how many there are.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "PascalCase")]
pub struct Strings {
    pub items: Vec<String>,
    pub quantity: i64,
}

impl Strings {
    fn of<'a>(items: impl IntoIterator<Item = &'a str>) -> Strings {
        let items: Vec<String> = items.into_iter().map(str::to_owned).collect();
        Strings {
            quantity: items.len() as i64,
            items,
        }
    }
}

/// A CloudFront distribution in the seed's shape.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "PascalCase")]
pub struct DistributionView {
    #[serde(rename = "ARN")]
    pub arn: String,
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
    pub default_cache_behavior: Option<CacheBehaviorView>,
    pub default_root_object: Option<String>,
    pub enabled: bool,
    pub http_version: Option<String>,
    #[serde(rename = "IsIPV6Enabled")]
    pub is_ipv6_enabled: Option<bool>,
    pub logging: Option<DistributionLoggingView>,
    pub origins: OriginsView,
    pub price_class: Option<String>,
    pub restrictions: RestrictionsView,
    pub viewer_certificate: Option<ViewerCertificateView>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "PascalCase")]
pub struct CacheBehaviorView {
    pub target_origin_id: String,
    pub viewer_protocol_policy: String,
    pub compress: Option<bool>,
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
    pub origin_path: Option<String>,
    pub custom_origin_config: Option<CustomOriginView>,
    /// Always null: a website's origin is the bucket's website endpoint, a custom origin.
    #[schema(value_type = Option<Object>)]
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
    pub origin_read_timeout: Option<i32>,
    pub origin_keepalive_timeout: Option<i32>,
    pub origin_ssl_protocols: Option<Strings>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "PascalCase")]
pub struct RestrictionsView {
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
    pub acm_certificate_arn: Option<String>,
    /// The older fields the seed shows, derived from the current ones.
    pub certificate: Option<String>,
    pub certificate_source: Option<String>,
    pub cloud_front_default_certificate: Option<bool>,
    #[serde(rename = "IAMCertificateId")]
    pub iam_certificate_id: Option<String>,
    pub minimum_protocol_version: Option<String>,
    #[serde(rename = "SSLSupportMethod")]
    pub ssl_support_method: Option<String>,
}

impl From<&aws_sdk_cloudfront::types::Distribution> for DistributionView {
    fn from(d: &aws_sdk_cloudfront::types::Distribution) -> Self {
        let config = d.distribution_config().map(|c| {
            let origins: Vec<OriginView> = (c.origins().map(|o| o.items()).unwrap_or_default())
                .iter()
                .map(|o| OriginView {
                    id: o.id().to_owned(),
                    domain_name: o.domain_name().to_owned(),
                    origin_path: o.origin_path().map(str::to_owned),
                    custom_origin_config: o.custom_origin_config().map(|c| CustomOriginView {
                        http_port: c.http_port(),
                        https_port: c.https_port(),
                        origin_protocol_policy: c.origin_protocol_policy().as_str().to_owned(),
                        origin_read_timeout: c.origin_read_timeout(),
                        origin_keepalive_timeout: c.origin_keepalive_timeout(),
                        origin_ssl_protocols: c
                            .origin_ssl_protocols()
                            .map(|p| Strings::of(p.items().iter().map(|i| i.as_str()))),
                    }),
                    s3_origin_config: None,
                })
                .collect();
            let geo = c.restrictions().and_then(|r| r.geo_restriction());
            DistributionConfigView {
                aliases: Strings::of(
                    (c.aliases().map(|a| a.items()).unwrap_or_default())
                        .iter()
                        .map(String::as_str),
                ),
                caller_reference: c.caller_reference().to_owned(),
                comment: c.comment().to_owned(),
                default_cache_behavior: c.default_cache_behavior().map(|b| CacheBehaviorView {
                    target_origin_id: b.target_origin_id().to_owned(),
                    viewer_protocol_policy: b.viewer_protocol_policy().as_str().to_owned(),
                    compress: b.compress(),
                    cache_policy_id: b.cache_policy_id().map(str::to_owned),
                }),
                default_root_object: c.default_root_object().map(str::to_owned),
                enabled: c.enabled(),
                http_version: c.http_version().map(|v| v.as_str().to_owned()),
                is_ipv6_enabled: c.is_ipv6_enabled(),
                logging: c.logging().map(|l| DistributionLoggingView {
                    bucket: l.bucket().to_owned(),
                    enabled: l.enabled(),
                    include_cookies: l.include_cookies(),
                    prefix: l.prefix().to_owned(),
                }),
                origins: OriginsView {
                    quantity: origins.len() as i64,
                    items: origins,
                },
                price_class: c.price_class().map(|p| p.as_str().to_owned()),
                restrictions: RestrictionsView {
                    geo_restriction: geo.map(|g| GeoRestrictionView {
                        items: g.items().to_vec(),
                        quantity: g.quantity(),
                        restriction_type: g.restriction_type().as_str().to_owned(),
                    }),
                },
                viewer_certificate: c.viewer_certificate().map(|v| ViewerCertificateView {
                    acm_certificate_arn: v.acm_certificate_arn().map(str::to_owned),
                    certificate: v.acm_certificate_arn().map(str::to_owned),
                    certificate_source: v.acm_certificate_arn().map(|_| "acm".to_owned()),
                    cloud_front_default_certificate: v.cloud_front_default_certificate(),
                    iam_certificate_id: v.iam_certificate_id().map(str::to_owned),
                    minimum_protocol_version: v
                        .minimum_protocol_version()
                        .map(|m| m.as_str().to_owned()),
                    ssl_support_method: v.ssl_support_method().map(|m| m.as_str().to_owned()),
                }),
            }
        });
        DistributionView {
            arn: d.arn().to_owned(),
            distribution_config: config,
            domain_name: d.domain_name().to_owned(),
            id: d.id().to_owned(),
            in_progress_invalidation_batches: d.in_progress_invalidation_batches(),
            last_modified_time: timestamp(d.last_modified_time()),
            status: d.status().to_owned(),
        }
    }
}

/// A Route 53 record set in the seed's shape.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "PascalCase")]
pub struct DnsRecordView {
    pub alias_target: Option<AliasTargetView>,
    pub failover: Option<String>,
    /// Always null: the service makes no geolocation records.
    #[schema(value_type = Option<Object>)]
    pub geo_location: Option<serde_json::Value>,
    pub health_check_id: Option<String>,
    pub multi_value_answer: Option<bool>,
    pub name: String,
    pub region: Option<String>,
    pub resource_records: Option<Vec<ResourceRecordView>>,
    pub set_identifier: Option<String>,
    #[serde(rename = "TTL")]
    pub ttl: Option<i64>,
    pub traffic_policy_instance_id: Option<String>,
    #[serde(rename = "Type")]
    pub record_type: String,
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

impl From<&aws_sdk_route53::types::ResourceRecordSet> for DnsRecordView {
    fn from(r: &aws_sdk_route53::types::ResourceRecordSet) -> Self {
        DnsRecordView {
            alias_target: r.alias_target().map(|a| AliasTargetView {
                dns_name: a.dns_name().to_owned(),
                evaluate_target_health: a.evaluate_target_health(),
                hosted_zone_id: a.hosted_zone_id().to_owned(),
            }),
            failover: r.failover().map(|f| f.as_str().to_owned()),
            geo_location: None,
            health_check_id: r.health_check_id().map(str::to_owned),
            multi_value_answer: r.multi_value_answer(),
            name: r.name().to_owned(),
            region: r.region().map(|x| x.as_str().to_owned()),
            resource_records: (!r.resource_records().is_empty()).then(|| {
                (r.resource_records().iter())
                    .map(|x| ResourceRecordView {
                        value: x.value().to_owned(),
                    })
                    .collect()
            }),
            set_identifier: r.set_identifier().map(str::to_owned),
            ttl: r.ttl(),
            traffic_policy_instance_id: r.traffic_policy_instance_id().map(str::to_owned),
            record_type: r.r#type().as_str().to_owned(),
            weight: r.weight(),
        }
    }
}

/// A Route 53 change in the seed's shape.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "PascalCase")]
pub struct DnsChangeView {
    pub comment: Option<String>,
    pub id: String,
    /// `PENDING`, then `INSYNC`.
    pub status: String,
    #[schema(format = DateTime)]
    pub submitted_at: String,
}

impl From<&aws_sdk_route53::types::ChangeInfo> for DnsChangeView {
    fn from(c: &aws_sdk_route53::types::ChangeInfo) -> Self {
        DnsChangeView {
            comment: c.comment().map(str::to_owned),
            id: c.id().to_owned(),
            status: c.status().as_str().to_owned(),
            submitted_at: timestamp(c.submitted_at()),
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
    pub invalidation_batch: Option<InvalidationBatchView>,
    /// `InProgress`, then `Completed`.
    pub status: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "PascalCase")]
pub struct InvalidationBatchView {
    pub caller_reference: String,
    pub paths: Option<Strings>,
}

impl From<&aws_sdk_cloudfront::types::Invalidation> for InvalidationView {
    fn from(i: &aws_sdk_cloudfront::types::Invalidation) -> Self {
        InvalidationView {
            create_time: timestamp(i.create_time()),
            id: i.id().to_owned(),
            invalidation_batch: i.invalidation_batch().map(|b| InvalidationBatchView {
                caller_reference: b.caller_reference().to_owned(),
                paths: b
                    .paths()
                    .map(|p| Strings::of(p.items().iter().map(String::as_str))),
            }),
            status: i.status().to_owned(),
        }
    }
}
