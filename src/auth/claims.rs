//! The person in an OpenID Connect token: name, iwmo role and gemeenten, from the claims the
//! configuration names. A claim name is looked up as it is first (Entra ID names claims with
//! URLs, dots included), then as a dotted path into nested objects (Keycloak's
//! `realm_access.roles`).

use std::collections::HashSet;

use serde_json::{Map, Value};

use super::{AuthError, Gemeenten, Principal, Rol};
use crate::app::config::Config;

/// The claims that carry the person (`oidc_naam_claim`, `oidc_rol_claim`, `oidc_gemeenten_claim`).
pub(super) struct ClaimNames {
    naam: String,
    rol: String,
    gemeenten: String,
}

impl ClaimNames {
    pub(super) fn from_config(config: &Config) -> Result<ClaimNames, String> {
        let name = |key: &str, v: &str| {
            let v = v.trim();
            if v.is_empty() {
                Err(format!("{key} is leeg"))
            } else {
                Ok(v.to_string())
            }
        };
        Ok(ClaimNames {
            naam: name("oidc_naam_claim", &config.oidc_naam_claim)?,
            rol: name("oidc_rol_claim", &config.oidc_rol_claim)?,
            gemeenten: name("oidc_gemeenten_claim", &config.oidc_gemeenten_claim)?,
        })
    }

    /// The person of these (verified) claims.
    pub(super) fn principal(&self, claims: &Map<String, Value>) -> Result<Principal, AuthError> {
        Ok(Principal {
            naam: self.naam(claims)?,
            rol: self.rol(claims)?,
            gemeenten: self.gemeenten(claims)?,
        })
    }

    /// The name claim, else `sub`.
    fn naam(&self, claims: &Map<String, Value>) -> Result<String, AuthError> {
        [claim(claims, &self.naam), claims.get("sub")]
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .map(str::trim)
            .find(|s| !s.is_empty())
            .map(str::to_string)
            .ok_or_else(|| AuthError::NaamOntbreekt(self.naam.clone()))
    }

    /// A string naming an iwmo role, or a list holding exactly one iwmo role among other values
    /// (the provider's own roles).
    fn rol(&self, claims: &Map<String, Value>) -> Result<Rol, AuthError> {
        let refuse = |why: &str| AuthError::Rol(format!("claim {} {why}", self.rol));
        let values: Vec<&str> = match claim(claims, &self.rol) {
            None | Some(Value::Null) => return Err(refuse("ontbreekt")),
            Some(Value::String(s)) => vec![s.as_str()],
            Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).collect(),
            Some(_) => return Err(refuse("is geen tekst of lijst")),
        };
        let roles: HashSet<Rol> = values.iter().filter_map(|v| v.parse().ok()).collect();
        let mut it = roles.into_iter();
        match (it.next(), it.next()) {
            (Some(r), None) => Ok(r),
            (None, _) => Err(refuse("noemt geen iwmo-rol")),
            (Some(_), Some(_)) => Err(refuse("noemt meer dan één iwmo-rol")),
        }
    }

    /// A list of gemeentecodes, or "*" for all (a string of codes separated by commas is taken
    /// too: some providers flatten a list of one).
    fn gemeenten(&self, claims: &Map<String, Value>) -> Result<Gemeenten, AuthError> {
        let refuse = |why: String| AuthError::Gemeenten(format!("claim {} {why}", self.gemeenten));
        match claim(claims, &self.gemeenten) {
            None | Some(Value::Null) => Err(refuse("ontbreekt".into())),
            Some(Value::String(s)) => Gemeenten::from_stored(s).map_err(refuse),
            Some(Value::Array(items)) => {
                let codes: Option<Vec<&str>> = items.iter().map(Value::as_str).collect();
                let codes = codes.ok_or_else(|| refuse("bevat iets anders dan tekst".into()))?;
                Gemeenten::from_codes(codes).map_err(refuse)
            }
            Some(_) => Err(refuse("is geen lijst of \"*\"".into())),
        }
    }
}

/// A claim by its name, else by a dotted path into nested objects.
fn claim<'a>(claims: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    if let Some(v) = claims.get(name) {
        return Some(v);
    }
    let mut parts = name.split('.');
    let first = claims.get(parts.next()?)?;
    parts.try_fold(first, |v, p| v.get(p))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn names() -> ClaimNames {
        ClaimNames::from_config(&Config::default()).unwrap()
    }

    fn map(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap()
    }

    #[test]
    fn roles_from_a_string_or_a_list_with_exactly_one_iwmo_role() {
        let n = names();
        let rol = |v: Value| n.rol(&map(json!({ "iwmo_rol": v })));
        assert_eq!(rol(json!("auditor")).unwrap(), Rol::Auditor);
        assert_eq!(
            rol(json!(["offline_access", "financien"])).unwrap(),
            Rol::Financien
        );
        assert_eq!(
            rol(json!(["financien", "Financien"])).unwrap(),
            Rol::Financien
        );
        let msg = |r: Result<Rol, AuthError>| r.unwrap_err().to_string();
        assert!(msg(rol(json!(["auditor", "financien"]))).contains("meer dan één"));
        assert!(msg(rol(json!("admin"))).contains("geen iwmo-rol"));
        assert!(msg(rol(json!([]))).contains("geen iwmo-rol"));
        assert!(msg(rol(json!(7))).contains("geen tekst of lijst"));
        assert!(msg(n.rol(&map(json!({})))).contains("iwmo_rol ontbreekt"));
    }

    #[test]
    fn nested_claims_and_the_name_falling_back_to_sub() {
        let c = Config {
            oidc_rol_claim: "realm_access.roles".into(),
            ..Config::default()
        };
        let n = ClaimNames::from_config(&c).unwrap();
        let claims = map(json!({
            "sub": "abc-123",
            "realm_access": {"roles": ["uma_authorization", "backoffice"]},
            "iwmo_gemeenten": ["0363", "0344"]
        }));
        let p = n.principal(&claims).unwrap();
        assert_eq!(p.naam, "abc-123");
        assert_eq!(p.rol, Rol::Backoffice);
        assert_eq!(
            p.gemeenten,
            Gemeenten::Enkel(["0344".to_string(), "0363".to_string()].into())
        );
        assert!(p.mag("0363") && !p.mag("0599"));
        let none = map(json!({"iwmo_rol": "auditor", "iwmo_gemeenten": "*"}));
        assert!(matches!(
            names().principal(&none),
            Err(AuthError::NaamOntbreekt(_))
        ));
    }

    #[test]
    fn gemeenten_a_list_of_codes_or_a_star() {
        let n = names();
        let g = |v: Value| n.gemeenten(&map(json!({ "iwmo_gemeenten": v })));
        assert_eq!(g(json!("*")).unwrap(), Gemeenten::Alle);
        assert_eq!(
            g(json!(["0344"])).unwrap().codes(),
            Some(vec!["0344".into()])
        );
        for bad in [
            json!([]),
            json!(["344"]),
            json!([344]),
            json!(""),
            json!({}),
        ] {
            assert!(
                matches!(g(bad.clone()), Err(AuthError::Gemeenten(_))),
                "{bad}"
            );
        }
        assert!(matches!(
            n.gemeenten(&map(json!({}))),
            Err(AuthError::Gemeenten(_))
        ));
    }
}
