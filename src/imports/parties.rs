//! Aanbieders and gemeenten as finance needs them: a name and the account to pay to (aanbieder)
//! or from (gemeente). Same file rules as every import (see [`super`]).
//!
//! * `iban`: required (never echoed in an error); ISO 13616 (format, country length and BBAN, mod-97 check digits) by the
//!   `iban_validate` crate. Spaces in groups of four (`NL91 ABNA 0417 1643 00`) and lower case are
//!   accepted; it is stored in the electronic form (`NL91ABNA0417164300`).
//! * `bic`: may be empty. A SEPA transfer between euro accounts needs only the IBAN (EU
//!   regulation 260/2012, "IBAN-only"), so a BIC is not required; when given it must have the
//!   shape of ISO 9362: 4 letters (bank), 2 letters (country), 2 letters or digits (location),
//!   optionally 3 letters or digits (branch); 8 or 11 characters, stored in upper case.
//! * `naam`: required, at most 140 characters (SEPA Max140Text).

use iban::{Iban, IbanLike, ParseBaseIbanError, ParseIbanError};

use super::table::{self, Spec};
use super::{dom, CsvErrors};
use crate::domain::{AgbCode, Gemeentecode};

/// A party with an account: `code` is its AGB code (aanbieder) or gemeentecode (gemeente).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Party<C> {
    pub code: C,
    pub naam: String,
    /// Electronic form, upper case, no spaces.
    pub iban: String,
    /// Upper case; `None` when the file leaves it empty.
    pub bic: Option<String>,
}

pub type Aanbieder = Party<AgbCode>;
pub type Gemeente = Party<Gemeentecode>;

/// The columns of `iwmo aanbieders import`.
pub const AANBIEDER_COLUMNS: &[&str] = &["agb_code", "naam", "iban", "bic"];

/// The columns of `iwmo gemeenten import`.
pub const GEMEENTE_COLUMNS: &[&str] = &["gemeente_code", "naam", "iban", "bic"];

const AANBIEDERS: Spec = Spec {
    columns: AANBIEDER_COLUMNS,
    euros: &[],
};

const GEMEENTEN: Spec = Spec {
    columns: GEMEENTE_COLUMNS,
    euros: &[],
};

/// SEPA Max140Text.
const MAX_NAAM: usize = 140;

fn naam(s: &str) -> Result<String, String> {
    if s.chars().count() > MAX_NAAM {
        return Err(format!("langer dan {MAX_NAAM} tekens"));
    }
    if s.chars().any(char::is_control) {
        return Err("bevat een regeleinde of ander stuurteken".into());
    }
    Ok(s.to_string())
}

/// An IBAN (ISO 13616), returned in electronic form. The error does not echo the value: an
/// account number may be that of a person (a sole trader).
pub fn iban(s: &str) -> Result<String, String> {
    let upper = s.to_ascii_uppercase();
    match upper.parse::<Iban>() {
        Ok(i) => Ok(i.electronic_str().to_string()),
        Err(e) => Err(iban_reason(&e).to_string()),
    }
}

fn iban_reason(e: &ParseIbanError) -> &'static str {
    match e {
        ParseIbanError::InvalidBaseIban {
            source: ParseBaseIbanError::InvalidChecksum,
        } => "ongeldig IBAN (controlegetal klopt niet, mod-97)",
        ParseIbanError::InvalidBaseIban { .. } => {
            "ongeldig IBAN (verwacht landcode, 2 controlecijfers en rekeningnummer, zonder \
             andere tekens)"
        }
        ParseIbanError::InvalidBban(_) => {
            "ongeldig IBAN (rekeningdeel heeft niet de lengte of vorm van dat land)"
        }
        ParseIbanError::UnknownCountry(_) => "ongeldig IBAN (onbekende landcode)",
    }
}

/// A BIC of the shape of ISO 9362 (8 or 11 characters), returned in upper case.
pub fn bic(s: &str) -> Result<String, String> {
    let b = s.to_ascii_uppercase();
    let bytes = b.as_bytes();
    let shape = (bytes.len() == 8 || bytes.len() == 11)
        && bytes[..6].iter().all(u8::is_ascii_uppercase)
        && bytes[6..].iter().all(u8::is_ascii_alphanumeric);
    if shape {
        Ok(b)
    } else {
        Err(format!(
            "'{s}': ongeldige BIC (verwacht 8 of 11 tekens: 4 letters bank, 2 letters land, \
             2 letters of cijfers plaats, eventueel 3 letters of cijfers filiaal)"
        ))
    }
}

fn parse_parties<C>(
    text: &str,
    spec: &Spec,
    code_column: &'static str,
    code: impl Fn(&str) -> Result<C, String>,
) -> Result<Vec<Party<C>>, CsvErrors> {
    table::parse(text, spec, |r| {
        let code = r.get(code_column, &code);
        let naam = r.get("naam", naam);
        let iban = r.get("iban", iban);
        let bic = r.opt("bic", bic);
        Some(Party {
            code: code?,
            naam: naam?,
            iban: iban?,
            bic: bic?,
        })
    })
}

/// `agb_code,naam,iban,bic` lines.
pub fn parse_aanbieders(text: &str) -> Result<Vec<Aanbieder>, CsvErrors> {
    parse_parties(text, &AANBIEDERS, "agb_code", |s| dom(AgbCode::parse(s), s))
}

/// `gemeente_code,naam,iban,bic` lines.
pub fn parse_gemeenten(text: &str) -> Result<Vec<Gemeente>, CsvErrors> {
    parse_parties(text, &GEMEENTEN, "gemeente_code", |s| {
        dom(Gemeentecode::parse(s), s)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn errors<T: std::fmt::Debug>(r: Result<Vec<T>, CsvErrors>) -> Vec<String> {
        r.unwrap_err()
            .errors
            .iter()
            .map(|e| e.to_string())
            .collect()
    }

    #[test]
    fn ibans_are_checked_and_normalised() {
        assert_eq!(iban("NL91ABNA0417164300").unwrap(), "NL91ABNA0417164300");
        assert_eq!(
            iban("nl91 abna 0417 1643 00").unwrap(),
            "NL91ABNA0417164300"
        );
        assert_eq!(iban("NL20INGB0001234567").unwrap(), "NL20INGB0001234567");
        assert!(iban("NL92ABNA0417164300").unwrap_err().contains("mod-97"));
        assert!(iban("NL58ABNA041716430").unwrap_err().contains("lengte"));
        assert!(iban("XX62ABNA0417164300")
            .unwrap_err()
            .contains("landcode)"));
        assert!(iban("XX91ABNA0417164300").is_err());
        assert!(iban("NL91-ABNA").unwrap_err().contains("landcode, 2"));
    }

    #[test]
    fn bics_have_the_iso_9362_shape() {
        assert_eq!(bic("abnanl2a").unwrap(), "ABNANL2A");
        assert_eq!(bic("INGBNL2AXXX").unwrap(), "INGBNL2AXXX");
        for bad in [
            "ABNANL2",
            "ABNANL2AXX",
            "AB1ANL2A",
            "ABNA1L2A",
            "ABNANL2-",
            "ÄBNANL2A",
        ] {
            assert!(bic(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn files_parse_and_errors_name_line_and_column() {
        let ok = "\u{feff}gemeente_code;naam;iban;bic\r\n0344;Gemeente Utrecht;NL91ABNA0417164300;ABNANL2A\r\n0363;\"Amsterdam; stad\";NL20INGB0001234567;\r\n";
        let g = parse_gemeenten(ok).unwrap();
        assert_eq!(g.len(), 2);
        assert_eq!(
            (g[0].code.to_string(), g[0].bic.as_deref()),
            ("0344".into(), Some("ABNANL2A"))
        );
        assert_eq!(
            (g[1].naam.as_str(), g[1].bic.as_deref()),
            ("Amsterdam; stad", None)
        );
        let bad = "agb_code,naam,iban,bic\n12345678,Zorg BV,NL91ABNA0417164301,\n1234567,,NL20INGB0001234567,INGB\n";
        assert_eq!(
            errors(parse_aanbieders(bad)),
            [
                "regel 2, kolom iban: ongeldig IBAN (controlegetal klopt niet, mod-97)",
                "regel 3, kolom agb_code: '1234567': verwacht precies 8 cijfers",
                "regel 3, kolom naam: is leeg (verplicht)",
                "regel 3, kolom bic: 'INGB': ongeldige BIC (verwacht 8 of 11 tekens: 4 letters bank, \
                 2 letters land, 2 letters of cijfers plaats, eventueel 3 letters of cijfers filiaal)",
            ]
        );
        assert_eq!(
            errors(parse_aanbieders("agb_code,naam,iban\n")),
            ["regel 1, kolom bic: ontbreekt in de kopregel"]
        );
    }
}
