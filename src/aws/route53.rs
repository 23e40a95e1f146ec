//! The Route 53 calls the service makes: alias records of websites.

use aws_sdk_route53::types::{
    AliasTarget, Change, ChangeAction, ChangeBatch, ChangeInfo, ResourceRecordSet, RrType,
};

use super::error::err;
use super::{AwsAccount, AwsError, Service};

/// The hosted zone of every CloudFront distribution, for alias records.
pub const CLOUDFRONT_HOSTED_ZONE_ID: &str = "Z2FDTNDATAQYW2";
/// The comment on every change the service makes.
pub const CHANGE_COMMENT: &str = "Created by s3-api";

/// `name.` — Route 53 names are absolute.
pub fn absolute(name: &str) -> String {
    if name.ends_with('.') {
        name.to_owned()
    } else {
        format!("{name}.")
    }
}

/// The A and AAAA alias records of `name` pointing at a CloudFront domain.
pub fn alias_records(name: &str, target: &str) -> Vec<ResourceRecordSet> {
    [RrType::A, RrType::Aaaa]
        .into_iter()
        .map(|kind| {
            ResourceRecordSet::builder()
                .name(absolute(name))
                .r#type(kind)
                .alias_target(
                    AliasTarget::builder()
                        .hosted_zone_id(CLOUDFRONT_HOSTED_ZONE_ID)
                        .dns_name(absolute(target))
                        .evaluate_target_health(false)
                        .build()
                        .expect("all fields are set"),
                )
                .build()
                .expect("name and type are set")
        })
        .collect()
}

/// Whether `record` is an alias record that points at `target` (a CloudFront domain), whatever the case and
/// trailing dot of either.
pub fn aliases(record: &ResourceRecordSet, target: &str) -> bool {
    let norm = |s: &str| s.trim_end_matches('.').to_ascii_lowercase();
    record
        .alias_target()
        .is_some_and(|a| norm(a.dns_name()) == norm(target))
}

/// Whether two records are the same name, type and alias target.
pub fn same_alias(a: &ResourceRecordSet, b: &ResourceRecordSet) -> bool {
    let norm = |s: &str| s.trim_end_matches('.').to_ascii_lowercase();
    norm(&a.name) == norm(&b.name)
        && a.r#type == b.r#type
        && b.alias_target().is_some_and(|t| aliases(a, t.dns_name()))
}

impl AwsAccount {
    /// Applies one action to a set of records, atomically.
    pub async fn change_records(
        &self,
        zone: &str,
        action: ChangeAction,
        records: &[ResourceRecordSet],
    ) -> Result<ChangeInfo, AwsError> {
        let changes = records
            .iter()
            .map(|r| {
                Change::builder()
                    .action(action.clone())
                    .resource_record_set(r.clone())
                    .build()
                    .expect("action and record are set")
            })
            .collect();
        let batch = ChangeBatch::builder()
            .comment(CHANGE_COMMENT)
            .set_changes(Some(changes))
            .build()
            .expect("changes are set");
        let out = self
            .route53
            .change_resource_record_sets()
            .hosted_zone_id(zone)
            .change_batch(batch)
            .send()
            .await
            .map_err(err(Service::Route53, "ChangeResourceRecordSets"))?;
        let mut info = out.change_info.ok_or_else(|| {
            AwsError::missing_field(Service::Route53, "ChangeResourceRecordSets", "ChangeInfo")
        })?;
        // Some implementations leave out the comment just sent.
        if info.comment.is_none() {
            info.comment = Some(CHANGE_COMMENT.to_owned());
        }
        Ok(info)
    }

    /// The A and AAAA records of exactly `name`, found with one listing that starts at the name.
    pub async fn records_of(
        &self,
        zone: &str,
        name: &str,
    ) -> Result<Vec<ResourceRecordSet>, AwsError> {
        let name = absolute(name);
        let out = self
            .route53
            .list_resource_record_sets()
            .hosted_zone_id(zone)
            .start_record_name(&name)
            .start_record_type(RrType::A)
            .max_items(2)
            .send()
            .await
            .map_err(err(Service::Route53, "ListResourceRecordSets"))?;
        Ok(out
            .resource_record_sets
            .into_iter()
            .filter(|r| {
                r.name.eq_ignore_ascii_case(&name) && matches!(r.r#type, RrType::A | RrType::Aaaa)
            })
            .collect())
    }

    /// The ids of the public hosted zones named exactly `domain`. One listing that starts at the name (zones are
    /// sorted by name, so same-named zones come together), paged on while the page ends inside that name.
    pub async fn public_zones_named(&self, domain: &str) -> Result<Vec<String>, AwsError> {
        let name = absolute(domain);
        let mut found = Vec::new();
        let mut next_id = None;
        loop {
            let out = self
                .route53
                .list_hosted_zones_by_name()
                .dns_name(&name)
                .set_hosted_zone_id(next_id.take())
                .send()
                .await
                .map_err(err(Service::Route53, "ListHostedZonesByName"))?;
            let mut past_the_name = false;
            for zone in &out.hosted_zones {
                if !zone.name.eq_ignore_ascii_case(&name) {
                    past_the_name = true;
                    continue;
                }
                if !zone.config.as_ref().is_some_and(|c| c.private_zone) {
                    found.push(zone.id.trim_start_matches("/hostedzone/").to_owned());
                }
            }
            match (out.is_truncated, out.next_dns_name, out.next_hosted_zone_id) {
                (true, Some(next), Some(id))
                    if !past_the_name && next.eq_ignore_ascii_case(&name) =>
                {
                    next_id = Some(id)
                }
                _ => return Ok(found),
            }
        }
    }

    /// Fills in the `hostedZoneID` of every configured domain that leaves it out: the one public hosted zone of
    /// that name. None or several is a configuration the service cannot serve websites with, so it is refused.
    pub async fn resolve_hosted_zones(&mut self) -> anyhow::Result<()> {
        let missing: Vec<String> = (self.config.domains.iter())
            .filter(|(_, d)| d.hosted_zone_id.is_none())
            .map(|(name, _)| name.clone())
            .collect();
        for domain in missing {
            let zones = self.public_zones_named(&domain).await.map_err(|e| {
                anyhow::anyhow!(
                    "account {}: cannot look up the hosted zone of domain {domain}: {e}",
                    self.name
                )
            })?;
            let zone = match <[String; 1]>::try_from(zones) {
                Ok([zone]) => zone,
                Err(zones) if zones.is_empty() => anyhow::bail!(
                    "account {}: no public hosted zone is named {domain}; create it or set \
                     domains.\"{domain}\".hostedZoneID",
                    self.name
                ),
                Err(zones) => anyhow::bail!(
                    "account {}: {} public hosted zones are named {domain} ({}); set \
                     domains.\"{domain}\".hostedZoneID to the one to use",
                    self.name,
                    zones.len(),
                    zones.join(", ")
                ),
            };
            tracing::info!(account = %self.name, %domain, %zone, "hosted zone found by name");
            let entry = self.config.domains.get_mut(&domain).expect("listed above");
            entry.hosted_zone_id = Some(zone);
        }
        Ok(())
    }
}
