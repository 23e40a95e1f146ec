//! The configuration file: loading (file + `S3API__…` environment overrides) and complete validation.
//!
//! Everything is checked once at start-up; a bad configuration stops the process with a message naming the key.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use secrecy::SecretString;
use serde::Deserialize;

use crate::domain::names::BucketName;
use crate::domain::policy::{
    DEFAULT_CLOUDFRONT_DISTRIBUTION_ACTIONS, DEFAULT_S3_BUCKET_ACTIONS, DEFAULT_S3_OBJECT_ACTIONS,
};

/// Prefix of environment variables that override configuration keys (`S3API__TOKEN`, `S3API__ACCOUNTS__PROD__SECRET`).
pub const ENV_PREFIX: &str = "S3API";
const ENV_SEPARATOR: &str = "__";

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read configuration: {0}")]
    Load(#[from] config::ConfigError),
    #[error("configuration file {0}: unsupported extension (use .toml, .json, .yaml or .yml)")]
    Format(String),
    #[error("configuration key `{key}`: {problem}")]
    Invalid { key: String, problem: String },
}

fn invalid(key: impl Into<String>, problem: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        key: key.into(),
        problem: problem.into(),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    #[default]
    Json,
    Text,
}

/// The whole configuration file.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Config {
    #[serde(default = "default_listen_address")]
    pub listen_address: SocketAddr,
    /// The single legacy token: admin on every account, plain or as a bcrypt hash of it. Optional when `tokens`
    /// holds an admin token.
    #[serde(default)]
    pub token: Option<SecretString>,
    /// Named, scoped tokens, stored as the SHA-256 of their secrets.
    #[serde(default)]
    pub tokens: Vec<TokenConfig>,
    #[serde(default = "default_log_level")]
    pub log_level: String,
    #[serde(default)]
    pub log_format: LogFormat,
    pub org: String,
    #[serde(default = "default_org_tag_key")]
    pub org_tag_key: String,
    #[serde(default)]
    pub metrics_require_token: bool,
    /// Deadline of one AWS call, retries included.
    #[serde(default = "default_aws_timeout", with = "humantime_serde")]
    pub aws_timeout: Duration,
    /// Longest time one HTTP request may take before the caller gets 503 (a create goes on in the background
    /// and still rolls back on failure).
    #[serde(default = "default_request_timeout", with = "humantime_serde")]
    pub request_timeout: Duration,
    /// Requests served at once; more are refused at once with 503 instead of queueing.
    #[serde(default = "default_max_concurrent_requests")]
    pub max_concurrent_requests: usize,
    /// How long a stopping service waits for in-flight requests and background workflows (rollbacks included).
    #[serde(default = "default_shutdown_grace_period", with = "humantime_serde")]
    pub shutdown_grace_period: Duration,
    #[serde(default)]
    pub accounts: BTreeMap<String, AccountConfig>,
}

/// What a token may do (API.md §1.1); each scope includes the ones before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    /// `GET` and `HEAD` routes.
    Read,
    /// Read, and creates, updates, invalidations, user creation and key resets.
    Write,
    /// Write, and every `DELETE`.
    Admin,
}

impl Scope {
    pub const ALL: [Scope; 3] = [Scope::Read, Scope::Write, Scope::Admin];

    /// The scope named `name` as the configuration spells it.
    pub fn parse(name: &str) -> Option<Scope> {
        Scope::ALL.into_iter().find(|s| s.as_str() == name)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Read => "read",
            Scope::Write => "write",
            Scope::Admin => "admin",
        }
    }
}

/// A named token (`[[tokens]]`).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TokenConfig {
    /// Unique; names the caller in audit events, logs and metrics.
    pub name: String,
    /// The hex SHA-256 of the secret (`s3-api token new` prints both).
    pub sha256: String,
    /// Account names, or `"*"` for every account.
    pub accounts: Vec<String>,
    pub scope: Scope,
    /// RFC 3339; the token is refused from then on.
    #[serde(default, deserialize_with = "rfc3339")]
    pub expires: Option<std::time::SystemTime>,
}

/// A token's name is a metric label and appears in every audit event: short and plain. `legacy` names the
/// single `token`.
pub fn valid_token_name(name: &str) -> bool {
    let plain = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.');
    !name.is_empty() && name.len() <= 64 && name.chars().all(plain) && name != "legacy"
}

fn rfc3339<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<std::time::SystemTime>, D::Error> {
    let text: Option<String> = Option::deserialize(d)?;
    text.map(|t| {
        humantime::parse_rfc3339_weak(&t).map_err(|e| {
            serde::de::Error::custom(format!("expires: not an RFC 3339 time ({e}): {t}"))
        })
    })
    .transpose()
}

/// One AWS account the service manages, addressed as `{account}` in the routes.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AccountConfig {
    pub region: String,
    pub endpoint: Option<String>,
    pub akid: Option<String>,
    pub secret: Option<SecretString>,
    pub role_arn: Option<String>,
    pub external_id: Option<String>,
    #[serde(default = "default_bucket_actions")]
    pub default_s3_bucket_actions: Vec<String>,
    #[serde(default = "default_object_actions")]
    pub default_s3_object_actions: Vec<String>,
    #[serde(default = "default_cloudfront_actions")]
    pub default_cloudfront_distribution_actions: Vec<String>,
    #[serde(default = "default_price_class")]
    pub price_class: String,
    #[serde(default = "default_minimum_protocol_version")]
    pub minimum_protocol_version: String,
    #[serde(default)]
    pub geo_restriction: Vec<String>,
    #[serde(default)]
    pub domains: BTreeMap<String, DomainConfig>,
    pub access_log: Option<AccessLogConfig>,
    pub cleaner: Option<CleanerConfig>,
    /// How fast the service calls each AWS service of this account.
    #[serde(default)]
    pub rate_limits: RateLimits,
}

/// Calls per second the service makes to one account's control planes (every attempt, pages and retries
/// included); a burst of requests queues for its turns. They are the account's whole limit, which other tools
/// calling the account share: a throttled answer slows the pace down for a while (`aws::pace`).
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RateLimits {
    /// IAM publishes no rate; it throttles some mutations at a few per second per account, and adapting to its
    /// answers takes care of those.
    #[serde(default = "default_iam_rate")]
    pub iam: f64,
    /// Route 53 allows five requests per second per account.
    #[serde(default = "default_route53_rate")]
    pub route53: f64,
    #[serde(default = "default_cloudfront_rate")]
    pub cloudfront: f64,
    #[serde(default = "default_acm_rate")]
    pub acm: f64,
}

impl Default for RateLimits {
    fn default() -> Self {
        RateLimits {
            iam: default_iam_rate(),
            route53: default_route53_rate(),
            cloudfront: default_cloudfront_rate(),
            acm: default_acm_rate(),
        }
    }
}

fn default_iam_rate() -> f64 {
    20.0
}
fn default_route53_rate() -> f64 {
    5.0
}
fn default_cloudfront_rate() -> f64 {
    5.0
}
fn default_acm_rate() -> f64 {
    5.0
}

/// A parent domain under which websites may be created.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DomainConfig {
    pub cert_arn: Option<String>,
    /// Found by name (the one public hosted zone of the domain) at start-up when left out.
    #[serde(rename = "hostedZoneID")]
    pub hosted_zone_id: Option<String>,
}

/// Where S3 server access logs of created buckets go.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AccessLogConfig {
    pub bucket: String,
    #[serde(default)]
    pub prefix: String,
}

/// The cleaner: deletes distributions left behind by website deletes, and undoes creates that a killed process
/// left unfinished.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CleanerConfig {
    /// How often the server runs it; without it the server runs none (a CronJob runs `s3-api clean`).
    #[serde(default, with = "humantime_serde")]
    pub interval: Option<Duration>,
    #[serde(default, with = "humantime_serde")]
    pub max_splay: Duration,
    /// Creates left unfinished longer ago than this are undone; younger ones may still be running in another
    /// replica. It must exceed the longest a create can take.
    #[serde(default = "default_reclaim_after", with = "humantime_serde")]
    pub reclaim_after: Duration,
}

impl CleanerConfig {
    /// The reclaim age of an account's cleaner section, or the default when it has none.
    pub fn reclaim_after_of(cleaner: Option<&CleanerConfig>) -> Duration {
        cleaner.map_or_else(default_reclaim_after, |c| c.reclaim_after)
    }
}

fn default_reclaim_after() -> Duration {
    Duration::from_secs(15 * 60)
}

fn default_listen_address() -> SocketAddr {
    SocketAddr::from(([0, 0, 0, 0], 8080))
}
fn default_log_level() -> String {
    "info".into()
}
fn default_org_tag_key() -> String {
    "spinup:org".into()
}
fn default_aws_timeout() -> Duration {
    Duration::from_secs(30)
}
fn default_request_timeout() -> Duration {
    Duration::from_secs(120)
}
fn default_max_concurrent_requests() -> usize {
    1024
}
fn default_shutdown_grace_period() -> Duration {
    Duration::from_secs(90)
}
fn strings(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}
fn default_bucket_actions() -> Vec<String> {
    strings(DEFAULT_S3_BUCKET_ACTIONS)
}
fn default_object_actions() -> Vec<String> {
    strings(DEFAULT_S3_OBJECT_ACTIONS)
}
fn default_cloudfront_actions() -> Vec<String> {
    strings(DEFAULT_CLOUDFRONT_DISTRIBUTION_ACTIONS)
}
fn default_price_class() -> String {
    "PriceClass_100".into()
}
fn default_minimum_protocol_version() -> String {
    "TLSv1.2_2021".into()
}

/// Every camelCase key of the file, so that environment overrides (whose names the shell upper-cases) can be
/// mapped back to the key they mean.
const KNOWN_KEYS: &[&str] = &[
    "listenAddress",
    "token",
    "logLevel",
    "logFormat",
    "org",
    "orgTagKey",
    "metricsRequireToken",
    "awsTimeout",
    "requestTimeout",
    "maxConcurrentRequests",
    "shutdownGracePeriod",
    "accounts",
    "region",
    "endpoint",
    "akid",
    "secret",
    "roleArn",
    "externalId",
    "defaultS3BucketActions",
    "defaultS3ObjectActions",
    "defaultCloudfrontDistributionActions",
    "priceClass",
    "minimumProtocolVersion",
    "geoRestriction",
    "domains",
    "certArn",
    "hostedZoneID",
    "accessLog",
    "bucket",
    "prefix",
    "cleaner",
    "interval",
    "maxSplay",
    "reclaimAfter",
    "rateLimits",
    "iam",
    "route53",
    "cloudfront",
    "acm",
];

impl Config {
    /// Loads `path` (format by extension), applies `S3API__…` overrides from `env`, and validates the result.
    pub fn load(
        path: &Path,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Config, ConfigError> {
        let format = match path.extension().and_then(|e| e.to_str()) {
            Some("toml") => config::FileFormat::Toml,
            Some("json") => config::FileFormat::Json,
            Some("yaml") | Some("yml") => config::FileFormat::Yaml,
            _ => return Err(ConfigError::Format(path.display().to_string())),
        };
        let file = config::File::from(path).format(format).required(true);
        let from_file = config::Config::builder().add_source(file.clone()).build()?;
        let accounts: Vec<String> = from_file
            .get_table("accounts")
            .map(|t| t.into_keys().collect())
            .unwrap_or_default();

        let mut builder = config::Config::builder().add_source(file);
        for (name, value) in env {
            if let Some(key) = env_key(&name, &accounts) {
                builder = builder.set_override(key, value)?;
            }
        }
        let config: Config = builder.build()?.try_deserialize()?;
        config.validate()?;
        Ok(config)
    }

    /// Checks every rule that the types alone do not express.
    pub fn validate(&self) -> Result<(), ConfigError> {
        use secrecy::ExposeSecret;
        if matches!(&self.token, Some(t) if t.expose_secret().trim().is_empty()) {
            return Err(invalid("token", "must not be empty"));
        }
        self.validate_tokens()?;
        if self.org.trim().is_empty() {
            return Err(invalid("org", "must not be empty"));
        }
        if self.org_tag_key.is_empty() || self.org_tag_key.len() > 128 {
            return Err(invalid("orgTagKey", "must be 1 to 128 characters"));
        }
        if self.org_tag_key.starts_with("aws:") {
            return Err(invalid("orgTagKey", "must not start with `aws:`"));
        }
        if self.org.len() > 256 {
            return Err(invalid("org", "must be at most 256 characters"));
        }
        tracing_subscriber::EnvFilter::try_new(&self.log_level)
            .map_err(|e| invalid("logLevel", format!("not a level or filter directive: {e}")))?;
        if self.aws_timeout.is_zero() {
            return Err(invalid("awsTimeout", "must be greater than zero"));
        }
        if self.request_timeout.is_zero() {
            return Err(invalid("requestTimeout", "must be greater than zero"));
        }
        // A rollback runs within the grace period (so a stopping service can wait for it); it must leave room
        // for at least one AWS call of each of its three tiers.
        if self.shutdown_grace_period < self.aws_timeout * 3 {
            return Err(invalid(
                "shutdownGracePeriod",
                format!(
                    "must be at least three times awsTimeout ({:?}): a rollback, which it bounds, undoes in three \
                     sequential rounds of AWS calls",
                    self.aws_timeout
                ),
            ));
        }
        if self.max_concurrent_requests == 0 {
            return Err(invalid("maxConcurrentRequests", "must be at least 1"));
        }
        if self.accounts.is_empty() {
            return Err(invalid("accounts", "at least one account is required"));
        }
        for (name, account) in &self.accounts {
            account.validate(&format!("accounts.{name}"))?;
        }
        Ok(())
    }
}

impl Config {
    fn validate_tokens(&self) -> Result<(), ConfigError> {
        let mut names = std::collections::BTreeSet::new();
        let mut hashes = std::collections::BTreeSet::new();
        for (i, t) in self.tokens.iter().enumerate() {
            let at = |k: &str| format!("tokens[{i}].{k}");
            if !valid_token_name(&t.name) {
                return Err(invalid(
                    at("name"),
                    "must be 1 to 64 letters, digits, `-`, `_` or `.`, and not `legacy` (the single `token`)",
                ));
            }
            if !names.insert(t.name.as_str()) {
                return Err(invalid(at("name"), format!("{} is listed twice", t.name)));
            }
            if t.sha256.len() != 64 || !t.sha256.chars().all(|c| c.is_ascii_hexdigit()) {
                return Err(invalid(
                    at("sha256"),
                    "must be the 64 hex digits of a SHA-256 digest",
                ));
            }
            if !hashes.insert(t.sha256.to_ascii_lowercase()) {
                return Err(invalid(
                    at("sha256"),
                    format!("{} has the digest of another token", t.name),
                ));
            }
            if t.accounts.is_empty() {
                return Err(invalid(at("accounts"), "must name an account, or \"*\""));
            }
            for a in &t.accounts {
                if a != "*" && !self.accounts.contains_key(a) {
                    return Err(invalid(
                        at("accounts"),
                        format!("{a} is not a configured account"),
                    ));
                }
            }
        }
        let admin = self.tokens.iter().any(|t| t.scope == Scope::Admin);
        if self.token.is_none() && !admin {
            return Err(invalid(
                "token",
                "required unless [[tokens]] lists an admin token: there must be a way in",
            ));
        }
        Ok(())
    }
}

impl AccountConfig {
    fn validate(&self, at: &str) -> Result<(), ConfigError> {
        let key = |k: &str| format!("{at}.{k}");
        if self.region.trim().is_empty() {
            return Err(invalid(key("region"), "must not be empty"));
        }
        if let Some(endpoint) = &self.endpoint {
            let url = url::Url::parse(endpoint)
                .map_err(|e| invalid(key("endpoint"), format!("not a URL: {e}")))?;
            if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
                return Err(invalid(
                    key("endpoint"),
                    "must be an http(s) URL with a host",
                ));
            }
        }
        match (&self.akid, &self.secret) {
            (Some(akid), Some(_)) if akid.trim().is_empty() => {
                return Err(invalid(key("akid"), "must not be empty"))
            }
            (Some(_), None) => return Err(invalid(key("secret"), "required when akid is set")),
            (None, Some(_)) => return Err(invalid(key("akid"), "required when secret is set")),
            _ => {}
        }
        if let Some(arn) = &self.role_arn {
            if role_account_id(arn).is_none() {
                return Err(invalid(
                    key("roleArn"),
                    "must be an IAM role ARN (arn:aws:iam::123456789012:role/Name)",
                ));
            }
        } else if self.external_id.is_some() {
            return Err(invalid(key("externalId"), "only meaningful with roleArn"));
        }
        for (k, list) in [
            ("defaultS3BucketActions", &self.default_s3_bucket_actions),
            ("defaultS3ObjectActions", &self.default_s3_object_actions),
            (
                "defaultCloudfrontDistributionActions",
                &self.default_cloudfront_distribution_actions,
            ),
        ] {
            if list.is_empty() || list.iter().any(|a| !is_action(a)) {
                return Err(invalid(
                    key(k),
                    "must be a non-empty list of actions such as `s3:GetObject`",
                ));
            }
        }
        let r = &self.rate_limits;
        for (k, rate) in [
            ("iam", r.iam),
            ("route53", r.route53),
            ("cloudfront", r.cloudfront),
            ("acm", r.acm),
        ] {
            // Below one call in 100 seconds nothing would get done within a request.
            if !rate.is_finite() || rate < 0.01 {
                return Err(invalid(
                    key(&format!("rateLimits.{k}")),
                    "must be a number of calls per second of at least 0.01",
                ));
            }
        }
        for (domain, d) in &self.domains {
            let dk = format!("{at}.domains.\"{domain}\"");
            if domain.trim().is_empty() {
                return Err(invalid(
                    format!("{at}.domains"),
                    "domain names must not be empty",
                ));
            }
            if matches!(&d.hosted_zone_id, Some(z) if z.trim().is_empty()) {
                return Err(invalid(format!("{dk}.hostedZoneID"), "must not be empty"));
            }
            if matches!(&d.cert_arn, Some(a) if !a.starts_with("arn:")) {
                return Err(invalid(
                    format!("{dk}.certArn"),
                    "must be an ACM certificate ARN",
                ));
            }
        }
        if let Some(log) = &self.access_log {
            BucketName::parse(&log.bucket)
                .map_err(|e| invalid(key("accessLog.bucket"), e.to_string()))?;
        }
        if let Some(cleaner) = &self.cleaner {
            if cleaner.interval.is_some_and(|i| i.is_zero()) {
                return Err(invalid(
                    key("cleaner.interval"),
                    "must be greater than zero",
                ));
            }
            if cleaner.reclaim_after.is_zero() {
                return Err(invalid(
                    key("cleaner.reclaimAfter"),
                    "must be greater than zero",
                ));
            }
        }
        Ok(())
    }

    /// The account id, when the configuration says it (through the role to assume).
    pub fn configured_account_id(&self) -> Option<&str> {
        self.role_arn.as_deref().and_then(role_account_id)
    }
}

fn is_action(a: &str) -> bool {
    match a.split_once(':') {
        Some((service, action)) => {
            !service.is_empty()
                && service
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && !action.is_empty()
                && action
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'*' || b == b'?')
        }
        None => false,
    }
}

/// `arn:<partition>:iam::<12 digits>:role/<name>` → the account id.
pub fn role_account_id(arn: &str) -> Option<&str> {
    let mut parts = arn.splitn(6, ':');
    let (arn_, partition, service, region, account, resource) = (
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
    );
    let ok = arn_ == "arn"
        && partition.starts_with("aws")
        && service == "iam"
        && region.is_empty()
        && account.len() == 12
        && account.bytes().all(|b| b.is_ascii_digit())
        && resource
            .strip_prefix("role/")
            .is_some_and(|n| !n.is_empty());
    ok.then_some(account)
}

/// Maps `S3API__ACCOUNTS__PROD__ROLEARN` to `accounts.prod.roleArn`. Environment variable names lose their case,
/// so each part is matched case-insensitively against the file's keys and account names.
fn env_key(name: &str, accounts: &[String]) -> Option<String> {
    let rest = name.strip_prefix(ENV_PREFIX)?.strip_prefix(ENV_SEPARATOR)?;
    let mut parts = Vec::new();
    let mut previous: Option<&str> = None;
    for part in rest.split(ENV_SEPARATOR) {
        if part.is_empty() {
            return None;
        }
        let mapped = if previous == Some("accounts") {
            accounts
                .iter()
                .find(|a| a.eq_ignore_ascii_case(part))
                .cloned()
                .unwrap_or_else(|| part.to_ascii_lowercase())
        } else {
            KNOWN_KEYS
                .iter()
                .find(|k| k.eq_ignore_ascii_case(part))
                .map(|k| k.to_string())
                .unwrap_or_else(|| part.to_string())
        };
        parts.push(mapped);
        previous = parts.last().map(String::as_str);
    }
    Some(parts.join("."))
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;
    use std::io::Write;

    fn write(ext: &str, text: &str) -> tempfile_path::TempPath {
        tempfile_path::TempPath::new(ext, text)
    }

    /// Minimal temporary-file helper (std only).
    mod tempfile_path {
        use std::path::PathBuf;
        pub struct TempPath(pub PathBuf);
        impl TempPath {
            pub fn new(ext: &str, text: &str) -> Self {
                let path = std::env::temp_dir()
                    .join(format!("s3-api-config-{}.{ext}", uuid::Uuid::new_v4()));
                let mut f = std::fs::File::create(&path).unwrap();
                super::Write::write_all(&mut f, text.as_bytes()).unwrap();
                TempPath(path)
            }
        }
        impl Drop for TempPath {
            fn drop(&mut self) {
                let _ = std::fs::remove_file(&self.0);
            }
        }
    }

    const GOOD: &str = r#"
token = "s3kr1t"
org = "spinup"
[accounts.alpha]
region = "us-east-1"
endpoint = "http://127.0.0.1:5000"
akid = "AKIAEXAMPLE"
secret = "very-secret"
roleArn = "arn:aws:iam::123456789012:role/S3Api"
[accounts.alpha.domains."example.org"]
hostedZoneID = "Z123"
[accounts.alpha.accessLog]
bucket = "my-access-logs"
prefix = "s3"
[accounts.alpha.cleaner]
interval = "20m"
maxSplay = "0s"
"#;

    fn load(ext: &str, text: &str) -> Result<Config, ConfigError> {
        let f = write(ext, text);
        Config::load(&f.0, Vec::new())
    }

    fn load_err(text: &str) -> String {
        load("toml", text).unwrap_err().to_string()
    }

    #[test]
    fn loads_a_complete_file_with_defaults() {
        let c = load("toml", GOOD).unwrap();
        assert_eq!(c.listen_address, default_listen_address());
        assert_eq!(c.org_tag_key, "spinup:org");
        let a = &c.accounts["alpha"];
        assert_eq!(a.default_s3_bucket_actions.len(), 43);
        assert_eq!(a.default_s3_object_actions, vec!["s3:*"]);
        assert_eq!(
            a.domains["example.org"].hosted_zone_id.as_deref(),
            Some("Z123")
        );
        assert_eq!(
            a.cleaner.as_ref().unwrap().interval,
            Some(Duration::from_secs(1200))
        );
        assert_eq!(
            a.cleaner.as_ref().unwrap().reclaim_after,
            Duration::from_secs(15 * 60)
        );
        assert!(a.cleaner.as_ref().unwrap().max_splay.is_zero());
        assert_eq!(a.configured_account_id(), Some("123456789012"));
    }

    #[test]
    fn loads_json_in_the_go_service_shape() {
        let c = load(
            "json",
            r#"{"token": "t", "org": "o", "accounts": {"prod": {"region": "us-east-1", "akid": "A", "secret": "S"}}}"#,
        )
        .unwrap();
        assert_eq!(c.accounts["prod"].akid.as_deref(), Some("A"));
    }

    #[test]
    fn loads_yaml() {
        let c = load(
            "yaml",
            "token: t\norg: o\naccounts:\n  prod:\n    region: eu-west-1\n",
        )
        .unwrap();
        assert_eq!(c.accounts["prod"].region, "eu-west-1");
    }

    #[test]
    fn rejects_unknown_keys() {
        let e = load_err(&GOOD.replace("region = ", "regoin = \"x\"\nregion = "));
        assert!(e.contains("regoin"), "{e}");
        let e = load_err(&format!("tokn = \"x\"\n{GOOD}"));
        assert!(e.contains("tokn"), "{e}");
    }

    #[test]
    fn named_tokens_are_validated() {
        let sha = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
        let entry = |name: &str, sha: &str, accounts: &str, scope: &str| {
            format!(
                "\n[[tokens]]\nname = \"{name}\"\nsha256 = \"{sha}\"\naccounts = {accounts}\nscope = \"{scope}\"\n"
            )
        };
        let good = format!("{GOOD}{}", entry("ci", sha, "[\"alpha\"]", "read"));
        let c = load("toml", &good).unwrap();
        assert_eq!(c.tokens[0].scope, Scope::Read);
        let expiring = format!("{good}expires = \"2027-06-30T00:00:00Z\"\n");
        assert!(load("toml", &expiring).unwrap().tokens[0].expires.is_some());
        for (bad, key) in [
            (entry("", sha, "[\"*\"]", "read"), "name"),
            (entry("legacy", sha, "[\"*\"]", "read"), "name"),
            (entry("a b", sha, "[\"*\"]", "read"), "name"),
            (entry("c2", "abc", "[\"*\"]", "read"), "sha256"),
            (
                entry("c2", &sha.replace('9', "g"), "[\"*\"]", "read"),
                "sha256",
            ),
            (
                entry("c2", &sha.replace('9', "7"), "[]", "read"),
                "accounts",
            ),
            (
                entry("c2", &sha.replace('9', "7"), "[\"nope\"]", "read"),
                "accounts",
            ),
            (entry("other", sha, "[\"*\"]", "read"), "sha256"),
            (
                entry("ci", &sha.replace('9', "8"), "[\"*\"]", "read"),
                "name",
            ),
        ] {
            let e = load_err(&format!("{good}{bad}"));
            assert!(e.contains(&format!("tokens[1].{key}")), "{bad}: {e}");
        }
        assert!(load_err(&format!(
            "{good}{}",
            entry("x", &sha.replace('9', "1"), "[\"*\"]", "root")
        ))
        .contains("root"));
        assert!(load_err(&format!("{good}expires = \"soon\"\n")).contains("expires"));
        // No legacy token: only with an admin token.
        let without = good.replace("token = \"s3kr1t\"\n", "");
        assert!(load_err(&without).contains("token"));
        let admin = format!(
            "{without}{}",
            entry("root", &sha.replace('9', "1"), "[\"*\"]", "admin")
        );
        assert!(load("toml", &admin).unwrap().token.is_none());
    }

    #[test]
    fn rate_limits_default_per_service_and_must_be_positive() {
        let c = load("toml", GOOD).unwrap();
        assert_eq!(c.accounts["alpha"].rate_limits, RateLimits::default());
        assert_eq!(
            RateLimits::default().route53,
            5.0,
            "Route 53's documented limit"
        );
        let with = |limits: &str| format!("{GOOD}\n[accounts.alpha.rateLimits]\n{limits}\n");
        let c = load("toml", &with("iam = 4\nroute53 = 2.5")).unwrap();
        let r = c.accounts["alpha"].rate_limits;
        assert_eq!((r.iam, r.route53, r.acm), (4.0, 2.5, 5.0));
        for bad in ["iam = 0", "acm = -1", "cloudfront = nan", "iam = 0.001"] {
            let e = load_err(&with(bad));
            assert!(e.contains("accounts.alpha.rateLimits."), "{bad}: {e}");
        }
        assert!(load_err(&with("s3 = 10")).contains("s3"));
    }

    #[test]
    fn rejects_akid_without_secret() {
        let e = load_err(&GOOD.replace("secret = \"very-secret\"\n", ""));
        assert!(e.contains("accounts.alpha.secret"), "{e}");
    }

    #[test]
    fn rejects_a_role_arn_that_is_not_a_role() {
        let e = load_err(&GOOD.replace(":role/S3Api", ":user/S3Api"));
        assert!(e.contains("roleArn"), "{e}");
    }

    #[test]
    fn rejects_bad_durations_and_empty_values() {
        assert!(load_err(&GOOD.replace("\"20m\"", "\"soon\"")).contains("interval"));
        assert!(load_err(&GOOD.replace("\"s3kr1t\"", "\"\"")).contains("token"));
        assert!(load_err(&GOOD.replace("\"Z123\"", "\"\"")).contains("hostedZoneID"));
        assert!(load_err("token = \"t\"\norg = \"o\"\n").contains("accounts"));
        assert!(load_err(&GOOD.replace("my-access-logs", "My_Logs")).contains("accessLog.bucket"));
    }

    #[test]
    fn environment_overrides_camel_case_keys() {
        let f = write("toml", GOOD);
        let c = Config::load(
            &f.0,
            vec![
                ("S3API__TOKEN".into(), "from-env".into()),
                (
                    "S3API__ACCOUNTS__ALPHA__ROLEARN".into(),
                    "arn:aws:iam::210987654321:role/Other".into(),
                ),
                ("S3API__ACCOUNTS__ALPHA__SECRET".into(), "env-secret".into()),
                ("S3API__METRICSREQUIRETOKEN".into(), "true".into()),
                ("UNRELATED".into(), "x".into()),
            ],
        )
        .unwrap();
        assert_eq!(c.token.as_ref().unwrap().expose_secret(), "from-env");
        assert!(c.metrics_require_token);
        let a = &c.accounts["alpha"];
        assert_eq!(a.configured_account_id(), Some("210987654321"));
        assert_eq!(a.secret.as_ref().unwrap().expose_secret(), "env-secret");
    }

    #[test]
    fn secrets_do_not_show_in_debug_output() {
        let c = load("toml", GOOD).unwrap();
        let shown = format!("{c:?}");
        assert!(
            !shown.contains("s3kr1t") && !shown.contains("very-secret"),
            "{shown}"
        );
    }

    #[test]
    fn the_committed_local_config_is_valid() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/local.toml");
        Config::load(&path, Vec::new()).unwrap();
    }

    #[test]
    fn the_grace_period_must_hold_a_rollback() {
        let short = format!("shutdownGracePeriod = \"20s\"\nawsTimeout = \"10s\"\n{GOOD}");
        assert!(load_err(&short).contains("shutdownGracePeriod"));
        let enough = format!("shutdownGracePeriod = \"30s\"\nawsTimeout = \"10s\"\n{GOOD}");
        assert!(load("toml", &enough).is_ok());
    }
}
