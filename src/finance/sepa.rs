//! The payment file of a payment run: ISO 20022 `pain.001.001.09` (customer credit transfer
//! initiation) as the EPC SEPA Credit Transfer rulebook and the Dutch banks restrict it.
//!
//! * One group header and exactly one payment information block (`PmtInf`) from the gemeente's
//!   account; one `CdtTrfTxInf` per [`Overboeking`] (one per aanbieder), in the order given: the
//!   caller orders them (e.g. by AGB code) so that a re-export gives the same bytes.
//! * EUR only, `SvcLvl/Cd` `SEPA`, `ChrgBr` `SLEV`, batch booking; `ReqdExctnDt` as a date.
//! * Amounts from integer cents ([`euro`]), never floats; every amount > 0 and at most
//!   999 999 999.99 (the rulebook's maximum), the control sum within the 18 digits of
//!   `DecimalNumber`.
//! * Names and remittance text in the SEPA Latin character set ([`opschonen`]), names cut to
//!   70 characters, the remittance text (`RmtInf/Ustrd`) to 140. IBANs in electronic form (upper
//!   case, no spaces) after the ISO 13616 check; a BIC only when one is known (`DbtrAgt` then
//!   carries `Othr/Id` `NOTPROVIDED`, `CdtrAgt` is left out: IBAN-only, EU regulation 260/2012).
//! * `EndToEndId` = `BR<run>-<n>-<AGB code>` (n: the transfer's position, 1-based), cut to 35
//!   characters: unique within the file by the position, and on the aanbieder's bank statement
//!   it names the run and the aanbieder.
//! * `CreDtTm` is the caller's `aangemaakt_op` (stored at the first export), in UTC with seconds
//!   (`2025-04-01T09:30:00Z`): the same inputs give the same bytes.
//!
//! [`schrijf`] streams: it holds one transfer at a time, checks the header's count and sum
//! against what it wrote and fails (the caller discards the output) when they differ. Wrap a
//! file in a `BufWriter`: the XML writer makes many small writes.

mod latin;

use std::io::Write;

use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use quick_xml::escape::partial_escape;
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};

pub use latin::{is_sepa, opschonen};

/// The namespace of the document.
pub const NAMESPACE: &str = "urn:iso:std:iso:20022:tech:xsd:pain.001.001.09";
/// Names (creditor, debtor): SEPA allows 70 characters.
pub const MAX_NAAM: usize = 70;
/// Identifiers (`MsgId`, `PmtInfId`, `EndToEndId`): `Max35Text`.
pub const MAX_ID: usize = 35;
/// Unstructured remittance information: `Max140Text`.
pub const MAX_USTRD: usize = 140;
/// The largest amount of one SEPA credit transfer: 999 999 999.99 euro.
pub const MAX_BEDRAG_CENTS: i64 = 99_999_999_999;
/// The largest control sum: `DecimalNumber` has at most 18 digits (16 before the decimal point).
pub const MAX_TOTAAL_CENTS: i64 = 999_999_999_999_999_999;
/// The largest count: `Max15NumericText`.
pub const MAX_AANTAL: u64 = 999_999_999_999_999;

/// An account holder: name, IBAN and (when known) BIC.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rekening {
    pub naam: String,
    pub iban: String,
    pub bic: Option<String>,
}

/// Header of one payment file: one payment-information block for one payment run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Opdracht {
    /// `GrpHdr/MsgId` and `PmtInf/PmtInfId`: 1–35 characters of the SEPA set, given by the caller.
    pub bericht_id: String,
    /// `CreDtTm`; stored at the first export so that a re-export is byte-identical.
    pub aangemaakt_op: DateTime<Utc>,
    /// `ReqdExctnDt/Dt`.
    pub uitvoerdatum: NaiveDate,
    pub betaalronde_id: i64,
    pub gemeente_code: String,
    pub periode_tot_en_met: NaiveDate,
    /// The gemeente's account.
    pub debiteur: Rekening,
    /// The number of transfers that follow (`NbOfTxs`).
    pub aantal: u64,
    /// Their sum in cents (`CtrlSum`).
    pub totaal_cents: i64,
}

/// One transfer: the net amount of one aanbieder in the run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Overboeking {
    pub agb_code: String,
    pub crediteur: Rekening,
    pub bedrag_cents: i64,
    /// The number of declaration lines (prestaties) paid by it, named in the remittance text.
    pub aantal_regels: u64,
}

/// Why no payment file was written. `overboeking` is the 1-based position of a transfer.
#[derive(Debug, thiserror::Error)]
pub enum SepaError {
    #[error("betaalbestand schrijven mislukt: {0}")]
    Io(#[from] std::io::Error),
    #[error("bericht_id: {0}")]
    BerichtId(String),
    #[error("betaalronde_id {0}: moet groter dan 0 zijn")]
    BetaalrondeId(i64),
    #[error("aantal {0}: een betaalbestand heeft 1 tot en met 999999999999999 overboekingen")]
    AantalKop(u64),
    #[error("totaal_cents {0}: moet groter dan 0 en ten hoogste 999999999999999999 zijn")]
    TotaalKop(i64),
    #[error("overboeking {overboeking} (AGB {agb_code}): bedrag {euro} is niet groter dan 0", euro = euro(*.bedrag_cents))]
    BedragNietPositief {
        overboeking: u64,
        agb_code: String,
        bedrag_cents: i64,
    },
    #[error("overboeking {overboeking} (AGB {agb_code}): bedrag {euro} is groter dan het SEPA-maximum 999999999.99", euro = euro(*.bedrag_cents))]
    BedragTeGroot {
        overboeking: u64,
        agb_code: String,
        bedrag_cents: i64,
    },
    #[error("meer overboekingen dan de {kop} in de kop (NbOfTxs)")]
    TeVeelOverboekingen { kop: u64 },
    #[error("aantal overboekingen ({geschreven}) wijkt af van de kop (NbOfTxs {kop})")]
    AantalWijktAf { kop: u64, geschreven: u64 },
    #[error("som van de bedragen ({geschreven}) wijkt af van de kop (CtrlSum {kop})", geschreven = euro(*.geschreven_cents), kop = euro(*.kop_cents))]
    SomWijktAf {
        kop_cents: i64,
        geschreven_cents: i64,
    },
    #[error("{veld}: {reden}")]
    Iban { veld: String, reden: String },
    #[error("{veld}: {reden}")]
    Bic { veld: String, reden: String },
    #[error("{veld}: de naam bevat geen tekens uit de SEPA-tekenset (a-z, A-Z, 0-9, / - ? : ( ) . , ' +)")]
    LegeNaam { veld: String },
    #[error("{veld}: EndToEndId zou langer dan 35 tekens worden")]
    EndToEndId { veld: String },
}

/// Cents as a decimal amount with two decimals: `123456` → `"1234.56"`, `-5` → `"-0.05"`.
/// Integer arithmetic only.
pub fn euro(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let c = cents.unsigned_abs();
    format!("{sign}{}.{:02}", c / 100, c % 100)
}

/// Streams a pain.001.001.09 document to `out` (nothing held beyond one transfer) and returns
/// `out`. On an error part of the document may have been written: discard it.
pub fn schrijf<W: Write>(
    out: W,
    opdracht: &Opdracht,
    overboekingen: impl IntoIterator<Item = Overboeking>,
) -> Result<W, SepaError> {
    let kop = Kop::new(opdracht)?;
    let mut xml = Xml::new(out);
    xml.begin(&kop)?;
    let mut teller = Teller::new(opdracht);
    for o in overboekingen {
        let n = teller.tel(&o)?;
        let tx = Transactie::new(&kop, &o, n)?;
        xml.transactie(&tx)?;
    }
    teller.klopt()?;
    xml.einde()
}

/// The header's values, checked and in the form they are written.
struct Kop<'a> {
    opdracht: &'a Opdracht,
    naam: String,
    iban: String,
    bic: Option<String>,
    /// Gemeente code as SEPA text, for the remittance information.
    gemeente: String,
}

impl<'a> Kop<'a> {
    fn new(opdracht: &'a Opdracht) -> Result<Kop<'a>, SepaError> {
        bericht_id(&opdracht.bericht_id)?;
        if opdracht.betaalronde_id <= 0 {
            return Err(SepaError::BetaalrondeId(opdracht.betaalronde_id));
        }
        if opdracht.aantal == 0 || opdracht.aantal > MAX_AANTAL {
            return Err(SepaError::AantalKop(opdracht.aantal));
        }
        if opdracht.totaal_cents <= 0 || opdracht.totaal_cents > MAX_TOTAAL_CENTS {
            return Err(SepaError::TotaalKop(opdracht.totaal_cents));
        }
        let rekening = &opdracht.debiteur;
        Ok(Kop {
            opdracht,
            naam: naam(&rekening.naam, "debiteur.naam")?,
            iban: iban(&rekening.iban, "debiteur.iban")?,
            bic: bic(rekening.bic.as_deref(), "debiteur.bic")?,
            gemeente: opschonen(&opdracht.gemeente_code, MAX_ID),
        })
    }
}

/// One transfer as written.
struct Transactie {
    end_to_end_id: String,
    bedrag: String,
    bic: Option<String>,
    naam: String,
    iban: String,
    omschrijving: String,
}

impl Transactie {
    fn new(kop: &Kop<'_>, o: &Overboeking, n: u64) -> Result<Transactie, SepaError> {
        let veld = |v: &str| format!("overboeking {n} (AGB {}): crediteur.{v}", o.agb_code);
        let run = kop.opdracht.betaalronde_id;
        Ok(Transactie {
            end_to_end_id: end_to_end_id(run, n, &o.agb_code).ok_or_else(|| {
                SepaError::EndToEndId {
                    veld: format!("overboeking {n} (AGB {})", o.agb_code),
                }
            })?,
            bedrag: euro(o.bedrag_cents),
            bic: bic(o.crediteur.bic.as_deref(), &veld("bic"))?,
            naam: naam(&o.crediteur.naam, &veld("naam"))?,
            iban: iban(&o.crediteur.iban, &veld("iban"))?,
            omschrijving: omschrijving(kop, o.aantal_regels),
        })
    }
}

/// `BR<run>-<n>-<AGB>`, the AGB part (letters and digits only) cut to fit 35 characters; `None`
/// when even `BR<run>-<n>` does not fit. Unique per `n`: the AGB part follows a `-`.
fn end_to_end_id(run: i64, n: u64, agb_code: &str) -> Option<String> {
    let mut id = format!("BR{run}-{n}");
    if id.len() > MAX_ID {
        return None;
    }
    let agb: String = agb_code
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .take(MAX_ID.saturating_sub(id.len() + 1))
        .collect();
    if !agb.is_empty() {
        id.push('-');
        id.push_str(&agb);
    }
    Some(id)
}

/// E.g. `iWmo betaalronde 12 gemeente 0344 t/m 2025-03-31, 15 prestaties`.
fn omschrijving(kop: &Kop<'_>, regels: u64) -> String {
    let o = kop.opdracht;
    let prestaties = if regels == 1 {
        "prestatie"
    } else {
        "prestaties"
    };
    let text = format!(
        "iWmo betaalronde {} gemeente {} t/m {}, {regels} {prestaties}",
        o.betaalronde_id,
        kop.gemeente,
        o.periode_tot_en_met.format("%Y-%m-%d"),
    );
    opschonen(&text, MAX_USTRD)
}

/// Counts what was streamed against the header.
struct Teller {
    kop_aantal: u64,
    kop_cents: i64,
    aantal: u64,
    cents: i64,
}

impl Teller {
    fn new(o: &Opdracht) -> Teller {
        Teller {
            kop_aantal: o.aantal,
            kop_cents: o.totaal_cents,
            aantal: 0,
            cents: 0,
        }
    }

    /// Counts one transfer; returns its 1-based position.
    fn tel(&mut self, o: &Overboeking) -> Result<u64, SepaError> {
        let n = self.aantal + 1;
        if o.bedrag_cents <= 0 {
            return Err(SepaError::BedragNietPositief {
                overboeking: n,
                agb_code: o.agb_code.clone(),
                bedrag_cents: o.bedrag_cents,
            });
        }
        if o.bedrag_cents > MAX_BEDRAG_CENTS {
            return Err(SepaError::BedragTeGroot {
                overboeking: n,
                agb_code: o.agb_code.clone(),
                bedrag_cents: o.bedrag_cents,
            });
        }
        if n > self.kop_aantal {
            return Err(SepaError::TeVeelOverboekingen {
                kop: self.kop_aantal,
            });
        }
        // Both at most MAX_TOTAAL_CENTS + MAX_BEDRAG_CENTS: no overflow.
        self.cents += o.bedrag_cents;
        self.aantal = n;
        if self.cents > self.kop_cents {
            return Err(self.som_wijkt_af());
        }
        Ok(n)
    }

    fn klopt(&self) -> Result<(), SepaError> {
        if self.aantal != self.kop_aantal {
            return Err(SepaError::AantalWijktAf {
                kop: self.kop_aantal,
                geschreven: self.aantal,
            });
        }
        if self.cents != self.kop_cents {
            return Err(self.som_wijkt_af());
        }
        Ok(())
    }

    fn som_wijkt_af(&self) -> SepaError {
        SepaError::SomWijktAf {
            kop_cents: self.kop_cents,
            geschreven_cents: self.cents,
        }
    }
}

/// `bericht_id`: 1–35 characters of the SEPA set, no `/` at either end, no `//`.
fn bericht_id(id: &str) -> Result<(), SepaError> {
    let fout = |r: &str| Err(SepaError::BerichtId(r.to_string()));
    let len = id.chars().count();
    if len == 0 || len > MAX_ID {
        return fout("moet 1 tot en met 35 tekens lang zijn");
    }
    if !id.chars().all(is_sepa) || id.contains(' ') {
        return fout("alleen letters, cijfers en / - ? : ( ) . , ' + zijn toegestaan");
    }
    if id.starts_with('/') || id.ends_with('/') || id.contains("//") {
        return fout("mag niet met '/' beginnen of eindigen en geen '//' bevatten");
    }
    Ok(())
}

fn naam(naam: &str, veld: &str) -> Result<String, SepaError> {
    let schoon = opschonen(naam, MAX_NAAM);
    if schoon.is_empty() {
        return Err(SepaError::LegeNaam { veld: veld.into() });
    }
    Ok(schoon)
}

/// The IBAN in electronic form; the error does not echo it (it may be a person's account).
fn iban(text: &str, veld: &str) -> Result<String, SepaError> {
    let compact: String = text.split_whitespace().collect();
    crate::imports::iban(&compact).map_err(|reden| SepaError::Iban {
        veld: veld.into(),
        reden,
    })
}

/// A BIC in upper case, or `None` when none is known (absent or blank).
fn bic(text: Option<&str>, veld: &str) -> Result<Option<String>, SepaError> {
    match text.map(str::trim).filter(|t| !t.is_empty()) {
        None => Ok(None),
        Some(t) => crate::imports::bic(t)
            .map(Some)
            .map_err(|reden| SepaError::Bic {
                veld: veld.into(),
                reden,
            }),
    }
}

/// The document's elements, written as events.
struct Xml<W: Write> {
    w: quick_xml::Writer<W>,
}

impl<W: Write> Xml<W> {
    fn new(out: W) -> Xml<W> {
        Xml {
            w: quick_xml::Writer::new_with_indent(out, b' ', 2),
        }
    }

    fn open(&mut self, name: &str) -> std::io::Result<()> {
        self.w.write_event(Event::Start(BytesStart::new(name)))
    }

    fn close(&mut self, name: &str) -> std::io::Result<()> {
        self.w.write_event(Event::End(BytesEnd::new(name)))
    }

    /// `<name>text</name>`; `text` is escaped (SEPA text never needs it, ids might).
    fn leaf(&mut self, name: &str, text: &str) -> std::io::Result<()> {
        self.w
            .create_element(name)
            .write_text_content(BytesText::from_escaped(partial_escape(text)))?;
        Ok(())
    }

    /// Opens each of `path` in turn, writes `text` in the last, closes them again.
    fn nested(&mut self, path: &[&str], text: &str) -> std::io::Result<()> {
        let Some((last, outer)) = path.split_last() else {
            return Ok(());
        };
        for p in outer {
            self.open(p)?;
        }
        self.leaf(last, text)?;
        for p in outer.iter().rev() {
            self.close(p)?;
        }
        Ok(())
    }

    /// The declaration, the root, the group header and the payment block up to its first
    /// transfer.
    fn begin(&mut self, kop: &Kop<'_>) -> std::io::Result<()> {
        let decl = BytesDecl::new("1.0", Some("UTF-8"), None);
        self.w.write_event(Event::Decl(decl))?;
        let root = BytesStart::new("Document").with_attributes([("xmlns", NAMESPACE)]);
        self.w.write_event(Event::Start(root))?;
        self.open("CstmrCdtTrfInitn")?;
        self.groepskop(kop)?;
        self.open("PmtInf")?;
        self.betaalblok(kop)
    }

    fn groepskop(&mut self, kop: &Kop<'_>) -> std::io::Result<()> {
        let o = kop.opdracht;
        self.open("GrpHdr")?;
        self.leaf("MsgId", &o.bericht_id)?;
        let tijd = o.aangemaakt_op.to_rfc3339_opts(SecondsFormat::Secs, true);
        self.leaf("CreDtTm", &tijd)?;
        self.leaf("NbOfTxs", &o.aantal.to_string())?;
        self.leaf("CtrlSum", &euro(o.totaal_cents))?;
        self.nested(&["InitgPty", "Nm"], &kop.naam)?;
        self.close("GrpHdr")
    }

    /// `PmtInf` from `PmtInfId` to `ChrgBr`.
    fn betaalblok(&mut self, kop: &Kop<'_>) -> std::io::Result<()> {
        let o = kop.opdracht;
        self.leaf("PmtInfId", &o.bericht_id)?;
        self.leaf("PmtMtd", "TRF")?;
        self.leaf("BtchBookg", "true")?;
        self.leaf("NbOfTxs", &o.aantal.to_string())?;
        self.leaf("CtrlSum", &euro(o.totaal_cents))?;
        self.nested(&["PmtTpInf", "SvcLvl", "Cd"], "SEPA")?;
        let datum = o.uitvoerdatum.format("%Y-%m-%d").to_string();
        self.nested(&["ReqdExctnDt", "Dt"], &datum)?;
        self.nested(&["Dbtr", "Nm"], &kop.naam)?;
        self.nested(&["DbtrAcct", "Id", "IBAN"], &kop.iban)?;
        match &kop.bic {
            Some(b) => self.nested(&["DbtrAgt", "FinInstnId", "BICFI"], b)?,
            None => self.nested(&["DbtrAgt", "FinInstnId", "Othr", "Id"], "NOTPROVIDED")?,
        }
        self.leaf("ChrgBr", "SLEV")
    }

    fn transactie(&mut self, tx: &Transactie) -> std::io::Result<()> {
        self.open("CdtTrfTxInf")?;
        self.nested(&["PmtId", "EndToEndId"], &tx.end_to_end_id)?;
        self.open("Amt")?;
        self.w
            .create_element("InstdAmt")
            .with_attribute(("Ccy", "EUR"))
            .write_text_content(BytesText::new(&tx.bedrag))?;
        self.close("Amt")?;
        if let Some(b) = &tx.bic {
            self.nested(&["CdtrAgt", "FinInstnId", "BICFI"], b)?;
        }
        self.nested(&["Cdtr", "Nm"], &tx.naam)?;
        self.nested(&["CdtrAcct", "Id", "IBAN"], &tx.iban)?;
        self.nested(&["RmtInf", "Ustrd"], &tx.omschrijving)?;
        self.close("CdtTrfTxInf")
    }

    /// Closes the document, flushes and hands back the output.
    fn einde(mut self) -> Result<W, SepaError> {
        self.close("PmtInf")?;
        self.close("CstmrCdtTrfInitn")?;
        self.close("Document")?;
        let mut out = self.w.into_inner();
        out.write_all(b"\n")?;
        out.flush()?;
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn euro_uses_integers() {
        assert_eq!(euro(0), "0.00");
        assert_eq!(euro(7), "0.07");
        assert_eq!(euro(-5), "-0.05");
        assert_eq!(euro(i64::MIN), "-92233720368547758.08");
    }

    #[test]
    fn end_to_end_id_is_cut_but_keeps_run_and_position() {
        assert_eq!(
            end_to_end_id(12, 3, "1234 5678").as_deref(),
            Some("BR12-3-12345678")
        );
        let long = end_to_end_id(i64::MAX, 7, "ABCDEFGHIJKLMNOP").unwrap_or_default();
        assert_eq!(long.len(), 35);
        assert!(long.starts_with(&format!("BR{}-7-", i64::MAX)));
        assert_eq!(end_to_end_id(1, 1, "").as_deref(), Some("BR1-1"));
        assert!(end_to_end_id(i64::MAX, u64::MAX, "1").is_none());
    }

    #[test]
    fn bericht_id_rules() {
        assert!(bericht_id("IWMO-0344-12").is_ok());
        assert!(bericht_id("").is_err());
        assert!(bericht_id(&"A".repeat(36)).is_err());
        assert!(bericht_id("A B").is_err());
        assert!(bericht_id("A//B").is_err());
        assert!(bericht_id("A&B").is_err());
    }
}
