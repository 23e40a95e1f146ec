//! Validated names. Every name that reaches AWS is one of these types, built only by `parse`, so no handler can
//! hand an unchecked string to AWS or into a policy document.

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{what} {shown:?} is invalid: {reason}")]
pub struct NameError {
    pub what: &'static str,
    shown: String,
    pub reason: &'static str,
}

impl NameError {
    pub(crate) fn new(what: &'static str, value: &str, reason: &'static str) -> Self {
        // Hostile inputs can be 10 KB long: quote only the start.
        let shown = value.chars().take(80).collect();
        NameError {
            what,
            shown,
            reason,
        }
    }
}

/// An S3 general purpose bucket name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BucketName(String);

const BUCKET_PREFIXES: &[&str] = &["xn--", "sthree-", "amzn-s3-demo-"];
const BUCKET_SUFFIXES: &[&str] = &["-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"];

impl BucketName {
    pub fn parse(s: &str) -> Result<Self, NameError> {
        let err = |reason| Err(NameError::new("bucket name", s, reason));
        if !(3..=63).contains(&s.len()) {
            return err("must be 3 to 63 characters long");
        }
        if !s
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-')
        {
            return err("only lowercase letters, digits, `.` and `-` are allowed");
        }
        let alnum = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
        if !alnum(s.as_bytes()[0]) || !alnum(s.as_bytes()[s.len() - 1]) {
            return err("must begin and end with a letter or digit");
        }
        if s.contains("..") {
            return err("must not contain two adjacent periods");
        }
        if s.parse::<std::net::Ipv4Addr>().is_ok() {
            return err("must not be formatted as an IP address");
        }
        if BUCKET_PREFIXES.iter().any(|p| s.starts_with(p)) {
            return err("uses a prefix reserved by AWS");
        }
        if BUCKET_SUFFIXES.iter().any(|p| s.ends_with(p)) {
            return err("uses a suffix reserved by AWS");
        }
        Ok(BucketName(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `arn:aws:s3:::<bucket>`
    pub fn arn(&self) -> String {
        format!("arn:aws:s3:::{}", self.0)
    }
}

fn is_iam_name_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"_+=,.@-".contains(&b)
}

/// An IAM user name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct UserName(String);

impl UserName {
    pub fn parse(s: &str) -> Result<Self, NameError> {
        if !(1..=64).contains(&s.len()) {
            return Err(NameError::new(
                "user name",
                s,
                "must be 1 to 64 characters long",
            ));
        }
        if !s.bytes().all(is_iam_name_char) {
            return Err(NameError::new(
                "user name",
                s,
                "only letters, digits and `_+=,.@-` are allowed",
            ));
        }
        Ok(UserName(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An IAM group or policy name composed by the service (`<bucket>-BktAdmGrp`, …), checked against IAM's rules.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct IamName(String);

impl IamName {
    pub(crate) fn compose(parts: &[&str]) -> Result<Self, NameError> {
        let s = parts.join("-");
        if !(1..=128).contains(&s.len()) {
            return Err(NameError::new(
                "IAM group or policy name",
                &s,
                "must be 1 to 128 characters long",
            ));
        }
        if !s.bytes().all(is_iam_name_char) {
            return Err(NameError::new(
                "IAM group or policy name",
                &s,
                "only letters, digits and `_+=,.@-` are allowed",
            ));
        }
        Ok(IamName(s))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for IamName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Display for BucketName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Display for UserName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The kinds of access group a bucket has. The wire names are the group-name suffixes callers send in `Groups`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum GroupKind {
    /// `BktAdmGrp`: the admin policy of the bucket.
    Admin,
    /// `BktRWGrp`: read and write objects.
    ReadWrite,
    /// `BktROGrp`: read objects.
    ReadOnly,
    /// `WebAdmGrp`: invalidate a website's CloudFront cache (websites only).
    WebAdmin,
}

impl GroupKind {
    /// The groups every bucket can have.
    pub const ALL: [GroupKind; 3] = [GroupKind::Admin, GroupKind::ReadWrite, GroupKind::ReadOnly];
    /// The groups a website can have at its root.
    pub const WEBSITE: [GroupKind; 4] = [
        GroupKind::Admin,
        GroupKind::ReadWrite,
        GroupKind::ReadOnly,
        GroupKind::WebAdmin,
    ];

    pub fn group_suffix(self) -> &'static str {
        match self {
            GroupKind::Admin => "BktAdmGrp",
            GroupKind::ReadWrite => "BktRWGrp",
            GroupKind::ReadOnly => "BktROGrp",
            GroupKind::WebAdmin => "WebAdmGrp",
        }
    }

    pub fn policy_suffix(self) -> &'static str {
        match self {
            GroupKind::Admin => "BktAdmPlc",
            GroupKind::ReadWrite => "BktRWPlc",
            GroupKind::ReadOnly => "BktROPlc",
            GroupKind::WebAdmin => "WebAdmPlc",
        }
    }

    /// A bucket group's wire name (`WebAdmGrp` is refused: buckets have no CloudFront distribution).
    pub fn parse(s: &str) -> Result<Self, NameError> {
        GroupKind::ALL
            .into_iter()
            .find(|k| k.group_suffix() == s)
            .ok_or_else(|| {
                NameError::new("group", s, "must be one of BktAdmGrp, BktRWGrp, BktROGrp")
            })
    }

    /// A website group's wire name.
    pub fn parse_website(s: &str) -> Result<Self, NameError> {
        GroupKind::WEBSITE
            .into_iter()
            .find(|k| k.group_suffix() == s)
            .ok_or_else(|| {
                NameError::new(
                    "group",
                    s,
                    "must be one of BktAdmGrp, BktRWGrp, BktROGrp, WebAdmGrp",
                )
            })
    }
}

/// A prefix of a website bucket that a user is scoped to, in IAM path form (`/team/`, `/a/b/`). Its segments
/// become part of IAM group and policy names, so they are limited to the characters IAM names allow, without
/// `_` (which stands for `/` in those names, and would make `/a/b/` and `/a_b/` collide) and without capitals:
/// IAM names are unique case-insensitively, so `/Team/` and `/team/` would share groups while granting
/// different S3 prefixes (S3 keys are case-sensitive).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ScopePath(String);

impl ScopePath {
    pub fn parse(s: &str) -> Result<Self, NameError> {
        let err = |reason| Err(NameError::new("path", s, reason));
        if s.len() > 256 {
            return err("must be at most 256 characters long");
        }
        let Some(inner) = s.strip_prefix('/').and_then(|r| r.strip_suffix('/')) else {
            return err("must start and end with `/`, like /team/");
        };
        if inner.is_empty() {
            return err("must name at least one segment, like /team/");
        }
        for segment in inner.split('/') {
            if segment.is_empty() || segment == "." || segment == ".." {
                return err("segments must not be empty, `.` or `..`");
            }
            if !segment
                .bytes()
                .all(|b| is_iam_name_char(b) && b != b'_' && !b.is_ascii_uppercase())
            {
                return err("segments may hold lower-case letters, digits and `+=,.@-` only");
            }
        }
        Ok(ScopePath(s.to_owned()))
    }

    /// `/a/b/`
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The S3 key prefix: `a/b/`.
    pub fn key_prefix(&self) -> &str {
        &self.0[1..]
    }

    /// The form used inside IAM names: `a_b`.
    pub fn name_part(&self) -> String {
        self.0.trim_matches('/').replace('/', "_")
    }
}

impl fmt::Display for ScopePath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The IAM names of one bucket's group and policy of a kind, at the bucket's root or scoped to a prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BucketGroup {
    pub kind: GroupKind,
    pub group: IamName,
    pub policy: IamName,
    /// The prefix the group is scoped to, for path-scoped website users.
    pub scope: Option<ScopePath>,
    /// The IAM path of the group and its policy: `/` at the root, `/<bucket>/<scope>/` when scoped, so that one
    /// listing by path prefix finds every scoped group of one bucket.
    pub iam_path: String,
}

impl BucketGroup {
    pub fn new(bucket: &BucketName, kind: GroupKind) -> Result<Self, NameError> {
        Ok(BucketGroup {
            kind,
            group: IamName::compose(&[bucket.as_str(), kind.group_suffix()])?,
            policy: IamName::compose(&[bucket.as_str(), kind.policy_suffix()])?,
            scope: None,
            iam_path: "/".to_owned(),
        })
    }

    /// A group of `kind` scoped to `scope`: `<bucket>_<a>_<b>-<Kind>Grp` (never `WebAdmGrp`: invalidations are
    /// not scoped to a prefix). `_` occurs in no bucket name and no scope segment, so these names can never be a
    /// plain bucket's `<bucket>-<Kind>Grp` — with `-` there, `/team/` of site `s` was the admin group of a bucket
    /// named `s-team` — and the parts are recovered from a name unambiguously, case-insensitively too (bucket
    /// names and scopes are lower-case, the suffixes are told apart by their endings).
    pub fn scoped(
        bucket: &BucketName,
        kind: GroupKind,
        scope: &ScopePath,
    ) -> Result<Self, NameError> {
        if kind == GroupKind::WebAdmin {
            return Err(NameError::new(
                "group",
                kind.group_suffix(),
                "path-scoped users cannot be in WebAdmGrp",
            ));
        }
        let base = format!("{bucket}_{}", scope.name_part());
        Ok(BucketGroup {
            kind,
            group: IamName::compose(&[&base, kind.group_suffix()])?,
            policy: IamName::compose(&[&base, kind.policy_suffix()])?,
            scope: Some(scope.clone()),
            iam_path: format!("{}{}", scoped_iam_prefix(bucket), scope.key_prefix()),
        })
    }

    /// All three groups of a bucket. Bucket names are at most 63 characters, so the composed names always fit.
    pub fn all(bucket: &BucketName) -> Vec<BucketGroup> {
        GroupKind::ALL
            .into_iter()
            .map(|k| BucketGroup::new(bucket, k).expect("bucket names fit IAM name rules"))
            .collect()
    }
}

/// The IAM path prefix under which a bucket's path-scoped groups and policies live: `/<bucket>/`.
pub fn scoped_iam_prefix(bucket: &BucketName) -> String {
    format!("/{bucket}/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scope_paths() {
        let p = ScopePath::parse("/team/docs/").unwrap();
        assert_eq!(p.key_prefix(), "team/docs/");
        assert_eq!(p.name_part(), "team_docs");
        let b = BucketName::parse("site.example.org").unwrap();
        let g = BucketGroup::scoped(&b, GroupKind::ReadWrite, &p).unwrap();
        assert_eq!(g.group.as_str(), "site.example.org_team_docs-BktRWGrp");
        assert_eq!(g.policy.as_str(), "site.example.org_team_docs-BktRWPlc");
        assert_eq!(g.iam_path, "/site.example.org/team/docs/");
        assert!(BucketGroup::scoped(&b, GroupKind::WebAdmin, &p).is_err());
        for bad in [
            "team", "/team", "team/", "/", "//", "/a//b/", "/../", "/./", "/a b/", "/a_b/", "/ü/",
            "/a*/", "/Team/",
        ] {
            assert!(ScopePath::parse(bad).is_err(), "{bad}");
        }
        let long = format!("/{}/", "a".repeat(100));
        let b63 = BucketName::parse(&"b".repeat(63)).unwrap();
        let scope = ScopePath::parse(&long).unwrap();
        assert!(
            BucketGroup::scoped(&b63, GroupKind::Admin, &scope).is_err(),
            "composed name over 128"
        );
    }

    #[test]
    fn bucket_names_follow_s3_rules() {
        for ok in [
            "abc",
            "foobarbucketname",
            "my.bucket-1",
            "a".repeat(63).as_str(),
            "1bucket",
        ] {
            assert!(BucketName::parse(ok).is_ok(), "{ok}");
        }
        for bad in [
            "ab",
            &"a".repeat(64),
            "Upper",
            "under_score",
            "-start",
            "end-",
            ".start",
            "a..b",
            "192.168.1.1",
            "xn--bucket",
            "sthree-x",
            "amzn-s3-demo-x",
            "b-s3alias",
            "b--ol-s3",
            "b.mrap",
            "b--x-s3",
            "b--table-s3",
            "quo\"te",
            "star*",
            "sla/sh",
            "ünïcode",
            "",
        ] {
            assert!(BucketName::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn user_names_follow_iam_rules() {
        assert!(UserName::parse("some.user+x=y,z@w_-1").is_ok());
        for bad in ["", &"u".repeat(65), "a b", "a\"b", "a/b", "a*b", "ü"] {
            assert!(UserName::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn group_names_are_composed_from_the_bucket() {
        let b = BucketName::parse("foo").unwrap();
        let g = BucketGroup::new(&b, GroupKind::ReadOnly).unwrap();
        assert_eq!(g.group.as_str(), "foo-BktROGrp");
        assert_eq!(g.policy.as_str(), "foo-BktROPlc");
        assert_eq!(BucketGroup::all(&b).len(), 3);
    }

    #[test]
    fn group_kinds_parse_from_wire_names_only() {
        assert_eq!(GroupKind::parse("BktRWGrp").unwrap(), GroupKind::ReadWrite);
        assert!(GroupKind::parse("bktrwgrp").is_err());
        assert!(GroupKind::parse("WebAdmGrp").is_err());
    }

    #[test]
    fn long_hostile_input_is_truncated_in_the_message() {
        let e = BucketName::parse(&"x".repeat(10_000))
            .unwrap_err()
            .to_string();
        assert!(e.len() < 200, "{e}");
    }

    mod names_never_meet {
        use super::*;
        use proptest::prelude::*;

        fn bucket() -> impl Strategy<Value = BucketName> {
            "[a-z0-9][a-z0-9.-]{1,40}[a-z0-9]"
                .prop_filter_map("a valid bucket name", |s| BucketName::parse(&s).ok())
        }

        /// Website names: DNS names of two to four labels that are valid bucket names.
        fn website() -> impl Strategy<Value = BucketName> {
            "[a-z0-9]([a-z0-9-]{0,8}[a-z0-9])?(\\.[a-z0-9]([a-z0-9-]{0,8}[a-z0-9])?){1,3}"
                .prop_filter_map("a valid bucket name", |s| BucketName::parse(&s).ok())
        }

        fn scope() -> impl Strategy<Value = ScopePath> {
            "(/[a-z0-9+=,.@-]{1,8}){1,4}/"
                .prop_filter_map("a valid scope", |s| ScopePath::parse(&s).ok())
        }

        fn kind() -> impl Strategy<Value = GroupKind> {
            prop::sample::select(GroupKind::ALL.to_vec())
        }

        fn names(g: &BucketGroup) -> [String; 2] {
            [
                g.group.as_str().to_lowercase(),
                g.policy.as_str().to_lowercase(),
            ]
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(2000))]

            /// No scoped group or policy name equals any plain bucket's or root website group's name, ignoring case.
            #[test]
            fn scoped_names_are_never_a_bucket_s(b in bucket(), w in website(), p in scope(), k1 in kind(), k2 in prop::sample::select(GroupKind::WEBSITE.to_vec())) {
                let Ok(scoped) = BucketGroup::scoped(&w, k1, &p) else { return Ok(()) };
                let plain = BucketGroup::new(&b, k2).unwrap();
                for n in names(&scoped) {
                    prop_assert!(!names(&plain).contains(&n), "{n}");
                }
            }

            /// Above all the bucket whose name is the site's followed by the scope (`<site>-team`), which took the
            /// scoped admin group under the first naming.
            #[test]
            fn the_bucket_named_like_the_scope_is_apart(w in website(), p in scope(), k1 in kind(), k2 in kind()) {
                let name = format!("{w}-{}", p.name_part().replace('_', "-"));
                let Ok(b) = BucketName::parse(&name) else { return Ok(()) };
                let Ok(scoped) = BucketGroup::scoped(&w, k1, &p) else { return Ok(()) };
                let plain = BucketGroup::new(&b, k2).unwrap();
                for n in names(&scoped) {
                    prop_assert!(!names(&plain).contains(&n), "{n}");
                }
            }

            /// Two different (site, scope, kind) never share a name, ignoring case.
            #[test]
            fn scoped_names_are_unique(w1 in website(), p1 in scope(), k1 in kind(), w2 in website(), p2 in scope(), k2 in kind()) {
                let (Ok(a), Ok(b)) = (BucketGroup::scoped(&w1, k1, &p1), BucketGroup::scoped(&w2, k2, &p2)) else { return Ok(()) };
                prop_assume!((&w1, &p1, k1) != (&w2, &p2, k2));
                let (na, nb) = (names(&a), names(&b));
                prop_assert!(na[0] != nb[0] && na[1] != nb[1] && na[0] != nb[1]);
            }

            /// A site whose name is a prefix of another's: `a.b` with scope `/c/` vs `a.b_c`-like names cannot
            /// arise, as `_` is in no bucket name; the same scope under two sites differs too.
            #[test]
            fn same_scope_different_sites(w1 in website(), w2 in website(), p in scope(), k in kind()) {
                prop_assume!(w1 != w2);
                let (Ok(a), Ok(b)) = (BucketGroup::scoped(&w1, k, &p), BucketGroup::scoped(&w2, k, &p)) else { return Ok(()) };
                prop_assert_ne!(&names(&a)[0], &names(&b)[0]);
            }
        }
    }
}
