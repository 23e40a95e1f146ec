//! Answers that AWS gives when calls on one resource overlap, retried by the SDK's own retry loop (standard
//! mode: backoff, bounded attempts, all within the call's operation timeout).
//!
//! S3 answers 409 `OperationAborted` ("a conflicting conditional operation is currently in progress") when
//! configuration calls on one bucket overlap, which bucket create does on purpose; IAM answers
//! `ConcurrentModification` when changes to one entity overlap. Neither call was carried out, so making it again
//! is safe, and it succeeds once the other change is through. The SDK does not count either as retryable.

use aws_smithy_runtime_api::client::interceptors::context::InterceptorContext;
use aws_smithy_runtime_api::client::retries::classifiers::{
    ClassifyRetry, RetryAction, RetryClassifierPriority,
};

/// A retry classifier for one service's transient error codes.
///
/// It is set on the client, for every operation; an operation's error type is not known there, so the code is
/// read from the error body, which the SDK has read into memory by the time it classifies (both services
/// answer errors as XML with one `<Code>`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct TransientCodes {
    codes: &'static [&'static str],
}

impl TransientCodes {
    pub(crate) const S3: TransientCodes = TransientCodes {
        codes: &["OperationAborted"],
    };
    pub(crate) const IAM: TransientCodes = TransientCodes {
        codes: &["ConcurrentModification"],
    };
}

impl ClassifyRetry for TransientCodes {
    fn classify_retry(&self, ctx: &InterceptorContext) -> RetryAction {
        let is_service_error =
            matches!(ctx.output_or_error(), Some(Err(e)) if e.is_operation_error());
        if !is_service_error {
            return RetryAction::NoActionIndicated;
        }
        let code = ctx
            .response()
            .and_then(|r| r.body().bytes())
            .and_then(xml_error_code);
        match code {
            Some(code) if self.codes.contains(&code) => RetryAction::transient_error(),
            _ => RetryAction::NoActionIndicated,
        }
    }

    fn name(&self) -> &'static str {
        "transient AWS error codes"
    }

    fn priority(&self) -> RetryClassifierPriority {
        RetryClassifierPriority::run_after(RetryClassifierPriority::transient_error_classifier())
    }
}

/// The `<Code>` of an AWS XML error body (S3's bare `<Error>`, or the `<ErrorResponse><Error>` of IAM).
fn xml_error_code(body: &[u8]) -> Option<&str> {
    let text = std::str::from_utf8(body).ok()?;
    let start = text.find("<Code>")? + "<Code>".len();
    let len = text[start..].find("</Code>")?;
    Some(text[start..start + len].trim())
}

#[cfg(test)]
mod tests {
    use aws_smithy_runtime_api::client::interceptors::context::{Error, Input, InterceptorContext};
    use aws_smithy_runtime_api::client::orchestrator::{HttpResponse, OrchestratorError};
    use aws_smithy_runtime_api::client::retries::classifiers::{ClassifyRetry, RetryAction};
    use aws_smithy_runtime_api::http::StatusCode;
    use aws_smithy_types::body::SdkBody;

    use super::{xml_error_code, TransientCodes};

    /// An attempt that ended in a service error with `body`.
    fn failed_with(status: u16, body: &'static str) -> InterceptorContext {
        let mut ctx = InterceptorContext::new(Input::doesnt_matter());
        ctx.set_response(HttpResponse::new(
            StatusCode::try_from(status).unwrap(),
            SdkBody::from(body),
        ));
        ctx.set_output_or_error(Err(OrchestratorError::operation(Error::doesnt_matter())));
        ctx
    }

    #[test]
    fn only_the_services_own_transient_codes_are_retried() {
        let aborted = "<Error><Code>OperationAborted</Code><Message>m</Message></Error>";
        let concurrent =
            "<ErrorResponse><Error><Type>Sender</Type><Code>ConcurrentModification</Code>\
            </Error></ErrorResponse>";
        let not_empty = "<Error><Code>BucketNotEmpty</Code></Error>";
        assert_eq!(
            TransientCodes::S3.classify_retry(&failed_with(409, aborted)),
            RetryAction::transient_error()
        );
        assert_eq!(
            TransientCodes::IAM.classify_retry(&failed_with(409, concurrent)),
            RetryAction::transient_error()
        );
        for (classifier, body) in [
            (TransientCodes::S3, not_empty),
            (TransientCodes::S3, concurrent),
            (TransientCodes::IAM, aborted),
            (TransientCodes::S3, ""),
        ] {
            assert_eq!(
                classifier.classify_retry(&failed_with(409, body)),
                RetryAction::NoActionIndicated,
                "{body}"
            );
        }
        // An answer the SDK could not even parse as a service error is not ours to judge.
        let mut ctx = failed_with(409, aborted);
        ctx.set_output_or_error(Err(OrchestratorError::other("connection reset")));
        assert_eq!(
            TransientCodes::S3.classify_retry(&ctx),
            RetryAction::NoActionIndicated
        );
    }

    #[test]
    fn codes_of_s3_and_iam_error_bodies() {
        let s3 = b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>OperationAborted</Code>\
            <Message>A conflicting conditional operation is currently in progress against this resource.\
            </Message><RequestId>R</RequestId></Error>";
        assert_eq!(xml_error_code(s3), Some("OperationAborted"));
        let iam = b"<ErrorResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\"><Error>\
            <Type>Sender</Type><Code>ConcurrentModification</Code><Message>m</Message></Error>\
            <RequestId>R</RequestId></ErrorResponse>";
        assert_eq!(xml_error_code(iam), Some("ConcurrentModification"));
        assert_eq!(xml_error_code(b""), None);
        assert_eq!(xml_error_code(b"<Error><Code>Open"), None);
        assert_eq!(xml_error_code(&[0xff, 0xfe]), None);
    }
}
