//! What a decided message changes in the stored state, as plain data: computed by the rooms from
//! the message and its snapshot, written by the store as given, kept with the decision (so a
//! replay can say precisely what would change differently today).

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::domain::*;
use crate::message::common::Product;
use crate::rules::decision::{Hold, Signal};
pub use crate::rules::holds::{HoldChange, StartRef};
use crate::rules::state::Toewijzing;

/// Everything one message changes besides its own message, decision and answer rows.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Changes {
    /// Toewijzing versions (a 301, or a CSV import).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub toewijzingen: Option<ToewijzingChanges>,
    /// Starts and stops added or deleted (an approved 305/307).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub startstop: Option<StartStopChanges>,
    /// A processed 323: the declaratie, its Prestaties and the debits its credits cancel.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub declaratie: Option<DeclaratieChanges>,
    /// Holds of earlier Prestaties placed, released, placed again or voided.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub holds: Vec<HoldChange>,
    /// An accepted request (315/317) waiting for the gemeente's decision.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verzoek: Option<NewVerzoek>,
    /// Open requests the gemeente answered with a toewijzing (a 301 whose ToegewezenProduct
    /// carries the request's ReferentieAanbieder): (aanbieder, ReferentieAanbieder).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub verzoeken_toegewezen: Vec<(AgbCode, String)>,
    /// Toewijzingen the aanbieder refused in a WMO302 with retour codes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub geweigerd: Vec<Weigering>,
}

impl Changes {
    pub fn is_empty(&self) -> bool {
        *self == Changes::default()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ToewijzingChanges {
    /// "WMO301" or "csv:<file>".
    pub source: String,
    pub items: Vec<Toewijzing>,
}

/// A start or stop class to add (approved 305/307, status 1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewClass {
    pub toewijzing_nummer: Option<ToewijzingNummer>,
    pub product: Option<Product>,
    pub begindatum: NaiveDate,
    /// Stops only.
    pub reden_beeindiging: Option<RedenBeeindiging>,
    pub einddatum: Option<NaiveDate>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StartStopChanges {
    pub gemeente: Gemeentecode,
    pub aanbieder: AgbCode,
    pub bsn: Bsn,
    pub new_starts: Vec<NewClass>,
    /// Ids of stored starts deleted (StatusAanlevering 3).
    pub deleted_starts: Vec<i64>,
    pub new_stops: Vec<NewClass>,
    pub deleted_stops: Vec<i64>,
}

/// One Prestatie of a processed 323, with its decision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewPrestatie {
    pub regel: i64,
    pub bsn: Bsn,
    pub referentie_nummer: String,
    pub vorig_referentie_nummer: Option<String>,
    pub toewijzing_nummer: ToewijzingNummer,
    pub product_categorie: ProductCategorie,
    pub product_code: String,
    pub periode: Periode,
    pub geleverd_volume: u64,
    pub eenheid: Eenheid,
    pub product_tarief: Option<u64>,
    /// Signed cents.
    pub bedrag: i64,
    pub debet_credit: DebetCredit,
    pub approved: bool,
    pub codes: Vec<String>,
    /// Approved debit held from payment ("geen startbericht, geen betaling").
    pub hold: Option<Hold>,
    pub signals: Vec<Signal>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeclaratieChanges {
    pub gemeente: Gemeentecode,
    pub aanbieder: AgbCode,
    pub declaratie_nummer: String,
    pub periode: Periode,
    /// Signed cents.
    pub totaal_ingediend: i64,
    pub totaal_toegekend: i64,
    pub prestaties: Vec<NewPrestatie>,
    /// Earlier approved debits cancelled by an approved credit of this message.
    pub credits: Vec<Credit>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Credit {
    /// Id of the stored debit Prestatie.
    pub debit_id: i64,
    /// ReferentieNummer of the credit line.
    pub door: String,
}

/// An accepted WMO315 (verzoek om toewijzing) or WMO317 (verzoek om wijziging).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewVerzoek {
    /// "WMO315" or "WMO317".
    pub soort: String,
    pub gemeente: Gemeentecode,
    pub aanbieder: AgbCode,
    pub bsn: Bsn,
    /// ReferentieAanbieder(s) of the request.
    pub referenties: Vec<String>,
    /// ToewijzingNummers a 317 asks to change or keep.
    pub toewijzingen: Vec<ToewijzingNummer>,
    /// Received (the header Dagtekening) and the day the gemeente must decide by (5 werkdagen).
    pub ontvangen: NaiveDate,
    pub uiterlijk: NaiveDate,
}

/// A toewijzing the aanbieder refused (WMO302 with retour codes on its ToegewezenProduct).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Weigering {
    pub gemeente: Gemeentecode,
    pub toewijzing_nummer: ToewijzingNummer,
    pub codes: Vec<String>,
}
