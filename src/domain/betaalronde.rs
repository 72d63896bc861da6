//! The life of a payment run (betaalronde), pure: which status may follow which, and who may
//! move it. The store applies what this allows, in one transaction with the action log.
//!
//! ```text
//! concept ──fiattering (another financien user)──▶ gefiatteerd ──sepa──▶ geexporteerd ──betaald──▶ betaald
//!    └──────────────intrekking──────────────────────────┘ (lines free again)
//! ```

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Concept,
    Gefiatteerd,
    Geexporteerd,
    Betaald,
    Ingetrokken,
}

impl Status {
    pub const ALLE: [Status; 5] = [
        Status::Concept,
        Status::Gefiatteerd,
        Status::Geexporteerd,
        Status::Betaald,
        Status::Ingetrokken,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Concept => "concept",
            Status::Gefiatteerd => "gefiatteerd",
            Status::Geexporteerd => "geexporteerd",
            Status::Betaald => "betaald",
            Status::Ingetrokken => "ingetrokken",
        }
    }

    pub fn parse(s: &str) -> Option<Status> {
        Status::ALLE.into_iter().find(|st| st.as_str() == s)
    }
}

/// A move of a run's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stap {
    Fiatteren,
    Exporteren,
    Betaald,
    Intrekken,
}

impl Stap {
    /// Name in the action log.
    pub fn actie(self) -> &'static str {
        match self {
            Stap::Fiatteren => "betaalronde.fiatteren",
            Stap::Exporteren => "betaalronde.exporteren",
            Stap::Betaald => "betaalronde.betaald",
            Stap::Intrekken => "betaalronde.intrekken",
        }
    }
}

/// Why a move is refused: `Verboden` (403: four-eyes) or `Conflict` (409: wrong status).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Weigering {
    #[error("{0}")]
    Verboden(String),
    #[error("{0}")]
    Conflict(String),
}

/// The status after `stap` by `door` on a run in `status` made by `maker`; `Ok(None)` when the
/// step changes nothing (a second SEPA export of an exported or paid run gives the same file).
pub fn volgende(
    status: Status,
    stap: Stap,
    maker: &str,
    door: &str,
) -> Result<Option<Status>, Weigering> {
    use Status::*;
    match (stap, status) {
        (Stap::Fiatteren, Concept) if maker == door => Err(Weigering::Verboden(
            "U heeft deze betaalronde zelf aangemaakt; een andere medewerker van financiën moet \
             haar fiatteren (vier-ogenprincipe)."
                .into(),
        )),
        (Stap::Fiatteren, Concept) => Ok(Some(Gefiatteerd)),
        (Stap::Exporteren, Gefiatteerd) => Ok(Some(Geexporteerd)),
        (Stap::Exporteren, Geexporteerd | Betaald) => Ok(None),
        (Stap::Betaald, Geexporteerd) => Ok(Some(Betaald)),
        (Stap::Intrekken, Concept | Gefiatteerd) => Ok(Some(Ingetrokken)),
        (stap, status) => Err(Weigering::Conflict(niet_mogelijk(stap, status))),
    }
}

fn niet_mogelijk(stap: Stap, status: Status) -> String {
    let wat = match stap {
        Stap::Fiatteren => "Fiatteren kan alleen bij een betaalronde in status concept",
        Stap::Exporteren => {
            "Het SEPA-bestand is er pas nadat de betaalronde is gefiatteerd (en niet na intrekking)"
        }
        Stap::Betaald => "Als betaald markeren kan alleen na de SEPA-export",
        Stap::Intrekken => {
            "Intrekken kan alleen bij een betaalronde in status concept of gefiatteerd"
        }
    };
    format!("{wat}; deze betaalronde heeft status {}.", status.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn four_eyes_and_order() {
        use Status::*;
        assert!(matches!(
            volgende(Concept, Stap::Fiatteren, "an", "an"),
            Err(Weigering::Verboden(_))
        ));
        assert_eq!(
            volgende(Concept, Stap::Fiatteren, "an", "bo"),
            Ok(Some(Gefiatteerd))
        );
        assert!(matches!(
            volgende(Gefiatteerd, Stap::Fiatteren, "an", "bo"),
            Err(Weigering::Conflict(_))
        ));
        assert!(matches!(
            volgende(Concept, Stap::Exporteren, "an", "bo"),
            Err(Weigering::Conflict(_))
        ));
        assert_eq!(
            volgende(Gefiatteerd, Stap::Exporteren, "an", "an"),
            Ok(Some(Geexporteerd))
        );
        assert_eq!(volgende(Betaald, Stap::Exporteren, "an", "an"), Ok(None));
        assert!(matches!(
            volgende(Geexporteerd, Stap::Intrekken, "an", "an"),
            Err(Weigering::Conflict(_))
        ));
        assert_eq!(
            volgende(Gefiatteerd, Stap::Intrekken, "an", "an"),
            Ok(Some(Ingetrokken))
        );
        assert!(matches!(
            volgende(Ingetrokken, Stap::Betaald, "an", "bo"),
            Err(Weigering::Conflict(_))
        ));
        for s in Status::ALLE {
            assert_eq!(Status::parse(s.as_str()), Some(s));
        }
    }
}
