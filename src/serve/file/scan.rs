//! What is in the inbox, as an operator's tools leave it: files still being written (temporary
//! names, or size or modification time changed within the settle time) are left alone; complete
//! `.xml` files are taken; anything else (links, FIFOs, directories, other names) is set aside.
//!
//! A file is complete when it was renamed into place after writing (a rename changes the
//! file's change time, not its modification time: ctime newer than mtime), or when its size
//! and modification time have not changed for the settle time (by the clock, or as seen by
//! this worker when the file's time lies in the future).

use std::collections::{HashMap, HashSet};
use std::ffi::{OsStr, OsString};
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::time::{Duration, Instant, SystemTime};

/// The worker's own directory of claimed files inside the inbox.
pub const PROCESSING: &str = ".processing";

/// One entry of the inbox and what to do with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entry {
    /// A complete `.xml` file: to be claimed and processed.
    Take(OsString),
    /// Not a message: to be moved to failed/ with this reason (metrics label `kind`).
    Aside {
        name: OsString,
        kind: &'static str,
        reason: String,
    },
}

/// The inbox scanner; remembers what it saw between scans.
#[derive(Default)]
pub struct Scanner {
    /// Size, mtime and when this worker first saw them unchanged.
    seen: HashMap<OsString, (u64, SystemTime, Instant)>,
}

/// A temporary name of a file being written: hidden (`.name`), `*.tmp`, `*.part`.
pub fn is_temporary(name: &OsStr) -> bool {
    let n = name.to_string_lossy().to_ascii_lowercase();
    n.starts_with('.') || n.ends_with(".tmp") || n.ends_with(".part")
}

fn is_xml(name: &OsStr) -> bool {
    Path::new(name)
        .extension()
        .is_some_and(|x| x.eq_ignore_ascii_case("xml"))
}

impl Scanner {
    /// The entries of `inbox` to act on now, in name order.
    pub fn scan(&mut self, inbox: &Path, settle: Duration) -> std::io::Result<Vec<Entry>> {
        let mut out = Vec::new();
        let mut present = HashSet::new();
        for e in std::fs::read_dir(inbox)?.flatten() {
            let name = e.file_name();
            if is_temporary(&name) {
                continue;
            }
            // Not following links: the link itself is what lies in the inbox.
            let Ok(meta) = std::fs::symlink_metadata(e.path()) else {
                continue;
            };
            present.insert(name.clone());
            if !meta.file_type().is_file() {
                let what = crate::fsread::describe(&meta.file_type());
                out.push(Entry::Aside {
                    name,
                    kind: "not-regular",
                    reason: format!(
                        "geen gewoon bestand ({what}); alleen gewone bestanden worden verwerkt, \
                         verplaatst zonder te volgen of te lezen"
                    ),
                });
                continue;
            }
            if !self.settled(&name, &meta, settle) {
                continue;
            }
            if is_xml(&name) {
                out.push(Entry::Take(name));
            } else {
                out.push(Entry::Aside {
                    name,
                    kind: "not-xml",
                    reason: "geen .xml-bestand; alleen bestanden op .xml worden als bericht \
                             verwerkt (hernoem het naar .xml en zet het terug in de inbox als \
                             het een bericht is)"
                        .into(),
                });
            }
        }
        self.seen.retain(|n, _| present.contains(n));
        out.sort_by(|a, b| key(a).cmp(key(b)));
        Ok(out)
    }

    /// Whether a regular file is complete (see the module's documentation).
    fn settled(&mut self, name: &OsStr, meta: &std::fs::Metadata, settle: Duration) -> bool {
        let mtime = meta.modified().unwrap_or(SystemTime::UNIX_EPOCH);
        let renamed = (meta.ctime(), meta.ctime_nsec()) > (meta.mtime(), meta.mtime_nsec());
        if renamed {
            self.seen.remove(name);
            return true;
        }
        let now = Instant::now();
        let entry = self
            .seen
            .entry(name.to_os_string())
            .or_insert((meta.len(), mtime, now));
        if (entry.0, entry.1) != (meta.len(), mtime) {
            *entry = (meta.len(), mtime, now);
        }
        let quiet_by_clock = SystemTime::now()
            .duration_since(mtime)
            .is_ok_and(|age| age >= settle);
        let quiet_as_seen = now.duration_since(entry.2) >= settle;
        quiet_by_clock || quiet_as_seen
    }
}

fn key(e: &Entry) -> &OsStr {
    match e {
        Entry::Take(n) | Entry::Aside { name: n, .. } => n,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temporary_names_and_kinds() {
        for n in [".x.xml", "x.xml.tmp", "x.XML.PART", ".processing"] {
            assert!(is_temporary(OsStr::new(n)), "{n}");
        }
        assert!(!is_temporary(OsStr::new("x.xml")));
        assert!(is_xml(OsStr::new("a.XML")) && !is_xml(OsStr::new("a.txt")));
    }

    #[test]
    fn a_renamed_file_is_taken_at_once_one_written_in_place_after_the_settle_time() {
        let d = tempfile::tempdir().unwrap();
        let mut s = Scanner::default();
        let settle = Duration::from_secs(3600);
        std::fs::write(d.path().join("in-place.xml"), "x").unwrap();
        std::fs::write(d.path().join(".r.xml"), "x").unwrap();
        std::fs::write(d.path().join("notes.txt"), "x").unwrap();
        // The rename must come at least a clock tick after the write for ctime to differ.
        std::thread::sleep(Duration::from_millis(30));
        std::fs::rename(d.path().join(".r.xml"), d.path().join("renamed.xml")).unwrap();
        let got = s.scan(d.path(), settle).unwrap();
        assert_eq!(got, vec![Entry::Take("renamed.xml".into())]);
        let got = s.scan(d.path(), Duration::from_millis(10)).unwrap();
        assert_eq!(got.len(), 3, "{got:?}");
        assert!(matches!(
            &got[1],
            Entry::Aside {
                kind: "not-xml",
                ..
            }
        ));
    }
}
