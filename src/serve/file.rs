//! The file transport (embedded default): files dropped into `inbox/` are claimed by renaming
//! them into `inbox/.processing/`, processed, and moved to `done/` (or `failed/` when invalid,
//! with the reason beside them). Answers are written to `outbox/` by the relay. A file goes back
//! to `inbox/` when the database was unreachable.

use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use super::Worker;

fn unique_target(dir: &Path, name: &str) -> PathBuf {
    let p = dir.join(name);
    if !p.exists() {
        return p;
    }
    for i in 1.. {
        let q = dir.join(format!("{name}.{i}"));
        if !q.exists() {
            return q;
        }
    }
    p
}

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
    let processing = c.inbox_dir.join(".processing");
    for d in [
        &c.inbox_dir,
        &processing,
        &c.done_dir,
        &c.failed_dir,
        &c.outbox_dir,
    ] {
        if let Err(e) = std::fs::create_dir_all(d) {
            tracing::error!(dir = %d.display(), error = %e, "kan map niet maken");
            return 3;
        }
    }
    // Files left half-way by a crash go back to the inbox: processing is idempotent.
    if let Ok(rd) = std::fs::read_dir(&processing) {
        for e in rd.flatten() {
            let _ = std::fs::rename(e.path(), c.inbox_dir.join(e.file_name()));
        }
    }
    w.consuming.store(true, Ordering::Relaxed);
    loop {
        if *stop.borrow() {
            break;
        }
        relay(&w).await;
        let mut files: Vec<PathBuf> = match std::fs::read_dir(&c.inbox_dir) {
            Ok(rd) => rd
                .flatten()
                .map(|e| e.path())
                .filter(|p| {
                    p.is_file() && p.extension().is_some_and(|x| x.eq_ignore_ascii_case("xml"))
                })
                .collect(),
            Err(e) => {
                tracing::error!(error = %e, "inbox niet leesbaar");
                Vec::new()
            }
        };
        files.sort();
        for f in files {
            if *stop.borrow() {
                break;
            }
            let Some(name) = f.file_name().map(|n| n.to_string_lossy().to_string()) else {
                continue;
            };
            let claimed = processing.join(&name);
            // Another worker may have taken it: the rename is the claim.
            if std::fs::rename(&f, &claimed).is_err() {
                continue;
            }
            let bytes = match std::fs::read(&claimed) {
                Ok(b) => b,
                Err(e) => {
                    tracing::error!(file = %name, error = %e, "kan bestand niet lezen");
                    let _ = std::fs::rename(&claimed, unique_target(&c.failed_dir, &name));
                    continue;
                }
            };
            match w.handle(&name, &bytes).await {
                Ok(o) => {
                    let dir = if o.outcome == "invalid" {
                        &c.failed_dir
                    } else {
                        &c.done_dir
                    };
                    let target = unique_target(dir, &name);
                    if o.outcome == "invalid" {
                        let reason = o.error.clone().unwrap_or_else(|| "ongeldig bericht".into());
                        let _ = std::fs::write(
                            target.with_extension("reden.txt"),
                            format!("{reason}\n"),
                        );
                    }
                    let _ = std::fs::rename(&claimed, target);
                }
                Err(_) => {
                    // Nothing committed: put it back and pause until the database is back.
                    let _ = std::fs::rename(&claimed, &f);
                    w.consuming.store(false, Ordering::Relaxed);
                    w.wait_for_db(&stop).await;
                    w.consuming.store(true, Ordering::Relaxed);
                    break;
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
