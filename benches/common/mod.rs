//! PostgreSQL databases of the benches: each run makes its own and drops it afterwards, so no
//! bench leaves anything behind on the server.

/// The server part of a PostgreSQL URL (without the database).
fn server_of(base: &str) -> String {
    base.rsplit_once('/')
        .map(|(s, _)| s.to_string())
        .unwrap_or_else(|| base.to_string())
}

async fn admin(base: &str) -> Option<sqlx::PgPool> {
    sqlx::postgres::PgPoolOptions::new()
        .max_connections(1)
        .connect(&format!("{}/postgres", server_of(base)))
        .await
        .ok()
}

/// A fresh database `name` on the server of `base` (one left by an earlier run is dropped).
pub async fn fresh_pg(base: &str, name: &str) -> String {
    let admin = admin(base).await.expect("postgres");
    let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
        "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
    )))
    .execute(&admin)
    .await;
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&admin)
        .await
        .expect("create database");
    format!("{}/{name}", server_of(base))
}

/// Drops database `name` on the server of `base`, whoever is still connected.
pub async fn drop_pg(base: &str, name: &str) {
    if let Some(admin) = admin(base).await {
        let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
            "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
        )))
        .execute(&admin)
        .await;
    }
}
