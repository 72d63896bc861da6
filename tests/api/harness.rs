//! A world for API tests: a fresh database with processed messages (through `iwmo process`,
//! the same house as production), aanbieders and gemeenten, users made with
//! `iwmo gebruikers toevoegen`, and the router driven in-process.

use std::path::Path;
use std::time::Duration;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use iwmo::api::{self, AppState, Limits};
use iwmo::app::config::Config;
use iwmo::auth::Authenticator;
use iwmo::store::Store;
use iwmo::testkit::synth;
use tower::ServiceExt;

use super::common::{self, TestDb};

pub const BIN: &str = env!("CARGO_BIN_EXE_iwmo");

/// The day the rules see (every Dagtekening of the synthetic messages lies before it).
pub const TODAY: &str = "2025-06-01";

pub struct World {
    pub db: TestDb,
    pub store: Store,
    pub router: axum::Router,
    pub dir: tempfile::TempDir,
    seq: std::cell::Cell<u32>,
}

/// An answer: status, content type, body.
pub struct Answer {
    pub status: StatusCode,
    pub ctype: String,
    pub headers: axum::http::HeaderMap,
    pub body: Vec<u8>,
}

impl Answer {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&self.body)))
    }
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

impl World {
    /// A fresh database of `db`'s backend with the parties imported.
    pub async fn new(db: TestDb) -> World {
        World::with_config(db, Config::default()).await
    }

    /// [`World::new`] with the router's authentication from `config` (OpenID Connect).
    pub async fn with_config(db: TestDb, config: Config) -> World {
        let dir = tempfile::tempdir().unwrap();
        let world_files = dir.path();
        std::fs::write(
            world_files.join("aanbieders.csv"),
            "agb_code,naam,iban,bic\n87654321,Zorg & Co B.V.,NL91ABNA0417164300,ABNANL2A\n\
             11223344,Hulp aan Huis,NL20INGB0001234567,\n",
        )
        .unwrap();
        std::fs::write(
            world_files.join("gemeenten.csv"),
            "gemeente_code,naam,iban,bic\n0344,Gemeente Utrecht,NL69INGB0123456789,INGBNL2A\n\
             0345,Gemeente Veenendaal,NL02ABNA0123456789,\n",
        )
        .unwrap();
        std::fs::write(
            world_files.join("contracts.csv"),
            "agb_code,gemeente_code,product_categorie,product_code,eenheid,tarief_cents,ingangsdatum,einddatum\n\
             87654321,0344,02,02A01,04,6850,2024-01-01,\n87654321,0345,02,02A01,04,6850,2024-01-01,\n",
        )
        .unwrap();
        let w = World::bare(db, dir, config).await;
        w.cli(&["contracts", "import", &w.path("contracts.csv")]);
        w.cli(&["aanbieders", "import", &w.path("aanbieders.csv")]);
        w.cli(&["gemeenten", "import", &w.path("gemeenten.csv")]);
        w
    }

    async fn bare(db: TestDb, dir: tempfile::TempDir, config: Config) -> World {
        let store = Store::open(db.url()).await.expect("open store");
        let config = Config {
            database_url: iwmo::app::config::SecretUrl::new(db.url()),
            ..config
        };
        let auth = Authenticator::new(store.clone(), &config)
            .await
            .expect("authenticator");
        let state = AppState::new(store.clone(), auth);
        let limits = Limits {
            max_body_bytes: 1 << 20,
            timeout: Duration::from_secs(30),
        };
        World {
            db,
            store,
            router: api::router(state, limits),
            dir,
            seq: std::cell::Cell::new(0),
        }
    }

    pub fn path(&self, name: &str) -> String {
        self.dir.path().join(name).display().to_string()
    }

    /// Runs the binary on this world's database; panics unless it exits 0. Returns stdout.
    pub fn cli(&self, args: &[&str]) -> String {
        let out = self.cli_raw(args, None);
        assert!(
            out.status.success(),
            "iwmo {args:?}: {}\n{}",
            String::from_utf8_lossy(&out.stderr),
            String::from_utf8_lossy(&out.stdout)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    pub fn cli_raw(&self, args: &[&str], token: Option<&str>) -> std::process::Output {
        let mut cmd = common::clean_command(BIN);
        cmd.args(args)
            .env("IWMO_DATABASE_URL", self.db.url())
            .env("IWMO_TODAY", TODAY);
        if let Some(t) = token {
            cmd.env("IWMO_TOKEN", t);
        }
        cmd.output().expect("run iwmo")
    }

    /// Adds a user and returns its token (the last line of the output).
    pub fn user(&self, naam: &str, rol: &str, gemeenten: &[&str]) -> String {
        let mut args = vec!["gebruikers", "toevoegen", "--naam", naam, "--rol", rol];
        for g in gemeenten {
            args.extend(["--gemeente", g]);
        }
        let out = self.cli(&args);
        out.lines().last().expect("token line").trim().to_string()
    }

    /// Processes messages (XML texts) through `iwmo process`, in order.
    pub fn process(&self, messages: &[String]) {
        let mut paths = Vec::new();
        for m in messages {
            let n = self.seq.get() + 1;
            self.seq.set(n);
            let p = self.path(&format!("m{n:04}.xml"));
            std::fs::write(&p, m).unwrap();
            paths.push(p);
        }
        let mut args = vec!["process"];
        args.extend(paths.iter().map(String::as_str));
        // Shown when a test fails: what each message became.
        eprintln!("{}", self.cli(&args));
    }

    /// A request through the router.
    pub async fn call(
        &self,
        method: Method,
        uri: &str,
        token: Option<&str>,
        body: Option<serde_json::Value>,
    ) -> Answer {
        let mut b = Request::builder().method(method).uri(uri);
        if let Some(t) = token {
            b = b.header("authorization", format!("Bearer {t}"));
        }
        let req = match body {
            Some(j) => b
                .header("content-type", "application/json")
                .body(Body::from(j.to_string())),
            None => b.body(Body::empty()),
        }
        .unwrap();
        self.send(req).await
    }

    pub async fn send(&self, req: Request<Body>) -> Answer {
        let resp = self
            .router
            .clone()
            .oneshot(req)
            .await
            .expect("router answers");
        let status = resp.status();
        let headers = resp.headers().clone();
        let ctype = headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        let body = axum::body::to_bytes(resp.into_body(), 64 << 20)
            .await
            .unwrap()
            .to_vec();
        Answer {
            status,
            ctype,
            headers,
            body,
        }
    }

    pub async fn get(&self, uri: &str, token: &str) -> Answer {
        self.call(Method::GET, uri, Some(token), None).await
    }

    pub async fn post(&self, uri: &str, token: &str, body: serde_json::Value) -> Answer {
        self.call(Method::POST, uri, Some(token), Some(body)).await
    }
}

/// 301s for toewijzingen `from..to` (10 per client, open-ended from 2024-01-01).
pub fn toewijzingen(prefix: &str, from: u32, to: u32) -> Vec<String> {
    (from..to)
        .map(|nr| synth::wmo301(&format!("{prefix}{nr}"), nr, "2024-01-01", "2025-12-31"))
        .collect()
}

/// Client 0 of 0344: 301s for its ten toewijzingen, starts for the first four, and a January
/// declaration of four lines on them (all approved, none held).
pub fn started_january() -> Vec<String> {
    let mut m = toewijzingen("T", 100_000, 100_010);
    m.extend((100_000..100_004).map(|nr| start(&format!("S{nr}"), nr)));
    m.push(declaratie("D1", "DECLA", 4, 1, 100_000));
    m
}

/// The same message for gemeente 0345 (sender or receiver).
pub fn in_0345(m: &str) -> String {
    m.replace(">0344<", ">0345<")
}

/// A 305 starting toewijzing `nr` on 2024-01-01.
pub fn start(ident: &str, nr: u32) -> String {
    synth::wmo305(ident, nr, "2024-01-01")
}

/// A 323 of `n` lines on the toewijzingen from `first` (10 per client), for 2025-`month`.
pub fn declaratie(ident: &str, nummer: &str, n: usize, month: u32, first: u32) -> String {
    synth::wmo323_in(n, ident, nummer, 2025, month, first)
}

/// A 323 crediting line `referentie` (declared by [`declaratie`] on toewijzing `nr`, month).
pub fn credit(ident: &str, nummer: &str, referentie: &str, nr: u32, month: u32) -> String {
    let one = synth::wmo323_in(1, ident, nummer, 2025, month, nr);
    let new_ref = format!("{nummer}-0000000");
    one.replace(
        &format!("<iwmo:ReferentieNummer>{new_ref}</iwmo:ReferentieNummer>"),
        &format!(
            "<iwmo:ReferentieNummer>{new_ref}</iwmo:ReferentieNummer>\n              \
             <iwmo:VorigReferentieNummer>{referentie}</iwmo:VorigReferentieNummer>"
        ),
    )
    .replace(
        "<iwmo:DebetCredit>D</iwmo:DebetCredit>",
        "<iwmo:DebetCredit>C</iwmo:DebetCredit>",
    )
}

/// Validates a SEPA file against ../shared/finance/pain.001.001.09.xsd with the shared tool.
pub fn sepa_valid(file: &Path) -> Result<(), String> {
    if !common::xsd_oracle_available() {
        return Ok(());
    }
    let out = std::process::Command::new("python3")
        .arg(common::shared().join("tools").join("xsd-validate.py"))
        .arg(file)
        .output()
        .map_err(|e| e.to_string())?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}
