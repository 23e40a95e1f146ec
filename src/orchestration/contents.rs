//! The one emptiness rule, shared by show (`Empty`) and delete (409 `BucketNotEmpty`), so that `Empty: true`
//! always means a delete will not refuse for content. A bucket is empty when it holds no object, no old version
//! and no delete marker: in a versioned bucket the listing of current objects can be empty while old versions
//! still make S3 refuse `DeleteBucket`. A website's bucket may also hold the placeholder pages the service
//! wrote — every version of them, and delete markers where they were — which the website's delete removes.

use crate::aws::s3::ListedObject;
use crate::aws::{AwsAccount, AwsError};
use crate::domain::names::BucketName;
use crate::domain::website::{is_placeholder, is_placeholder_key};

/// How many entries of a website's bucket are looked at; a site with more holds more than its placeholders.
const WEBSITE_PAGE: i32 = 1000;

/// What a bucket holds, by that rule.
pub(crate) struct Contents {
    pub empty: bool,
    /// When `empty`: a website's placeholder versions and delete markers, which its delete removes.
    pub placeholders: Vec<ListedObject>,
}

/// Reads the contents of `bucket`, the bucket of website `site` (None for a plain bucket, where nothing is the
/// service's): one listing of versions and delete markers.
pub(crate) async fn read(
    aws: &AwsAccount,
    bucket: &BucketName,
    site: Option<&str>,
) -> Result<Contents, AwsError> {
    // In a plain bucket any one entry decides.
    let page = if site.is_some() { WEBSITE_PAGE } else { 1 };
    let entries = aws.list_some_versions(bucket, page).await?;
    let empty = (entries.len() as i32) < page
        && entries
            .iter()
            .all(|o| site.is_some_and(|site| is_the_service_s(site, o)));
    Ok(Contents {
        empty,
        placeholders: if empty { entries } else { Vec::new() },
    })
}

/// As [`read`], for a delete repeated after the bucket went: a bucket that is gone holds nothing.
pub(crate) async fn read_unless_gone(
    aws: &AwsAccount,
    bucket: &BucketName,
    site: Option<&str>,
) -> Result<Contents, AwsError> {
    match read(aws, bucket, site).await {
        Err(e) if e.is_not_found() => Ok(Contents {
            empty: true,
            placeholders: Vec::new(),
        }),
        other => other,
    }
}

/// Whether a listed version is one of the service's placeholders. A delete marker hides no content of its own
/// (content it hides is listed as a version of its own), so one where a placeholder goes is the service's too
/// (a site admin may have turned versioning on and written a placeholder again).
fn is_the_service_s(site: &str, o: &ListedObject) -> bool {
    match o.delete_marker {
        true => is_placeholder_key(&o.key),
        false => is_placeholder(site, &o.key, &o.etag),
    }
}
