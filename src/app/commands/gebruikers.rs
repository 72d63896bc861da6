//! `iwmo gebruikers toevoegen|intrekken|list`: people who use the API with an iwmo bearer token.
//! The token is printed once, as the last line; only its sha256 is stored. Adding and revoking
//! are logged in the action log (and so in the hash chain), in the same transaction.

use crate::app::cli::GebruikersAction;
use crate::app::commands::lists::{self, Listing};
use crate::auth::token::{nieuw_token, token_hash};
use crate::auth::{Gemeenten, Rol};
use crate::store::{NewAction, Store, StoreError, UserRow};

/// Longest name taken (it is shown in listings and the action log).
const MAX_NAAM: usize = 100;

/// Exit 0 when done; 1 for a name already active or unknown; 2 for unusable arguments; 3 when
/// the store fails.
pub async fn run(store: &Store, action: GebruikersAction) -> i32 {
    match action {
        GebruikersAction::Toevoegen {
            naam,
            rol,
            gemeenten,
        } => toevoegen(store, &naam, &rol, &gemeenten).await,
        GebruikersAction::Intrekken { naam } => intrekken(store, &naam).await,
        GebruikersAction::List(a) => lists::run::<Gebruikers>(store, a).await,
    }
}

/// The arguments of `toevoegen` checked before the database is opened: exit 2 with the reason.
pub fn precheck(action: &GebruikersAction) -> Option<i32> {
    let GebruikersAction::Toevoegen {
        naam,
        rol,
        gemeenten,
    } = action
    else {
        return None;
    };
    let e = checked(naam, rol, gemeenten).err()?;
    eprintln!("iwmo gebruikers toevoegen: {e}");
    Some(crate::app::EXIT_CONFIG)
}

/// Name, role and gemeenten as given, checked (Dutch reason).
fn checked(
    naam: &str,
    rol: &str,
    gemeenten: &[String],
) -> Result<(String, Rol, Gemeenten), String> {
    let naam = naam.trim();
    if naam.is_empty() {
        return Err("--naam is leeg".into());
    }
    if naam.chars().count() > MAX_NAAM || naam.chars().any(char::is_control) {
        return Err(format!(
            "--naam: hoogstens {MAX_NAAM} tekens, zonder regeleinden of stuurtekens"
        ));
    }
    let rol: Rol = rol.parse().map_err(|e| format!("--rol: {e}"))?;
    let gemeenten = if gemeenten.is_empty() {
        Gemeenten::Alle
    } else {
        Gemeenten::from_codes(gemeenten).map_err(|e| format!("--gemeente: {e}"))?
    };
    Ok((naam.to_string(), rol, gemeenten))
}

/// Who acts from the command line: "beheer (opdrachtregel)" and the OS user when known.
fn beheer() -> String {
    match std::env::var("USER") {
        Ok(u) if !u.trim().is_empty() => format!("beheer (opdrachtregel) {}", u.trim()),
        _ => "beheer (opdrachtregel)".into(),
    }
}

async fn toevoegen(store: &Store, naam: &str, rol: &str, gemeenten: &[String]) -> i32 {
    let (naam, rol, gemeenten) = match checked(naam, rol, gemeenten) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("iwmo gebruikers toevoegen: {e}");
            return crate::app::EXIT_CONFIG;
        }
    };
    let token = nieuw_token();
    let gebruiker = beheer();
    let onderwerp = format!("gebruiker/{naam}");
    let action = NewAction {
        gebruiker: &gebruiker,
        rol: Rol::Beheerder.as_str(),
        actie: "gebruiker.toevoegen",
        onderwerp: &onderwerp,
        gemeente: None,
        details: serde_json::json!({ "rol": rol.as_str(), "gemeenten": gemeenten.stored() }),
    };
    let stored = gemeenten.stored();
    match store
        .add_user_logged(&naam, rol.as_str(), &stored, &token_hash(&token), &action)
        .await
    {
        Ok(_) => {
            println!("gebruiker '{naam}' toegevoegd: rol {rol}, gemeenten: {gemeenten}");
            println!("token (wordt één keer getoond; alleen de hash wordt bewaard):");
            println!("{token}");
            0
        }
        Err(StoreError::Conflict(e)) => {
            eprintln!("iwmo gebruikers toevoegen: {e}");
            1
        }
        Err(e) => {
            eprintln!("iwmo: {e}");
            3
        }
    }
}

async fn intrekken(store: &Store, naam: &str) -> i32 {
    let gebruiker = beheer();
    let onderwerp = format!("gebruiker/{naam}");
    let action = NewAction {
        gebruiker: &gebruiker,
        rol: Rol::Beheerder.as_str(),
        actie: "gebruiker.intrekken",
        onderwerp: &onderwerp,
        gemeente: None,
        details: serde_json::json!({}),
    };
    match store.revoke_user_logged(naam, &action).await {
        Ok(true) => {
            println!("token van gebruiker '{naam}' ingetrokken");
            0
        }
        Ok(false) => {
            eprintln!("iwmo gebruikers intrekken: geen actieve gebruiker met de naam '{naam}'");
            1
        }
        Err(e) => {
            eprintln!("iwmo: {e}");
            3
        }
    }
}

/// Every user, revoked ones included; never a token or its hash (the row has neither).
pub struct Gebruikers;

impl Listing for Gebruikers {
    type Row = UserRow;
    const EMPTY: &'static str = "geen gebruikers (iwmo gebruikers toevoegen)";

    async fn rows(store: &Store, _: crate::app::cli::ListArgs) -> Result<Vec<UserRow>, StoreError> {
        store.users().await
    }

    /// `naam rol gemeenten aangemaakt ingetrokken`, tab-separated (a name may hold spaces).
    fn line(u: &UserRow) -> String {
        let gemeenten = if u.gemeenten == "*" {
            "alle"
        } else {
            &u.gemeenten
        };
        format!(
            "{}\t{}\t{}\taangemaakt {}\t{}",
            u.naam,
            u.rol,
            gemeenten,
            u.aangemaakt_op,
            match &u.ingetrokken_op {
                Some(t) => format!("ingetrokken {t}"),
                None => "actief".into(),
            }
        )
    }
}
