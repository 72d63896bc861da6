//! One module per command. [`run_sync`] answers the commands that need neither runtime nor
//! database; [`run`] opens the database as the command's [`Access`] says and dispatches.
//! A new listing is one module implementing [`lists::Listing`] plus its line in [`run`].

pub mod answers;
pub mod api;
pub mod audit;
pub mod betaalrondes;
pub mod check;
pub mod config;
pub mod deadletters;
pub mod gebruikers;
pub mod imports;
pub mod lists;
pub mod policy;
pub mod process;
pub mod replay;
pub mod serve;

use super::cli::{
    AnswersAction, AuditAction, Command, GebruikersAction, ListAction, PartyAction, PolicyAction,
};
use super::config::Config;
use super::db::{self, Access};
use super::layers::Loaded;

/// Commands without runtime: `check` and `config show`. None: the command needs [`run`].
pub fn run_sync(command: &Command, loaded: &Loaded) -> Option<i32> {
    match command {
        Command::Check { paths, format } => Some(check::run(paths, *format, &loaded.config)),
        Command::Config { action } => Some(config::run(action, loaded)),
        _ => None,
    }
}

/// How a command uses the database; None: it does not open one itself.
pub fn access(command: &Command) -> Option<Access> {
    match command {
        Command::Process { .. }
        | Command::Contracts { .. }
        | Command::Toewijzingen { .. }
        | Command::Productcodes { .. }
        | Command::Aanbieders {
            action: PartyAction::Import { .. },
        }
        | Command::Gemeenten {
            action: PartyAction::Import { .. },
        }
        | Command::Policy { .. }
        | Command::Gebruikers {
            action: GebruikersAction::Toevoegen { .. },
        } => Some(Access::OrCreate),
        Command::Aanbieders { .. } | Command::Gemeenten { .. } => Some(Access::Existing),
        Command::Answers { .. }
        | Command::Gebruikers { .. }
        | Command::Holds { .. }
        | Command::Signals { .. }
        | Command::Verzoeken { .. }
        | Command::Weigeringen { .. }
        | Command::Replay { .. }
        | Command::Audit { .. }
        | Command::Betaalrondes { .. } => Some(Access::Existing),
        Command::Api(_) => Some(Access::OrCreate),
        // serve opens (and creates) its database itself, retrying while it is unreachable.
        Command::Serve(_)
        | Command::DeadLetters { .. }
        | Command::Check { .. }
        | Command::Config { .. } => None,
    }
}

/// Arguments that cannot be used, found before the database is opened and anything decided:
/// an answer directory that is not one, a user's role or gemeentecode that is wrong (exit 2).
fn precheck(command: &Command, config: &Config) -> Option<i32> {
    let (name, dir) = match command {
        Command::Process { out: Some(d), .. } => ("process --out", d.clone()),
        Command::Answers {
            action: AnswersAction::Write { out },
        } => ("answers write --out", answers_dir(out.clone(), config)),
        Command::Gebruikers { action } => return gebruikers::precheck(action),
        _ => return None,
    };
    let e = answers::usable_dir(&dir).err()?;
    eprintln!("iwmo {name}: {e}; er is niets beslist of geschreven");
    Some(super::EXIT_CONFIG)
}

/// Where `iwmo answers write` writes: `--out`, else the file transport's `outbox_dir`.
fn answers_dir(out: Option<std::path::PathBuf>, config: &Config) -> std::path::PathBuf {
    out.unwrap_or_else(|| config.outbox_dir.clone())
}

/// Runs a command inside the runtime.
pub async fn run(command: Command, config: Config) -> i32 {
    let Some(access) = access(&command) else {
        return match command {
            Command::Serve(_) => serve::run(config).await,
            Command::DeadLetters { action, .. } => deadletters::run(&action, &config).await,
            _ => 0,
        };
    };
    if let Some(code) = precheck(&command, &config) {
        return code;
    }
    let store = match db::open(&config.database_url, access).await {
        Ok(s) => s,
        Err(code) => return code,
    };
    match command {
        Command::Process { paths, out } => process::run(&store, &config, &paths, out).await,
        Command::Answers {
            action: AnswersAction::Write { out },
        } => answers::write(&store, &answers_dir(out, &config)).await,
        Command::Contracts { action } => imports::contracts(&store, &action).await,
        Command::Toewijzingen { action } => imports::toewijzingen(&store, &action).await,
        Command::Productcodes { action } => imports::productcodes(&store, &action).await,
        Command::Aanbieders {
            action: PartyAction::Import { file },
        } => imports::aanbieders(&store, &file).await,
        Command::Gemeenten {
            action: PartyAction::Import { file },
        } => imports::gemeenten(&store, &file).await,
        Command::Aanbieders {
            action: PartyAction::List(a),
        } => lists::run::<lists::Aanbieders>(&store, a).await,
        Command::Gemeenten {
            action: PartyAction::List(a),
        } => lists::run::<lists::Gemeenten>(&store, a).await,
        Command::Policy {
            action: PolicyAction::Set { gemeente, policy },
        } => policy::set(&store, &gemeente, &policy).await,
        Command::Gebruikers { action } => gebruikers::run(&store, action).await,
        Command::Holds {
            action: ListAction::List(a),
        } => lists::run::<lists::Holds>(&store, a).await,
        Command::Signals {
            action: ListAction::List(a),
        } => lists::run::<lists::Signals>(&store, a).await,
        Command::Verzoeken {
            action: ListAction::List(a),
        } => lists::run::<lists::Verzoeken>(&store, a).await,
        Command::Weigeringen {
            action: ListAction::List(a),
        } => lists::run::<lists::Weigeringen>(&store, a).await,
        Command::Replay { identificatie, .. } => {
            replay::run(&store, identificatie.as_deref()).await
        }
        Command::Audit {
            action: AuditAction::Verify,
        } => audit::verify(&store).await,
        Command::Api(_) => api::run(store, &config).await,
        Command::Betaalrondes { action, token } => {
            betaalrondes::run(&store, &config, action, token).await
        }
        Command::Serve(_)
        | Command::DeadLetters { .. }
        | Command::Check { .. }
        | Command::Config { .. } => 0,
    }
}
