//! One complete file from the inbox: claimed (renamed into `.processing/`), read within the size
//! cap, processed, and moved to `done/` or `failed/` (with its reason). A file that fails for a
//! reason of its own — unreadable, oversized, invalid, refused by the database — never stops
//! the worker; only a database outage puts it back and pauses.

use std::ffi::OsStr;
use std::path::Path;

use super::aside;
use crate::fsread::{read_message_file, ReadFailure};
use crate::serve::Worker;
use crate::store::{Fault, StoreError};

/// What the loop does after a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    /// On to the next file.
    Continue,
    /// The database is out: the file is back in the inbox; wait for the database.
    Pause,
}

/// Claims and processes the file `name` of the inbox.
pub async fn take(w: &Worker, name: &OsStr) -> Next {
    let c = &w.config;
    let from = c.inbox_dir.join(name);
    let claimed = c.inbox_dir.join(super::scan::PROCESSING).join(name);
    // Another worker may have taken it: the rename is the claim.
    if std::fs::rename(&from, &claimed).is_err() {
        return Next::Continue;
    }
    let source = name.to_string_lossy().to_string();
    let result = match read_message_file(&claimed, c.max_bytes) {
        Ok(bytes) => w.handle(&source, &bytes).await,
        Err(f) => return unreadable(w, &claimed, name, &source, f).await,
    };
    match result {
        Ok(o) if o.outcome == "invalid" => {
            let reason = o.error.unwrap_or_else(|| "ongeldig bericht".into());
            fail(w, &claimed, name, "invalid", &reason);
            Next::Continue
        }
        Ok(_) => {
            if let Err(e) = aside::to_done(&claimed, &c.done_dir, name) {
                tracing::error!(file = %source, error = %crate::fsread::os_reason(&e), "kan bestand niet naar done verplaatsen; het blijft in .processing");
            }
            Next::Continue
        }
        Err(e) => store_failed(w, &claimed, &from, name, e).await,
    }
}

/// A file that could not be read as a message: oversized ones are recorded (their first bytes
/// and hash, never the whole body), then every one goes to failed/ with its reason.
async fn unreadable(
    w: &Worker,
    claimed: &Path,
    name: &OsStr,
    source: &str,
    f: ReadFailure,
) -> Next {
    let reason = f.to_string();
    if let ReadFailure::TooLarge {
        preview, sha256, ..
    } = &f
    {
        let r = crate::pipeline::refused(&w.store, source, preview, sha256, reason.clone()).await;
        if let Err(e) = r {
            let from = w.config.inbox_dir.join(name);
            return store_failed(w, claimed, &from, name, e).await;
        }
    }
    fail(w, claimed, name, f.kind(), &reason);
    Next::Continue
}

/// A store error: an outage or a passing conflict puts the file back (an outage also pauses);
/// an error caused by this file fails it, with the reason.
async fn store_failed(
    w: &Worker,
    claimed: &Path,
    from: &Path,
    name: &OsStr,
    e: StoreError,
) -> Next {
    match w.fault_of(&e).await {
        Fault::Permanent => {
            fail(w, claimed, name, "store", &e.poison_reason());
            Next::Continue
        }
        fault => {
            // Nothing committed: back to the inbox (renamed, so taken again at once).
            if let Err(err) = std::fs::rename(claimed, from) {
                tracing::error!(file = %name.to_string_lossy(), error = %crate::fsread::os_reason(&err), "kan bestand niet terugzetten in de inbox");
            }
            if fault == Fault::Outage {
                Next::Pause
            } else {
                Next::Continue
            }
        }
    }
}

/// Moves a claimed file to failed/ with its reason file; logs it and counts it.
fn fail(w: &Worker, claimed: &Path, name: &OsStr, kind: &'static str, reason: &str) {
    let file = name.to_string_lossy();
    w.metrics.file_failed(kind);
    match aside::to_failed(claimed, &w.config.failed_dir, name, reason) {
        Ok(t) => {
            let naar = t
                .file_name()
                .map(|n| n.to_string_lossy().to_string())
                .unwrap_or_default();
            tracing::warn!(file = %file, naar = %naar, soort = kind, reden = %reason, "bestand naar failed/");
        }
        Err(e) => {
            tracing::error!(file = %file, soort = kind, error = %crate::fsread::os_reason(&e), "kan bestand niet naar failed/ verplaatsen; het blijft in .processing");
        }
    }
}
