//! Websites: validated website names, the placeholder page, and where S3 serves a website from.

use std::collections::BTreeMap;

use super::names::{BucketName, NameError};

/// A website: a bucket named after a DNS name whose parent domain is one the account serves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebsiteName {
    bucket: BucketName,
    parent: String,
}

impl WebsiteName {
    /// `domains` are the account's configured parent domains.
    pub fn parse<V>(s: &str, domains: &BTreeMap<String, V>) -> Result<Self, WebsiteNameError> {
        let bucket = BucketName::parse(s).map_err(WebsiteNameError::Name)?;
        let dns_error = |reason| {
            Err(WebsiteNameError::Name(NameError::new(
                "website name",
                s,
                reason,
            )))
        };
        let labels: Vec<&str> = s.split('.').collect();
        if labels.len() < 2 {
            return dns_error("must be a DNS name with at least two labels, like www.example.org");
        }
        if labels
            .iter()
            .any(|l| l.is_empty() || l.len() > 63 || l.starts_with('-') || l.ends_with('-'))
        {
            return dns_error(
                "DNS labels must be 1 to 63 characters and not begin or end with `-`",
            );
        }
        let parent = s.split_once('.').map(|(_, p)| p).unwrap_or_default();
        if !domains.contains_key(parent) {
            return Err(WebsiteNameError::Domain(parent.chars().take(253).collect()));
        }
        Ok(WebsiteName {
            bucket,
            parent: parent.to_owned(),
        })
    }

    pub fn bucket(&self) -> &BucketName {
        &self.bucket
    }

    pub fn as_str(&self) -> &str {
        self.bucket.as_str()
    }

    /// The configured domain the website lives under.
    pub fn parent(&self) -> &str {
        &self.parent
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WebsiteNameError {
    #[error(transparent)]
    Name(NameError),
    #[error("domain {0} is not configured for this account")]
    Domain(String),
}

/// The tag the service keeps on a website bucket to find its distribution in one call.
pub const DISTRIBUTION_TAG: &str = "s3-api:distribution";
/// The tags the service keeps on a website's bucket: the org tag and `DISTRIBUTION_TAG`.
pub const WEBSITE_OWN_TAGS: usize = 2;
/// The object tag on placeholder pages.
pub const PLACEHOLDER_TAGGING: &str = "spinup:placeholder=true";

/// The placeholder page of a website (and of each path-scoped prefix): what the site shows until its owners
/// upload their own `index.html`.
pub fn placeholder_page(website: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>{website}</title></head>\
         <body><p>Hello, {website}!</p></body></html>\n"
    )
}

/// Whether a listed object is one of the service's placeholders: an `index.html` (at the root or under a
/// prefix) whose content is the placeholder page, known by its ETag (the MD5 of a single-part upload).
pub fn is_placeholder(website: &str, key: &str, etag: &str) -> bool {
    use md5::{Digest, Md5};
    if !is_placeholder_key(key) {
        return false;
    }
    let digest = hex::encode(Md5::digest(placeholder_page(website).as_bytes()));
    etag.trim_matches('"') == digest
}

/// Whether a key is where the service puts placeholders: `index.html`, at the root or under a prefix.
pub fn is_placeholder_key(key: &str) -> bool {
    key == "index.html" || key.ends_with("/index.html")
}

/// Whether a CloudFront origin domain is one of `bucket`'s S3 endpoints — the website endpoint of any region
/// (`<b>.s3-website-<region>.amazonaws.com`, `<b>.s3-website.<region>.amazonaws.com`) or the REST endpoint
/// (`<b>.s3.amazonaws.com`, `<b>.s3.<region>.amazonaws.com`): how the service tells the website's distribution
/// from one that merely holds its name or whose id someone wrote into a tag.
pub fn origin_serves_bucket(origin_domain: &str, bucket: &str) -> bool {
    let origin = origin_domain.to_ascii_lowercase();
    origin.ends_with(".amazonaws.com")
        && origin
            .strip_prefix(bucket)
            .and_then(|rest| rest.strip_prefix(".s3"))
            .is_some_and(|rest| rest.starts_with(['.', '-']))
}

/// The S3 website endpoint of a bucket. The older regions use `s3-website-<region>`, the newer ones
/// `s3-website.<region>`.
pub fn website_endpoint(bucket: &str, region: &str) -> String {
    const DASH_REGIONS: &[&str] = &[
        "us-east-1",
        "us-west-1",
        "us-west-2",
        "eu-west-1",
        "ap-southeast-1",
        "ap-southeast-2",
        "ap-northeast-1",
        "sa-east-1",
        "us-gov-west-1",
    ];
    let sep = if DASH_REGIONS.contains(&region) {
        '-'
    } else {
        '.'
    };
    format!("{bucket}.s3-website{sep}{region}.amazonaws.com")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn domains() -> BTreeMap<String, ()> {
        [("example.org".to_owned(), ())].into_iter().collect()
    }

    #[test]
    fn website_names_need_a_configured_parent_domain() {
        let w = WebsiteName::parse("blog.example.org", &domains()).unwrap();
        assert_eq!(w.parent(), "example.org");
        assert!(matches!(
            WebsiteName::parse("blog.example.com", &domains()),
            Err(WebsiteNameError::Domain(_))
        ));
        assert!(matches!(
            WebsiteName::parse("a.blog.example.org", &domains()),
            Err(WebsiteNameError::Domain(_))
        ));
        for bad in [
            "example",
            "-x.example.org",
            "x-.example.org",
            "Blog.example.org",
            "a..example.org",
        ] {
            assert!(
                matches!(
                    WebsiteName::parse(bad, &domains()),
                    Err(WebsiteNameError::Name(_))
                ),
                "{bad}"
            );
        }
    }

    #[test]
    fn placeholders_are_known_by_key_and_content() {
        use md5::{Digest, Md5};
        let etag = format!(
            "\"{}\"",
            hex::encode(Md5::digest(placeholder_page("s.example.org").as_bytes()))
        );
        assert!(is_placeholder("s.example.org", "index.html", &etag));
        assert!(is_placeholder("s.example.org", "team/index.html", &etag));
        assert!(!is_placeholder("s.example.org", "other.html", &etag));
        assert!(!is_placeholder("s.example.org", "index.html", "\"0123\""));
        assert!(!is_placeholder("t.example.org", "index.html", &etag));
    }

    #[test]
    fn origins_of_the_bucket_only() {
        for ok in [
            "b.example.org.s3-website-us-east-1.amazonaws.com",
            "b.example.org.s3-website.eu-central-1.amazonaws.com",
            "b.example.org.s3.amazonaws.com",
            "B.Example.org.s3.us-west-2.amazonaws.com",
        ] {
            assert!(origin_serves_bucket(ok, "b.example.org"), "{ok}");
        }
        for bad in [
            "xb.example.org.s3.amazonaws.com",
            "b.example.org.s3x.amazonaws.com",
            "b.example.org-other.s3.amazonaws.com",
            "b.example.org.s3-website-us-east-1.amazonaws.com.evil.net",
            "other.s3-website-us-east-1.amazonaws.com",
        ] {
            assert!(!origin_serves_bucket(bad, "b.example.org"), "{bad}");
        }
    }

    #[test]
    fn website_endpoints_by_region() {
        assert_eq!(
            website_endpoint("b", "us-east-1"),
            "b.s3-website-us-east-1.amazonaws.com"
        );
        assert_eq!(
            website_endpoint("b", "eu-central-1"),
            "b.s3-website.eu-central-1.amazonaws.com"
        );
    }
}
