//! Who is calling, and may they (API.md §1.1). `X-Auth-Token` is either the single legacy token (admin on every
//! account; plain, or a bcrypt hash of it, which clients of the earlier service send) or the secret of a named
//! token (`[[tokens]]`): limited to some accounts and a scope, perhaps expiring, and stored only as the SHA-256 of
//! its secret. The check is one SHA-256 and one map lookup, before any AWS call.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use axum::extract::{Request, State};
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use rand::TryRngCore;
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::error::ApiError;
use crate::app::AppState;
use crate::config::{Config, Scope};

/// Hashes costlier than this are refused without running bcrypt, so a caller cannot make us burn CPU.
const MAX_BCRYPT_COST: u32 = 12;
/// How many distinct verified hashes are remembered.
const CACHE_SIZE: usize = 256;

pub const HEADER: &str = "x-auth-token";

/// The name the legacy token goes by in audit events, logs and metrics.
pub const LEGACY: &str = "legacy";

/// The caller a request was made by: the name of its token (never the secret). Put on the request and on its
/// response, for the audit trail and the logs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller(pub Arc<str>);

/// The tokens of the running configuration. Not `Debug`: it holds the legacy token and digests of secrets.
pub struct Auth {
    legacy: Option<Legacy>,
    /// Named tokens by the SHA-256 digest of their secrets.
    named: HashMap<[u8; 32], Named>,
}

struct Legacy {
    /// For bcrypt, which needs the token itself.
    token: SecretString,
    /// The SHA-256 digest of the token, which plain tokens are compared with.
    digest: [u8; 32],
    verified: Mutex<HashSet<String>>,
}

/// A named token, as the configuration lists it.
struct Named {
    caller: Caller,
    /// None for every account (`"*"`).
    accounts: Option<BTreeSet<String>>,
    scope: Scope,
    expires: Option<SystemTime>,
}

/// Comparing the bytes themselves would take a time that depends on whether the lengths match, letting a caller
/// learn the token's length; digests always have 32 bytes.
pub fn sha256(s: &str) -> [u8; 32] {
    Sha256::digest(s.as_bytes()).into()
}

/// Why a request was refused; the `reason` label of `auth_refused_total`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    Missing,
    Invalid,
    Expired { token: Caller, at: SystemTime },
    NotAllowed { token: Caller, detail: String },
}

impl Refusal {
    pub fn reason(&self) -> &'static str {
        match self {
            Refusal::Missing => "missing",
            Refusal::Invalid => "invalid",
            Refusal::Expired { .. } => "expired",
            Refusal::NotAllowed { .. } => "not_allowed",
        }
    }

    fn caller(&self) -> Option<&Caller> {
        match self {
            Refusal::Expired { token, .. } | Refusal::NotAllowed { token, .. } => Some(token),
            Refusal::Missing | Refusal::Invalid => None,
        }
    }

    fn into_error(self) -> ApiError {
        match self {
            Refusal::Missing | Refusal::Invalid => ApiError::forbidden(),
            Refusal::Expired { token, at } => ApiError::new(
                StatusCode::FORBIDDEN,
                "TokenExpired",
                format!(
                    "token {} expired at {}",
                    token.0,
                    humantime::format_rfc3339_seconds(at)
                ),
            ),
            Refusal::NotAllowed { detail, .. } => {
                ApiError::new(StatusCode::FORBIDDEN, "TokenNotAllowed", detail)
            }
        }
    }
}

/// What a request needs: the scope its method needs, on the account its path names (None for the routes of no
/// account, such as `/metrics`).
pub struct Need<'a> {
    pub scope: Scope,
    pub account: Option<&'a str>,
}

impl<'a> Need<'a> {
    pub fn of(method: &Method, path: &'a str) -> Need<'a> {
        let scope = match *method {
            Method::GET | Method::HEAD => Scope::Read,
            Method::DELETE => Scope::Admin,
            _ => Scope::Write,
        };
        let account = path
            .strip_prefix("/v1/s3/")
            .and_then(|rest| rest.split('/').next())
            .filter(|a| {
                !a.is_empty() && !matches!(*a, "metrics" | "ping" | "version" | "openapi.json")
            });
        Need { scope, account }
    }
}

impl Auth {
    pub fn new(config: &Config) -> Self {
        let legacy = config.token.as_ref().map(|token| Legacy {
            digest: sha256(token.expose_secret()),
            token: token.clone(),
            verified: Mutex::new(HashSet::new()),
        });
        let named = config
            .tokens
            .iter()
            .map(|t| {
                let mut digest = [0u8; 32];
                hex::decode_to_slice(t.sha256.to_ascii_lowercase(), &mut digest)
                    .expect("validated: 64 hex digits");
                let accounts = match t.accounts.iter().any(|a| a == "*") {
                    true => None,
                    false => Some(t.accounts.iter().cloned().collect()),
                };
                let named = Named {
                    caller: Caller(Arc::from(t.name.as_str())),
                    accounts,
                    scope: t.scope,
                    expires: t.expires,
                };
                (digest, named)
            })
            .collect();
        Auth { legacy, named }
    }

    /// How many named tokens there are.
    pub fn named_tokens(&self) -> usize {
        self.named.len()
    }

    /// The caller `presented` is the secret of, if it may do what `need` says at `now`.
    pub async fn check(
        &self,
        presented: Option<&str>,
        need: &Need<'_>,
        now: SystemTime,
    ) -> Result<Caller, Refusal> {
        let presented = presented.ok_or(Refusal::Missing)?;
        let digest = sha256(presented);
        if let Some(legacy) = &self.legacy {
            if bool::from(digest.ct_eq(&legacy.digest)) {
                return Ok(Caller(Arc::from(LEGACY)));
            }
        }
        // The map is keyed by digests: finding one by another digest reveals nothing about any secret.
        if let Some(named) = self.named.get(&digest) {
            return named.allows(need, now).map(|()| named.caller.clone());
        }
        match &self.legacy {
            Some(legacy) if legacy.accepts_hash(presented).await => Ok(Caller(Arc::from(LEGACY))),
            _ => Err(Refusal::Invalid),
        }
    }
}

impl Named {
    fn allows(&self, need: &Need<'_>, now: SystemTime) -> Result<(), Refusal> {
        if let Some(at) = self.expires.filter(|at| *at <= now) {
            return Err(Refusal::Expired {
                token: self.caller.clone(),
                at,
            });
        }
        let name = &self.caller.0;
        if need.scope > self.scope {
            return Err(Refusal::NotAllowed {
                token: self.caller.clone(),
                detail: format!(
                    "token {name} has scope {}; this request needs {}",
                    self.scope.as_str(),
                    need.scope.as_str()
                ),
            });
        }
        if let (Some(accounts), Some(account)) = (&self.accounts, need.account) {
            if !accounts.contains(account) {
                // The account as sent is the caller's own input: shown short.
                let shown: String = account.chars().take(64).collect();
                return Err(Refusal::NotAllowed {
                    token: self.caller.clone(),
                    detail: format!("token {name} is not allowed on account {shown}"),
                });
            }
        }
        Ok(())
    }
}

impl Legacy {
    /// Whether `presented` is a bcrypt hash of the legacy token.
    async fn accepts_hash(&self, presented: &str) -> bool {
        let Some(cost) = bcrypt_cost(presented) else {
            return false;
        };
        if cost > MAX_BCRYPT_COST {
            return false;
        }
        if self
            .verified
            .lock()
            .expect("auth cache lock")
            .contains(presented)
        {
            return true;
        }
        let (token, hash) = (self.token.clone(), presented.to_owned());
        let ok = tokio::task::spawn_blocking(move || {
            bcrypt::verify(token.expose_secret(), &hash).unwrap_or(false)
        })
        .await
        .unwrap_or(false);
        if ok {
            let mut cache = self.verified.lock().expect("auth cache lock");
            if cache.len() >= CACHE_SIZE {
                cache.clear();
            }
            cache.insert(presented.to_owned());
        }
        ok
    }
}

/// The prefix of every minted secret, so that secret scanners can recognise a leaked one.
pub const SECRET_PREFIX: &str = "s3t_";

/// Mints a named token: a fresh secret of 256 random bits (from the operating system's generator), printed once,
/// and the `[[tokens]]` entry that holds only its SHA-256.
pub fn mint(
    name: &str,
    scope: &str,
    accounts: &[String],
    expires: Option<&str>,
) -> Result<String, String> {
    use base64::Engine;
    if !crate::config::valid_token_name(name) {
        return Err(format!(
            "--name {name:?}: 1 to 64 letters, digits, `-`, `_` or `.` (and not `legacy`)"
        ));
    }
    let scope = Scope::parse(scope)
        .ok_or_else(|| format!("--scope {scope:?}: read, write or admin"))?
        .as_str();
    let accounts: Vec<&str> = accounts
        .iter()
        .map(|a| a.trim())
        .filter(|a| !a.is_empty())
        .collect();
    if accounts.is_empty() {
        return Err("--accounts: at least one account name, or *".into());
    }
    if let Some(e) = expires {
        humantime::parse_rfc3339_weak(e).map_err(|err| format!("--expires {e:?}: {err}"))?;
    }
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng
        .try_fill_bytes(&mut bytes)
        .map_err(|e| format!("no randomness from the operating system: {e}"))?;
    let secret = format!(
        "{SECRET_PREFIX}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    );
    let toml_list = accounts
        .iter()
        .map(|a| format!("{a:?}"))
        .collect::<Vec<_>>()
        .join(", ");
    let mut entry = format!(
        "[[tokens]]\nname = {name:?}\nsha256 = \"{}\"\naccounts = [{toml_list}]\nscope = \"{scope}\"\n",
        hex::encode(sha256(&secret))
    );
    if let Some(e) = expires {
        entry.push_str(&format!("expires = {e:?}\n"));
    }
    Ok(format!(
        "# The secret, shown this once (X-Auth-Token); keep it in a secret store:\n# {secret}\n\n\
         # Add to the configuration, then reload it (SIGHUP):\n{entry}"
    ))
}

/// The cost of a `$2a$`/`$2b$`/`$2y$` bcrypt hash, or None when the string is not shaped like one.
fn bcrypt_cost(s: &str) -> Option<u32> {
    let rest = s
        .strip_prefix("$2a$")
        .or_else(|| s.strip_prefix("$2b$"))
        .or_else(|| s.strip_prefix("$2y$"))?;
    if s.len() != 60 || rest.as_bytes().get(2) != Some(&b'$') {
        return None;
    }
    rest.get(..2)?.parse().ok()
}

/// Routes that answer without a token.
fn is_public(path: &str, metrics_public: bool) -> bool {
    matches!(
        path,
        "/v1/s3/ping" | "/v1/s3/version" | "/v1/s3/openapi.json"
    ) || (metrics_public && path == "/v1/s3/metrics")
}

/// Middleware: 403 unless the route is public or the token may make the request. Runs before routing, so
/// unknown paths without a token are 403 as well. The caller goes on the request and on the response.
pub async fn require_token(
    State(state): State<AppState>,
    mut req: Request,
    next: Next,
) -> Response {
    if is_public(req.uri().path(), !state.config.metrics_require_token) {
        return next.run(req).await;
    }
    let auth = state.auth();
    let presented = req.headers().get(HEADER).and_then(|v| v.to_str().ok());
    let need = Need::of(req.method(), req.uri().path());
    let checked = auth.check(presented, &need, SystemTime::now()).await;
    let metrics = &state.metrics;
    match checked {
        Ok(caller) => {
            metrics
                .requests_by_token
                .with_label_values(&[&caller.0])
                .inc();
            req.extensions_mut().insert(caller.clone());
            let mut response = next.run(req).await;
            response.extensions_mut().insert(caller);
            response
        }
        Err(refusal) => {
            metrics
                .auth_refused
                .with_label_values(&[refusal.reason()])
                .inc();
            let caller = refusal.caller().cloned();
            let mut response = refusal.into_error().into_response();
            if let Some(caller) = caller {
                response.extensions_mut().insert(caller);
            }
            response
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(extra: &str) -> Config {
        let text = format!(
            "token = \"s3kr1t\"\norg = \"o\"\n[accounts.a]\nregion = \"us-east-1\"\n[accounts.b]\nregion = \"us-east-1\"\n{extra}"
        );
        let dir = std::env::temp_dir().join(format!("s3-api-auth-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("c.toml");
        std::fs::write(&path, text).unwrap();
        let c = Config::load(&path, Vec::new()).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        c
    }

    fn legacy_only() -> Auth {
        Auth::new(&config(""))
    }

    const READ_A: Need = Need {
        scope: Scope::Read,
        account: Some("a"),
    };

    async fn accepts(auth: &Auth, presented: &str) -> bool {
        auth.check(Some(presented), &READ_A, SystemTime::now())
            .await
            .is_ok()
    }

    #[tokio::test]
    async fn only_the_token_itself_is_accepted() {
        let auth = legacy_only();
        assert!(accepts(&auth, "s3kr1t").await);
        for wrong in [
            "",
            "s",
            "s3kr1",
            "s3kr1T",
            "S3kr1t",
            "s3kr1t ",
            "s3kr1t\0",
            "s3kr1ts3kr1t",
        ] {
            assert!(!accepts(&auth, wrong).await, "{wrong:?}");
        }
        assert_eq!(
            auth.check(None, &READ_A, SystemTime::now()).await,
            Err(Refusal::Missing)
        );
    }

    #[tokio::test]
    async fn plain_token_and_its_bcrypt_hash_are_accepted() {
        let auth = legacy_only();
        let hash = bcrypt::hash("s3kr1t", 4).unwrap();
        assert!(accepts(&auth, &hash).await);
        let legacy = auth.legacy.as_ref().unwrap();
        assert!(legacy.verified.lock().unwrap().contains(&hash));
        assert!(accepts(&auth, &hash.replacen("$2b$", "$2y$", 1)).await);
        assert!(!accepts(&auth, &bcrypt::hash("other", 4).unwrap()).await);
    }

    #[tokio::test]
    async fn expensive_hashes_are_refused_without_bcrypt() {
        let auth = legacy_only();
        // A real cost-13 hash would take a second to check; it is refused at once.
        let hash = bcrypt::hash("s3kr1t", 4)
            .unwrap()
            .replacen("$04$", "$13$", 1);
        assert_eq!(bcrypt_cost(&hash), Some(13));
        let started = std::time::Instant::now();
        assert!(!accepts(&auth, &hash).await);
        assert!(started.elapsed() < std::time::Duration::from_millis(50));
    }

    #[test]
    fn bcrypt_shapes() {
        assert_eq!(bcrypt_cost(&format!("$2a$10${}", "x".repeat(53))), Some(10));
        assert_eq!(bcrypt_cost("$2a$10$short"), None);
        assert_eq!(bcrypt_cost(&format!("$1a$10${}", "x".repeat(53))), None);
    }

    fn entry(
        name: &str,
        secret: &str,
        accounts: &str,
        scope: &str,
        expires: Option<&str>,
    ) -> String {
        let expires = expires.map_or(String::new(), |e| format!("expires = \"{e}\"\n"));
        format!(
            "[[tokens]]\nname = \"{name}\"\nsha256 = \"{}\"\naccounts = {accounts}\nscope = \"{scope}\"\n{expires}",
            hex::encode(sha256(secret))
        )
    }

    #[tokio::test]
    async fn named_tokens_are_held_to_their_scope_accounts_and_expiry() {
        let extra = [
            entry("reader", "r-secret", "[\"a\"]", "read", None),
            entry("writer", "w-secret", "[\"*\"]", "write", None),
            entry("admin", "ad-secret", "[\"a\", \"b\"]", "admin", None),
            entry(
                "old",
                "o-secret",
                "[\"*\"]",
                "admin",
                Some("2020-01-01T00:00:00Z"),
            ),
        ]
        .concat();
        let auth = Auth::new(&config(&extra));
        let now = SystemTime::now();
        let need = |method: Method, path: &'static str| Need::of(&method, path);
        let check = |secret: &'static str, need: Need<'static>| {
            let auth = &auth;
            async move { auth.check(Some(secret), &need, now).await }
        };
        let name = |c: Result<Caller, Refusal>| c.map(|c| c.0.to_string());

        assert_eq!(
            name(check("r-secret", need(Method::GET, "/v1/s3/a/buckets")).await),
            Ok("reader".into())
        );
        assert_eq!(
            name(check("r-secret", need(Method::HEAD, "/v1/s3/a/buckets/x")).await),
            Ok("reader".into())
        );
        let refused = check("r-secret", need(Method::POST, "/v1/s3/a/buckets")).await;
        assert!(
            matches!(&refused, Err(Refusal::NotAllowed { detail, .. }) if detail.contains("needs write")),
            "{refused:?}"
        );
        let refused = check("r-secret", need(Method::GET, "/v1/s3/b/buckets")).await;
        assert!(
            matches!(&refused, Err(Refusal::NotAllowed { detail, .. }) if detail.contains("account b")),
            "{refused:?}"
        );
        assert!(check("w-secret", need(Method::PUT, "/v1/s3/b/buckets/x"))
            .await
            .is_ok());
        assert!(
            check("w-secret", need(Method::DELETE, "/v1/s3/b/buckets/x"))
                .await
                .is_err()
        );
        assert!(
            check("ad-secret", need(Method::DELETE, "/v1/s3/b/buckets/x"))
                .await
                .is_ok()
        );
        assert!(check("ad-secret", need(Method::GET, "/v1/s3/metrics"))
            .await
            .is_ok());
        let expired = check("o-secret", need(Method::GET, "/v1/s3/a/buckets")).await;
        assert!(
            matches!(expired, Err(Refusal::Expired { .. })),
            "{expired:?}"
        );
        let wrong = check("x-secret", need(Method::GET, "/v1/s3/a/buckets")).await;
        assert_eq!(wrong, Err(Refusal::Invalid));
        // The legacy token stays admin everywhere.
        assert!(check("s3kr1t", need(Method::DELETE, "/v1/s3/b/buckets/x"))
            .await
            .is_ok());
    }

    #[test]
    fn a_minted_token_is_accepted_by_the_entry_printed_with_it() {
        let out = mint(
            "ci-reader",
            "read",
            &["a".into()],
            Some("2999-01-01T00:00:00Z"),
        )
        .unwrap();
        let secret = out
            .lines()
            .find_map(|l| l.strip_prefix("# s3t_"))
            .map(|s| format!("s3t_{s}"))
            .unwrap();
        assert_eq!(secret.len(), 4 + 43, "256 bits, base64url");
        let entry: String = out
            .lines()
            .skip_while(|l| !l.starts_with("[[tokens]]"))
            .map(|l| format!("{l}\n"))
            .collect();
        let auth = Auth::new(&config(&entry));
        let need = Need::of(&Method::GET, "/v1/s3/a/buckets");
        let caller =
            futures::executor::block_on(auth.check(Some(&secret), &need, SystemTime::now()));
        assert_eq!(caller.map(|c| c.0.to_string()), Ok("ci-reader".into()));
        // Two mints never share a secret.
        let again = mint("ci-reader", "read", &["a".into()], None).unwrap();
        assert!(!again.contains(&secret));
        assert!(mint("legacy", "read", &["a".into()], None).is_err());
        assert!(mint("x", "root", &["a".into()], None).is_err());
        assert!(mint("x", "read", &[], None).is_err());
        assert!(mint("x", "read", &["a".into()], Some("tomorrow")).is_err());
    }

    #[test]
    fn the_need_of_a_request() {
        let n = Need::of(&Method::GET, "/v1/s3/prod/buckets/x");
        assert_eq!((n.scope, n.account), (Scope::Read, Some("prod")));
        let n = Need::of(&Method::PATCH, "/v1/s3/prod/websites/x");
        assert_eq!((n.scope, n.account), (Scope::Write, Some("prod")));
        let n = Need::of(&Method::DELETE, "/v1/s3/prod/buckets/x/users/u");
        assert_eq!((n.scope, n.account), (Scope::Admin, Some("prod")));
        assert_eq!(Need::of(&Method::GET, "/v1/s3/metrics").account, None);
        assert_eq!(Need::of(&Method::GET, "/elsewhere").account, None);
    }
}
