//! One configuration for every command, through the real binary: layers (file < environment <
//! flag), `config show` with origins and redaction, read-only commands that refuse a missing
//! database, unknown keys, worker_threads; and the deploy files that list the keys.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_iwmo");

fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

/// The binary in `dir`, without any IWMO_* or RUST_LOG of the test's own environment.
fn iwmo(dir: &Path, env: &[(&str, &str)], args: &[&str]) -> Command {
    let mut c = Command::new(BIN);
    for (k, _) in std::env::vars() {
        if k.starts_with("IWMO_") || k == "RUST_LOG" {
            c.env_remove(k);
        }
    }
    c.args(args)
        .envs(env.iter().copied())
        .current_dir(dir)
        .stdin(Stdio::null());
    c
}

fn run(dir: &Path, env: &[(&str, &str)], args: &[&str]) -> (i32, String, String) {
    let out: Output = iwmo(dir, env, args).output().expect("run iwmo");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p.display().to_string()
}

/// The `config show` line of `key`.
fn shown<'a>(show: &'a str, key: &str) -> &'a str {
    show.lines()
        .find(|l| l.starts_with(&format!("{key} = ")))
        .unwrap_or_else(|| panic!("no line for {key} in:\n{show}"))
}

const MSG: &str = "fixtures/valid/301a.xml";

#[test]
fn database_url_from_file_then_env_then_flag() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path();
    let cfg = write(dir, "iwmo.toml", "database_url = \"sqlite://file.db\"\n");
    let msg = fixture(MSG).display().to_string();
    let file = [("IWMO_CONFIG", cfg.as_str())];
    let env = [
        ("IWMO_CONFIG", cfg.as_str()),
        ("IWMO_DATABASE_URL", "sqlite://env.db"),
    ];
    let (code, _, err) = run(dir, &file, &["process", &msg]);
    assert_eq!(code, 0, "{err}");
    let (code, _, err) = run(dir, &env, &["process", &msg]);
    assert_eq!(code, 0, "{err}");
    let (code, _, err) = run(
        dir,
        &env,
        &["process", "--database", "sqlite://flag.db", &msg],
    );
    assert_eq!(code, 0, "{err}");
    for db in ["file.db", "env.db", "flag.db"] {
        assert!(dir.join(db).is_file(), "{db} not created");
        let url = format!("sqlite://{db}");
        let (code, out, err) = run(dir, &file, &["audit", "verify", "--database", &url]);
        assert_eq!(
            (code, out.trim()),
            (0, "hashketen intact: 1 bericht(en), 0 actie(s)"),
            "{err}"
        );
    }
    assert!(
        !dir.join("iwmo.db").exists(),
        "the default database was used"
    );

    let (_, show, _) = run(dir, &env, &["config", "show"]);
    assert!(
        shown(&show, "database_url").contains("\"sqlite://env.db\""),
        "{show}"
    );
    assert!(
        shown(&show, "database_url").ends_with("# IWMO_DATABASE_URL"),
        "{show}"
    );
    let (_, show, _) = run(dir, &file, &["config", "show"]);
    assert!(
        shown(&show, "database_url").ends_with(&format!("# {cfg}")),
        "{show}"
    );
}

#[test]
fn the_file_alone_names_the_database_of_a_read_only_command() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path();
    let db = dir.join("data").join("iwmo.db");
    std::fs::create_dir(dir.join("data")).unwrap();
    let cfg = write(
        dir,
        "iwmo.toml",
        &format!("database_url = \"sqlite://{}\"\n", db.display()),
    );
    let env = [("IWMO_CONFIG", cfg.as_str())];
    let msg = fixture(MSG).display().to_string();
    let (code, out, err) = run(dir, &env, &["process", &msg]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("\"outcome\":\"registered\""), "{out}");
    let (code, out, err) = run(dir, &env, &["audit", "verify"]);
    assert_eq!(
        (code, out.trim()),
        (0, "hashketen intact: 1 bericht(en), 0 actie(s)"),
        "{err}"
    );
    let (code, out, err) = run(dir, &env, &["holds", "list"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.trim(), "geen vastgehouden declaratieregels");
    assert!(!dir.join("iwmo.db").exists(), "./iwmo.db was created");
}

#[test]
fn read_only_commands_refuse_a_missing_database() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path();
    let cases: [&[&str]; 5] = [
        &["holds", "list"],
        &["signals", "list", "--format", "json"],
        &["audit", "verify"],
        &["replay", "DC2502050001"],
        &["audit", "verify", "--database", "sqlite://weg/nergens.db"],
    ];
    for args in cases {
        let (code, out, err) = run(dir, &[], args);
        assert_eq!(code, 3, "{args:?}: {out}{err}");
        assert!(
            err.contains("bestaat niet") && err.contains("maakt geen lege database aan"),
            "{args:?}: {err}"
        );
        assert!(out.is_empty(), "{args:?} printed {out}");
    }
    // Named without its password, and nothing created.
    let (code, _, err) = run(
        dir,
        &[("IWMO_DATABASE_URL", "sqlite://geheim.db")],
        &["holds", "list"],
    );
    assert_eq!(code, 3);
    assert!(err.contains("sqlite://geheim.db"), "{err}");
    let left: Vec<_> = std::fs::read_dir(dir).unwrap().flatten().collect();
    assert!(left.is_empty(), "files created: {left:?}");
    // A writing command still creates it.
    let (code, _, err) = run(dir, &[], &["policy", "set", "0344", "signal"]);
    assert_eq!(code, 0, "{err}");
    assert!(dir.join("iwmo.db").is_file());
    let (code, _, err) = run(dir, &[], &["holds", "list"]);
    assert_eq!(code, 0, "{err}");
}

#[test]
fn log_format_from_file_then_env_then_flag_without_colour_codes() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path();
    let cfg = write(dir, "iwmo.toml", "log_format = \"json\"\n");
    // `policy set … reject` logs a warning (the tools' default level).
    let args = ["policy", "set", "0344", "reject"];
    let with = |env: &[(&str, &str)], extra: &[&str]| {
        let all: Vec<&str> = args.iter().chain(extra).copied().collect();
        let (code, _, err) = run(dir, env, &all);
        assert_eq!(code, 0, "{err}");
        let line = err
            .lines()
            .find(|l| l.contains("OP364") && !l.starts_with("let op"))
            .unwrap_or_else(|| panic!("no log line in {err}"))
            .to_string();
        assert!(!line.contains('\u{1b}'), "colour codes in {line:?}");
        line
    };
    let file = [("IWMO_CONFIG", cfg.as_str())];
    let env = [("IWMO_CONFIG", cfg.as_str()), ("IWMO_LOG_FORMAT", "text")];
    assert!(with(&[], &[]).contains(" WARN "), "tools default to text");
    let line = with(&file, &[]);
    assert!(
        serde_json::from_str::<serde_json::Value>(&line).is_ok(),
        "{line}"
    );
    let line = with(&env, &[]);
    assert!(line.contains(" WARN ") && !line.starts_with('{'), "{line}");
    let line = with(&env, &["--log-format", "json"]);
    assert!(
        serde_json::from_str::<serde_json::Value>(&line).is_ok(),
        "{line}"
    );
}

#[test]
fn max_bytes_from_file_then_env_then_flag() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path();
    let cfg = write(dir, "iwmo.toml", "max_bytes = 100\n");
    let msg = fixture(MSG).display().to_string();
    let outcome = |env: &[(&str, &str)], extra: &[&str]| {
        let mut args = vec!["process", msg.as_str()];
        args.extend(extra);
        let (code, out, err) = run(dir, env, &args);
        assert_eq!(code, 0, "{err}");
        let v: serde_json::Value = serde_json::from_str(out.trim()).expect(&out);
        v["outcome"].as_str().unwrap_or_default().to_string()
    };
    let file = [("IWMO_CONFIG", cfg.as_str())];
    let env = [("IWMO_CONFIG", cfg.as_str()), ("IWMO_MAX_BYTES", "1000000")];
    assert_eq!(outcome(&file, &[]), "invalid", "the file's 100 bytes");
    assert_eq!(outcome(&env, &[]), "registered", "the environment's 1 MB");
    assert_eq!(
        outcome(&env, &["--max-bytes", "100"]),
        "invalid",
        "the flag"
    );
    let (_, show, _) = run(dir, &env, &["config", "show", "--max-bytes", "100"]);
    assert!(
        shown(&show, "max_bytes").starts_with("max_bytes = 100 ")
            && shown(&show, "max_bytes").ends_with("# --max-bytes"),
        "{show}"
    );
}

#[test]
fn config_show_names_origins_and_redacts_passwords() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path();
    let cfg = write(
        dir,
        "iwmo.toml",
        "amqp_url = \"amqp://iwmo:bestandgeheim@mq:5672/%2f\"\nprefetch = 10\ntransport = \"amqp\"\n",
    );
    let env = [
        ("IWMO_CONFIG", cfg.as_str()),
        (
            "IWMO_DATABASE_URL",
            "postgres://iwmo:envgeheim@db:5432/iwmo",
        ),
        ("IWMO_PREFETCH", "64"),
        ("IWMO_WORKER_THREADS", "3"),
    ];
    let (code, show, err) = run(dir, &env, &["config", "show", "--transport", "file"]);
    assert_eq!(code, 0, "{err}");
    assert!(!show.contains("geheim"), "a password is shown:\n{show}");
    let db = shown(&show, "database_url");
    assert!(db.contains("postgres://iwmo:***@db:5432/iwmo") && db.ends_with("# IWMO_DATABASE_URL"));
    let amqp = shown(&show, "amqp_url");
    assert!(amqp.contains("amqp://iwmo:***@mq") && amqp.ends_with(&format!("# {cfg}")));
    assert!(
        shown(&show, "prefetch").ends_with("# IWMO_PREFETCH"),
        "{show}"
    );
    assert!(
        shown(&show, "transport").ends_with("# --transport"),
        "{show}"
    );
    assert!(
        shown(&show, "batch_size").ends_with("# standaard"),
        "{show}"
    );
    let threads = shown(&show, "worker_threads");
    assert!(
        threads.contains("# IWMO_WORKER_THREADS; effectief 3"),
        "{threads}"
    );
    // The output is TOML that loads again (comments and all).
    let again = write(dir, "again.toml", &show);
    let (code, _, err) = run(dir, &[], &["config", "show", "--config", &again]);
    assert_eq!(code, 0, "{err}");
}

#[test]
fn unknown_or_invalid_values_are_refused_by_name() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path();
    let cfg = write(
        dir,
        "iwmo.toml",
        "prefetch = 10\ndatabse_url = \"sqlite://x.db\"\n",
    );
    let (code, out, err) = run(dir, &[("IWMO_CONFIG", &cfg)], &["holds", "list"]);
    assert_eq!(code, 2, "{out}{err}");
    assert!(
        err.contains("onbekende sleutel `databse_url`") && err.contains(&cfg),
        "{err}"
    );
    let (code, _, err) = run(dir, &[("IWMO_PREFETCH", "veel")], &["config", "show"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("IWMO_PREFETCH") && err.contains("ongeldige waarde"),
        "{err}"
    );
    let (code, _, err) = run(dir, &[], &["--config", "weg.toml", "config", "show"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("weg.toml") && err.contains("niet leesbaar"),
        "{err}"
    );
    assert!(!dir.join("iwmo.db").exists() && !dir.join("x.db").exists());
}

#[test]
fn serve_logs_the_runtime_threads_it_was_given() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path();
    let log = dir.join("serve.log");
    let env = [
        ("IWMO_WORKER_THREADS", "3"),
        ("IWMO_HTTP_ADDR", "127.0.0.1:0"),
        ("IWMO_METRICS_ADDR", "127.0.0.1:0"),
    ];
    let mut child = iwmo(dir, &env, &["serve"])
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .expect("start iwmo serve");
    let t = Instant::now();
    let start = loop {
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        if let Some(l) = text.lines().find(|l| l.contains("iwmo serve start")) {
            break l.to_string();
        }
        if t.elapsed() > Duration::from_secs(30) || child.try_wait().ok().flatten().is_some() {
            let _ = child.kill();
            panic!("no start line in:\n{text}");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let _ = child.kill();
    let _ = child.wait();
    let v: serde_json::Value = serde_json::from_str(&start).expect("a JSON log line");
    assert_eq!(v["fields"]["worker_threads"], 3, "{start}");
    assert!(
        !start.contains("guest:guest"),
        "the AMQP password is logged: {start}"
    );
}

/// The example file lists every key (commented out where it has no value by default), loads,
/// and names no key the program does not have; the ConfigMap's file loads too; every IWMO_*
/// variable the documentation names is a key.
#[test]
fn deploy_files_and_docs_follow_the_keys() {
    let keys = iwmo::config::Config::keys();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let example = std::fs::read_to_string(root.join("deploy/iwmo.example.toml")).unwrap();
    let listed: Vec<&str> = example
        .lines()
        .map(|l| l.trim_start_matches("# "))
        .filter_map(|l| l.split_once(" = ").map(|(k, _)| k.trim()))
        .filter(|k| k.chars().all(|c| c.is_ascii_lowercase() || c == '_'))
        .collect();
    for k in keys {
        assert!(
            listed.contains(k),
            "key {k} is missing from deploy/iwmo.example.toml"
        );
    }
    for k in &listed {
        assert!(
            keys.contains(k),
            "deploy/iwmo.example.toml lists unknown key {k}"
        );
    }
    let flags = iwmo::config::Flags::default();
    iwmo::config::load(Some(&root.join("deploy/iwmo.example.toml")), flags.clone()).unwrap();

    let cm = std::fs::read_to_string(root.join("deploy/k8s/configmap.yaml")).unwrap();
    let (_, body) = cm
        .split_once("iwmo.toml: |\n")
        .expect("iwmo.toml in the ConfigMap");
    let toml: String = body
        .lines()
        .take_while(|l| l.starts_with("    ") || l.is_empty())
        .map(|l| format!("{}\n", l.trim_start()))
        .collect();
    let d = tempfile::tempdir().unwrap();
    let f = d.path().join("iwmo.toml");
    std::fs::write(&f, &toml).unwrap();
    let c = iwmo::config::load(Some(&f), flags).expect("the ConfigMap's iwmo.toml loads");
    assert_eq!(c.config.transport, iwmo::config::TransportKind::Amqp);

    // IWMO_TOKEN: the bearer token of `iwmo betaalrondes` (a credential, never a configuration key).
    let extra = ["IWMO_CONFIG", "IWMO_KEY", "IWMO_SLEUTEL", "IWMO_TOKEN"];
    for doc in [
        "docs/operations.md",
        "README.md",
        "deploy/systemd/iwmo.env.example",
        "deploy/k8s/secret.example.yaml",
        "deploy/k8s/deployment.yaml",
        "deploy/compose.yaml",
    ] {
        let text = std::fs::read_to_string(root.join(doc)).unwrap();
        for (i, _) in text.match_indices("IWMO_") {
            let name: String = text[i..]
                .chars()
                .take_while(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || *c == '_')
                .collect();
            let key = name["IWMO_".len()..].to_ascii_lowercase();
            let known = keys.contains(&key.as_str())
                || extra.contains(&name.as_str())
                || name.starts_with("IWMO_TEST_")
                || name.starts_with("IWMO_BENCH_")
                || name == "IWMO_"
                || name.starts_with("IWMO_REQUIRE")
                || name.starts_with("IWMO_SHARED");
            assert!(known, "{doc} names {name}, which is no configuration key");
        }
    }
}
