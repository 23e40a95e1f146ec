//! The CloudFront calls the service makes, each mapping its SDK error in one place.

use aws_sdk_cloudfront::types::{
    Distribution, DistributionConfig, DistributionConfigWithTags, DistributionSummary,
    Invalidation, InvalidationBatch, Paths, Tag, TagKeys, Tags,
};

use super::error::err;
use super::{AwsAccount, AwsError, Service};
use crate::domain::tags::Tag as WireTag;
use crate::domain::website::origin_serves_bucket;

/// How often an update is made on a freshly read configuration when its ETag went stale in between.
const STALE_ETAG_ATTEMPTS: u32 = 4;

fn missing(operation: &'static str, field: &str) -> AwsError {
    AwsError::missing_field(Service::CloudFront, operation, field)
}

fn cf_tags(tags: &[WireTag]) -> Tags {
    Tags::builder()
        .set_items(Some(
            tags.iter()
                .map(|t| {
                    Tag::builder()
                        .key(&t.key)
                        .value(&t.value)
                        .build()
                        .expect("key is set")
                })
                .collect(),
        ))
        .build()
}

impl AwsAccount {
    pub async fn create_distribution(
        &self,
        config: DistributionConfig,
        tags: &[WireTag],
    ) -> Result<Distribution, AwsError> {
        let with_tags = DistributionConfigWithTags::builder()
            .distribution_config(config)
            .tags(cf_tags(tags))
            .build();
        let out = self
            .cloudfront
            .create_distribution_with_tags()
            .distribution_config_with_tags(with_tags)
            .send()
            .await
            .map_err(err(Service::CloudFront, "CreateDistributionWithTags"))?;
        out.distribution
            .ok_or_else(|| missing("CreateDistributionWithTags", "Distribution"))
    }

    pub async fn get_distribution(&self, id: &str) -> Result<Distribution, AwsError> {
        let out = self
            .cloudfront
            .get_distribution()
            .id(id)
            .send()
            .await
            .map_err(err(Service::CloudFront, "GetDistribution"))?;
        out.distribution
            .ok_or_else(|| missing("GetDistribution", "Distribution"))
    }

    /// The distribution's configuration and the ETag an update or delete must quote.
    pub async fn get_distribution_config(
        &self,
        id: &str,
    ) -> Result<(DistributionConfig, String), AwsError> {
        let out = self
            .cloudfront
            .get_distribution_config()
            .id(id)
            .send()
            .await
            .map_err(err(Service::CloudFront, "GetDistributionConfig"))?;
        let etag = out.e_tag.unwrap_or_default();
        let config = out
            .distribution_config
            .ok_or_else(|| missing("GetDistributionConfig", "DistributionConfig"))?;
        Ok((config, etag))
    }

    pub async fn update_distribution(
        &self,
        id: &str,
        config: DistributionConfig,
        etag: &str,
    ) -> Result<Distribution, AwsError> {
        let out = self
            .cloudfront
            .update_distribution()
            .id(id)
            .distribution_config(config)
            .if_match(etag)
            .send()
            .await
            .map_err(err(Service::CloudFront, "UpdateDistribution"))?;
        out.distribution
            .ok_or_else(|| missing("UpdateDistribution", "Distribution"))
    }

    /// Disables the distribution (the first step to deleting it) and releases its aliases, so the site's name
    /// can be served by a new distribution before the cleaner deletes this one (CloudFront refuses an alias
    /// that another distribution, even a disabled one, still holds). A no-op when that is done already.
    ///
    /// The update quotes the ETag of the configuration it read; when something else changed the distribution in
    /// between (CloudFront answers `PreconditionFailed`), the configuration is read again and the update made on
    /// top of it, a few times at most.
    pub async fn disable_distribution(&self, id: &str) -> Result<Distribution, AwsError> {
        let mut delay = std::time::Duration::from_millis(100);
        let mut attempt = 1;
        loop {
            let (mut config, etag) = self.get_distribution_config(id).await?;
            let has_aliases = config.aliases().is_some_and(|a| a.quantity > 0);
            if !config.enabled && !has_aliases {
                return self.get_distribution(id).await;
            }
            config.enabled = false;
            config.aliases = Some(
                aws_sdk_cloudfront::types::Aliases::builder()
                    .quantity(0)
                    .build()
                    .expect("quantity is set"),
            );
            match self.update_distribution(id, config, &etag).await {
                Err(e) if e.has_code("PreconditionFailed") && attempt < STALE_ETAG_ATTEMPTS => {
                    tracing::debug!(
                        distribution = id,
                        attempt,
                        "stale ETag, reading the distribution again"
                    );
                    tokio::time::sleep(delay).await;
                    delay *= 2;
                    attempt += 1;
                }
                other => return other,
            }
        }
    }

    pub async fn delete_distribution(&self, id: &str, etag: &str) -> Result<(), AwsError> {
        self.cloudfront
            .delete_distribution()
            .id(id)
            .if_match(etag)
            .send()
            .await
            .map_err(err(Service::CloudFront, "DeleteDistribution"))?;
        Ok(())
    }

    pub async fn list_distributions(&self) -> Result<Vec<DistributionSummary>, AwsError> {
        let mut all = Vec::new();
        let mut pages = self.cloudfront.list_distributions().into_paginator().send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(err(Service::CloudFront, "ListDistributions"))?;
            if let Some(list) = page.distribution_list {
                all.extend(list.items.unwrap_or_default());
            }
        }
        Ok(all)
    }

    /// The distribution that holds the alias `alias` and serves `bucket` (its origin is one of the bucket's S3
    /// endpoints), found by listing. A distribution that holds the alias but serves something else is not the
    /// website's. For a create whose answer was lost, and for websites made before the service recorded its
    /// distribution on the bucket.
    pub async fn distribution_serving(
        &self,
        alias: &str,
        bucket: &str,
    ) -> Result<Option<String>, AwsError> {
        let all = self.list_distributions().await?;
        Ok(all
            .into_iter()
            .find(|d| {
                let aliased = d
                    .aliases()
                    .and_then(|a| a.items.as_ref())
                    .is_some_and(|i| i.iter().any(|a| a.eq_ignore_ascii_case(alias)));
                let from_bucket = d.origins().is_some_and(|o| {
                    o.items()
                        .iter()
                        .any(|o| origin_serves_bucket(o.domain_name(), bucket))
                });
                aliased && from_bucket
            })
            .map(|d| d.id))
    }

    pub async fn distribution_tags(&self, arn: &str) -> Result<Vec<WireTag>, AwsError> {
        let out = self
            .cloudfront
            .list_tags_for_resource()
            .resource(arn)
            .send()
            .await
            .map_err(err(Service::CloudFront, "ListTagsForResource"))?;
        Ok(out
            .tags
            .and_then(|t| t.items)
            .unwrap_or_default()
            .into_iter()
            .map(|t| WireTag::new(t.key, t.value.unwrap_or_default()))
            .collect())
    }

    pub async fn tag_distribution(&self, arn: &str, tags: &[WireTag]) -> Result<(), AwsError> {
        self.cloudfront
            .tag_resource()
            .resource(arn)
            .tags(cf_tags(tags))
            .send()
            .await
            .map_err(err(Service::CloudFront, "TagResource"))?;
        Ok(())
    }

    pub async fn untag_distribution(&self, arn: &str, keys: &[String]) -> Result<(), AwsError> {
        self.cloudfront
            .untag_resource()
            .resource(arn)
            .tag_keys(TagKeys::builder().set_items(Some(keys.to_vec())).build())
            .send()
            .await
            .map_err(err(Service::CloudFront, "UntagResource"))?;
        Ok(())
    }

    /// Starts an invalidation; returns it and its location URL.
    pub async fn create_invalidation(
        &self,
        distribution_id: &str,
        paths: &[String],
        caller_reference: &str,
    ) -> Result<(Invalidation, String), AwsError> {
        let paths = Paths::builder()
            .quantity(paths.len() as i32)
            .set_items(Some(paths.to_vec()))
            .build()
            .expect("quantity is set");
        let batch = InvalidationBatch::builder()
            .paths(paths)
            .caller_reference(caller_reference)
            .build()
            .expect("paths and caller reference are set");
        let out = self
            .cloudfront
            .create_invalidation()
            .distribution_id(distribution_id)
            .invalidation_batch(batch)
            .send()
            .await
            .map_err(err(Service::CloudFront, "CreateInvalidation"))?;
        let location = out.location.unwrap_or_default();
        let invalidation = out
            .invalidation
            .ok_or_else(|| missing("CreateInvalidation", "Invalidation"))?;
        Ok((invalidation, location))
    }
}

/// The managed "CachingOptimized" cache policy.
const CACHING_OPTIMIZED: &str = "658327ea-f89d-4fab-a63d-7e88639e58f6";

/// What a website's distribution is made of.
pub struct DistributionSpec<'a> {
    pub website: &'a str,
    /// The bucket's S3 website endpoint.
    pub origin_domain: String,
    pub certificate_arn: &'a str,
    pub minimum_protocol_version: &'a str,
    pub price_class: &'a str,
    /// Countries allowed to see the site; empty for everyone.
    pub geo_whitelist: &'a [String],
    pub default_root_object: &'a str,
    /// Unique per create request: a retry of the same request finds the distribution instead of making another.
    pub caller_reference: String,
}

/// The distribution of a website: the bucket's website endpoint as a custom HTTP origin, served under the
/// website's name with the ACM certificate, HTTPS only towards viewers, HTTP/2 and 3, IPv6, compression.
pub fn website_distribution(spec: &DistributionSpec<'_>) -> DistributionConfig {
    use aws_sdk_cloudfront::types::{
        Aliases, CustomOriginConfig, DefaultCacheBehavior, GeoRestriction, GeoRestrictionType,
        HttpVersion, MinimumProtocolVersion, Origin, OriginProtocolPolicy, OriginSslProtocols,
        Origins, PriceClass, Restrictions, SslProtocol, SslSupportMethod, ViewerCertificate,
        ViewerProtocolPolicy,
    };
    let origin = Origin::builder()
        .id(spec.website)
        .domain_name(&spec.origin_domain)
        .origin_path("")
        .custom_origin_config(
            CustomOriginConfig::builder()
                .http_port(80)
                .https_port(443)
                // S3 website endpoints speak HTTP only.
                .origin_protocol_policy(OriginProtocolPolicy::HttpOnly)
                .origin_ssl_protocols(
                    OriginSslProtocols::builder()
                        .quantity(1)
                        .items(SslProtocol::TlSv12)
                        .build()
                        .expect("quantity and items are set"),
                )
                .origin_read_timeout(30)
                .origin_keepalive_timeout(5)
                .build()
                .expect("ports and policy are set"),
        )
        .build()
        .expect("id and domain are set");
    let geo = if spec.geo_whitelist.is_empty() {
        GeoRestriction::builder()
            .restriction_type(GeoRestrictionType::None)
            .quantity(0)
    } else {
        GeoRestriction::builder()
            .restriction_type(GeoRestrictionType::Whitelist)
            .quantity(spec.geo_whitelist.len() as i32)
            .set_items(Some(spec.geo_whitelist.to_vec()))
    };
    DistributionConfig::builder()
        .caller_reference(&spec.caller_reference)
        .aliases(
            Aliases::builder()
                .quantity(1)
                .items(spec.website)
                .build()
                .expect("quantity is set"),
        )
        .default_root_object(spec.default_root_object)
        .origins(
            Origins::builder()
                .quantity(1)
                .items(origin)
                .build()
                .expect("quantity and items are set"),
        )
        .default_cache_behavior(
            DefaultCacheBehavior::builder()
                .target_origin_id(spec.website)
                .viewer_protocol_policy(ViewerProtocolPolicy::RedirectToHttps)
                .compress(true)
                .cache_policy_id(CACHING_OPTIMIZED)
                .build()
                .expect("origin and policy are set"),
        )
        .comment(spec.website)
        .enabled(true)
        .http_version(HttpVersion::Http2and3)
        .is_ipv6_enabled(true)
        .price_class(PriceClass::from(spec.price_class))
        .viewer_certificate(
            ViewerCertificate::builder()
                .acm_certificate_arn(spec.certificate_arn)
                .ssl_support_method(SslSupportMethod::SniOnly)
                .minimum_protocol_version(MinimumProtocolVersion::from(
                    spec.minimum_protocol_version,
                ))
                .build(),
        )
        .restrictions(
            Restrictions::builder()
                .geo_restriction(geo.build().expect("type and quantity are set"))
                .build(),
        )
        .build()
        .expect("all required fields are set")
}
