//! AWS errors, classified once per service into the few kinds the rest of the service acts on.

use std::fmt;

use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_runtime_api::http::Response as HttpResponse;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

/// The AWS services the service calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    S3,
    Iam,
    Sts,
    CloudFront,
    Route53,
    Acm,
}

impl Service {
    pub fn as_str(self) -> &'static str {
        match self {
            Service::S3 => "s3",
            Service::Iam => "iam",
            Service::Sts => "sts",
            Service::CloudFront => "cloudfront",
            Service::Route53 => "route53",
            Service::Acm => "acm",
        }
    }
}

/// What an AWS error means for the caller: the domain's kinds of failure, which the layers above act on too.
pub use crate::domain::failure::FailureKind as ErrorKind;

/// A failed AWS call, with what the log and the caller need to know about it.
#[derive(Debug, Clone)]
pub struct AwsError {
    pub service: Service,
    pub operation: &'static str,
    pub kind: ErrorKind,
    pub code: Option<String>,
    pub message: Option<String>,
    pub request_id: Option<String>,
    pub status: Option<u16>,
    /// The bucket's region, when S3 said it is in another one (`x-amz-bucket-region`).
    pub bucket_region: Option<Box<str>>,
    /// In how many seconds a throttled call could be made again, if known.
    pub retry_after: Option<u16>,
}

impl fmt::Display for AwsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{} failed", self.service.as_str(), self.operation)?;
        if let Some(code) = &self.code {
            write!(f, ": {code}")?;
        } else {
            write!(f, ": {:?}", self.kind)?;
        }
        if let Some(message) = &self.message {
            write!(f, ": {message}")?;
        }
        if let Some(id) = &self.request_id {
            write!(f, " (request id {id})")?;
        }
        Ok(())
    }
}

impl std::error::Error for AwsError {}

impl AwsError {
    /// Classifies an SDK error of `service`'s `operation`.
    pub fn from_sdk<E>(
        service: Service,
        operation: &'static str,
        err: SdkError<E, HttpResponse>,
    ) -> Self
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        let status = err.raw_response().map(|r| r.status().as_u16());
        let meta = err.meta();
        let code = meta.code().map(str::to_owned);
        let message = meta.message().map(str::to_owned);
        let request_id = meta.extra("aws_request_id").map(str::to_owned).or_else(|| {
            err.raw_response().and_then(|r| {
                let h = r.headers();
                h.get("x-amzn-requestid")
                    .or_else(|| h.get("x-amz-request-id"))
                    .map(str::to_owned)
            })
        });
        let bucket_region = err
            .raw_response()
            .and_then(|r| r.headers().get("x-amz-bucket-region"))
            .map(Box::from);
        // A call whose turn in the account's pace would have come after the request's deadline was never
        // sent: the service throttled it itself.
        let no_turn = match &err {
            SdkError::DispatchFailure(d) => d
                .as_connector_error()
                .and_then(std::error::Error::source)
                .and_then(|e| e.downcast_ref::<super::pace::NoTurnInTime>())
                .map(|n| n.wait.as_secs_f64().ceil().clamp(1.0, f64::from(u16::MAX)) as u16),
            _ => None,
        };
        let kind = match &err {
            _ if no_turn.is_some() => ErrorKind::Throttled,
            SdkError::TimeoutError(_) => ErrorKind::Timeout,
            SdkError::DispatchFailure(d) if d.is_timeout() => ErrorKind::Timeout,
            SdkError::DispatchFailure(_) => ErrorKind::Unavailable,
            SdkError::ResponseError(_) => ErrorKind::Unavailable,
            SdkError::ServiceError(_)
                if service == Service::S3 && bare_region_answer(status, code.as_deref()) =>
            {
                ErrorKind::OtherRegion
            }
            SdkError::ServiceError(_) => classify(service, code.as_deref(), status),
            _ => ErrorKind::Other,
        };
        let message = message.or_else(|| match &err {
            SdkError::ServiceError(_) => None,
            // The source chain says why a request never got an answer (refused, reset, timed out).
            other => Some(error_chain(other)),
        });
        AwsError {
            service,
            operation,
            kind,
            code,
            message,
            request_id,
            status,
            bucket_region,
            retry_after: no_turn,
        }
    }

    /// A call that failed in a way that leaves open whether AWS carried it out.
    pub fn is_ambiguous(&self) -> bool {
        matches!(self.kind, ErrorKind::Timeout | ErrorKind::Unavailable)
    }

    pub fn is_not_found(&self) -> bool {
        self.kind == ErrorKind::NotFound
    }

    pub fn is_already_exists(&self) -> bool {
        self.kind == ErrorKind::AlreadyExists
    }

    /// The bucket exists, but in another region than the account's.
    pub fn is_other_region(&self) -> bool {
        self.kind == ErrorKind::OtherRegion
    }

    pub fn has_code(&self, code: &str) -> bool {
        self.code.as_deref() == Some(code)
    }
}

/// The `map_err` of every AWS call: `.map_err(err(Service::S3, "CreateBucket"))`.
pub(crate) fn err<E>(
    service: Service,
    operation: &'static str,
) -> impl FnOnce(SdkError<E, HttpResponse>) -> AwsError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    move |e| AwsError::from_sdk(service, operation, e)
}

fn error_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

/// The error mapping: service-specific codes first, then the codes AWS services share, then the HTTP status.
fn classify(service: Service, code: Option<&str>, status: Option<u16>) -> ErrorKind {
    let code = code.unwrap_or_default();
    let specific = match service {
        Service::S3 => s3_kind(code),
        Service::Iam => iam_kind(code),
        Service::CloudFront => cloudfront_kind(code),
        Service::Route53 => route53_kind(code),
        Service::Acm => acm_kind(code),
        Service::Sts => None,
    };
    specific
        .or_else(|| common_kind(code))
        .unwrap_or(match status {
            Some(404) => ErrorKind::NotFound,
            Some(403) => ErrorKind::AccessDenied,
            Some(429) => ErrorKind::Throttled,
            Some(s) if s >= 500 => ErrorKind::Unavailable,
            _ => ErrorKind::Other,
        })
}

/// A HEAD answer has no body to carry a code: S3 answers HeadBucket for a bucket in another region with a bare
/// 301 and the bucket's region in `x-amz-bucket-region`. (Through another regional endpoint the answer is a bare
/// 400 naming the region; only the caller knows its own region to tell that from other 400s, see `head_bucket`.)
fn bare_region_answer(status: Option<u16>, code: Option<&str>) -> bool {
    status == Some(301) && code.is_none()
}

fn s3_kind(code: &str) -> Option<ErrorKind> {
    Some(match code {
        "BucketAlreadyExists" | "BucketAlreadyOwnedByYou" => ErrorKind::AlreadyExists,
        "NoSuchBucket"
        | "NotFound"
        | "NoSuchKey"
        | "NoSuchTagSet"
        | "NoSuchBucketPolicy"
        | "NoSuchLifecycleConfiguration" => ErrorKind::NotFound,
        // OperationAborted is transient (configuration calls on one bucket overlapped) and retried by the SDK
        // clients (`TransientCodes`); it gets here only when it outlasted the retries.
        "BucketNotEmpty" | "OperationAborted" => ErrorKind::Conflict,
        // Answers with a body for a bucket in another region: through the global or the bucket's legacy
        // endpoint, and through another regional endpoint (the request was signed for the client's region).
        "PermanentRedirect" | "AuthorizationHeaderMalformed" => ErrorKind::OtherRegion,
        "SlowDown" => ErrorKind::Throttled,
        "TooManyBuckets" => ErrorKind::LimitExceeded,
        "InvalidBucketName" | "InvalidArgument" | "InvalidRequest" | "MalformedXML"
        | "MalformedPolicy" | "InvalidTag" => ErrorKind::Invalid,
        // The configured access-log bucket is missing or does not accept logs: a configuration problem.
        "InvalidTargetBucketForLogging" => ErrorKind::Other,
        _ => return None,
    })
}

fn iam_kind(code: &str) -> Option<ErrorKind> {
    Some(match code {
        "EntityAlreadyExists" => ErrorKind::AlreadyExists,
        "NoSuchEntity" => ErrorKind::NotFound,
        // ConcurrentModification is retried by the SDK client first (`TransientCodes`), like OperationAborted.
        "DeleteConflict" | "ConcurrentModification" => ErrorKind::Conflict,
        "LimitExceeded" => ErrorKind::LimitExceeded,
        "MalformedPolicyDocument" | "InvalidInput" | "ValidationError" => ErrorKind::Invalid,
        "ServiceFailure" => ErrorKind::Unavailable,
        _ => return None,
    })
}

fn cloudfront_kind(code: &str) -> Option<ErrorKind> {
    Some(match code {
        "DistributionAlreadyExists" | "CNAMEAlreadyExists" => ErrorKind::AlreadyExists,
        "NoSuchDistribution" | "NoSuchResource" | "NoSuchInvalidation" => ErrorKind::NotFound,
        "DistributionNotDisabled" | "PreconditionFailed" | "InvalidIfMatchVersion" => {
            ErrorKind::Conflict
        }
        "TooManyInvalidationsInProgress" | "TooManyDistributions" | "TooManyDistributionCNAMEs" => {
            ErrorKind::LimitExceeded
        }
        "InvalidArgument"
        | "InvalidViewerCertificate"
        | "InvalidOrigin"
        | "IllegalUpdate"
        | "InvalidTagging"
        | "InconsistentQuantities" => ErrorKind::Invalid,
        _ => return None,
    })
}

fn route53_kind(code: &str) -> Option<ErrorKind> {
    Some(match code {
        "NoSuchHostedZone" => ErrorKind::NotFound,
        "InvalidChangeBatch" | "InvalidInput" => ErrorKind::Invalid,
        _ => return None,
    })
}

fn acm_kind(code: &str) -> Option<ErrorKind> {
    Some(match code {
        "ResourceNotFoundException" => ErrorKind::NotFound,
        "InvalidArnException" | "ValidationException" => ErrorKind::Invalid,
        _ => return None,
    })
}

fn common_kind(code: &str) -> Option<ErrorKind> {
    Some(match code {
        "AccessDenied"
        | "AccessDeniedException"
        | "Forbidden"
        | "NotAuthorizedException"
        | "InvalidAccessKeyId"
        | "SignatureDoesNotMatch"
        | "ExpiredToken"
        | "InvalidClientTokenId" => ErrorKind::AccessDenied,
        "Throttling"
        | "ThrottlingException"
        | "RequestLimitExceeded"
        | "TooManyRequestsException"
        | "RequestThrottled"
        | "PriorRequestNotComplete" => ErrorKind::Throttled,
        "LimitExceededException" | "ServiceQuotaExceededException" => ErrorKind::LimitExceeded,
        "InternalError"
        | "InternalFailure"
        | "ServiceUnavailable"
        | "ServiceUnavailableException" => ErrorKind::Unavailable,
        "RequestTimeout" | "RequestTimeoutException" => ErrorKind::Timeout,
        _ => return None,
    })
}

impl AwsError {
    /// AWS answered without a field its API promises.
    pub fn missing_field(service: Service, operation: &'static str, field: &str) -> Self {
        AwsError {
            service,
            operation,
            kind: ErrorKind::Other,
            code: None,
            message: Some(format!("response without {field}")),
            request_id: None,
            status: None,
            bucket_region: None,
            retry_after: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_codes_win_over_status() {
        assert_eq!(
            classify(Service::S3, Some("BucketAlreadyOwnedByYou"), Some(409)),
            ErrorKind::AlreadyExists
        );
        assert_eq!(
            classify(Service::S3, Some("BucketNotEmpty"), Some(409)),
            ErrorKind::Conflict
        );
        assert_eq!(
            classify(Service::Iam, Some("EntityAlreadyExists"), Some(409)),
            ErrorKind::AlreadyExists
        );
        assert_eq!(
            classify(Service::Iam, Some("LimitExceeded"), Some(409)),
            ErrorKind::LimitExceeded
        );
        assert_eq!(
            classify(Service::Iam, Some("DeleteConflict"), Some(409)),
            ErrorKind::Conflict
        );
        assert_eq!(
            classify(
                Service::S3,
                Some("InvalidTargetBucketForLogging"),
                Some(400)
            ),
            ErrorKind::Other
        );
    }

    #[test]
    fn s3_names_another_region() {
        // HeadBucket: no body, so no code.
        assert!(bare_region_answer(Some(301), None));
        assert!(!bare_region_answer(Some(400), None));
        assert!(!bare_region_answer(Some(403), None));
        assert!(!bare_region_answer(Some(404), Some("NotFound")));
        for code in ["PermanentRedirect", "AuthorizationHeaderMalformed"] {
            assert_eq!(
                classify(Service::S3, Some(code), Some(301)),
                ErrorKind::OtherRegion
            );
        }
        assert_eq!(classify(Service::Iam, None, Some(301)), ErrorKind::Other);
    }

    #[test]
    fn shared_codes_and_statuses() {
        assert_eq!(
            classify(Service::Iam, Some("AccessDenied"), Some(403)),
            ErrorKind::AccessDenied
        );
        assert_eq!(
            classify(Service::S3, Some("SlowDown"), Some(503)),
            ErrorKind::Throttled
        );
        assert_eq!(
            classify(Service::Iam, Some("Throttling"), Some(400)),
            ErrorKind::Throttled
        );
        assert_eq!(classify(Service::S3, None, Some(404)), ErrorKind::NotFound);
        assert_eq!(
            classify(Service::S3, None, Some(403)),
            ErrorKind::AccessDenied
        );
        assert_eq!(
            classify(Service::S3, Some("Weird"), Some(502)),
            ErrorKind::Unavailable
        );
        assert_eq!(
            classify(Service::S3, Some("Weird"), Some(418)),
            ErrorKind::Other
        );
    }
}
