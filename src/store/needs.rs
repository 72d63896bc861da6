//! Loads what the rooms say a message needs ([`Need`]) into its snapshot: the store answers
//! kinds of state, it does not know message kinds.

use std::collections::BTreeSet;

use sqlx::AssertSqlSafe;

use super::rows;
use super::{padded, shape, Ph, Result, Tx, CHUNK};
use crate::decide::{Need, Snapshot};
use crate::domain::{Bsn, Gemeentecode, Nummer, ToewijzingNummer};
use crate::rules::state::{OpenLine, StartPolicy, VerzoekSnapshot};

/// A start/stop request: gemeente, client, the ToewijzingNummers named.
type StartStopRequest = (Gemeentecode, Bsn, Vec<ToewijzingNummer>);

impl Tx {
    /// Snapshots for several messages at once (`None`: the message needs none). Start/stop
    /// needs are read together, a declaratie's on its own.
    pub async fn load(&mut self, needs: &[Option<Need<'_>>]) -> Result<Vec<Snapshot>> {
        let mut out: Vec<Snapshot> = (0..needs.len()).map(|_| Snapshot::Geen).collect();
        let mut startstop: Vec<(usize, StartStopRequest)> = Vec::new();
        for (i, n) in needs.iter().enumerate() {
            match n {
                None | Some(Need::Nothing) => {}
                Some(Need::StartStop {
                    gemeente,
                    bsn,
                    nummers,
                }) => startstop.push((i, (*gemeente, *bsn, nummers.clone()))),
                Some(Need::Verzoek {
                    gemeente,
                    aanbieder,
                    bsn,
                    nummers,
                    referenties,
                }) => {
                    let s = self
                        .verzoek_snapshot(gemeente, aanbieder, bsn, nummers, referenties)
                        .await?;
                    out[i] = Snapshot::Verzoek(s);
                }
                Some(Need::Declaratie(m)) => {
                    let mut s = self.declaratie_snapshot(m).await?;
                    s.held = self.held_by_reference(m).await?;
                    out[i] = Snapshot::Declaratie(s);
                }
            }
        }
        if startstop.is_empty() {
            return Ok(out);
        }
        let requests: Vec<_> = startstop.iter().map(|(_, r)| r.clone()).collect();
        let mut snaps = self.startstop_snapshots(&requests).await?;
        let clients: Vec<(Gemeentecode, Bsn)> = requests.iter().map(|(g, b, _)| (*g, *b)).collect();
        let lines = self.open_lines(&clients).await?;
        let mut policies: std::collections::HashMap<Gemeentecode, StartPolicy> = Default::default();
        for (((g, _, _), s), l) in requests.iter().zip(snaps.iter_mut()).zip(lines) {
            s.open_lines = l;
            s.policy = match policies.get(g) {
                Some(p) => *p,
                None => *policies.entry(*g).or_insert(self.start_policy(g).await?),
            };
        }
        for ((i, _), s) in startstop.into_iter().zip(snaps) {
            out[i] = Snapshot::StartStop(s);
        }
        Ok(out)
    }

    /// The client's current toewijzingen at this gemeente and those named, the aanbieder's
    /// earlier requests with the same ReferentieAanbieder (TR347) and its open requests for this
    /// client (TR374), and the product code list.
    async fn verzoek_snapshot(
        &mut self,
        gemeente: &Gemeentecode,
        aanbieder: &crate::domain::AgbCode,
        bsn: &Bsn,
        nummers: &[ToewijzingNummer],
        referenties: &[String],
    ) -> Result<VerzoekSnapshot> {
        let mut toewijzingen = self.toewijzingen(gemeente, nummers).await?;
        let of_client = sqlx::query(AssertSqlSafe(format!(
            "SELECT {} FROM toewijzingen WHERE gemeente = $1 AND bsn = $2",
            rows::TOEWIJZING_COLS
        )))
        .bind(gemeente.to_string())
        .bind(bsn.expose().to_string())
        .fetch_all(&mut *self.tx)
        .await?;
        for r in &of_client {
            let t = rows::toewijzing(r)?;
            if !toewijzingen
                .iter()
                .any(|x| x.toewijzing_nummer == t.toewijzing_nummer)
            {
                toewijzingen.push(t);
            }
        }
        toewijzingen.sort_by_key(|t| t.toewijzing_nummer.get());
        let earlier: Vec<(String, String, String, String)> = sqlx::query_as(
            "SELECT referenties, gemeente, bsn, status FROM verzoeken WHERE aanbieder = $1 ORDER BY id",
        )
        .bind(aanbieder.to_string())
        .fetch_all(&mut *self.tx)
        .await?;
        let split = |s: &str| s.split(',').map(str::to_string).collect::<Vec<_>>();
        let mut referenties_aanbieder: Vec<String> = earlier
            .iter()
            .flat_map(|(r, ..)| split(r))
            .filter(|r| referenties.contains(r))
            .collect();
        referenties_aanbieder.dedup();
        let (g, b) = (gemeente.to_string(), bsn.expose().to_string());
        let open_verzoeken = earlier
            .iter()
            .filter(|(_, eg, eb, st)| *eg == g && *eb == b && st == "open")
            .flat_map(|(r, ..)| split(r))
            .collect();
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
        Ok(VerzoekSnapshot {
            toewijzingen,
            referenties_aanbieder,
            open_verzoeken,
            product_codes,
        })
    }

    /// Per client: its approved, not credited debit Prestaties with the status of their hold,
    /// in id order (one query per chunk of clients).
    async fn open_lines(&mut self, clients: &[(Gemeentecode, Bsn)]) -> Result<Vec<Vec<OpenLine>>> {
        let keys: Vec<(String, String)> = clients
            .iter()
            .map(|(g, b)| (g.to_string(), b.expose().to_string()))
            .collect();
        let mut found: Vec<(String, String, OpenLine)> = Vec::new();
        for chunk in keys.chunks(CHUNK / 2) {
            let sql = format!(
                "SELECT p.id, p.gemeente, p.bsn, p.toewijzing_nummer, p.periode_begin, p.periode_eind, h.status \
                 FROM prestaties p LEFT JOIN holds h ON h.prestatie_id = p.id \
                 WHERE p.approved = 1 AND p.debet_credit = 'D' AND p.gecrediteerd_door IS NULL \
                 AND (p.gemeente, p.bsn) IN (VALUES {}) ORDER BY p.id",
                Ph::new(self.backend).rows(shape(chunk.len()), 2)
            );
            let mut q = sqlx::query_as::<
                _,
                (i64, String, String, i64, String, String, Option<String>),
            >(AssertSqlSafe(sql));
            for (g, b) in padded(chunk) {
                q = q.bind(g.clone()).bind(b.clone());
            }
            for (id, g, b, nr, begin, eind, status) in q.fetch_all(&mut *self.tx).await? {
                let nr = u64::try_from(nr)
                    .ok()
                    .and_then(|n| Nummer::new(n).ok())
                    .ok_or_else(|| {
                        super::StoreError::Corrupt(format!("ToewijzingNummer van Prestatie {id}"))
                    })?;
                let periode = crate::domain::Periode {
                    begindatum: rows::date(&begin)?,
                    einddatum: rows::date(&eind)?,
                };
                found.push((
                    g,
                    b,
                    OpenLine {
                        prestatie_id: id,
                        toewijzing_nummer: nr,
                        periode,
                        hold: status,
                    },
                ));
            }
        }
        let mut seen = BTreeSet::new();
        Ok(keys
            .iter()
            .map(|k| {
                if !seen.insert(k.clone()) {
                    return Vec::new();
                }
                found
                    .iter()
                    .filter(|(g, b, _)| *g == k.0 && *b == k.1)
                    .map(|(_, _, l)| l.clone())
                    .collect()
            })
            .collect())
    }

    /// Ids of this aanbieder's Prestaties named by the message's VorigReferentieNummers whose
    /// payment is held.
    async fn held_by_reference(&mut self, m: &crate::message::Wmo323) -> Result<Vec<i64>> {
        let refs: BTreeSet<&str> = m
            .declaratie
            .clienten
            .iter()
            .flat_map(|c| &c.prestaties)
            .filter_map(|p| p.product_referentie.vorig_referentie_nummer.as_deref())
            .collect();
        let mut out = Vec::new();
        let refs: Vec<&str> = refs.into_iter().collect();
        for chunk in refs.chunks(CHUNK) {
            let mut ph = Ph::new(self.backend);
            let a = ph.next();
            let sql = format!(
                "SELECT h.prestatie_id FROM holds h JOIN prestaties p ON p.id = h.prestatie_id \
                 WHERE h.status = 'held' AND p.aanbieder = {a} AND p.referentie_nummer IN ({}) ORDER BY 1",
                ph.list(shape(chunk.len()))
            );
            let mut q = sqlx::query_scalar::<_, i64>(AssertSqlSafe(sql))
                .bind(m.header.afzender.to_string());
            for r in padded(chunk) {
                q = q.bind(r.to_string());
            }
            out.extend(q.fetch_all(&mut *self.tx).await?);
        }
        out.sort();
        out.dedup();
        Ok(out)
    }
}

/// The policy never defaults to paying: an unknown value in the table is an error.
pub(super) fn policy_of(stored: Option<&str>) -> Result<StartPolicy> {
    match stored {
        None => Ok(StartPolicy::default()),
        Some(p) => StartPolicy::parse(p)
            .ok_or_else(|| super::StoreError::Corrupt(format!("onbekend beleid '{p}'"))),
    }
}
