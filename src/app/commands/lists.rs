//! Listings (`holds list`, `signals list`, …): rows from the store as text lines or JSON. A new
//! listing is a type implementing [`Listing`] and one line in `commands::run`; the database is
//! opened read-only there (a missing one is refused, never created).

use std::future::Future;

use serde::Serialize;

use crate::app::cli::{Format, ListArgs};
use crate::store::{Store, StoreError};

/// One listing: where its rows come from and how one row reads.
pub trait Listing {
    type Row: Serialize;
    /// The text shown when there are no rows.
    const EMPTY: &'static str;
    fn rows(
        store: &Store,
        args: ListArgs,
    ) -> impl Future<Output = Result<Vec<Self::Row>, StoreError>> + Send;
    fn line(row: &Self::Row) -> String;
}

/// Exit 0 with the rows printed, 3 when the store fails.
pub async fn run<L: Listing>(store: &Store, args: ListArgs) -> i32 {
    let rows = match L::rows(store, args).await {
        Ok(rows) => rows,
        Err(e) => {
            eprintln!("iwmo: {e}");
            return 3;
        }
    };
    match args.format {
        Format::Json => println!(
            "{}",
            serde_json::to_string_pretty(&rows).unwrap_or_default()
        ),
        Format::Text if rows.is_empty() => println!("{}", L::EMPTY),
        Format::Text => {
            for r in &rows {
                println!("{}", L::line(r));
            }
        }
    }
    0
}

/// Declaration lines held from payment.
pub struct Holds;

impl Listing for Holds {
    type Row = crate::store::HoldRow;
    const EMPTY: &'static str = "geen vastgehouden declaratieregels";

    async fn rows(store: &Store, a: ListArgs) -> Result<Vec<Self::Row>, StoreError> {
        store.holds(a.all, a.toon_bsn).await
    }

    fn line(h: &Self::Row) -> String {
        format!(
            "{} aanbieder {} declaratie {} ref {} cliënt {} toewijzing {} periode {} t/m {} {}: {}",
            hold_status(&h.status),
            h.aanbieder,
            h.declaratie_nummer,
            h.referentie_nummer,
            h.client,
            h.toewijzing_nummer,
            h.periode_begin,
            h.periode_eind,
            crate::domain::Euro(h.bedrag),
            h.reden
        )
    }
}

/// The status of a hold in words (the JSON keeps the stored `held`, `released`, `vervallen`).
fn hold_status(status: &str) -> &str {
    match status {
        "held" => "vastgehouden",
        "released" => "vrijgegeven",
        other => other,
    }
}

/// Local signals for auditors.
pub struct Signals;

impl Listing for Signals {
    type Row = crate::store::SignalRow;
    const EMPTY: &'static str = "geen signalen";

    async fn rows(store: &Store, a: ListArgs) -> Result<Vec<Self::Row>, StoreError> {
        store.signals(a.toon_bsn).await
    }

    fn line(s: &Self::Row) -> String {
        format!(
            "{} aanbieder {} ref {} (andere: {}) cliënt {} toewijzing {} periode {} t/m {}: {}",
            s.soort,
            s.aanbieder,
            s.referentie_nummer,
            s.andere_referentie.as_deref().unwrap_or("-"),
            s.client,
            s.toewijzing_nummer,
            s.periode_begin,
            s.periode_eind,
            s.tekst
        )
    }
}

/// Requests (315/317) waiting for the gemeente's decision; `--all` also the settled ones.
pub struct Verzoeken;

impl Listing for Verzoeken {
    type Row = crate::store::VerzoekRow;
    const EMPTY: &'static str = "geen openstaande verzoeken";

    async fn rows(store: &Store, a: ListArgs) -> Result<Vec<Self::Row>, StoreError> {
        store.verzoeken(a.all, a.toon_bsn).await
    }

    fn line(v: &Self::Row) -> String {
        format!(
            "{} {} gemeente {} aanbieder {} cliënt {} referentie {} toewijzing(en) {} ontvangen {} besluit uiterlijk {}",
            v.status,
            v.soort,
            v.gemeente,
            v.aanbieder,
            v.client,
            v.referenties,
            if v.toewijzingen.is_empty() { "-" } else { &v.toewijzingen },
            v.ontvangen,
            v.uiterlijk
        )
    }
}

/// Toewijzingen the aanbieder refused in a WMO302.
pub struct Weigeringen;

impl Listing for Weigeringen {
    type Row = crate::store::WeigeringRow;
    const EMPTY: &'static str = "geen geweigerde toewijzingen";

    async fn rows(store: &Store, _a: ListArgs) -> Result<Vec<Self::Row>, StoreError> {
        store.weigeringen().await
    }

    fn line(w: &Self::Row) -> String {
        format!(
            "gemeente {} toewijzing {} geweigerd door aanbieder {} met code(s) {} (bericht {}, {})",
            w.gemeente, w.toewijzing_nummer, w.aanbieder, w.codes, w.identificatie, w.ontvangen
        )
    }
}

/// Aanbieders with their accounts.
pub struct Aanbieders;

impl Listing for Aanbieders {
    type Row = crate::store::PartyRow;
    const EMPTY: &'static str = "geen aanbieders (iwmo aanbieders import)";

    async fn rows(store: &Store, _: ListArgs) -> Result<Vec<Self::Row>, StoreError> {
        store
            .list_parties(crate::store::PartyTable::Aanbieders)
            .await
    }

    fn line(p: &Self::Row) -> String {
        party_line(p)
    }
}

/// Gemeenten with their accounts.
pub struct Gemeenten;

impl Listing for Gemeenten {
    type Row = crate::store::PartyRow;
    const EMPTY: &'static str = "geen gemeenten (iwmo gemeenten import)";

    async fn rows(store: &Store, _: ListArgs) -> Result<Vec<Self::Row>, StoreError> {
        store
            .list_parties(crate::store::PartyTable::Gemeenten)
            .await
    }

    fn line(p: &Self::Row) -> String {
        party_line(p)
    }
}

/// `code naam iban [bic]`, tab-separated (a name may hold spaces).
fn party_line(p: &crate::store::PartyRow) -> String {
    format!(
        "{}\t{}\t{}\t{}",
        p.code,
        p.naam,
        p.iban,
        p.bic.as_deref().unwrap_or("-")
    )
}
