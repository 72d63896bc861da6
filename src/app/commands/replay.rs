//! `iwmo replay IDENTIFICATIE` / `iwmo replay --alle`: decisions re-run on the state they were
//! made on, compared in full (outcome, findings, changes, answer bytes).

use crate::store::Store;

/// Exit 0 when every decision is identical, 1 when one differs or none was found, 3 when the
/// store fails. `None`: every stored decision.
pub async fn run(store: &Store, identificatie: Option<&str>) -> i32 {
    let reports = match identificatie {
        Some(i) => crate::replay::replay(store, i).await,
        None => crate::replay::replay_all(store).await,
    };
    match reports {
        Ok(reports) if reports.is_empty() => {
            match identificatie {
                Some(i) => {
                    eprintln!("iwmo replay: geen beslissing gevonden voor Identificatie {i}")
                }
                None => eprintln!("iwmo replay: geen beslissingen opgeslagen"),
            }
            1
        }
        Ok(reports) => {
            let differ = reports.iter().filter(|r| !r.identical).count();
            for r in reports
                .iter()
                .filter(|r| identificatie.is_some() || !r.identical)
            {
                println!("{}", r.render());
            }
            if identificatie.is_none() {
                println!(
                    "{} beslissing(en) herhaald, {differ} wijken af",
                    reports.len()
                );
            }
            i32::from(differ > 0)
        }
        Err(e) => {
            eprintln!("iwmo: {e}");
            3
        }
    }
}
