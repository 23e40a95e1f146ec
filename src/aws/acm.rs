//! The ACM calls the service makes: finding the certificate of a website (always in us-east-1, where
//! CloudFront takes its certificates from).

use aws_sdk_acm::types::{CertificateDetail, CertificateStatus, CertificateSummary};

use super::error::err;
use super::{AwsAccount, AwsError, Service};

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

    /// Every issued certificate of the account in us-east-1.
    pub async fn issued_certificates(&self) -> Result<Vec<CertificateSummary>, AwsError> {
        let mut all = Vec::new();
        let mut pages = self
            .acm
            .list_certificates()
            .certificate_statuses(CertificateStatus::Issued)
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
    use super::covers;

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
