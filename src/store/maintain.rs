//! Keeping the database in shape while the worker runs.

use super::{Backend, Result, Store};

/// The tables whose growth changes query plans.
const HOT_TABLES: &[&str] = &[
    "messages",
    "inbox_keys",
    "decisions",
    "decision_lines",
    "toewijzingen",
    "toewijzing_versies",
    "starts",
    "stops",
    "declaraties",
    "prestaties",
    "holds",
    "signals",
    "outbox",
];

/// Tables every row of which is inserted and soon deleted again: without vacuum their dead rows
/// pile up and every scan of them gets slower.
const QUEUE_TABLES: &[&str] = &["outbox_queue", "unsealed"];

impl Store {
    /// PostgreSQL plans the snapshot queries from its statistics; a table that grew from empty
    /// to millions of rows with stale statistics gets plans 100× slower (measured: 10–50 ms
    /// instead of 0.2 ms per lookup). Autovacuum keeps them fresh; where it is switched off,
    /// this does what autovacuum's analyze would do (same threshold: 50 rows + 10 % changed).
    /// The queue tables are vacuumed too (more than 1,000 dead rows). Returns the tables
    /// analysed or vacuumed. SQLite needs nothing here.
    pub async fn maintain_statistics(&self) -> Result<Vec<String>> {
        if self.backend != Backend::Postgres {
            return Ok(vec![]);
        }
        let (autovacuum,): (String,) = sqlx::query_as("SELECT current_setting('autovacuum')")
            .fetch_one(&self.pool)
            .await?;
        if autovacuum == "on" {
            return Ok(vec![]);
        }
        let rows: Vec<(String, i64, i64, i64)> = sqlx::query_as(
            "SELECT relname::text, n_live_tup, n_mod_since_analyze, n_dead_tup FROM pg_stat_user_tables \
             WHERE schemaname = current_schema()",
        )
        .fetch_all(&self.pool)
        .await?;
        let mut done = Vec::new();
        for (table, live, changed, dead) in rows {
            if let Some(t) = QUEUE_TABLES.iter().find(|t| **t == table) {
                if dead > 1_000 {
                    sqlx::query(sqlx::AssertSqlSafe(format!("VACUUM {t}")))
                        .execute(&self.pool)
                        .await?;
                    done.push(t.to_string());
                }
                continue;
            }
            // Only our own tables, by their fixed names (never a name from the database in SQL).
            let Some(t) = HOT_TABLES.iter().find(|t| **t == table) else {
                continue;
            };
            if changed as f64 > 50.0 + 0.1 * live as f64 {
                sqlx::query(sqlx::AssertSqlSafe(format!("ANALYZE {t}")))
                    .execute(&self.pool)
                    .await?;
                done.push(t.to_string());
            }
        }
        Ok(done)
    }
}
