//! Opening the database, in one place: read-only commands (listings, replay, audit) never create
//! one; writing commands (process, imports, policy, serve) may (SQLite creates the file).

use std::path::PathBuf;

use super::config::SecretUrl;
use crate::store::Store;

/// What a command does with the database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// The database must exist; a missing SQLite file is an error, not a new empty database.
    Existing,
    /// Created when missing (SQLite), as the writing commands need.
    OrCreate,
}

/// Exit code of a command whose database cannot be used (missing, unreachable, wrong schema).
pub const EXIT_DATABASE: i32 = 3;

/// The SQLite file of `url`; None for other backends and in-memory databases.
pub fn sqlite_file(url: &str) -> Option<PathBuf> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or_default();
    (!path.is_empty() && !path.contains(":memory:")).then(|| PathBuf::from(path))
}

/// The URL as SQLite must open it: `mode=rw` (never create) for [`Access::Existing`], unless the
/// URL says otherwise; for [`Access::OrCreate`] the store's default (`mode=rwc`).
fn with_mode(url: &str, access: Access) -> String {
    if access == Access::OrCreate || sqlite_file(url).is_none() || url.contains("mode=") {
        return url.to_string();
    }
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}mode=rw")
}

/// Opens the store; on failure prints a Dutch message naming the redacted URL and returns the
/// exit code ([`EXIT_DATABASE`]).
pub async fn open(url: &SecretUrl, access: Access) -> Result<Store, i32> {
    if access == Access::Existing {
        if let Some(file) = sqlite_file(url.expose()) {
            if !file.is_file() {
                eprintln!(
                    "iwmo: database {url} bestaat niet ({} ontbreekt); deze opdracht leest alleen \
                     en maakt geen lege database aan. Geef de database op met --database, \
                     IWMO_DATABASE_URL of database_url in het configuratiebestand.",
                    file.display()
                );
                return Err(EXIT_DATABASE);
            }
        }
    }
    Store::open(&with_mode(url.expose(), access))
        .await
        .map_err(|e| {
            eprintln!("iwmo: database {url} niet bruikbaar: {e}");
            EXIT_DATABASE
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_urls() {
        assert_eq!(sqlite_file("sqlite://iwmo.db"), Some("iwmo.db".into()));
        assert_eq!(
            sqlite_file("sqlite:///var/lib/iwmo/iwmo.db?mode=rwc"),
            Some("/var/lib/iwmo/iwmo.db".into())
        );
        assert_eq!(sqlite_file("sqlite::memory:"), None);
        assert_eq!(sqlite_file("postgres://u:p@db/iwmo"), None);
        assert_eq!(
            with_mode("sqlite://a.db", Access::Existing),
            "sqlite://a.db?mode=rw"
        );
        assert_eq!(
            with_mode("sqlite://a.db?cache=shared", Access::Existing),
            "sqlite://a.db?cache=shared&mode=rw"
        );
        assert_eq!(
            with_mode("sqlite://a.db", Access::OrCreate),
            "sqlite://a.db"
        );
        assert_eq!(
            with_mode("postgres://db/x", Access::Existing),
            "postgres://db/x"
        );
    }

    #[test]
    fn a_missing_file_is_refused_and_not_created() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("weg.db");
        let url = SecretUrl::new(format!("sqlite://{}", db.display()));
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        assert_eq!(
            rt.block_on(open(&url, Access::Existing)).err(),
            Some(EXIT_DATABASE)
        );
        assert!(!db.exists());
        assert!(rt.block_on(open(&url, Access::OrCreate)).is_ok());
        assert!(db.exists());
        assert!(rt.block_on(open(&url, Access::Existing)).is_ok());
    }
}
