//! The commands on payment runs, for the API and the command line alike: who may (role and
//! gemeente scope), then the store. A run outside the caller's gemeenten does not exist for them.

use crate::auth::{Principal, Rol};
use crate::domain::betaalronde::{Stap, Status};
use crate::store::betaalrondes::{Door, NieuweRonde, RondeFout, RondeRow};
use crate::store::Store;

/// Who may read runs, and who may change them.
pub const LEZERS: &[Rol] = &[Rol::Financien, Rol::Auditor];
pub const FINANCIEN: &[Rol] = &[Rol::Financien];

/// Why a command was refused.
#[derive(Debug, thiserror::Error)]
pub enum Fout {
    /// 403: the role may not do this.
    #[error("Uw rol mag dit niet; nodig: {0}.")]
    Rol(String),
    #[error(transparent)]
    Ronde(#[from] RondeFout),
}

impl From<crate::store::StoreError> for Fout {
    fn from(e: crate::store::StoreError) -> Self {
        Fout::Ronde(RondeFout::Store(e))
    }
}

/// Ok when the caller's role is one of `rollen`.
pub fn rol(p: &Principal, rollen: &[Rol]) -> Result<(), Fout> {
    if rollen.contains(&p.rol) {
        return Ok(());
    }
    let namen: Vec<&str> = rollen.iter().map(|r| r.as_str()).collect();
    Err(Fout::Rol(namen.join(" of ")))
}

/// Run `id` when it exists within the caller's gemeenten.
pub async fn toon(store: &Store, p: &Principal, id: i64) -> Result<RondeRow, Fout> {
    rol(p, LEZERS)?;
    scoped(store, p, id).await
}

/// Run `id`'s status when it exists within the caller's gemeenten (readers only).
pub async fn status(store: &Store, p: &Principal, id: i64) -> Result<Status, Fout> {
    rol(p, LEZERS)?;
    match store.run_head(id).await? {
        Some((g, s)) if p.mag(&g) => Ok(s),
        _ => Err(RondeFout::NietGevonden.into()),
    }
}

async fn scoped(store: &Store, p: &Principal, id: i64) -> Result<RondeRow, Fout> {
    match store.run(id).await? {
        Some(r) if p.mag(&r.gemeente) => Ok(r),
        _ => Err(RondeFout::NietGevonden.into()),
    }
}

/// Makes a run (financien, within scope).
pub async fn maak(store: &Store, p: &Principal, n: &NieuweRonde) -> Result<RondeRow, Fout> {
    rol(p, FINANCIEN)?;
    if !p.mag(&n.gemeente) {
        return Err(RondeFout::NietGevonden.into());
    }
    let id = store.create_run(n, &p.naam, p.rol.as_str()).await?;
    scoped(store, p, id).await
}

/// Approves, marks paid or withdraws run `id`.
pub async fn stap(
    store: &Store,
    p: &Principal,
    id: i64,
    stap: Stap,
    reden: Option<&str>,
) -> Result<RondeRow, Fout> {
    rol(p, FINANCIEN)?;
    let run = scoped(store, p, id).await?;
    let door = Door {
        naam: &p.naam,
        rol: p.rol.as_str(),
    };
    Ok(store.move_run(run.id, stap, door, reden).await?)
}

/// The SEPA file of run `id` (the first call exports it).
pub async fn sepa(store: &Store, p: &Principal, id: i64) -> Result<(RondeRow, Vec<u8>), Fout> {
    rol(p, FINANCIEN)?;
    let run = scoped(store, p, id).await?;
    let door = Door {
        naam: &p.naam,
        rol: p.rol.as_str(),
    };
    let out = store.export_run(run.id, door, super::bestand::sepa).await?;
    Ok((out.ronde, out.bestand.unwrap_or_default()))
}

/// The journal CSV of run `id`.
pub async fn journaal(store: &Store, p: &Principal, id: i64) -> Result<(RondeRow, Vec<u8>), Fout> {
    rol(p, LEZERS)?;
    let run = scoped(store, p, id).await?;
    let rows = store.run_journal(run.id).await?;
    let bytes = super::bestand::journaal(&run, rows).map_err(|e| {
        RondeFout::Store(crate::store::StoreError::Corrupt(format!("journaal: {e}")))
    })?;
    Ok((run, bytes))
}
