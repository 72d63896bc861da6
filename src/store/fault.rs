//! What a store error means for the message that met it: an outage of the database (wait and
//! try the same message again), a passing conflict (try again now), or a permanent failure of
//! this message (set it aside with its reason). An outage is recognised by what the driver says
//! (connection, pool, I/O, the server going away), never guessed: an error not recognised as an
//! outage or a conflict is taken as caused by the message, so one message can never stop the
//! worker.

use super::StoreError;

/// The class of a store error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// The database cannot be used right now (connection refused or reset, pool timeout, I/O
    /// error, server shutting down, disk full): nothing about this message; wait for it.
    Outage,
    /// A conflict with concurrent work (SQLite busy/locked, deadlock, serialisation failure):
    /// the same message again succeeds.
    Transient,
    /// Caused by this message (too big for the database, a constraint or data error): it
    /// fails, with its reason; trying again gives the same answer.
    Permanent,
}

impl StoreError {
    /// How this error is to be handled (see [`Fault`]).
    pub fn fault(&self) -> Fault {
        match self {
            StoreError::Db(e) => sqlx_fault(e),
            StoreError::Migrate(_) | StoreError::UnsupportedUrl => Fault::Outage,
            StoreError::Corrupt(_) | StoreError::Conflict(_) => Fault::Permanent,
        }
    }

    /// The database is unreachable or unusable: the transport pauses and tries again.
    pub fn is_outage(&self) -> bool {
        self.fault() == Fault::Outage
    }

    /// The reason a message failed on this error, in Dutch, for a reason file or a dead letter:
    /// the error class and code only, never the driver's text (PostgreSQL's texts can quote a
    /// value of the message).
    pub fn poison_reason(&self) -> String {
        let code = match self {
            StoreError::Db(sqlx::Error::Database(d)) => d.code().map(|c| c.to_string()),
            _ => None,
        };
        let what = match code.as_deref().map(sqlite_or_pg) {
            Some(Some(w)) => w,
            _ => "de database kon dit bericht niet opslaan",
        };
        match code {
            Some(c) => {
                format!("{what} (databasecode {c}); blijvende fout van dit bericht, geen storing")
            }
            None => format!("{what}; blijvende fout van dit bericht, geen storing"),
        }
    }
}

/// A Dutch description of a database error code of SQLite (a number) or PostgreSQL (SQLSTATE).
fn sqlite_or_pg(code: &str) -> Option<&'static str> {
    if let Some(n) = sqlite_code(code) {
        return Some(match n & 0xff {
            18 => "bericht te groot voor de database",
            19 => "de database weigert dit bericht (regel of sleutel geschonden)",
            20 | 25 => "gegevens van dit bericht passen niet in de database",
            _ => return None,
        });
    }
    Some(match code.get(..2)? {
        "22" => "gegevens van dit bericht passen niet in de database",
        "23" => "de database weigert dit bericht (regel of sleutel geschonden)",
        "54" => "bericht te groot voor de database",
        _ => return None,
    })
}

/// A SQLite result code (at most 4 digits); a SQLSTATE of PostgreSQL has 5 characters, which
/// may all be digits ("08006").
fn sqlite_code(code: &str) -> Option<i64> {
    if code.len() >= 5 {
        return None;
    }
    code.parse().ok()
}

fn sqlx_fault(e: &sqlx::Error) -> Fault {
    use sqlx::Error as E;
    match e {
        E::Io(_)
        | E::Tls(_)
        | E::Protocol(_)
        | E::PoolTimedOut
        | E::PoolClosed
        | E::WorkerCrashed
        | E::Configuration(_)
        | E::BeginFailed => Fault::Outage,
        E::Database(d) => d.code().map(|c| code_fault(&c)).unwrap_or(Fault::Permanent),
        _ => Fault::Permanent,
    }
}

/// SQLite result codes (numbers; the primary code is the low byte of the extended one) and
/// PostgreSQL SQLSTATEs.
fn code_fault(code: &str) -> Fault {
    if let Some(n) = sqlite_code(code) {
        return match n & 0xff {
            // BUSY, LOCKED, PROTOCOL (a lock race)
            5 | 6 | 15 => Fault::Transient,
            // NOMEM, READONLY, IOERR, CORRUPT, FULL, CANTOPEN, NOTADB, AUTH
            7 | 8 | 10 | 11 | 13 | 14 | 23 | 26 => Fault::Outage,
            _ => Fault::Permanent,
        };
    }
    match code {
        // deadlock, serialisation failure, lock not available
        "40P01" | "40001" | "55P03" => Fault::Transient,
        // admin/crash shutdown, cannot connect now, database dropped
        "57P01" | "57P02" | "57P03" | "57P04" => Fault::Outage,
        // at connect: database not accepting connections, does not exist; authentication
        "55000" | "3D000" => Fault::Outage,
        c => match c.get(..2) {
            // connection exception, insufficient resources (disk full, too many connections),
            // system error (I/O), internal error
            Some("08" | "28" | "53" | "58" | "XX") => Fault::Outage,
            _ => Fault::Permanent,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_classified() {
        assert_eq!(code_fault("5"), Fault::Transient);
        assert_eq!(code_fault("517"), Fault::Transient);
        assert_eq!(code_fault("18"), Fault::Permanent);
        assert_eq!(code_fault("1811"), Fault::Permanent);
        assert_eq!(code_fault("2067"), Fault::Permanent);
        assert_eq!(code_fault("3338"), Fault::Outage);
        assert_eq!(code_fault("13"), Fault::Outage);
        assert_eq!(code_fault("40P01"), Fault::Transient);
        assert_eq!(code_fault("08006"), Fault::Outage);
        assert_eq!(code_fault("57P01"), Fault::Outage);
        assert_eq!(code_fault("53100"), Fault::Outage);
        assert_eq!(code_fault("55000"), Fault::Outage);
        assert_eq!(code_fault("28P01"), Fault::Outage);
        assert_eq!(code_fault("22001"), Fault::Permanent);
        assert_eq!(code_fault("23505"), Fault::Permanent);
        assert_eq!(code_fault("54000"), Fault::Permanent);
        let io = StoreError::Db(sqlx::Error::Io(std::io::Error::from(
            std::io::ErrorKind::ConnectionRefused,
        )));
        assert!(io.is_outage());
        assert!(StoreError::Db(sqlx::Error::PoolTimedOut).is_outage());
        assert!(StoreError::Db(sqlx::Error::PoolClosed).is_outage());
        let c = StoreError::Corrupt("x".into());
        assert_eq!(c.fault(), Fault::Permanent);
        assert!(
            c.poison_reason().contains("blijvende fout"),
            "{}",
            c.poison_reason()
        );
    }

    #[tokio::test]
    async fn a_message_too_big_for_sqlite_is_permanent() {
        use sqlx::ConnectOptions;
        let mut conn = sqlx::sqlite::SqliteConnectOptions::new()
            .in_memory(true)
            .connect()
            .await
            .unwrap();
        // A trigger raising ABORT: a constraint error caused by one row (SQLITE_CONSTRAINT_TRIGGER).
        sqlx::raw_sql(
            "CREATE TABLE t(x TEXT); CREATE TRIGGER g BEFORE INSERT ON t WHEN NEW.x = 'gif' \
             BEGIN SELECT RAISE(ABORT, 'geweigerd'); END;",
        )
        .execute(&mut conn)
        .await
        .unwrap();
        let e = sqlx::query("INSERT INTO t VALUES ('gif')")
            .execute(&mut conn)
            .await
            .unwrap_err();
        let e = StoreError::Db(e);
        assert_eq!(e.fault(), Fault::Permanent, "{e}");
        let r = e.poison_reason();
        assert!(r.contains("databasecode 1811") && !r.contains("gif"), "{r}");
        // SQLITE_TOOBIG: a blob over SQLite's length limit (1e9 bytes), allocated by SQLite lazily.
        let e = sqlx::query("SELECT zeroblob(2000000000)")
            .execute(&mut conn)
            .await
            .unwrap_err();
        let e = StoreError::Db(e);
        assert_eq!(e.fault(), Fault::Permanent, "{e}");
        assert!(
            e.poison_reason().starts_with("bericht te groot"),
            "{}",
            e.poison_reason()
        );
    }
}
