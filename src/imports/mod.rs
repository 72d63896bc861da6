//! CSV imports: contracts (tariffs), toewijzingen from a case system, product code lists,
//! aanbieders and gemeenten with their accounts ([`parties`]).
//!
//! The file format, for all of them:
//! * RFC 4180 (the `csv` crate): a field in double quotes may hold the delimiter, a line break and
//!   doubled quotes (`"a ""b"""`). Lines may end in LF or CRLF; a UTF-8 BOM at the start is ignored.
//! * Delimiter `,` or `;`, taken from the header line (the first line that is not blank): `;` when
//!   it holds a semicolon, otherwise `,`. A header line with both, or with neither, is refused (no
//!   column name holds either).
//! * The header names the columns, in any order, case-insensitively; every column of the set must be
//!   there once, an unknown column is refused by name. Money columns have a euro form: `tarief`
//!   next to `tarief_cents`, `budget` next to `budget_cents`, exactly one of the two (see
//!   [`money`] for the accepted amounts, e.g. `68,50`, `68.50`, `1.234,56`; at most 2 decimals).
//! * Whitespace around a value is trimmed; blank lines (or lines of empty cells) are skipped.
//! * Errors name the physical line (1-based, where the record starts) and the column by the name
//!   the file uses, in Dutch. All errors of the file are collected (the first [`MAX_ERRORS`] are
//!   listed, the rest counted) and a file with any error gives no rows: nothing is imported. A
//!   BSN is never echoed in an error, nor any value with 9 digits in a row (a BSN in the wrong
//!   column), nor a header name with digits (a data line where the header should be).

mod money;
mod parties;
mod table;

use chrono::{NaiveDate, NaiveTime};

use crate::domain::*;
use crate::message::common::{Product, ProductCode};
use crate::rules::state::{Contract, Toewijzing};
use table::{Row, Spec};

pub use parties::{
    bic, iban, parse_aanbieders, parse_gemeenten, Aanbieder, Gemeente, Party, AANBIEDER_COLUMNS,
    GEMEENTE_COLUMNS,
};
pub use table::MAX_ERRORS;

/// One error: the line of the file (1-based), the column by the name the file uses (empty when
/// the error is about the whole line) and what is wrong, in Dutch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CsvError {
    pub line: usize,
    pub column: String,
    pub message: String,
}

impl std::fmt::Display for CsvError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.column.is_empty() {
            write!(f, "regel {}: {}", self.line, self.message)
        } else {
            write!(
                f,
                "regel {}, kolom {}: {}",
                self.line, self.column, self.message
            )
        }
    }
}

impl std::error::Error for CsvError {}

/// All errors of a file (up to [`MAX_ERRORS`]; `more` counts the rest). Nothing was imported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CsvErrors {
    pub errors: Vec<CsvError>,
    pub more: usize,
}

impl CsvErrors {
    fn one(line: usize, column: &str, message: &str) -> CsvErrors {
        CsvErrors {
            errors: vec![CsvError {
                line,
                column: column.to_string(),
                message: message.to_string(),
            }],
            more: 0,
        }
    }

    /// All errors there were, listed or not.
    pub fn total(&self) -> usize {
        self.errors.len() + self.more
    }
}

/// `N fout(en), niets geïmporteerd:` and then one error a line, indented.
impl std::fmt::Display for CsvErrors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let n = self.total();
        let word = if n == 1 { "fout" } else { "fouten" };
        write!(f, "{n} {word}, niets geïmporteerd:")?;
        for e in &self.errors {
            write!(f, "\n  {e}")?;
        }
        if self.more > 0 {
            let word = if self.more == 1 { "fout" } else { "fouten" };
            write!(f, "\n  … en nog {} {word}", self.more)?;
        }
        Ok(())
    }
}

impl std::error::Error for CsvErrors {}

/// The columns of `iwmo contracts import` (`tarief` in euros may replace `tarief_cents`).
pub const CONTRACT_COLUMNS: &[&str] = &[
    "agb_code",
    "gemeente_code",
    "product_categorie",
    "product_code",
    "eenheid",
    "tarief_cents",
    "ingangsdatum",
    "einddatum",
];

/// The columns of `iwmo toewijzingen import` (`budget` in euros may replace `budget_cents`).
pub const TOEWIJZING_COLUMNS: &[&str] = &[
    "gemeente_code",
    "toewijzing_nummer",
    "bsn",
    "agb_code",
    "product_categorie",
    "product_code",
    "toewijzingsdatum",
    "toewijzingstijd",
    "ingangsdatum",
    "einddatum",
    "reden_wijziging",
    "volume",
    "eenheid",
    "frequentie",
    "budget_cents",
];

/// The columns of `iwmo productcodes import`.
pub const PRODUCT_CODE_COLUMNS: &[&str] = &["product_categorie", "product_code"];

const CONTRACTS: Spec = Spec {
    columns: CONTRACT_COLUMNS,
    euros: &[("tarief_cents", "tarief")],
};

const TOEWIJZINGEN: Spec = Spec {
    columns: TOEWIJZING_COLUMNS,
    euros: &[("budget_cents", "budget")],
};

const PRODUCT_CODES: Spec = Spec {
    columns: PRODUCT_CODE_COLUMNS,
    euros: &[],
};

fn date(s: &str) -> Result<NaiveDate, String> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| format!("'{s}' is geen datum JJJJ-MM-DD"))
}

fn time(s: &str) -> Result<NaiveTime, String> {
    NaiveTime::parse_from_str(s, "%H:%M:%S").map_err(|_| format!("'{s}' is geen tijd uu:mm:ss"))
}

fn dom<T>(r: Result<T, DomainError>, s: &str) -> Result<T, String> {
    r.map_err(|e| format!("'{s}': {}", e.reason))
}

fn number(s: &str) -> Result<u64, String> {
    s.parse::<u64>()
        .map_err(|_| format!("'{s}' is geen niet-negatief geheel getal"))
}

/// Nine digits that pass the elfproef; the value itself never appears in the error.
fn bsn(s: &str) -> Result<Bsn, String> {
    let b = Bsn::parse(s).map_err(|_| "ongeldig BSN (geen 9 cijfers)".to_string())?;
    if b.passes_elfproef() {
        Ok(b)
    } else {
        Err("ongeldig BSN (elfproef)".into())
    }
}

/// Einddatum before Ingangsdatum is an error on the einddatum column.
fn check_period(r: &mut Row<'_>, from: NaiveDate, to: Option<NaiveDate>) -> Option<()> {
    match to {
        Some(e) if e < from => {
            r.fail("einddatum", "einddatum ligt voor ingangsdatum");
            None
        }
        _ => Some(()),
    }
}

pub fn parse_contracts(text: &str) -> Result<Vec<Contract>, CsvErrors> {
    table::parse(text, &CONTRACTS, |r| {
        let aanbieder = r.get("agb_code", |s| dom(AgbCode::parse(s), s));
        let gemeente = r.get("gemeente_code", |s| dom(Gemeentecode::parse(s), s));
        let categorie = r.get("product_categorie", |s| dom(ProductCategorie::parse(s), s));
        let code = r.get("product_code", |s| dom(ProductCode::parse(s), s));
        let eenheid = r.get("eenheid", |s| dom(Eenheid::parse(s), s));
        let tarief = r.money("tarief_cents");
        let ingangsdatum = r.get("ingangsdatum", date);
        let einddatum = r.opt("einddatum", date);
        let contract = Contract {
            aanbieder: aanbieder?,
            gemeente: gemeente?,
            product_categorie: categorie?,
            product_code: code?,
            eenheid: eenheid?,
            tarief: tarief?,
            ingangsdatum: ingangsdatum?,
            einddatum: einddatum?,
        };
        check_period(r, contract.ingangsdatum, contract.einddatum)?;
        Some(contract)
    })
}

pub fn parse_toewijzingen(text: &str) -> Result<Vec<Toewijzing>, CsvErrors> {
    table::parse(text, &TOEWIJZINGEN, |r| {
        let gemeente = r.get("gemeente_code", |s| dom(Gemeentecode::parse(s), s));
        let nummer = r.get("toewijzing_nummer", |s| dom(Nummer::new(number(s)?), s));
        let bsn = r.get("bsn", bsn);
        let aanbieder = r.get("agb_code", |s| dom(AgbCode::parse(s), s));
        let categorie = r.opt("product_categorie", |s| dom(ProductCategorie::parse(s), s));
        let code = r.opt("product_code", |s| dom(ProductCode::parse(s), s));
        let toewijzingsdatum = r.get("toewijzingsdatum", date);
        let toewijzingstijd = r.get("toewijzingstijd", time);
        let ingangsdatum = r.get("ingangsdatum", date);
        let einddatum = r.opt("einddatum", date);
        let reden = r.opt("reden_wijziging", |s| dom(RedenWijziging::parse(s), s));
        let volume = r.opt("volume", number);
        let eenheid = r.opt("eenheid", |s| dom(Eenheid::parse(s), s));
        let frequentie = r.opt("frequentie", |s| dom(Frequentie::parse(s), s));
        let budget = r.money_opt("budget_cents");
        let (categorie, code) = (categorie?, code?);
        let t = Toewijzing {
            gemeente: gemeente?,
            toewijzing_nummer: nummer?,
            bsn: bsn?,
            aanbieder: aanbieder?,
            product: categorie.map(|categorie| Product { categorie, code }),
            toewijzingsdatum: toewijzingsdatum?,
            toewijzingstijd: toewijzingstijd?,
            ingangsdatum: ingangsdatum?,
            einddatum: einddatum?,
            reden_wijziging: reden?,
            volume: volume?,
            eenheid: eenheid?,
            frequentie: frequentie?,
            budget: budget?,
        };
        check_period(r, t.ingangsdatum, t.einddatum)?;
        Some(t)
    })
}

/// `product_categorie,product_code` lines.
pub fn parse_product_codes(text: &str) -> Result<Vec<(String, String)>, CsvErrors> {
    table::parse(text, &PRODUCT_CODES, |r| {
        let cat = r.get("product_categorie", |s| dom(ProductCategorie::parse(s), s));
        let code = r.get("product_code", |s| dom(ProductCode::parse(s), s));
        Some((cat?.code().to_string(), code?.to_string()))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const HDR: &str =
        "agb_code,gemeente_code,product_categorie,product_code,eenheid,tarief_cents,ingangsdatum,einddatum\n";

    fn errors(r: Result<Vec<Contract>, CsvErrors>) -> Vec<String> {
        r.unwrap_err()
            .errors
            .iter()
            .map(|e| e.to_string())
            .collect()
    }

    #[test]
    fn contracts_parse_and_errors_name_the_place() {
        let ok = format!(
            "{HDR}11223344,0363,07,07A03,16,5120,2025-01-01,2025-12-31\n87654321,0344,02,02A01,04,6850,2025-01-01,\n"
        );
        let c = parse_contracts(&ok).unwrap();
        assert_eq!(c.len(), 2);
        assert_eq!((c[0].tarief, c[1].einddatum), (5120, None));
        let bad = ok.replace("0363", "363");
        assert_eq!(
            errors(parse_contracts(&bad)),
            ["regel 2, kolom gemeente_code: '363': verwacht precies 4 cijfers"]
        );
    }

    #[test]
    fn every_bad_cell_of_every_line_is_reported() {
        let text = format!(
            "{HDR}11223344,0363,07,07A03,16,5120,2025-13-01,2025-12-31\n\
             87654321,0344,02,02A01,04,12x,2025-01-01,\n\
             87654321,0344,02,02A01,04,1,2025-02-01,2025-01-01\n\
             87654321,0344,02,02A01,04\n"
        );
        assert_eq!(
            errors(parse_contracts(&text)),
            [
                "regel 2, kolom ingangsdatum: '2025-13-01' is geen datum JJJJ-MM-DD",
                "regel 3, kolom tarief_cents: '12x' is geen geheel aantal centen",
                "regel 4, kolom einddatum: einddatum ligt voor ingangsdatum",
                "regel 5: 8 kolommen verwacht, 5 gevonden",
            ]
        );
    }

    #[test]
    fn line_numbers_are_physical_lines_across_blank_and_quoted_multiline_fields() {
        let text = format!(
            "\n{HDR}\n11223344,0363,07,07A03,16,5120,2025-01-01,\"2025-12-31\"\n\
             \"8765\n4321\",0344,02,02A01,04,6850,2025-01-01,\n\
             87654321,0344,02,02A01,04,x,2025-01-01,\n"
        );
        assert_eq!(
            errors(parse_contracts(&text)),
            [
                "regel 5, kolom agb_code: '8765\n4321': verwacht precies 8 cijfers",
                "regel 7, kolom tarief_cents: 'x' is geen geheel aantal centen",
            ]
        );
    }

    #[test]
    fn the_list_is_capped_and_says_how_many_more() {
        let mut text = HDR.to_string();
        for _ in 0..60 {
            text.push_str("11223344,0363,07,07A03,16,x,2025-01-01,\n");
        }
        let e = parse_contracts(&text).unwrap_err();
        assert_eq!((e.errors.len(), e.more, e.total()), (MAX_ERRORS, 10, 60));
        let shown = e.to_string();
        assert!(
            shown.starts_with("60 fouten, niets geïmporteerd:\n  regel 2, kolom tarief_cents: ")
        );
        assert!(shown.ends_with("\n  … en nog 10 fouten"), "{shown}");
    }

    #[test]
    fn header_problems_are_all_named() {
        let e = parse_contracts(
            "AGB_code;gemeente_code;product_categorie;product_code;eenheid;tarief;tarief_cents;kleur;ingangsdatum;ingangsdatum\n",
        );
        assert_eq!(
            errors(e),
            [
                "regel 1, kolom tarief_cents: kolommen tarief en tarief_cents staan er allebei; gebruik er één",
                "regel 1, kolom ingangsdatum: staat meer dan eens in de kopregel",
                "regel 1, kolom kleur: onbekende kolom (bekende kolommen: agb_code, gemeente_code, \
                 product_categorie, product_code, eenheid, tarief_cents, ingangsdatum, einddatum, tarief)",
                "regel 1, kolom einddatum: ontbreekt in de kopregel",
            ]
        );
        // A data line where the header should be: nothing of it is echoed.
        let e = parse_toewijzingen("0344,40003,999990032,87654321\n").unwrap_err();
        assert_eq!(e.errors.len(), 1);
        assert!(!e.to_string().contains("999990032"), "{e}");
        assert!(e.errors[0]
            .message
            .starts_with("geen kopregel met kolomnamen"));
        // An unknown name with digits is named by position.
        let e = parse_product_codes("product_categorie,product_code,999990032\n").unwrap_err();
        assert_eq!(e.to_string(), "1 fout, niets geïmporteerd:\n  regel 1, kolom 3: onbekende kolom (bekende kolommen: product_categorie, product_code)");
    }

    #[test]
    fn a_bsn_in_another_column_is_not_echoed() {
        let shifted = format!("{HDR}999990032,0344,02,02A01,04,1,2025-01-01,\n");
        assert_eq!(
            errors(parse_contracts(&shifted)),
            ["regel 2, kolom agb_code: '…': verwacht precies 8 cijfers"]
        );
        // Shorter runs of digits are echoed.
        let short = format!("{HDR}9999900,0344,02,02A01,04,1,2025-01-01,\n");
        assert_eq!(
            errors(parse_contracts(&short)),
            ["regel 2, kolom agb_code: '9999900': verwacht precies 8 cijfers"]
        );
    }

    #[test]
    fn empty_files_and_delimiters() {
        for text in ["", "\n\n", "\u{feff}", "  \r\n"] {
            assert_eq!(
                errors(parse_contracts(text)),
                ["regel 1: het bestand is leeg"]
            );
        }
        assert_eq!(
            parse_product_codes("\n\nproduct_categorie;product_code,x\n").unwrap_err().to_string(),
            "1 fout, niets geïmporteerd:\n  regel 3: de kopregel bevat zowel ',' als ';'; gebruik één scheidingsteken"
        );
        assert_eq!(
            errors(parse_contracts("agb_code\tgemeente_code\n")),
            ["regel 1: de kopregel bevat geen scheidingsteken (',' of ';')"]
        );
        // Only a header: nothing to import, no error.
        assert_eq!(
            parse_product_codes("Product_Code;PRODUCT_CATEGORIE\r\n"),
            Ok(vec![])
        );
    }
}
