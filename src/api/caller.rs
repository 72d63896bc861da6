//! Who is calling: the bearer token of every `/api/v1` request becomes a [`Principal`], and
//! each handler says which roles may call it. Gemeente scope is checked on the data itself:
//! what lies outside the caller's gemeenten answers 404, as if it did not exist.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, StatusCode};

use super::problem::Problem;
use super::AppState;
use crate::auth::{Principal, Rol};

/// The authenticated caller.
#[derive(Debug, Clone)]
pub struct Caller(pub Principal);

impl FromRequestParts<AppState> for Caller {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Problem> {
        let value = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let token = value
            .strip_prefix("Bearer ")
            .or_else(|| value.strip_prefix("bearer "))
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| {
                Problem::new(
                    StatusCode::UNAUTHORIZED,
                    "Aanmelden vereist: stuur een header `Authorization: Bearer <token>`.",
                )
            })?;
        let p = state.auth.authenticate(token).await?;
        if let Some(slot) = parts.extensions.get::<super::layers::CallerSlot>() {
            if let Ok(mut g) = slot.0.lock() {
                *g = Some(p.naam.clone());
            }
        }
        Ok(Caller(p))
    }
}

impl Caller {
    /// The caller when its role is one of `rollen`, else 403.
    pub fn met_rol(self, rollen: &[Rol]) -> Result<Principal, Problem> {
        if rollen.contains(&self.0.rol) {
            Ok(self.0)
        } else {
            let namen: Vec<&str> = rollen.iter().map(|r| r.as_str()).collect();
            Err(Problem::forbidden_role(&namen.join(" of ")))
        }
    }
}

/// 404 unless the gemeente is within the caller's scope.
pub fn in_scope(p: &Principal, gemeente: &str) -> Result<(), Problem> {
    if p.mag(gemeente) {
        Ok(())
    } else {
        Err(Problem::not_found())
    }
}
