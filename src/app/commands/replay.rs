//! `iwmo replay IDENTIFICATIE`: the decision re-run on the state it was made on.

use crate::store::Store;

/// Exit 0 when every decision is identical, 1 when one differs or none was found, 3 when the
/// store fails.
pub async fn run(store: &Store, identificatie: &str) -> i32 {
    match crate::replay::replay(store, identificatie).await {
        Ok(reports) if reports.is_empty() => {
            eprintln!("iwmo replay: geen beslissing gevonden voor Identificatie {identificatie}");
            1
        }
        Ok(reports) => {
            let mut all_same = true;
            for r in &reports {
                println!("{}", r.render());
                all_same &= r.identical;
            }
            if all_same {
                0
            } else {
                1
            }
        }
        Err(e) => {
            eprintln!("iwmo: {e}");
            3
        }
    }
}
