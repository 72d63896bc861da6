//! Who is asking: people with a role and a set of gemeenten. Two ways in: bearer tokens made by
//! `iwmo gebruikers toevoegen` (only their sha256 is stored), and in production OpenID Connect
//! JWTs from the municipality's identity provider (issuer, audience, keys and claims from the
//! configuration). Outside a person's gemeenten everything is as if absent.

mod b64;
mod claims;
mod jwks;
mod oidc;
pub mod token;

use std::collections::BTreeSet;

use crate::app::config::Config;
use crate::store::{Store, StoreError, UserRow};

/// What a person may do (see docs/finance-and-access.md, "People, roles, scope").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Rol {
    Backoffice,
    Financien,
    Auditor,
    Contractbeheer,
    Beheerder,
}

impl Rol {
    pub const ALLE: [Rol; 5] = [
        Rol::Backoffice,
        Rol::Financien,
        Rol::Auditor,
        Rol::Contractbeheer,
        Rol::Beheerder,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Rol::Backoffice => "backoffice",
            Rol::Financien => "financien",
            Rol::Auditor => "auditor",
            Rol::Contractbeheer => "contractbeheer",
            Rol::Beheerder => "beheerder",
        }
    }
}

impl std::fmt::Display for Rol {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Rol {
    type Err = String;

    /// A role by its name (capitals do not matter).
    fn from_str(s: &str) -> Result<Rol, String> {
        let lower = s.trim().to_ascii_lowercase();
        Rol::ALLE
            .into_iter()
            .find(|r| r.as_str() == lower)
            .ok_or_else(|| {
                let names: Vec<&str> = Rol::ALLE.iter().map(|r| r.as_str()).collect();
                format!("onbekende rol; kies uit {}", names.join(", "))
            })
    }
}

/// The gemeenten a person works for: all, or these gemeentecodes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Gemeenten {
    Alle,
    Enkel(BTreeSet<String>),
}

impl Gemeenten {
    /// Whether this gemeente is in scope.
    pub fn omvat(&self, code: &str) -> bool {
        match self {
            Gemeenten::Alle => true,
            Gemeenten::Enkel(codes) => codes.contains(code),
        }
    }

    /// The codes in scope, in order; None = all gemeenten.
    pub fn codes(&self) -> Option<Vec<String>> {
        match self {
            Gemeenten::Alle => None,
            Gemeenten::Enkel(codes) => Some(codes.iter().cloned().collect()),
        }
    }

    /// From gemeentecodes (4 digits each); an empty list or a wrong code is refused (Dutch).
    pub fn from_codes<I, S>(codes: I) -> Result<Gemeenten, String>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut set = BTreeSet::new();
        for c in codes {
            let c = c.as_ref().trim();
            if crate::domain::Gemeentecode::parse(c).is_err() {
                return Err("een gemeentecode is 4 cijfers".into());
            }
            set.insert(c.to_string());
        }
        if set.is_empty() {
            return Err("geen gemeentecodes".into());
        }
        Ok(Gemeenten::Enkel(set))
    }

    /// As stored in `gebruikers.gemeenten`: `*` or the codes separated by commas.
    pub fn from_stored(text: &str) -> Result<Gemeenten, String> {
        match text.trim() {
            "*" => Ok(Gemeenten::Alle),
            t => Gemeenten::from_codes(t.split(',')),
        }
    }

    /// The stored form (see [`Gemeenten::from_stored`]).
    pub fn stored(&self) -> String {
        match self.codes() {
            None => "*".into(),
            Some(codes) => codes.join(","),
        }
    }
}

impl std::fmt::Display for Gemeenten {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.codes() {
            None => f.write_str("alle gemeenten"),
            Some(codes) => f.write_str(&codes.join(", ")),
        }
    }
}

/// An authenticated person.
#[derive(Debug, Clone)]
pub struct Principal {
    pub naam: String,
    pub rol: Rol,
    pub gemeenten: Gemeenten,
}

impl Principal {
    /// Whether this gemeente is in the person's scope.
    pub fn mag(&self, code: &str) -> bool {
        self.gemeenten.omvat(code)
    }
}

/// Why a request is not let in. Every kind is the caller's (401), except [`AuthError::is_outage`].
/// The texts are for the caller and never quote a token.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("token ontbreekt")]
    Ontbreekt,
    #[error("onbekend of ingetrokken token")]
    OnbekendToken,
    #[error("JWT niet te lezen: {0}")]
    Onleesbaar(String),
    #[error("JWT geweigerd: {0}")]
    Algoritme(String),
    #[error("JWT ondertekend met een onbekende sleutel")]
    OnbekendeSleutel,
    #[error("ongeldige handtekening")]
    OngeldigeHandtekening,
    #[error("JWT verlopen")]
    Verlopen,
    #[error("JWT nog niet geldig (nbf ligt in de toekomst)")]
    NogNietGeldig,
    #[error("verkeerde issuer")]
    VerkeerdeIssuer,
    #[error("verkeerde audience")]
    VerkeerdeAudience,
    #[error("rol ontbreekt of onbekend: {0}")]
    Rol(String),
    #[error("gemeenten ontbreken of ongeldig: {0}")]
    Gemeenten(String),
    #[error("naam ontbreekt: geen claim {0} en geen sub")]
    NaamOntbreekt(String),
    #[error("JWT niet geaccepteerd: OpenID Connect is niet ingesteld")]
    OidcUit,
    /// The identity provider's keys cannot be had: an outage, not the caller's fault.
    #[error("JWKS onbereikbaar: {0}")]
    JwksOnbereikbaar(String),
    /// The database failed while looking the token up.
    #[error("database: {0}")]
    Database(#[from] StoreError),
}

impl AuthError {
    /// Not the caller's fault: the identity provider's keys or the database cannot be reached
    /// (answer 503, not 401).
    pub fn is_outage(&self) -> bool {
        matches!(
            self,
            AuthError::JwksOnbereikbaar(_) | AuthError::Database(_)
        )
    }
}

/// Checks bearer tokens: iwmo's own against the store, JWTs with the OpenID Connect verifier
/// when one is configured.
pub struct Authenticator {
    store: Store,
    oidc: Option<oidc::Verifier>,
}

impl Authenticator {
    /// Reads the OpenID Connect settings (when `oidc_issuer` is set) and loads the signing keys:
    /// a JWKS file must be readable now; a JWKS URL that does not answer yet is tried again when
    /// the first token comes.
    pub async fn new(store: Store, config: &Config) -> Result<Self, String> {
        let oidc = oidc::Verifier::from_config(config).await?;
        Ok(Authenticator { store, oidc })
    }

    /// `bearer` is the token without "Bearer ". Tokens from `iwmo gebruikers toevoegen` start
    /// with "iwmo_"; anything with two dots is a JWT for the OIDC verifier.
    pub async fn authenticate(&self, bearer: &str) -> Result<Principal, AuthError> {
        let bearer = bearer.trim();
        if bearer.is_empty() {
            return Err(AuthError::Ontbreekt);
        }
        if bearer.starts_with(token::PREFIX) {
            return self.own_token(bearer).await;
        }
        if bearer.bytes().filter(|&b| b == b'.').count() == 2 {
            return match &self.oidc {
                Some(v) => v.verify(bearer).await,
                None => Err(AuthError::OidcUit),
            };
        }
        Err(AuthError::OnbekendToken)
    }

    async fn own_token(&self, bearer: &str) -> Result<Principal, AuthError> {
        let row = self
            .store
            .user_by_token(&token::token_hash(bearer))
            .await?
            .ok_or(AuthError::OnbekendToken)?;
        principal_of(row).map_err(AuthError::Database)
    }
}

/// The principal of a stored user; a role or gemeenten the store should never hold is corrupt.
fn principal_of(row: UserRow) -> Result<Principal, StoreError> {
    let corrupt =
        |what: &str, e: String| StoreError::Corrupt(format!("gebruiker {}: {what}: {e}", row.id));
    let rol = row.rol.parse().map_err(|e| corrupt("rol", e))?;
    let gemeenten = Gemeenten::from_stored(&row.gemeenten).map_err(|e| corrupt("gemeenten", e))?;
    Ok(Principal {
        naam: row.naam,
        rol,
        gemeenten,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_parse_by_name_and_serialize_lowercase() {
        for r in Rol::ALLE {
            assert_eq!(r.as_str().parse::<Rol>(), Ok(r));
            assert_eq!(
                serde_json::to_string(&r).unwrap(),
                format!("\"{}\"", r.as_str())
            );
        }
        assert_eq!("Financien".parse::<Rol>(), Ok(Rol::Financien));
        let e = "admin".parse::<Rol>().unwrap_err();
        assert!(
            e.contains("backoffice, financien, auditor, contractbeheer, beheerder"),
            "{e}"
        );
    }

    #[test]
    fn stored_gemeenten_round_trip_and_bad_codes_are_refused() {
        let g = Gemeenten::from_stored("0363,0344").unwrap();
        assert_eq!(g.stored(), "0344,0363");
        assert!(g.omvat("0344") && !g.omvat("0345"));
        assert_eq!(Gemeenten::from_stored("*"), Ok(Gemeenten::Alle));
        assert!(Gemeenten::from_stored("").is_err());
        assert!(Gemeenten::from_stored("344").is_err());
        assert!(Gemeenten::from_stored("0344,abcd").is_err());
        assert_eq!(Gemeenten::Alle.codes(), None);
        assert_eq!(g.to_string(), "0344, 0363");
    }
}
