//! Answers as files: `iwmo process --out DIR` writes each answer right after its decision is
//! committed; `iwmo answers write [--out DIR]` writes those still waiting in the outbox (an
//! earlier write failed, or `process` ran without `--out`). An answer is marked delivered
//! (channel `file`) only once its file is in place; until then it waits in the outbox.

use std::path::Path;
use std::time::Duration;

use crate::fsread::os_reason;
use crate::pipeline::Outcome;
use crate::store::{Pending, Store, StoreError};

/// Exit code when a decision was stored but its answer could not be written.
pub const EXIT_UNWRITTEN: i32 = 4;

/// What happened to one answer: the path written, or why not (in Dutch).
pub type Written = (String, Result<String, String>);

/// Makes sure `dir` can take answers: creates it when missing; refuses a path that is not a
/// directory. Checked before anything is decided.
pub fn usable_dir(dir: &Path) -> Result<(), String> {
    if dir.exists() && !dir.is_dir() {
        return Err(format!("{} is geen map", dir.display()));
    }
    std::fs::create_dir_all(dir)
        .map_err(|e| format!("kan map {} niet maken: {}", dir.display(), os_reason(&e)))
}

/// Writes one answer as `DIR/<kind>-<Identificatie>.xml` (through a temporary name, so a
/// reader never sees half a file); returns its path.
fn write_file(dir: &Path, p: &Pending) -> Result<String, String> {
    let path = dir.join(format!("{}-{}.xml", p.answer_kind, p.identificatie));
    let tmp = dir.join(format!(".{}-{}.xml.tmp", p.answer_kind, p.identificatie));
    std::fs::write(&tmp, &p.xml)
        .and_then(|_| std::fs::rename(&tmp, &path))
        .map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            format!(
                "kan antwoord {} niet schrijven: {}",
                path.display(),
                os_reason(&e)
            )
        })?;
    Ok(path.display().to_string())
}

/// Writes a batch; what happened to each answer is added to `log`.
fn write_batch(dir: &Path, batch: &[Pending], log: &mut Vec<Written>) -> Vec<Result<(), String>> {
    batch
        .iter()
        .map(|p| {
            let r = write_file(dir, p);
            log.push((p.identificatie.clone(), r.clone()));
            r.map(|_| ())
        })
        .collect()
}

/// Writes the answers of a message just processed into `dir` (a 325 in parts: every part),
/// one result per answer in order. Empty: the message has no answer; an Err: the decision
/// stands, that answer waits in the outbox.
pub async fn deliver(
    store: &Store,
    dir: &Path,
    o: &Outcome,
) -> Result<Vec<Result<String, String>>, StoreError> {
    let pending: Vec<Pending> = o
        .answer_xml
        .iter()
        .chain(&o.more_answers)
        .map(|(kind, ident, xml)| Pending {
            message_id: o.message_id.unwrap_or_default(),
            answer_kind: kind.clone(),
            identificatie: ident.clone(),
            ontvanger: o.afzender.clone().unwrap_or_default(),
            xml: xml.clone(),
        })
        .collect();
    if pending.is_empty() {
        return Ok(Vec::new());
    }
    let mut log = Vec::new();
    store
        .publish_fresh(pending.clone(), "file", |batch| {
            std::future::ready(write_batch(dir, &batch, &mut log))
        })
        .await?;
    Ok(pending
        .iter()
        .map(
            |p| match log.iter().find(|(id, _)| *id == p.identificatie) {
                Some((_, r)) => r.clone(),
                // Not waiting in the outbox (another worker delivered it already): the file all
                // the same.
                None => write_file(dir, p),
            },
        )
        .collect())
}

/// `iwmo answers write [--out DIR]`: every answer waiting in the outbox, oldest first, one
/// path per line on stdout. Exit 0, or 4 when some could not be written (named on stderr).
pub async fn write(store: &Store, dir: &Path) -> i32 {
    let mut written = 0usize;
    let mut failed = 0usize;
    loop {
        let mut log = Vec::new();
        let r = store
            .relay_outbox(256, Duration::ZERO, "file", |batch| {
                std::future::ready(write_batch(dir, &batch, &mut log))
            })
            .await;
        for (_, w) in &log {
            match w {
                Ok(path) => {
                    println!("{path}");
                    written += 1;
                }
                Err(reason) => {
                    eprintln!("iwmo answers write: {reason}");
                    failed += 1;
                }
            }
        }
        match r {
            Ok((_, true)) => continue,
            Ok((_, false)) => break,
            Err(e) => {
                eprintln!("iwmo answers write: database niet bruikbaar: {e}");
                return crate::app::db::EXIT_DATABASE;
            }
        }
    }
    eprintln!(
        "iwmo answers write: {written} antwoord(en) geschreven naar {}{}",
        dir.display(),
        if failed > 0 {
            format!("; {failed} niet (ze blijven wachten)")
        } else {
            String::new()
        }
    );
    if failed > 0 {
        EXIT_UNWRITTEN
    } else {
        0
    }
}
