//! The identity provider's signing keys (JWKS, RFC 7517), from a file or a URL. Kept in memory;
//! loaded again when a token names a key not known yet (the provider rotated its keys), at most
//! once per [`REFETCH_EVERY`]. Only signature keys for RS256, ES256 and EdDSA are taken; any
//! other key in the set (encryption keys, other algorithms) is passed over.

use std::path::PathBuf;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, KeyAlgorithm, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey};

use super::AuthError;

/// Least time between two loads caused by unknown key ids.
pub(super) const REFETCH_EVERY: Duration = Duration::from_secs(60);
/// Least time between two loads while the keys could not be had at all.
const RETRY_EVERY: Duration = Duration::from_secs(5);
/// Time a JWKS URL has to answer.
const FETCH_TIMEOUT: Duration = Duration::from_secs(10);
/// Largest JWKS taken (a real one is a few KiB).
const MAX_BYTES: usize = 1024 * 1024;

/// Where the keys come from.
#[derive(Debug, Clone)]
pub(super) enum Source {
    File(PathBuf),
    Url(reqwest::Url),
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Source::File(p) => write!(f, "{}", p.display()),
            Source::Url(u) => write!(f, "{u}"),
        }
    }
}

/// One usable signing key.
#[derive(Clone)]
pub(super) struct Key {
    pub kid: Option<String>,
    pub alg: Algorithm,
    pub key: DecodingKey,
}

/// What the cache knows and when it last went to fetch.
#[derive(Default)]
struct State {
    keys: Arc<Vec<Key>>,
    /// The last load caused by a token (not the first one at start).
    last_refetch: Option<Instant>,
    /// Why the last load failed; None once one succeeded.
    failure: Option<String>,
}

pub(super) struct KeyCache {
    source: Source,
    http: reqwest::Client,
    state: RwLock<State>,
    /// Held while loading, so concurrent unknown key ids cause one load.
    loading: tokio::sync::Mutex<()>,
}

impl KeyCache {
    /// Loads the keys once. A file must be readable and hold a usable key; a URL that does not
    /// answer is tried again when the first token comes (logged as a warning).
    pub(super) async fn new(source: Source) -> Result<KeyCache, String> {
        let http = reqwest::Client::builder()
            .timeout(FETCH_TIMEOUT)
            .build()
            .map_err(|e| format!("HTTP-client voor de JWKS niet te maken: {e}"))?;
        let cache = KeyCache {
            source,
            http,
            state: RwLock::new(State::default()),
            loading: tokio::sync::Mutex::new(()),
        };
        match (cache.load().await, &cache.source) {
            (Ok(keys), _) => cache.with_state(|s| s.keys = Arc::new(keys)),
            (Err(e), Source::File(_)) => return Err(e),
            (Err(e), Source::Url(_)) => {
                tracing::warn!(error = %e, "JWKS niet geladen bij start; opnieuw bij het eerste token");
                cache.with_state(|s| s.failure = Some(e));
            }
        }
        Ok(cache)
    }

    fn with_state<T>(&self, f: impl FnOnce(&mut State) -> T) -> T {
        let mut guard = self.state.write().unwrap_or_else(|p| p.into_inner());
        f(&mut guard)
    }

    fn keys(&self) -> Arc<Vec<Key>> {
        self.with_state(|s| s.keys.clone())
    }

    /// The key for this token's `kid` (or, without one, the only key of its algorithm); loads
    /// the set again when it is not known and the last load is long enough ago.
    pub(super) async fn key(&self, kid: Option<&str>, alg: Algorithm) -> Result<Key, AuthError> {
        if let Some(k) = find(&self.keys(), kid, alg) {
            return Ok(k.clone());
        }
        let _loading = self.loading.lock().await;
        // Another request may have loaded the new keys while this one waited.
        if let Some(k) = find(&self.keys(), kid, alg) {
            return Ok(k.clone());
        }
        self.may_refetch()?;
        let keys = self.refetch().await?;
        find(&keys, kid, alg)
            .cloned()
            .ok_or(AuthError::OnbekendeSleutel)
    }

    /// Whether a load may start now: not within [`REFETCH_EVERY`] of the last one, or of
    /// [`RETRY_EVERY`] while the keys could not be had.
    fn may_refetch(&self) -> Result<(), AuthError> {
        self.with_state(|s| {
            let since = s.last_refetch.map(|t| t.elapsed());
            match (&s.failure, since) {
                (Some(e), Some(d)) if d < RETRY_EVERY => {
                    Err(AuthError::JwksOnbereikbaar(e.clone()))
                }
                (None, Some(d)) if d < REFETCH_EVERY => Err(AuthError::OnbekendeSleutel),
                _ => {
                    s.last_refetch = Some(Instant::now());
                    Ok(())
                }
            }
        })
    }

    async fn refetch(&self) -> Result<Arc<Vec<Key>>, AuthError> {
        match self.load().await {
            Ok(keys) => Ok(self.with_state(|s| {
                s.failure = None;
                s.keys = Arc::new(keys);
                s.keys.clone()
            })),
            Err(e) => {
                tracing::warn!(error = %e, "JWKS niet geladen");
                self.with_state(|s| s.failure = Some(e.clone()));
                Err(AuthError::JwksOnbereikbaar(e))
            }
        }
    }

    /// Reads and parses the key set; a set without a usable key is an error.
    async fn load(&self) -> Result<Vec<Key>, String> {
        let bytes = match &self.source {
            Source::File(p) => tokio::fs::read(p)
                .await
                .map_err(|e| format!("JWKS-bestand {} niet te lezen: {e}", p.display()))?,
            Source::Url(u) => fetch(&self.http, u).await?,
        };
        let keys = parse(&bytes).map_err(|e| format!("JWKS van {}: {e}", self.source))?;
        if keys.is_empty() {
            return Err(format!(
                "JWKS van {} heeft geen bruikbare sleutel (RS256, ES256 of EdDSA)",
                self.source
            ));
        }
        Ok(keys)
    }
}

/// GETs the JWKS: status 200 and at most [`MAX_BYTES`].
async fn fetch(http: &reqwest::Client, url: &reqwest::Url) -> Result<Vec<u8>, String> {
    let failed = |e: reqwest::Error| format!("JWKS-URL {url} onbereikbaar: {e}");
    let mut resp = http.get(url.clone()).send().await.map_err(failed)?;
    if !resp.status().is_success() {
        return Err(format!(
            "JWKS-URL {url} antwoordde met status {}",
            resp.status().as_u16()
        ));
    }
    let mut body = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(failed)? {
        if body.len() + chunk.len() > MAX_BYTES {
            return Err(format!("JWKS-URL {url} gaf meer dan {MAX_BYTES} bytes"));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// The usable keys of a JWKS document (`{"keys": [...]}`); keys that cannot be read are passed
/// over, a document that is no key set is an error.
pub(super) fn parse(bytes: &[u8]) -> Result<Vec<Key>, String> {
    let doc: serde_json::Value =
        serde_json::from_slice(bytes).map_err(|e| format!("geen JSON: {e}"))?;
    let list = doc
        .get("keys")
        .and_then(|k| k.as_array())
        .ok_or("geen lijst \"keys\"")?;
    Ok(list
        .iter()
        .filter_map(|v| serde_json::from_value::<Jwk>(v.clone()).ok())
        .filter_map(|jwk| usable(&jwk))
        .collect())
}

/// A signature key for RS256, ES256 (P-256) or EdDSA (Ed25519): the algorithm is the one the
/// key names, else the one its type implies.
fn usable(jwk: &Jwk) -> Option<Key> {
    if matches!(&jwk.common.public_key_use, Some(u) if *u != PublicKeyUse::Signature) {
        return None;
    }
    let implied = match &jwk.algorithm {
        AlgorithmParameters::RSA(_) => Algorithm::RS256,
        AlgorithmParameters::EllipticCurve(p) if p.curve == EllipticCurve::P256 => Algorithm::ES256,
        AlgorithmParameters::OctetKeyPair(p) if p.curve == EllipticCurve::Ed25519 => {
            Algorithm::EdDSA
        }
        _ => return None,
    };
    let named = match jwk.common.key_algorithm {
        None => implied,
        Some(KeyAlgorithm::RS256) => Algorithm::RS256,
        Some(KeyAlgorithm::ES256) => Algorithm::ES256,
        Some(KeyAlgorithm::EdDSA) => Algorithm::EdDSA,
        Some(_) => return None,
    };
    if named != implied {
        return None;
    }
    Some(Key {
        kid: jwk.common.key_id.clone(),
        alg: named,
        key: DecodingKey::from_jwk(jwk).ok()?,
    })
}

/// The key of this id (whose algorithm is checked by the caller); without an id, the one key of
/// the algorithm when there is exactly one.
fn find<'a>(keys: &'a [Key], kid: Option<&str>, alg: Algorithm) -> Option<&'a Key> {
    match kid {
        Some(kid) => keys.iter().find(|k| k.kid.as_deref() == Some(kid)),
        None => {
            let mut of_alg = keys.iter().filter(|k| k.alg == alg);
            match (of_alg.next(), of_alg.next()) {
                (Some(k), None) => Some(k),
                _ => None,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_signature_keys_of_the_three_algorithms_are_taken() {
        let x = super::super::b64::encode(&[7u8; 32]);
        let doc = serde_json::json!({"keys": [
            {"kty": "OKP", "crv": "Ed25519", "x": x, "kid": "ed"},
            {"kty": "OKP", "crv": "Ed25519", "x": x, "kid": "enc", "use": "enc"},
            {"kty": "EC", "crv": "P-384", "x": x, "y": x, "kid": "p384"},
            {"kty": "EC", "crv": "P-256", "x": x, "y": x, "kid": "es", "alg": "ES256"},
            {"kty": "EC", "crv": "P-256", "x": x, "y": x, "kid": "mismatch", "alg": "EdDSA"},
            {"kty": "oct", "k": x, "kid": "hmac", "alg": "HS256"},
            {"kty": "RSA", "n": x, "e": "AQAB", "kid": "oaep", "alg": "RSA-OAEP"},
            {"kty": "RSA", "n": x, "e": "AQAB", "kid": "rs"},
            {"kty": "unknown", "kid": "odd"}
        ]});
        let keys = parse(doc.to_string().as_bytes()).unwrap();
        let taken: Vec<(&str, Algorithm)> = keys
            .iter()
            .map(|k| (k.kid.as_deref().unwrap_or(""), k.alg))
            .collect();
        assert_eq!(
            taken,
            [
                ("ed", Algorithm::EdDSA),
                ("es", Algorithm::ES256),
                ("rs", Algorithm::RS256)
            ]
        );
        let kid = |k: Option<&Key>| k.and_then(|k| k.kid.clone());
        assert_eq!(
            kid(find(&keys, Some("es"), Algorithm::ES256)),
            Some("es".into())
        );
        assert_eq!(kid(find(&keys, None, Algorithm::RS256)), Some("rs".into()));
        assert!(find(&keys, Some("nope"), Algorithm::RS256).is_none());
        assert!(parse(b"{}").is_err());
        assert!(parse(b"not json").is_err());
    }
}
