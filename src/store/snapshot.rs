//! Loading what the rules need for one message (the snapshot), in as few queries as possible.

use std::collections::BTreeSet;

use sqlx::any::AnyRow;
use sqlx::AssertSqlSafe;

use super::rows::{self, START_COLS, TOEWIJZING_COLS};

/// Stop columns in the order of START_COLS plus reden and einddatum (for the UNION with starts).
const STOP_COLS_ORDERED: &str =
    "id, aanbieder, bsn, toewijzing_nummer, product_categorie, product_code, begindatum, active, reden_beeindiging, einddatum";
use super::{padded, shape, Ph, Result, Tx, CHUNK};
use crate::domain::{Bsn, Gemeentecode, ToewijzingNummer};
use crate::rules::state::*;

// The snapshot of a 323.
mod declaratie;

/// How an IN-list select is planned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Plan {
    /// Lookups on a key or the client index, whose plan is the same for any values: padded to a
    /// [`shape`] and kept prepared (PostgreSQL then plans it once, for all values).
    Kept,
}

impl Tx {
    /// Runs `SELECT … WHERE <fixed> AND <col> IN (…)` over `values` in chunks.
    async fn select_in(
        &mut self,
        sql_prefix: &str,
        fixed: &[String],
        values: &[String],
        int_values: bool,
        plan: Plan,
    ) -> Result<Vec<AnyRow>> {
        self.select_in_then(sql_prefix, "", fixed, values, int_values, plan)
            .await
    }

    /// Like `select_in`, with `suffix` (e.g. `GROUP BY …`) after the IN list.
    async fn select_in_then(
        &mut self,
        sql_prefix: &str,
        suffix: &str,
        fixed: &[String],
        values: &[String],
        int_values: bool,
        plan: Plan,
    ) -> Result<Vec<AnyRow>> {
        let mut out = Vec::new();
        for chunk in values.chunks(CHUNK) {
            // The prefix names its fixed parameters $1, $2, … in order.
            let mut ph = Ph::new(self.backend);
            let mut prefix = sql_prefix.to_string();
            for i in (1..=fixed.len()).rev() {
                prefix = prefix.replace(&format!("${i}"), &format!("\u{1}{i}"));
            }
            for i in 1..=fixed.len() {
                prefix = prefix.replace(&format!("\u{1}{i}"), &ph.next());
            }
            let (n, kept) = match plan {
                Plan::Kept => (shape(chunk.len()), true),
            };
            let sql = format!("{prefix} IN ({}) {suffix}", ph.list(n));
            let mut q = sqlx::query(AssertSqlSafe(sql)).persistent(kept);
            for f in fixed {
                q = q.bind(f.clone());
            }
            for v in padded(chunk).take(n) {
                q = if int_values {
                    q.bind(v.parse::<i64>().unwrap_or(-1))
                } else {
                    q.bind(v.clone())
                };
            }
            out.extend(q.fetch_all(&mut *self.tx).await?);
        }
        Ok(out)
    }

    pub async fn toewijzingen(
        &mut self,
        gemeente: &Gemeentecode,
        nummers: &[ToewijzingNummer],
    ) -> Result<Vec<Toewijzing>> {
        let set: BTreeSet<u32> = nummers.iter().map(|n| n.get()).collect();
        let values: Vec<String> = set.iter().map(|n| n.to_string()).collect();
        let rows = self
            .select_in(
                &format!("SELECT {TOEWIJZING_COLS} FROM toewijzingen WHERE gemeente = $1 AND toewijzing_nummer"),
                &[gemeente.to_string()],
                &values,
                true,
                Plan::Kept,
            )
            .await?;
        rows.iter().map(rows::toewijzing).collect()
    }

    async fn starts_stops(
        &mut self,
        gemeente: &Gemeentecode,
        bsns: &[String],
    ) -> Result<(Vec<StartRow>, Vec<StopRow>)> {
        // One round trip for both: starts have no reden/einddatum.
        let mut starts = Vec::new();
        let mut stops = Vec::new();
        for chunk in bsns.chunks(CHUNK) {
            let mut ph = Ph::new(self.backend);
            let n = shape(chunk.len());
            let (g1, l1, g2, l2) = (ph.next(), ph.list(n), ph.next(), ph.list(n));
            let sql = format!(
                "SELECT 'start' AS soort, {START_COLS}, NULL AS reden_beeindiging, NULL AS einddatum FROM starts \
                 WHERE gemeente = {g1} AND bsn IN ({l1}) UNION ALL \
                 SELECT 'stop' AS soort, {STOP_COLS_ORDERED} FROM stops WHERE gemeente = {g2} AND bsn IN ({l2})"
            );
            let mut q = sqlx::query(AssertSqlSafe(sql));
            for _ in 0..2 {
                q = q.bind(gemeente.to_string());
                for b in padded(chunk) {
                    q = q.bind(b.clone());
                }
            }
            for r in q.fetch_all(&mut *self.tx).await? {
                use sqlx::Row;
                if r.try_get::<String, _>("soort")? == "start" {
                    starts.push(rows::start(&r)?);
                } else {
                    stops.push(rows::stop(&r)?);
                }
            }
        }
        Ok((starts, stops))
    }

    /// Snapshot for a 305/307: the toewijzingen named, and all starts/stops of this client.
    pub async fn startstop_snapshot(
        &mut self,
        gemeente: &Gemeentecode,
        bsn: &Bsn,
        nummers: &[ToewijzingNummer],
    ) -> Result<StartStopSnapshot> {
        let mut v = self
            .startstop_snapshots(&[(*gemeente, *bsn, nummers.to_vec())])
            .await?;
        Ok(v.pop().unwrap_or_default())
    }

    /// Snapshots for several 305/307s at once: two queries per gemeente, whatever the number of
    /// messages. Rows come in a fixed order (toewijzingen by number, starts and stops by id),
    /// so a message gets the same snapshot alone or in a group.
    pub async fn startstop_snapshots(
        &mut self,
        requests: &[(Gemeentecode, Bsn, Vec<ToewijzingNummer>)],
    ) -> Result<Vec<StartStopSnapshot>> {
        let mut out: Vec<StartStopSnapshot> = vec![StartStopSnapshot::default(); requests.len()];
        let gemeenten: BTreeSet<String> = requests.iter().map(|r| r.0.to_string()).collect();
        for g in gemeenten {
            let mine: Vec<usize> = (0..requests.len())
                .filter(|&i| requests[i].0.to_string() == g)
                .collect();
            let gemeente = requests[mine[0]].0;
            let nummers: Vec<ToewijzingNummer> = mine
                .iter()
                .flat_map(|&i| requests[i].2.iter().copied())
                .collect();
            let mut bsns: Vec<String> = mine
                .iter()
                .map(|&i| requests[i].1.expose().to_string())
                .collect();
            bsns.sort();
            bsns.dedup();
            let mut toewijzingen = self.toewijzingen(&gemeente, &nummers).await?;
            toewijzingen.sort_by_key(|t| t.toewijzing_nummer.get());
            let (mut starts, mut stops) = self.starts_stops(&gemeente, &bsns).await?;
            starts.sort_by_key(|r| r.id);
            stops.sort_by_key(|r| r.id);
            for &i in &mine {
                let (_, bsn, nrs) = &requests[i];
                out[i] = StartStopSnapshot {
                    toewijzingen: toewijzingen
                        .iter()
                        .filter(|t| nrs.contains(&t.toewijzing_nummer))
                        .cloned()
                        .collect(),
                    starts: starts.iter().filter(|r| r.bsn == *bsn).cloned().collect(),
                    stops: stops.iter().filter(|r| r.bsn == *bsn).cloned().collect(),
                    ..StartStopSnapshot::default()
                };
            }
        }
        Ok(out)
    }

    pub async fn start_policy(&mut self, gemeente: &Gemeentecode) -> Result<StartPolicy> {
        let row: Option<(String,)> =
            sqlx::query_as("SELECT start_policy FROM policies WHERE gemeente = $1")
                .bind(gemeente.to_string())
                .fetch_optional(&mut *self.tx)
                .await?;
        super::needs::policy_of(row.as_ref().map(|(p,)| p.as_str()))
    }
}

impl super::Store {
    /// Current toewijzingen with these numbers (read-only convenience outside a message).
    pub async fn toewijzingen(
        &self,
        gemeente: &Gemeentecode,
        nummers: &[ToewijzingNummer],
    ) -> Result<Vec<Toewijzing>> {
        let mut tx = self.begin().await?;
        let v = tx.toewijzingen(gemeente, nummers).await?;
        tx.rollback().await?;
        Ok(v)
    }
}
