//! The file transport (embedded default): complete files in `inbox/` (see [`scan`]) are claimed
//! by renaming them into `inbox/.processing/`, read within the size cap, processed, and moved to
//! `done/`, or to `failed/` with a reason file of their own (see [`aside`], [`take`]). Anything
//! that is not a message (links, FIFOs, directories, other names) is set aside to `failed/` too,
//! and logged once. Answers are written to `outbox/` by the relay. A file goes back to `inbox/`
//! only when the database is out.

mod aside;
mod scan;
mod take;

use std::collections::HashSet;
use std::ffi::OsString;
use std::path::Path;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use super::Worker;
use scan::{Entry, Scanner, PROCESSING};
use take::{take, Next};

fn write_atomic(path: &Path, data: &str) -> std::io::Result<()> {
    let tmp = path.with_extension("xml.tmp");
    std::fs::write(&tmp, data)?;
    std::fs::rename(&tmp, path)
}

/// Writes pending answers to the outbox directory and seals the hash chain.
async fn relay(w: &Worker) {
    let dir = w.config.outbox_dir.clone();
    let r = w
        .store
        .relay_outbox(500, std::time::Duration::ZERO, "file", |batch| {
            let res: Vec<Result<(), String>> = batch
                .iter()
                .map(|p| {
                    let path = dir.join(format!("{}-{}.xml", p.answer_kind, p.identificatie));
                    write_atomic(&path, &p.xml).map_err(|e| e.to_string())
                })
                .collect();
            async move { res }
        })
        .await;
    match r {
        Ok((n, _)) => {
            w.metrics.published.fetch_add(n as u64, Ordering::Relaxed);
        }
        Err(e) => tracing::warn!(error = %e, "outbox-relay mislukt"),
    }
    w.housekeeping().await;
}

pub async fn run(w: Arc<Worker>, mut stop: tokio::sync::watch::Receiver<bool>) -> i32 {
    let c = &w.config;
    if !prepare_dirs(&w) {
        return 3;
    }
    let settle = Duration::from_millis(c.file_settle_millis);
    let mut scanner = Scanner::default();
    let mut reported: HashSet<OsString> = HashSet::new();
    w.consuming.store(true, Ordering::Relaxed);
    loop {
        if *stop.borrow() {
            break;
        }
        relay(&w).await;
        let entries = match scanner.scan(&c.inbox_dir, settle) {
            Ok(e) => e,
            Err(e) => {
                tracing::error!(error = %crate::fsread::os_reason(&e), "inbox niet leesbaar");
                Vec::new()
            }
        };
        reported.retain(|n| {
            entries
                .iter()
                .any(|e| matches!(e, Entry::Aside { name, .. } if name == n))
        });
        for entry in entries {
            if *stop.borrow() {
                break;
            }
            match entry {
                Entry::Take(name) => {
                    if take(&w, &name).await == Next::Pause {
                        w.consuming.store(false, Ordering::Relaxed);
                        w.wait_for_db(&stop).await;
                        w.consuming.store(true, Ordering::Relaxed);
                        break;
                    }
                }
                Entry::Aside { name, kind, reason } => {
                    set_aside(&w, &mut reported, name, kind, &reason)
                }
            }
        }
        relay(&w).await;
        tokio::select! {
            _ = stop.changed() => {}
            _ = tokio::time::sleep(Duration::from_millis(w.config.poll_millis)) => {}
        }
    }
    w.consuming.store(false, Ordering::Relaxed);
    relay(&w).await;
    0
}

/// Creates the directories; files left in `.processing/` by a crash go back to the inbox
/// (processing is idempotent).
fn prepare_dirs(w: &Worker) -> bool {
    let c = &w.config;
    let processing = c.inbox_dir.join(PROCESSING);
    for d in [
        &c.inbox_dir,
        &processing,
        &c.done_dir,
        &c.failed_dir,
        &c.outbox_dir,
    ] {
        if let Err(e) = std::fs::create_dir_all(d) {
            tracing::error!(dir = %d.display(), error = %crate::fsread::os_reason(&e), "kan map niet maken");
            return false;
        }
    }
    if let Ok(rd) = std::fs::read_dir(&processing) {
        for e in rd.flatten() {
            let _ = std::fs::rename(e.path(), c.inbox_dir.join(e.file_name()));
        }
    }
    true
}

/// Moves what is not a message to failed/ with its reason; logged once, even when the move
/// fails and is tried again at every scan.
fn set_aside(
    w: &Worker,
    reported: &mut HashSet<OsString>,
    name: OsString,
    kind: &'static str,
    reason: &str,
) {
    let c = &w.config;
    let from = c.inbox_dir.join(&name);
    let file = name.to_string_lossy().to_string();
    match aside::to_failed(&from, &c.failed_dir, &name, reason) {
        Ok(t) => {
            reported.remove(&name);
            w.metrics.file_failed(kind);
            let naar = t
                .file_name()
                .map(|n| n.to_string_lossy().to_string())
                .unwrap_or_default();
            tracing::warn!(file = %file, naar = %naar, soort = kind, reden = %reason, "geen bericht; naar failed/");
        }
        Err(e) if reported.insert(name) => {
            tracing::error!(file = %file, soort = kind, reden = %reason, error = %crate::fsread::os_reason(&e), "geen bericht, en kan het niet naar failed/ verplaatsen; het blijft in de inbox");
        }
        Err(_) => {}
    }
}
