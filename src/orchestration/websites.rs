//! Website workflows: a bucket served by S3 website hosting behind CloudFront, with an ACM certificate and
//! Route 53 alias records (ORCHESTRATION §4.6–4.7).

use aws_sdk_acm::types::CertificateStatus;
use aws_sdk_cloudfront::types::Distribution;
use aws_sdk_route53::types::{ChangeAction, ResourceRecordSet, RrType};
use futures::future::join_all;

use super::buckets::{
    create_bucket_resources, BucketIam, BucketView, CreatedBucket, DeletedBucket, IamNames,
};
use super::contents::{self, Contents};
use super::groups::{make_group, IfExists};
use super::marker::Intent;
use super::ownership::{Facts, Kind};
use super::records;
use super::rollback::{Journal, Undo};
use super::{first_error, Ctx, OpError, Resource};
use crate::aws::acm::covers;
use crate::aws::cloudfront::{website_distribution, DistributionSpec};
use crate::aws::iam::gone;
use crate::aws::route53::{alias_records, aliases};
use crate::aws::s3::{BucketState, PublicAccess};
use crate::aws::{retry_not_visible, AwsError};
use crate::domain::names::{scoped_iam_prefix, BucketGroup, BucketName, GroupKind};
use crate::domain::policy::Subject;
use crate::domain::tags::{CallerTags, Tag};
use crate::domain::website::{
    origin_serves_bucket, placeholder_page, website_endpoint, WebsiteName, DISTRIBUTION_TAG,
    PLACEHOLDER_TAGGING,
};

/// Public ACLs stay blocked; the public-read bucket policy that CloudFront's custom origin needs is allowed.
const WEBSITE_PUBLIC_ACCESS: PublicAccess = PublicAccess {
    block_public_acls: true,
    ignore_public_acls: true,
    block_public_policy: false,
    restrict_public_buckets: false,
};

/// A validated website create request.
#[derive(Debug, Clone)]
pub struct CreateWebsite {
    pub site: WebsiteName,
    pub tags: CallerTags,
    pub index_document: String,
    pub error_document: Option<String>,
}

/// What a website create made.
#[derive(Debug, Clone)]
pub struct CreatedWebsite {
    pub bucket: CreatedBucket,
    pub web_policy: records::Policy,
    pub web_group: records::Group,
    pub distribution: records::Distribution,
    pub dns_change: records::DnsChange,
}

/// A website as the show route reports it.
#[derive(Debug, Clone)]
pub struct WebsiteView {
    pub bucket: BucketView,
    /// The name's A record (an alias of the distribution).
    pub dns_record: Option<records::DnsRecord>,
    pub distribution: Option<records::Distribution>,
}

#[derive(Debug, Clone)]
pub struct DeletedWebsite {
    pub iam: DeletedBucket,
    /// The A record removed, if there was one of the site's.
    pub dns_record: Option<records::DnsRecord>,
    /// The distribution, disabled.
    pub distribution: Option<records::Distribution>,
}

/// A hosted zone that the configuration names but Route 53 does not know is the operator's to fix.
fn zone_error(e: AwsError, zone: &str) -> OpError {
    match e.has_code("NoSuchHostedZone") {
        true => OpError::Config(format!(
            "the hosted zone {zone} of the configuration does not exist"
        )),
        false => e.into(),
    }
}

impl Ctx {
    pub(crate) fn zone_of(&self, site: &WebsiteName) -> Result<&str, OpError> {
        let domain = self.aws.config.domains.get(site.parent()).ok_or_else(|| {
            OpError::Invalid(format!("domain {} is not configured", site.parent()))
        })?;
        // Filled in at start-up when the configuration leaves it out (`AwsAccount::resolve_hosted_zones`).
        domain.hosted_zone_id.as_deref().ok_or_else(|| {
            OpError::Config(format!(
                "the hosted zone of domain {} was not looked up",
                site.parent()
            ))
        })
    }

    /// The website's distribution, checked to serve the website's bucket: the one recorded on the bucket, or —
    /// for a website the earlier service made, which recorded none — the one that holds the website's name as
    /// alias and serves its bucket, found once by listing and then recorded on the (managed) bucket. A recorded
    /// id whose distribution serves another origin is not the website's: an id written into the tag by hand
    /// must not make the service act on someone else's distribution, so the website's own is looked for instead
    /// (and recorded in its place).
    pub(crate) async fn website_distribution(
        &self,
        site: &BucketName,
        facts: &Facts,
    ) -> Result<Option<Distribution>, OpError> {
        let aws = &self.aws;
        let recorded = facts.distribution_id();
        if let Some(id) = &recorded {
            let d = crate::aws::iam::found(aws.get_distribution(id).await)?;
            if let Some(d) = d.filter(|d| serves(d, site)) {
                return Ok(Some(d));
            }
            tracing::warn!(website = %site, distribution = %id, "the recorded distribution does not serve the website; looking for its own");
        }
        let Some(id) = aws
            .distribution_serving(site.as_str(), site.as_str())
            .await?
        else {
            return Ok(None);
        };
        let d = crate::aws::iam::found(aws.get_distribution(&id).await)?;
        let room = facts.tags.len() < crate::domain::tags::MAX_TAGS || recorded.is_some();
        if d.is_some() && facts.managed && room {
            let mut tags: Vec<Tag> = (facts.tags.iter())
                .filter(|t| t.key != DISTRIBUTION_TAG)
                .cloned()
                .collect();
            tags.push(Tag::new(DISTRIBUTION_TAG, &id));
            aws.put_bucket_tagging(site, &tags).await?;
            tracing::info!(website = %site, distribution = %id, "recorded the website's distribution");
        }
        Ok(d)
    }
}

/// Whether the distribution's origin is the website's bucket.
pub(crate) fn serves(d: &Distribution, site: &BucketName) -> bool {
    d.distribution_config()
        .and_then(|c| c.origins())
        .is_some_and(|o| {
            o.items()
                .iter()
                .any(|o| origin_serves_bucket(o.domain_name(), site.as_str()))
        })
}

/// The certificate for the website: the domain's configured one (checked: issued, covering the name), or an
/// issued ACM certificate in us-east-1 that covers the name.
async fn certificate(ctx: &Ctx, site: &WebsiteName) -> Result<String, OpError> {
    let domain = &ctx.aws.config.domains[site.parent()];
    let name = site.as_str();
    if let Some(arn) = &domain.cert_arn {
        let cert = ctx
            .aws
            .describe_certificate(arn)
            .await
            .map_err(|e| match e.is_not_found() {
                true => OpError::Config(format!(
                    "the certificate {arn} configured for {} does not exist",
                    site.parent()
                )),
                false => e.into(),
            })?;
        if cert.status() != Some(&CertificateStatus::Issued) {
            return Err(OpError::Config(format!(
                "the certificate {arn} configured for {} is not issued",
                site.parent()
            )));
        }
        let names = cert
            .domain_name()
            .into_iter()
            .chain(cert.subject_alternative_names().iter().map(String::as_str));
        if !names.into_iter().any(|n| covers(n, name)) {
            return Err(OpError::Config(format!(
                "the certificate {arn} does not cover {name}"
            )));
        }
        return Ok(arn.clone());
    }
    let issued = ctx.aws.issued_certificates().await?;
    issued
        .iter()
        .find(|c| {
            c.domain_name()
                .into_iter()
                .chain(
                    c.subject_alternative_name_summaries()
                        .iter()
                        .map(String::as_str),
                )
                .any(|n| covers(n, name))
        })
        .and_then(|c| c.certificate_arn().map(str::to_owned))
        .ok_or_else(|| {
            OpError::Config(format!(
                "no issued ACM certificate in us-east-1 covers {name}"
            ))
        })
}

/// Creates a website (ORCHESTRATION §4.6) in six sequential round trips; rolls everything back on failure,
/// the DNS records included. A distribution cannot be deleted at once: rollback disables it and the cleaner
/// deletes it later.
pub async fn create(ctx: Ctx, req: CreateWebsite) -> Result<CreatedWebsite, OpError> {
    let c = ctx.clone();
    ctx.with_rollback("create_website", move |journal| async move {
        create_steps(&c, &req, &journal).await
    })
    .await
}

async fn create_steps(
    ctx: &Ctx,
    req: &CreateWebsite,
    journal: &Journal,
) -> Result<CreatedWebsite, OpError> {
    let aws = &ctx.aws;
    let site = &req.site;
    let bucket = site.bucket();
    let zone = ctx.zone_of(site)?.to_owned();
    let tags = req.tags.with(std::slice::from_ref(&ctx.org_tag));

    // 1–3. The certificate ∥ the name's DNS records ∥ the bucket with its admin policy and group, open to a
    //      public-read policy. A record of the name is someone else's: the create stops (and rolls back) before
    //      it makes a distribution for a name it cannot point at it — Route 53 refuses a CREATE over an existing
    //      record, but not every implementation does, and the service must not rely on it.
    let intent = Intent::CreateWebsite {
        website: site.as_str().to_owned(),
        index: req.index_document.clone(),
    };
    let (cert, existing, created) = tokio::join!(
        certificate(ctx, site),
        aws.records_of(&zone, site.as_str()),
        create_bucket_resources(
            ctx,
            bucket,
            &tags,
            None,
            WEBSITE_PUBLIC_ACCESS,
            Subject::Website,
            &intent,
            journal
        )
    );
    let created = created?;
    if !existing.map_err(|e| zone_error(e, &zone))?.is_empty() {
        return Err(OpError::exists(Resource::DnsRecord, site.as_str()));
    }
    let cert = cert?;

    // 4. Website hosting ∥ the public-read policy ∥ the placeholder page ∥ the distribution.
    let spec = DistributionSpec {
        website: site.as_str(),
        origin_domain: website_endpoint(site.as_str(), &aws.config.region),
        certificate_arn: &cert,
        minimum_protocol_version: &aws.config.minimum_protocol_version,
        price_class: &aws.config.price_class,
        geo_whitelist: &aws.config.geo_restriction,
        default_root_object: &req.index_document,
        caller_reference: uuid::Uuid::new_v4().to_string(),
    };
    let public_read = crate::domain::policy::public_read_bucket_policy(bucket).to_string();
    let page = placeholder_page(site.as_str());
    let (hosting, policy, placeholder, distribution) = tokio::join!(
        aws.put_bucket_website(bucket, &req.index_document, req.error_document.as_deref()),
        aws.put_bucket_policy(bucket, &public_read),
        async {
            let r = aws
                .put_html(bucket, &req.index_document, &page, PLACEHOLDER_TAGGING)
                .await;
            journal.created(
                r,
                Undo::DeleteObject {
                    bucket: bucket.clone(),
                    key: req.index_document.clone(),
                },
            )
        },
        async {
            let r = aws
                .create_distribution(website_distribution(&spec), &tags)
                .await;
            match &r {
                Ok(d) => journal.record(Undo::DisableDistribution {
                    id: Some(d.id.clone()),
                    alias: site.as_str().to_owned(),
                }),
                Err(e) if e.is_ambiguous() => journal.record(Undo::DisableDistribution {
                    id: None,
                    alias: site.as_str().to_owned(),
                }),
                Err(_) => {}
            }
            r.map_err(|e| match e.is_already_exists() {
                true => OpError::exists(Resource::Distribution, site.as_str()),
                false => e.into(),
            })
        }
    );
    first_error([
        hosting.map_err(OpError::from),
        policy.map_err(OpError::from),
        placeholder.map(|_| ()).map_err(OpError::from),
    ])?;
    let distribution = distribution?;
    let distribution_arn = distribution.arn.clone();

    // 5–6. The CloudFront admin policy and group, then the policy on the group ∥ the DNS records ∥ the
    //      bookkeeping tag.
    let web = BucketGroup::new(bucket, GroupKind::WebAdmin).expect("bucket names fit IAM names");
    let records = alias_records(site.as_str(), &distribution.domain_name);
    let mut tags_with_id = tags.clone();
    tags_with_id.push(Tag::new(DISTRIBUTION_TAG, &distribution.id));
    let (web_made, dns, tagged) = tokio::join!(
        make_group(
            ctx,
            bucket,
            &web,
            Subject::Distribution(&distribution_arn),
            IfExists::Conflict,
            journal
        ),
        async {
            // CREATE, never UPSERT: a record someone else made is theirs.
            let r = aws
                .change_records(&zone, ChangeAction::Create, &records)
                .await;
            journal
                .created(
                    r,
                    Undo::DeleteRecords {
                        zone: zone.clone(),
                        records: records.clone(),
                    },
                )
                .map_err(|e| match e.has_code("InvalidChangeBatch") {
                    true => OpError::exists(Resource::DnsRecord, site.as_str()),
                    false => e.into(),
                })
        },
        retry_not_visible(|| aws.put_bucket_tagging(bucket, &tags_with_id)),
    );
    tagged?;
    let dns = dns?;
    let web_made = web_made?;
    let (web_policy, web_group) = (
        web_made.policy.expect("made, not joined"),
        web_made.group.expect("made, not joined"),
    );

    Ok(CreatedWebsite {
        bucket: created,
        web_policy: records::Policy::from(&web_policy),
        web_group: records::Group::from(&web_group),
        distribution: records::Distribution::from(&distribution),
        dns_change: records::DnsChange::from(&dns),
    })
}

/// The account's websites, sorted: the names under a configured domain that a distribution holds as an alias and
/// serves from the bucket of that name, whose bucket is a managed website's. One listing of the distributions,
/// then the facts of every candidate at once: the calls grow with the websites (and distributions), never with
/// the plain buckets. A distribution left disabled by a delete (its bucket gone) is not a website.
pub async fn list(ctx: &Ctx) -> Result<Vec<String>, OpError> {
    let domains = &ctx.aws.config.domains;
    let mut candidates = std::collections::BTreeMap::new();
    for d in ctx.aws.list_distributions().await? {
        let aliases = d.aliases().and_then(|a| a.items.as_ref());
        let origins: Vec<&str> = (d.origins().map(|o| o.items()).unwrap_or_default())
            .iter()
            .map(|o| o.domain_name())
            .collect();
        for alias in aliases.into_iter().flatten() {
            let name = alias.to_ascii_lowercase();
            let Ok(site) = WebsiteName::parse(&name, domains) else {
                continue;
            };
            if origins.iter().any(|o| origin_serves_bucket(o, &name)) {
                candidates.insert(name, site);
            }
        }
    }
    let facts = join_all(candidates.values().map(|site| ctx.facts(site.bucket()))).await;
    let mut sites = Vec::new();
    for (name, facts) in candidates.into_keys().zip(facts) {
        if matches!(facts?, Some(f) if f.managed && f.website) {
            sites.push(name);
        }
    }
    Ok(sites)
}

/// The bucket's facts ∥ emptiness ∥ logging ∥ DNS record, then the distribution by the id in the bucket's tags:
/// two round trips, whatever the number of distributions or records in the account.
pub async fn show(ctx: &Ctx, site: &WebsiteName) -> Result<WebsiteView, OpError> {
    let aws = &ctx.aws;
    let bucket = site.bucket();
    let zone = ctx.zone_of(site)?;
    let (facts, contents, logging, records) = tokio::join!(
        ctx.existing(bucket, Kind::Website),
        contents::read(aws, bucket, Some(site.as_str())),
        aws.get_bucket_logging(bucket),
        aws.records_of(zone, site.as_str()),
    );
    let facts = facts?;
    facts.may_read(Kind::Website, bucket)?;
    let contents = contents.map_err(|e| missing_site(e, bucket))?;
    let logging = logging.map_err(|e| missing_site(e, bucket))?;
    let records = records.map_err(|e| zone_error(e, zone))?;
    let distribution = ctx.website_distribution(bucket, &facts).await?;
    Ok(WebsiteView {
        bucket: BucketView {
            empty: contents.empty,
            tags: facts.tags,
            logging,
            // The website's policy is the service's own (public read); its show does not report it.
            policy: None,
        },
        dns_record: a_record(&records),
        distribution: distribution.as_ref().map(records::Distribution::from),
    })
}

/// The record that names the site: its A record (the AAAA record aliases the same distribution).
fn a_record(set: &[ResourceRecordSet]) -> Option<records::DnsRecord> {
    (set.iter())
        .find(|r| r.r#type == RrType::A)
        .map(records::DnsRecord::from)
}

fn missing_site(e: AwsError, bucket: &BucketName) -> OpError {
    match e.is_not_found() {
        true => OpError::not_found(Resource::Website, bucket.as_str()),
        false => e.into(),
    }
}

/// Replaces the caller's tags on the bucket and the distribution alike (the service's own tags are kept).
pub async fn update_tags(
    ctx: &Ctx,
    site: &WebsiteName,
    caller: &CallerTags,
) -> Result<WebsiteView, OpError> {
    let aws = &ctx.aws;
    let bucket = site.bucket();
    let facts = ctx.existing(bucket, Kind::Website).await?;
    facts.may_change(Kind::Website, bucket)?;
    let distribution = ctx.website_distribution(bucket, &facts).await?;
    let set = caller.with(std::slice::from_ref(&ctx.org_tag));
    let mut bucket_tags = set.clone();
    if let Some(d) = &distribution {
        bucket_tags.push(Tag::new(DISTRIBUTION_TAG, &d.id));
    }
    let on_distribution = async {
        let Some(d) = &distribution else {
            return Ok(());
        };
        let existing = aws.distribution_tags(&d.arn).await?;
        let stale: Vec<String> = existing
            .iter()
            .filter(|t| !set.iter().any(|s| s.key == t.key))
            .map(|t| t.key.clone())
            .collect();
        let (tagged, untagged) = tokio::join!(aws.tag_distribution(&d.arn, &set), async {
            match stale.is_empty() {
                true => Ok(()),
                false => aws.untag_distribution(&d.arn, &stale).await,
            }
        });
        tagged?;
        untagged?;
        Ok::<(), OpError>(())
    };
    let (b, d) = tokio::join!(
        aws.put_bucket_tagging(bucket, &bucket_tags),
        on_distribution
    );
    b?;
    d?;
    show(ctx, site).await
}

/// Starts a CloudFront invalidation of `paths` on the website's own distribution.
pub async fn invalidate(
    ctx: &Ctx,
    site: &WebsiteName,
    paths: &[String],
) -> Result<records::Invalidation, OpError> {
    let bucket = site.bucket();
    let facts = ctx.existing(bucket, Kind::Website).await?;
    facts.may_change(Kind::Website, bucket)?;
    let id = ctx
        .website_distribution(bucket, &facts)
        .await?
        .ok_or_else(|| OpError::not_found(Resource::Distribution, site.as_str()))?
        .id;
    let caller_reference = uuid::Uuid::new_v4().to_string();
    let (invalidation, location) = ctx
        .aws
        .create_invalidation(&id, paths, &caller_reference)
        .await
        .map_err(|e| match e.is_not_found() {
            true => OpError::not_found(Resource::Distribution, site.as_str()),
            false => OpError::from(e),
        })?;
    Ok(records::Invalidation::of(&invalidation, location))
}

/// The exact IAM names of a website: its root groups and policies, and the path-scoped ones found under its
/// IAM path prefix (one listing, not a scan of the account).
pub(crate) async fn website_iam_names(ctx: &Ctx, bucket: &BucketName) -> Result<IamNames, OpError> {
    let root: Vec<BucketGroup> = GroupKind::WEBSITE
        .into_iter()
        .map(|k| BucketGroup::new(bucket, k).expect("fits"))
        .collect();
    let prefix = scoped_iam_prefix(bucket);
    let (names, scoped) = tokio::join!(IamNames::of(ctx, &root), ctx.aws.list_by_path(&prefix));
    let mut names = names?;
    let (groups, policies) = scoped?;
    names.groups.extend(groups);
    names.policies.extend(policies);
    Ok(names)
}

/// Deletes a website (ORCHESTRATION §4.7). The order protects the domain: DNS records first, then the
/// distribution is disabled (the cleaner deletes it once deployed), then IAM, then the placeholders and the
/// bucket last — freeing the bucket name while DNS or CloudFront still point at it would let anyone claim it.
pub async fn delete(ctx: &Ctx, site: &WebsiteName) -> Result<DeletedWebsite, OpError> {
    let aws = &ctx.aws;
    let bucket = site.bucket();
    let zone = ctx.zone_of(site)?;
    let names = website_iam_names(ctx, bucket).await?;
    let (state, facts, contents, records, iam) = tokio::join!(
        aws.head_bucket(bucket),
        ctx.facts(bucket),
        contents::read_unless_gone(aws, bucket, Some(site.as_str())),
        aws.records_of(zone, site.as_str()),
        BucketIam::read(ctx, &names),
    );
    let state = state?;
    // A plain bucket of that name is not a website (404), and a bucket the service did not make stays untouched.
    let facts = facts?;
    if let Some(facts) = &facts {
        facts.may_change(Kind::Website, bucket)?;
    }
    let Contents {
        empty,
        placeholders: objects,
    } = contents?;
    if !empty {
        return Err(OpError::NotEmpty(site.as_str().to_owned()));
    }
    let records = records.map_err(|e| zone_error(e, zone))?;
    let iam = iam?;
    // Without a managed bucket nothing of the name is ours to delete but IAM leftovers of an earlier delete;
    // whatever DNS records exist for the name are someone else's.
    if state == BucketState::Missing && iam.is_empty() {
        return Err(OpError::not_found(Resource::Website, site.as_str()));
    }

    // DNS: only the records that alias this website's own distribution.
    let distribution = match &facts {
        Some(facts) => ctx.website_distribution(bucket, facts).await?,
        None => None,
    };
    let ours: Vec<ResourceRecordSet> = match &distribution {
        Some(d) => records
            .into_iter()
            .filter(|r| aliases(r, &d.domain_name))
            .collect(),
        None => Vec::new(),
    };
    if !ours.is_empty() {
        aws.change_records(zone, ChangeAction::Delete, &ours)
            .await?;
    }
    let distribution = match distribution {
        Some(d) => match aws.disable_distribution(&d.id).await {
            Err(e) if e.is_not_found() => Some(d),
            other => Some(other?),
        },
        None => None,
    };
    let deleted = iam.tear_down(ctx, bucket, &names).await?;
    if state != BucketState::Missing {
        // Every version and delete marker by its id: in a versioned bucket a plain delete would only add a
        // delete marker, and the bucket could not be deleted.
        let removed = join_all(objects.iter().map(|o| async move {
            gone(
                aws.delete_object_version(bucket, &o.key, o.version_id.as_deref())
                    .await,
            )
        }))
        .await;
        first_error(removed.into_iter().map(|r| r.map_err(OpError::from)))?;
        gone(aws.delete_bucket(bucket).await).map_err(|e| match e.has_code("BucketNotEmpty") {
            true => OpError::NotEmpty(site.as_str().to_owned()),
            false => OpError::from(e),
        })?;
    }
    Ok(DeletedWebsite {
        iam: DeletedBucket {
            bucket: site.as_str().to_owned(),
            ..deleted
        },
        dns_record: a_record(&ours),
        distribution: distribution.as_ref().map(records::Distribution::from),
    })
}
