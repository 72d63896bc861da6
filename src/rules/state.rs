//! What the level-3/4 rules may know about the world: a snapshot of the stored state that the
//! worker loads for one message. Pure data (serialisable, so every decision can be replayed on
//! exactly the state it was made on).

use chrono::{NaiveDate, NaiveTime};
use serde::{Deserialize, Serialize};

use crate::domain::*;
use crate::message::common::{Product, ProductCode};

/// Local policy per gemeente for Prestaties without a covering start (design decision 3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum StartPolicy {
    /// Pay, but list the line as a signal.
    Signal,
    /// Approve in the 325, but hold payment until a start covers it (default).
    #[default]
    Hold,
    /// Reject the line in the 325: a local deviation from OP364, logged as such.
    Reject,
}

impl StartPolicy {
    pub fn parse(s: &str) -> Option<StartPolicy> {
        match s {
            "signal" => Some(StartPolicy::Signal),
            "hold" => Some(StartPolicy::Hold),
            "reject" => Some(StartPolicy::Reject),
            _ => None,
        }
    }
    pub fn as_str(&self) -> &'static str {
        match self {
            StartPolicy::Signal => "signal",
            StartPolicy::Hold => "hold",
            StartPolicy::Reject => "reject",
        }
    }
}

/// The current version of a toegewezen product (latest Toewijzingsdatum + Toewijzingstijd, IV013).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Toewijzing {
    pub gemeente: Gemeentecode,
    pub toewijzing_nummer: ToewijzingNummer,
    pub bsn: Bsn,
    pub aanbieder: AgbCode,
    pub product: Option<Product>,
    pub toewijzingsdatum: NaiveDate,
    pub toewijzingstijd: NaiveTime,
    pub ingangsdatum: NaiveDate,
    pub einddatum: Option<NaiveDate>,
    pub reden_wijziging: Option<RedenWijziging>,
    pub volume: Option<u64>,
    pub eenheid: Option<Eenheid>,
    pub frequentie: Option<Frequentie>,
    /// Cents.
    pub budget: Option<u64>,
}

impl Toewijzing {
    /// Deleted: RedenWijziging 13 (or legacy 01) with Einddatum = Ingangsdatum; counts as never sent.
    pub fn is_verwijderd(&self) -> bool {
        matches!(
            self.reden_wijziging,
            Some(RedenWijziging::Verwijderd | RedenWijziging::AdministratieveCorrectieVervallen)
        ) && self.einddatum == Some(self.ingangsdatum)
    }
}

/// A start (StartProduct) as stored. Logical key: (Bsn, ToewijzingNummer, Product, Begindatum).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StartRow {
    pub id: i64,
    pub aanbieder: AgbCode,
    pub bsn: Bsn,
    pub toewijzing_nummer: Option<ToewijzingNummer>,
    pub product: Option<Product>,
    pub begindatum: NaiveDate,
    /// False once deleted with StatusAanlevering 3.
    pub active: bool,
}

/// A stop (StopProduct) as stored. Logical key since 3.2:
/// (Bsn, ToewijzingNummer, Product, Begindatum, RedenBeeindiging, Einddatum).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StopRow {
    pub id: i64,
    pub aanbieder: AgbCode,
    pub bsn: Bsn,
    pub toewijzing_nummer: Option<ToewijzingNummer>,
    pub product: Option<Product>,
    pub begindatum: NaiveDate,
    pub reden_beeindiging: RedenBeeindiging,
    pub einddatum: NaiveDate,
    pub active: bool,
}

/// What a 305/307 check needs: the toewijzingen named in the message (this gemeente) and the
/// starts and stops of this client at this gemeente.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StartStopSnapshot {
    pub toewijzingen: Vec<Toewijzing>,
    pub starts: Vec<StartRow>,
    pub stops: Vec<StopRow>,
    /// The gemeente's policy for lines without a start (holds placed again after a delete).
    #[serde(default)]
    pub policy: StartPolicy,
    /// This client's approved, not credited debit Prestaties at this gemeente, with the state of
    /// their hold: what an approved 305/307 may release or hold again.
    #[serde(default)]
    pub open_lines: Vec<OpenLine>,
}

/// An approved, not credited debit Prestatie as the hold rules see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpenLine {
    pub prestatie_id: i64,
    pub toewijzing_nummer: ToewijzingNummer,
    pub periode: Periode,
    /// The status of its hold, if it has one: `held`, `released` (or `vervallen`).
    pub hold: Option<String>,
}

/// An earlier Prestatie of the same gemeente as stored (approved or rejected lines both count
/// for reference uniqueness; only approved lines count for amounts and credits).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EarlierPrestatie {
    pub id: i64,
    pub aanbieder: AgbCode,
    pub referentie_nummer: String,
    pub vorig_referentie_nummer: Option<String>,
    pub bsn: Bsn,
    pub toewijzing_nummer: ToewijzingNummer,
    pub product_categorie: ProductCategorie,
    pub product_code: ProductCode,
    pub product_periode: Periode,
    pub geleverd_volume: u64,
    pub eenheid: Eenheid,
    /// Signed cents: credit negative.
    pub bedrag: i64,
    pub debet_credit: DebetCredit,
    pub approved: bool,
    /// ReferentieNummer of the approved credit that cancelled this debit, if any.
    pub gecrediteerd_door: Option<String>,
}

/// A contracted tariff: aanbieder × gemeente × product × eenheid × period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contract {
    pub aanbieder: AgbCode,
    pub gemeente: Gemeentecode,
    pub product_categorie: ProductCategorie,
    pub product_code: ProductCode,
    pub eenheid: Eenheid,
    /// Cents per unit.
    pub tarief: u64,
    pub ingangsdatum: NaiveDate,
    /// None: open-ended.
    pub einddatum: Option<NaiveDate>,
}

/// What a 323 check needs.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeclaratieSnapshot {
    /// The DeclaratieNummer was used before by this aanbieder (TR333 → 9333).
    pub declaratie_nummer_gebruikt: bool,
    /// Latest DeclaratiePeriode this aanbieder declared at this gemeente (TR318 → 8214).
    pub laatste_declaratie_periode: Option<Periode>,
    /// Toewijzingen named in the message (this gemeente).
    pub toewijzingen: Vec<Toewijzing>,
    /// Earlier Prestaties that matter: those whose ReferentieNummer occurs in the message
    /// (TR314), those credited by the message (TR323/TR390), all lines on the message's
    /// toewijzingen (TR389, TR321/TR322/TR369), and approved lines of the message's clients in
    /// the same categories (double-declaration signals).
    pub earlier: Vec<EarlierPrestatie>,
    /// Contracts of this aanbieder at this gemeente.
    pub contracts: Vec<Contract>,
    /// The product code list in use; empty means no list is loaded (no S329 check).
    pub product_codes: Vec<(ProductCategorie, ProductCode)>,
    /// Starts and stops on the message's toewijzingen (for holds; never for rejections, OP364).
    pub starts: Vec<StartRow>,
    pub stops: Vec<StopRow>,
    pub policy: StartPolicy,
    /// Totals of this aanbieder's approved lines per toewijzing and Eenheid (TR322/TR369).
    /// When present, `earlier` need only hold lines whose ProductPeriode overlaps the message's
    /// periods (plus those named by reference); when absent the totals are summed from `earlier`.
    #[serde(default)]
    pub sommen: Option<Vec<ToewijzingSom>>,
    /// Ids of earlier Prestaties named by the message's VorigReferentieNummers whose payment is
    /// held (an approved credit voids that hold).
    #[serde(default)]
    pub held: Vec<i64>,
}

/// Σ over approved lines (debit minus credit) of one aanbieder on one toewijzing in one Eenheid.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ToewijzingSom {
    pub toewijzing_nummer: ToewijzingNummer,
    pub eenheid: Eenheid,
    /// Signed GeleverdVolume.
    pub volume: i64,
    /// Signed cents.
    pub bedrag: i64,
}

/// What a 315/317 check needs (src/rules/verzoek.rs). Every list is scoped to this gemeente
/// (Ontvanger); only rows of this aanbieder (Afzender) count, whatever else is loaded.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerzoekSnapshot {
    /// Toewijzingen of this gemeente: all of this client (TR349) plus those the 317 names by
    /// ToewijzingNummer (TR350/TR351/TR304). Several versions of one ToewijzingNummer may be
    /// present; the latest Toewijzingsdatum + Toewijzingstijd is the current one (IV013).
    pub toewijzingen: Vec<Toewijzing>,
    /// ReferentieAanbieder values of this aanbieder's earlier verzoeken (315 AangevraagdProduct,
    /// 317 Verzoek) that were taken in (TR347). A rejected verzoek counts as never sent.
    pub referenties_aanbieder: Vec<String>,
    /// ReferentieAanbieder of this aanbieder's verzoeken for this client that are still in
    /// behandeling (TR374): taken in, and not yet answered with a 319 with VerzoekAntwoord 1
    /// (afgewezen) nor with a 301 carrying that ReferentieAanbieder.
    pub open_verzoeken: Vec<String>,
    /// The product code list in use; empty means no list is loaded (no S329 check, TR381).
    #[serde(default)]
    pub product_codes: Vec<(ProductCategorie, ProductCode)>,
}
