//! `X-Auth-Token`: the configured token, or a bcrypt hash of it (what clients of the earlier service send).

use std::collections::HashSet;
use std::sync::Mutex;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::error::ApiError;
use crate::app::AppState;

/// Hashes costlier than this are refused without running bcrypt, so a caller cannot make us burn CPU.
const MAX_BCRYPT_COST: u32 = 12;
/// How many distinct verified hashes are remembered.
const CACHE_SIZE: usize = 256;

pub const HEADER: &str = "x-auth-token";

/// Checks tokens; remembers bcrypt hashes that verified so each costs bcrypt once, not per request. Not `Debug`:
/// it holds the token and its digest.
pub struct Auth {
    /// For bcrypt, which needs the token itself.
    token: SecretString,
    /// The SHA-256 digest of the token, which plain tokens are compared with.
    digest: [u8; 32],
    verified: Mutex<HashSet<String>>,
}

/// Comparing the bytes themselves would take a time that depends on whether the lengths match, letting a caller
/// learn the token's length; digests always have 32 bytes.
fn sha256(s: &str) -> [u8; 32] {
    Sha256::digest(s.as_bytes()).into()
}

impl Auth {
    pub fn new(token: SecretString) -> Self {
        Auth {
            digest: sha256(token.expose_secret()),
            token,
            verified: Mutex::new(HashSet::new()),
        }
    }

    pub async fn accepts(&self, presented: &str) -> bool {
        if bool::from(sha256(presented).ct_eq(&self.digest)) {
            return true;
        }
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

/// Middleware: 403 unless the route is public or the token is accepted. Runs before routing, so unknown paths
/// without a token are 403 as well.
pub async fn require_token(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if is_public(req.uri().path(), !state.config.metrics_require_token) {
        return next.run(req).await;
    }
    let presented = req.headers().get(HEADER).and_then(|v| v.to_str().ok());
    match presented {
        Some(t) if state.auth.accepts(t).await => next.run(req).await,
        _ => ApiError::forbidden().into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn only_the_token_itself_is_accepted() {
        let auth = Auth::new("s3kr1t-token".to_owned().into());
        assert!(auth.accepts("s3kr1t-token").await);
        for wrong in [
            "",
            "s",
            "s3kr1t-toke",
            "s3kr1t-tokeN",
            "S3kr1t-token",
            "xxxxxxxxxxxx",
            "s3kr1t-token ",
            "s3kr1t-token\0",
            "s3kr1t-tokens3kr1t-token",
        ] {
            assert!(!auth.accepts(wrong).await, "{wrong:?}");
        }
        assert_eq!(auth.digest, sha256("s3kr1t-token"));
    }

    #[tokio::test]
    async fn plain_token_and_its_bcrypt_hash_are_accepted() {
        let auth = Auth::new("s3kr1t".to_owned().into());
        assert!(auth.accepts("s3kr1t").await);
        assert!(!auth.accepts("s3kr1").await);
        assert!(!auth.accepts("").await);
        let hash = bcrypt::hash("s3kr1t", 4).unwrap();
        assert!(auth.accepts(&hash).await);
        assert!(auth.verified.lock().unwrap().contains(&hash));
        assert!(auth.accepts(&hash.replacen("$2b$", "$2y$", 1)).await);
        assert!(!auth.accepts(&bcrypt::hash("other", 4).unwrap()).await);
    }

    #[tokio::test]
    async fn expensive_hashes_are_refused_without_bcrypt() {
        let auth = Auth::new("s3kr1t".to_owned().into());
        // A real cost-13 hash would take a second to check; it is refused at once.
        let hash = bcrypt::hash("s3kr1t", 4)
            .unwrap()
            .replacen("$04$", "$13$", 1);
        assert_eq!(bcrypt_cost(&hash), Some(13));
        let started = std::time::Instant::now();
        assert!(!auth.accepts(&hash).await);
        assert!(started.elapsed() < std::time::Duration::from_millis(50));
    }

    #[test]
    fn bcrypt_shapes() {
        assert_eq!(bcrypt_cost(&format!("$2a$10${}", "x".repeat(53))), Some(10));
        assert_eq!(bcrypt_cost("$2a$10$short"), None);
        assert_eq!(bcrypt_cost(&format!("$1a$10${}", "x".repeat(53))), None);
    }
}
