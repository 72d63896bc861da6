//! Read models and small writes for the tools around the worker: inbox lookups, stored
//! decisions (replay), holds, signals, contracts, policies.

use serde::Serialize;

use super::rows::ymd;
use super::{get_i64, get_opt_str, get_str, Result, Store};
use crate::rules::state::{Contract, StartPolicy};

#[derive(Debug, Clone)]
pub struct StoredDecision {
    pub message_id: i64,
    pub outcome: String,
    pub codes: Vec<String>,
    pub today: String,
    pub ruleset: String,
    pub findings_json: String,
    pub snapshot_json: String,
    /// What the decision changed (None for decisions stored before migration 0007).
    pub changes_json: Option<String>,
    pub answer_kind: Option<String>,
    pub answer_identificatie: Option<String>,
    pub answer_xml: Option<String>,
    /// Further parts of an answer written in parts (kind, Identificatie, xml); usually none.
    pub more_answers: Vec<(String, String, String)>,
}

/// A request (315/317) as listed.
#[derive(Debug, Clone, Serialize)]
pub struct VerzoekRow {
    pub soort: String,
    pub status: String,
    pub gemeente: String,
    pub aanbieder: String,
    /// Masked unless asked for.
    pub client: String,
    pub referenties: String,
    pub toewijzingen: String,
    pub ontvangen: String,
    pub uiterlijk: String,
}

/// A toewijzing refused by the aanbieder (WMO302), as listed.
#[derive(Debug, Clone, Serialize)]
pub struct WeigeringRow {
    pub gemeente: String,
    pub toewijzing_nummer: i64,
    pub aanbieder: String,
    pub codes: String,
    /// Identificatie of the 302 it came in.
    pub identificatie: String,
    pub ontvangen: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct HoldRow {
    pub hold_id: i64,
    pub status: String,
    pub gemeente: String,
    pub aanbieder: String,
    pub declaratie_nummer: String,
    pub referentie_nummer: String,
    /// Masked unless asked for (`--toon-bsn`).
    pub client: String,
    pub toewijzing_nummer: i64,
    pub periode_begin: String,
    pub periode_eind: String,
    /// Signed cents.
    pub bedrag: i64,
    pub reden: String,
    pub sinds: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct SignalRow {
    pub signal_id: i64,
    pub soort: String,
    pub gemeente: String,
    pub aanbieder: String,
    pub referentie_nummer: String,
    pub andere_referentie: Option<String>,
    pub client: String,
    pub toewijzing_nummer: i64,
    pub periode_begin: String,
    pub periode_eind: String,
    pub bedrag: i64,
    pub tekst: String,
    pub sinds: String,
}

fn mask(bsn: &str, show: bool) -> String {
    if show || bsn.len() < 3 {
        bsn.to_string()
    } else {
        format!("******{}", &bsn[bsn.len() - 3..])
    }
}

impl Store {
    /// Open requests (or all, with `all`), oldest deadline first.
    pub async fn verzoeken(&self, all: bool, show_bsn: bool) -> Result<Vec<VerzoekRow>> {
        let rows = sqlx::query(
            "SELECT soort, status, gemeente, aanbieder, bsn, referenties, toewijzingen, ontvangen, uiterlijk FROM verzoeken \
             WHERE ($1 = 1 OR status = 'open') ORDER BY uiterlijk, id",
        )
        .bind(i64::from(all))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(VerzoekRow {
                    soort: get_str(r, "soort")?,
                    status: get_str(r, "status")?,
                    gemeente: get_str(r, "gemeente")?,
                    aanbieder: get_str(r, "aanbieder")?,
                    client: mask(&get_str(r, "bsn")?, show_bsn),
                    referenties: get_str(r, "referenties")?,
                    toewijzingen: get_str(r, "toewijzingen")?,
                    ontvangen: get_str(r, "ontvangen")?,
                    uiterlijk: get_str(r, "uiterlijk")?,
                })
            })
            .collect()
    }

    /// Toewijzingen refused by the aanbieder, newest first.
    pub async fn weigeringen(&self) -> Result<Vec<WeigeringRow>> {
        let rows = sqlx::query(
            "SELECT w.gemeente, w.toewijzing_nummer, COALESCE(m.afzender, '') AS aanbieder, w.codes, \
             COALESCE(m.identificatie, '') AS identificatie, w.created_at FROM toewijzing_weigeringen w \
             JOIN messages m ON m.id = w.message_id ORDER BY w.id DESC",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(WeigeringRow {
                    gemeente: get_str(r, "gemeente")?,
                    toewijzing_nummer: get_i64(r, "toewijzing_nummer")?,
                    aanbieder: get_str(r, "aanbieder")?,
                    codes: get_str(r, "codes")?,
                    identificatie: get_str(r, "identificatie")?,
                    ontvangen: get_str(r, "created_at")?,
                })
            })
            .collect()
    }

    /// The first message with this (Afzender, kind, Identificatie): (message id, payload hash).
    pub async fn inbox_key(
        &self,
        afzender: &str,
        kind: &str,
        identificatie: &str,
    ) -> Result<Option<(i64, String)>> {
        Ok(sqlx::query_as(
            "SELECT message_id, payload_sha256 FROM inbox_keys WHERE afzender = $1 AND kind = $2 AND identificatie = $3",
        )
        .bind(afzender.to_string())
        .bind(kind.to_string())
        .bind(identificatie.to_string())
        .fetch_optional(&self.pool)
        .await?)
    }

    /// An earlier message with exactly these bytes that was refused at intake or level 1.
    pub async fn invalid_by_hash(&self, sha: &str) -> Result<Option<(i64, Option<String>)>> {
        Ok(sqlx::query_as(
            "SELECT id, error FROM messages WHERE payload_sha256 = $1 AND outcome = 'invalid' ORDER BY id LIMIT 1",
        )
        .bind(sha.to_string())
        .fetch_optional(&self.pool)
        .await?)
    }

    pub async fn decision(&self, message_id: i64) -> Result<Option<StoredDecision>> {
        let row = sqlx::query(
            "SELECT d.message_id, d.outcome, d.codes, d.today, d.ruleset, d.findings_json, d.snapshot_json, \
             d.changes_json, d.answer_kind, d.answer_identificatie, COALESCE(o.xml, d.answer_xml) AS answer_xml FROM decisions d \
             LEFT JOIN outbox o ON o.identificatie = d.answer_identificatie WHERE d.message_id = $1",
        )
        .bind(message_id)
        .fetch_optional(&self.pool)
        .await?;
        let Some(r) = row else { return Ok(None) };
        let codes = get_str(&r, "codes")?;
        let answer_kind = get_opt_str(&r, "answer_kind")?;
        let answer_identificatie = get_opt_str(&r, "answer_identificatie")?;
        // Only a 325 is ever written in parts (retour::parts).
        let more_answers = match (&answer_kind, &answer_identificatie) {
            (Some(k), Some(first)) if k == "WMO325" => self.further_answers(first).await?,
            _ => Vec::new(),
        };
        Ok(Some(StoredDecision {
            message_id: get_i64(&r, "message_id")?,
            outcome: get_str(&r, "outcome")?,
            codes: codes
                .split(',')
                .filter(|c| !c.is_empty())
                .map(str::to_string)
                .collect(),
            today: get_str(&r, "today")?,
            ruleset: get_str(&r, "ruleset")?,
            findings_json: get_str(&r, "findings_json")?,
            snapshot_json: get_str(&r, "snapshot_json")?,
            changes_json: get_opt_str(&r, "changes_json")?,
            answer_kind,
            answer_identificatie,
            answer_xml: get_opt_str(&r, "answer_xml")?,
            more_answers,
        }))
    }

    /// Ids of messages that have a decision, from `after` on (exclusive), at most `limit`.
    pub async fn decided_message_ids(&self, after: i64, limit: i64) -> Result<Vec<i64>> {
        Ok(sqlx::query_scalar(
            "SELECT message_id FROM decisions WHERE message_id > $1 ORDER BY message_id LIMIT $2",
        )
        .bind(after)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?)
    }

    /// (kind, source, raw) of a stored message.
    pub async fn message_raw(&self, id: i64) -> Result<Option<(String, String, Vec<u8>)>> {
        let row = sqlx::query("SELECT kind, source, raw FROM messages WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        let Some(r) = row else { return Ok(None) };
        use sqlx::Row;
        Ok(Some((
            get_opt_str(&r, "kind")?.unwrap_or_default(),
            get_str(&r, "source")?,
            r.try_get::<Vec<u8>, _>("raw")?,
        )))
    }

    /// Messages with this Identificatie that have a decision: (message id, kind, afzender, raw, source).
    pub async fn messages_by_identificatie(
        &self,
        identificatie: &str,
    ) -> Result<Vec<(i64, String, String, Vec<u8>, String)>> {
        let rows = sqlx::query(
            "SELECT m.id, m.kind, m.afzender, m.raw, m.source FROM messages m JOIN decisions d ON d.message_id = m.id \
             WHERE m.identificatie = $1 ORDER BY m.id",
        )
        .bind(identificatie.to_string())
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                use sqlx::Row;
                Ok((
                    get_i64(r, "id")?,
                    get_opt_str(r, "kind")?.unwrap_or_default(),
                    get_opt_str(r, "afzender")?.unwrap_or_default(),
                    r.try_get::<Vec<u8>, _>("raw")?,
                    get_str(r, "source")?,
                ))
            })
            .collect()
    }

    /// Held Prestaties (status `held`), or all hold rows with `all`.
    pub async fn holds(&self, all: bool, show_bsn: bool) -> Result<Vec<HoldRow>> {
        let rows = sqlx::query(
            "SELECT h.id AS hold_id, h.status, h.reden, h.changed_at, p.gemeente, p.aanbieder, d.declaratie_nummer, \
             p.referentie_nummer, p.bsn, p.toewijzing_nummer, p.periode_begin, p.periode_eind, p.bedrag \
             FROM holds h JOIN prestaties p ON p.id = h.prestatie_id JOIN declaraties d ON d.id = p.declaratie_id \
             WHERE ($1 = 1 OR h.status = 'held') ORDER BY p.aanbieder, p.periode_begin, p.referentie_nummer",
        )
        .bind(i64::from(all))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(HoldRow {
                    hold_id: get_i64(r, "hold_id")?,
                    status: get_str(r, "status")?,
                    gemeente: get_str(r, "gemeente")?,
                    aanbieder: get_str(r, "aanbieder")?,
                    declaratie_nummer: get_str(r, "declaratie_nummer")?,
                    referentie_nummer: get_str(r, "referentie_nummer")?,
                    client: mask(&get_str(r, "bsn")?, show_bsn),
                    toewijzing_nummer: get_i64(r, "toewijzing_nummer")?,
                    periode_begin: get_str(r, "periode_begin")?,
                    periode_eind: get_str(r, "periode_eind")?,
                    bedrag: get_i64(r, "bedrag")?,
                    reden: get_str(r, "reden")?,
                    sinds: get_str(r, "changed_at")?,
                })
            })
            .collect()
    }

    pub async fn signals(&self, show_bsn: bool) -> Result<Vec<SignalRow>> {
        let rows = sqlx::query(
            "SELECT s.id AS signal_id, s.soort, s.andere_referentie, s.tekst, s.created_at, p.gemeente, p.aanbieder, \
             p.referentie_nummer, p.bsn, p.toewijzing_nummer, p.periode_begin, p.periode_eind, p.bedrag \
             FROM signals s JOIN prestaties p ON p.id = s.prestatie_id ORDER BY s.id",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(SignalRow {
                    signal_id: get_i64(r, "signal_id")?,
                    soort: get_str(r, "soort")?,
                    gemeente: get_str(r, "gemeente")?,
                    aanbieder: get_str(r, "aanbieder")?,
                    referentie_nummer: get_str(r, "referentie_nummer")?,
                    andere_referentie: get_opt_str(r, "andere_referentie")?,
                    client: mask(&get_str(r, "bsn")?, show_bsn),
                    toewijzing_nummer: get_i64(r, "toewijzing_nummer")?,
                    periode_begin: get_str(r, "periode_begin")?,
                    periode_eind: get_str(r, "periode_eind")?,
                    bedrag: get_i64(r, "bedrag")?,
                    tekst: get_str(r, "tekst")?,
                    sinds: get_str(r, "created_at")?,
                })
            })
            .collect()
    }

    /// Adds or updates contract tariffs (key: aanbieder, gemeente, product, eenheid, ingangsdatum).
    pub async fn import_contracts(&self, source: &str, contracts: &[Contract]) -> Result<usize> {
        let mut tx = self.begin_write().await?;
        let ts = chrono::Utc::now().to_rfc3339();
        for c in contracts {
            sqlx::query(
                "INSERT INTO contracts (aanbieder, gemeente, product_categorie, product_code, eenheid, tarief, ingangsdatum, \
                 einddatum, imported_at, source) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10) \
                 ON CONFLICT (aanbieder, gemeente, product_categorie, product_code, eenheid, ingangsdatum) \
                 DO UPDATE SET tarief = excluded.tarief, einddatum = excluded.einddatum, imported_at = excluded.imported_at, \
                 source = excluded.source",
            )
            .bind(c.aanbieder.to_string())
            .bind(c.gemeente.to_string())
            .bind(c.product_categorie.code().to_string())
            .bind(c.product_code.to_string())
            .bind(c.eenheid.code().to_string())
            .bind(c.tarief.min(i64::MAX as u64) as i64)
            .bind(ymd(&c.ingangsdatum))
            .bind(c.einddatum.map(|d| ymd(&d)))
            .bind(ts.clone())
            .bind(source.to_string())
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(contracts.len())
    }

    pub async fn import_product_codes(&self, codes: &[(String, String)]) -> Result<usize> {
        let mut tx = self.begin_write().await?;
        for (c, p) in codes {
            sqlx::query(
                "INSERT INTO product_codes (product_categorie, product_code) VALUES ($1,$2) ON CONFLICT DO NOTHING",
            )
            .bind(c.clone())
            .bind(p.clone())
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(codes.len())
    }

    pub async fn set_start_policy(&self, gemeente: &str, policy: StartPolicy) -> Result<()> {
        sqlx::query(
            "INSERT INTO policies (gemeente, start_policy, changed_at) VALUES ($1,$2,$3) \
             ON CONFLICT (gemeente) DO UPDATE SET start_policy = excluded.start_policy, changed_at = excluded.changed_at",
        )
        .bind(gemeente.to_string())
        .bind(policy.as_str().to_string())
        .bind(chrono::Utc::now().to_rfc3339())
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}
