//! The command line: clap definitions with Dutch help. Flags that set a configuration key are
//! named after the key (`#[arg(long = "…")]` gives the flag its short name) and serialize into
//! the flag layer of the configuration (see [`super::layers::Flags`]); nothing is merged by hand.

use std::path::PathBuf;

use chrono::NaiveDate;
use clap::{ArgAction, CommandFactory, FromArgMatches, Parser, Subcommand, ValueEnum};
use serde::Serialize;

use super::config::{LogFormat, TransportKind};
use super::layers::Flags;

#[derive(Parser, Debug)]
#[command(
    name = "iwmo",
    version,
    about = "iWmo 3.2 berichtenverwerking voor gemeenten",
    after_help = concat!(
        "Configuratie: standaardwaarden < TOML-bestand (--config of IWMO_CONFIG) < \
         omgevingsvariabelen IWMO_<SLEUTEL> < vlaggen. `iwmo config show` toont de \
         effectieve waarden en hun herkomst.\n\n",
        "Exitcodes:\n",
        "  0  gelukt (process: elk bestand afgehandeld, welke uitkomst ook; check: alles geldig)\n",
        "  1  niet alles: process: bestanden niet te lezen (genoemd op stderr), de rest is \
         verwerkt; check: een bestand ongeldig of onleesbaar; import: fouten in het \
         CSV-bestand, niets geïmporteerd\n",
        "  2  verkeerd gebruik: onbekende opdracht of optie, onbruikbare argumenten of configuratie\n",
        "  3  de database is niet bruikbaar (process: het genoemde bestand en de volgende zijn \
         niet beslist)\n",
        "  4  beslist en opgeslagen, maar een antwoord is niet geschreven (genoemd; \
         `iwmo answers write` of opnieuw draaien schrijft het)"
    )
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,

    #[command(subcommand)]
    pub command: Command,
}

/// Flags of every command.
#[derive(clap::Args, Debug, Clone, Default, Serialize)]
pub struct GlobalArgs {
    /// TOML-configuratiebestand (zie deploy/iwmo.example.toml); ook via IWMO_CONFIG.
    #[arg(
        long,
        global = true,
        env = "IWMO_CONFIG",
        hide_env = true,
        value_name = "BESTAND"
    )]
    #[serde(skip)]
    pub config: Option<PathBuf>,

    /// Database: sqlite://BESTAND (standaard sqlite://iwmo.db) of postgres://…
    /// [sleutel database_url, IWMO_DATABASE_URL]
    #[arg(long = "database", global = true, value_name = "URL")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database_url: Option<String>,

    /// Maximale berichtgrootte in bytes (de GGk-grens is 25 MB). [sleutel max_bytes]
    #[arg(long, global = true, value_name = "BYTES")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_bytes: Option<usize>,

    /// Logformaat op stderr: auto (json voor serve, anders text), text of json. Kleur alleen op
    /// een terminal. [sleutel log_format]
    #[arg(
        long,
        global = true,
        value_enum,
        hide_possible_values = true,
        value_name = "FORMAAT"
    )]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_format: Option<LogFormat>,

    /// "Vandaag" voor de regels (TR135, vasthouden): JJJJ-MM-DD; standaard de systeemdatum.
    /// Voor tests en replays. [sleutel today]
    #[arg(long, global = true, value_name = "DATUM")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub today: Option<NaiveDate>,

    /// Threads van de runtime; 0 = één per beschikbare processorkern. [sleutel worker_threads]
    #[arg(long, global = true, value_name = "N")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub worker_threads: Option<usize>,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Controleer berichten op zichzelf: intake, structuur (niveau 1), regels binnen het bericht
    /// (niveau 2); zonder database.
    #[command(
        after_help = "Exitcodes: 0 alle bestanden geldig; 1 een bestand ongeldig of \
        onleesbaar (elk met een eigen regel); 2 verkeerd gebruik."
    )]
    Check {
        /// Bestanden, of mappen waarvan de *.xml-bestanden op naamvolgorde worden gecontroleerd.
        #[arg(required = true, value_name = "PAD")]
        paths: Vec<PathBuf>,
        /// Uitvoer: text (standaard) of json (één regel per bestand).
        #[arg(long, value_enum, default_value_t = Format::Text, hide_possible_values = true, hide_default_value = true, value_name = "FORMAAT")]
        format: Format,
    },
    /// Verwerk berichten tegen toewijzingen en contracten, sla elke beslissing op, schrijf antwoorden.
    #[command(after_help = PROCESS_HELP)]
    Process {
        /// Bestanden (in de gegeven volgorde), of mappen (hun *.xml op naam).
        #[arg(required = true, value_name = "PAD")]
        paths: Vec<PathBuf>,
        /// Map voor de antwoorden (306/308/316/318/325), gemaakt als die ontbreekt; zonder deze
        /// optie wachten ze in de database (`iwmo answers write`).
        #[arg(long, value_name = "MAP")]
        out: Option<PathBuf>,
    },
    /// Antwoorden die in de database wachten: nog niet geschreven of verstuurd.
    Answers {
        #[command(subcommand)]
        action: AnswersAction,
    },
    /// Contracttarieven.
    Contracts {
        #[command(subcommand)]
        action: ImportAction,
    },
    /// Toewijzingen uit een zaaksysteem (CSV), naast de 301-berichten.
    Toewijzingen {
        #[command(subcommand)]
        action: ImportAction,
    },
    /// De gebruikte productcodelijst (categorie,code); S329 wordt gecontroleerd als die niet leeg is.
    Productcodes {
        #[command(subcommand)]
        action: ImportAction,
    },
    /// Aanbieders met naam en rekening (IBAN) waarop zij betaald worden.
    Aanbieders {
        #[command(subcommand)]
        action: PartyAction,
    },
    /// Gemeenten met naam en rekening (IBAN) waarvan zij betalen.
    Gemeenten {
        #[command(subcommand)]
        action: PartyAction,
    },
    /// Mensen die de API gebruiken met een token van iwmo: naam, rol en gemeenten.
    Gebruikers {
        #[command(subcommand)]
        action: GebruikersAction,
    },
    /// Lokaal beleid per gemeente.
    Policy {
        #[command(subcommand)]
        action: PolicyAction,
    },
    /// Declaratieregels die van betaling zijn vastgehouden ("geen startbericht, geen betaling").
    Holds {
        #[command(subcommand)]
        action: ListAction,
    },
    /// Lokale signalen voor controleurs: dubbele declaraties, en regels zonder start bij beleid
    /// `signal`.
    Signals {
        #[command(subcommand)]
        action: ListAction,
    },
    /// Verzoeken om toewijzing (WMO315) en om wijziging (WMO317) die op een besluit van de gemeente wachten.
    Verzoeken {
        #[command(subcommand)]
        action: ListAction,
    },
    /// Toewijzingen die de aanbieder met retourcodes heeft geweigerd (WMO302).
    Weigeringen {
        #[command(subcommand)]
        action: ListAction,
    },
    /// Voer de beslissing over een bericht opnieuw uit op de toenmalige stand (uitkomst, bevindingen,
    /// wijzigingen zoals holds, en de bytes van het antwoord) en meld precies wat afwijkt.
    Replay {
        /// BerichtIdentificatie/Identificatie van het bericht.
        #[arg(required_unless_present = "alle", value_name = "IDENTIFICATIE")]
        identificatie: Option<String>,
        /// Alle opgeslagen beslissingen, in volgorde van ontvangst.
        #[arg(long, conflicts_with = "identificatie")]
        alle: bool,
    },
    /// De hashketen over alle opgeslagen berichten.
    Audit {
        #[command(subcommand)]
        action: AuditAction,
    },
    /// Start de verwerker: berichten uit een inbox-map of RabbitMQ, antwoorden terug.
    Serve(ServeArgs),
    /// Start de HTTP-API (/api/v1: betaalrondes, aanbieders, gemeenten, afstemming; OpenAPI op
    /// /api/v1/openapi.json; /healthz, /readyz, /metrics).
    Api(ApiArgs),
    /// Betaalrondes: aanmaken, fiatteren (door een tweede medewerker), SEPA, journaal, betaald,
    /// intrekken — als een gebruiker met een token (`IWMO_TOKEN` of --token).
    Betaalrondes {
        #[command(subcommand)]
        action: RondeAction,
        /// Bearer-token van de gebruiker (`iwmo gebruikers toevoegen`); liever via IWMO_TOKEN, dan
        /// staat het niet in de proceslijst.
        #[arg(
            long,
            env = "IWMO_TOKEN",
            hide_env_values = true,
            global = true,
            value_name = "TOKEN"
        )]
        token: Option<String>,
    },
    /// Bekijk en herhaal de dead-letter-wachtrij van RabbitMQ.
    DeadLetters {
        #[command(subcommand)]
        action: DeadLetterAction,
        #[command(flatten)]
        serve: ServeArgs,
    },
    /// De effectieve configuratie.
    Config {
        #[command(subcommand)]
        action: ConfigAction,
    },
}

/// Flags of `iwmo serve` (and `dead-letters`), each setting the key it is named after.
#[derive(clap::Args, Debug, Clone, Default, Serialize)]
pub struct ServeArgs {
    /// file (inbox-map) of amqp (RabbitMQ). [sleutel transport]
    #[arg(long, value_enum, hide_possible_values = true, value_name = "SOORT")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transport: Option<TransportKind>,
    /// Map waaruit nieuwe berichten worden opgepakt. [sleutel inbox_dir]
    #[arg(long = "inbox", value_name = "MAP")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub inbox_dir: Option<PathBuf>,
    /// RabbitMQ-verbinding. [sleutel amqp_url, IWMO_AMQP_URL]
    #[arg(long, value_name = "URL")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub amqp_url: Option<String>,
    /// Wachtrij met binnenkomende berichten. [sleutel inbound_queue]
    #[arg(long, value_name = "NAAM")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub inbound_queue: Option<String>,
    /// Adres voor /healthz en /readyz. [sleutel http_addr]
    #[arg(long, value_name = "ADRES")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub http_addr: Option<String>,
    /// Adres voor /metrics. [sleutel metrics_addr]
    #[arg(long, value_name = "ADRES")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metrics_addr: Option<String>,
    /// Gelijktijdige transacties; 0 = één per processorkern (2 tot 8). [sleutel concurrency]
    #[arg(long, value_name = "N")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub concurrency: Option<usize>,
    /// Onbevestigde afleveringen per verwerker (AMQP basic.qos). [sleutel prefetch]
    #[arg(long, value_name = "N")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prefetch: Option<u16>,
    /// Wachtende afleveringen per gedeelde transactie (1 = elk apart). [sleutel batch_size]
    #[arg(long, value_name = "N")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub batch_size: Option<usize>,
}

/// Flags of `iwmo api`, each setting the key it is named after.
#[derive(clap::Args, Debug, Clone, Default, Serialize)]
pub struct ApiArgs {
    /// Adres van de API. [sleutel api_listen; standaard 127.0.0.1:8080]
    #[arg(long = "listen", value_name = "ADRES")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub api_listen: Option<String>,
}

#[derive(Subcommand, Debug)]
pub enum RondeAction {
    /// Maak een betaalronde (status concept) voor één gemeente tot en met een datum.
    Maak {
        /// Gemeentecode (4 cijfers).
        #[arg(long, value_name = "CODE")]
        gemeente: String,
        /// Laatste dag van de ProductPeriode die meegaat (JJJJ-MM-DD).
        #[arg(long, value_name = "DATUM")]
        tot_en_met: chrono::NaiveDate,
        /// Alleen deze aanbieder (AGB-code).
        #[arg(long, value_name = "AGB")]
        aanbieder: Option<String>,
    },
    /// Toon de betaalrondes binnen uw gemeenten (nieuwste eerst).
    List {
        #[arg(long, value_name = "CODE")]
        gemeente: Option<String>,
        /// concept, gefiatteerd, geexporteerd, betaald of ingetrokken.
        #[arg(long, value_name = "STATUS")]
        status: Option<String>,
    },
    /// Toon één betaalronde (JSON).
    Toon {
        #[arg(value_name = "ID")]
        id: i64,
    },
    /// Fiatteer een betaalronde (niet door wie haar aanmaakte).
    Fiatteer {
        #[arg(value_name = "ID")]
        id: i64,
    },
    /// Schrijf het SEPA-bestand (pain.001.001.09); de eerste keer wordt de ronde geëxporteerd.
    Sepa {
        #[arg(value_name = "ID")]
        id: i64,
        /// Bestand om naar te schrijven.
        #[arg(long, value_name = "BESTAND")]
        uit: PathBuf,
    },
    /// Schrijf het journaal (CSV, aanbieder × productcategorie).
    Journaal {
        #[arg(value_name = "ID")]
        id: i64,
        #[arg(long, value_name = "BESTAND")]
        uit: PathBuf,
    },
    /// Markeer een geëxporteerde betaalronde als betaald.
    Betaald {
        #[arg(value_name = "ID")]
        id: i64,
    },
    /// Trek een betaalronde in (concept of gefiatteerd); haar regels komen weer vrij.
    Intrekken {
        #[arg(value_name = "ID")]
        id: i64,
        #[arg(long, value_name = "TEKST")]
        reden: Option<String>,
    },
}

#[derive(Subcommand, Debug)]
pub enum DeadLetterAction {
    /// Toon de dead letters (ze blijven in de wachtrij).
    List,
    /// Toon de inhoud van dead letter nummer N (vanaf 1, zoals getoond; bevat persoonsgegevens).
    Show {
        /// Nummer in de lijst, vanaf 1.
        #[arg(value_name = "N")]
        n: usize,
    },
    /// Bied dead letter N opnieuw aan op de inkomende wachtrij en haal hem uit de dead letters.
    Replay {
        /// Nummer in de lijst, vanaf 1.
        #[arg(value_name = "N")]
        n: usize,
    },
}

#[derive(Subcommand, Debug)]
pub enum AnswersAction {
    /// Schrijf elk wachtend antwoord als bestand <soort>-<IdentificatieRetour>.xml, oudste
    /// eerst, en markeer het als afgeleverd; één pad per regel. Exit 0, of 4 als er een niet
    /// geschreven kon worden (genoemd; het blijft wachten).
    Write {
        /// Map voor de antwoorden, gemaakt als die ontbreekt. [standaard: sleutel outbox_dir]
        #[arg(long, value_name = "MAP")]
        out: Option<PathBuf>,
    },
}

#[derive(Subcommand, Debug)]
pub enum ImportAction {
    /// Importeer een CSV-bestand; een bestand met een fout importeert niets (exit 1).
    Import {
        /// CSV-bestand (kolommen: zie hieronder).
        #[arg(value_name = "BESTAND")]
        file: PathBuf,
    },
}

#[derive(Subcommand, Debug)]
pub enum PartyAction {
    /// Importeer een CSV-bestand; een regel met dezelfde code vervangt de bestaande. Een bestand
    /// met een fout importeert niets (exit 1).
    Import {
        /// CSV-bestand (kolommen: zie hieronder).
        #[arg(value_name = "BESTAND")]
        file: PathBuf,
    },
    /// Toon de lijst op code (tekst of JSON).
    List(ListArgs),
}

#[derive(Subcommand, Debug)]
pub enum GebruikersAction {
    /// Maak een gebruiker met een nieuw token. De laatste regel van de uitvoer is het token: het
    /// wordt één keer getoond, alleen de hash wordt bewaard. Exit 1 als de naam al actief is.
    Toevoegen {
        /// Naam van de gebruiker, uniek onder de actieve gebruikers (komt in het actielog).
        #[arg(long, value_name = "NAAM")]
        naam: String,
        /// backoffice, financien, auditor, contractbeheer of beheerder.
        #[arg(long, value_name = "ROL")]
        rol: String,
        /// Gemeentecode (4 cijfers) waarvoor de gebruiker werkt; herhaal de optie voor meer
        /// gemeenten. Zonder deze optie: alle gemeenten.
        #[arg(long = "gemeente", value_name = "CODE")]
        gemeenten: Vec<String>,
    },
    /// Trek het token van een actieve gebruiker in; het werkt daarna niet meer. Exit 1 als er
    /// geen actieve gebruiker met die naam is.
    Intrekken {
        /// Naam van de gebruiker.
        #[arg(value_name = "NAAM")]
        naam: String,
    },
    /// Toon de gebruikers, ook ingetrokken: naam, rol, gemeenten, aangemaakt, ingetrokken (nooit
    /// een token of hash).
    List(ListArgs),
}

#[derive(Subcommand, Debug)]
pub enum PolicyAction {
    /// Stel het beleid in voor regels zonder dekkende start: signal, hold (standaard) of reject
    /// (reject wijkt af van OP364 en wordt zo gelogd).
    Set {
        /// Gemeentecode (4 cijfers).
        gemeente: String,
        /// signal, hold of reject.
        policy: String,
    },
}

#[derive(Subcommand, Debug)]
pub enum ListAction {
    /// Toon de lijst (tekst of JSON; BSN gemaskeerd).
    List(ListArgs),
}

/// Options of every listing (`holds list`, `signals list`, …).
#[derive(clap::Args, Debug, Clone, Copy)]
pub struct ListArgs {
    /// Uitvoer: text (standaard) of json.
    #[arg(long, value_enum, default_value_t = Format::Text, hide_possible_values = true, hide_default_value = true, value_name = "FORMAAT")]
    pub format: Format,
    /// Toon volledige BSN's (standaard gemaskeerd).
    #[arg(long)]
    pub toon_bsn: bool,
    /// Ook wat is afgehandeld (per lijst hieronder beschreven).
    #[arg(long)]
    pub all: bool,
}

#[derive(Subcommand, Debug)]
pub enum AuditAction {
    /// Verzegel wat nog openstaat en controleer de hele hashketen.
    Verify,
}

#[derive(Subcommand, Debug)]
pub enum ConfigAction {
    /// Toon de effectieve configuratie (TOML) met per sleutel de herkomst; geheimen verborgen.
    /// Neemt ook de vlaggen van serve, om hun uitwerking te zien.
    Show {
        #[command(flatten)]
        serve: ServeArgs,
    },
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub enum Format {
    Text,
    Json,
}

/// Exit codes and output of `iwmo process`, under its `--help`.
const PROCESS_HELP: &str = "Uitvoer: per bestand één JSON-regel {file, kind, afzender, \
identificatie, outcome, codes, answer}; een 323 ook vastgehouden (regels van betaling \
vastgehouden), een 305 die vastgehouden regels vrijgeeft ook vrijgegeven. outcome: accepted, \
partially-accepted, rejected, invalid (niveau 1 of te groot: geen antwoord, reden in error), \
duplicate (hetzelfde bericht opnieuw: het antwoord van toen), registered (301/302 opgenomen) of \
unreadable (geen bericht: niet te lezen, geen gewoon bestand of verdwenen; reden in error, niets \
opgeslagen).

Exitcodes (bij meer dan één de hoogste):
  0  elk bestand afgehandeld, welke uitkomst ook
  1  bestanden niet te lezen (genoemd op stderr met de reden); de andere zijn verwerkt
  2  verkeerd gebruik, of --out is geen bruikbare map (er is niets beslist)
  3  de database is niet bruikbaar: het genoemde bestand en de volgende zijn niet beslist
     (opnieuw draaien beslist ze; wat al beslist is, komt terug als duplicate)
  4  beslist en opgeslagen, maar een antwoord is niet geschreven (genoemd): het wacht in de
     database; `iwmo answers write --out MAP` of opnieuw draaien schrijft het";

impl Cli {
    /// Parses the process arguments. Help, version and usage errors are printed in Dutch and
    /// end the process (help and version: exit 0; a usage error: exit 2).
    pub fn parse_args() -> Cli {
        match command().try_get_matches() {
            Ok(m) => Cli::from_arg_matches(&m).unwrap_or_else(|e| exit_with(&e)),
            Err(e) => exit_with(&e),
        }
    }

    /// The flag layer of the configuration: every flag that was given.
    pub fn flags(&self) -> Flags {
        let flags = Flags::default().with(&self.global);
        match &self.command {
            Command::Serve(s)
            | Command::DeadLetters { serve: s, .. }
            | Command::Config {
                action: ConfigAction::Show { serve: s },
            } => flags.with(s),
            Command::Api(a) => flags.with(a),
            _ => flags,
        }
    }
}

/// The flag (`--database`) that sets `key`, from the clap definitions.
pub fn flag_for(key: &str) -> String {
    fn find(cmd: &clap::Command, key: &str) -> Option<String> {
        cmd.get_arguments()
            .find(|a| a.get_id().as_str() == key)
            .and_then(|a| a.get_long().map(|l| format!("--{l}")))
            .or_else(|| cmd.get_subcommands().find_map(|s| find(s, key)))
    }
    find(&Cli::command(), key).unwrap_or_else(|| format!("--{}", key.replace('_', "-")))
}

/// The command line as parsed: the derived definitions in Dutch, with what differs per command.
pub fn command() -> clap::Command {
    specifics(dutch(Cli::command()))
}

/// Help, version or a usage error, in Dutch; ends the process.
fn exit_with(e: &clap::Error) -> ! {
    use clap::error::ErrorKind as K;
    match e.kind() {
        K::DisplayHelp | K::DisplayVersion => {
            println!("{}", dutch_usage(e.render().to_string().trim_end()));
            std::process::exit(0)
        }
        K::DisplayHelpOnMissingArgumentOrSubcommand => {
            eprintln!("{}", dutch_usage(e.render().to_string().trim_end()));
            std::process::exit(super::EXIT_CONFIG)
        }
        _ => {
            eprintln!("{}", super::usage::message(e));
            std::process::exit(super::EXIT_CONFIG)
        }
    }
}

/// clap's own words in a usage line, in Dutch.
pub(crate) fn dutch_usage(text: &str) -> String {
    text.replace("[OPTIONS]", "[OPTIES]")
        .replace("Usage:", "Gebruik:")
}

/// What differs between commands that share definitions: the CSV columns of each import, and
/// what `--all` does in each listing.
fn specifics(cmd: clap::Command) -> clap::Command {
    use crate::imports::{
        AANBIEDER_COLUMNS, CONTRACT_COLUMNS, GEMEENTE_COLUMNS, PRODUCT_CODE_COLUMNS,
        TOEWIJZING_COLUMNS,
    };
    let import = |columns: &[&str], note: &str| {
        let text = format!(
            "Kolommen: {}.\n{note}\nElke kolom één keer in de kopregel, in elke volgorde, \
             hoofdletters maken niet uit; een onbekende kolom wordt geweigerd. Scheidingsteken , \
             of ; (zoals de kopregel het heeft), aanhalingstekens volgens RFC 4180, UTF-8 met \
             of zonder BOM, LF of CRLF. Datums JJJJ-MM-DD. Fouten noemen regel en kolom.",
            columns.join(", ")
        );
        move |c: clap::Command| c.mut_subcommand("import", |i| i.after_help(text))
    };
    let all = |help: Option<&'static str>| {
        move |c: clap::Command| {
            c.mut_subcommand("list", |l| {
                l.mut_arg("all", |a| match help {
                    Some(h) => a.help(h),
                    None => a.hide(true),
                })
            })
        }
    };
    // Aanbieders and gemeenten: no BSN and nothing settled in their lists.
    let party = |columns: &'static [&'static str], code: &str| {
        let note = format!(
            "{code}; naam verplicht (hoogstens 140 tekens); iban verplicht, gecontroleerd volgens \
             ISO 13616 (landcode, lengte, controlegetal mod-97; spaties per vier tekens en kleine \
             letters mogen); bic mag leeg zijn (een SEPA-overboeking in euro's heeft alleen het \
             IBAN nodig), anders 8 of 11 tekens volgens ISO 9362. Een regel met een code die er \
             al is vervangt de bestaande (naam, iban, bic); andere codes blijven staan."
        );
        let import = import(columns, &note);
        move |c: clap::Command| {
            import(c).mut_subcommand("list", |l| {
                l.mut_arg("all", |a| a.hide(true))
                    .mut_arg("toon_bsn", |a| a.hide(true))
            })
        }
    };
    cmd.mut_subcommand(
        "contracts",
        import(
            CONTRACT_COLUMNS,
            "tarief_cents in hele centen, of in plaats daarvan tarief in euro's (68,50 / 68.50 / \
             1.234,56; hoogstens 2 decimalen); einddatum mag leeg zijn (open).",
        ),
    )
    .mut_subcommand(
        "toewijzingen",
        import(
            TOEWIJZING_COLUMNS,
            "budget_cents in hele centen, of in plaats daarvan budget in euro's; toewijzingstijd \
             UU:MM:SS. Leeg mogen zijn: product_categorie, product_code, einddatum, \
             reden_wijziging, volume, eenheid, frequentie, budget_cents.",
        ),
    )
    .mut_subcommand(
        "productcodes",
        import(PRODUCT_CODE_COLUMNS, "Bijvoorbeeld 02,02A01."),
    )
    .mut_subcommand(
        "holds",
        all(Some(
            "Ook regels die niet meer vastgehouden worden: vrijgegeven (een start dekt ze nu) \
             en vervallen (gecrediteerd)",
        )),
    )
    .mut_subcommand(
        "verzoeken",
        all(Some(
            "Ook afgehandelde verzoeken (beantwoord met een toewijzing die hun \
             ReferentieAanbieder noemt)",
        )),
    )
    .mut_subcommand("aanbieders", party(AANBIEDER_COLUMNS, "agb_code 8 cijfers"))
    .mut_subcommand(
        "gemeenten",
        party(GEMEENTE_COLUMNS, "gemeente_code 4 cijfers"),
    )
    .mut_subcommand("gebruikers", |c| {
        c.mut_subcommand("list", |l| {
            l.mut_arg("all", |a| a.hide(true))
                .mut_arg("toon_bsn", |a| a.hide(true))
        })
    })
    // Signals and refusals are listed in full always.
    .mut_subcommand("signals", all(None))
    .mut_subcommand("weigeringen", all(None))
}

/// Dutch headings and help/version flags for `cmd` and its subcommands.
fn dutch(cmd: clap::Command) -> clap::Command {
    let top = cmd.get_name() == "iwmo";
    let mut cmd = cmd
        .help_template("{about-with-newline}\nGebruik: {usage}\n\n{all-args}{after-help}")
        .subcommand_help_heading("Opdrachten")
        .subcommand_value_name("OPDRACHT")
        .disable_help_subcommand(true)
        .disable_help_flag(true)
        .mut_args(|a| match a.get_help_heading() {
            Some(_) => a,
            None if a.is_positional() => a.help_heading("Argumenten"),
            None => a.help_heading("Opties"),
        })
        .arg(
            clap::Arg::new("help")
                .short('h')
                .long("help")
                .action(ArgAction::Help)
                .help("Toon deze hulp")
                .help_heading("Opties")
                .display_order(1000),
        );
    if top {
        cmd = cmd.disable_version_flag(true).arg(
            clap::Arg::new("version")
                .short('V')
                .long("version")
                .action(ArgAction::Version)
                .help("Toon de versie")
                .help_heading("Opties")
                .display_order(1001),
        );
    }
    cmd.mut_subcommands(dutch)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn definitions_are_consistent_and_flags_name_their_keys() {
        command().debug_assert();
        assert_eq!(flag_for("database_url"), "--database");
        assert_eq!(flag_for("inbox_dir"), "--inbox");
        assert_eq!(flag_for("batch_size"), "--batch-size");
        let keys = super::super::config::Config::keys();
        for cmd in std::iter::once(Cli::command()).chain(Cli::command().get_subcommands().cloned())
        {
            for a in cmd.get_arguments() {
                let id = a.get_id().as_str();
                // `token`: the credential of `iwmo betaalrondes`, never a configuration key.
                let meta = [
                    "config", "format", "out", "paths", "toon_bsn", "all", "alle", "token",
                ];
                assert!(
                    keys.contains(&id) || meta.contains(&id) || a.is_positional(),
                    "flag {id} is neither a key nor a command option"
                );
            }
        }
    }
}
