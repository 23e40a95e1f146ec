//! `s3-api convert-config`: the earlier Go service's configuration (JSON: one `account` object used in every
//! account of `accountsMap`) as this service's TOML, one account per `accountsMap` entry. Keys that cannot be
//! carried over are named (never their values, so no secret is printed on standard error).

use serde_json::{Map, Value};
use toml::Table;

/// The TOML text and the notes about what was not carried over.
#[derive(Debug)]
pub struct Converted {
    pub toml: String,
    pub notes: Vec<String>,
}

/// The Go service's top-level keys and the keys of its `account` object.
const TOP_KEYS: &[&str] = &[
    "listenAddress",
    "token",
    "logLevel",
    "org",
    "accountsMap",
    "account",
];
const ACCOUNT_KEYS: &[&str] = &[
    "endpoint",
    "region",
    "akid",
    "secret",
    "externalId",
    "role",
    "defaultS3BucketActions",
    "defaultS3ObjectActions",
    "defaultCloudfrontDistributionActions",
    "domains",
    "accessLog",
    "cleaner",
];

pub fn convert(go: &str) -> Result<Converted, String> {
    let go: Value = serde_json::from_str(go).map_err(|e| format!("not JSON: {e}"))?;
    let top = go
        .as_object()
        .ok_or("the configuration is not a JSON object")?;
    if top.contains_key("accounts") && !top.contains_key("accountsMap") {
        return Err("this is the older shape with an `accounts` map, which the Go service already ignored: \
                    write `account` and `accountsMap` first (see CONFIG.md)"
            .into());
    }
    let mut notes = Vec::new();
    unknown(top, TOP_KEYS, "", &mut notes);
    let mut out = Table::new();

    if let Some(listen) = string(top, "listenAddress")? {
        // Go's ":8080" means every interface.
        let listen = match listen.strip_prefix(':') {
            Some(port) => format!("0.0.0.0:{port}"),
            None => listen,
        };
        out.insert("listenAddress".into(), listen.into());
    }
    for key in ["token", "logLevel", "org"] {
        if let Some(v) = string(top, key)? {
            out.insert(key.into(), v.into());
        }
    }

    let account = top
        .get("account")
        .and_then(Value::as_object)
        .ok_or("no `account` object")?;
    unknown(account, ACCOUNT_KEYS, "account.", &mut notes);
    let map = top
        .get("accountsMap")
        .and_then(Value::as_object)
        .filter(|m| !m.is_empty())
        .ok_or("no `accountsMap` entries (alias → 12-digit account id)")?;
    let mut accounts = Table::new();
    for (alias, id) in map {
        let id = id
            .as_str()
            .filter(|id| id.len() == 12 && id.bytes().all(|b| b.is_ascii_digit()))
            .ok_or_else(|| format!("accountsMap.{alias}: not a 12-digit account id"))?;
        accounts.insert(alias.clone(), account_table(account, alias, id)?.into());
    }
    out.insert("accounts".into(), accounts.into());
    let toml = format!(
        "# Converted from the Go service's configuration by `s3-api convert-config`.\n{}",
        toml::to_string(&out).map_err(|e| format!("cannot write TOML: {e}"))?
    );
    Ok(Converted { toml, notes })
}

fn account_table(account: &Map<String, Value>, alias: &str, id: &str) -> Result<Table, String> {
    let mut t = Table::new();
    for key in ["region", "endpoint", "akid", "secret", "externalId"] {
        if let Some(v) = string(account, key)? {
            t.insert(key.into(), v.into());
        }
    }
    if let Some(role) = string(account, "role")? {
        t.insert(
            "roleArn".into(),
            format!("arn:aws:iam::{id}:role/{role}").into(),
        );
    }
    for key in [
        "defaultS3BucketActions",
        "defaultS3ObjectActions",
        "defaultCloudfrontDistributionActions",
    ] {
        if let Some(list) = account.get(key) {
            let actions: Option<Vec<toml::Value>> = list.as_array().and_then(|a| {
                a.iter()
                    .map(|v| v.as_str().map(toml::Value::from))
                    .collect()
            });
            let actions = actions.ok_or_else(|| format!("account.{key}: not a list of strings"))?;
            t.insert(key.into(), actions.into());
        }
    }
    if let Some(domains) = account.get("domains") {
        let domains = domains
            .as_object()
            .ok_or("account.domains: not an object")?;
        let mut out = Table::new();
        for (domain, d) in domains {
            let d = d
                .as_object()
                .ok_or_else(|| format!("account.domains.{domain}: not an object"))?;
            let mut entry = Table::new();
            for key in ["certArn", "hostedZoneID"] {
                if let Some(v) = string(d, key)? {
                    entry.insert(key.into(), v.into());
                }
            }
            out.insert(domain.clone(), entry.into());
        }
        t.insert("domains".into(), out.into());
    }
    if let Some(log) = account.get("accessLog").and_then(Value::as_object) {
        let mut entry = Table::new();
        if let Some(bucket) = string(log, "bucket")? {
            // The Go service put the account's alias where its bucket name said `{account_id}`.
            entry.insert(
                "bucket".into(),
                bucket.replace("{account_id}", alias).into(),
            );
        }
        if let Some(prefix) = string(log, "prefix")? {
            entry.insert("prefix".into(), prefix.into());
        }
        t.insert("accessLog".into(), entry.into());
    }
    if let Some(cleaner) = account.get("cleaner").and_then(Value::as_object) {
        let mut entry = Table::new();
        for key in ["interval", "maxSplay"] {
            if let Some(d) = string(cleaner, key)? {
                humantime::parse_duration(&d)
                    .map_err(|e| format!("account.cleaner.{key}: {d:?} is not a duration ({e})"))?;
                entry.insert(key.into(), d.into());
            }
        }
        t.insert("cleaner".into(), entry.into());
    }
    Ok(t)
}

/// A string value of `key`, if present and not empty (the Go service read an empty string as unset); an error
/// when present but not a string.
fn string(map: &Map<String, Value>, key: &str) -> Result<Option<String>, String> {
    match map.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.is_empty() => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(format!("{key}: not a string")),
    }
}

fn unknown(map: &Map<String, Value>, known: &[&str], at: &str, notes: &mut Vec<String>) {
    for key in map.keys() {
        if !known.contains(&key.as_str()) {
            notes.push(format!(
                "{at}{key}: not carried over (the Go service ignored it too)"
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GO: &str = include_str!("../tests/fixtures/go-config.json");

    #[test]
    fn the_go_example_converts_to_one_account_per_alias() {
        let c = convert(GO).unwrap();
        let t: Table = c.toml.parse().unwrap();
        assert_eq!(t["listenAddress"].as_str(), Some("0.0.0.0:8080"));
        assert_eq!(t["org"].as_str(), Some("spinup"));
        let accounts = t["accounts"].as_table().unwrap();
        assert_eq!(accounts.keys().collect::<Vec<_>>(), ["spinup", "spinupsec"]);
        let sec = accounts["spinupsec"].as_table().unwrap();
        assert_eq!(
            sec["roleArn"].as_str(),
            Some("arn:aws:iam::012345678901:role/SpinupS3ApiRole")
        );
        assert_eq!(sec["externalId"].as_str(), Some("8f1d7c"));
        assert_eq!(
            sec["accessLog"]["bucket"].as_str(),
            Some("spinupsec-s3-access-logs")
        );
        assert_eq!(sec["cleaner"]["interval"].as_str(), Some("20m"));
        assert_eq!(
            sec["domains"]["bulldogs.cloud"]["hostedZoneID"].as_str(),
            Some("Z0123456789ABC")
        );
        // An unknown key is named, its value (it could be a secret) never.
        assert_eq!(c.notes.len(), 1, "{:?}", c.notes);
        assert!(c.notes[0].contains("account.sessionToken"));
        assert!(!c.notes.join(" ").contains("never-print"));
    }

    #[test]
    fn what_cannot_be_converted_is_refused_with_a_reason() {
        let old = r#"{"token": "t", "org": "o", "accounts": {"x": {"region": "us-east-1"}}}"#;
        assert!(convert(old).unwrap_err().contains("older shape"));
        assert!(convert("[]").is_err());
        assert!(convert(r#"{"org": "o", "account": {}}"#)
            .unwrap_err()
            .contains("accountsMap"));
        let bad_id = r#"{"org": "o", "account": {}, "accountsMap": {"a": "12"}}"#;
        assert!(convert(bad_id).unwrap_err().contains("12-digit"));
        let bad_duration = r#"{"org": "o", "accountsMap": {"a": "012345678901"},
            "account": {"region": "us-east-1", "cleaner": {"interval": "often"}}}"#;
        assert!(convert(bad_duration).unwrap_err().contains("interval"));
    }
}
