//! Writing the changes a decision computed ([`Changes`]): toewijzingen, starts and stops, a
//! declaratie with its Prestaties, holds, signals, requests and refusals. Written as given.

use std::collections::HashMap;

use sqlx::{Any, AssertSqlSafe, Transaction};

use super::apply::{insert_many, now, opt_i64, Commit};
use super::rows::ymd;
use super::{Result, Store, Tx};
use crate::decide::changes::*;

use crate::rules::decision::{Hold, Signal};
use crate::rules::state::Toewijzing;

/// A start or stop row to insert: (message id, gemeente, aanbieder, bsn, class).
type ClassRow<'a> = (i64, String, String, String, &'a NewClass);

impl Tx {
    /// Writes the changes of every message (set-based for starts and stops).
    pub(super) async fn apply_changes(&mut self, ids: &[i64], commits: &[Commit]) -> Result<()> {
        let backend = self.backend;
        let mut new_starts: Vec<ClassRow> = Vec::new();
        let mut new_stops: Vec<ClassRow> = Vec::new();
        for (c, &message_id) in commits.iter().zip(ids) {
            let ch = &c.changes;
            if let Some(t) = &ch.toewijzingen {
                Store::apply_toewijzingen(&mut self.tx, Some(message_id), &t.source, &t.items)
                    .await?;
            }
            if let Some(s) = &ch.startstop {
                self.delete_classes(message_id, s).await?;
                let (g, a, b) = (
                    s.gemeente.to_string(),
                    s.aanbieder.to_string(),
                    s.bsn.expose().to_string(),
                );
                new_starts.extend(
                    s.new_starts
                        .iter()
                        .map(|k| (message_id, g.clone(), a.clone(), b.clone(), k)),
                );
                new_stops.extend(
                    s.new_stops
                        .iter()
                        .map(|k| (message_id, g.clone(), a.clone(), b.clone(), k)),
                );
            }
            if let Some(d) = &ch.declaratie {
                Store::apply_declaratie(backend, &mut self.tx, message_id, d).await?;
            }
            if let Some(v) = &ch.verzoek {
                self.insert_verzoek(message_id, v).await?;
            }
            for (aanbieder, referentie) in &ch.verzoeken_toegewezen {
                self.close_verzoek(message_id, aanbieder, referentie)
                    .await?;
            }
            for w in &ch.geweigerd {
                self.insert_weigering(message_id, w).await?;
            }
        }
        insert_classes(backend, &mut self.tx, &new_starts, &new_stops).await?;
        for (c, &message_id) in commits.iter().zip(ids) {
            if !c.changes.holds.is_empty() {
                self.apply_holds(message_id, &c.changes).await?;
            }
        }
        Ok(())
    }

    async fn delete_classes(&mut self, message_id: i64, s: &StartStopChanges) -> Result<()> {
        for (table, ids) in [("starts", &s.deleted_starts), ("stops", &s.deleted_stops)] {
            for id in ids {
                sqlx::query(AssertSqlSafe(format!(
                    "UPDATE {table} SET active = 0, deleted_by = $1 WHERE id = $2"
                )))
                .bind(message_id)
                .bind(*id)
                .execute(&mut *self.tx)
                .await?;
            }
        }
        Ok(())
    }

    /// Holds of earlier Prestaties, as the decision says.
    async fn apply_holds(&mut self, message_id: i64, ch: &Changes) -> Result<()> {
        const PLACE: &str = "INSERT INTO holds (prestatie_id, status, reden, created_at, changed_at, changed_by_message, start_id) \
                             VALUES ($1, 'held', $2, $4, $4, $5, $3)";
        const AGAIN: &str =
            "UPDATE holds SET status = 'held', reden = $2, start_id = $3, changed_at = $4, \
                             changed_by_message = $5 WHERE prestatie_id = $1";
        const RELEASE: &str =
            "UPDATE holds SET status = 'released', reden = COALESCE($2, reden), start_id = $3, \
                               changed_at = $4, changed_by_message = $5 WHERE prestatie_id = $1";
        const VOID: &str = "UPDATE holds SET status = 'vervallen', reden = COALESCE($2, reden), \
                            start_id = COALESCE($3, start_id), changed_at = $4, changed_by_message = $5 WHERE prestatie_id = $1";
        let ts = now();
        for h in &ch.holds {
            let (sql, id, reden, start) = match h {
                HoldChange::Vastgehouden {
                    prestatie_id,
                    reden,
                } => (PLACE, *prestatie_id, Some(reden.clone()), None),
                HoldChange::OpnieuwVastgehouden {
                    prestatie_id,
                    reden,
                } => (AGAIN, *prestatie_id, Some(reden.clone()), None),
                HoldChange::Vrijgegeven {
                    prestatie_id,
                    start,
                } => (
                    RELEASE,
                    *prestatie_id,
                    None,
                    Some(self.start_id(message_id, ch, *start).await?),
                ),
                HoldChange::Vervallen { prestatie_id } => (VOID, *prestatie_id, None, None),
            };
            sqlx::query(sql)
                .bind(id)
                .bind(reden)
                .bind(start)
                .bind(ts.clone())
                .bind(message_id)
                .execute(&mut *self.tx)
                .await?;
        }
        Ok(())
    }

    /// The id of the start a released hold is covered by (a new start of this message is found
    /// by its key among the rows the message wrote).
    async fn start_id(&mut self, message_id: i64, ch: &Changes, start: StartRef) -> Result<i64> {
        let n = match start {
            StartRef::Opgeslagen(id) => return Ok(id),
            StartRef::Nieuw(n) => n,
        };
        let class = ch
            .startstop
            .as_ref()
            .and_then(|s| s.new_starts.get(n))
            .ok_or_else(|| {
                super::StoreError::Corrupt("vrijgave verwijst naar een onbekende start".into())
            })?;
        let rows: Vec<(i64, Option<i64>, String)> = sqlx::query_as(
            "SELECT id, toewijzing_nummer, begindatum FROM starts WHERE message_id = $1 ORDER BY id",
        )
        .bind(message_id)
        .fetch_all(&mut *self.tx)
        .await?;
        let nr = class.toewijzing_nummer.map(|t| i64::from(t.get()));
        rows.into_iter()
            .find(|(_, t, b)| *t == nr && *b == ymd(&class.begindatum))
            .map(|(id, ..)| id)
            .ok_or_else(|| super::StoreError::Corrupt("nieuwe start niet gevonden".into()))
    }

    async fn insert_verzoek(&mut self, message_id: i64, v: &NewVerzoek) -> Result<()> {
        let nummers: Vec<String> = v.toewijzingen.iter().map(|n| n.get().to_string()).collect();
        sqlx::query(
            "INSERT INTO verzoeken (message_id, soort, gemeente, aanbieder, bsn, referenties, toewijzingen, \
             ontvangen, uiterlijk, status, created_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,'open',$10)",
        )
        .bind(message_id)
        .bind(v.soort.clone())
        .bind(v.gemeente.to_string())
        .bind(v.aanbieder.to_string())
        .bind(v.bsn.expose().to_string())
        .bind(v.referenties.join(","))
        .bind(nummers.join(","))
        .bind(ymd(&v.ontvangen))
        .bind(ymd(&v.uiterlijk))
        .bind(now())
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    /// The open requests of this aanbieder with this ReferentieAanbieder are answered.
    async fn close_verzoek(
        &mut self,
        message_id: i64,
        aanbieder: &crate::domain::AgbCode,
        referentie: &str,
    ) -> Result<()> {
        let open: Vec<(i64, String)> = sqlx::query_as(
            "SELECT id, referenties FROM verzoeken WHERE aanbieder = $1 AND status = 'open'",
        )
        .bind(aanbieder.to_string())
        .fetch_all(&mut *self.tx)
        .await?;
        for (id, _) in open
            .into_iter()
            .filter(|(_, r)| r.split(',').any(|x| x == referentie))
        {
            sqlx::query(
                "UPDATE verzoeken SET status = 'toegewezen', afgehandeld_door = $1 WHERE id = $2",
            )
            .bind(message_id)
            .bind(id)
            .execute(&mut *self.tx)
            .await?;
        }
        Ok(())
    }

    async fn insert_weigering(&mut self, message_id: i64, w: &Weigering) -> Result<()> {
        sqlx::query(
            "INSERT INTO toewijzing_weigeringen (message_id, gemeente, toewijzing_nummer, codes, created_at) \
             VALUES ($1,$2,$3,$4,$5)",
        )
        .bind(message_id)
        .bind(w.gemeente.to_string())
        .bind(i64::from(w.toewijzing_nummer.get()))
        .bind(w.codes.join(","))
        .bind(now())
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }
}

/// New starts and stops of all messages, one statement each.
async fn insert_classes(
    backend: super::Backend,
    tx: &mut Transaction<'static, Any>,
    new_starts: &[ClassRow<'_>],
    new_stops: &[ClassRow<'_>],
) -> Result<()> {
    insert_many(
        backend,
        &mut *tx,
        "starts (message_id, gemeente, aanbieder, bsn, toewijzing_nummer, product_categorie, product_code, begindatum, active)",
        9,
        new_starts,
        |q, (mid, g, a, b, s)| {
            q.bind(*mid)
                .bind(g.clone())
                .bind(a.clone())
                .bind(b.clone())
                .bind(s.toewijzing_nummer.map(|n| i64::from(n.get())))
                .bind(s.product.as_ref().map(|p| p.categorie.code().to_string()))
                .bind(s.product.as_ref().and_then(|p| p.code.as_ref().map(|c| c.to_string())))
                .bind(ymd(&s.begindatum))
                .bind(1i64)
        },
    )
    .await?;
    insert_many(
        backend,
        &mut *tx,
        "stops (message_id, gemeente, aanbieder, bsn, toewijzing_nummer, product_categorie, product_code, begindatum, \
         reden_beeindiging, einddatum, active)",
        11,
        new_stops,
        |q, (mid, g, a, b, s)| {
            q.bind(*mid)
                .bind(g.clone())
                .bind(a.clone())
                .bind(b.clone())
                .bind(s.toewijzing_nummer.map(|n| i64::from(n.get())))
                .bind(s.product.as_ref().map(|p| p.categorie.code().to_string()))
                .bind(s.product.as_ref().and_then(|p| p.code.as_ref().map(|c| c.to_string())))
                .bind(ymd(&s.begindatum))
                .bind(s.reden_beeindiging.map(|r| r.code().to_string()).unwrap_or_default())
                .bind(s.einddatum.map(|d| ymd(&d)).unwrap_or_default())
                .bind(1i64)
        },
    )
    .await
}
impl Store {
    /// A processed 323: the declaratie, its Prestaties, credits, holds and signals.
    async fn apply_declaratie(
        backend: super::Backend,
        tx: &mut Transaction<'static, Any>,
        message_id: i64,
        d: &DeclaratieChanges,
    ) -> Result<()> {
        let (gemeente, aanbieder, periode, prestaties) =
            (&d.gemeente, &d.aanbieder, &d.periode, &d.prestaties);
        let (declaratie_id,): (i64,) = sqlx::query_as(
            "INSERT INTO declaraties (message_id, gemeente, aanbieder, declaratie_nummer, periode_begin, periode_eind, \
             totaal_ingediend, totaal_toegekend) VALUES ($1,$2,$3,$4,$5,$6,$7,$8) RETURNING id",
        )
        .bind(message_id)
        .bind(gemeente.to_string())
        .bind(aanbieder.to_string())
        .bind(d.declaratie_nummer.clone())
        .bind(ymd(&periode.begindatum))
        .bind(ymd(&periode.einddatum))
        .bind(d.totaal_ingediend)
        .bind(d.totaal_toegekend)
        .fetch_one(&mut **tx)
        .await?;
        let g = gemeente.to_string();
        let a = aanbieder.to_string();
        insert_many(
            backend,
            &mut *tx,
            "prestaties (declaratie_id, message_id, regel, gemeente, aanbieder, referentie_nummer, vorig_referentie_nummer, \
             bsn, toewijzing_nummer, product_categorie, product_code, periode_begin, periode_eind, geleverd_volume, \
             eenheid, product_tarief, bedrag, debet_credit, approved, codes)",
            20,
            prestaties,
            |q, p| {
                q.bind(declaratie_id)
                    .bind(message_id)
                    .bind(p.regel)
                    .bind(g.clone())
                    .bind(a.clone())
                    .bind(p.referentie_nummer.clone())
                    .bind(p.vorig_referentie_nummer.clone())
                    .bind(p.bsn.expose().to_string())
                    .bind(i64::from(p.toewijzing_nummer.get()))
                    .bind(p.product_categorie.code().to_string())
                    .bind(p.product_code.clone())
                    .bind(ymd(&p.periode.begindatum))
                    .bind(ymd(&p.periode.einddatum))
                    .bind(p.geleverd_volume as i64)
                    .bind(p.eenheid.code().to_string())
                    .bind(opt_i64(p.product_tarief))
                    .bind(p.bedrag)
                    .bind(p.debet_credit.code().to_string())
                    .bind(i64::from(p.approved))
                    .bind(p.codes.join(","))
            },
        )
        .await?;
        // Approved credits cancel the debits the decision named.
        for c in &d.credits {
            sqlx::query("UPDATE prestaties SET gecrediteerd_door = $1 WHERE id = $2")
                .bind(c.door.clone())
                .bind(c.debit_id)
                .execute(&mut **tx)
                .await?;
        }
        holds_and_signals(backend, tx, message_id, prestaties).await?;
        Ok(())
    }
}

/// The holds and signals of a declaratie's new Prestaties (matched to their rows by regel).
async fn holds_and_signals(
    backend: super::Backend,
    tx: &mut Transaction<'static, Any>,
    message_id: i64,
    prestaties: &[NewPrestatie],
) -> Result<()> {
    let ids: HashMap<i64, i64> =
        sqlx::query_as::<_, (i64, i64)>("SELECT regel, id FROM prestaties WHERE message_id = $1")
            .bind(message_id)
            .fetch_all(&mut **tx)
            .await?
            .into_iter()
            .collect();
    let ts = now();
    let holds: Vec<(i64, &Hold)> = prestaties
        .iter()
        .filter_map(|p| Some((*ids.get(&p.regel)?, p.hold.as_ref()?)))
        .collect();
    insert_many(
        backend,
        &mut *tx,
        "holds (prestatie_id, status, reden, created_at, changed_at, changed_by_message)",
        6,
        &holds,
        |q, (id, h)| {
            q.bind(*id)
                .bind("held".to_string())
                .bind(h.reden.clone())
                .bind(ts.clone())
                .bind(ts.clone())
                .bind(message_id)
        },
    )
    .await?;
    let signals: Vec<(i64, &Signal)> = prestaties
        .iter()
        .filter_map(|p| ids.get(&p.regel).map(|id| (*id, p)))
        .flat_map(|(id, p)| p.signals.iter().map(move |s| (id, s)))
        .collect();
    insert_many(
        backend,
        &mut *tx,
        "signals (prestatie_id, soort, andere_referentie, tekst, created_at)",
        5,
        &signals,
        |q, (id, s)| {
            q.bind(*id)
                .bind(s.soort.clone())
                .bind(s.andere_referentie.clone())
                .bind(s.tekst.clone())
                .bind(ts.clone())
        },
    )
    .await?;
    Ok(())
}

impl Store {
    /// Toewijzing versions: all kept; the current table follows the latest moment (IV013).
    async fn apply_toewijzingen(
        tx: &mut Transaction<'static, Any>,
        message_id: Option<i64>,
        source: &str,
        items: &[Toewijzing],
    ) -> Result<()> {
        for t in items {
            let moment = format!(
                "{}T{}",
                ymd(&t.toewijzingsdatum),
                t.toewijzingstijd.format("%H:%M:%S%.f")
            );
            let vals = (
                t.gemeente.to_string(),
                i64::from(t.toewijzing_nummer.get()),
                t.bsn.expose().to_string(),
                t.aanbieder.to_string(),
                t.product.as_ref().map(|p| p.categorie.code().to_string()),
                t.product
                    .as_ref()
                    .and_then(|p| p.code.as_ref().map(|c| c.to_string())),
                ymd(&t.toewijzingsdatum),
                t.toewijzingstijd.format("%H:%M:%S%.f").to_string(),
                ymd(&t.ingangsdatum),
                t.einddatum.map(|d| ymd(&d)),
                t.reden_wijziging.map(|r| r.code().to_string()),
                opt_i64(t.volume),
                t.eenheid.map(|e| e.code().to_string()),
                t.frequentie.map(|f| f.code().to_string()),
                opt_i64(t.budget),
            );
            let (vid,): (i64,) = sqlx::query_as(
                "INSERT INTO toewijzing_versies (message_id, source, gemeente, toewijzing_nummer, bsn, aanbieder, product_categorie, \
                 product_code, toewijzingsdatum, toewijzingstijd, ingangsdatum, einddatum, reden_wijziging, volume, eenheid, \
                 frequentie, budget) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17) RETURNING id",
            )
            .bind(message_id)
            .bind(source.to_string())
            .bind(vals.0.clone())
            .bind(vals.1)
            .bind(vals.2.clone())
            .bind(vals.3.clone())
            .bind(vals.4.clone())
            .bind(vals.5.clone())
            .bind(vals.6.clone())
            .bind(vals.7.clone())
            .bind(vals.8.clone())
            .bind(vals.9.clone())
            .bind(vals.10.clone())
            .bind(vals.11)
            .bind(vals.12.clone())
            .bind(vals.13.clone())
            .bind(vals.14)
            .fetch_one(&mut **tx)
            .await?;
            // Latest Toewijzingsdatum + Toewijzingstijd wins; on an equal moment the later arrival wins.
            sqlx::query(
                "INSERT INTO toewijzingen (gemeente, toewijzing_nummer, version_id, moment, bsn, aanbieder, product_categorie, \
                 product_code, toewijzingsdatum, toewijzingstijd, ingangsdatum, einddatum, reden_wijziging, volume, eenheid, \
                 frequentie, budget) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17) \
                 ON CONFLICT (gemeente, toewijzing_nummer) DO UPDATE SET version_id = excluded.version_id, moment = excluded.moment, \
                 bsn = excluded.bsn, aanbieder = excluded.aanbieder, product_categorie = excluded.product_categorie, \
                 product_code = excluded.product_code, toewijzingsdatum = excluded.toewijzingsdatum, \
                 toewijzingstijd = excluded.toewijzingstijd, ingangsdatum = excluded.ingangsdatum, einddatum = excluded.einddatum, \
                 reden_wijziging = excluded.reden_wijziging, volume = excluded.volume, eenheid = excluded.eenheid, \
                 frequentie = excluded.frequentie, budget = excluded.budget WHERE toewijzingen.moment <= excluded.moment",
            )
            .bind(vals.0)
            .bind(vals.1)
            .bind(vid)
            .bind(moment)
            .bind(vals.2)
            .bind(vals.3)
            .bind(vals.4)
            .bind(vals.5)
            .bind(vals.6)
            .bind(vals.7)
            .bind(vals.8)
            .bind(vals.9)
            .bind(vals.10)
            .bind(vals.11)
            .bind(vals.12)
            .bind(vals.13)
            .bind(vals.14)
            .execute(&mut **tx)
            .await?;
        }
        Ok(())
    }

    /// Toewijzingen from a case system (CSV import), outside any message.
    pub async fn import_toewijzingen(&self, source: &str, items: &[Toewijzing]) -> Result<()> {
        let mut tx: Transaction<'static, Any> = self.begin_write().await?;
        Self::apply_toewijzingen(&mut tx, None, source, items).await?;
        tx.commit().await?;
        Ok(())
    }
}
