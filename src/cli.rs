//! Command line: `iwmo check`, `process`, `contracts/toewijzingen/productcodes import`,
//! `policy set`, `holds list`, `signals list`, `replay`, `audit verify`.

use std::io::Write;
use std::path::PathBuf;

use chrono::NaiveDate;
use clap::{Parser, Subcommand, ValueEnum};

use crate::check;
use crate::message::ReadOptions;
use crate::pipeline::{self, Settings};
use crate::store::{self, Store};

#[derive(Parser, Debug)]
#[command(
    name = "iwmo",
    version,
    about = "iWmo 3.2 berichtenverwerking voor gemeenten"
)]
pub struct Cli {
    /// Maximum message size in bytes (the GGk limit is 25 MB).
    #[arg(long, global = true, env = "IWMO_MAX_BYTES", default_value_t = crate::intake::DEFAULT_MAX_BYTES)]
    pub max_bytes: usize,

    /// Database: sqlite://FILE (embedded default sqlite://iwmo.db, created on first use) or postgres://…
    #[arg(long, global = true, env = "IWMO_DATABASE_URL", hide_env_values = true)]
    pub database: Option<String>,

    /// "Today" for the rules (TR135, holds): YYYY-MM-DD; default the system date. For tests and replays.
    #[arg(long, global = true, env = "IWMO_TODAY")]
    pub today: Option<NaiveDate>,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Check messages on their own: intake, structure (level 1), in-message rules (level 2).
    Check {
        /// Files, or directories whose *.xml files are checked in name order.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Process messages against toewijzingen and contracts, store every decision, write answers.
    Process {
        /// Files (in the order given), or directories (their *.xml by name).
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// Directory for the answers (306/308/325); not written when absent.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Contract tariffs.
    Contracts {
        #[command(subcommand)]
        action: ImportAction,
    },
    /// Toewijzingen from a case system (CSV), besides the 301 messages.
    Toewijzingen {
        #[command(subcommand)]
        action: ImportAction,
    },
    /// The product code list in use (categorie,code); S329 is checked when it is not empty.
    Productcodes {
        #[command(subcommand)]
        action: ImportAction,
    },
    /// Local policy per gemeente.
    Policy {
        #[command(subcommand)]
        action: PolicyAction,
    },
    /// Declaration lines held from payment ("geen startbericht, geen betaling").
    Holds {
        #[command(subcommand)]
        action: ListAction,
    },
    /// Local signals for auditors (double declarations, lines without start).
    Signals {
        #[command(subcommand)]
        action: ListAction,
    },
    /// Re-run the decision on a message on the state as it was, and say whether it is identical.
    Replay {
        /// BerichtIdentificatie/Identificatie of the message.
        identificatie: String,
    },
    /// Verify the hash chain over all stored messages.
    Audit {
        #[command(subcommand)]
        action: AuditAction,
    },
    /// Run the worker: consume messages (inbox directory or RabbitMQ), publish answers.
    Serve(ServeArgs),
    /// Inspect and replay the RabbitMQ dead-letter queue.
    DeadLetters {
        #[command(subcommand)]
        action: DeadLetterAction,
        #[command(flatten)]
        serve: ServeArgs,
    },
}

/// Flags of `iwmo serve` (the last layer over defaults, `--config` file and IWMO_* environment).
#[derive(clap::Args, Debug, Clone, Default)]
pub struct ServeArgs {
    /// TOML configuration file (see deploy/iwmo.example.toml).
    #[arg(long, env = "IWMO_CONFIG")]
    pub config: Option<PathBuf>,
    /// file (watched inbox directory) or amqp (RabbitMQ).
    #[arg(long)]
    pub transport: Option<String>,
    #[arg(long)]
    pub inbox: Option<PathBuf>,
    #[arg(long)]
    pub amqp_url: Option<String>,
    #[arg(long)]
    pub inbound_queue: Option<String>,
    #[arg(long)]
    pub http_addr: Option<String>,
    #[arg(long)]
    pub metrics_addr: Option<String>,
    #[arg(long)]
    pub concurrency: Option<usize>,
    #[arg(long)]
    pub prefetch: Option<u16>,
    #[arg(long)]
    pub batch_size: Option<usize>,
}

#[derive(Subcommand, Debug)]
pub enum DeadLetterAction {
    /// List dead letters (they stay in the queue).
    List,
    /// Show the N-th dead letter's body (1-based, as listed).
    Show { n: usize },
    /// Republish the N-th dead letter to the inbound queue and remove it from the dead letters.
    Replay { n: usize },
}

/// The serve configuration from all layers.
pub fn serve_config(
    database: Option<&str>,
    a: &ServeArgs,
) -> Result<crate::config::Config, String> {
    let env: Vec<(String, String)> = std::env::vars().collect();
    let mut c = crate::config::load(a.config.as_ref(), &env).map_err(|e| e.to_string())?;
    if let Some(d) = database {
        c.database_url = d.to_string();
    }
    if let Some(t) = &a.transport {
        c.transport = match t.as_str() {
            "file" => crate::config::TransportKind::File,
            "amqp" => crate::config::TransportKind::Amqp,
            _ => return Err("--transport moet file of amqp zijn".into()),
        };
    }
    if let Some(i) = &a.inbox {
        c.inbox_dir = i.clone();
    }
    if let Some(u) = &a.amqp_url {
        c.amqp_url = u.clone();
    }
    if let Some(q) = &a.inbound_queue {
        c.inbound_queue = q.clone();
    }
    if let Some(h) = &a.http_addr {
        c.http_addr = h.clone();
    }
    if let Some(m) = &a.metrics_addr {
        c.metrics_addr = m.clone();
    }
    if let Some(n) = a.concurrency {
        c.concurrency = n;
    }
    if let Some(p) = a.prefetch {
        c.prefetch = p;
    }
    if let Some(b) = a.batch_size {
        c.batch_size = b.max(1);
    }
    Ok(c)
}

#[derive(Subcommand, Debug)]
pub enum ImportAction {
    /// Import a CSV file.
    Import { file: PathBuf },
}

#[derive(Subcommand, Debug)]
pub enum PolicyAction {
    /// Set the policy for lines without a covering start: signal, hold (default) or reject
    /// (reject deviates from OP364 and is logged as such).
    Set { gemeente: String, policy: String },
}

#[derive(Subcommand, Debug)]
pub enum ListAction {
    List {
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        /// Show full BSNs (default: masked).
        #[arg(long)]
        toon_bsn: bool,
        /// Include released holds.
        #[arg(long)]
        all: bool,
    },
}

#[derive(Subcommand, Debug)]
pub enum AuditAction {
    Verify,
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub enum Format {
    Text,
    Json,
}

/// The clock: `--today` / `IWMO_TODAY`, else the local date.
pub fn today(cli_today: Option<NaiveDate>) -> NaiveDate {
    cli_today.unwrap_or_else(|| chrono::Local::now().date_naive())
}

/// Runs the CLI; returns the process exit code.
pub fn run(cli: Cli) -> i32 {
    if let Command::Check { paths, format } = &cli.command {
        return run_check(paths, *format, cli.max_bytes);
    }
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("iwmo: kan runtime niet starten: {e}");
            return 3;
        }
    };
    rt.block_on(run_async(cli))
}

async fn open(url: &str) -> Option<Store> {
    match Store::open(url).await {
        Ok(s) => Some(s),
        Err(e) => {
            eprintln!(
                "iwmo: database {} niet bereikbaar: {e}",
                store::redact_url(url)
            );
            None
        }
    }
}

/// `iwmo <what> import FILE`: reads and parses the CSV and stores it. Exit 0 with what was
/// imported, 1 when the file does not parse (the error names the line), 2 when it cannot be read,
/// 3 when the store fails.
async fn import_csv<T, E, Fut>(
    what: &str,
    file: &PathBuf,
    parse: impl Fn(&str) -> Result<T, E>,
    store_it: impl FnOnce(T) -> Fut,
) -> i32
where
    E: std::fmt::Display,
    Fut: std::future::Future<Output = Result<String, crate::store::StoreError>>,
{
    let text = match read_text(file) {
        Ok(t) => t,
        Err(c) => return c,
    };
    match parse(&text) {
        Ok(items) => match store_it(items).await {
            Ok(done) => {
                println!("{done}");
                0
            }
            Err(e) => {
                eprintln!("iwmo: {e}");
                3
            }
        },
        Err(e) => {
            eprintln!("iwmo {what} import: {}: {e}", file.display());
            1
        }
    }
}

fn read_text(path: &PathBuf) -> Result<String, i32> {
    std::fs::read_to_string(path).map_err(|e| {
        eprintln!("iwmo: kan {} niet lezen: {e}", path.display());
        2
    })
}

async fn run_async(cli: Cli) -> i32 {
    let today_fixed = cli.today;
    let today = today(cli.today);
    match &cli.command {
        Command::Serve(a) => {
            return match serve_config(cli.database.as_deref(), a) {
                Ok(c) => crate::serve::run(c, today_fixed).await,
                Err(e) => {
                    eprintln!("iwmo serve: {e}");
                    2
                }
            };
        }
        Command::DeadLetters { action, serve } => {
            let c = match serve_config(cli.database.as_deref(), serve) {
                Ok(c) => c,
                Err(e) => {
                    eprintln!("iwmo dead-letters: {e}");
                    return 2;
                }
            };
            let replay = match action {
                DeadLetterAction::Replay { n } => Some(*n),
                _ => None,
            };
            return match crate::serve::amqp::dead_letters(&c, replay).await {
                Ok(list) => {
                    match action {
                        DeadLetterAction::List => {
                            if list.is_empty() {
                                println!("geen dead letters in {}", c.dead_letter_queue);
                            }
                            for d in &list {
                                println!(
                                    "{:>4}  {} bytes  message-id {}  reden {}",
                                    d.index,
                                    d.size,
                                    d.message_id.as_deref().unwrap_or("-"),
                                    d.reason
                                );
                            }
                        }
                        DeadLetterAction::Show { n } => match list.iter().find(|d| d.index == *n) {
                            Some(d) => println!("{}", String::from_utf8_lossy(&d.body)),
                            None => {
                                eprintln!("geen dead letter nummer {n}");
                                return 1;
                            }
                        },
                        DeadLetterAction::Replay { n } => {
                            if list.iter().any(|d| d.index == *n) {
                                println!(
                                    "dead letter {n} opnieuw aangeboden aan {}",
                                    c.inbound_queue
                                );
                            } else {
                                eprintln!("geen dead letter nummer {n}");
                                return 1;
                            }
                        }
                    }
                    0
                }
                Err(e) => {
                    eprintln!("iwmo dead-letters: RabbitMQ niet bereikbaar: {e}");
                    3
                }
            };
        }
        _ => {}
    }
    let database = cli
        .database
        .clone()
        .unwrap_or_else(|| store::DEFAULT_URL.to_string());
    let Some(store) = open(&database).await else {
        return 3;
    };
    match cli.command {
        Command::Check { .. } | Command::Serve(_) | Command::DeadLetters { .. } => 0,
        Command::Process { paths, out } => {
            let files = match check::expand(&paths) {
                Ok(f) => f,
                Err(e) => {
                    eprintln!("iwmo process: {e}");
                    return 2;
                }
            };
            let settings = Settings {
                read: ReadOptions {
                    max_bytes: cli.max_bytes,
                },
                out_dir: out,
            };
            let stdout = std::io::stdout();
            for f in files {
                let name = f.display().to_string();
                let bytes = match check::read_file(&f, cli.max_bytes) {
                    Ok(b) => b,
                    Err(v) => {
                        // Too large or unreadable: store what we can and report it as invalid.
                        let bytes = std::fs::read(&f).unwrap_or_default();
                        let line = serde_json::json!({"file": name, "kind": null, "afzender": null, "identificatie": null,
                            "outcome": "invalid", "codes": [], "answer": null,
                            "error": v.error.map(|e| e.message)});
                        let _ = bytes;
                        let _ = writeln!(stdout.lock(), "{line}");
                        continue;
                    }
                };
                match pipeline::process(&store, &name, &bytes, today, &settings).await {
                    Ok(o) => {
                        tracing::info!(file = %o.file, kind = ?o.kind, outcome = %o.outcome, codes = ?o.codes, "verwerkt");
                        let _ = writeln!(
                            stdout.lock(),
                            "{}",
                            serde_json::to_string(&o).unwrap_or_default()
                        );
                    }
                    Err(e) => {
                        eprintln!("iwmo process: {name}: opslag mislukt: {e}");
                        return 3;
                    }
                }
            }
            // Seal what this run stored into the hash chain.
            if let Err(e) = store.seal_all().await {
                eprintln!("iwmo process: hashketen bijwerken mislukt: {e}");
                return 3;
            }
            0
        }
        Command::Contracts {
            action: ImportAction::Import { file },
        } => {
            let (st, name) = (&store, file.display().to_string());
            import_csv(
                "contracts",
                &file,
                crate::imports::parse_contracts,
                |c| async move {
                    let n = st.import_contracts(&name, &c).await?;
                    Ok(format!("{n} contractregel(s) geïmporteerd uit {name}"))
                },
            )
            .await
        }
        Command::Toewijzingen {
            action: ImportAction::Import { file },
        } => {
            let (st, name) = (&store, file.display().to_string());
            import_csv(
                "toewijzingen",
                &file,
                crate::imports::parse_toewijzingen,
                |t| async move {
                    st.import_toewijzingen(&format!("csv:{name}"), &t).await?;
                    Ok(format!(
                        "{} toewijzing(en) geïmporteerd uit {name}",
                        t.len()
                    ))
                },
            )
            .await
        }
        Command::Productcodes {
            action: ImportAction::Import { file },
        } => {
            let st = &store;
            import_csv(
                "productcodes",
                &file,
                crate::imports::parse_product_codes,
                |c| async move {
                    let n = st.import_product_codes(&c).await?;
                    Ok(format!("{n} productcode(s) geïmporteerd"))
                },
            )
            .await
        }
        Command::Policy {
            action: PolicyAction::Set { gemeente, policy },
        } => {
            let Some(p) = crate::rules::state::StartPolicy::parse(&policy) else {
                eprintln!("iwmo policy set: beleid moet signal, hold of reject zijn");
                return 2;
            };
            if crate::domain::Gemeentecode::parse(&gemeente).is_err() {
                eprintln!("iwmo policy set: gemeentecode moet 4 cijfers zijn");
                return 2;
            }
            if p == crate::rules::state::StartPolicy::Reject {
                tracing::warn!(gemeente = %gemeente, "beleid 'reject' wijkt af van OP364 (geen afkeur op ontbrekende start)");
                eprintln!("let op: 'reject' wijkt af van OP364; declaratieregels zonder start worden afgekeurd");
            }
            match store.set_start_policy(&gemeente, p).await {
                Ok(()) => {
                    println!("beleid voor gemeente {gemeente}: {}", p.as_str());
                    0
                }
                Err(e) => {
                    eprintln!("iwmo: {e}");
                    3
                }
            }
        }
        Command::Holds {
            action:
                ListAction::List {
                    format,
                    toon_bsn,
                    all,
                },
        } => match store.holds(all, toon_bsn).await {
            Ok(rows) => {
                match format {
                    Format::Json => println!(
                        "{}",
                        serde_json::to_string_pretty(&rows).unwrap_or_default()
                    ),
                    Format::Text => {
                        if rows.is_empty() {
                            println!("geen vastgehouden declaratieregels");
                        }
                        for h in &rows {
                            println!(
                                "{} aanbieder {} declaratie {} ref {} cliënt {} toewijzing {} periode {} t/m {} {}: {}",
                                h.status,
                                h.aanbieder,
                                h.declaratie_nummer,
                                h.referentie_nummer,
                                h.client,
                                h.toewijzing_nummer,
                                h.periode_begin,
                                h.periode_eind,
                                crate::domain::Euro(h.bedrag),
                                h.reden
                            );
                        }
                    }
                }
                0
            }
            Err(e) => {
                eprintln!("iwmo: {e}");
                3
            }
        },
        Command::Signals {
            action: ListAction::List {
                format, toon_bsn, ..
            },
        } => match store.signals(toon_bsn).await {
            Ok(rows) => {
                match format {
                    Format::Json => println!(
                        "{}",
                        serde_json::to_string_pretty(&rows).unwrap_or_default()
                    ),
                    Format::Text => {
                        if rows.is_empty() {
                            println!("geen signalen");
                        }
                        for s in &rows {
                            println!(
                                "{} aanbieder {} ref {} (andere: {}) cliënt {} toewijzing {} periode {} t/m {}: {}",
                                s.soort,
                                s.aanbieder,
                                s.referentie_nummer,
                                s.andere_referentie.as_deref().unwrap_or("-"),
                                s.client,
                                s.toewijzing_nummer,
                                s.periode_begin,
                                s.periode_eind,
                                s.tekst
                            );
                        }
                    }
                }
                0
            }
            Err(e) => {
                eprintln!("iwmo: {e}");
                3
            }
        },
        Command::Replay { identificatie } => {
            match crate::replay::replay(&store, &identificatie).await {
                Ok(reports) if reports.is_empty() => {
                    eprintln!(
                        "iwmo replay: geen beslissing gevonden voor Identificatie {identificatie}"
                    );
                    1
                }
                Ok(reports) => {
                    let mut all_same = true;
                    for r in &reports {
                        println!("{}", r.render());
                        all_same &= r.identical;
                    }
                    if all_same {
                        0
                    } else {
                        1
                    }
                }
                Err(e) => {
                    eprintln!("iwmo: {e}");
                    3
                }
            }
        }
        Command::Audit {
            action: AuditAction::Verify,
        } => match store.verify_chain().await {
            Ok(Ok(n)) => {
                println!("hashketen intact: {n} bericht(en)");
                0
            }
            Ok(Err(id)) => {
                println!("hashketen verbroken bij bericht {id}");
                1
            }
            Err(e) => {
                eprintln!("iwmo: {e}");
                3
            }
        },
    }
}

fn run_check(paths: &[PathBuf], format: Format, max_bytes: usize) -> i32 {
    let files = match check::expand(paths) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("iwmo check: {e}");
            return 2;
        }
    };
    let opts = ReadOptions { max_bytes };
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let mut all_valid = true;
    for f in files {
        let verdict = match check::read_file(&f, max_bytes) {
            Ok(bytes) => check::check_bytes(&f.display().to_string(), &bytes, opts),
            Err(v) => *v,
        };
        all_valid &= verdict.is_valid();
        let line = match format {
            Format::Json => serde_json::to_string(&verdict).unwrap_or_default() + "\n",
            Format::Text => check::render_text(&verdict),
        };
        if out.write_all(line.as_bytes()).is_err() {
            return 2;
        }
    }
    if all_valid {
        0
    } else {
        1
    }
}
