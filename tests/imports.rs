//! CSV imports (`iwmo contracts|toewijzingen|productcodes|aanbieders|gemeenten import`) on the files of
//! `fixtures/csv/`: RFC 4180 quoting, `;` files with decimal commas, a BOM, CRLF, columns in another
//! order; broken files with their exact Dutch messages; a file with one bad line imports nothing,
//! on SQLite and PostgreSQL (IWMO_TEST_PG_URL), through the binary and in the store itself.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use iwmo::imports::{
    parse_aanbieders, parse_contracts, parse_gemeenten, parse_product_codes, parse_toewijzingen,
};
use iwmo::store::Store;
use sqlx::AssertSqlSafe;

const BIN: &str = env!("CARGO_BIN_EXE_iwmo");

fn csv(name: &str) -> PathBuf {
    common::root().join("fixtures").join("csv").join(name)
}

fn text(name: &str) -> String {
    std::fs::read_to_string(csv(name)).unwrap()
}

/// (agb, product_code, tarief in cents, einddatum) of each contract line.
fn contracts(name: &str) -> Vec<(String, String, u64, Option<String>)> {
    parse_contracts(&text(name))
        .unwrap_or_else(|e| panic!("{name}: {e}"))
        .iter()
        .map(|c| {
            (
                c.aanbieder.to_string(),
                c.product_code.to_string(),
                c.tarief,
                c.einddatum.map(|d| d.to_string()),
            )
        })
        .collect()
}

fn row(
    agb: &str,
    code: &str,
    tarief: u64,
    eind: Option<&str>,
) -> (String, String, u64, Option<String>) {
    (agb.into(), code.into(), tarief, eind.map(String::from))
}

fn expected_three() -> Vec<(String, String, u64, Option<String>)> {
    vec![
        row("87654321", "02A01", 6850, None),
        row("87654321", "07A03", 123_456, Some("2025-12-31")),
        row("11223344", "01A02", 0, None),
    ]
}

#[test]
fn quoted_fields_with_commas_in_a_comma_file() {
    assert_eq!(contracts("contracts-quoted.csv"), expected_three());
}

#[test]
fn semicolon_file_with_decimal_comma_capitals_spaces_and_an_empty_line() {
    assert_eq!(contracts("contracts-semicolon.csv"), expected_three());
}

#[test]
fn a_bom_is_tolerated() {
    assert!(text("contracts-bom.csv").starts_with('\u{feff}'));
    assert_eq!(
        contracts("contracts-bom.csv"),
        vec![row("87654321", "02A01", 6850, None)]
    );
}

#[test]
fn crlf_and_a_trailing_empty_line() {
    let t = text("contracts-crlf.csv");
    assert!(t.ends_with("2025-12-31\r\n\r\n"));
    assert_eq!(
        contracts("contracts-crlf.csv"),
        expected_three()[..2].to_vec()
    );
}

#[test]
fn toewijzingen_in_another_column_order_with_budget_in_euros() {
    let got = parse_toewijzingen(&text("toewijzingen-reordered.csv")).unwrap();
    let canonical = "gemeente_code,toewijzing_nummer,bsn,agb_code,product_categorie,product_code,toewijzingsdatum,toewijzingstijd,ingangsdatum,einddatum,reden_wijziging,volume,eenheid,frequentie,budget_cents\n\
        0344,40003,999990032,87654321,02,02A01,2025-01-02,09:00:00,2025-01-06,2025-12-31,,4,04,2,\n\
        0344,40004,999990019,87654321,02,,2025-01-02,09:30:00,2025-01-06,2025-12-31,,,,,150000\n";
    assert_eq!(got, parse_toewijzingen(canonical).unwrap());
    assert_eq!(got[1].budget, Some(150_000));
    assert_eq!(got[0].volume, Some(4));
}

#[test]
fn the_files_in_use_still_import() {
    // The CI's and the README's files, and every story's CSVs, unchanged.
    let root = common::root().join("fixtures");
    let mut files = vec![root.join("contracts.csv"), root.join("toewijzingen.csv")];
    for dir in std::fs::read_dir(root.join("stories")).unwrap() {
        for f in std::fs::read_dir(dir.unwrap().path()).unwrap() {
            let p = f.unwrap().path();
            if p.extension().is_some_and(|x| x == "csv") {
                files.push(p);
            }
        }
    }
    let mut seen = 0;
    for p in &files {
        let t = std::fs::read_to_string(p).unwrap();
        let n = match p.file_name().and_then(|n| n.to_str()) {
            Some("contracts.csv") => parse_contracts(&t).map(|v| v.len()),
            Some("toewijzingen.csv") => parse_toewijzingen(&t).map(|v| v.len()),
            Some("productcodes.csv") => parse_product_codes(&t).map(|v| v.len()),
            _ => continue,
        };
        let n = n.unwrap_or_else(|e| panic!("{}: {e}", p.display()));
        assert!(n > 0, "{}", p.display());
        seen += 1;
    }
    assert!(seen > 20, "only {seen} CSV files found");
}

// ---------------------------------------------------------------------------------------------
// Broken files: the exact message.

#[test]
fn a_header_with_both_delimiters_is_refused() {
    assert_eq!(
        parse_contracts(&text("broken-delimiter-mix.csv")).unwrap_err().to_string(),
        "1 fout, niets geïmporteerd:\n  regel 1: de kopregel bevat zowel ',' als ';'; gebruik één scheidingsteken"
    );
}

#[test]
fn a_missing_column_is_named() {
    assert_eq!(
        parse_contracts(&text("broken-missing-column.csv")).unwrap_err().to_string(),
        "1 fout, niets geïmporteerd:\n  regel 1, kolom tarief_cents: ontbreekt in de kopregel (of kolom tarief, in euro's)"
    );
}

#[test]
fn a_bad_date_names_the_physical_line_after_a_multiline_field() {
    assert_eq!(
        parse_contracts(&text("broken-date.csv")).unwrap_err().to_string(),
        "1 fout, niets geïmporteerd:\n  regel 5, kolom ingangsdatum: '01-01-2025' is geen datum JJJJ-MM-DD"
    );
}

#[test]
fn bad_amounts_are_all_listed() {
    assert_eq!(
        parse_contracts(&text("broken-amount.csv"))
            .unwrap_err()
            .to_string(),
        "2 fouten, niets geïmporteerd:\n  \
         regel 6, kolom tarief: '68,505' heeft meer dan 2 decimalen\n  \
         regel 7, kolom tarief: '12\"50' is geen bedrag in euro's (zoals 68,50)"
    );
}

#[test]
fn a_bad_bsn_is_named_without_its_value() {
    let e = parse_toewijzingen(&text("broken-bsn.csv")).unwrap_err();
    assert_eq!(
        e.to_string(),
        "1 fout, niets geïmporteerd:\n  regel 3, kolom bsn: ongeldig BSN (elfproef)"
    );
    let short = text("broken-bsn.csv").replace("999990018", "99999001");
    assert_eq!(
        parse_toewijzingen(&short).unwrap_err().to_string(),
        "1 fout, niets geïmporteerd:\n  regel 3, kolom bsn: ongeldig BSN (geen 9 cijfers)"
    );
}

// ---------------------------------------------------------------------------------------------
// The store: a file with one bad line imports nothing, on every backend.

fn run(db: &common::TestDb, args: &[&str]) -> (Option<i32>, String, String) {
    let Output {
        status,
        stdout,
        stderr,
    } = Command::new(BIN)
        .args(args)
        .env("IWMO_DATABASE_URL", db.url())
        .env_remove("RUST_LOG")
        .output()
        .expect("run iwmo");
    (
        status.code(),
        String::from_utf8_lossy(&stdout).into_owned(),
        String::from_utf8_lossy(&stderr).into_owned(),
    )
}

async fn count(store: &Store, table: &str) -> i64 {
    let (n,): (i64,) = sqlx::query_as(AssertSqlSafe(format!("SELECT COUNT(*) FROM {table}")))
        .fetch_one(store.pool())
        .await
        .unwrap_or_else(|e| panic!("count {table}: {e}"));
    n
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_binary_imports_a_semicolon_file_end_to_end() {
    for db in common::backends() {
        let l = db.backend;
        let f = csv("contracts-semicolon.csv");
        let (code, out, err) = run(&db, &["contracts", "import", path(&f)]);
        assert_eq!(code, Some(0), "[{l}] {out}{err}");
        assert_eq!(
            out,
            format!("3 contractregel(s) geïmporteerd uit {}\n", f.display()),
            "[{l}]"
        );
        assert_eq!(err, "", "[{l}]");
        let s = Store::open(db.url()).await.unwrap();
        let tarieven: Vec<(String, i64)> =
            sqlx::query_as("SELECT product_code, tarief FROM contracts ORDER BY product_code")
                .fetch_all(s.pool())
                .await
                .unwrap();
        assert_eq!(
            tarieven,
            [
                ("01A02".to_string(), 0),
                ("02A01".to_string(), 6850),
                ("07A03".to_string(), 123_456)
            ],
            "[{l}]"
        );
        s.pool().close().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_with_one_bad_line_imports_nothing() {
    for db in common::backends() {
        let l = db.backend;
        let f = csv("broken-amount.csv");
        let (code, out, err) = run(&db, &["contracts", "import", path(&f)]);
        assert_eq!(code, Some(1), "[{l}] {out}{err}");
        assert_eq!(out, "", "[{l}]");
        assert_eq!(
            err,
            format!(
                "iwmo contracts import: {}: 2 fouten, niets geïmporteerd:\n  \
                 regel 6, kolom tarief: '68,505' heeft meer dan 2 decimalen\n  \
                 regel 7, kolom tarief: '12\"50' is geen bedrag in euro's (zoals 68,50)\n",
                f.display()
            ),
            "[{l}]"
        );
        let f = csv("broken-bsn.csv");
        let (code, out, err) = run(&db, &["toewijzingen", "import", path(&f)]);
        assert_eq!(code, Some(1), "[{l}] {out}{err}");
        assert!(
            err.contains("regel 3, kolom bsn: ongeldig BSN (elfproef)"),
            "[{l}] {err}"
        );
        assert!(!err.contains("999990018"), "[{l}] the BSN is echoed: {err}");
        let s = Store::open(db.url()).await.unwrap();
        for t in ["contracts", "toewijzingen", "toewijzing_versies"] {
            assert_eq!(
                count(&s, t).await,
                0,
                "[{l}] {t}: the good lines were stored"
            );
        }
        s.pool().close().await;
    }
}

/// A row the database refuses: a trigger on `table` that raises when `condition` holds.
async fn refuse(store: &Store, backend: &str, table: &str, condition: &str) {
    let sql: Vec<String> = if backend == "postgres" {
        vec![
            format!(
                "CREATE FUNCTION refuse_{table}() RETURNS trigger LANGUAGE plpgsql AS \
                 $$ BEGIN IF {condition} THEN RAISE EXCEPTION 'geweigerd'; END IF; RETURN NEW; END $$"
            ),
            format!(
                "CREATE TRIGGER refuse_{table} BEFORE INSERT ON {table} FOR EACH ROW \
                 EXECUTE FUNCTION refuse_{table}()"
            ),
        ]
    } else {
        vec![format!(
            "CREATE TRIGGER refuse_{table} BEFORE INSERT ON {table} WHEN {condition} \
             BEGIN SELECT RAISE(ABORT, 'geweigerd'); END"
        )]
    };
    for s in sql {
        sqlx::query(AssertSqlSafe(s))
            .execute(store.pool())
            .await
            .unwrap_or_else(|e| panic!("trigger on {table}: {e}"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_store_writes_an_import_in_one_transaction() {
    for db in common::backends() {
        let l = db.backend;
        let s = Store::open(db.url()).await.unwrap();
        // The last of three contract lines fails in the database: the first two go too.
        refuse(&s, l, "contracts", "NEW.tarief = 0").await;
        let c = parse_contracts(&text("contracts-semicolon.csv")).unwrap();
        assert_eq!(c.last().map(|c| c.tarief), Some(0));
        assert!(s.import_contracts("x.csv", &c).await.is_err(), "[{l}]");
        assert_eq!(count(&s, "contracts").await, 0, "[{l}]");
        assert_eq!(
            s.import_contracts("x.csv", &c[..2]).await.unwrap(),
            2,
            "[{l}]"
        );
        // The same for toewijzingen: the second of two fails.
        refuse(&s, l, "toewijzingen", "NEW.toewijzing_nummer = 40004").await;
        let t = parse_toewijzingen(&text("toewijzingen-reordered.csv")).unwrap();
        assert!(s.import_toewijzingen("csv:x", &t).await.is_err(), "[{l}]");
        for table in ["toewijzingen", "toewijzing_versies"] {
            assert_eq!(count(&s, table).await, 0, "[{l}] {table}");
        }
        s.import_toewijzingen("csv:x", &t[..1]).await.unwrap();
        assert_eq!(count(&s, "toewijzingen").await, 1, "[{l}]");
        // And product codes.
        refuse(&s, l, "product_codes", "NEW.product_code = '02A02'").await;
        let p =
            parse_product_codes("product_categorie;product_code\n01;01A02\n02;02A02\n").unwrap();
        assert!(s.import_product_codes(&p).await.is_err(), "[{l}]");
        assert_eq!(count(&s, "product_codes").await, 0, "[{l}]");
        s.pool().close().await;
    }
}

// ---------------------------------------------------------------------------------------------
// Aanbieders and gemeenten with their accounts (IBAN, BIC), through the binary.

/// (code, naam, iban, bic) of every row, by code.
async fn parties(
    store: &Store,
    table: &str,
    key: &str,
) -> Vec<(String, String, String, Option<String>)> {
    sqlx::query_as(AssertSqlSafe(format!(
        "SELECT {key}, naam, iban, bic FROM {table} ORDER BY {key}"
    )))
    .fetch_all(store.pool())
    .await
    .unwrap_or_else(|e| panic!("{table}: {e}"))
}

fn party(
    code: &str,
    naam: &str,
    iban: &str,
    bic: Option<&str>,
) -> (String, String, String, Option<String>) {
    (code.into(), naam.into(), iban.into(), bic.map(String::from))
}

#[test]
fn the_party_fixtures_hold_valid_accounts() {
    let a = parse_aanbieders(&text("aanbieders.csv")).unwrap_or_else(|e| panic!("{e}"));
    let g = parse_gemeenten(&text("gemeenten.csv")).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((a.len(), g.len()), (2, 2));
    // Spaces in groups of four are accepted and stored in the electronic form.
    assert_eq!(a[1].iban, "NL20INGB0001234567");
    assert_eq!(g[1].bic.as_deref(), Some("INGBNL2A"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aanbieders_and_gemeenten_import_and_list() {
    for db in common::backends() {
        let l = db.backend;
        let (code, out, err) = run(&db, &["aanbieders", "import", path(&csv("aanbieders.csv"))]);
        assert_eq!(
            (code, out.as_str(), err.as_str()),
            (Some(0), "2 aanbieder(s) geïmporteerd\n", ""),
            "[{l}]"
        );
        let (code, out, err) = run(&db, &["gemeenten", "import", path(&csv("gemeenten.csv"))]);
        assert_eq!(
            (code, out.as_str(), err.as_str()),
            (Some(0), "2 gemeente(n) geïmporteerd\n", ""),
            "[{l}]"
        );
        let s = Store::open(db.url()).await.unwrap();
        assert_eq!(
            parties(&s, "aanbieders", "agb_code").await,
            [
                party(
                    "11223344",
                    "Thuishulp Noord, afdeling Wmo",
                    "NL20INGB0001234567",
                    None
                ),
                party(
                    "87654321",
                    "Zorg en Welzijn Utrecht B.V.",
                    "NL91ABNA0417164300",
                    Some("ABNANL2A")
                ),
            ],
            "[{l}]"
        );
        assert_eq!(
            parties(&s, "gemeenten", "gemeente_code").await,
            [
                party(
                    "0344",
                    "Gemeente Utrecht",
                    "NL02ABNA0123456789",
                    Some("ABNANL2A")
                ),
                party(
                    "0363",
                    "Gemeente Amsterdam",
                    "NL69INGB0123456789",
                    Some("INGBNL2A")
                ),
            ],
            "[{l}]"
        );
        s.pool().close().await;
        let (code, out, _) = run(&db, &["aanbieders", "list"]);
        assert_eq!(code, Some(0), "[{l}]");
        assert_eq!(
            out,
            "11223344\tThuishulp Noord, afdeling Wmo\tNL20INGB0001234567\t-\n\
             87654321\tZorg en Welzijn Utrecht B.V.\tNL91ABNA0417164300\tABNANL2A\n",
            "[{l}]"
        );
        let (code, out, _) = run(&db, &["gemeenten", "list", "--format", "json"]);
        assert_eq!(code, Some(0), "[{l}]");
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v[0]["code"], "0344", "[{l}] {out}");
        assert_eq!(v[1]["iban"], "NL69INGB0123456789", "[{l}] {out}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_iban_checksum_is_named_and_nothing_is_imported() {
    for db in common::backends() {
        let l = db.backend;
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("aanbieders.csv");
        // Line 3 has one digit of a valid IBAN changed; line 2 is good and must not be stored.
        std::fs::write(
            &f,
            "agb_code;naam;iban;bic\n87654321;Zorg BV;NL91ABNA0417164300;\n11223344;Hulp BV;NL91ABNA0417164301;ABNANL2A\n",
        )
        .unwrap();
        let (code, out, err) = run(&db, &["aanbieders", "import", path(&f)]);
        assert_eq!(code, Some(1), "[{l}] {out}{err}");
        assert_eq!(out, "", "[{l}]");
        assert_eq!(
            err,
            format!(
                "iwmo aanbieders import: {}: 1 fout, niets geïmporteerd:\n  \
                 regel 3, kolom iban: ongeldig IBAN (controlegetal klopt niet, mod-97)\n",
                f.display()
            ),
            "[{l}]"
        );
        let s = Store::open(db.url()).await.unwrap();
        assert_eq!(count(&s, "aanbieders").await, 0, "[{l}]");
        s.pool().close().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reimport_replaces_the_row_of_the_same_code() {
    for db in common::backends() {
        let l = db.backend;
        let (code, ..) = run(&db, &["gemeenten", "import", path(&csv("gemeenten.csv"))]);
        assert_eq!(code, Some(0), "[{l}]");
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("gemeenten.csv");
        std::fs::write(
            &f,
            "naam,gemeente_code,bic,iban\nUtrecht (nieuw),0344,,NL86INGB0002445588\n",
        )
        .unwrap();
        let (code, out, err) = run(&db, &["gemeenten", "import", path(&f)]);
        assert_eq!(
            (code, out.as_str()),
            (Some(0), "1 gemeente(n) geïmporteerd\n"),
            "[{l}] {err}"
        );
        let s = Store::open(db.url()).await.unwrap();
        assert_eq!(
            parties(&s, "gemeenten", "gemeente_code").await,
            [
                party("0344", "Utrecht (nieuw)", "NL86INGB0002445588", None),
                party(
                    "0363",
                    "Gemeente Amsterdam",
                    "NL69INGB0123456789",
                    Some("INGBNL2A")
                ),
            ],
            "[{l}]"
        );
        s.pool().close().await;
    }
}
