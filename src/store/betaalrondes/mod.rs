//! Payment runs in the store: making them ([`create`]), moving their status ([`status`]),
//! reading them ([`read`]) and what finance exports and reconciles ([`report`]).

mod create;
mod read;
mod report;
mod status;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

pub use read::RondeFilter;
pub use read::{RegelRow, RondeRow};
pub use report::{AfstemmingRow, JournaalRow};
pub use status::{Door, StapUitkomst};

use crate::domain::betaalronde::{Status, Weigering};

/// What `POST /betaalrondes` asks for.
#[derive(Debug, Clone)]
pub struct NieuweRonde {
    pub gemeente: String,
    pub tot_en_met: NaiveDate,
    pub aanbieder: Option<String>,
}

/// One aanbieder paid by a run (frozen at creation).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Aanbieder {
    pub agb_code: String,
    pub naam: String,
    pub iban: String,
    pub bic: Option<String>,
    pub aantal_regels: i64,
    pub bedrag_cents: i64,
}

/// Held lines left out of a run, per reason.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Vastgehouden {
    pub reden: String,
    pub aantal: i64,
    pub bedrag_cents: i64,
}

/// An aanbieder whose payable lines were left out, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Uitgesloten {
    pub agb_code: String,
    pub aantal_regels: i64,
    pub bedrag_cents: i64,
    pub reden: String,
}

/// What a run was made of.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Samenvatting {
    pub aantal_regels: i64,
    pub totaal_cents: i64,
    pub aanbieders: Vec<Aanbieder>,
    pub vastgehouden: Vec<Vastgehouden>,
    pub uitgesloten: Vec<Uitgesloten>,
}

/// The part of the summary kept in `betaalrondes.samenvatting` (the aanbieders have a table).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Opgeslagen {
    pub vastgehouden: Vec<Vastgehouden>,
    pub uitgesloten: Vec<Uitgesloten>,
}

impl Samenvatting {
    fn voor_opslag(&self) -> Opgeslagen {
        Opgeslagen {
            vastgehouden: self.vastgehouden.clone(),
            uitgesloten: self.uitgesloten.clone(),
        }
    }
}

/// Why a run could not be made or moved.
#[derive(Debug, thiserror::Error)]
pub enum RondeFout {
    /// Something the run needs is missing (the gemeente's account): 422.
    #[error("{0}")]
    Onvolledig(String),
    /// Nothing to pay: 422.
    #[error("{0}")]
    Leeg(String),
    /// No such run (or outside the caller's gemeenten): 404.
    #[error("betaalronde niet gevonden")]
    NietGevonden,
    /// Four-eyes (403) or wrong status (409).
    #[error(transparent)]
    Geweigerd(#[from] Weigering),
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
}

impl From<sqlx::Error> for RondeFout {
    fn from(e: sqlx::Error) -> Self {
        RondeFout::Store(e.into())
    }
}

/// A line's amount with its sign: credits (OP366) count negative. `prestaties.bedrag` is
/// stored signed already (see `decide::declaratie`); `debet_credit` says the same once more.
pub(crate) fn signed(p: &str) -> String {
    format!("{p}.bedrag")
}

/// Parses a stored status.
fn status_of(s: &str) -> crate::store::Result<Status> {
    Status::parse(s)
        .ok_or_else(|| crate::store::StoreError::Corrupt(format!("betaalronde-status {s}")))
}
