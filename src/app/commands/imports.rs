//! `iwmo contracts|toewijzingen|productcodes|aanbieders|gemeenten import FILE`: CSV files into
//! the store.

use std::future::Future;
use std::path::Path;

use crate::app::cli::ImportAction;
use crate::imports;
use crate::store::{PartyTable, Store, StoreError};

pub async fn contracts(store: &Store, action: &ImportAction) -> i32 {
    let ImportAction::Import { file } = action;
    let name = file.display().to_string();
    import_csv(
        "contracts",
        file,
        imports::parse_contracts,
        |c| async move {
            let n = store.import_contracts(&name, &c).await?;
            Ok(format!("{n} contractregel(s) geïmporteerd uit {name}"))
        },
    )
    .await
}

pub async fn toewijzingen(store: &Store, action: &ImportAction) -> i32 {
    let ImportAction::Import { file } = action;
    let name = file.display().to_string();
    import_csv(
        "toewijzingen",
        file,
        imports::parse_toewijzingen,
        |t| async move {
            store
                .import_toewijzingen(&format!("csv:{name}"), &t)
                .await?;
            Ok(format!(
                "{} toewijzing(en) geïmporteerd uit {name}",
                t.len()
            ))
        },
    )
    .await
}

pub async fn productcodes(store: &Store, action: &ImportAction) -> i32 {
    let ImportAction::Import { file } = action;
    import_csv(
        "productcodes",
        file,
        imports::parse_product_codes,
        |c| async move {
            let n = store.import_product_codes(&c).await?;
            Ok(format!("{n} productcode(s) geïmporteerd"))
        },
    )
    .await
}

pub async fn aanbieders(store: &Store, file: &Path) -> i32 {
    import_csv(
        "aanbieders",
        file,
        imports::parse_aanbieders,
        |a| async move {
            let n = store.import_parties(PartyTable::Aanbieders, &a).await?;
            Ok(format!("{n} aanbieder(s) geïmporteerd"))
        },
    )
    .await
}

pub async fn gemeenten(store: &Store, file: &Path) -> i32 {
    import_csv(
        "gemeenten",
        file,
        imports::parse_gemeenten,
        |g| async move {
            let n = store.import_parties(PartyTable::Gemeenten, &g).await?;
            Ok(format!("{n} gemeente(n) geïmporteerd"))
        },
    )
    .await
}

/// Reads and parses the CSV and stores it. Exit 0 with what was imported, 1 when the file does
/// not parse (the error names the line), 2 when it cannot be read, 3 when the store fails.
async fn import_csv<T, E, Fut>(
    what: &str,
    file: &Path,
    parse: impl Fn(&str) -> Result<T, E>,
    store_it: impl FnOnce(T) -> Fut,
) -> i32
where
    E: std::fmt::Display,
    Fut: Future<Output = Result<String, StoreError>>,
{
    let text = match std::fs::read_to_string(file) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("iwmo: kan {} niet lezen: {e}", file.display());
            return 2;
        }
    };
    let items = match parse(&text) {
        Ok(items) => items,
        Err(e) => {
            eprintln!("iwmo {what} import: {}: {e}", file.display());
            return 1;
        }
    };
    match store_it(items).await {
        Ok(done) => {
            println!("{done}");
            0
        }
        Err(e) => {
            eprintln!("iwmo: {e}");
            3
        }
    }
}
