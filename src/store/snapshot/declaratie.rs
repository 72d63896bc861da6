//! The snapshot of a 323: what the level-3 declaration rules need about its aanbieder, its
//! toewijzingen and its clients. A declaration may hold tens of thousands of lines, so every
//! read is set-based over the message's keys, never one query per line: each key set travels
//! as one parameter (a JSON array, see [`in_keys`]), so each read is one statement whatever the
//! size of the declaration, kept prepared, and planned without looking at the keys (it is an
//! index lookup per key on either backend).

use std::collections::{BTreeSet, HashMap, HashSet};

use sqlx::any::AnyRow;
use sqlx::AssertSqlSafe;

use super::super::rows::{self, Cols, PRESTATIE_COLS, START_COLS, TOEWIJZING_COLS};
use super::STOP_COLS_ORDERED;
use crate::domain::{AgbCode, Gemeentecode, Periode, ToewijzingNummer};
use crate::message::Wmo323;
use crate::rules::state::*;
use crate::store::{Backend, Result, StoreError, Tx};

/// `{col}` is one of the keys in the JSON array bound at placeholder `ph` (numbers when `int`,
/// else strings). SQLite reads the array with `json_each`; PostgreSQL unpacks it into an array
/// first (an InitPlan), so the lookup is an index scan on `= ANY(…)` like one over a literal list.
fn in_keys(backend: Backend, col: &str, ph: &str, int: bool) -> String {
    match (backend, int) {
        (Backend::Sqlite, _) => format!("{col} IN (SELECT value FROM json_each({ph}))"),
        (Backend::Postgres, true) => format!(
            "{col} = ANY (ARRAY(SELECT CAST(jsonb_array_elements_text(CAST({ph} AS jsonb)) AS BIGINT)))"
        ),
        (Backend::Postgres, false) => format!(
            "{col} = ANY (ARRAY(SELECT jsonb_array_elements_text(CAST({ph} AS jsonb))))"
        ),
    }
}

/// Placeholder `n` (1-based) on this backend.
fn ph(backend: Backend, n: usize) -> String {
    match backend {
        Backend::Sqlite => format!("?{n}"),
        Backend::Postgres => format!("${n}"),
    }
}

/// The rows of `inner` (which selects `cols`) as one JSON array of arrays, in one row: a
/// declaration's snapshot reads tens of thousands of rows, and each row sent on its own costs
/// far more in the driver than the database's work for it.
fn json_rows(backend: Backend, cols: &str, inner: &str) -> String {
    match backend {
        Backend::Sqlite => {
            format!("SELECT json_group_array(json_array({cols})) FROM ({inner}) AS r")
        }
        Backend::Postgres => format!(
            "SELECT COALESCE(CAST(json_agg(json_build_array({cols})) AS TEXT), '[]') FROM ({inner}) AS r"
        ),
    }
}

/// One row of [`json_rows`], its values in the order of `names`.
struct JsonRow<'a> {
    names: &'a [&'a str],
    values: Vec<serde_json::Value>,
}

impl JsonRow<'_> {
    fn get(&self, col: &str) -> Result<&serde_json::Value> {
        self.names
            .iter()
            .position(|n| *n == col)
            .and_then(|i| self.values.get(i))
            .ok_or_else(|| StoreError::Corrupt(format!("kolom {col} ontbreekt")))
    }
}

fn wrong_type(col: &str) -> StoreError {
    StoreError::Corrupt(format!("kolom {col}: onverwacht type"))
}

impl Cols for JsonRow<'_> {
    fn opt_text(&self, col: &str) -> Result<Option<String>> {
        match self.get(col)? {
            serde_json::Value::Null => Ok(None),
            serde_json::Value::String(s) => Ok(Some(s.clone())),
            _ => Err(wrong_type(col)),
        }
    }
    fn text(&self, col: &str) -> Result<String> {
        self.opt_text(col)?.ok_or_else(|| wrong_type(col))
    }
    fn opt_int(&self, col: &str) -> Result<Option<i64>> {
        match self.get(col)? {
            serde_json::Value::Null => Ok(None),
            serde_json::Value::Number(n) => n.as_i64().map(Some).ok_or_else(|| wrong_type(col)),
            _ => Err(wrong_type(col)),
        }
    }
    fn int(&self, col: &str) -> Result<i64> {
        self.opt_int(col)?.ok_or_else(|| wrong_type(col))
    }
}

/// The keys of a declaration that its snapshot is read by.
struct Keys {
    /// ToewijzingNummers, ReferentieNummers (and VorigReferentieNummers) and BSNs of its
    /// lines, each once, as JSON arrays (see [`in_keys`]).
    nummers: String,
    refs: String,
    bsns: String,
    /// (BSN, ToewijzingNummer) of each line: the starts and stops the hold check looks at.
    pairs: HashSet<(String, u32)>,
    /// First Begindatum and last Einddatum of its ProductPeriodes (YYYY-MM-DD).
    min_begin: String,
    max_end: String,
}

fn keys_of(m: &Wmo323) -> Keys {
    let mut nummers: BTreeSet<u32> = BTreeSet::new();
    let mut refs: BTreeSet<&str> = BTreeSet::new();
    let mut bsns: BTreeSet<String> = BTreeSet::new();
    let mut pairs: HashSet<(String, u32)> = HashSet::new();
    let (mut min_begin, mut max_end) = (None, None);
    for (c, p) in m.prestaties() {
        nummers.insert(p.toewijzing_nummer.get());
        refs.insert(&p.product_referentie.referentie_nummer);
        if let Some(v) = &p.product_referentie.vorig_referentie_nummer {
            refs.insert(v);
        }
        let bsn = c.bsn.expose().to_string();
        pairs.insert((bsn.clone(), p.toewijzing_nummer.get()));
        bsns.insert(bsn);
        let (b, e) = (p.product_periode.begindatum, p.product_periode.einddatum);
        min_begin = Some(min_begin.map_or(b, |x: chrono::NaiveDate| x.min(b)));
        max_end = Some(max_end.map_or(e, |x: chrono::NaiveDate| x.max(e)));
    }
    Keys {
        nummers: serde_json::to_string(&nummers).unwrap_or_default(),
        refs: serde_json::to_string(&refs).unwrap_or_default(),
        bsns: serde_json::to_string(&bsns).unwrap_or_default(),
        pairs,
        min_begin: min_begin.map(|d| rows::ymd(&d)).unwrap_or_default(),
        max_end: max_end.map(|d| rows::ymd(&d)).unwrap_or_default(),
    }
}

impl Tx {
    /// Snapshot for a 323 (see [`DeclaratieSnapshot`] for what is in it).
    pub async fn declaratie_snapshot(&mut self, m: &Wmo323) -> Result<DeclaratieSnapshot> {
        let aanbieder: AgbCode = m.header.afzender;
        let gemeente: Gemeentecode = m.header.ontvanger;
        let mut lap = Laps::new();
        let (used, laatste_declaratie_periode) = self
            .declaraties_of(&aanbieder, &gemeente, &m.declaratie.declaratie_nummer)
            .await?;
        let keys = keys_of(m);
        lap.lap("declaratie_ms");
        let toewijzingen = self.toewijzingen_of(&gemeente, &keys).await?;
        lap.lap("toewijzingen_ms");
        let earlier = self
            .earlier_prestaties(&aanbieder, &gemeente, &keys, &mut lap)
            .await?;
        let sommen = self.sommen(&aanbieder, &gemeente, &keys).await?;
        lap.lap("sommen_ms");
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
        lap.lap("contracts_ms");
        let (starts, stops) = self.starts_stops_on(&gemeente, &keys).await?;
        let policy = self.start_policy(&gemeente).await?;
        lap.lap("starts_ms");
        lap.log("declaratie-snapshot", earlier.len());
        Ok(DeclaratieSnapshot {
            declaratie_nummer_gebruikt: used,
            laatste_declaratie_periode,
            toewijzingen,
            earlier,
            contracts,
            product_codes,
            starts,
            stops,
            policy,
            sommen: Some(sommen),
            held: Vec::new(),
        })
    }

    /// Runs `sql` (placeholders numbered 1, 2, … in the order of `params`, see [`ph`]).
    async fn rows_of(&mut self, sql: String, params: &[&str]) -> Result<Vec<AnyRow>> {
        let mut q = sqlx::query(AssertSqlSafe(sql));
        for p in params {
            q = q.bind(p.to_string());
        }
        Ok(q.fetch_all(&mut *self.tx).await?)
    }

    /// Runs [`json_rows`]`(cols, inner)` and decodes each row with `decode`.
    async fn json_rows_of<T>(
        &mut self,
        cols: &str,
        inner: String,
        params: &[&str],
        decode: impl Fn(&JsonRow) -> Result<T>,
    ) -> Result<Vec<T>> {
        let mut q =
            sqlx::query_as::<_, (String,)>(AssertSqlSafe(json_rows(self.backend, cols, &inner)));
        for p in params {
            q = q.bind(p.to_string());
        }
        let (json,) = q.fetch_one(&mut *self.tx).await?;
        let rows: Vec<Vec<serde_json::Value>> = serde_json::from_str(&json)
            .map_err(|_| StoreError::Corrupt("snapshotregels niet leesbaar".into()))?;
        let names: Vec<&str> = cols.split(',').map(str::trim).collect();
        rows.into_iter()
            .map(|values| {
                decode(&JsonRow {
                    names: &names,
                    values,
                })
            })
            .collect()
    }

    /// Whether the DeclaratieNummer was used before by this aanbieder, and the latest
    /// DeclaratiePeriode it declared at this gemeente.
    async fn declaraties_of(
        &mut self,
        aanbieder: &AgbCode,
        gemeente: &Gemeentecode,
        declaratie_nummer: &str,
    ) -> Result<(bool, Option<Periode>)> {
        let used: Option<(i64,)> = sqlx::query_as(
            "SELECT id FROM declaraties WHERE aanbieder = $1 AND declaratie_nummer = $2",
        )
        .bind(aanbieder.to_string())
        .bind(declaratie_nummer.to_string())
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
        let last = match last {
            Some((b, e)) => Some(Periode {
                begindatum: rows::date(&b)?,
                einddatum: rows::date(&e)?,
            }),
            None => None,
        };
        Ok((used.is_some(), last))
    }

    /// The toewijzingen the message's lines are on (this gemeente), by number.
    async fn toewijzingen_of(
        &mut self,
        gemeente: &Gemeentecode,
        keys: &Keys,
    ) -> Result<Vec<Toewijzing>> {
        let b = self.backend;
        let inner = format!(
            "SELECT {TOEWIJZING_COLS} FROM toewijzingen WHERE gemeente = {} AND {}",
            ph(b, 1),
            in_keys(b, "toewijzing_nummer", &ph(b, 2), true)
        );
        let mut v = self
            .json_rows_of(
                TOEWIJZING_COLS,
                inner,
                &[&gemeente.to_string(), &keys.nummers],
                |r| rows::toewijzing(r),
            )
            .await?;
        v.sort_by_key(|t| t.toewijzing_nummer.get());
        Ok(v)
    }

    /// Earlier lines: by reference (this aanbieder), and those whose ProductPeriode overlaps
    /// the message's periods on its toewijzingen (TR389) and of its clients (double-declaration
    /// signals); in id order.
    async fn earlier_prestaties(
        &mut self,
        aanbieder: &AgbCode,
        gemeente: &Gemeentecode,
        keys: &Keys,
        lap: &mut Laps,
    ) -> Result<Vec<EarlierPrestatie>> {
        let b = self.backend;
        let (p1, p2, p3, p4) = (ph(b, 1), ph(b, 2), ph(b, 3), ph(b, 4));
        let by_ref = format!(
            "SELECT {PRESTATIE_COLS} FROM prestaties WHERE aanbieder = {p1} AND {}",
            in_keys(b, "referentie_nummer", &p2, false)
        );
        let by_ref = self
            .rows_of(by_ref, &[&aanbieder.to_string(), &keys.refs])
            .await?;
        lap.lap("by_referentie_ms");
        let overlap = format!(
            "SELECT {PRESTATIE_COLS} FROM prestaties WHERE gemeente = {p1} AND periode_eind >= {p2} AND periode_begin <= {p3}"
        );
        let g = gemeente.to_string();
        let by_nr = format!(
            "{overlap} AND {}",
            in_keys(b, "toewijzing_nummer", &p4, true)
        );
        let by_nr = self
            .rows_of(by_nr, &[&g, &keys.min_begin, &keys.max_end, &keys.nummers])
            .await?;
        lap.lap("by_toewijzing_ms");
        let by_bsn = format!(
            "{overlap} AND approved = 1 AND debet_credit = 'D' AND gecrediteerd_door IS NULL AND {}",
            in_keys(b, "bsn", &p4, false)
        );
        let by_bsn = self
            .rows_of(by_bsn, &[&g, &keys.min_begin, &keys.max_end, &keys.bsns])
            .await?;
        lap.lap("by_bsn_ms");
        let mut by_id: HashMap<i64, EarlierPrestatie> = HashMap::new();
        for r in by_ref.iter().chain(&by_nr).chain(&by_bsn) {
            let p = rows::prestatie(r)?;
            by_id.insert(p.id, p);
        }
        let mut earlier: Vec<EarlierPrestatie> = by_id.into_values().collect();
        earlier.sort_by_key(|p| p.id);
        Ok(earlier)
    }

    /// Totals of this aanbieder's approved lines per toewijzing and Eenheid (TR322/TR369), by
    /// toewijzing and Eenheid.
    async fn sommen(
        &mut self,
        aanbieder: &AgbCode,
        gemeente: &Gemeentecode,
        keys: &Keys,
    ) -> Result<Vec<ToewijzingSom>> {
        let b = self.backend;
        let inner = format!(
            "SELECT toewijzing_nummer, eenheid, \
             CAST(SUM(CASE WHEN debet_credit = 'D' THEN geleverd_volume ELSE -geleverd_volume END) AS BIGINT) AS volume, \
             CAST(SUM(bedrag) AS BIGINT) AS bedrag FROM prestaties WHERE gemeente = {} AND aanbieder = {} AND approved = 1 \
             AND {} GROUP BY toewijzing_nummer, eenheid",
            ph(b, 1),
            ph(b, 2),
            in_keys(b, "toewijzing_nummer", &ph(b, 3), true)
        );
        let params = [&gemeente.to_string(), &aanbieder.to_string(), &keys.nummers];
        let params: Vec<&str> = params.iter().map(|s| s.as_str()).collect();
        let mut v = self
            .json_rows_of(
                "toewijzing_nummer, eenheid, volume, bedrag",
                inner,
                &params,
                |r| rows::som(r),
            )
            .await?;
        v.sort_by(|x, y| {
            (x.toewijzing_nummer.get(), x.eenheid.code())
                .cmp(&(y.toewijzing_nummer.get(), y.eenheid.code()))
        });
        Ok(v)
    }

    /// The starts and stops on the message's lines: those of one of its clients on a
    /// toewijzing that client's lines are on (the only ones the hold check looks at), found by
    /// toewijzing; in id order.
    async fn starts_stops_on(
        &mut self,
        gemeente: &Gemeentecode,
        keys: &Keys,
    ) -> Result<(Vec<StartRow>, Vec<StopRow>)> {
        let b = self.backend;
        let (g, nrs) = (ph(b, 1), in_keys(b, "toewijzing_nummer", &ph(b, 2), true));
        let params = [gemeente.to_string(), keys.nummers.clone()];
        let params: Vec<&str> = params.iter().map(|s| s.as_str()).collect();
        let ours = |bsn: &crate::domain::Bsn, nr: Option<ToewijzingNummer>| {
            nr.is_some_and(|n| keys.pairs.contains(&(bsn.expose().to_string(), n.get())))
        };
        let inner = format!("SELECT {START_COLS} FROM starts WHERE gemeente = {g} AND {nrs}");
        let mut starts: Vec<StartRow> = self
            .json_rows_of(START_COLS, inner, &params, |r| rows::start(r))
            .await?
            .into_iter()
            .filter(|s| ours(&s.bsn, s.toewijzing_nummer))
            .collect();
        let inner = format!("SELECT {STOP_COLS_ORDERED} FROM stops WHERE gemeente = {g} AND {nrs}");
        let mut stops: Vec<StopRow> = self
            .json_rows_of(STOP_COLS_ORDERED, inner, &params, |r| rows::stop(r))
            .await?
            .into_iter()
            .filter(|s| ours(&s.bsn, s.toewijzing_nummer))
            .collect();
        starts.sort_by_key(|r| r.id);
        stops.sort_by_key(|r| r.id);
        Ok((starts, stops))
    }
}

/// Timings of the parts of a snapshot, for the debug log.
pub(crate) struct Laps {
    last: std::time::Instant,
    laps: Vec<(&'static str, f64)>,
}

impl Laps {
    pub(crate) fn new() -> Laps {
        Laps {
            last: std::time::Instant::now(),
            laps: Vec::new(),
        }
    }

    /// Ends the step `name` (a log key ending in `_ms`) and starts the next.
    pub(crate) fn lap(&mut self, name: &'static str) {
        let now = std::time::Instant::now();
        self.laps
            .push((name, (now - self.last).as_secs_f64() * 1e3));
        self.last = now;
    }

    /// One debug line `what rows=… a_ms=… b_ms=…` (no personal data: counts and times only).
    pub(crate) fn log(&self, what: &str, rows: usize) {
        if tracing::enabled!(tracing::Level::DEBUG) {
            let laps: Vec<String> = self
                .laps
                .iter()
                .map(|(k, v)| format!("{k}={v:.1}"))
                .collect();
            tracing::debug!("{what} rows={rows} {}", laps.join(" "));
        }
    }
}
