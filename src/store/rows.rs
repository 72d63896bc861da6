//! Rows ↔ domain values.

use chrono::{NaiveDate, NaiveTime};
use sqlx::any::AnyRow;

use super::{get_i64, get_opt_i64, get_opt_str, get_str, Result, StoreError};
use crate::domain::*;
use crate::message::common::{Product, ProductCode};
use crate::rules::state::*;

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

pub fn toewijzing(r: &AnyRow) -> Result<Toewijzing> {
    Ok(Toewijzing {
        gemeente: parse("gemeente", &get_str(r, "gemeente")?, Gemeentecode::parse)?,
        toewijzing_nummer: nummer(get_i64(r, "toewijzing_nummer")?)?,
        bsn: parse("bsn", &get_str(r, "bsn")?, Bsn::parse)?,
        aanbieder: parse("aanbieder", &get_str(r, "aanbieder")?, AgbCode::parse)?,
        product: product(
            get_opt_str(r, "product_categorie")?,
            get_opt_str(r, "product_code")?,
        )?,
        toewijzingsdatum: date(&get_str(r, "toewijzingsdatum")?)?,
        toewijzingstijd: {
            let t = get_str(r, "toewijzingstijd")?;
            NaiveTime::parse_from_str(&t, "%H:%M:%S%.f").map_err(|_| corrupt("tijd", &t))?
        },
        ingangsdatum: date(&get_str(r, "ingangsdatum")?)?,
        einddatum: opt_date(get_opt_str(r, "einddatum")?)?,
        reden_wijziging: get_opt_str(r, "reden_wijziging")?
            .map(|s| parse("redenwijziging", &s, RedenWijziging::parse))
            .transpose()?,
        volume: get_opt_i64(r, "volume")?.map(|v| v.max(0) as u64),
        eenheid: get_opt_str(r, "eenheid")?
            .map(|s| parse("eenheid", &s, Eenheid::parse))
            .transpose()?,
        frequentie: get_opt_str(r, "frequentie")?
            .map(|s| parse("frequentie", &s, Frequentie::parse))
            .transpose()?,
        budget: get_opt_i64(r, "budget")?.map(|v| v.max(0) as u64),
    })
}

pub fn start(r: &AnyRow) -> Result<StartRow> {
    Ok(StartRow {
        id: get_i64(r, "id")?,
        aanbieder: parse("aanbieder", &get_str(r, "aanbieder")?, AgbCode::parse)?,
        bsn: parse("bsn", &get_str(r, "bsn")?, Bsn::parse)?,
        toewijzing_nummer: get_opt_i64(r, "toewijzing_nummer")?
            .map(nummer)
            .transpose()?,
        product: product(
            get_opt_str(r, "product_categorie")?,
            get_opt_str(r, "product_code")?,
        )?,
        begindatum: date(&get_str(r, "begindatum")?)?,
        active: get_i64(r, "active")? != 0,
    })
}

/// A stop row: the columns of a start plus reason and end date.
pub fn stop(r: &AnyRow) -> Result<StopRow> {
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
            &get_str(r, "reden_beeindiging")?,
            RedenBeeindiging::parse,
        )?,
        einddatum: date(&get_str(r, "einddatum")?)?,
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

pub fn som(r: &AnyRow) -> Result<ToewijzingSom> {
    Ok(ToewijzingSom {
        toewijzing_nummer: nummer(get_i64(r, "toewijzing_nummer")?)?,
        eenheid: parse("eenheid", &get_str(r, "eenheid")?, Eenheid::parse)?,
        volume: get_i64(r, "volume")?,
        bedrag: get_i64(r, "bedrag")?,
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
