//! OpenID Connect: verifies a JWT of the municipality's identity provider (Entra ID, Keycloak,
//! an eHerkenning broker) against its published keys, issuer and audience, and reads the person
//! from its claims. Only RS256, ES256 and EdDSA, and only the algorithm of the key the token
//! names: `none` and HMAC (HS*) are refused before any key is looked at, so a public key can
//! never be used as an HMAC secret.

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, Validation};
use serde_json::{Map, Value};

use super::claims::ClaimNames;
use super::jwks::{KeyCache, Source};
use super::{AuthError, Principal};
use crate::app::config::Config;

/// Clock skew allowed on `exp` and `nbf`, in seconds.
const LEEWAY_SECS: u64 = 30;

pub(super) struct Verifier {
    issuer: String,
    audience: String,
    claims: ClaimNames,
    keys: KeyCache,
}

impl Verifier {
    /// The verifier the configuration asks for: None when `oidc_issuer` is not set (and then no
    /// other OIDC key may be either); a Dutch error for settings that do not fit together.
    pub(super) async fn from_config(config: &Config) -> Result<Option<Verifier>, String> {
        let Some(issuer) = config.oidc_issuer.as_deref().map(str::trim) else {
            return match stray_setting(config) {
                Some(key) => Err(format!(
                    "{key} is ingesteld maar oidc_issuer niet; zet oidc_issuer om OpenID Connect \
                     te gebruiken, of laat {key} weg"
                )),
                None => Ok(None),
            };
        };
        if issuer.is_empty() {
            return Err("oidc_issuer is leeg".into());
        }
        let audience = match config.oidc_audience.as_deref().map(str::trim) {
            Some(a) if !a.is_empty() => a.to_string(),
            _ => return Err("oidc_audience ontbreekt (verplicht naast oidc_issuer)".into()),
        };
        let claims = ClaimNames::from_config(config)?;
        let keys = KeyCache::new(source(config)?).await?;
        Ok(Some(Verifier {
            issuer: issuer.to_string(),
            audience,
            claims,
            keys,
        }))
    }

    /// The person of a valid token, or why it is refused.
    pub(super) async fn verify(&self, token: &str) -> Result<Principal, AuthError> {
        let (alg, kid) = header(token)?;
        let key = self.keys.key(kid.as_deref(), alg).await?;
        if key.alg != alg {
            return Err(AuthError::Algoritme(format!(
                "algoritme {alg:?} past niet bij de sleutel ({:?})",
                key.alg
            )));
        }
        let mut v = Validation::new(alg);
        v.leeway = LEEWAY_SECS;
        v.validate_nbf = true;
        v.set_issuer(&[&self.issuer]);
        v.set_audience(&[&self.audience]);
        v.set_required_spec_claims(&["exp", "iss", "aud"]);
        let data = jsonwebtoken::decode::<Map<String, Value>>(token, &key.key, &v)
            .map_err(|e| refusal(e.kind()))?;
        self.claims.principal(&data.claims)
    }
}

/// An OIDC key set without `oidc_issuer`.
fn stray_setting(config: &Config) -> Option<&'static str> {
    if config.oidc_audience.is_some() {
        Some("oidc_audience")
    } else if config.oidc_jwks_url.is_some() {
        Some("oidc_jwks_url")
    } else if config.oidc_jwks_file.is_some() {
        Some("oidc_jwks_file")
    } else {
        None
    }
}

/// The JWKS file or URL (exactly one). A URL must be https, or http to this machine only (keys
/// fetched over plain http could be swapped on the way).
fn source(config: &Config) -> Result<Source, String> {
    match (&config.oidc_jwks_url, &config.oidc_jwks_file) {
        (Some(_), Some(_)) => Err("zet oidc_jwks_url of oidc_jwks_file, niet beide".into()),
        (None, None) => Err(
            "oidc_issuer is ingesteld maar oidc_jwks_url en oidc_jwks_file ontbreken; \
             de sleutels van de identity provider zijn nodig"
                .into(),
        ),
        (None, Some(file)) => Ok(Source::File(file.clone())),
        (Some(url), None) => {
            let parsed = reqwest::Url::parse(url.trim())
                .map_err(|e| format!("oidc_jwks_url is geen geldige URL: {e}"))?;
            let loopback = matches!(parsed.host_str(), Some("localhost" | "127.0.0.1" | "[::1]"));
            match parsed.scheme() {
                "https" => Ok(Source::Url(parsed)),
                "http" if loopback => Ok(Source::Url(parsed)),
                _ => Err("oidc_jwks_url moet https gebruiken (http alleen naar localhost)".into()),
            }
        }
    }
}

/// The `alg` (one of the three allowed) and `kid` of a token's header.
fn header(token: &str) -> Result<(Algorithm, Option<String>), AuthError> {
    let unreadable = || AuthError::Onleesbaar("kop is geen base64url-JSON".into());
    let part = token.split('.').next().unwrap_or_default();
    let bytes = super::b64::decode(part).ok_or_else(unreadable)?;
    let head: Map<String, Value> = serde_json::from_slice(&bytes).map_err(|_| unreadable())?;
    let alg = match head.get("alg") {
        Some(Value::String(a)) => a.as_str(),
        _ => return Err(AuthError::Onleesbaar("kop zonder alg".into())),
    };
    let alg = match alg {
        "RS256" => Algorithm::RS256,
        "ES256" => Algorithm::ES256,
        "EdDSA" => Algorithm::EdDSA,
        other => {
            let shown = if other.len() <= 16 && other.bytes().all(|b| b.is_ascii_alphanumeric()) {
                other
            } else {
                "?"
            };
            return Err(AuthError::Algoritme(format!(
                "algoritme {shown} niet toegestaan (alleen RS256, ES256 of EdDSA)"
            )));
        }
    };
    let kid = match head.get("kid") {
        None => None,
        Some(Value::String(k)) => Some(k.clone()),
        Some(_) => return Err(AuthError::Onleesbaar("kid is geen tekst".into())),
    };
    Ok((alg, kid))
}

/// What a failed check of jsonwebtoken means for the caller.
fn refusal(kind: &ErrorKind) -> AuthError {
    match kind {
        ErrorKind::InvalidSignature => AuthError::OngeldigeHandtekening,
        ErrorKind::ExpiredSignature => AuthError::Verlopen,
        ErrorKind::ImmatureSignature => AuthError::NogNietGeldig,
        ErrorKind::InvalidIssuer => AuthError::VerkeerdeIssuer,
        ErrorKind::InvalidAudience => AuthError::VerkeerdeAudience,
        ErrorKind::MissingRequiredClaim(c) if c == "iss" => AuthError::VerkeerdeIssuer,
        ErrorKind::MissingRequiredClaim(c) if c == "aud" => AuthError::VerkeerdeAudience,
        ErrorKind::MissingRequiredClaim(c) => {
            AuthError::Onleesbaar(format!("claim {c} ontbreekt of is geen getal"))
        }
        ErrorKind::InvalidAlgorithm => {
            AuthError::Algoritme("algoritme past niet bij de sleutel".into())
        }
        ErrorKind::InvalidToken
        | ErrorKind::Base64(_)
        | ErrorKind::Json(_)
        | ErrorKind::Utf8(_) => AuthError::Onleesbaar("geen geldige JWT".into()),
        // A key the crypto library cannot use (a broken key in the set): no valid signature.
        _ => AuthError::OngeldigeHandtekening,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token_with_header(h: &str) -> String {
        format!("{}.e30.c2ln", super::super::b64::encode(h.as_bytes()))
    }

    #[test]
    fn none_and_hmac_are_refused_before_any_key() {
        for alg in ["none", "HS256", "HS512", "RS384", "PS256"] {
            let t = token_with_header(&format!("{{\"alg\":\"{alg}\"}}"));
            match header(&t) {
                Err(AuthError::Algoritme(m)) => assert!(m.contains(alg), "{m}"),
                other => panic!("{alg}: {other:?}"),
            }
        }
        let t = token_with_header("{\"alg\":\"EdDSA\",\"kid\":\"k1\"}");
        assert_eq!(header(&t).unwrap(), (Algorithm::EdDSA, Some("k1".into())));
        assert!(matches!(header("x.y.z"), Err(AuthError::Onleesbaar(_))));
        let long = token_with_header("{\"alg\":\"<script>alert(1)</script>\"}");
        match header(&long) {
            Err(AuthError::Algoritme(m)) => assert!(!m.contains("script"), "{m}"),
            other => panic!("{other:?}"),
        }
    }

    #[tokio::test]
    async fn settings_that_do_not_fit_are_refused_in_dutch() {
        let with = |f: &dyn Fn(&mut Config)| {
            let mut c = Config::default();
            f(&mut c);
            c
        };
        let cases: Vec<(Config, &str)> = vec![
            (
                with(&|c| c.oidc_jwks_url = Some("https://idp/keys".into())),
                "oidc_issuer niet",
            ),
            (
                with(&|c| c.oidc_issuer = Some("https://idp".into())),
                "oidc_audience ontbreekt",
            ),
            (
                with(&|c| {
                    c.oidc_issuer = Some("https://idp".into());
                    c.oidc_audience = Some("iwmo".into());
                }),
                "oidc_jwks_file ontbreken",
            ),
            (
                with(&|c| {
                    c.oidc_issuer = Some("https://idp".into());
                    c.oidc_audience = Some("iwmo".into());
                    c.oidc_jwks_url = Some("http://idp.example/keys".into());
                }),
                "https",
            ),
            (
                with(&|c| {
                    c.oidc_issuer = Some("https://idp".into());
                    c.oidc_audience = Some("iwmo".into());
                    c.oidc_jwks_file = Some("/nonexistent/jwks.json".into());
                }),
                "niet te lezen",
            ),
        ];
        for (config, expected) in cases {
            match Verifier::from_config(&config).await {
                Err(e) => assert!(e.contains(expected), "{e} (expected {expected})"),
                Ok(_) => panic!("accepted, expected {expected}"),
            }
        }
        assert!(Verifier::from_config(&Config::default())
            .await
            .unwrap()
            .is_none());
    }
}
