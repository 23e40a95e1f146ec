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

/// A CloudFront distribution in the seed's shape.
pub fn distribution(d: &aws_sdk_cloudfront::types::Distribution) -> serde_json::Value {
    use serde_json::json;
    let c = d.distribution_config();
    let config = c.map(|c| {
        let aliases: Vec<&str> = c.aliases().map(|a| a.items().iter().map(String::as_str).collect()).unwrap_or_default();
        let origins: Vec<serde_json::Value> = c
            .origins()
            .map(|o| o.items())
            .unwrap_or_default()
            .iter()
            .map(|o| {
                json!({
                    "Id": o.id(),
                    "DomainName": o.domain_name(),
                    "OriginPath": o.origin_path(),
                    "CustomOriginConfig": o.custom_origin_config().map(|c| json!({
                        "HTTPPort": c.http_port(),
                        "HTTPSPort": c.https_port(),
                        "OriginProtocolPolicy": c.origin_protocol_policy().as_str(),
                        "OriginReadTimeout": c.origin_read_timeout(),
                        "OriginKeepaliveTimeout": c.origin_keepalive_timeout(),
                        "OriginSslProtocols": c.origin_ssl_protocols().map(|p| json!({
                            "Items": p.items().iter().map(|i| i.as_str()).collect::<Vec<_>>(),
                            "Quantity": p.quantity(),
                        })),
                    })),
                    "S3OriginConfig": null,
                })
            })
            .collect();
        let behavior = c.default_cache_behavior();
        let cert = c.viewer_certificate();
        let geo = c.restrictions().and_then(|r| r.geo_restriction());
        json!({
            "Aliases": {"Items": aliases, "Quantity": aliases.len()},
            "CallerReference": c.caller_reference(),
            "Comment": c.comment(),
            "DefaultCacheBehavior": behavior.map(|b| json!({
                "TargetOriginId": b.target_origin_id(),
                "ViewerProtocolPolicy": b.viewer_protocol_policy().as_str(),
                "Compress": b.compress(),
                "CachePolicyId": b.cache_policy_id(),
            })),
            "DefaultRootObject": c.default_root_object(),
            "Enabled": c.enabled(),
            "HttpVersion": c.http_version().map(|v| v.as_str()),
            "IsIPV6Enabled": c.is_ipv6_enabled(),
            "Logging": c.logging().map(|l| json!({
                "Bucket": l.bucket(), "Enabled": l.enabled(), "IncludeCookies": l.include_cookies(), "Prefix": l.prefix(),
            })),
            "Origins": {"Items": origins, "Quantity": origins.len()},
            "PriceClass": c.price_class().map(|p| p.as_str()),
            "Restrictions": {"GeoRestriction": geo.map(|g| json!({
                "Items": g.items(),
                "Quantity": g.quantity(),
                "RestrictionType": g.restriction_type().as_str(),
            }))},
            "ViewerCertificate": cert.map(|v| json!({
                "ACMCertificateArn": v.acm_certificate_arn(),
                // The older fields the seed shows, derived from the current ones.
                "Certificate": v.acm_certificate_arn(),
                "CertificateSource": v.acm_certificate_arn().map(|_| "acm"),
                "CloudFrontDefaultCertificate": v.cloud_front_default_certificate(),
                "IAMCertificateId": v.iam_certificate_id(),
                "MinimumProtocolVersion": v.minimum_protocol_version().map(|m| m.as_str()),
                "SSLSupportMethod": v.ssl_support_method().map(|m| m.as_str()),
            })),
        })
    });
    json!({
        "ARN": d.arn(),
        "DistributionConfig": config,
        "DomainName": d.domain_name(),
        "Id": d.id(),
        "InProgressInvalidationBatches": d.in_progress_invalidation_batches(),
        "LastModifiedTime": timestamp(d.last_modified_time()),
        "Status": d.status(),
    })
}

/// A Route 53 record set in the seed's shape.
pub fn dns_record(r: &aws_sdk_route53::types::ResourceRecordSet) -> serde_json::Value {
    use serde_json::json;
    json!({
        "AliasTarget": r.alias_target().map(|a| json!({
            "DNSName": a.dns_name(), "EvaluateTargetHealth": a.evaluate_target_health(), "HostedZoneId": a.hosted_zone_id(),
        })),
        "Failover": r.failover().map(|f| f.as_str()),
        "GeoLocation": null,
        "HealthCheckId": r.health_check_id(),
        "MultiValueAnswer": r.multi_value_answer(),
        "Name": r.name(),
        "Region": r.region().map(|x| x.as_str()),
        "ResourceRecords": if r.resource_records().is_empty() { serde_json::Value::Null } else {
            json!(r.resource_records().iter().map(|x| json!({"Value": x.value()})).collect::<Vec<_>>())
        },
        "SetIdentifier": r.set_identifier(),
        "TTL": r.ttl(),
        "TrafficPolicyInstanceId": r.traffic_policy_instance_id(),
        "Type": r.r#type().as_str(),
        "Weight": r.weight(),
    })
}

/// A Route 53 change in the seed's shape.
pub fn dns_change(c: &aws_sdk_route53::types::ChangeInfo) -> serde_json::Value {
    serde_json::json!({
        "Comment": c.comment(), "Id": c.id(), "Status": c.status().as_str(), "SubmittedAt": timestamp(c.submitted_at()),
    })
}

/// A CloudFront invalidation in the seed's shape.
pub fn invalidation(i: &aws_sdk_cloudfront::types::Invalidation) -> serde_json::Value {
    use serde_json::json;
    let batch = i.invalidation_batch();
    json!({
        "CreateTime": timestamp(i.create_time()),
        "Id": i.id(),
        "InvalidationBatch": batch.map(|b| json!({
            "CallerReference": b.caller_reference(),
            "Paths": {"Items": b.paths().map(|p| p.items()).unwrap_or_default(), "Quantity": b.paths().map(|p| p.quantity())},
        })),
        "Status": i.status(),
    })
}
