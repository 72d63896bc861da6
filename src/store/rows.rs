//! Rows ↔ domain values.

use chrono::{NaiveDate, NaiveTime};
use sqlx::any::AnyRow;

use super::{get_i64, get_opt_i64, get_opt_str, get_str, Result, StoreError};
use crate::domain::*;
use crate::message::common::{Product, ProductCode};
use crate::rules::state::*;

/// The columns of one result row, by name: a database row, or a row the database sent as JSON
/// (a declaration's snapshot reads thousands of rows at once that way, see
/// `snapshot::declaratie`).
pub trait Cols {
    fn text(&self, col: &str) -> Result<String>;
    fn opt_text(&self, col: &str) -> Result<Option<String>>;
    fn int(&self, col: &str) -> Result<i64>;
    fn opt_int(&self, col: &str) -> Result<Option<i64>>;
}

impl Cols for AnyRow {
    fn text(&self, col: &str) -> Result<String> {
        get_str(self, col)
    }
    fn opt_text(&self, col: &str) -> Result<Option<String>> {
        get_opt_str(self, col)
    }
    fn int(&self, col: &str) -> Result<i64> {
        get_i64(self, col)
    }
    fn opt_int(&self, col: &str) -> Result<Option<i64>> {
        get_opt_i64(self, col)
    }
}

fn corrupt(what: &str, v: &str) -> StoreError {
    StoreError::Corrupt(format!("{what}: '{v}'"))
}

pub fn date(s: &str) -> Result<NaiveDate> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| corrupt("datum", s))
}

pub fn opt_date(s: Option<String>) -> Result<Option<NaiveDate>> {
    s.map(|s| date(&s)).transpose()
}

pub fn ymd(d: &NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

fn parse<T>(
    what: &str,
    s: &str,
    f: impl FnOnce(&str) -> std::result::Result<T, DomainError>,
) -> Result<T> {
    f(s).map_err(|_| corrupt(what, s))
}

fn product(cat: Option<String>, code: Option<String>) -> Result<Option<Product>> {
    match cat {
        None => Ok(None),
        Some(c) => Ok(Some(Product {
            categorie: parse("productcategorie", &c, ProductCategorie::parse)?,
            code: code
                .map(|c| parse("productcode", &c, ProductCode::parse))
                .transpose()?,
        })),
    }
}

fn nummer(n: i64) -> Result<Nummer> {
    u64::try_from(n)
        .ok()
        .and_then(|n| Nummer::new(n).ok())
        .ok_or_else(|| corrupt("nummer", &n.to_string()))
}

pub fn toewijzing(r: &(impl Cols + ?Sized)) -> Result<Toewijzing> {
    Ok(Toewijzing {
        gemeente: parse("gemeente", &r.text("gemeente")?, Gemeentecode::parse)?,
        toewijzing_nummer: nummer(r.int("toewijzing_nummer")?)?,
        bsn: parse("bsn", &r.text("bsn")?, Bsn::parse)?,
        aanbieder: parse("aanbieder", &r.text("aanbieder")?, AgbCode::parse)?,
        product: product(
            r.opt_text("product_categorie")?,
            r.opt_text("product_code")?,
        )?,
        toewijzingsdatum: date(&r.text("toewijzingsdatum")?)?,
        toewijzingstijd: {
            let t = r.text("toewijzingstijd")?;
            NaiveTime::parse_from_str(&t, "%H:%M:%S%.f").map_err(|_| corrupt("tijd", &t))?
        },
        ingangsdatum: date(&r.text("ingangsdatum")?)?,
        einddatum: opt_date(r.opt_text("einddatum")?)?,
        reden_wijziging: r
            .opt_text("reden_wijziging")?
            .map(|s| parse("redenwijziging", &s, RedenWijziging::parse))
            .transpose()?,
        volume: r.opt_int("volume")?.map(|v| v.max(0) as u64),
        eenheid: r
            .opt_text("eenheid")?
            .map(|s| parse("eenheid", &s, Eenheid::parse))
            .transpose()?,
        frequentie: r
            .opt_text("frequentie")?
            .map(|s| parse("frequentie", &s, Frequentie::parse))
            .transpose()?,
        budget: r.opt_int("budget")?.map(|v| v.max(0) as u64),
    })
}

pub fn start(r: &(impl Cols + ?Sized)) -> Result<StartRow> {
    Ok(StartRow {
        id: r.int("id")?,
        aanbieder: parse("aanbieder", &r.text("aanbieder")?, AgbCode::parse)?,
        bsn: parse("bsn", &r.text("bsn")?, Bsn::parse)?,
        toewijzing_nummer: r.opt_int("toewijzing_nummer")?.map(nummer).transpose()?,
        product: product(
            r.opt_text("product_categorie")?,
            r.opt_text("product_code")?,
        )?,
        begindatum: date(&r.text("begindatum")?)?,
        active: r.int("active")? != 0,
    })
}

/// A stop row: the columns of a start plus reason and end date.
pub fn stop(r: &(impl Cols + ?Sized)) -> Result<StopRow> {
    let s = start(r)?;
    Ok(StopRow {
        id: s.id,
        aanbieder: s.aanbieder,
        bsn: s.bsn,
        toewijzing_nummer: s.toewijzing_nummer,
        product: s.product,
        begindatum: s.begindatum,
        reden_beeindiging: parse(
            "redenbeeindiging",
            &r.text("reden_beeindiging")?,
            RedenBeeindiging::parse,
        )?,
        einddatum: date(&r.text("einddatum")?)?,
        active: s.active,
    })
}

pub fn prestatie(r: &AnyRow) -> Result<EarlierPrestatie> {
    Ok(EarlierPrestatie {
        id: get_i64(r, "id")?,
        aanbieder: parse("aanbieder", &get_str(r, "aanbieder")?, AgbCode::parse)?,
        referentie_nummer: get_str(r, "referentie_nummer")?,
        vorig_referentie_nummer: get_opt_str(r, "vorig_referentie_nummer")?,
        bsn: parse("bsn", &get_str(r, "bsn")?, Bsn::parse)?,
        toewijzing_nummer: nummer(get_i64(r, "toewijzing_nummer")?)?,
        product_categorie: parse(
            "productcategorie",
            &get_str(r, "product_categorie")?,
            ProductCategorie::parse,
        )?,
        product_code: parse(
            "productcode",
            &get_str(r, "product_code")?,
            ProductCode::parse,
        )?,
        product_periode: Periode {
            begindatum: date(&get_str(r, "periode_begin")?)?,
            einddatum: date(&get_str(r, "periode_eind")?)?,
        },
        geleverd_volume: get_i64(r, "geleverd_volume")?.max(0) as u64,
        eenheid: parse("eenheid", &get_str(r, "eenheid")?, Eenheid::parse)?,
        bedrag: get_i64(r, "bedrag")?,
        debet_credit: parse(
            "debetcredit",
            &get_str(r, "debet_credit")?,
            DebetCredit::parse,
        )?,
        approved: get_i64(r, "approved")? != 0,
        gecrediteerd_door: get_opt_str(r, "gecrediteerd_door")?,
    })
}

pub fn som(r: &(impl Cols + ?Sized)) -> Result<ToewijzingSom> {
    Ok(ToewijzingSom {
        toewijzing_nummer: nummer(r.int("toewijzing_nummer")?)?,
        eenheid: parse("eenheid", &r.text("eenheid")?, Eenheid::parse)?,
        volume: r.int("volume")?,
        bedrag: r.int("bedrag")?,
    })
}

pub fn contract(r: &AnyRow) -> Result<Contract> {
    Ok(Contract {
        aanbieder: parse("aanbieder", &get_str(r, "aanbieder")?, AgbCode::parse)?,
        gemeente: parse("gemeente", &get_str(r, "gemeente")?, Gemeentecode::parse)?,
        product_categorie: parse(
            "productcategorie",
            &get_str(r, "product_categorie")?,
            ProductCategorie::parse,
        )?,
        product_code: parse(
            "productcode",
            &get_str(r, "product_code")?,
            ProductCode::parse,
        )?,
        eenheid: parse("eenheid", &get_str(r, "eenheid")?, Eenheid::parse)?,
        tarief: get_i64(r, "tarief")?.max(0) as u64,
        ingangsdatum: date(&get_str(r, "ingangsdatum")?)?,
        einddatum: opt_date(get_opt_str(r, "einddatum")?)?,
    })
}

pub const TOEWIJZING_COLS: &str = "gemeente, toewijzing_nummer, bsn, aanbieder, product_categorie, product_code, toewijzingsdatum, toewijzingstijd, ingangsdatum, einddatum, reden_wijziging, volume, eenheid, frequentie, budget";
pub const START_COLS: &str =
    "id, aanbieder, bsn, toewijzing_nummer, product_categorie, product_code, begindatum, active";
pub const PRESTATIE_COLS: &str = "id, aanbieder, referentie_nummer, vorig_referentie_nummer, bsn, toewijzing_nummer, product_categorie, product_code, periode_begin, periode_eind, geleverd_volume, eenheid, bedrag, debet_credit, approved, gecrediteerd_door";
