//! The test harness: a service per test, with its own AWS account inside the one moto server, SDK clients to
//! look into that account, fault injection, and captured logs.

use std::sync::{Arc, Mutex, OnceLock};

use aws_config::{BehaviorVersion, Region};
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_credential_types::Credentials;
use aws_smithy_runtime_api::client::interceptors::SharedInterceptor;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode};
use axum::Router;
use http_body_util::BodyExt;
use rand::Rng;
use s3_api::app::{App, AppState};
use s3_api::aws::AwsHooks;
use s3_api::config::Config;
use serde_json::Value;
use tower::ServiceExt;

use crate::faults::Faults;
use crate::moto;

pub const TOKEN: &str = "test-token-0f3c9a";
pub const ORG: &str = "testorg";

/// Everything that must never show up in a log line, collected from every test.
fn secrets() -> &'static Mutex<Vec<String>> {
    static SECRETS: OnceLock<Mutex<Vec<String>>> = OnceLock::new();
    SECRETS.get_or_init(|| Mutex::new(vec![TOKEN.to_owned()]))
}

pub fn remember_secret(s: &str) {
    secrets().lock().unwrap().push(s.to_owned());
}

pub fn known_secrets() -> Vec<String> {
    secrets().lock().unwrap().clone()
}

/// The service's log output of the whole test run (debug level), captured in memory.
#[derive(Clone, Default)]
pub struct LogBuffer(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for LogBuffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

pub fn logs() -> &'static LogBuffer {
    static LOGS: OnceLock<LogBuffer> = OnceLock::new();
    LOGS.get_or_init(|| {
        let buffer = LogBuffer::default();
        let writer = buffer.clone();
        tracing_subscriber::fmt()
            .with_env_filter("s3_api=debug,info")
            .json()
            .with_writer(move || writer.clone())
            .init();
        buffer
    })
}

pub fn log_text() -> String {
    String::from_utf8_lossy(&logs().0.lock().unwrap()).into_owned()
}

/// A random name for a test's resources: unique across tests (bucket names are global in moto too).
pub fn unique(prefix: &str) -> String {
    let n: u64 = rand::rng().random();
    format!("{prefix}-{:012x}", n & 0xffff_ffff_ffff)
}

/// SDK clients for a test's account, without fault injection: to look at what the service did.
pub struct Emulator {
    pub s3: aws_sdk_s3::Client,
    pub iam: aws_sdk_iam::Client,
    pub cloudfront: aws_sdk_cloudfront::Client,
    pub route53: aws_sdk_route53::Client,
    pub acm: aws_sdk_acm::Client,
}

/// One running service (as a router) with its own AWS account.
pub struct TestApp {
    pub router: Router,
    pub state: AppState,
    pub faults: Faults,
    pub account_id: String,
    pub aws: Emulator,
    pub log_bucket: String,
}

pub struct TestResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl TestResponse {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The problem document's `code`.
    pub fn code(&self) -> String {
        self.json()["code"].as_str().unwrap_or_default().to_owned()
    }

    #[track_caller]
    pub fn assert_status(&self, status: u16) -> &Self {
        assert_eq!(self.status.as_u16(), status, "body: {}", self.text());
        self
    }
}

/// The base configuration of a test: one account `test` in a fresh random AWS account, reached by assuming a
/// role, with an access-log bucket.
pub fn test_config(account_id: &str, log_bucket: &str) -> Config {
    let secret = format!("configured-secret-{account_id}");
    remember_secret(&secret);
    let text = format!(
        r#"
token = "{TOKEN}"
org = "{ORG}"
awsTimeout = "5s"
[accounts.test]
region = "us-east-1"
endpoint = "{endpoint}"
akid = "testakid"
secret = "{secret}"
roleArn = "arn:aws:iam::{account_id}:role/s3-api"
externalId = "ext-{account_id}"
[accounts.test.accessLog]
bucket = "{log_bucket}"
prefix = "s3"
# The emulator does not throttle: the tests of pacing set their own rates.
[accounts.test.rateLimits]
iam = 1000
route53 = 1000
cloudfront = 1000
acm = 1000
"#,
        endpoint = moto::endpoint()
    );
    let path = std::env::temp_dir().join(format!("s3-api-test-{account_id}.toml"));
    std::fs::write(&path, text).unwrap();
    let config = Config::load(&path, Vec::new()).unwrap();
    let _ = std::fs::remove_file(&path);
    config
}

impl TestApp {
    pub async fn spawn() -> TestApp {
        TestApp::spawn_with(|_| {}).await
    }

    /// A service whose configuration `adjust` may change first.
    pub async fn spawn_with(adjust: impl FnOnce(&mut Config)) -> TestApp {
        let account_id = random_account_id();
        let aws = emulator(&account_id).await;
        TestApp::spawn_in(account_id, aws, adjust).await
    }

    /// A service whose account serves websites under a fresh domain: a hosted zone and an issued wildcard
    /// certificate for it exist in the account, and the domain is configured without `certArn` and without
    /// `hostedZoneID`, so the service finds the certificate in ACM and the zone by name.
    pub async fn spawn_websites() -> (TestApp, Website) {
        TestApp::spawn_websites_with(|_, _| {}).await
    }

    pub async fn spawn_websites_with(
        adjust: impl FnOnce(&mut Config, &Website),
    ) -> (TestApp, Website) {
        let account_id = random_account_id();
        let aws = emulator(&account_id).await;
        let site = website_domain(&aws).await;
        let domain = site.domain.clone();
        let for_config = site.clone();
        let app = TestApp::spawn_in(account_id, aws, move |c| {
            let account = c.accounts.get_mut("test").unwrap();
            account.domains.insert(
                domain,
                s3_api::config::DomainConfig {
                    cert_arn: None,
                    hosted_zone_id: None,
                },
            );
            adjust(c, &for_config);
        })
        .await;
        (app, site)
    }

    async fn spawn_in(
        account_id: String,
        aws: Emulator,
        adjust: impl FnOnce(&mut Config),
    ) -> TestApp {
        logs();
        let log_bucket = unique("access-logs");
        let mut config = test_config(&account_id, &log_bucket);
        adjust(&mut config);

        create_log_bucket(&aws, &log_bucket).await;

        let faults = Faults::default();
        let hooks = AwsHooks {
            interceptors: vec![SharedInterceptor::new(faults.clone())],
        };
        let state = AppState(Arc::new(
            App::new(config, hooks).await.expect("the service starts"),
        ));
        // What the start-up asked of AWS (hosted zones by name) is not part of any request.
        faults.clear_calls();
        TestApp {
            router: s3_api::http::router(state.clone()),
            state,
            faults,
            account_id,
            aws,
            log_bucket,
        }
    }

    pub async fn request(&self, method: Method, path: &str, body: Option<Value>) -> TestResponse {
        let body = body.map(|b| b.to_string()).unwrap_or_default();
        self.raw(method, path, Some(TOKEN), body.into_bytes()).await
    }

    pub async fn raw(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Vec<u8>,
    ) -> TestResponse {
        let mut req = Request::builder().method(method).uri(path);
        if let Some(token) = token {
            req = req.header("X-Auth-Token", token);
        }
        if !body.is_empty() {
            req = req.header("Content-Type", "application/json");
        }
        let response = self
            .router
            .clone()
            .oneshot(req.body(Body::from(body)).unwrap())
            .await
            .unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let body = response
            .into_body()
            .collect()
            .await
            .unwrap()
            .to_bytes()
            .to_vec();
        let response = TestResponse {
            status,
            headers,
            body,
        };
        // Any secret the service hands out is one the logs must not contain.
        if let Ok(v) = serde_json::from_slice::<Value>(&response.body) {
            if let Some(secret) = v["AccessKey"]["SecretAccessKey"].as_str() {
                remember_secret(secret);
            }
        }
        response
    }

    pub async fn get(&self, path: &str) -> TestResponse {
        self.request(Method::GET, path, None).await
    }
    pub async fn post(&self, path: &str, body: Value) -> TestResponse {
        self.request(Method::POST, path, Some(body)).await
    }
    pub async fn put(&self, path: &str, body: Value) -> TestResponse {
        self.request(Method::PUT, path, Some(body)).await
    }
    pub async fn delete(&self, path: &str) -> TestResponse {
        self.request(Method::DELETE, path, None).await
    }

    /// `/v1/s3/test/websites[/<website>]`
    pub fn websites(&self, rest: &str) -> String {
        format!("/v1/s3/test/websites{rest}")
    }

    /// `/v1/s3/test/buckets[/<bucket>]`
    pub fn buckets(&self, rest: &str) -> String {
        format!("/v1/s3/test/buckets{rest}")
    }

    /// Creates a bucket through the API (asserting 202).
    pub async fn create_bucket(&self, name: &str) {
        self.post(
            &self.buckets(""),
            serde_json::json!({"BucketInput": {"Bucket": name}}),
        )
        .await
        .assert_status(202);
    }

    /// Creates a bucket user through the API (asserting 200) and returns the response body.
    pub async fn create_user(&self, bucket: &str, user: &str, groups: Option<&[&str]>) -> Value {
        let mut body = serde_json::json!({"User": {"UserName": user}});
        if let Some(groups) = groups {
            body["Groups"] = serde_json::json!(groups);
        }
        let r = self
            .post(&self.buckets(&format!("/{bucket}/users")), body)
            .await;
        r.assert_status(200);
        r.json()
    }

    /// Asserts that the AWS operations called since the last `clear_calls` are exactly `expected`.
    #[track_caller]
    pub fn assert_calls(&self, expected: &[&str]) {
        assert_eq!(distinct(self.faults.calls()), distinct_ops(expected));
    }

    /// As `assert_calls`, for a create: its marker's removal (`iam:DeletePolicy`), which runs after the answer,
    /// may or may not have happened yet.
    #[track_caller]
    pub fn assert_create_calls(&self, expected: &[&str]) {
        let mut calls = self.faults.calls();
        if let Some(i) = calls.iter().position(|c| c == "iam:DeletePolicy") {
            calls.remove(i);
        }
        assert_eq!(distinct(calls), distinct_ops(expected));
    }

    pub fn policy_arn(&self, name: &str) -> String {
        format!("arn:aws:iam::{}:policy/{name}", self.account_id)
    }
}

fn distinct(mut calls: Vec<String>) -> Vec<String> {
    calls.sort();
    calls.dedup();
    calls
}

/// The operations a call list names, without the body parts some entries pick a call by (`faults::split_op`).
fn distinct_ops(expected: &[&str]) -> Vec<String> {
    distinct(
        expected
            .iter()
            .map(|s| crate::faults::split_op(s).0.to_string())
            .collect(),
    )
}

pub fn random_account_id() -> String {
    format!(
        "{:012}",
        rand::rng().random_range(100_000_000_000u64..999_999_999_999)
    )
}

/// Starts the real binary with `config` (TOML, without `listenAddress`) on a free loopback port and waits until
/// it answers. Returns the process, its address and the config file (to remove afterwards). A service that
/// does not start fails the test with what it wrote on stderr.
pub async fn start_binary(
    config: &str,
) -> (
    std::process::Child,
    std::net::SocketAddr,
    std::path::PathBuf,
) {
    // The free port is found by binding and letting go of it, so another test may take it in between: then the
    // service cannot bind it, and starts again on another.
    for _ in 0..5 {
        match try_start_binary(config).await {
            Ok(started) => return started,
            Err(stderr) if stderr.contains("Address already in use") => continue,
            Err(stderr) => panic!("{stderr}"),
        }
    }
    panic!("no free port found for the service in 5 tries");
}

async fn try_start_binary(
    config: &str,
) -> Result<
    (
        std::process::Child,
        std::net::SocketAddr,
        std::path::PathBuf,
    ),
    String,
> {
    let port = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let path = std::env::temp_dir().join(format!("{}.toml", unique("binary")));
    std::fs::write(
        &path,
        format!("listenAddress = \"127.0.0.1:{port}\"\n{config}"),
    )
    .unwrap();
    let log = path.with_extension("log");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_s3-api"))
        .args(["--config", path.to_str().unwrap(), "serve"])
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let addr: std::net::SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let started = std::time::Instant::now();
    // The check blocks (up to seconds while the service starts): off the runtime, which may be serving what
    // the service asks at start-up (a proxy in front of the emulator).
    let answers = move || async move {
        tokio::task::spawn_blocking(move || s3_api::server::healthcheck(addr).is_ok())
            .await
            .unwrap()
    };
    while !answers().await {
        let exited = child.try_wait().unwrap();
        if exited.is_some() || started.elapsed() > std::time::Duration::from_secs(20) {
            let _ = child.kill();
            let _ = child.wait();
            let stderr = std::fs::read_to_string(&log).unwrap_or_default();
            let _ = std::fs::remove_file(&log);
            let _ = std::fs::remove_file(&path);
            return Err(format!(
                "the service did not start ({exited:?}); stderr:\n{stderr}"
            ));
        }
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    // The process keeps writing to the file it was given; only its name goes.
    let _ = std::fs::remove_file(&log);
    Ok((child, addr, path))
}

/// An access-log bucket in the account, with the bucket policy AWS requires for the logging service to write
/// to it.
pub async fn create_log_bucket(aws: &Emulator, log_bucket: &str) {
    aws.s3
        .create_bucket()
        .bucket(log_bucket)
        .send()
        .await
        .unwrap();
    // As in AWS, the access-log bucket must let the logging service write to it.
    let policy = serde_json::json!({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Service": "logging.s3.amazonaws.com"},
        "Action": "s3:PutObject", "Resource": format!("arn:aws:s3:::{log_bucket}/*")}]});
    aws.s3
        .put_bucket_policy()
        .bucket(log_bucket)
        .policy(policy.to_string())
        .send()
        .await
        .unwrap();
}

/// A fresh domain for websites in the account: a public hosted zone and an issued wildcard certificate for it.
pub async fn website_domain(aws: &Emulator) -> Website {
    let domain = format!("{}.org", unique("dom"));
    let zone = aws
        .route53
        .create_hosted_zone()
        .name(&domain)
        .caller_reference(unique("zone"))
        .send()
        .await
        .unwrap();
    let zone_id = zone
        .hosted_zone()
        .unwrap()
        .id()
        .trim_start_matches("/hostedzone/")
        .to_owned();
    let cert = aws
        .acm
        .request_certificate()
        .domain_name(format!("*.{domain}"))
        .subject_alternative_names(&domain)
        .send()
        .await
        .unwrap();
    Website {
        domain,
        zone_id,
        cert_arn: cert.certificate_arn().unwrap().to_owned(),
    }
}

/// The domain a website test's account serves.
#[derive(Clone, Debug)]
pub struct Website {
    pub domain: String,
    pub zone_id: String,
    pub cert_arn: String,
}

/// SDK clients acting in `account_id` (through an assumed role, like the service).
pub async fn emulator(account_id: &str) -> Emulator {
    let base = aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(moto::endpoint())
        .credentials_provider(Credentials::new(
            "inspector",
            "inspector",
            None,
            None,
            "test",
        ))
        .load()
        .await;
    let role = aws_config::sts::AssumeRoleProvider::builder(format!(
        "arn:aws:iam::{account_id}:role/inspector"
    ))
    .session_name("inspector")
    .configure(&base)
    .build()
    .await;
    let shared = base
        .into_builder()
        .credentials_provider(SharedCredentialsProvider::new(role))
        .build();
    Emulator {
        s3: aws_sdk_s3::Client::from_conf(
            aws_sdk_s3::config::Builder::from(&shared)
                .force_path_style(true)
                .build(),
        ),
        iam: aws_sdk_iam::Client::from_conf(aws_sdk_iam::config::Builder::from(&shared).build()),
        cloudfront: aws_sdk_cloudfront::Client::new(&shared),
        route53: aws_sdk_route53::Client::new(&shared),
        acm: aws_sdk_acm::Client::new(&shared),
    }
}

impl Emulator {
    pub async fn bucket_exists(&self, bucket: &str) -> bool {
        self.s3.head_bucket().bucket(bucket).send().await.is_ok()
    }
    pub async fn policy_exists(&self, arn: &str) -> bool {
        self.iam.get_policy().policy_arn(arn).send().await.is_ok()
    }
    pub async fn group_exists(&self, name: &str) -> bool {
        self.iam.get_group().group_name(name).send().await.is_ok()
    }
    pub async fn user_exists(&self, name: &str) -> bool {
        self.iam.get_user().user_name(name).send().await.is_ok()
    }
    /// The bucket's public access block: (block public ACLs, ignore public ACLs, block public policy, restrict
    /// public buckets).
    pub async fn public_access_flags(&self, bucket: &str) -> (bool, bool, bool, bool) {
        let out = self
            .s3
            .get_public_access_block()
            .bucket(bucket)
            .send()
            .await
            .unwrap();
        let c = out.public_access_block_configuration().unwrap();
        let flag = |f: Option<bool>| f.unwrap_or(false);
        (
            flag(c.block_public_acls()),
            flag(c.ignore_public_acls()),
            flag(c.block_public_policy()),
            flag(c.restrict_public_buckets()),
        )
    }

    /// Names of the groups `user` is in.
    pub async fn groups_of(&self, user: &str) -> Vec<String> {
        let out = self
            .iam
            .list_groups_for_user()
            .user_name(user)
            .send()
            .await
            .unwrap();
        let mut names: Vec<String> = out
            .groups()
            .iter()
            .map(|g| g.group_name().to_owned())
            .collect();
        names.sort();
        names
    }
    /// Ids of the access keys of `user`.
    pub async fn keys_of(&self, user: &str) -> Vec<String> {
        let out = self
            .iam
            .list_access_keys()
            .user_name(user)
            .send()
            .await
            .unwrap();
        out.access_key_metadata()
            .iter()
            .filter_map(|k| k.access_key_id().map(str::to_owned))
            .collect()
    }
    /// ARNs of the policies attached to `group`.
    pub async fn group_policies(&self, group: &str) -> Vec<String> {
        let out = self
            .iam
            .list_attached_group_policies()
            .group_name(group)
            .send()
            .await
            .unwrap();
        out.attached_policies()
            .iter()
            .filter_map(|p| p.policy_arn().map(str::to_owned))
            .collect()
    }
    /// The default version's document of a managed policy.
    pub async fn policy_document(&self, arn: &str) -> Value {
        let policy = self.iam.get_policy().policy_arn(arn).send().await.unwrap();
        let version = policy
            .policy()
            .unwrap()
            .default_version_id()
            .unwrap()
            .to_owned();
        let v = self
            .iam
            .get_policy_version()
            .policy_arn(arn)
            .version_id(version)
            .send()
            .await
            .unwrap();
        let doc = v.policy_version().unwrap().document().unwrap();
        let decoded = percent_decode(doc);
        serde_json::from_str(&decoded).unwrap()
    }
    /// Every customer-managed policy name of the account, but the service's create markers (`markers`).
    pub async fn policy_names(&self) -> Vec<String> {
        self.policies(false).await
    }

    /// The names of the service's create markers (policies under `/s3-api/creating/`): creates that are running,
    /// were interrupted, or whose rollback left something for the cleaner.
    pub async fn markers(&self) -> Vec<String> {
        self.policies(true).await
    }

    async fn policies(&self, markers: bool) -> Vec<String> {
        let out = self
            .iam
            .list_policies()
            .scope(aws_sdk_iam::types::PolicyScopeType::Local)
            .send()
            .await
            .unwrap();
        out.policies()
            .iter()
            .filter(|p| (p.path() == Some(s3_api::orchestration::marker::MARKER_PATH)) == markers)
            .filter_map(|p| p.policy_name().map(str::to_owned))
            .collect()
    }

    /// Waits (a few seconds at most) until no create marker is left: a finished create removes its marker just
    /// after its answer.
    pub async fn settle(&self) {
        for _ in 0..100 {
            if self.markers().await.is_empty() {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(30)).await;
        }
        panic!("create markers left: {:?}", self.markers().await);
    }
    pub async fn group_names(&self) -> Vec<String> {
        let out = self.iam.list_groups().send().await.unwrap();
        out.groups()
            .iter()
            .map(|g| g.group_name().to_owned())
            .collect()
    }
}

/// IAM returns policy documents URL-encoded.
fn percent_decode(s: &str) -> String {
    if !s.contains('%') {
        return s.to_owned();
    }
    url::form_urlencoded::parse(format!("x={}", s.replace('+', "%2B")).as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

/// Parses a property list with Python's standard `plistlib` (as any tool reading `.duck` files would) and
/// returns it as JSON.
pub fn moto_python_plist(xml: &[u8]) -> Value {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let mut child = Command::new(moto::python())
        .args(["-c", "import json, plistlib, sys; print(json.dumps(plistlib.loads(sys.stdin.buffer.read())))"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(xml).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "plistlib could not read the bookmark");
    serde_json::from_slice(&out.stdout).unwrap()
}
