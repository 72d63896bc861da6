//! Story tests: the real `iwmo` binary through `iwmo process`, on every backend (SQLite always,
//! PostgreSQL when IWMO_TEST_PG_URL is set), with the answers the standard prescribes.
//!
//! * the six sample scenarios of `../shared/scenarios` (their expected.json, checked like
//!   `run-scenarios.py` does);
//! * the reference §10 timeline, with replay and the audit chain;
//! * one story per level-3/4 rule in `fixtures/stories/<story>/` (messages with the smallest
//!   change to a valid fixture, plus an expected.json in the scenario format, slightly extended);
//! * holds, policies, double-declaration signals and order tolerance.
//!
//! Every answer written validates against the official XSD (when the oracle is available), and
//! no stdout/stderr of any run contains a BSN of the messages.

mod common;

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::TestDb;
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_iwmo");
const TIMELINE_TODAY: &str = "2025-04-10";
const TIMELINE_CONTRACT: &str = "agb_code,gemeente_code,product_categorie,product_code,eenheid,tarief_cents,ingangsdatum,einddatum\n87654321,0344,02,02A01,04,6850,2025-01-01,\n";

// ---------------------------------------------------------------------------------------------
// Driving the binary.

/// One database, one "today", one answer directory; remembers every output (for the privacy
/// check), every answer path (for the XSD check) and every BSN of the messages processed.
struct Env {
    db: TestDb,
    today: String,
    dir: tempfile::TempDir,
    outputs: RefCell<Vec<String>>,
    answers: RefCell<BTreeSet<PathBuf>>,
    bsns: RefCell<BTreeSet<String>>,
}

impl Env {
    fn new(db: TestDb, today: &str) -> Env {
        Env {
            db,
            today: today.to_string(),
            dir: tempfile::tempdir().expect("tempdir"),
            outputs: RefCell::new(Vec::new()),
            answers: RefCell::new(BTreeSet::new()),
            bsns: RefCell::new(["999990019".to_string()].into_iter().collect()),
        }
    }

    fn label(&self) -> &'static str {
        self.db.backend
    }

    fn out_dir(&self) -> PathBuf {
        self.dir.path().join("out")
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(BIN);
        c.args(args)
            .env("IWMO_DATABASE_URL", self.db.url())
            .env("IWMO_TODAY", &self.today)
            .env("RUST_LOG", "debug")
            .current_dir(self.dir.path());
        c
    }

    /// Runs the binary; its output is kept for the privacy check.
    fn run(&self, args: &[&str]) -> Output {
        let out = self.command(args).output().expect("run iwmo");
        let mut o = self.outputs.borrow_mut();
        o.push(String::from_utf8_lossy(&out.stdout).to_string());
        o.push(String::from_utf8_lossy(&out.stderr).to_string());
        out
    }

    /// Runs the binary, asserts exit 0, returns stdout.
    fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "[{}] iwmo {args:?} exited {:?}: {}{}",
            self.label(),
            out.status.code(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).to_string()
    }

    fn import_contracts_text(&self, csv: &str) {
        let p = self.dir.path().join("contracts.csv");
        std::fs::write(&p, csv).unwrap();
        self.ok(&["contracts", "import", p.to_str().unwrap()]);
    }

    fn note_bsns(&self, bytes: &[u8]) {
        let text = String::from_utf8_lossy(bytes);
        let mut b = self.bsns.borrow_mut();
        for (i, _) in text.match_indices("Bsn>") {
            let cand: String = text[i + 4..].chars().take(9).collect();
            if cand.len() == 9 && cand.chars().all(|c| c.is_ascii_digit()) {
                b.insert(cand);
            }
        }
    }

    /// `iwmo process --out DIR FILE…` in one call; returns the JSON result lines.
    fn process(&self, files: &[PathBuf]) -> Vec<Value> {
        for f in files {
            self.note_bsns(&std::fs::read(f).unwrap());
        }
        let out_dir = self.out_dir();
        let mut args: Vec<String> = vec!["process".into(), "--out".into()];
        args.push(out_dir.display().to_string());
        args.extend(files.iter().map(|f| f.display().to_string()));
        let argv: Vec<&str> = args.iter().map(String::as_str).collect();
        let stdout = self.ok(&argv);
        let lines: Vec<Value> = stdout
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .filter(|v| v.get("outcome").is_some())
            .collect();
        assert_eq!(
            lines.len(),
            files.len(),
            "[{}] one JSON line per file expected:\n{stdout}",
            self.label()
        );
        for l in &lines {
            if let Some(a) = l["answer"].as_str() {
                let p = self.answer_path(a);
                self.answers.borrow_mut().insert(p);
            }
        }
        lines
    }

    fn process_one(&self, file: &Path) -> Value {
        self.process(&[file.to_path_buf()]).remove(0)
    }

    fn answer_path(&self, a: &str) -> PathBuf {
        let p = PathBuf::from(a);
        if p.is_absolute() {
            p
        } else {
            self.dir.path().join(p)
        }
    }

    fn json_list(&self, args: &[&str]) -> Vec<Value> {
        let s = self.ok(args);
        match serde_json::from_str::<Value>(&s) {
            Ok(Value::Array(v)) => v,
            other => panic!(
                "[{}] iwmo {args:?}: expected a JSON array, got {other:?}: {s}",
                self.label()
            ),
        }
    }

    fn holds(&self, all: bool) -> Vec<Value> {
        let mut args = vec!["holds", "list", "--format", "json"];
        if all {
            args.push("--all");
        }
        self.json_list(&args)
    }

    fn signals(&self) -> Vec<Value> {
        self.json_list(&["signals", "list", "--format", "json"])
    }

    /// The privacy check over every run so far, then the XSD check over every answer written.
    fn finish(&self) {
        let bsns = self.bsns.borrow();
        for (i, o) in self.outputs.borrow().iter().enumerate() {
            for b in bsns.iter() {
                assert!(
                    !o.contains(b.as_str()),
                    "[{}] output {i} of the binary shows BSN {b}:\n{o}",
                    self.label()
                );
            }
        }
        let answers: Vec<PathBuf> = self.answers.borrow().iter().cloned().collect();
        if answers.is_empty() || !common::xsd_oracle_available() {
            return;
        }
        let bad: Vec<String> = common::xsd_validate(&answers)
            .into_iter()
            .filter(|(ok, _)| !ok)
            .map(|(_, m)| m)
            .collect();
        assert!(
            bad.is_empty(),
            "[{}] answers not valid against the official XSD:\n{}",
            self.label(),
            bad.join("\n")
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Reading answers (the same summary as run-scenarios.py).

#[derive(Debug, Default)]
struct El {
    name: String,
    text: String,
    children: Vec<El>,
}

fn parse_xml(s: &str) -> El {
    use quick_xml::events::Event;
    let mut r = quick_xml::Reader::from_str(s);
    let mut stack = vec![El::default()];
    loop {
        match r.read_event().expect("answer is well-formed XML") {
            Event::Start(e) => stack.push(El {
                name: e.local_name().as_ref().to_string(),
                ..El::default()
            }),
            Event::Empty(e) => {
                let el = El {
                    name: e.local_name().as_ref().to_string(),
                    ..El::default()
                };
                stack.last_mut().unwrap().children.push(el);
            }
            Event::End(_) => {
                let el = stack.pop().unwrap();
                stack.last_mut().unwrap().children.push(el);
            }
            Event::Text(t) => stack.last_mut().unwrap().text.push_str(&t),
            Event::Eof => break,
            _ => {}
        }
    }
    stack
        .pop()
        .unwrap()
        .children
        .into_iter()
        .next()
        .expect("root element")
}

impl El {
    fn child(&self, name: &str) -> Option<&El> {
        self.children.iter().find(|c| c.name == name)
    }
    fn text(&self) -> String {
        self.text.trim().to_string()
    }
    /// Retour codes directly attached to this element (its RetourCodes child).
    fn codes(&self) -> Vec<String> {
        let mut v: Vec<String> = self
            .child("RetourCodes")
            .map(|rc| {
                rc.children
                    .iter()
                    .filter(|c| c.name == "RetourCode")
                    .map(El::text)
                    .collect()
            })
            .unwrap_or_default();
        v.sort();
        v
    }
    fn walk<'a>(&'a self, f: &mut impl FnMut(&'a El)) {
        f(self);
        for c in &self.children {
            c.walk(f);
        }
    }
}

#[derive(Debug, Default)]
struct Summary {
    root_children: Vec<String>,
    all_codes: Vec<String>,
    header: Option<Vec<String>>,
    declaratie_antwoord: Option<Vec<String>>,
    toegekend: Option<(i64, String)>,
    client: Option<Vec<String>>,
    clients: Vec<String>,
    start_products: Vec<Vec<String>>,
    stop_products: Vec<Vec<String>>,
    prestaties: BTreeMap<String, Vec<String>>,
    /// Codes per class of a 316/318 (AangevraagdProduct, Verzoek, TeWijzigenProduct, …).
    classes: BTreeMap<String, Vec<Vec<String>>>,
}

/// The classes of a 316/318 whose codes a story can expect.
const VERZOEK_CLASSES: &[&str] = &[
    "AangevraagdProduct",
    "Verzoek",
    "OngewijzigdProduct",
    "TeWijzigenProduct",
    "NieuwProduct",
];

fn summarize(path: &Path) -> Summary {
    let xml = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("read answer {}: {e}", path.display()));
    let root = parse_xml(&xml);
    let mut s = Summary {
        root_children: root.children.iter().map(|c| c.name.clone()).collect(),
        header: root.child("Header").map(El::codes),
        ..Summary::default()
    };
    root.walk(&mut |el| match el.name.as_str() {
        "RetourCode" => s.all_codes.push(el.text()),
        "DeclaratieAntwoord" => {
            s.declaratie_antwoord = Some(el.codes());
            if let Some(t) = el.child("TotaalToegekendBedrag") {
                let bedrag = t
                    .child("TotaalBedrag")
                    .map(|b| b.text().parse::<i64>().unwrap_or(-1))
                    .unwrap_or(-1);
                let dc = t.child("DebetCredit").map(El::text).unwrap_or_default();
                s.toegekend = Some((bedrag, dc));
            }
        }
        "Client" => {
            if s.client.is_none() {
                s.client = Some(el.codes());
            }
            if let Some(b) = el.child("Bsn") {
                s.clients.push(b.text());
            }
        }
        "StartProduct" => s.start_products.push(el.codes()),
        c if VERZOEK_CLASSES.contains(&c) => {
            s.classes.entry(c.to_string()).or_default().push(el.codes())
        }
        "StopProduct" => s.stop_products.push(el.codes()),
        "Prestatie" => {
            let mut r = None;
            el.walk(&mut |x| {
                if r.is_none() && x.name == "ReferentieNummer" {
                    r = Some(x.text());
                }
            });
            s.prestaties
                .insert(r.unwrap_or_else(|| "?".into()), el.codes());
        }
        _ => {}
    });
    s.all_codes.sort();
    s
}

fn strings(v: &Value) -> Vec<String> {
    let mut out: Vec<String> = v
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

fn string_lists(v: &Value) -> Vec<Vec<String>> {
    v.as_array()
        .map(|a| a.iter().map(strings).collect())
        .unwrap_or_default()
}

/// Checks an answer against its expectation (the scenario format, made exact):
/// `{}` header only without codes; `Header`/`DeclaratieAntwoord`/`Client` exact codes;
/// `StartProduct`/`StopProduct` exact codes per class in message order; `Prestatie:REF` exact,
/// `PrestatieIncludes:REF` at least these; `prestaties_returned` exactly these references;
/// `TotaalToegekend` [cents, D|C]; `no_clients`; `only_header`; `clients_returned`.
fn check_answer(exp: &Value, path: Option<&Path>) -> Vec<String> {
    let Some(path) = path.filter(|p| p.exists()) else {
        return vec![format!("expected an answer, got {path:?}")];
    };
    let s = summarize(path);
    let mut errs = Vec::new();
    let obj = exp.as_object().expect("answer expectation is an object");
    if obj.is_empty() {
        if !s.all_codes.is_empty() || s.root_children != ["Header"] {
            errs.push(format!(
                "expected a header-only answer without codes, got children {:?} codes {:?}",
                s.root_children, s.all_codes
            ));
        }
        return errs;
    }
    for (k, want) in obj {
        match k.as_str() {
            "only_header" => {
                if want.as_bool() == Some(true) && s.root_children != ["Header"] {
                    errs.push(format!("expected header only, got {:?}", s.root_children));
                }
            }
            "Header" | "DeclaratieAntwoord" | "Client" => {
                let got = match k.as_str() {
                    "Header" => &s.header,
                    "DeclaratieAntwoord" => &s.declaratie_antwoord,
                    _ => &s.client,
                };
                if got.as_ref() != Some(&strings(want)) {
                    errs.push(format!("{k} codes {got:?} != {want}"));
                }
            }
            "StartProduct" | "StopProduct" => {
                let got = if k == "StartProduct" {
                    &s.start_products
                } else {
                    &s.stop_products
                };
                if *got != string_lists(want) {
                    errs.push(format!("{k} codes {got:?} != {want}"));
                }
            }
            c if VERZOEK_CLASSES.contains(&c) => {
                let got = s.classes.get(c).cloned().unwrap_or_default();
                if got != string_lists(want) {
                    errs.push(format!("{k} codes {got:?} != {want}"));
                }
            }
            "TotaalToegekend" => {
                let w = (
                    want[0].as_i64().unwrap_or(-2),
                    want[1].as_str().unwrap_or("").to_string(),
                );
                if s.toegekend.as_ref() != Some(&w) {
                    errs.push(format!("TotaalToegekendBedrag {:?} != {want}", s.toegekend));
                }
            }
            "no_clients" => {
                if want.as_bool() == Some(true) && !s.clients.is_empty() {
                    errs.push(format!(
                        "expected no Clienten, got {} client(s)",
                        s.clients.len()
                    ));
                }
            }
            "clients_returned" => {
                let mut got = s.clients.clone();
                got.sort();
                if got != strings(want) {
                    errs.push(format!("clients returned {got:?} != {want}"));
                }
            }
            "prestaties_returned" => {
                let got: Vec<String> = s.prestaties.keys().cloned().collect();
                if got != strings(want) {
                    errs.push(format!("Prestaties returned {got:?} != {want}"));
                }
            }
            _ if k.starts_with("Prestatie:") => {
                let r = &k["Prestatie:".len()..];
                let got = s.prestaties.get(r);
                if got != Some(&strings(want)) {
                    errs.push(format!("Prestatie {r} codes {got:?} != {want}"));
                }
            }
            _ if k.starts_with("PrestatieIncludes:") => {
                let r = &k["PrestatieIncludes:".len()..];
                let got = s.prestaties.get(r).cloned().unwrap_or_default();
                if !strings(want).iter().all(|c| got.contains(c)) {
                    errs.push(format!("Prestatie {r} codes {got:?} do not include {want}"));
                }
            }
            _ => errs.push(format!("unknown expectation key {k}")),
        }
    }
    errs
}

// ---------------------------------------------------------------------------------------------
// Stories from a directory: contracts.csv, optional toewijzingen/productcodes CSV, the messages
// and expected.json.

fn stories_dir() -> PathBuf {
    common::root().join("fixtures").join("stories")
}

fn load_json(p: &Path) -> Value {
    serde_json::from_str(
        &std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display())),
    )
    .unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// Runs a story directory on one backend: imports, one `iwmo process` call over all steps,
/// the expected outcomes and answers, holds and signals. Returns the errors, the env and the
/// result lines for further checks.
fn run_story_on(dir: &Path, db: TestDb) -> (Vec<String>, Env, Vec<Value>) {
    let exp = load_json(&dir.join("expected.json"));
    let env = Env::new(db, exp["today"].as_str().expect("today"));
    let mut errs = Vec::new();
    let contracts = dir.join("contracts.csv");
    env.ok(&["contracts", "import", contracts.to_str().unwrap()]);
    for (key, cmd) in [
        ("toewijzingen", "toewijzingen"),
        ("productcodes", "productcodes"),
    ] {
        if let Some(f) = exp.get(key).and_then(Value::as_str) {
            let p = dir.join(f);
            env.note_bsns(&std::fs::read(&p).unwrap());
            env.ok(&[cmd, "import", p.to_str().unwrap()]);
        }
    }
    let steps = exp["steps"].as_array().expect("steps");
    let files: Vec<PathBuf> = steps
        .iter()
        .map(|s| dir.join(s["file"].as_str().expect("file")))
        .collect();
    let lines = env.process(&files);
    let mut answers: BTreeMap<String, Option<PathBuf>> = BTreeMap::new();
    for (st, res) in steps.iter().zip(&lines) {
        let file = st["file"].as_str().unwrap();
        let ans = res["answer"].as_str().map(|a| env.answer_path(a));
        answers.insert(file.to_string(), ans.clone());
        if res["outcome"] != st["outcome"] {
            errs.push(format!(
                "{file}: outcome {} != {} (codes {})",
                res["outcome"], st["outcome"], res["codes"]
            ));
            continue;
        }
        if let Some(c) = st.get("codes") {
            if strings(&res["codes"]) != strings(c) {
                errs.push(format!("{file}: codes {} != {c}", res["codes"]));
            }
        }
        if let Some(first) = st.get("same_answer_as").and_then(Value::as_str) {
            let a = answers.get(first).cloned().flatten();
            if a.is_none() || a != ans {
                errs.push(format!(
                    "{file}: answer {ans:?} is not the answer of {first} ({a:?})"
                ));
            }
            continue;
        }
        if let Some(a) = st.get("answer") {
            errs.extend(
                check_answer(a, ans.as_deref())
                    .into_iter()
                    .map(|e| format!("{file}: {e}")),
            );
        } else if st["outcome"] == "registered" && !res["answer"].is_null() {
            errs.push(format!(
                "{file}: a 301 gets no answer, got {}",
                res["answer"]
            ));
        }
    }
    if let Some(h) = exp.get("holds") {
        let list = serde_json::to_string(&env.holds(false)).unwrap();
        for r in strings(&h["contains"]) {
            if !list.contains(&r) {
                errs.push(format!("holds list lacks {r}"));
            }
        }
        for r in strings(&h["absent"]) {
            if list.contains(&r) {
                errs.push(format!("holds list still has {r}"));
            }
        }
    }
    if let Some(want) = exp.get("signals").and_then(Value::as_array) {
        let got = env.signals();
        for w in want {
            let found = got.iter().any(|g| {
                w.as_object()
                    .unwrap()
                    .iter()
                    .all(|(k, v)| g.get(k) == Some(v))
            });
            if !found {
                errs.push(format!("signals {got:?} lack {w}"));
            }
        }
        if got.len() != want.len() {
            errs.push(format!("expected {} signal(s), got {got:?}", want.len()));
        }
    }
    errs.extend(replay_differences(&env));
    (errs, env, lines)
}

/// Every decision of the story replayed on the state it was made on: outcome, findings, what it
/// changed (holds placed and released included) and the answer's bytes must be identical.
fn replay_differences(env: &Env) -> Vec<String> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let store = iwmo::store::Store::open(env.db.url()).await.unwrap();
        let reports = iwmo::replay::replay_all(&store).await.unwrap();
        let mut errs: Vec<String> = Vec::new();
        if reports.is_empty() {
            errs.push("replay: no decision stored".into());
        }
        for r in reports {
            if !r.identical || !r.notes.is_empty() {
                errs.push(format!("replay: {}", r.render()));
            }
        }
        store.close().await;
        errs
    })
}

/// Runs a story on every backend with an extra check per backend.
fn run_story_with(dir: &Path, extra: impl Fn(&Env, &[Value]) -> Vec<String>) {
    let mut all = Vec::new();
    for db in common::backends() {
        let (mut errs, env, lines) = run_story_on(dir, db);
        if errs.is_empty() {
            errs.extend(extra(&env, &lines));
        }
        env.finish();
        all.extend(errs.into_iter().map(|e| format!("[{}] {e}", env.label())));
    }
    assert!(
        all.is_empty(),
        "story {} failed:\n{}",
        dir.display(),
        all.join("\n")
    );
}

fn run_story(name: &str) {
    run_story_with(&stories_dir().join(name), |_, _| Vec::new());
}

// ---------------------------------------------------------------------------------------------
// a. The six sample scenarios.

#[test]
fn shared_scenarios() {
    let root = common::shared().join("scenarios");
    let mut names: Vec<PathBuf> = std::fs::read_dir(&root)
        .unwrap_or_else(|e| panic!("{}: {e}", root.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("expected.json").exists())
        .collect();
    names.sort();
    assert!(
        names.len() >= 6,
        "expected the six sample scenarios in {}",
        root.display()
    );
    for dir in names {
        run_story_with(&dir, |_, _| Vec::new());
    }
}

// ---------------------------------------------------------------------------------------------
// b. The reference §10 timeline, replay and the audit chain.

#[test]
fn reference_timeline() {
    run_story_with(
        &stories_dir().join("timeline-reference-10"),
        |env, lines| {
            let mut errs = Vec::new();
            for l in lines {
                let id = l["identificatie"].as_str().unwrap();
                let out = env.run(&["replay", id]);
                let text = String::from_utf8_lossy(&out.stdout).to_string();
                if !out.status.success() || !text.contains("identiek") {
                    errs.push(format!("replay {id}: exit {:?}: {text}", out.status.code()));
                }
            }
            let audit = env.run(&["audit", "verify"]);
            let text = String::from_utf8_lossy(&audit.stdout).to_string();
            if !audit.status.success() || !text.contains("intact: 8 ") {
                errs.push(format!(
                    "audit verify: exit {:?}: {text}",
                    audit.status.code()
                ));
            }
            // Nothing held: every declaration line is covered by a start.
            if !env.holds(true).is_empty() {
                errs.push(format!("unexpected holds: {:?}", env.holds(true)));
            }
            if !env.signals().is_empty() {
                errs.push(format!("unexpected signals: {:?}", env.signals()));
            }
            errs
        },
    );
}

// ---------------------------------------------------------------------------------------------
// c. One story per level-3/4 rule.

macro_rules! stories {
    ($($test:ident => $dir:literal,)*) => {
        $(
            #[test]
            fn $test() {
                run_story($dir);
            }
        )*
    };
}

stories! {
    r305_9019_unknown_toewijzing => "305-9019-unknown-toewijzing",
    r305_9063_delete_never_delivered => "305-9063-delete-never-delivered",
    r305_9071_delete_after_stop => "305-9071-delete-after-stop",
    r305_9074_same_start_twice => "305-9074-same-start-twice",
    r305_9326_second_current_start => "305-9326-second-current-start",
    r305_9056_identificatie_reused => "305-9056-identificatie-reused",
    r305_8848_dagtekening_future => "305-8848-dagtekening-future",
    r307_9069_stop_without_start => "307-9069-stop-without-start",
    r307_9413_second_temporary_stop => "307-9413-second-temporary-stop",
    r307_9414_einddatum_earlier => "307-9414-einddatum-earlier",
    r307_9415_after_definitive_stop => "307-9415-after-definitive-stop",
    r323_9333_declaratienummer_reused => "323-9333-declaratienummer-reused",
    r323_8214_periode_before_last => "323-8214-periode-before-last",
    r323_8187_other_client => "323-8187-other-client",
    r323_9338_unknown_toewijzing => "323-9338-unknown-toewijzing",
    r323_9339_other_categorie => "323-9339-other-categorie",
    r323_9340_other_code => "323-9340-other-code",
    r323_9341_other_eenheid => "323-9341-other-eenheid",
    r323_9307_before_ingangsdatum => "323-9307-before-ingangsdatum",
    r323_9308_after_einddatum => "323-9308-after-einddatum",
    r323_9387_not_first_of_month => "323-9387-not-first-of-month",
    r323_9388_not_last_of_month => "323-9388-not-last-of-month",
    r323_9384_deleted_toewijzing => "323-9384-deleted-toewijzing",
    r323_9321_volume_per_periode => "323-9321-volume-per-periode",
    r323_9322_volume_totaal => "323-9322-volume-totaal",
    r323_9346_bedrag => "323-9346-bedrag-not-volume-x-tarief",
    r323_0611_tarief_not_contract => "323-0611-tarief-not-contract",
    r323_8021_referentie_reused => "323-8021-referentie-reused",
    r323_8017_credit_without_debit => "323-8017-credit-without-debit",
    r323_9389_second_debit => "323-9389-second-debit",
    r323_9390_credited_twice => "323-9390-credited-twice",
    r323_9369_budget => "323-9369-budget",
    r323_s329_productcode_not_in_list => "323-S329-productcode-not-in-list",
    order_stop_before_start => "order-stop-before-start",
    holds_story_outcomes => "holds-323-before-305",
    holds_start_after_periode_keeps_hold => "holds-start-after-periode-keeps-hold",
    iv081_minutes_against_hourly_contract => "323-iv081-minutes-against-hourly-contract",
    level2_rejected_323_counts_as_not_sent => "323-level2-counts-as-not-sent",
    r317_accepted => "317-accepted",
    r317_unknown_toewijzing => "317-unknown-toewijzing",
}

// ---------------------------------------------------------------------------------------------
// e. Requests (315/317) and refusals (302): answered within the house, listed for the back office.

#[test]
fn verzoek_om_toewijzing_waits_and_a_second_one_is_rejected() {
    run_story_with(
        &stories_dir().join("315-accepted-then-9347-9374"),
        |env, _| {
            let open = env.json_list(&["verzoeken", "list", "--format", "json"]);
            let mut errs = Vec::new();
            if open.len() != 1 {
                errs.push(format!("expected one open verzoek, got {open:?}"));
            } else {
                let v = &open[0];
                // Received 2025-04-10 (a Thursday): 5 werkdagen later is Thursday 17 April.
                for (k, want) in [
                    ("soort", "WMO315"),
                    ("status", "open"),
                    ("referenties", "VOT-2025-0001"),
                    ("ontvangen", "2025-04-10"),
                    ("uiterlijk", "2025-04-17"),
                ] {
                    if v[k] != want {
                        errs.push(format!("verzoek {k} = {} (expected {want})", v[k]));
                    }
                }
                if v["client"]
                    .as_str()
                    .is_some_and(|c| !c.starts_with("******"))
                {
                    errs.push("verzoeken list shows an unmasked BSN".into());
                }
            }
            errs
        },
    );
}

#[test]
fn a_301_with_its_referentie_settles_the_verzoek() {
    run_story_with(&stories_dir().join("315-answered-by-301"), |env, _| {
        let all = env.json_list(&["verzoeken", "list", "--all", "--format", "json"]);
        let got: Vec<(String, String)> = all
            .iter()
            .map(|v| {
                (
                    v["referenties"].as_str().unwrap_or("").into(),
                    v["status"].as_str().unwrap_or("").into(),
                )
            })
            .collect();
        let want = vec![
            ("VOT-2025-0001".to_string(), "toegewezen".to_string()),
            ("VOT-2025-0009".to_string(), "open".to_string()),
        ];
        if got != want {
            vec![format!("verzoeken {got:?} != {want:?}")]
        } else {
            Vec::new()
        }
    });
}

#[test]
fn a_302_with_codes_marks_the_toewijzing_refused() {
    run_story_with(&stories_dir().join("302-refused-toewijzing"), |env, _| {
        let rows = env.json_list(&["weigeringen", "list", "--format", "json"]);
        let refused: Vec<(i64, String)> = rows
            .iter()
            .map(|r| {
                (
                    r["toewijzing_nummer"].as_i64().unwrap_or(-1),
                    r["codes"].as_str().unwrap_or("").to_string(),
                )
            })
            .collect();
        if refused.len() != 1 || refused[0].1 != "9332" {
            vec![format!("expected one refusal with 9332, got {refused:?}")]
        } else {
            Vec::new()
        }
    });
}

/// Every story directory is run by some test.
#[test]
fn every_story_directory_has_a_test() {
    let src = std::fs::read_to_string(common::root().join("tests").join("stories.rs")).unwrap();
    for e in std::fs::read_dir(stories_dir()).unwrap() {
        let name = e.unwrap().file_name().to_string_lossy().to_string();
        assert!(
            src.contains(&format!("\"{name}\"")),
            "fixtures/stories/{name} is not run by tests/stories.rs"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// d. Holds: "geen startbericht, geen betaling" and the policies.

fn hold_of<'a>(rows: &'a [Value], referentie: &str) -> Option<&'a Value> {
    rows.iter().find(|h| h["referentie_nummer"] == referentie)
}

#[test]
fn holds_323_before_305_released_and_restored() {
    let dir = stories_dir().join("holds-323-before-305");
    let valid = common::root().join("fixtures").join("valid");
    for db in common::backends() {
        let env = Env::new(db, TIMELINE_TODAY);
        let l = env.label();
        env.import_contracts_text(TIMELINE_CONTRACT);
        assert_eq!(
            env.process_one(&valid.join("301a.xml"))["outcome"],
            "registered"
        );

        // The 323 before its 305: approved in the 325 (OP364), held from payment.
        let r = env.process_one(&valid.join("323a.xml"));
        assert_eq!(r["outcome"], "accepted", "[{l}] {r}");
        assert_eq!(strings(&r["codes"]), ["0200", "8001"], "[{l}] {r}");
        let errs = check_answer(
            &serde_json::json!({"Header": ["0200"], "DeclaratieAntwoord": ["8001"], "TotaalToegekend": [95900, "D"], "no_clients": true}),
            Some(&env.answer_path(r["answer"].as_str().unwrap())),
        );
        assert!(errs.is_empty(), "[{l}] {errs:?}");
        let held = env.holds(false);
        let h =
            hold_of(&held, "PR2501000001").unwrap_or_else(|| panic!("[{l}] not held: {held:?}"));
        assert_eq!(h["status"], "held", "[{l}]");
        assert_eq!(h["bedrag"], 95900, "[{l}]");
        assert_eq!(h["toewijzing_nummer"], 40001, "[{l}]");
        assert_eq!(h["client"], "******019", "[{l}] BSN masked by default");

        // --toon-bsn shows it (that run is not part of the privacy check).
        let out = env
            .command(&["holds", "list", "--format", "json", "--toon-bsn"])
            .output()
            .unwrap();
        assert!(
            String::from_utf8_lossy(&out.stdout).contains("999990019"),
            "[{l}] --toon-bsn"
        );

        // The 305 releases it.
        let r = env.process_one(&valid.join("305a.xml"));
        assert_eq!(r["outcome"], "accepted", "[{l}] {r}");
        assert!(
            hold_of(&env.holds(false), "PR2501000001").is_none(),
            "[{l}] still held after 305"
        );
        let all = env.holds(true);
        let h = hold_of(&all, "PR2501000001")
            .unwrap_or_else(|| panic!("[{l}] --all lacks it: {all:?}"));
        assert_eq!(h["status"], "released", "[{l}]");

        // Deleting that start (status 3) puts it back.
        let r = env.process_one(&dir.join("04-305.xml"));
        assert_eq!(r["outcome"], "accepted", "[{l}] {r}");
        let held = env.holds(false);
        let h = hold_of(&held, "PR2501000001")
            .unwrap_or_else(|| panic!("[{l}] not held again: {held:?}"));
        assert_eq!(h["status"], "held", "[{l}]");
        assert!(
            env.signals().is_empty(),
            "[{l}] no signals under policy hold"
        );
        env.finish();
    }
}

#[test]
fn policy_signal_pays_and_signals() {
    let valid = common::root().join("fixtures").join("valid");
    for db in common::backends() {
        let env = Env::new(db, TIMELINE_TODAY);
        let l = env.label();
        env.import_contracts_text(TIMELINE_CONTRACT);
        env.ok(&["policy", "set", "0344", "signal"]);
        env.process_one(&valid.join("301a.xml"));
        let r = env.process_one(&valid.join("323a.xml"));
        assert_eq!(r["outcome"], "accepted", "[{l}] {r}");
        assert_eq!(strings(&r["codes"]), ["0200", "8001"], "[{l}] {r}");
        assert!(
            env.holds(true).is_empty(),
            "[{l}] no hold under policy signal: {:?}",
            env.holds(true)
        );
        let s = env.signals();
        assert_eq!(s.len(), 1, "[{l}] {s:?}");
        assert_eq!(s[0]["soort"], "geen-start", "[{l}]");
        assert_eq!(s[0]["referentie_nummer"], "PR2501000001", "[{l}]");
        assert_eq!(s[0]["client"], "******019", "[{l}]");
        env.finish();
    }
}

#[test]
fn policy_reject_rejects_the_line() {
    let valid = common::root().join("fixtures").join("valid");
    for db in common::backends() {
        let env = Env::new(db, TIMELINE_TODAY);
        let l = env.label();
        env.import_contracts_text(TIMELINE_CONTRACT);
        let out = env.run(&["policy", "set", "0344", "reject"]);
        assert!(out.status.success(), "[{l}]");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("OP364"),
            "[{l}] switching to reject is flagged as a deviation from OP364"
        );
        env.process_one(&valid.join("301a.xml"));
        let r = env.process_one(&valid.join("323a.xml"));
        assert_eq!(r["outcome"], "rejected", "[{l}] {r}");
        let errs = check_answer(
            &serde_json::json!({"Header": ["0200"], "DeclaratieAntwoord": ["0200"], "TotaalToegekend": [0, "D"],
                                "Prestatie:PR2501000001": ["9069"], "prestaties_returned": ["PR2501000001"]}),
            Some(&env.answer_path(r["answer"].as_str().unwrap())),
        );
        assert!(errs.is_empty(), "[{l}] {errs:?}");
        assert!(
            env.holds(true).is_empty(),
            "[{l}] a rejected line is not held"
        );
        env.finish();
    }
}

// ---------------------------------------------------------------------------------------------
// e. Double-declaration signals.

#[test]
fn signal_dubbel_toewijzing() {
    run_story_with(
        &stories_dir().join("signal-dubbel-toewijzing"),
        |_, lines| {
            // Never a retour code for it: the second declaration is fully approved.
            let mut errs = Vec::new();
            let last = lines.last().unwrap();
            if strings(&last["codes"]) != ["0200", "8001"] {
                errs.push(format!(
                    "signal leaked into the retour codes: {}",
                    last["codes"]
                ));
            }
            errs
        },
    );
}

// ---------------------------------------------------------------------------------------------
// f. Order tolerance and duplicates (the stop-before-start story is in the macro list above;
// the 323 before its 305 in the holds test; the credit with its corrected debit in the
// timeline's 323b).

#[test]
fn same_message_twice_in_one_call_and_in_two_calls() {
    let valid = common::root().join("fixtures").join("valid");
    for db in common::backends() {
        let env = Env::new(db, TIMELINE_TODAY);
        let l = env.label();
        env.import_contracts_text(TIMELINE_CONTRACT);
        let f = |n: &str| valid.join(n);
        // One call: 305a twice, 323b twice (a partially rejected declaration has codes to repeat).
        let lines = env.process(&[
            f("301a.xml"),
            f("305a.xml"),
            f("305a.xml"),
            f("305b.xml"),
            f("323a.xml"),
            f("323b.xml"),
            f("323b.xml"),
            f("301a.xml"),
        ]);
        let outcomes: Vec<&str> = lines
            .iter()
            .map(|x| x["outcome"].as_str().unwrap())
            .collect();
        assert_eq!(
            outcomes,
            [
                "registered",
                "accepted",
                "duplicate",
                "accepted",
                "accepted",
                "partially-accepted",
                "duplicate",
                "duplicate"
            ],
            "[{l}] {lines:?}"
        );
        for (first, again) in [(1, 2), (5, 6)] {
            assert_eq!(
                lines[first]["codes"], lines[again]["codes"],
                "[{l}] same codes"
            );
            assert_eq!(
                lines[first]["answer"], lines[again]["answer"],
                "[{l}] same answer file"
            );
            assert_eq!(
                lines[first]["identificatie"], lines[again]["identificatie"],
                "[{l}]"
            );
        }
        let a323 = env.answer_path(lines[5]["answer"].as_str().unwrap());
        let before = std::fs::read(&a323).unwrap();
        // Two calls: the same files again, one per call.
        for (i, name) in [(1, "305a.xml"), (5, "323b.xml")] {
            let r = env.process_one(&f(name));
            assert_eq!(r["outcome"], "duplicate", "[{l}] {name}: {r}");
            assert_eq!(r["codes"], lines[i]["codes"], "[{l}] {name}");
            assert_eq!(r["answer"], lines[i]["answer"], "[{l}] {name}");
        }
        assert_eq!(
            std::fs::read(&a323).unwrap(),
            before,
            "[{l}] the answer is the same file, unchanged"
        );
        let errs = check_answer(
            &serde_json::json!({"Header": ["0200"], "DeclaratieAntwoord": ["0200"], "TotaalToegekend": [13700, "C"],
                                "Prestatie:PR2502000003": ["9321"], "prestaties_returned": ["PR2502000003"]}),
            Some(&a323),
        );
        assert!(errs.is_empty(), "[{l}] {errs:?}");
        // A duplicate changes nothing: one message row per distinct message in the chain.
        let audit = env.ok(&["audit", "verify"]);
        assert!(audit.contains("intact: 5 "), "[{l}] {audit}");
        env.finish();
    }
}

// ---------------------------------------------------------------------------------------------
// h. Privacy on bad input too: every broken fixture through `iwmo process`; no BSN value of any
// of them (valid or not, 8–10 characters) shows in the output, and the answers that are written
// (level 2: header-only with 0001) validate against the XSD.

#[test]
fn broken_messages_never_echo_a_bsn() {
    let files = common::fixtures("broken");
    for db in common::backends() {
        let env = Env::new(db, TIMELINE_TODAY);
        let l = env.label();
        let mut values = BTreeSet::new();
        for f in &files {
            let text = String::from_utf8_lossy(&std::fs::read(f).unwrap()).to_string();
            for (i, _) in text.match_indices("Bsn>") {
                let v: String = text[i + 4..].chars().take_while(|c| *c != '<').collect();
                if v.trim().len() >= 8 {
                    values.insert(v.trim().to_string());
                }
            }
        }
        assert!(
            values.len() > 3,
            "[{l}] BSN values found in the broken fixtures"
        );
        let lines = env.process(&files);
        for x in &lines {
            assert!(
                matches!(
                    x["outcome"].as_str(),
                    Some("invalid" | "rejected" | "registered" | "accepted")
                ),
                "[{l}] {x}"
            );
        }
        env.bsns.borrow_mut().extend(values);
        env.finish();
    }
}
