//! CSV imports: contracts (tariffs), toewijzingen from a case system, product code lists.
//! Plain comma-separated files with a header line; errors name the line and the column, in Dutch.

use chrono::{NaiveDate, NaiveTime};

use crate::domain::*;
use crate::message::common::{Product, ProductCode};
use crate::rules::state::{Contract, Toewijzing};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("regel {line}, kolom {column}: {message}")]
pub struct CsvError {
    pub line: usize,
    pub column: String,
    pub message: String,
}

/// The expected header of `iwmo contracts import`.
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

/// The expected header of `iwmo toewijzingen import`.
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

struct Rows<'a> {
    columns: &'a [&'a str],
    lines: Vec<(usize, Vec<String>)>,
}

fn split(text: &str, columns: &'static [&'static str]) -> Result<Rows<'static>, CsvError> {
    let mut lines = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty());
    let Some((_, header)) = lines.next() else {
        return Err(CsvError {
            line: 1,
            column: "-".into(),
            message: "bestand is leeg".into(),
        });
    };
    let header: Vec<String> = header
        .trim_start_matches('\u{feff}')
        .split(',')
        .map(|h| h.trim().to_lowercase())
        .collect();
    if header != columns {
        return Err(CsvError {
            line: 1,
            column: "-".into(),
            message: format!("verwachte kolommen: {}", columns.join(",")),
        });
    }
    let mut out = Vec::new();
    for (i, l) in lines {
        let cells: Vec<String> = l.split(',').map(|c| c.trim().to_string()).collect();
        if cells.len() != columns.len() {
            return Err(CsvError {
                line: i + 1,
                column: "-".into(),
                message: format!(
                    "{} kolommen verwacht, {} gevonden",
                    columns.len(),
                    cells.len()
                ),
            });
        }
        out.push((i + 1, cells));
    }
    Ok(Rows {
        columns,
        lines: out,
    })
}

fn cell<T>(
    rows: &Rows,
    line: usize,
    cells: &[String],
    col: usize,
    f: impl FnOnce(&str) -> Result<T, String>,
) -> Result<T, CsvError> {
    f(&cells[col]).map_err(|message| CsvError {
        line,
        column: rows.columns[col].to_string(),
        message,
    })
}

fn date(s: &str) -> Result<NaiveDate, String> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| format!("'{s}' is geen datum JJJJ-MM-DD"))
}

fn opt<T>(s: &str, f: impl FnOnce(&str) -> Result<T, String>) -> Result<Option<T>, String> {
    if s.is_empty() {
        Ok(None)
    } else {
        f(s).map(Some)
    }
}

fn dom<T>(r: Result<T, DomainError>, s: &str) -> Result<T, String> {
    r.map_err(|e| format!("'{s}': {}", e.reason))
}

fn number(s: &str) -> Result<u64, String> {
    s.parse::<u64>()
        .map_err(|_| format!("'{s}' is geen niet-negatief geheel getal"))
}

pub fn parse_contracts(text: &str) -> Result<Vec<Contract>, CsvError> {
    let rows = split(text, CONTRACT_COLUMNS)?;
    let mut out = Vec::new();
    for (line, c) in &rows.lines {
        let l = *line;
        let contract = Contract {
            aanbieder: cell(&rows, l, c, 0, |s| dom(AgbCode::parse(s), s))?,
            gemeente: cell(&rows, l, c, 1, |s| dom(Gemeentecode::parse(s), s))?,
            product_categorie: cell(&rows, l, c, 2, |s| dom(ProductCategorie::parse(s), s))?,
            product_code: cell(&rows, l, c, 3, |s| dom(ProductCode::parse(s), s))?,
            eenheid: cell(&rows, l, c, 4, |s| dom(Eenheid::parse(s), s))?,
            tarief: cell(&rows, l, c, 5, number)?,
            ingangsdatum: cell(&rows, l, c, 6, date)?,
            einddatum: cell(&rows, l, c, 7, |s| opt(s, date))?,
        };
        if let Some(e) = contract.einddatum {
            if e < contract.ingangsdatum {
                return Err(CsvError {
                    line: l,
                    column: "einddatum".into(),
                    message: "einddatum ligt voor ingangsdatum".into(),
                });
            }
        }
        out.push(contract);
    }
    Ok(out)
}

pub fn parse_toewijzingen(text: &str) -> Result<Vec<Toewijzing>, CsvError> {
    let rows = split(text, TOEWIJZING_COLUMNS)?;
    let mut out = Vec::new();
    for (line, c) in &rows.lines {
        let l = *line;
        let categorie = cell(&rows, l, c, 4, |s| {
            opt(s, |s| dom(ProductCategorie::parse(s), s))
        })?;
        let code = cell(&rows, l, c, 5, |s| {
            opt(s, |s| dom(ProductCode::parse(s), s))
        })?;
        let bsn = cell(&rows, l, c, 2, |s| dom(Bsn::parse(s), "bsn"))?;
        if !bsn.passes_elfproef() {
            return Err(CsvError {
                line: l,
                column: "bsn".into(),
                message: "BSN voldoet niet aan de elfproef".into(),
            });
        }
        out.push(Toewijzing {
            gemeente: cell(&rows, l, c, 0, |s| dom(Gemeentecode::parse(s), s))?,
            toewijzing_nummer: cell(&rows, l, c, 1, |s| dom(Nummer::new(number(s)?), s))?,
            bsn,
            aanbieder: cell(&rows, l, c, 3, |s| dom(AgbCode::parse(s), s))?,
            product: categorie.map(|categorie| Product { categorie, code }),
            toewijzingsdatum: cell(&rows, l, c, 6, date)?,
            toewijzingstijd: cell(&rows, l, c, 7, |s| {
                NaiveTime::parse_from_str(s, "%H:%M:%S")
                    .map_err(|_| format!("'{s}' is geen tijd uu:mm:ss"))
            })?,
            ingangsdatum: cell(&rows, l, c, 8, date)?,
            einddatum: cell(&rows, l, c, 9, |s| opt(s, date))?,
            reden_wijziging: cell(&rows, l, c, 10, |s| {
                opt(s, |s| dom(RedenWijziging::parse(s), s))
            })?,
            volume: cell(&rows, l, c, 11, |s| opt(s, number))?,
            eenheid: cell(&rows, l, c, 12, |s| opt(s, |s| dom(Eenheid::parse(s), s)))?,
            frequentie: cell(&rows, l, c, 13, |s| {
                opt(s, |s| dom(Frequentie::parse(s), s))
            })?,
            budget: cell(&rows, l, c, 14, |s| opt(s, number))?,
        });
    }
    Ok(out)
}

/// `product_categorie,product_code` lines.
pub fn parse_product_codes(text: &str) -> Result<Vec<(String, String)>, CsvError> {
    const COLS: &[&str] = &["product_categorie", "product_code"];
    let rows = split(text, COLS)?;
    let mut out = Vec::new();
    for (line, c) in &rows.lines {
        let cat = cell(&rows, *line, c, 0, |s| dom(ProductCategorie::parse(s), s))?;
        let code = cell(&rows, *line, c, 1, |s| dom(ProductCode::parse(s), s))?;
        out.push((cat.code().to_string(), code.to_string()));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contracts_parse_and_errors_name_the_place() {
        let ok = "agb_code,gemeente_code,product_categorie,product_code,eenheid,tarief_cents,ingangsdatum,einddatum\n\
                  11223344,0363,07,07A03,16,5120,2025-01-01,2025-12-31\n87654321,0344,02,02A01,04,6850,2025-01-01,\n";
        let c = parse_contracts(ok).unwrap();
        assert_eq!(c.len(), 2);
        assert_eq!(c[1].einddatum, None);
        let bad = ok.replace("5120", "51,20");
        let e = parse_contracts(&bad).unwrap_err();
        assert_eq!(e.line, 2);
        let bad = ok.replace("0363", "363");
        assert_eq!(parse_contracts(&bad).unwrap_err().column, "gemeente_code");
    }
}
