//! Loading what the rules need for one message (the snapshot), in as few queries as possible.

use std::collections::{BTreeSet, HashMap};

use sqlx::any::AnyRow;
use sqlx::AssertSqlSafe;

use super::rows::{self, PRESTATIE_COLS, START_COLS, TOEWIJZING_COLS};

/// Stop columns in the order of START_COLS plus reden and einddatum (for the UNION with starts).
const STOP_COLS_ORDERED: &str =
    "id, aanbieder, bsn, toewijzing_nummer, product_categorie, product_code, begindatum, active, reden_beeindiging, einddatum";
use super::{padded, shape, Ph, Result, Tx, CHUNK};
use crate::domain::{AgbCode, Bsn, Gemeentecode, ToewijzingNummer};
use crate::message::Wmo323;
use crate::rules::state::*;

/// How an IN-list select is planned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Plan {
    /// Lookups on a key or the client index, whose plan is the same for any values: padded to a
    /// [`shape`] and kept prepared (PostgreSQL then plans it once, for all values).
    Kept,
    /// Reads of earlier Prestaties (ranges over periods, sums), whose best plan depends on the
    /// values and on how many lines are stored: written for exactly these values and planned
    /// for them every time (one 323 of many lines pays this once).
    EachTime,
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
                Plan::EachTime => (chunk.len(), false),
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

    /// Snapshot for a 323 (see [`DeclaratieSnapshot`] for what is in it).
    pub async fn declaratie_snapshot(&mut self, m: &Wmo323) -> Result<DeclaratieSnapshot> {
        let aanbieder: AgbCode = m.header.afzender;
        let gemeente: Gemeentecode = m.header.ontvanger;
        let d = &m.declaratie;
        let used: Option<(i64,)> = sqlx::query_as(
            "SELECT id FROM declaraties WHERE aanbieder = $1 AND declaratie_nummer = $2",
        )
        .bind(aanbieder.to_string())
        .bind(d.declaratie_nummer.clone())
        .fetch_optional(&mut *self.tx)
        .await?;
        let last: Option<(String, String)> = sqlx::query_as(
            "SELECT periode_begin, periode_eind FROM declaraties WHERE aanbieder = $1 AND gemeente = $2 \
             ORDER BY periode_begin DESC LIMIT 1",
        )
        .bind(aanbieder.to_string())
        .bind(gemeente.to_string())
        .fetch_optional(&mut *self.tx)
        .await?;
        let laatste_declaratie_periode = match last {
            Some((b, e)) => Some(crate::domain::Periode {
                begindatum: rows::date(&b)?,
                einddatum: rows::date(&e)?,
            }),
            None => None,
        };

        let mut nummers: Vec<ToewijzingNummer> = Vec::new();
        let mut refs: BTreeSet<String> = BTreeSet::new();
        let mut bsns: BTreeSet<String> = BTreeSet::new();
        for (c, p) in m.prestaties() {
            nummers.push(p.toewijzing_nummer);
            refs.insert(p.product_referentie.referentie_nummer.clone());
            if let Some(v) = &p.product_referentie.vorig_referentie_nummer {
                refs.insert(v.clone());
            }
            bsns.insert(c.bsn.expose().to_string());
        }
        nummers.sort();
        nummers.dedup();
        let toewijzingen = self.toewijzingen(&gemeente, &nummers).await?;

        // Earlier lines: by reference (this aanbieder), by toewijzing (this gemeente), by client.
        let mut by_id: HashMap<i64, EarlierPrestatie> = HashMap::new();
        let refs: Vec<String> = refs.into_iter().collect();
        for r in self
            .select_in(
                &format!("SELECT {PRESTATIE_COLS} FROM prestaties WHERE aanbieder = $1 AND referentie_nummer"),
                &[aanbieder.to_string()],
                &refs,
                false,
                Plan::EachTime,
            )
            .await?
        {
            let p = rows::prestatie(&r)?;
            by_id.insert(p.id, p);
        }
        // Lines on the message's toewijzingen and of its clients matter only where their
        // ProductPeriode overlaps the message's periods (TR389, double-declaration signals);
        // the totals per toewijzing (TR322/TR369) come from an aggregate.
        let (min_begin, max_end) = m
            .prestaties()
            .map(|(_, p)| (p.product_periode.begindatum, p.product_periode.einddatum))
            .fold(
                (None, None),
                |(a, b): (Option<chrono::NaiveDate>, Option<chrono::NaiveDate>), (x, y)| {
                    (
                        Some(a.map_or(x, |a| a.min(x))),
                        Some(b.map_or(y, |b| b.max(y))),
                    )
                },
            );
        let (min_begin, max_end) = (
            min_begin.map(|d| rows::ymd(&d)).unwrap_or_default(),
            max_end.map(|d| rows::ymd(&d)).unwrap_or_default(),
        );
        let nrs: Vec<String> = nummers.iter().map(|n| n.get().to_string()).collect();
        for r in self
            .select_in(
                &format!(
                    "SELECT {PRESTATIE_COLS} FROM prestaties WHERE gemeente = $1 AND periode_eind >= $2 \
                     AND periode_begin <= $3 AND toewijzing_nummer"
                ),
                &[gemeente.to_string(), min_begin.clone(), max_end.clone()],
                &nrs,
                true,
                Plan::EachTime,
            )
            .await?
        {
            let p = rows::prestatie(&r)?;
            by_id.insert(p.id, p);
        }
        let bsns: Vec<String> = bsns.into_iter().collect();
        for r in self
            .select_in(
                &format!(
                    "SELECT {PRESTATIE_COLS} FROM prestaties WHERE gemeente = $1 AND periode_eind >= $2 \
                     AND periode_begin <= $3 AND approved = 1 AND debet_credit = 'D' AND gecrediteerd_door IS NULL AND bsn"
                ),
                &[gemeente.to_string(), min_begin, max_end],
                &bsns,
                false,
                Plan::EachTime,
            )
            .await?
        {
            let p = rows::prestatie(&r)?;
            by_id.insert(p.id, p);
        }
        let mut sommen = Vec::new();
        for r in self
            .select_in_then(
                "SELECT toewijzing_nummer, eenheid, \
                 CAST(SUM(CASE WHEN debet_credit = 'D' THEN geleverd_volume ELSE -geleverd_volume END) AS BIGINT) AS volume, \
                 CAST(SUM(bedrag) AS BIGINT) AS bedrag FROM prestaties WHERE gemeente = $1 AND aanbieder = $2 AND approved = 1 \
                 AND toewijzing_nummer",
                "GROUP BY toewijzing_nummer, eenheid",
                &[gemeente.to_string(), aanbieder.to_string()],
                &nrs,
                true,
                Plan::EachTime,
            )
            .await?
        {
            sommen.push(rows::som(&r)?);
        }
        let mut earlier: Vec<EarlierPrestatie> = by_id.into_values().collect();
        earlier.sort_by_key(|p| p.id);

        let contracts = sqlx::query(
            "SELECT aanbieder, gemeente, product_categorie, product_code, eenheid, tarief, ingangsdatum, einddatum \
             FROM contracts WHERE aanbieder = $1 AND gemeente = $2",
        )
        .bind(aanbieder.to_string())
        .bind(gemeente.to_string())
        .fetch_all(&mut *self.tx)
        .await?
        .iter()
        .map(rows::contract)
        .collect::<Result<Vec<_>>>()?;

        let product_codes = sqlx::query_as::<_, (String, String)>(
            "SELECT product_categorie, product_code FROM product_codes",
        )
        .fetch_all(&mut *self.tx)
        .await?
        .into_iter()
        .filter_map(|(c, p)| {
            Some((
                crate::domain::ProductCategorie::parse(&c).ok()?,
                crate::message::ProductCode::parse(&p).ok()?,
            ))
        })
        .collect();

        let (starts, stops) = self.starts_stops(&gemeente, &bsns).await?;
        Ok(DeclaratieSnapshot {
            declaratie_nummer_gebruikt: used.is_some(),
            laatste_declaratie_periode,
            toewijzingen,
            earlier,
            contracts,
            product_codes,
            starts,
            stops,
            policy: self.start_policy(&gemeente).await?,
            sommen: Some(sommen),
            held: Vec::new(),
        })
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
