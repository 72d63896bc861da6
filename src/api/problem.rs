//! Errors as `application/problem+json` (RFC 9457) with a Dutch `detail`. Server faults are
//! logged with the request id and answered without internals.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::auth::AuthError;
use crate::store::betaalrondes::RondeFout;
use crate::store::StoreError;

/// A problem answer.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Problem {
    /// Always `about:blank`: the status says what kind of problem it is.
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub title: String,
    pub status: u16,
    /// What went wrong, in Dutch, for the person who reads it.
    pub detail: String,
    /// The lines of an import that are wrong (422).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fouten: Option<Vec<FoutRegel>>,
}

/// One wrong line of an imported CSV.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct FoutRegel {
    pub regel: usize,
    pub kolom: String,
    pub melding: String,
}

impl Problem {
    pub fn new(status: StatusCode, detail: impl Into<String>) -> Problem {
        Problem {
            kind: "about:blank",
            title: status.canonical_reason().unwrap_or("Fout").to_string(),
            status: status.as_u16(),
            detail: detail.into(),
            fouten: None,
        }
    }

    pub fn not_found() -> Problem {
        Problem::new(StatusCode::NOT_FOUND, "Niet gevonden.")
    }

    pub fn bad_request(detail: impl Into<String>) -> Problem {
        Problem::new(StatusCode::BAD_REQUEST, detail)
    }

    pub fn forbidden_role(rollen: &str) -> Problem {
        Problem::new(
            StatusCode::FORBIDDEN,
            format!("Uw rol mag dit niet; nodig: {rollen}."),
        )
    }

    pub fn internal() -> Problem {
        Problem::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Interne fout; de beheerder kan haar aan de hand van het request-id terugvinden in het log.",
        )
    }

    pub fn unavailable(detail: impl Into<String>) -> Problem {
        Problem::new(StatusCode::SERVICE_UNAVAILABLE, detail)
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = serde_json::to_vec(&self).unwrap_or_default();
        let mut r = (status, body).into_response();
        r.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if status == StatusCode::UNAUTHORIZED {
            r.headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        r
    }
}

impl From<StoreError> for Problem {
    fn from(e: StoreError) -> Problem {
        if e.is_outage() {
            tracing::warn!(error = %e, "database niet bereikbaar");
            return Problem::unavailable(
                "De database is tijdelijk niet bereikbaar; probeer het zo opnieuw.",
            );
        }
        tracing::error!(error = %e, "databasefout");
        Problem::internal()
    }
}

impl From<RondeFout> for Problem {
    fn from(e: RondeFout) -> Problem {
        use crate::domain::betaalronde::Weigering;
        match e {
            RondeFout::Onvolledig(d) | RondeFout::Leeg(d) => {
                Problem::new(StatusCode::UNPROCESSABLE_ENTITY, d)
            }
            RondeFout::NietGevonden => Problem::not_found(),
            RondeFout::Geweigerd(Weigering::Verboden(d)) => Problem::new(StatusCode::FORBIDDEN, d),
            RondeFout::Geweigerd(Weigering::Conflict(d)) => Problem::new(StatusCode::CONFLICT, d),
            RondeFout::Store(e) => e.into(),
        }
    }
}

impl From<crate::finance::rondes::Fout> for Problem {
    fn from(e: crate::finance::rondes::Fout) -> Problem {
        match e {
            crate::finance::rondes::Fout::Rol(_) => {
                Problem::new(StatusCode::FORBIDDEN, e.to_string())
            }
            crate::finance::rondes::Fout::Ronde(r) => r.into(),
        }
    }
}

impl From<AuthError> for Problem {
    fn from(e: AuthError) -> Problem {
        if e.is_outage() {
            tracing::warn!(error = %e, "aanmelden niet mogelijk");
            return Problem::unavailable(e.to_string());
        }
        Problem::new(StatusCode::UNAUTHORIZED, e.to_string())
    }
}

/// What handlers return.
pub type ApiResult<T> = Result<T, Problem>;
