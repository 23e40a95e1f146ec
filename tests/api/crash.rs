//! A process killed half-way through a create (ORCHESTRATION §4.8a, QUALITY §2 "A killed process").
//!
//! Rollback runs in the process, so a process killed mid-create cannot roll back: the cleaner has to. For every
//! AWS call of every create (the lists of `creates.rs`, each call as often as the create makes it), a kill
//! point runs in its own account: the real binary serves with its AWS endpoint behind the fault proxy
//! (`proxy.rs`), which holds that call without answering; the process is killed with SIGKILL while the call is
//! held; more than `reclaimAfter` (1 s) later `s3-api clean` runs once; then the account, read straight from
//! the emulator, must hold nothing of the create — a disabled distribution awaiting deletion aside — or the
//! whole finished resource, as an uninterrupted create leaves it. Every kill point is reported (what it left,
//! by name), and one assertion at the end lists the ones that left something behind.

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use futures::future::join_all;
use regex::Regex;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::Semaphore;

use crate::creates::{
    bucket_create_body, scoped_website_user_body, user_create_body, website_user_create_body,
    BUCKET_CREATE_CALLS, USER_CREATE_CALLS, WEBSITE_CREATE_CALLS, WEBSITE_USER_CREATE_CALLS,
};
use crate::faults::split_op;
use crate::helpers::{
    create_log_bucket, emulator, random_account_id, start_binary, unique, website_domain, Emulator,
    Website, ORG, TOKEN,
};
use crate::moto;
use crate::proxy::Proxy;
use crate::websites::seed_body;

/// How long after the kill the cleaner runs: more than the `reclaimAfter` of 1 s the kill points configure.
const PAST_RECLAIM: Duration = Duration::from_millis(1500);

/// Kill points run at once, each with its own binary, proxy and account, across all the tests of this module:
/// more only loads the one emulator that the rest of the suite shares.
fn kill_point_slots() -> &'static Semaphore {
    static SLOTS: OnceLock<Semaphore> = OnceLock::new();
    SLOTS.get_or_init(|| Semaphore::new(8))
}

/// The creates, each with the AWS calls it makes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Create {
    Bucket,
    BucketUser,
    Website,
    WebsiteUser,
    ScopedWebsiteUser,
}

impl Create {
    fn what(self) -> &'static str {
        match self {
            Create::Bucket => "bucket create",
            Create::BucketUser => "bucket user create",
            Create::Website => "website create",
            Create::WebsiteUser => "website user create",
            Create::ScopedWebsiteUser => "path-scoped website user create",
        }
    }

    fn calls(self) -> &'static [&'static str] {
        match self {
            Create::Bucket => BUCKET_CREATE_CALLS,
            Create::BucketUser | Create::WebsiteUser => USER_CREATE_CALLS,
            Create::Website => WEBSITE_CREATE_CALLS,
            Create::ScopedWebsiteUser => WEBSITE_USER_CREATE_CALLS,
        }
    }

    fn websites(self) -> bool {
        matches!(
            self,
            Create::Website | Create::WebsiteUser | Create::ScopedWebsiteUser
        )
    }
}

/// A fresh AWS account in the emulator with what the service's configuration needs there: an access-log
/// bucket, and for websites a hosted zone and an issued certificate.
struct Account {
    id: String,
    aws: Emulator,
    log_bucket: String,
    site: Option<Website>,
}

impl Account {
    async fn new(websites: bool) -> Account {
        let id = random_account_id();
        let aws = emulator(&id).await;
        let log_bucket = unique("crash-logs");
        create_log_bucket(&aws, &log_bucket).await;
        let site = match websites {
            true => Some(website_domain(&aws).await),
            false => None,
        };
        Account {
            id,
            aws,
            log_bucket,
            site,
        }
    }

    /// The binary's configuration: one account `test` reached through `endpoint` by assuming a role in this
    /// account, with a cleaner section but no `interval` (so the server itself never cleans).
    fn config(&self, endpoint: &str, reclaim_after: &str) -> String {
        let mut text = format!(
            r#"token = "{TOKEN}"
org = "{ORG}"
logFormat = "text"
awsTimeout = "20s"
[accounts.test]
region = "us-east-1"
endpoint = "{endpoint}"
akid = "crash"
secret = "crash-{id}"
roleArn = "arn:aws:iam::{id}:role/s3-api"
[accounts.test.accessLog]
bucket = "{log}"
prefix = "s3"
[accounts.test.cleaner]
reclaimAfter = "{reclaim_after}"
"#,
            id = self.id,
            log = self.log_bucket,
        );
        if let Some(site) = &self.site {
            text.push_str(&format!("[accounts.test.domains.\"{}\"]\n", site.domain));
        }
        text
    }

    /// Placeholders for the names that differ from account to account, so that two accounts' resources can
    /// be compared.
    fn generic_names(&self) -> Vec<(String, &'static str)> {
        let mut names = vec![
            (self.id.clone(), "<account>"),
            (self.log_bucket.clone(), "<log-bucket>"),
        ];
        if let Some(site) = &self.site {
            names.push((site.domain.clone(), "<domain>"));
            names.push((site.zone_id.clone(), "<zone>"));
        }
        names
    }
}

/// The binary serving one account; killed (if it still runs) and its configuration removed when dropped.
struct Service {
    child: std::process::Child,
    addr: SocketAddr,
    config: PathBuf,
}

impl Service {
    /// Starts the binary for `account` behind `proxy` and checks that it is this build: the binary is found by
    /// path in the target directory, which other checkouts may share and rebuild meanwhile, and a kill point's
    /// verdict is only about the code it ran.
    async fn start(account: &Account, proxy: &Proxy) -> Service {
        let (child, addr, config) = start_binary(&account.config(&proxy.url(), "1s")).await;
        let service = Service {
            child,
            addr,
            config,
        };
        let mut stream = TcpStream::connect(addr).await.unwrap();
        stream
            .write_all(b"GET /v1/s3/version HTTP/1.1\r\nHost: s3-api\r\nConnection: close\r\n\r\n")
            .await
            .unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).await.unwrap();
        let body = response.split_once("\r\n\r\n").map_or("", |(_, b)| b);
        let version: Value = serde_json::from_str(body).unwrap_or_default();
        let this = (s3_api::version::GIT_HASH, s3_api::version::BUILD_STAMP);
        assert_eq!(
            (version["githash"].as_str(), version["buildstamp"].as_str()),
            (Some(this.0), Some(this.1)),
            "{} is not the binary of this build (another checkout sharing the target directory rebuilt it?)",
            env!("CARGO_BIN_EXE_s3-api")
        );
        service
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.config);
    }
}

/// One create's request, ready to send once what it needs exists.
struct Target {
    path: String,
    body: Value,
    /// The names the create uses (bucket or website, user), with their placeholders.
    names: Vec<(String, &'static str)>,
}

impl Target {
    /// Makes what the create needs (the bucket or website a user is created in) and returns the create.
    async fn prepare(
        create: Create,
        account: &Account,
        addr: SocketAddr,
    ) -> Result<Target, String> {
        let user = unique("crash-user");
        let site_name = || {
            let domain = &account.site.as_ref().expect("a website account").domain;
            format!("{}.{domain}", unique("crash-site"))
        };
        let target = match create {
            Create::Bucket => {
                let bucket = unique("crash-bucket");
                Target {
                    path: "/v1/s3/test/buckets".into(),
                    body: bucket_create_body(&bucket),
                    names: vec![(bucket, "<name>")],
                }
            }
            Create::Website => {
                let site = site_name();
                Target {
                    path: "/v1/s3/test/websites".into(),
                    body: seed_body(&site),
                    names: vec![(site, "<name>")],
                }
            }
            Create::BucketUser => {
                let bucket = unique("crash-bucket");
                made(send(addr, "/v1/s3/test/buckets", &bucket_create_body(&bucket)).await)?;
                Target {
                    path: format!("/v1/s3/test/buckets/{bucket}/users"),
                    body: user_create_body(&user),
                    names: vec![(bucket, "<name>"), (user, "<user>")],
                }
            }
            Create::WebsiteUser | Create::ScopedWebsiteUser => {
                let site = site_name();
                made(send(addr, "/v1/s3/test/websites", &seed_body(&site)).await)?;
                let body = match create {
                    Create::WebsiteUser => website_user_create_body(&user),
                    _ => scoped_website_user_body(&user),
                };
                Target {
                    path: format!("/v1/s3/test/websites/{site}/users"),
                    body,
                    names: vec![(site, "<name>"), (user, "<user>")],
                }
            }
        };
        // A create removes its marker just after its answer: what this one prepared is whole once it has.
        account.aws.settle().await;
        Ok(target)
    }
}

fn made(answer: Option<(u16, String)>) -> Result<(), String> {
    match answer {
        Some((200 | 202, _)) => Ok(()),
        other => Err(format!("preparing the create failed: {}", brief(&other))),
    }
}

/// An answer for a report: the status and the start of the body.
fn brief(answer: &Option<(u16, String)>) -> String {
    match answer {
        None => "nothing".into(),
        Some((status, body)) => {
            let body: String = body.chars().take(200).collect();
            format!("{status} {body}")
        }
    }
}

/// POSTs `body` to the binary at `addr`; None when the connection closed without an answer (the process is
/// gone).
async fn send(addr: SocketAddr, path: &str, body: &Value) -> Option<(u16, String)> {
    let mut stream = TcpStream::connect(addr).await.ok()?;
    let body = body.to_string();
    let request = format!(
        "POST {path} HTTP/1.1\r\nHost: s3-api\r\nX-Auth-Token: {TOKEN}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await.ok()?;
    let mut response = Vec::new();
    // A reset after part of an answer still shows that part.
    let _ = stream.read_to_end(&mut response).await;
    let text = String::from_utf8_lossy(&response);
    let status = text.strip_prefix("HTTP/1.1 ")?.get(..3)?.parse().ok()?;
    let body = text.split_once("\r\n\r\n").map_or("", |(_, b)| b);
    Some((status, body.to_owned()))
}

/// Runs `s3-api clean --account test` once with the configuration file `config`.
async fn clean(config: &Path) -> Result<(), String> {
    let run = tokio::process::Command::new(env!("CARGO_BIN_EXE_s3-api"))
        .args([
            "--config",
            config.to_str().unwrap(),
            "clean",
            "--account",
            "test",
        ])
        .kill_on_drop(true)
        .output();
    match tokio::time::timeout(Duration::from_secs(60), run).await {
        Err(_) => Err("s3-api clean did not finish within 60 s".into()),
        Ok(Err(e)) => Err(format!("s3-api clean did not run: {e}")),
        Ok(Ok(out)) if out.status.success() => Ok(()),
        Ok(Ok(out)) => {
            let stderr = String::from_utf8_lossy(&out.stderr);
            let tail: String = (stderr.trim().chars().rev().take(500).collect::<Vec<_>>())
                .into_iter()
                .rev()
                .collect();
            Err(format!(
                "s3-api clean failed ({}): {} …{tail}",
                out.status,
                String::from_utf8_lossy(&out.stdout).trim(),
            ))
        }
    }
}

/// Writes a configuration file for `s3-api clean`.
fn clean_config(account: &Account, endpoint: &str, reclaim_after: &str) -> PathBuf {
    let path = std::env::temp_dir().join(format!("{}.toml", unique("crash-clean")));
    std::fs::write(&path, account.config(endpoint, reclaim_after)).unwrap();
    path
}

/// One thing in an account: a resource (`bucket b`, `group /path/name`, …) and one fact about it, or `""` for
/// the resource itself.
type Entry = (String, String);

fn render((resource, detail): &Entry) -> String {
    match detail.is_empty() {
        true => resource.clone(),
        false => format!("{resource}: {detail}"),
    }
}

/// Everything in an account that a create could make or change, read straight from the emulator.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Inventory {
    entries: BTreeSet<Entry>,
    /// Disabled distributions: left behind on purpose, for the cleaner to delete once CloudFront has deployed
    /// them (and so allowed to stay).
    disabled: BTreeSet<Entry>,
}

impl Inventory {
    async fn read(account: &Account) -> Inventory {
        let aws = &account.aws;
        let (s3, iam, dns, cloudfront) = tokio::join!(
            read_s3(aws, &account.log_bucket),
            read_iam(aws),
            read_dns(aws, account.site.as_ref()),
            read_cloudfront(aws)
        );
        let mut inventory = Inventory::default();
        inventory.entries.extend(s3);
        inventory.entries.extend(iam);
        inventory.entries.extend(dns);
        for (enabled, entries) in cloudfront {
            match enabled {
                true => inventory.entries.extend(entries),
                false => inventory.disabled.extend(entries),
            }
        }
        inventory
    }
}

fn entry(resource: impl Into<String>, detail: impl Into<String>) -> Entry {
    (resource.into(), detail.into())
}

/// The account's buckets. Of the access-log bucket only that it is there: no create changes it, and the logs
/// the emulator delivers there, as AWS does, outlive the bucket they are about by design.
async fn read_s3(aws: &Emulator, log_bucket: &str) -> Vec<Entry> {
    let buckets = aws.s3.list_buckets().send().await.unwrap();
    let names: Vec<String> = buckets
        .buckets()
        .iter()
        .filter_map(|b| b.name().map(str::to_owned))
        .collect();
    join_all(names.iter().map(|b| async move {
        match b == log_bucket {
            true => vec![entry(format!("bucket {b}"), "")],
            false => read_bucket(aws, b).await,
        }
    }))
    .await
    .into_iter()
    .flatten()
    .collect()
}

async fn read_bucket(aws: &Emulator, b: &str) -> Vec<Entry> {
    let s3 = &aws.s3;
    let (tags, encryption, public_access, ownership, logging, lifecycle, website, policy, objects) = tokio::join!(
        s3.get_bucket_tagging().bucket(b).send(),
        s3.get_bucket_encryption().bucket(b).send(),
        s3.get_public_access_block().bucket(b).send(),
        s3.get_bucket_ownership_controls().bucket(b).send(),
        s3.get_bucket_logging().bucket(b).send(),
        s3.get_bucket_lifecycle_configuration().bucket(b).send(),
        s3.get_bucket_website().bucket(b).send(),
        s3.get_bucket_policy().bucket(b).send(),
        s3.list_objects_v2().bucket(b).send(),
    );
    let resource = format!("bucket {b}");
    let mut out = vec![entry(&resource, "")];
    let mut fact = |detail: String| out.push(entry(&resource, detail));
    if let Ok(t) = tags {
        for t in t.tag_set() {
            fact(format!("tag {}={}", t.key(), t.value()));
        }
    }
    if let Ok(e) = encryption {
        for rule in e
            .server_side_encryption_configuration()
            .map(|c| c.rules())
            .unwrap_or_default()
        {
            let algorithm = rule
                .apply_server_side_encryption_by_default()
                .map(|d| d.sse_algorithm().as_str().to_owned());
            fact(format!(
                "encryption {} bucket key {}",
                algorithm.unwrap_or_default(),
                rule.bucket_key_enabled().unwrap_or(false)
            ));
        }
    }
    if let Ok(p) = public_access {
        if let Some(c) = p.public_access_block_configuration() {
            fact(format!(
                "public access block: acls {} ignore acls {} policy {} restrict {}",
                c.block_public_acls().unwrap_or(false),
                c.ignore_public_acls().unwrap_or(false),
                c.block_public_policy().unwrap_or(false),
                c.restrict_public_buckets().unwrap_or(false)
            ));
        }
    }
    if let Ok(o) = ownership {
        for rule in o
            .ownership_controls()
            .map(|c| c.rules())
            .unwrap_or_default()
        {
            fact(format!("ownership {}", rule.object_ownership().as_str()));
        }
    }
    if let Ok(l) = logging {
        if let Some(l) = l.logging_enabled() {
            fact(format!(
                "logging to {}/{}",
                l.target_bucket(),
                l.target_prefix()
            ));
        }
    }
    if let Ok(l) = lifecycle {
        for rule in l.rules() {
            let transitions: Vec<String> = rule
                .transitions()
                .iter()
                .map(|t| {
                    format!(
                        "{} after {} days",
                        t.storage_class().map(|c| c.as_str()).unwrap_or_default(),
                        t.days().unwrap_or_default()
                    )
                })
                .collect();
            fact(format!(
                "lifecycle {} {} {}",
                rule.id().unwrap_or_default(),
                rule.status().as_str(),
                transitions.join(", ")
            ));
        }
    }
    if let Ok(w) = website {
        fact(format!(
            "website index {} error {}",
            w.index_document().map(|d| d.suffix()).unwrap_or_default(),
            w.error_document().map(|d| d.key()).unwrap_or_default()
        ));
    }
    if policy.is_ok() {
        fact("bucket policy".into());
    }
    if let Ok(o) = objects {
        for object in o.contents() {
            out.push(entry(
                format!("object {b}/{}", object.key().unwrap_or_default()),
                "",
            ));
        }
    }
    out
}

async fn read_iam(aws: &Emulator) -> Vec<Entry> {
    let iam = &aws.iam;
    let (policies, groups, users) = tokio::join!(
        iam.list_policies()
            .scope(aws_sdk_iam::types::PolicyScopeType::Local)
            .max_items(1000)
            .send(),
        iam.list_groups().max_items(1000).send(),
        iam.list_users().max_items(1000).send(),
    );
    let (policies, groups, users) = (policies.unwrap(), groups.unwrap(), users.unwrap());
    let policies = join_all(policies.policies().iter().map(|p| async move {
        let resource = format!(
            "policy {}{}",
            p.path().unwrap_or("/"),
            p.policy_name().unwrap_or_default()
        );
        let tags = iam
            .list_policy_tags()
            .policy_arn(p.arn().unwrap_or_default())
            .send()
            .await;
        let mut out = vec![entry(&resource, "")];
        for t in tags.map(|t| t.tags().to_vec()).unwrap_or_default() {
            out.push(entry(&resource, format!("tag {}={}", t.key(), t.value())));
        }
        out
    }));
    let groups = join_all(groups.groups().iter().map(|g| async move {
        let resource = format!("group {}{}", g.path(), g.group_name());
        let (members, attached) = tokio::join!(
            iam.get_group().group_name(g.group_name()).send(),
            iam.list_attached_group_policies()
                .group_name(g.group_name())
                .send()
        );
        let mut out = vec![entry(&resource, "")];
        for u in members.map(|m| m.users().to_vec()).unwrap_or_default() {
            out.push(entry(&resource, format!("member {}", u.user_name())));
        }
        for p in attached
            .map(|a| a.attached_policies().to_vec())
            .unwrap_or_default()
        {
            let arn = p.policy_arn().unwrap_or_default();
            let name = arn.split_once(":policy").map_or(arn, |(_, n)| n);
            out.push(entry(&resource, format!("attached policy {name}")));
        }
        out
    }));
    let users = join_all(users.users().iter().map(|u| async move {
        let resource = format!("user {}{}", u.path(), u.user_name());
        let (tags, keys) = tokio::join!(
            iam.list_user_tags().user_name(u.user_name()).send(),
            iam.list_access_keys().user_name(u.user_name()).send()
        );
        let mut out = vec![entry(&resource, "")];
        for t in tags.map(|t| t.tags().to_vec()).unwrap_or_default() {
            out.push(entry(&resource, format!("tag {}={}", t.key(), t.value())));
        }
        let keys = keys.map_or(0, |k| k.access_key_metadata().len());
        if keys > 0 {
            out.push(entry(&resource, format!("{keys} access key(s)")));
        }
        out
    }));
    let (policies, groups, users) = tokio::join!(policies, groups, users);
    policies
        .into_iter()
        .chain(groups)
        .chain(users)
        .flatten()
        .collect()
}

async fn read_dns(aws: &Emulator, site: Option<&Website>) -> Vec<Entry> {
    let Some(site) = site else {
        return Vec::new();
    };
    let records = aws
        .route53
        .list_resource_record_sets()
        .hosted_zone_id(&site.zone_id)
        .send()
        .await
        .unwrap();
    let mut out = Vec::new();
    for r in records.resource_record_sets() {
        let kind = r.r#type().as_str();
        if kind == "NS" || kind == "SOA" {
            continue;
        }
        let resource = format!("dns record {} {kind}", r.name().trim_end_matches('.'));
        out.push(entry(&resource, ""));
        if let Some(alias) = r.alias_target() {
            out.push(entry(&resource, format!("alias {}", alias.dns_name())));
        }
        for value in r.resource_records() {
            out.push(entry(&resource, format!("value {}", value.value())));
        }
    }
    out
}

/// Each distribution's entries, with whether it is enabled.
async fn read_cloudfront(aws: &Emulator) -> Vec<(bool, Vec<Entry>)> {
    let list = aws.cloudfront.list_distributions().send().await.unwrap();
    let items = list
        .distribution_list()
        .map(|l| l.items().to_vec())
        .unwrap_or_default();
    join_all(items.iter().map(|d| async move {
        // Only enabled ones can be left behind: the name says which it is.
        let resource = match d.enabled() {
            true => format!("enabled distribution {}", d.id()),
            false => format!("disabled distribution {}", d.id()),
        };
        let mut out = vec![entry(&resource, "")];
        out.push(entry(&resource, format!("enabled {}", d.enabled())));
        for alias in d.aliases().map(|a| a.items()).unwrap_or_default() {
            out.push(entry(&resource, format!("alias {alias}")));
        }
        for origin in d.origins().map(|o| o.items()).unwrap_or_default() {
            out.push(entry(&resource, format!("origin {}", origin.domain_name())));
        }
        let tags = aws
            .cloudfront
            .list_tags_for_resource()
            .resource(d.arn())
            .send()
            .await;
        for t in tags
            .ok()
            .and_then(|t| t.tags().map(|t| t.items().to_vec()))
            .unwrap_or_default()
        {
            out.push(entry(
                &resource,
                format!("tag {}={}", t.key(), t.value().unwrap_or_default()),
            ));
        }
        (d.enabled(), out)
    }))
    .await
}

/// What changed between two readings of an account.
#[derive(Debug, Default)]
struct Change {
    added: BTreeSet<Entry>,
    removed: BTreeSet<Entry>,
}

impl Change {
    fn between(before: &Inventory, after: &Inventory) -> Change {
        Change {
            added: after.entries.difference(&before.entries).cloned().collect(),
            removed: before.entries.difference(&after.entries).cloned().collect(),
        }
    }

    fn is_empty(&self) -> bool {
        self.added.is_empty() && self.removed.is_empty()
    }

    /// The change with every account-specific name replaced by a placeholder: equal for two runs of the same
    /// create in different accounts.
    fn generic(&self, names: &[(String, &'static str)]) -> (BTreeSet<String>, BTreeSet<String>) {
        let generic = |entries: &BTreeSet<Entry>| {
            entries
                .iter()
                .map(|e| generic_text(&render(e), names))
                .collect()
        };
        (generic(&self.added), generic(&self.removed))
    }
}

/// `text` with the given names, then anything generated (distribution ids and domains, UUIDs, timestamps,
/// long numbers) replaced by placeholders.
fn generic_text(text: &str, names: &[(String, &'static str)]) -> String {
    static GENERATED: OnceLock<Vec<(Regex, &'static str)>> = OnceLock::new();
    let generated = GENERATED.get_or_init(|| {
        [
            (r"\b[a-z0-9]+\.cloudfront\.net\b", "<distribution-domain>"),
            (r"\bdistribution [A-Z0-9]{8,}\b", "distribution <id>"),
            (r"=[A-Z0-9]{10,}\b", "=<id>"),
            (
                r"(?i)\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b",
                "<uuid>",
            ),
            (
                r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:?\d\d)?",
                "<time>",
            ),
            (r"\b\d{9,}\b", "<number>"),
        ]
        .into_iter()
        .map(|(re, to)| (Regex::new(re).unwrap(), to))
        .collect()
    });
    let mut names = names.to_vec();
    // A website's name contains its domain: the longer name first.
    names.sort_by_key(|(name, _)| std::cmp::Reverse(name.len()));
    let mut text = text.to_owned();
    for (name, placeholder) in names {
        text = text.replace(&name, placeholder);
    }
    for (re, placeholder) in generated {
        text = re.replace_all(&text, *placeholder).into_owned();
    }
    text
}

/// The resources in `entries`, by name, and the facts about resources not among them (changes to resources
/// that were there before).
fn summary(entries: &BTreeSet<Entry>) -> Vec<String> {
    let resources: BTreeSet<&String> = entries
        .iter()
        .filter(|(_, d)| d.is_empty())
        .map(|(r, _)| r)
        .collect();
    entries
        .iter()
        .filter(|(r, d)| d.is_empty() || !resources.contains(r))
        .map(render)
        .collect()
}

/// What an uninterrupted create leaves behind, in generic names, and the calls it makes.
struct Reference {
    calls: Vec<String>,
    added: BTreeSet<String>,
    removed: BTreeSet<String>,
}

impl Reference {
    /// Runs the create once, uninterrupted, through the binary and the proxy.
    async fn of(create: Create) -> Reference {
        let account = Account::new(create.websites()).await;
        let proxy = Proxy::start(moto::endpoint());
        let service = Service::start(&account, &proxy).await;
        let target = Target::prepare(create, &account, service.addr)
            .await
            .unwrap();
        let before = Inventory::read(&account).await;
        proxy.clear_calls();
        let answer = send(service.addr, &target.path, &target.body).await;
        // Whatever the create still does after answering is part of it.
        proxy
            .settle(Duration::from_millis(200), Duration::from_secs(10))
            .await;
        let calls = proxy.calls();
        drop(service);
        match &answer {
            Some((200 | 202, _)) => {}
            other => panic!(
                "{}: the uninterrupted create failed: {other:?}",
                create.what()
            ),
        }
        let after = Inventory::read(&account).await;
        let mut names = account.generic_names();
        names.extend(target.names);
        let (added, removed) = Change::between(&before, &after).generic(&names);
        Reference {
            calls,
            added,
            removed,
        }
    }

    /// The calls an uninterrupted create made before the point's call (the credentials' aside): none of them
    /// waits for the point's call, so a create held there makes them all too.
    fn before(&self, point: &KillPoint) -> Vec<String> {
        let mut seen = 0;
        let mut before = Vec::new();
        for call in &self.calls {
            if call == point.op {
                seen += 1;
                if seen == point.nth {
                    break;
                }
            }
            if !call.starts_with("sts:") {
                before.push(call.clone());
            }
        }
        before
    }

    /// How often the create made `op`.
    fn count(&self, op: &str) -> usize {
        self.calls.iter().filter(|c| *c == op).count()
    }

    /// Where the calls the proxy saw differ from the create's list (the assume-role call of the credentials
    /// is no part of any create).
    fn mismatch(&self, listed: &[&str]) -> Option<String> {
        // The create's marker is removed after the answer (`iam:DeletePolicy`), off the create's own path.
        let seen: BTreeSet<&str> = (self.calls.iter())
            .map(String::as_str)
            .filter(|c| !c.starts_with("sts:") && *c != "iam:DeletePolicy")
            .collect();
        let listed: BTreeSet<&str> = listed.iter().map(|op| split_op(op).0).collect();
        let unlisted: Vec<&&str> = seen.difference(&listed).collect();
        let unseen: Vec<&&str> = listed.difference(&seen).collect();
        (!unlisted.is_empty() || !unseen.is_empty()).then(|| {
            format!("the create's calls differ from its list: made but not listed {unlisted:?}, listed but not made {unseen:?}")
        })
    }
}

/// A call to hold: the `nth` request of `op` in the create.
#[derive(Clone, Debug)]
struct KillPoint {
    op: &'static str,
    nth: usize,
}

impl std::fmt::Display for KillPoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.nth {
            1 => f.pad(self.op),
            n => f.pad(&format!("{} (call {n})", self.op)),
        }
    }
}

/// How one kill point ended.
struct Outcome {
    point: KillPoint,
    /// Passed: what the account held after the clean.
    verdict: Result<String, Vec<String>>,
}

/// Every call of the create, each as often as an uninterrupted create makes it.
fn kill_points(create: Create, reference: &Reference) -> Vec<KillPoint> {
    // A list names some calls of one operation apart (`iam:CreatePolicy[BktAdmPlc]`); the proxy tells them apart
    // by their order.
    let ops: BTreeSet<&'static str> = create.calls().iter().map(|op| split_op(op).0).collect();
    ops.into_iter()
        .flat_map(|op| (1..=reference.count(op).max(1)).map(move |nth| KillPoint { op, nth }))
        .collect()
}

/// Kills the binary at every kill point of `create`, and fails listing each one after which the cleaner left
/// something of the create behind.
async fn every_kill_point(create: Create) {
    // Two uninterrupted creates, in two accounts, must look alike once their names are made generic: else
    // "the finished resource" could never be recognised.
    let (reference, again) = tokio::join!(Reference::of(create), Reference::of(create));
    let reference = Arc::new(reference);
    let mut failures = Vec::new();
    if (&reference.added, &reference.removed) != (&again.added, &again.removed) {
        failures.push(format!(
            "two uninterrupted creates differ: {:?} / {:?}",
            reference
                .added
                .symmetric_difference(&again.added)
                .collect::<Vec<_>>(),
            reference
                .removed
                .symmetric_difference(&again.removed)
                .collect::<Vec<_>>()
        ));
    }
    if let Some(m) = reference.mismatch(create.calls()) {
        failures.push(m);
    }
    let points = kill_points(create, &reference);
    let outcomes = join_all(points.into_iter().map(|point| {
        let reference = reference.clone();
        let run = tokio::spawn({
            let point = point.clone();
            async move {
                let _slot = kill_point_slots().acquire().await.unwrap();
                kill_at(create, point, &reference).await
            }
        });
        async move {
            run.await.unwrap_or_else(|e| Outcome {
                point,
                verdict: Err(vec![format!("the kill point panicked: {}", panic_text(e))]),
            })
        }
    }))
    .await;

    let mut report = format!("{} killed at each AWS call, then cleaned:\n", create.what());
    let total = outcomes.len();
    let mut failed = 0;
    for outcome in outcomes {
        match &outcome.verdict {
            Ok(what) => report.push_str(&format!("  ok    {:<40} {what}\n", outcome.point)),
            Err(problems) => {
                report.push_str(&format!(
                    "  FAIL  {:<40} {}\n",
                    outcome.point,
                    problems.join("; ")
                ));
                failures.push(format!("{}: {}", outcome.point, problems.join("; ")));
                failed += 1;
            }
        }
    }
    println!("{report}");
    assert!(
        failures.is_empty(),
        "{} ({failed} of {total} kill points failed):\n{}",
        create.what(),
        failures.join("\n")
    );
}

fn panic_text(e: tokio::task::JoinError) -> String {
    match e.try_into_panic() {
        Ok(p) => (p.downcast_ref::<String>().cloned())
            .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_default(),
        Err(e) => e.to_string(),
    }
}

/// Holds `point`'s call, kills the binary while it is held, cleans after `reclaimAfter` and judges what is
/// left.
async fn kill_at(create: Create, point: KillPoint, reference: &Reference) -> Outcome {
    let verdict = match killed_and_cleaned(create, &point, reference).await {
        Err(problem) => Err(vec![problem]),
        Ok(run) => judge(&run, reference),
    };
    Outcome { point, verdict }
}

/// What a kill point found: the account before the create and after the clean.
struct Run {
    before: Inventory,
    after: Inventory,
    names: Vec<(String, &'static str)>,
    clean: Result<(), String>,
}

async fn killed_and_cleaned(
    create: Create,
    point: &KillPoint,
    reference: &Reference,
) -> Result<Run, String> {
    let account = Account::new(create.websites()).await;
    let proxy = Proxy::start(moto::endpoint());
    let mut service = Service::start(&account, &proxy).await;
    let (before, target) =
        kill_during(&mut service, &proxy, &account, create, point, reference).await?;
    tokio::time::sleep(PAST_RECLAIM).await;
    let clean = clean(&service.config).await;
    let after = Inventory::read(&account).await;
    let mut names = account.generic_names();
    names.extend(target.names);
    Ok(Run {
        before,
        after,
        names,
        clean,
    })
}

/// Sends the create, waits until the proxy holds the point's call and everything else the process can do
/// meanwhile is done (the calls an uninterrupted create made before it, then a pause in the calls), and kills
/// the process with SIGKILL, checking that the call was held, the process alive and the create unanswered up
/// to that moment.
async fn kill_during(
    service: &mut Service,
    proxy: &Proxy,
    account: &Account,
    create: Create,
    point: &KillPoint,
    reference: &Reference,
) -> Result<(Inventory, Target), String> {
    let (addr, child) = (service.addr, &mut service.child);
    let target = Target::prepare(create, account, addr).await?;
    let before = Inventory::read(account).await;
    proxy.clear_calls();
    proxy.hold(point.op, point.nth);
    let (path, body) = (target.path.clone(), target.body.clone());
    let mut request = tokio::spawn(async move { send(addr, &path, &body).await });
    let held = tokio::select! {
        held = proxy.held() => held,
        answer = &mut request => {
            return Err(format!("the create answered {} before the call was made", brief(&answer.unwrap())));
        }
        _ = tokio::time::sleep(Duration::from_secs(30)) => {
            return Err("the call was not made within 30 s".into());
        }
    };
    if held != point.op {
        return Err(format!("the proxy held {held}, not {}", point.op));
    }
    if let Err(missing) = proxy
        .seen(&reference.before(point), Duration::from_secs(10))
        .await
    {
        return Err(format!(
            "calls the create makes before this one did not come within 10 s: {missing:?}"
        ));
    }
    if !proxy
        .settle(Duration::from_millis(200), Duration::from_secs(10))
        .await
    {
        return Err("other calls were still in flight 10 s after the call was held".into());
    }
    if let Some(status) = child.try_wait().unwrap() {
        return Err(format!("the process had exited ({status}) before the kill"));
    }
    if request.is_finished() {
        let answer = request.await.unwrap();
        return Err(format!(
            "the create answered {} before the kill",
            brief(&answer)
        ));
    }
    if proxy.holding().as_deref() != Some(point.op) {
        return Err("the call was no longer held at the kill".into());
    }
    child.kill().unwrap();
    let status = child.wait().unwrap();
    if status.signal() != Some(libc::SIGKILL) {
        return Err(format!("the process ended with {status}, not SIGKILL"));
    }
    match tokio::time::timeout(Duration::from_secs(5), request).await {
        Ok(Ok(None)) => Ok((before, target)),
        other => Err(format!(
            "the create's connection did not end unanswered: {other:?}"
        )),
    }
}

/// Nothing of the create left (a disabled distribution aside), or exactly what an uninterrupted create
/// leaves; and nothing that was there before removed.
fn judge(run: &Run, reference: &Reference) -> Result<String, Vec<String>> {
    let change = Change::between(&run.before, &run.after);
    let mut problems = Vec::new();
    if let Err(e) = &run.clean {
        problems.push(e.clone());
    }
    let (added, removed) = change.generic(&run.names);
    let finished = !change.is_empty() && added == reference.added && removed == reference.removed;
    if !change.is_empty() && !finished {
        if !change.added.is_empty() {
            problems.push(format!("left {}", summary(&change.added).join(", ")));
        }
        if !change.removed.is_empty() {
            problems.push(format!(
                "removed what was there before: {}",
                summary(&change.removed).join(", ")
            ));
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    let disabled: BTreeSet<&str> = (run.after.disabled.difference(&run.before.disabled))
        .map(|(r, _)| r.as_str())
        .collect();
    let mut verdict = match finished {
        true => "the finished resource".to_owned(),
        false => "nothing left".to_owned(),
    };
    if !disabled.is_empty() {
        let ids: Vec<&str> = disabled.into_iter().collect();
        verdict.push_str(&format!(" but the disabled {}", ids.join(", ")));
    }
    Ok(verdict)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bucket_create_killed_at_any_call_is_undone_by_the_cleaner() {
    every_kill_point(Create::Bucket).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bucket_user_create_killed_at_any_call_is_undone_by_the_cleaner() {
    every_kill_point(Create::BucketUser).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_website_create_killed_at_any_call_is_undone_by_the_cleaner() {
    every_kill_point(Create::Website).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_website_user_create_killed_at_any_call_is_undone_by_the_cleaner() {
    every_kill_point(Create::WebsiteUser).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_path_scoped_website_user_create_killed_at_any_call_is_undone_by_the_cleaner() {
    every_kill_point(Create::ScopedWebsiteUser).await;
}

/// The call both "younger than reclaimAfter" tests stop a bucket create at: by then the bucket, its policy
/// and its group exist.
const YOUNG_KILL_POINT: KillPoint = KillPoint {
    op: "s3:PutBucketEncryption",
    nth: 1,
};

/// A clean run while a create is in flight (older than 1 s, younger than `reclaimAfter`) changes nothing, and
/// the create then finishes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clean_leaves_a_create_in_flight_alone() {
    let reference = Reference::of(Create::Bucket).await;
    let point = YOUNG_KILL_POINT;
    let account = Account::new(false).await;
    let proxy = Proxy::start(moto::endpoint());
    let service = Service::start(&account, &proxy).await;
    let addr = service.addr;
    let target = Target::prepare(Create::Bucket, &account, addr)
        .await
        .unwrap();
    let before = Inventory::read(&account).await;
    proxy.clear_calls();
    proxy.hold(point.op, point.nth);
    let (path, body) = (target.path.clone(), target.body.clone());
    let request = tokio::spawn(async move { send(addr, &path, &body).await });
    assert_eq!(proxy.held().await, point.op);
    proxy
        .seen(&reference.before(&point), Duration::from_secs(10))
        .await
        .unwrap();
    assert!(
        proxy
            .settle(Duration::from_millis(200), Duration::from_secs(10))
            .await
    );
    tokio::time::sleep(PAST_RECLAIM).await;

    let in_flight = Inventory::read(&account).await;
    let ten_minutes = clean_config(&account, &proxy.url(), "10m");
    let cleaned = clean(&ten_minutes).await;
    let _ = std::fs::remove_file(&ten_minutes);
    let after_clean = Inventory::read(&account).await;
    proxy.release();
    let answer = request.await.unwrap();
    proxy
        .settle(Duration::from_millis(200), Duration::from_secs(10))
        .await;
    drop(service);

    cleaned.unwrap();
    let change = Change::between(&in_flight, &after_clean);
    assert!(
        change.is_empty(),
        "a clean with reclaimAfter = 10m changed a create in flight: added {:?}, removed {:?}",
        summary(&change.added),
        summary(&change.removed)
    );
    assert!(
        matches!(answer, Some((202, _))),
        "the create did not finish: {answer:?}"
    );
    let finished = Inventory::read(&account).await;
    let mut names = account.generic_names();
    names.extend(target.names);
    let (added, removed) = Change::between(&before, &finished).generic(&names);
    assert_eq!(
        (added, removed),
        (reference.added, reference.removed),
        "the create released after the clean is not what an uninterrupted create makes"
    );
}

/// A killed create younger than `reclaimAfter` survives a clean; once older, the next clean undoes it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_create_is_left_alone_until_older_than_reclaim_after() {
    let reference = Reference::of(Create::Bucket).await;
    let account = Account::new(false).await;
    let proxy = Proxy::start(moto::endpoint());
    let mut service = Service::start(&account, &proxy).await;
    let killed = kill_during(
        &mut service,
        &proxy,
        &account,
        Create::Bucket,
        &YOUNG_KILL_POINT,
        &reference,
    )
    .await;
    let (before, _target) = killed.unwrap();
    tokio::time::sleep(PAST_RECLAIM).await;

    let killed = Inventory::read(&account).await;
    assert!(
        !Change::between(&before, &killed).is_empty(),
        "the kill point left nothing to clean"
    );
    let ten_minutes = clean_config(&account, &proxy.url(), "10m");
    let cleaned = clean(&ten_minutes).await;
    let _ = std::fs::remove_file(&ten_minutes);
    cleaned.unwrap();
    let after_young_clean = Inventory::read(&account).await;
    let change = Change::between(&killed, &after_young_clean);
    assert!(
        change.is_empty(),
        "a clean with reclaimAfter = 10m touched a create killed {PAST_RECLAIM:?} ago: added {:?}, removed {:?}",
        summary(&change.added),
        summary(&change.removed)
    );

    // Older than the 1 s of the binary's own configuration now.
    clean(&service.config).await.unwrap();
    let after = Inventory::read(&account).await;
    let left = Change::between(&before, &after);
    assert!(
        left.is_empty(),
        "a clean with reclaimAfter = 1s left the create killed at {} behind: {}",
        YOUNG_KILL_POINT,
        summary(&left.added).join(", ")
    );
}
