//! A stored payment run as files: the SEPA credit transfer from its frozen accounts (the same
//! bytes at every export: the creation time is the moment of the first export), and its journal.

use chrono::{DateTime, Utc};

use super::{journal, sepa};
use crate::store::betaalrondes::{JournaalRow, RondeRow};

/// GrpHdr/MsgId: unique per gemeente and run, ≤ 35 characters.
pub fn bericht_id(run: &RondeRow) -> String {
    format!("IWMO-{}-BR{}", run.gemeente, run.id)
}

/// The payment file of an exported run.
pub fn sepa(run: &RondeRow) -> Result<Vec<u8>, String> {
    let moment: DateTime<Utc> = run
        .geexporteerd_op
        .as_deref()
        .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
        .map(|t| t.with_timezone(&Utc))
        .ok_or_else(|| "de betaalronde heeft geen exportmoment".to_string())?;
    let tot_en_met = chrono::NaiveDate::parse_from_str(&run.tot_en_met, "%Y-%m-%d")
        .map_err(|_| "de betaalronde heeft geen geldige einddatum".to_string())?;
    let (naam, iban, bic) = run.debiteur.clone();
    let opdracht = sepa::Opdracht {
        bericht_id: bericht_id(run),
        aangemaakt_op: moment,
        uitvoerdatum: moment.date_naive(),
        betaalronde_id: run.id,
        gemeente_code: run.gemeente.clone(),
        periode_tot_en_met: tot_en_met,
        debiteur: sepa::Rekening { naam, iban, bic },
        aantal: run.aanbieders.len() as u64,
        totaal_cents: run.totaal_cents,
    };
    let transfers = run.aanbieders.iter().map(|a| sepa::Overboeking {
        agb_code: a.agb_code.clone(),
        crediteur: sepa::Rekening {
            naam: a.naam.clone(),
            iban: a.iban.clone(),
            bic: a.bic.clone(),
        },
        bedrag_cents: a.bedrag_cents,
        aantal_regels: a.aantal_regels.max(0) as u64,
    });
    sepa::schrijf(Vec::new(), &opdracht, transfers).map_err(|e| e.to_string())
}

/// The journal CSV of a run.
pub fn journaal(run: &RondeRow, rows: Vec<JournaalRow>) -> Result<Vec<u8>, csv::Error> {
    let kop = journal::JournaalKop {
        betaalronde_id: run.id,
        gemeente_code: run.gemeente.clone(),
        status: run.status.as_str().to_string(),
        tot_en_met: chrono::NaiveDate::parse_from_str(&run.tot_en_met, "%Y-%m-%d")
            .unwrap_or_default(),
    };
    let regels = rows.into_iter().map(|r| journal::JournaalRegel {
        agb_code: r.agb_code,
        aanbieder: r.aanbieder,
        product_categorie: r.product_categorie,
        aantal_regels: r.aantal_regels.max(0) as u64,
        debet_cents: r.debet_cents,
        credit_cents: r.credit_cents,
    });
    journal::schrijf(Vec::new(), &kop, regels)
}
