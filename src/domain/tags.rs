//! Resource tags: the caller's tags, validated, plus the service's own org tag.

use serde::{Deserialize, Serialize};

/// S3 allows 50 tags on a bucket (CloudFront 50 on a distribution); the service's own tags count against that.
pub const MAX_TAGS: usize = 50;
/// The tags the service keeps on a plain bucket: the org tag.
pub const BUCKET_OWN_TAGS: usize = 1;

/// A tag as it appears on the wire (`{"Key": …, "Value": …}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct Tag {
    pub key: String,
    #[serde(default)]
    pub value: String,
}

impl Tag {
    pub fn new(key: impl Into<String>, value: impl Into<String>) -> Self {
        Tag {
            key: key.into(),
            value: value.into(),
        }
    }
}

/// Prefix of every tag key the service keeps for its own bookkeeping (`s3-api:distribution`, …). Callers can set
/// none of them, so no caller can forge what the service later acts on.
pub const RESERVED_PREFIX: &str = "s3-api:";

/// The tag the service puts on each IAM user it creates, naming the bucket (or website bucket) the user was made
/// for. A user delete takes the user out of its groups before `DeleteUser`, which can still fail; the user
/// routes then find the user through this tag (with the org tag), so repeating the delete finishes it.
pub const USER_BUCKET_TAG: &str = "s3-api:bucket";

/// The characters S3, CloudFront and IAM all accept in tag keys and values: Unicode letters, digits and
/// separators, and `_ . : / = + - @`. Anything else fails at AWS, half-way through a create.
const ALLOWED: &str = "letters, digits, white space and _ . : / = + - @";

fn allowed(c: char) -> bool {
    static TAG_CHAR: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    let re = TAG_CHAR.get_or_init(|| {
        regex::Regex::new(r"^[\p{L}\p{Z}\p{N}_.:/=+\-@]$").expect("a valid pattern")
    });
    let mut buf = [0u8; 4];
    re.is_match(c.encode_utf8(&mut buf))
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("tag {key:?}: {reason}")]
pub struct TagError {
    key: String,
    reason: String,
    /// The key is the service's own (the org tag key or the reserved prefix), not merely malformed.
    pub reserved: bool,
}

/// The caller's tags, validated against AWS's tag rules: at most `MAX_TAGS` together with the service's own,
/// keys 1–128 and values 0–256 characters of AWS's tag alphabet, unique keys, no `aws:` prefix, no key of the
/// service's own. Only `parse` builds one.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CallerTags(Vec<Tag>);

impl CallerTags {
    /// `org_key` is the org tag's key; `own` how many tags the service itself keeps on the resource (they take
    /// that many places of the 50).
    pub fn parse(tags: Vec<Tag>, org_key: &str, own: usize) -> Result<Self, TagError> {
        let err = |key: &str, reason: String, reserved: bool| {
            Err(TagError {
                key: key.chars().take(80).collect(),
                reason,
                reserved,
            })
        };
        let room = MAX_TAGS.saturating_sub(own);
        if tags.len() > room {
            return err(
                "",
                format!("at most {room} tags are allowed (S3 keeps {MAX_TAGS}, the service uses the rest)"),
                false,
            );
        }
        for (i, t) in tags.iter().enumerate() {
            let key_len = t.key.chars().count();
            if !(1..=128).contains(&key_len) {
                return err(
                    &t.key,
                    "keys must be 1 to 128 characters long".into(),
                    false,
                );
            }
            if t.value.chars().count() > 256 {
                return err(
                    &t.key,
                    "values must be at most 256 characters long".into(),
                    false,
                );
            }
            if let Some(c) = t.key.chars().find(|c| !allowed(*c)) {
                return err(
                    &t.key,
                    format!("the key contains {c:?}; keys and values may hold only {ALLOWED}"),
                    false,
                );
            }
            if let Some(c) = t.value.chars().find(|c| !allowed(*c)) {
                return err(
                    &t.key,
                    format!("the value contains {c:?}; keys and values may hold only {ALLOWED}"),
                    false,
                );
            }
            if t.key.to_ascii_lowercase().starts_with("aws:") {
                return err(
                    &t.key,
                    "keys starting with `aws:` are reserved by AWS".into(),
                    false,
                );
            }
            // S3 tag keys are case-sensitive, but a look-alike of the service's own keys is refused as well.
            let lower = t.key.to_lowercase();
            if lower == org_key.to_lowercase() || lower.starts_with(RESERVED_PREFIX) {
                return err(
                    &t.key,
                    format!(
                        "the key is reserved for the service's own tags ({org_key} and {RESERVED_PREFIX}…)"
                    ),
                    true,
                );
            }
            if tags[..i].iter().any(|o| o.key == t.key) {
                return err(&t.key, "keys must be unique".into(), false);
            }
        }
        Ok(CallerTags(tags))
    }

    /// Whether `key` is one of the service's own tag keys on a resource (kept when the caller's tags change).
    pub fn is_own_key(key: &str, org_key: &str) -> bool {
        key == org_key || key.starts_with(RESERVED_PREFIX)
    }

    pub fn tags(&self) -> &[Tag] {
        &self.0
    }

    /// The caller's tags followed by the service's own.
    pub fn with(&self, own: &[Tag]) -> Vec<Tag> {
        self.0.iter().chain(own).cloned().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tags(n: usize) -> Vec<Tag> {
        (0..n).map(|i| Tag::new(format!("k{i}"), "v")).collect()
    }

    const ORG: &str = "spinup:org";

    #[test]
    fn accepts_seed_like_tags() {
        let t = vec![
            Tag::new("Application", "HowToGet"),
            Tag::new("COA", "Take.My.Money"),
            Tag::new("CreatedBy", "Big Bird"),
            Tag::new("Straße/Été", "1 + 1 = 2 @ 10:30 -_"),
        ];
        let parsed = CallerTags::parse(t.clone(), ORG, 1).unwrap();
        assert_eq!(parsed.with(&[Tag::new(ORG, "o")]).len(), 5);
    }

    #[test]
    fn counts_the_service_tags_against_the_limit() {
        assert!(CallerTags::parse(tags(49), ORG, 1).is_ok());
        assert!(CallerTags::parse(tags(50), ORG, 1).is_err());
        assert!(CallerTags::parse(tags(48), ORG, 2).is_ok());
        assert!(CallerTags::parse(tags(49), ORG, 2).is_err());
    }

    #[test]
    fn refuses_what_aws_refuses_naming_the_character() {
        // The seed's own example value: S3, CloudFront and IAM all refuse `$`.
        let e = CallerTags::parse(vec![Tag::new("COA", "Take.My.Money.$$$$")], ORG, 1).unwrap_err();
        assert!(!e.reserved);
        let text = e.to_string();
        assert!(
            text.contains("COA") && text.contains("'$'") && text.contains("_ . : / = + - @"),
            "{text}"
        );
        for bad in [
            "a*b", "a#b", "a!b", "a,b", "a;b", "a\"b", "a<b", "a%b", "a&b", "a\u{301}",
        ] {
            assert!(
                CallerTags::parse(vec![Tag::new(bad, "v")], ORG, 1).is_err(),
                "{bad:?}"
            );
            assert!(
                CallerTags::parse(vec![Tag::new("k", bad)], ORG, 1).is_err(),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn refuses_the_service_keys_as_reserved() {
        for key in [
            ORG,
            "SPINUP:ORG",
            "s3-api:distribution",
            "s3-api:anything",
            "S3-API:x",
        ] {
            let e = CallerTags::parse(vec![Tag::new(key, "v")], ORG, 1).unwrap_err();
            assert!(e.reserved, "{key}");
        }
        assert!(CallerTags::is_own_key("s3-api:distribution", ORG));
        assert!(CallerTags::is_own_key(ORG, ORG));
        assert!(!CallerTags::is_own_key("Owner", ORG));
    }

    #[test]
    fn rejects_bad_tags() {
        let r = ORG;
        for bad in [
            vec![Tag::new("", "v")],
            vec![Tag::new("k".repeat(129), "v")],
            vec![Tag::new("k", "v".repeat(257))],
            vec![Tag::new("aws:cloudformation", "v")],
            vec![Tag::new("AWS:x", "v")],
            vec![Tag::new("spinup:org", "v")],
            vec![Tag::new("a", "1"), Tag::new("a", "2")],
            vec![Tag::new("a\nb", "1")],
        ] {
            assert!(CallerTags::parse(bad.clone(), r, 1).is_err(), "{bad:?}");
        }
        assert!(CallerTags::parse(vec![Tag::new("k".repeat(128), "")], r, 1).is_ok());
    }
}
