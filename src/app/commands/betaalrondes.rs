//! `iwmo betaalrondes …`: the payment-run commands of the API on the command line, as the user
//! whose token is given (so four-eyes holds here too). Output is the run as JSON, as the API
//! shows it; files go where `--uit` says.

use std::path::Path;

use crate::api::view::RondeView;
use crate::app::cli::RondeAction;
use crate::app::config::Config;
use crate::auth::{Authenticator, Principal};
use crate::domain::betaalronde::{Stap, Status};
use crate::finance::rondes::{self, Fout};
use crate::store::betaalrondes::{NieuweRonde, RondeFilter, RondeFout};
use crate::store::Store;

/// Exit 0 done; 1 refused (role, four-eyes, status, not found, nothing to pay); 2 no usable
/// token or arguments; 3 the database failed.
pub async fn run(
    store: &Store,
    config: &Config,
    action: RondeAction,
    token: Option<String>,
) -> i32 {
    let p = match caller(store, config, token).await {
        Ok(p) => p,
        Err(code) => return code,
    };
    let result = match action {
        RondeAction::Maak {
            gemeente,
            tot_en_met,
            aanbieder,
        } => {
            let n = NieuweRonde {
                gemeente,
                tot_en_met,
                aanbieder,
            };
            rondes::maak(store, &p, &n).await.map(show)
        }
        RondeAction::List { gemeente, status } => return list(store, &p, gemeente, status).await,
        RondeAction::Toon { id } => rondes::toon(store, &p, id).await.map(show),
        RondeAction::Fiatteer { id } => rondes::stap(store, &p, id, Stap::Fiatteren, None)
            .await
            .map(show),
        RondeAction::Betaald { id } => rondes::stap(store, &p, id, Stap::Betaald, None)
            .await
            .map(show),
        RondeAction::Intrekken { id, reden } => {
            rondes::stap(store, &p, id, Stap::Intrekken, reden.as_deref())
                .await
                .map(show)
        }
        RondeAction::Sepa { id, uit } => match rondes::sepa(store, &p, id).await {
            Ok((run, bytes)) => {
                return write(
                    &uit,
                    &bytes,
                    &format!("SEPA-bestand van betaalronde {}", run.id),
                )
            }
            Err(e) => Err(e),
        },
        RondeAction::Journaal { id, uit } => match rondes::journaal(store, &p, id).await {
            Ok((run, bytes)) => {
                return write(
                    &uit,
                    &bytes,
                    &format!("journaal van betaalronde {}", run.id),
                )
            }
            Err(e) => Err(e),
        },
    };
    match result {
        Ok(()) => 0,
        Err(e) => refused(e),
    }
}

/// The user of the token, or the exit code after saying why not.
async fn caller(store: &Store, config: &Config, token: Option<String>) -> Result<Principal, i32> {
    let Some(token) = token.filter(|t| !t.trim().is_empty()) else {
        eprintln!("iwmo betaalrondes: geen token; geef IWMO_TOKEN (of --token) van `iwmo gebruikers toevoegen`");
        return Err(crate::app::EXIT_CONFIG);
    };
    let auth = Authenticator::new(store.clone(), config)
        .await
        .map_err(|e| {
            eprintln!("iwmo betaalrondes: {e}");
            crate::app::EXIT_CONFIG
        })?;
    auth.authenticate(token.trim()).await.map_err(|e| {
        eprintln!("iwmo betaalrondes: {e}");
        if e.is_outage() {
            3
        } else {
            1
        }
    })
}

fn show(run: crate::store::betaalrondes::RondeRow) {
    println!(
        "{}",
        serde_json::to_string_pretty(&RondeView::from(run)).unwrap_or_default()
    );
}

async fn list(
    store: &Store,
    p: &Principal,
    gemeente: Option<String>,
    status: Option<String>,
) -> i32 {
    if let Err(e) = rondes::rol(p, rondes::LEZERS) {
        return refused(e);
    }
    let status = match status.as_deref().map(Status::parse) {
        Some(None) => {
            eprintln!("iwmo betaalrondes list: --status is concept, gefiatteerd, geexporteerd, betaald of ingetrokken");
            return crate::app::EXIT_CONFIG;
        }
        Some(s) => s,
        None => None,
    };
    let f = RondeFilter {
        binnen: p.gemeenten.codes(),
        gemeente,
        status,
        na_id: None,
        limiet: 1000,
    };
    match store.runs(&f).await {
        Ok(runs) => {
            println!("id\tgemeente\tstatus\ttot_en_met\taantal_regels\ttotaal\taangemaakt_door");
            for r in runs {
                println!(
                    "{}\t{}\t{}\t{}\t{}\t{}\t{}",
                    r.id,
                    r.gemeente,
                    r.status.as_str(),
                    r.tot_en_met,
                    r.aantal_regels,
                    crate::finance::sepa::euro(r.totaal_cents),
                    r.aangemaakt_door
                );
            }
            0
        }
        Err(e) => refused(Fout::from(e)),
    }
}

fn write(path: &Path, bytes: &[u8], what: &str) -> i32 {
    match std::fs::write(path, bytes) {
        Ok(()) => {
            println!(
                "{what} geschreven naar {} ({} bytes)",
                path.display(),
                bytes.len()
            );
            0
        }
        Err(e) => {
            eprintln!(
                "iwmo betaalrondes: kan {} niet schrijven: {}",
                path.display(),
                crate::fsread::os_reason(&e)
            );
            1
        }
    }
}

fn refused(e: Fout) -> i32 {
    let code = match &e {
        Fout::Ronde(RondeFout::Store(s)) => {
            eprintln!("iwmo betaalrondes: {s}");
            return 3;
        }
        _ => 1,
    };
    eprintln!("iwmo betaalrondes: {e}");
    code
}
