//! The kinds of failure of an AWS call, as the service acts on them: the AWS layer classifies each service's
//! errors into these once, and the layers above decide by them (retry, roll back, answer 404 or 409 …).

/// What a failed AWS call means for the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureKind {
    AlreadyExists,
    NotFound,
    /// The resource is in a state that forbids the call (not empty, still attached).
    Conflict,
    AccessDenied,
    Throttled,
    /// An AWS quota, such as two access keys per user.
    LimitExceeded,
    Invalid,
    /// The call exceeded its deadline: it may or may not have taken effect.
    Timeout,
    /// The bucket exists, in another region than the client's: S3 answers 301 with the bucket's region.
    OtherRegion,
    /// AWS could not be reached, or answered 5xx after retries.
    Unavailable,
    Other,
}
