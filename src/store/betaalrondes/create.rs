//! Making a payment run: one transaction that claims the payable lines (the partial unique index
//! on live lines decides between runs made at the same moment), drops the aanbieders whose net
//! total is zero or below, freezes who is paid to which account, and logs the action.

use super::{signed, Aanbieder, NieuweRonde, RondeFout, Samenvatting, Uitgesloten, Vastgehouden};
use crate::store::actions::{insert_action, NewAction};
use crate::store::{get_i64, get_opt_str, get_str, Backend, Result, Store};

/// The lines a run may take: approved, of the gemeente, ProductPeriode ended by the date, not
/// held, not in a live run. `$1` gemeente, `$2` tot_en_met, `$3` the aanbieder when one is asked.
fn payable(aanbieder: bool) -> String {
    format!(
        "p.gemeente = $1 AND p.approved = 1 AND p.periode_eind <= $2{} \
         AND NOT EXISTS (SELECT 1 FROM holds h WHERE h.prestatie_id = p.id AND h.status = 'held') \
         AND NOT EXISTS (SELECT 1 FROM betaalronde_regels r WHERE r.prestatie_id = p.id AND r.actief = 1)",
        if aanbieder { " AND p.aanbieder = $3" } else { "" }
    )
}

type Conn = sqlx::AnyConnection;

/// Binds gemeente, date and the optional aanbieder to a query built on [`payable`].
macro_rules! bind_scope {
    ($q:expr, $n:expr) => {{
        let q = $q.bind($n.gemeente.clone()).bind($n.tot_en_met.to_string());
        match &$n.aanbieder {
            Some(a) => q.bind(a.clone()),
            None => q,
        }
    }};
}

impl Store {
    /// Makes a run in status `concept` for `n`, by `door` (a financien user), or says why not.
    pub async fn create_run(
        &self,
        n: &NieuweRonde,
        door: &str,
        rol: &str,
    ) -> std::result::Result<i64, RondeFout> {
        let mut tx = self
            .begin_write()
            .await
            .map_err(crate::store::StoreError::from)?;
        let debiteur = gemeente_account(&mut tx, &n.gemeente).await?.ok_or_else(|| {
            RondeFout::Onvolledig(format!(
                "Gemeente {} heeft geen rekening in iwmo; importeer haar met `iwmo gemeenten import`.",
                n.gemeente
            ))
        })?;
        let now = chrono::Utc::now();
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO betaalrondes (gemeente, aanbieder, tot_en_met, status, aantal_regels, \
             totaal_cents, samenvatting, debiteur_naam, debiteur_iban, debiteur_bic, \
             aangemaakt_door, aangemaakt_op) \
             VALUES ($1,$2,$3,'concept',0,0,'{}',$4,$5,$6,$7,$8) RETURNING id",
        )
        .bind(n.gemeente.clone())
        .bind(n.aanbieder.clone())
        .bind(n.tot_en_met.to_string())
        .bind(debiteur.0)
        .bind(debiteur.1)
        .bind(debiteur.2)
        .bind(door.to_string())
        .bind(now.to_rfc3339())
        .fetch_one(&mut *tx)
        .await
        .map_err(crate::store::StoreError::from)?;
        let sam = fill_run(&mut tx, self.backend, id, n).await?;
        if sam.aantal_regels == 0 {
            return Err(RondeFout::Leeg(leeg_tekst(&sam)));
        }
        let actie = NewAction {
            gebruiker: door,
            rol,
            actie: "betaalronde.aanmaken",
            onderwerp: &format!("betaalronde/{id}"),
            gemeente: Some(&n.gemeente),
            details: serde_json::json!({
                "tot_en_met": n.tot_en_met.to_string(), "aanbieder": n.aanbieder,
                "aantal_regels": sam.aantal_regels, "totaal_cents": sam.totaal_cents,
            }),
        };
        insert_action(&mut tx, &actie, now).await?;
        tx.commit().await.map_err(crate::store::StoreError::from)?;
        Ok(id)
    }
}

fn leeg_tekst(s: &Samenvatting) -> String {
    format!(
        "Er is niets te betalen: geen goedgekeurde, niet vastgehouden en nog niet betaalde regels \
         met een positief saldo per aanbieder (vastgehouden: {} regel(s); uitgesloten aanbieders: {}).",
        s.vastgehouden.iter().map(|v| v.aantal).sum::<i64>(),
        s.uitgesloten.len()
    )
}

/// The gemeente's account: naam, IBAN, BIC.
async fn gemeente_account(
    tx: &mut Conn,
    gemeente: &str,
) -> Result<Option<(String, String, Option<String>)>> {
    let row = sqlx::query("SELECT naam, iban, bic FROM gemeenten WHERE gemeente_code = $1")
        .bind(gemeente.to_string())
        .fetch_optional(&mut *tx)
        .await?;
    row.map(|r| {
        Ok((
            get_str(&r, "naam")?,
            get_str(&r, "iban")?,
            get_opt_str(&r, "bic")?,
        ))
    })
    .transpose()
}

/// Claims the lines, settles the aanbieders and writes the run's totals and summary. Two passes
/// over the data: one claims the payable lines, one sums them per aanbieder; which aanbieders
/// stay is decided here on those sums (a thousand rows, not a million).
async fn fill_run(
    tx: &mut Conn,
    backend: Backend,
    id: i64,
    n: &NieuweRonde,
) -> Result<Samenvatting> {
    claim_lines(tx, id, n).await?;
    let mut aanbieders = Vec::new();
    let mut uitgesloten = Vec::new();
    for t in totals(tx, id).await? {
        match settle(t) {
            Ok(a) => aanbieders.push(a),
            Err(u) => uitgesloten.push(u),
        }
    }
    for u in &uitgesloten {
        sqlx::query("DELETE FROM betaalronde_regels WHERE betaalronde_id = $1 AND aanbieder = $2")
            .bind(id)
            .bind(u.agb_code.clone())
            .execute(&mut *tx)
            .await?;
    }
    freeze(tx, backend, id, &aanbieders).await?;
    let sam = Samenvatting {
        aantal_regels: aanbieders.iter().map(|a| a.aantal_regels).sum(),
        totaal_cents: aanbieders.iter().map(|a| a.bedrag_cents).sum(),
        aanbieders,
        vastgehouden: held_lines(tx, n).await?,
        uitgesloten,
    };
    sqlx::query(
        "UPDATE betaalrondes SET aantal_regels = $1, totaal_cents = $2, samenvatting = $3 WHERE id = $4",
    )
    .bind(sam.aantal_regels)
    .bind(sam.totaal_cents)
    .bind(serde_json::to_string(&sam.voor_opslag()).unwrap_or_default())
    .bind(id)
    .execute(&mut *tx)
    .await?;
    Ok(sam)
}

/// Inserts every payable line; a line another live run holds (or takes at this moment) is
/// skipped by the partial unique index, not by a check here.
async fn claim_lines(tx: &mut Conn, id: i64, n: &NieuweRonde) -> Result<u64> {
    // Both backends take the partial index as the conflict target.
    let sql = format!(
        "INSERT INTO betaalronde_regels (betaalronde_id, prestatie_id, aanbieder, bedrag_cents, actief) \
         SELECT {id}, p.id, p.aanbieder, {}, 1 FROM prestaties p WHERE {} \
         ON CONFLICT (prestatie_id) WHERE actief = 1 DO NOTHING",
        signed("p"),
        payable(n.aanbieder.is_some())
    );
    let q = sqlx::query(sqlx::AssertSqlSafe(sql));
    Ok(bind_scope!(q, n).execute(&mut *tx).await?.rows_affected())
}

/// Per aanbieder in the run: lines, net amount, and its account when iwmo knows it.
struct Totaal {
    agb_code: String,
    aantal: i64,
    bedrag: i64,
    rekening: Option<(String, String, Option<String>)>,
}

async fn totals(tx: &mut Conn, id: i64) -> Result<Vec<Totaal>> {
    let rows = sqlx::query(
        "SELECT t.aanbieder, t.aantal, t.bedrag, a.naam, a.iban, a.bic FROM \
         (SELECT aanbieder, COUNT(*) AS aantal, CAST(SUM(bedrag_cents) AS BIGINT) AS bedrag \
          FROM betaalronde_regels WHERE betaalronde_id = $1 GROUP BY aanbieder) t \
         LEFT JOIN aanbieders a ON a.agb_code = t.aanbieder ORDER BY t.aanbieder",
    )
    .bind(id)
    .fetch_all(&mut *tx)
    .await?;
    rows.iter()
        .map(|r| {
            let iban = get_opt_str(r, "iban")?;
            Ok(Totaal {
                agb_code: get_str(r, "aanbieder")?,
                aantal: get_i64(r, "aantal")?,
                bedrag: get_i64(r, "bedrag")?,
                rekening: match iban {
                    Some(iban) => Some((get_str(r, "naam")?, iban, get_opt_str(r, "bic")?)),
                    None => None,
                },
            })
        })
        .collect()
}

/// Paid in this run, or left out with the reason (its lines wait for a later run).
fn settle(t: Totaal) -> std::result::Result<Aanbieder, Uitgesloten> {
    let reden = match &t.rekening {
        None => "Aanbieder onbekend in iwmo (geen IBAN); importeer met `iwmo aanbieders import`.",
        Some(_) if t.bedrag <= 0 => {
            "Saldo van debet- en creditregels is nul of negatief; de regels gaan mee naar een \
             volgende betaalronde."
        }
        Some((naam, iban, bic)) => {
            return Ok(Aanbieder {
                agb_code: t.agb_code,
                naam: naam.clone(),
                iban: iban.clone(),
                bic: bic.clone(),
                aantal_regels: t.aantal,
                bedrag_cents: t.bedrag,
            })
        }
    };
    Err(Uitgesloten {
        agb_code: t.agb_code,
        aantal_regels: t.aantal,
        bedrag_cents: t.bedrag,
        reden: reden.into(),
    })
}

/// Freezes who the run pays: name, IBAN, BIC, lines, amount (a hundred rows a statement).
async fn freeze(tx: &mut Conn, backend: Backend, id: i64, aanbieders: &[Aanbieder]) -> Result<()> {
    for chunk in aanbieders.chunks(100) {
        let sql = format!(
            "INSERT INTO betaalronde_aanbieders (betaalronde_id, agb_code, naam, iban, bic, \
             aantal_regels, bedrag_cents) VALUES {}",
            crate::store::values_clause(backend, chunk.len(), 7)
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for a in chunk {
            q = q
                .bind(id)
                .bind(a.agb_code.clone())
                .bind(a.naam.clone())
                .bind(a.iban.clone())
                .bind(a.bic.clone())
                .bind(a.aantal_regels)
                .bind(a.bedrag_cents);
        }
        q.execute(&mut *tx).await?;
    }
    Ok(())
}

/// Approved lines within the run's scope that are held, grouped by reason.
async fn held_lines(tx: &mut Conn, n: &NieuweRonde) -> Result<Vec<Vastgehouden>> {
    let sql = format!(
        "SELECT h.reden AS reden, COUNT(*) AS aantal, CAST(SUM({}) AS BIGINT) AS bedrag FROM prestaties p \
         JOIN holds h ON h.prestatie_id = p.id AND h.status = 'held' \
         WHERE p.gemeente = $1 AND p.approved = 1 AND p.periode_eind <= $2{} \
         AND NOT EXISTS (SELECT 1 FROM betaalronde_regels r WHERE r.prestatie_id = p.id AND r.actief = 1) \
         GROUP BY h.reden ORDER BY h.reden",
        signed("p"),
        if n.aanbieder.is_some() { " AND p.aanbieder = $3" } else { "" }
    );
    let q = sqlx::query(sqlx::AssertSqlSafe(sql));
    let rows = bind_scope!(q, n).fetch_all(&mut *tx).await?;
    rows.iter()
        .map(|r| {
            Ok(Vastgehouden {
                reden: get_str(r, "reden")?,
                aantal: get_i64(r, "aantal")?,
                bedrag_cents: get_i64(r, "bedrag")?,
            })
        })
        .collect()
}
