//! The AWS layer: one set of SDK clients per configured account, built once at start-up, and the mapping of
//! SDK errors (`error`).

pub mod acm;
pub mod cloudfront;
pub mod error;
pub mod iam;
mod observe;
pub mod pace;
mod retry;
pub mod route53;
pub mod s3;

use std::sync::Arc;
use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region};
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_credential_types::Credentials;
use aws_smithy_runtime_api::client::interceptors::SharedInterceptor;
use secrecy::ExposeSecret;
use tokio::sync::OnceCell;

pub use error::{AwsError, ErrorKind, Service};

use crate::config::AccountConfig;
use crate::telemetry::Metrics;

/// How long AWS calls may take.
#[derive(Debug, Clone, Copy)]
pub struct Timing {
    /// One attempt, from when it is sent (`awsTimeout`).
    pub aws: Duration,
    /// A request (`requestTimeout`): the deadline of calls made outside any request.
    pub request: Duration,
}

/// Extra SDK interceptors put on every client (the test suite injects faults this way).
#[derive(Clone, Default)]
pub struct AwsHooks {
    pub interceptors: Vec<SharedInterceptor>,
}

/// The SDK clients of one account and what the service needs to know about it.
pub struct AwsAccount {
    pub name: String,
    pub config: AccountConfig,
    pub s3: aws_sdk_s3::Client,
    pub iam: aws_sdk_iam::Client,
    pub cloudfront: aws_sdk_cloudfront::Client,
    pub route53: aws_sdk_route53::Client,
    /// In us-east-1 whatever the account's region: CloudFront only uses certificates from there.
    pub acm: aws_sdk_acm::Client,
    sts: aws_sdk_sts::Client,
    account_id: OnceCell<String>,
}

impl AwsAccount {
    /// Builds the clients: region, optional endpoint (S3 path-style), static credentials or the default chain,
    /// optionally a role assumed for every call (the SDK caches and refreshes its credentials), standard retries
    /// (S3 and IAM also retry the answers that mean "a concurrent change got in the way", see `retry`), and the
    /// account's pace for each service (`pace`): every attempt waits for its turn, then has `timing.aws` to be
    /// answered; throttled calls are retried until the request's deadline, or `timing.request` after they
    /// started outside any request.
    pub async fn connect(
        name: &str,
        config: &AccountConfig,
        timing: Timing,
        metrics: Arc<Metrics>,
        hooks: &AwsHooks,
    ) -> AwsAccount {
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .region(Region::new(config.region.clone()))
            .retry_config(RetryConfig::standard())
            // The SDK's upload stall check starts its clock before the paced HTTP client waits for the attempt's
            // turn, so a wait of more than its grace period (5 s) would look like a stalled upload. Request
            // bodies here are small and sent at once; the attempt timeout bounds them. Downloads stay checked.
            .stalled_stream_protection(
                aws_config::stalled_stream_protection::StalledStreamProtectionConfig::enabled()
                    .upload_enabled(false)
                    .build(),
            )
            .timeout_config(
                TimeoutConfig::builder()
                    .connect_timeout(timing.aws.min(Duration::from_secs(5)))
                    // The attempt timeout is the paced HTTP client's, which starts once the turn has come; this
                    // one only stops a call that, somehow, none of the other bounds stopped.
                    .operation_timeout(timing.request + timing.aws)
                    .build(),
            );
        if let Some(endpoint) = &config.endpoint {
            loader = loader.endpoint_url(endpoint);
        }
        if let (Some(akid), Some(secret)) = (&config.akid, &config.secret) {
            loader = loader.credentials_provider(Credentials::new(
                akid,
                secret.expose_secret(),
                None,
                None,
                "s3-api-config",
            ));
        }
        let mut shared = loader.load().await;
        if let Some(role) = &config.role_arn {
            let mut provider =
                aws_config::sts::AssumeRoleProvider::builder(role).session_name("s3-api");
            if let Some(id) = &config.external_id {
                provider = provider.external_id(id);
            }
            let provider = provider.configure(&shared).build().await;
            shared = shared
                .into_builder()
                .credentials_provider(SharedCredentialsProvider::new(provider))
                .build();
        }

        // One connection pool for the account; each service's client paces its own lane of it.
        let http = aws_smithy_http_client::Builder::new()
            .tls_provider(aws_smithy_http_client::tls::Provider::Rustls(
                aws_smithy_http_client::tls::rustls_provider::CryptoMode::AwsLc,
            ))
            .build_https();
        let limits = &config.rate_limits;
        let paced = |service: &'static str, rate: Option<f64>| {
            let pace = pace::Pace {
                account: name.to_owned(),
                service,
                lane: rate.map(|r| Arc::new(pace::Lane::new(r))),
                attempt_timeout: timing.aws,
                default_budget: timing.request,
                metrics: metrics.clone(),
            };
            let mut interceptors = vec![
                SharedInterceptor::new(observe::ObserveCalls::new(name, metrics.clone())),
                SharedInterceptor::new(pace::PaceRetries { pace: pace.clone() }),
            ];
            interceptors.extend(hooks.interceptors.iter().cloned());
            let http = pace::PacedHttpClient {
                inner: http.clone(),
                pace,
            };
            (http, interceptors)
        };

        let (s3_http, s3_hooks) = paced("s3", None);
        let (iam_http, iam_hooks) = paced("iam", Some(limits.iam));
        let (cloudfront_http, cloudfront_hooks) = paced("cloudfront", Some(limits.cloudfront));
        let (route53_http, route53_hooks) = paced("route53", Some(limits.route53));
        let (acm_http, acm_hooks) = paced("acm", Some(limits.acm));
        let (sts_http, sts_hooks) = paced("sts", None);
        AwsAccount {
            name: name.to_owned(),
            config: config.clone(),
            s3: client(
                // Emulators and S3-compatible stores behind one endpoint need path-style addressing.
                aws_sdk_s3::config::Builder::from(&shared)
                    .http_client(s3_http)
                    .force_path_style(config.endpoint.is_some())
                    .retry_classifier(retry::TransientCodes::S3),
                &s3_hooks,
                aws_sdk_s3::Client::from_conf,
            ),
            iam: client(
                aws_sdk_iam::config::Builder::from(&shared)
                    .http_client(iam_http)
                    .retry_classifier(retry::TransientCodes::IAM),
                &iam_hooks,
                aws_sdk_iam::Client::from_conf,
            ),
            cloudfront: client(
                aws_sdk_cloudfront::config::Builder::from(&shared).http_client(cloudfront_http),
                &cloudfront_hooks,
                aws_sdk_cloudfront::Client::from_conf,
            ),
            route53: client(
                aws_sdk_route53::config::Builder::from(&shared).http_client(route53_http),
                &route53_hooks,
                aws_sdk_route53::Client::from_conf,
            ),
            acm: client(
                aws_sdk_acm::config::Builder::from(&shared)
                    .http_client(acm_http)
                    .region(Region::from_static("us-east-1")),
                &acm_hooks,
                aws_sdk_acm::Client::from_conf,
            ),
            sts: client(
                aws_sdk_sts::config::Builder::from(&shared).http_client(sts_http),
                &sts_hooks,
                aws_sdk_sts::Client::from_conf,
            ),
            account_id: OnceCell::new(),
        }
    }

    /// The 12-digit AWS account id: from the configured role when there is one, else asked of STS once.
    pub async fn account_id(&self) -> Result<&str, AwsError> {
        self.account_id
            .get_or_try_init(|| async {
                if let Some(id) = self.config.configured_account_id() {
                    return Ok(id.to_owned());
                }
                let me = self
                    .sts
                    .get_caller_identity()
                    .send()
                    .await
                    .map_err(|e| AwsError::from_sdk(Service::Sts, "GetCallerIdentity", e))?;
                Ok(me.account.unwrap_or_default())
            })
            .await
            .map(String::as_str)
    }

    /// The account id if it is already known, without asking AWS.
    pub fn known_account_id(&self) -> Option<&str> {
        self.account_id
            .get()
            .map(String::as_str)
            .or(self.config.configured_account_id())
    }

    /// The partition of the account's region (`aws`, `aws-cn`, `aws-us-gov`).
    pub fn partition(&self) -> &'static str {
        let region = self.config.region.as_str();
        if region.starts_with("cn-") {
            "aws-cn"
        } else if region.starts_with("us-gov-") {
            "aws-us-gov"
        } else {
            "aws"
        }
    }

    /// The ARN of the customer-managed policy `name` under IAM path `path` (`/`, `/a/b/`) of this account.
    pub async fn policy_arn(&self, path: &str, name: &str) -> Result<String, AwsError> {
        Ok(format!(
            "arn:{}:iam::{}:policy{path}{name}",
            self.partition(),
            self.account_id().await?
        ))
    }

    /// The S3 host a client such as Cyberduck should connect to, and its port.
    pub fn s3_host(&self) -> (String, u16) {
        let custom = self
            .config
            .endpoint
            .as_deref()
            .and_then(|e| url::Url::parse(e).ok());
        match custom {
            Some(url) => (
                url.host_str().unwrap_or_default().to_owned(),
                url.port_or_known_default().unwrap_or(443),
            ),
            None => ("s3.amazonaws.com".to_owned(), 443),
        }
    }
}

/// Any service's client from its config builder, with the interceptors on it.
fn client<B, C, Conf>(
    mut b: B,
    interceptors: &[SharedInterceptor],
    build: impl FnOnce(Conf) -> C,
) -> C
where
    B: InterceptorHost<Conf>,
{
    for i in interceptors {
        b.push(i.clone());
    }
    build(b.finish())
}

/// The service config builders differ in type but not in shape; this is what `client` needs of them.
trait InterceptorHost<Conf> {
    fn push(&mut self, interceptor: SharedInterceptor);
    fn finish(self) -> Conf;
}

macro_rules! interceptor_host {
    ($($krate:ident),*) => {$(
        impl InterceptorHost<$krate::Config> for $krate::config::Builder {
            fn push(&mut self, interceptor: SharedInterceptor) {
                self.push_interceptor(interceptor);
            }
            fn finish(self) -> $krate::Config {
                self.build()
            }
        }
    )*};
}

interceptor_host!(
    aws_sdk_iam,
    aws_sdk_sts,
    aws_sdk_cloudfront,
    aws_sdk_route53,
    aws_sdk_acm,
    aws_sdk_s3
);

/// Calls `f` again while it fails with "not found": right after a create, IAM and S3 may not show the new
/// resource to every endpoint yet. Bounded, with a short backoff; any other outcome is returned at once.
pub async fn retry_not_visible<T, F, Fut>(mut f: F) -> Result<T, AwsError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, AwsError>>,
{
    let mut delay = Duration::from_millis(100);
    for _ in 0..4 {
        match f().await {
            Err(e) if e.is_not_found() => {
                tokio::time::sleep(delay).await;
                delay *= 2;
            }
            other => return other,
        }
    }
    f().await
}
