//! What the workflows report about the AWS objects they made or read, as plain data: the layers above see these,
//! never the SDK's types. Each record keeps what the API shows of the object; the HTTP layer decides the wire
//! shape.
//!
//! Where AWS documents a member as always returned by the call the record comes from (a policy's ARN from
//! `CreatePolicy`, an access key's id from `ListAccessKeys`) the record holds it as a plain value, empty when AWS
//! left it out after all; where AWS may leave it out, the record says `None`.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_smithy_types::DateTime;

use crate::domain::tags::Tag;

/// An AWS timestamp as a point in time, to the second (IAM and Route 53 count whole seconds).
fn instant(d: &DateTime) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(d.secs().max(0) as u64)
}

fn owned(s: Option<&str>) -> String {
    s.unwrap_or_default().to_owned()
}

/// An IAM managed policy.
#[derive(Debug, Clone)]
pub struct Policy {
    pub arn: String,
    pub name: String,
    pub id: String,
    pub path: String,
    pub default_version_id: Option<String>,
    pub description: Option<String>,
    pub attachment_count: Option<i32>,
    pub permissions_boundary_usage_count: Option<i32>,
    pub is_attachable: bool,
    pub created: Option<SystemTime>,
    pub updated: Option<SystemTime>,
}

impl From<&aws_sdk_iam::types::Policy> for Policy {
    fn from(p: &aws_sdk_iam::types::Policy) -> Self {
        Policy {
            arn: owned(p.arn()),
            name: owned(p.policy_name()),
            id: owned(p.policy_id()),
            path: owned(p.path()),
            default_version_id: p.default_version_id().map(str::to_owned),
            description: p.description().map(str::to_owned),
            attachment_count: p.attachment_count(),
            permissions_boundary_usage_count: p.permissions_boundary_usage_count(),
            is_attachable: p.is_attachable(),
            created: p.create_date().map(instant),
            updated: p.update_date().map(instant),
        }
    }
}

/// An IAM group.
#[derive(Debug, Clone)]
pub struct Group {
    pub arn: String,
    pub name: String,
    pub id: String,
    pub path: String,
    pub created: SystemTime,
}

impl From<&aws_sdk_iam::types::Group> for Group {
    fn from(g: &aws_sdk_iam::types::Group) -> Self {
        Group {
            arn: g.arn().to_owned(),
            name: g.group_name().to_owned(),
            id: g.group_id().to_owned(),
            path: g.path().to_owned(),
            created: instant(g.create_date()),
        }
    }
}

/// A permissions boundary set on a user (the service sets none; an operator may have).
#[derive(Debug, Clone)]
pub struct Boundary {
    pub arn: Option<String>,
    pub kind: Option<String>,
}

/// An IAM user.
#[derive(Debug, Clone)]
pub struct User {
    pub arn: String,
    pub name: String,
    pub id: String,
    pub path: String,
    pub created: SystemTime,
    pub password_last_used: Option<SystemTime>,
    pub permissions_boundary: Option<Boundary>,
    pub tags: Vec<Tag>,
}

impl From<&aws_sdk_iam::types::User> for User {
    fn from(u: &aws_sdk_iam::types::User) -> Self {
        User {
            arn: u.arn().to_owned(),
            name: u.user_name().to_owned(),
            id: u.user_id().to_owned(),
            path: u.path().to_owned(),
            created: instant(u.create_date()),
            password_last_used: u.password_last_used().map(instant),
            permissions_boundary: u.permissions_boundary().map(|b| Boundary {
                arn: b.permissions_boundary_arn().map(str::to_owned),
                kind: b.permissions_boundary_type().map(|t| t.as_str().to_owned()),
            }),
            tags: (u.tags().iter())
                .map(|t| Tag::new(t.key(), t.value()))
                .collect(),
        }
    }
}

/// An access key's status. IAM knows these three; a status this build does not know is reported as inactive,
/// since the service cannot tell that the key works.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyStatus {
    Active,
    Inactive,
    Expired,
}

impl From<&aws_sdk_iam::types::StatusType> for KeyStatus {
    fn from(s: &aws_sdk_iam::types::StatusType) -> Self {
        use aws_sdk_iam::types::StatusType;
        match s {
            StatusType::Active => KeyStatus::Active,
            StatusType::Expired => KeyStatus::Expired,
            _ => KeyStatus::Inactive,
        }
    }
}

/// An access key as IAM lists it: no secret.
#[derive(Debug, Clone)]
pub struct AccessKey {
    pub id: String,
    pub user: String,
    pub status: KeyStatus,
    pub created: Option<SystemTime>,
}

impl From<&aws_sdk_iam::types::AccessKeyMetadata> for AccessKey {
    fn from(k: &aws_sdk_iam::types::AccessKeyMetadata) -> Self {
        AccessKey {
            id: owned(k.access_key_id()),
            user: owned(k.user_name()),
            status: k.status().map_or(KeyStatus::Inactive, KeyStatus::from),
            created: k.create_date().map(instant),
        }
    }
}

/// A new access key with its secret, which IAM shows once.
#[derive(Clone)]
pub struct NewAccessKey {
    pub key: AccessKey,
    pub secret: String,
}

impl std::fmt::Debug for NewAccessKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewAccessKey")
            .field("key", &self.key)
            .finish_non_exhaustive()
    }
}

impl From<&aws_sdk_iam::types::AccessKey> for NewAccessKey {
    fn from(k: &aws_sdk_iam::types::AccessKey) -> Self {
        NewAccessKey {
            key: AccessKey {
                id: k.access_key_id().to_owned(),
                user: k.user_name().to_owned(),
                status: KeyStatus::from(k.status()),
                created: k.create_date().map(instant),
            },
            secret: k.secret_access_key().to_owned(),
        }
    }
}

/// A managed policy attached to a group.
#[derive(Debug, Clone)]
pub struct AttachedPolicy {
    pub arn: String,
    pub name: String,
}

impl From<&aws_sdk_iam::types::AttachedPolicy> for AttachedPolicy {
    fn from(p: &aws_sdk_iam::types::AttachedPolicy) -> Self {
        AttachedPolicy {
            arn: owned(p.policy_arn()),
            name: owned(p.policy_name()),
        }
    }
}

/// A CloudFront distribution.
#[derive(Debug, Clone)]
pub struct Distribution {
    pub arn: String,
    pub id: String,
    pub domain_name: String,
    /// `InProgress` while CloudFront deploys the configuration, then `Deployed`.
    pub status: String,
    pub last_modified: SystemTime,
    pub in_progress_invalidations: i32,
    pub config: Option<DistributionConfig>,
}

#[derive(Debug, Clone)]
pub struct DistributionConfig {
    pub aliases: Vec<String>,
    pub caller_reference: String,
    pub comment: String,
    pub default_cache_behavior: Option<CacheBehavior>,
    pub default_root_object: Option<String>,
    pub enabled: bool,
    pub http_version: Option<String>,
    pub ipv6: Option<bool>,
    pub logging: Option<DistributionLogging>,
    pub origins: Vec<Origin>,
    pub price_class: Option<String>,
    pub geo_restriction: Option<GeoRestriction>,
    pub certificate: Option<ViewerCertificate>,
}

#[derive(Debug, Clone)]
pub struct CacheBehavior {
    pub target_origin_id: String,
    pub viewer_protocol_policy: String,
    pub compress: Option<bool>,
    pub cache_policy_id: Option<String>,
}

#[derive(Debug, Clone)]
pub struct DistributionLogging {
    pub bucket: String,
    pub enabled: bool,
    pub include_cookies: bool,
    pub prefix: String,
}

#[derive(Debug, Clone)]
pub struct Origin {
    pub id: String,
    pub domain_name: String,
    pub origin_path: Option<String>,
    pub custom: Option<CustomOrigin>,
}

#[derive(Debug, Clone)]
pub struct CustomOrigin {
    pub http_port: i32,
    pub https_port: i32,
    pub protocol_policy: String,
    pub read_timeout: Option<i32>,
    pub keepalive_timeout: Option<i32>,
    pub ssl_protocols: Option<Vec<String>>,
}

#[derive(Debug, Clone)]
pub struct GeoRestriction {
    pub restriction_type: String,
    pub locations: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct ViewerCertificate {
    pub acm_certificate_arn: Option<String>,
    pub cloudfront_default: Option<bool>,
    pub iam_certificate_id: Option<String>,
    pub minimum_protocol_version: Option<String>,
    pub ssl_support_method: Option<String>,
}

impl From<&aws_sdk_cloudfront::types::DistributionConfig> for DistributionConfig {
    fn from(c: &aws_sdk_cloudfront::types::DistributionConfig) -> Self {
        DistributionConfig {
            aliases: c.aliases().map(|a| a.items().to_vec()).unwrap_or_default(),
            caller_reference: c.caller_reference().to_owned(),
            comment: c.comment().to_owned(),
            default_cache_behavior: c.default_cache_behavior().map(|b| CacheBehavior {
                target_origin_id: b.target_origin_id().to_owned(),
                viewer_protocol_policy: b.viewer_protocol_policy().as_str().to_owned(),
                compress: b.compress(),
                cache_policy_id: b.cache_policy_id().map(str::to_owned),
            }),
            default_root_object: c.default_root_object().map(str::to_owned),
            enabled: c.enabled(),
            http_version: c.http_version().map(|v| v.as_str().to_owned()),
            ipv6: c.is_ipv6_enabled(),
            logging: c.logging().map(|l| DistributionLogging {
                bucket: l.bucket().to_owned(),
                enabled: l.enabled(),
                include_cookies: l.include_cookies(),
                prefix: l.prefix().to_owned(),
            }),
            origins: (c.origins().map(|o| o.items()).unwrap_or_default())
                .iter()
                .map(|o| Origin {
                    id: o.id().to_owned(),
                    domain_name: o.domain_name().to_owned(),
                    origin_path: o.origin_path().map(str::to_owned),
                    custom: o.custom_origin_config().map(|c| CustomOrigin {
                        http_port: c.http_port(),
                        https_port: c.https_port(),
                        protocol_policy: c.origin_protocol_policy().as_str().to_owned(),
                        read_timeout: c.origin_read_timeout(),
                        keepalive_timeout: c.origin_keepalive_timeout(),
                        ssl_protocols: c
                            .origin_ssl_protocols()
                            .map(|p| p.items().iter().map(|i| i.as_str().to_owned()).collect()),
                    }),
                })
                .collect(),
            price_class: c.price_class().map(|p| p.as_str().to_owned()),
            geo_restriction: (c.restrictions())
                .and_then(|r| r.geo_restriction())
                .map(|g| GeoRestriction {
                    restriction_type: g.restriction_type().as_str().to_owned(),
                    locations: g.items().to_vec(),
                }),
            certificate: c.viewer_certificate().map(|v| ViewerCertificate {
                acm_certificate_arn: v.acm_certificate_arn().map(str::to_owned),
                cloudfront_default: v.cloud_front_default_certificate(),
                iam_certificate_id: v.iam_certificate_id().map(str::to_owned),
                minimum_protocol_version: v
                    .minimum_protocol_version()
                    .map(|m| m.as_str().to_owned()),
                ssl_support_method: v.ssl_support_method().map(|m| m.as_str().to_owned()),
            }),
        }
    }
}

impl From<&aws_sdk_cloudfront::types::Distribution> for Distribution {
    fn from(d: &aws_sdk_cloudfront::types::Distribution) -> Self {
        Distribution {
            arn: d.arn().to_owned(),
            id: d.id().to_owned(),
            domain_name: d.domain_name().to_owned(),
            status: d.status().to_owned(),
            last_modified: instant(d.last_modified_time()),
            in_progress_invalidations: d.in_progress_invalidation_batches(),
            config: d.distribution_config().map(DistributionConfig::from),
        }
    }
}

/// A Route 53 record set.
#[derive(Debug, Clone)]
pub struct DnsRecord {
    pub name: String,
    /// `A`, `AAAA`, …
    pub record_type: String,
    pub alias: Option<AliasTarget>,
    pub values: Vec<String>,
    pub ttl: Option<i64>,
    pub set_identifier: Option<String>,
    pub weight: Option<i64>,
    pub region: Option<String>,
    pub failover: Option<String>,
    pub multi_value_answer: Option<bool>,
    pub health_check_id: Option<String>,
    pub traffic_policy_instance_id: Option<String>,
}

#[derive(Debug, Clone)]
pub struct AliasTarget {
    pub dns_name: String,
    pub evaluate_target_health: bool,
    pub hosted_zone_id: String,
}

impl From<&aws_sdk_route53::types::ResourceRecordSet> for DnsRecord {
    fn from(r: &aws_sdk_route53::types::ResourceRecordSet) -> Self {
        DnsRecord {
            name: r.name().to_owned(),
            record_type: r.r#type().as_str().to_owned(),
            alias: r.alias_target().map(|a| AliasTarget {
                dns_name: a.dns_name().to_owned(),
                evaluate_target_health: a.evaluate_target_health(),
                hosted_zone_id: a.hosted_zone_id().to_owned(),
            }),
            values: (r.resource_records().iter())
                .map(|x| x.value().to_owned())
                .collect(),
            ttl: r.ttl(),
            set_identifier: r.set_identifier().map(str::to_owned),
            weight: r.weight(),
            region: r.region().map(|x| x.as_str().to_owned()),
            failover: r.failover().map(|f| f.as_str().to_owned()),
            multi_value_answer: r.multi_value_answer(),
            health_check_id: r.health_check_id().map(str::to_owned),
            traffic_policy_instance_id: r.traffic_policy_instance_id().map(str::to_owned),
        }
    }
}

/// A submitted Route 53 change.
#[derive(Debug, Clone)]
pub struct DnsChange {
    pub id: String,
    /// `PENDING`, then `INSYNC`.
    pub status: String,
    pub submitted: SystemTime,
    pub comment: Option<String>,
}

impl From<&aws_sdk_route53::types::ChangeInfo> for DnsChange {
    fn from(c: &aws_sdk_route53::types::ChangeInfo) -> Self {
        DnsChange {
            id: c.id().to_owned(),
            status: c.status().as_str().to_owned(),
            submitted: instant(c.submitted_at()),
            comment: c.comment().map(str::to_owned),
        }
    }
}

/// A CloudFront invalidation, and where CloudFront shows it.
#[derive(Debug, Clone)]
pub struct Invalidation {
    pub id: String,
    /// `InProgress`, then `Completed`.
    pub status: String,
    pub created: SystemTime,
    pub caller_reference: Option<String>,
    pub paths: Option<Vec<String>>,
    pub location: String,
}

impl Invalidation {
    pub(crate) fn of(i: &aws_sdk_cloudfront::types::Invalidation, location: String) -> Self {
        let batch = i.invalidation_batch();
        Invalidation {
            id: i.id().to_owned(),
            status: i.status().to_owned(),
            created: instant(i.create_time()),
            caller_reference: batch.map(|b| b.caller_reference().to_owned()),
            paths: batch.and_then(|b| b.paths()).map(|p| p.items().to_vec()),
            location,
        }
    }
}

/// Whether a bucket exists as a route sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Presence {
    /// It exists and the service can reach it.
    Reachable,
    /// It exists, but the service's credentials may not read it.
    Forbidden,
    Missing,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_keep_whole_seconds() {
        let d = DateTime::from_secs_and_nanos(1_551_454_432, 900_000_000);
        assert_eq!(instant(&d), UNIX_EPOCH + Duration::from_secs(1_551_454_432));
    }

    #[test]
    fn a_key_status_iam_adds_later_is_not_called_active() {
        let unknown = aws_sdk_iam::types::StatusType::from("Suspended");
        assert_eq!(KeyStatus::from(&unknown), KeyStatus::Inactive);
        let active = aws_sdk_iam::types::StatusType::Active;
        assert_eq!(KeyStatus::from(&active), KeyStatus::Active);
    }
}
