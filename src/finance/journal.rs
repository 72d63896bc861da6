//! The journal CSV of a payment run for the ledger: one row per aanbieder × productcategorie.
//!
//! * RFC 4180 by the `csv` crate: comma separated, CRLF line ends, a field with a comma, quote
//!   or line break in double quotes (quotes doubled); UTF-8 without BOM.
//! * A header row with the Dutch snake_case column names of [`KOLOMMEN`].
//! * Amounts in integer cents; `credit_cents` is the credited amount (positive), `netto_cents` =
//!   `debet_cents` − `credit_cents`, `netto_euro` the same as a decimal (`1234.56`, see
//!   [`super::sepa::euro`]).
//! * Spreadsheet formula injection: a text cell (gemeente, status, AGB code, aanbieder,
//!   productcategorie) that starts with `=`, `+`, `-`, `@`, a tab or a carriage return gets a
//!   leading `'`, so a spreadsheet shows it as text instead of running it. Number cells are
//!   written as numbers (a negative netto keeps its `-`).

use std::borrow::Cow;
use std::io::Write;

use chrono::NaiveDate;

use super::sepa::euro;

/// The header row.
pub const KOLOMMEN: [&str; 12] = [
    "betaalronde",
    "gemeente",
    "tot_en_met",
    "status",
    "agb_code",
    "aanbieder",
    "productcategorie",
    "aantal_regels",
    "debet_cents",
    "credit_cents",
    "netto_cents",
    "netto_euro",
];

/// One aanbieder × productcategorie of the run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JournaalRegel {
    pub agb_code: String,
    pub aanbieder: String,
    pub product_categorie: String,
    pub aantal_regels: u64,
    pub debet_cents: i64,
    /// The credited amount, positive.
    pub credit_cents: i64,
}

/// The run the rows belong to, repeated on every row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JournaalKop {
    pub betaalronde_id: i64,
    pub gemeente_code: String,
    pub status: String,
    pub tot_en_met: NaiveDate,
}

/// Streams the journal (header row, then one row per `regels` item) to `out` and returns it.
/// A netto that does not fit in 64 bits is an error naming the row.
pub fn schrijf<W: Write>(
    out: W,
    kop: &JournaalKop,
    regels: impl IntoIterator<Item = JournaalRegel>,
) -> Result<W, csv::Error> {
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(out);
    w.write_record(KOLOMMEN)?;
    let ronde = kop.betaalronde_id.to_string();
    let datum = kop.tot_en_met.format("%Y-%m-%d").to_string();
    for (i, r) in regels.into_iter().enumerate() {
        let netto = r
            .debet_cents
            .checked_sub(r.credit_cents)
            .ok_or_else(|| overloop(i + 1, &r))?;
        let cells = [
            Cow::from(ronde.as_str()),
            tekst(&kop.gemeente_code),
            Cow::from(datum.as_str()),
            tekst(&kop.status),
            tekst(&r.agb_code),
            tekst(&r.aanbieder),
            tekst(&r.product_categorie),
            r.aantal_regels.to_string().into(),
            r.debet_cents.to_string().into(),
            r.credit_cents.to_string().into(),
            netto.to_string().into(),
            euro(netto).into(),
        ];
        w.write_record(cells.iter().map(|c| c.as_bytes()))?;
    }
    w.flush()?;
    w.into_inner().map_err(|e| e.into_error().into())
}

/// A text cell, with a leading `'` when a spreadsheet would read it as a formula.
pub fn tekst(s: &str) -> Cow<'_, str> {
    if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        Cow::Owned(format!("'{s}"))
    } else {
        Cow::Borrowed(s)
    }
}

fn overloop(rij: usize, r: &JournaalRegel) -> csv::Error {
    std::io::Error::new(
        std::io::ErrorKind::InvalidData,
        format!(
            "journaalregel {rij} (AGB {}, productcategorie {}): netto (debet − credit) past \
             niet in 64 bits",
            r.agb_code, r.product_categorie
        ),
    )
    .into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_guard() {
        for s in ["=1+1", "+31", "-2", "@SUM(A1)", "\tx", "\rx"] {
            assert_eq!(tekst(s), format!("'{s}"));
        }
        assert_eq!(tekst("Zorg B.V."), "Zorg B.V.");
        assert_eq!(tekst(""), "");
    }
}
