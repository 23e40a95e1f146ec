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
}
