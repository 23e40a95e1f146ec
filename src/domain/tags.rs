//! Resource tags: the caller's tags, validated, plus the service's own org tag.

use serde::{Deserialize, Serialize};

/// S3 allows 50 tags on a bucket; the service's own tags count against that.
pub const MAX_TAGS: usize = 50;

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

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("tag {key:?}: {reason}")]
pub struct TagError {
    key: String,
    reason: String,
}

/// The caller's tags, validated: at most `MAX_TAGS` together with the service's own, unique keys, no reserved
/// keys. Only `parse` builds one.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CallerTags(Vec<Tag>);

impl CallerTags {
    /// `reserved` are the keys the service itself sets (the org tag key and any bookkeeping key); they cannot be
    /// set by a caller and take that many places of the 50.
    pub fn parse(tags: Vec<Tag>, reserved: &[&str]) -> Result<Self, TagError> {
        let err = |key: &str, reason: String| {
            Err(TagError {
                key: key.chars().take(80).collect(),
                reason,
            })
        };
        let room = MAX_TAGS - reserved.len();
        if tags.len() > room {
            return err(
                "",
                format!("at most {room} tags are allowed (S3 keeps {MAX_TAGS}, the service uses the rest)"),
            );
        }
        for (i, t) in tags.iter().enumerate() {
            let key_len = t.key.chars().count();
            if !(1..=128).contains(&key_len) {
                return err(&t.key, "keys must be 1 to 128 characters long".into());
            }
            if t.value.chars().count() > 256 {
                return err(&t.key, "values must be at most 256 characters long".into());
            }
            if t.key.chars().chain(t.value.chars()).any(char::is_control) {
                return err(
                    &t.key,
                    "keys and values must not contain control characters".into(),
                );
            }
            if t.key.to_ascii_lowercase().starts_with("aws:") {
                return err(
                    &t.key,
                    "keys starting with `aws:` are reserved by AWS".into(),
                );
            }
            if reserved.iter().any(|r| r == &t.key) {
                return err(
                    &t.key,
                    "this key is reserved for the service's own tag".into(),
                );
            }
            if tags[..i].iter().any(|o| o.key == t.key) {
                return err(&t.key, "keys must be unique".into());
            }
        }
        Ok(CallerTags(tags))
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

    #[test]
    fn accepts_the_seed_tags() {
        let t = vec![
            Tag::new("Application", "HowToGet"),
            Tag::new("COA", "Take.My.Money.$$$$"),
            Tag::new("CreatedBy", "Big Bird"),
        ];
        let parsed = CallerTags::parse(t.clone(), &["spinup:org"]).unwrap();
        assert_eq!(parsed.with(&[Tag::new("spinup:org", "o")]).len(), 4);
    }

    #[test]
    fn counts_the_service_tags_against_the_limit() {
        assert!(CallerTags::parse(tags(49), &["spinup:org"]).is_ok());
        assert!(CallerTags::parse(tags(50), &["spinup:org"]).is_err());
    }

    #[test]
    fn rejects_bad_tags() {
        let r = &["spinup:org"];
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
            assert!(CallerTags::parse(bad.clone(), r).is_err(), "{bad:?}");
        }
        assert!(CallerTags::parse(vec![Tag::new("k".repeat(128), "")], r).is_ok());
    }
}
