//! The ACM calls the service makes: finding the certificate of a website (always in us-east-1, where
//! CloudFront takes its certificates from).

use aws_sdk_acm::types::{
    CertificateDetail, CertificateStatus, CertificateSummary, Filters, KeyAlgorithm,
};

use super::error::err;
use super::{AwsAccount, AwsError, Service};

/// Every key type an ACM certificate can have.
pub const KEY_TYPES: [&str; 7] = [
    "RSA_1024",
    "RSA_2048",
    "RSA_3072",
    "RSA_4096",
    "EC_prime256v1",
    "EC_secp384r1",
    "EC_secp521r1",
];

/// Whether a certificate name (`example.org`, `*.example.org`) covers `host`.
pub fn covers(pattern: &str, host: &str) -> bool {
    let (pattern, host) = (pattern.to_ascii_lowercase(), host.to_ascii_lowercase());
    match pattern.strip_prefix("*.") {
        // A wildcard covers exactly one label.
        Some(parent) => host
            .split_once('.')
            .is_some_and(|(label, rest)| !label.is_empty() && rest == parent),
        None => pattern == host,
    }
}

impl AwsAccount {
    pub async fn describe_certificate(&self, arn: &str) -> Result<CertificateDetail, AwsError> {
        let out = self
            .acm
            .describe_certificate()
            .certificate_arn(arn)
            .send()
            .await
            .map_err(err(Service::Acm, "DescribeCertificate"))?;
        out.certificate.ok_or_else(|| {
            AwsError::missing_field(Service::Acm, "DescribeCertificate", "Certificate")
        })
    }

    /// Every issued certificate of the account in us-east-1, whatever its key type.
    pub async fn issued_certificates(&self) -> Result<Vec<CertificateSummary>, AwsError> {
        // Without a key type filter ACM lists only RSA-1024 and RSA-2048 certificates: an EC or larger RSA
        // certificate of the domain would not be found.
        let every_key_type = Filters::builder()
            .set_key_types(Some(
                KEY_TYPES.iter().map(|k| KeyAlgorithm::from(*k)).collect(),
            ))
            .build();
        let mut all = Vec::new();
        let mut pages = self
            .acm
            .list_certificates()
            .certificate_statuses(CertificateStatus::Issued)
            .includes(every_key_type)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(err(Service::Acm, "ListCertificates"))?;
            all.extend(page.certificate_summary_list.unwrap_or_default());
        }
        Ok(all)
    }
}

#[cfg(test)]
mod tests {
    use aws_sdk_acm::types::KeyAlgorithm;

    use super::{covers, KEY_TYPES};

    #[test]
    fn every_key_type_the_sdk_knows_is_asked_for() {
        let mut known: Vec<&str> = KeyAlgorithm::values().to_vec();
        known.sort_unstable();
        let mut asked = KEY_TYPES.to_vec();
        asked.sort_unstable();
        assert_eq!(asked, known);
    }

    #[test]
    fn wildcards_cover_one_label() {
        assert!(covers("*.example.org", "blog.example.org"));
        assert!(covers("*.EXAMPLE.org", "Blog.example.org"));
        assert!(covers("blog.example.org", "blog.example.org"));
        assert!(!covers("*.example.org", "a.blog.example.org"));
        assert!(!covers("*.example.org", "example.org"));
        assert!(!covers("other.example.org", "blog.example.org"));
    }
}
