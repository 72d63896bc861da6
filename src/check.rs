//! `iwmo check`: what can be decided from one message on its own (intake, level 1, level 2).

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::intake::IntakeError;
use crate::message::schema::StructureError;
use crate::message::{self, MessageKind, ReadError, ReadOptions};
use crate::rules::{self, Finding};

/// The verdict on one message.
#[derive(Debug, Clone, Serialize)]
pub struct Verdict {
    pub file: String,
    pub kind: Option<MessageKind>,
    /// `valid`, `intake`, `level1` or `level2`.
    pub verdict: &'static str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<IntakeReport>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<StructureError>,
    /// More level-1 errors were found than are listed in `errors`.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub errors_truncated: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub findings: Vec<Finding>,
    /// Rules whose findings were cut off at [`rules::inmessage::MAX_PAIR_FINDINGS`].
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub findings_truncated: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct IntakeReport {
    pub kind: &'static str,
    pub message: String,
}

impl Verdict {
    pub fn is_valid(&self) -> bool {
        self.verdict == "valid"
    }
}

/// Checks one message given as bytes.
pub fn check_bytes(file: &str, bytes: &[u8], opts: ReadOptions) -> Verdict {
    let mut v = Verdict {
        file: file.to_string(),
        kind: None,
        verdict: "valid",
        warnings: Vec::new(),
        error: None,
        errors: Vec::new(),
        errors_truncated: false,
        findings: Vec::new(),
        findings_truncated: Vec::new(),
    };
    match message::read(bytes, opts) {
        Ok(parsed) => {
            v.kind = Some(parsed.message.kind());
            if parsed.had_bom {
                v.warnings.push(
                    "bestand begint met een BOM (geaccepteerd; OP192 schrijft UTF-8 zonder BOM voor)".into(),
                );
            }
            v.findings = rules::inmessage::check(&parsed.message);
            v.findings_truncated = capped_rules(&v.findings);
            if !v.findings.is_empty() {
                v.verdict = "level2";
            }
        }
        Err(ReadError::Intake(e)) => {
            v.verdict = "intake";
            if let Ok(a) = crate::intake::accept(bytes, opts.max_bytes) {
                v.kind = Some(a.kind);
            } else if let IntakeError::NotWellFormed { .. } = e {
                v.kind = crate::intake::sniff(std::str::from_utf8(bytes).unwrap_or("")).ok();
            }
            v.error = Some(IntakeReport {
                kind: e.kind(),
                message: e.to_string(),
            });
        }
        Err(ReadError::Structure {
            kind,
            errors,
            truncated,
        }) => {
            v.kind = Some(kind);
            v.verdict = "level1";
            v.errors = errors;
            v.errors_truncated = truncated;
        }
        Err(ReadError::Convert { kind, error }) => {
            v.kind = Some(kind);
            v.verdict = "level1";
            v.errors = vec![StructureError {
                path: error.path,
                line: 0,
                message: error.message,
            }];
        }
    }
    v
}

/// The rules that reached their cap of findings (the list of such a rule is cut off there).
fn capped_rules(findings: &[Finding]) -> Vec<String> {
    let mut counts: std::collections::BTreeMap<&str, usize> = Default::default();
    for f in findings {
        *counts.entry(f.rule.as_str()).or_default() += 1;
    }
    counts
        .into_iter()
        .filter(|(_, n)| *n >= rules::inmessage::MAX_PAIR_FINDINGS)
        .map(|(r, _)| r.to_string())
        .collect()
}

/// One argument of `check` or `process`, expanded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A path to read as a message. Whether it exists and is a regular file shows when it is
    /// read ([`crate::fsread::read_message_file`] names a FIFO, link or device as what it is).
    File(PathBuf),
    /// A directory whose entries cannot be listed; `reason` is the OS error in Dutch.
    Unlisted { path: PathBuf, reason: String },
}

impl Target {
    pub fn path(&self) -> &Path {
        match self {
            Target::File(p) | Target::Unlisted { path: p, .. } => p,
        }
    }
}

/// Expands the arguments: a directory to its `*.xml` entries sorted by name (subdirectories
/// left out; links, FIFOs and the like kept, so that reading them says what they are), any
/// other path as given, also when it does not exist (reading it then says so).
pub fn expand(paths: &[PathBuf]) -> Vec<Target> {
    let mut out = Vec::new();
    for p in paths {
        if !p.is_dir() {
            out.push(Target::File(p.clone()));
            continue;
        }
        match std::fs::read_dir(p) {
            Ok(entries) => {
                let mut files: Vec<PathBuf> = entries
                    .filter_map(|e| e.ok())
                    .filter(|e| !e.file_type().is_ok_and(|t| t.is_dir()))
                    .map(|e| e.path())
                    .filter(|f| f.extension().is_some_and(|x| x.eq_ignore_ascii_case("xml")))
                    .collect();
                files.sort();
                out.extend(files.into_iter().map(Target::File));
            }
            Err(e) => out.push(Target::Unlisted {
                path: p.clone(),
                reason: crate::fsread::os_reason(&e),
            }),
        }
    }
    out
}

/// Reads a file through [`crate::fsread::read_message_file`]: regular files only, refusing
/// more than `max_bytes` before reading it all. A failure is a verdict (`intake`, with error
/// kind `io`, `not-regular` or `too-large`).
pub fn read_file(path: &Path, max_bytes: usize) -> Result<Vec<u8>, Box<Verdict>> {
    read_target(&Target::File(path.to_path_buf()), max_bytes)
}

/// [`read_file`] for an expanded argument: a directory that cannot be listed fails as `io`.
pub fn read_target(target: &Target, max_bytes: usize) -> Result<Vec<u8>, Box<Verdict>> {
    let failure = match target {
        Target::File(path) => match crate::fsread::read_message_file(path, max_bytes) {
            Ok(bytes) => return Ok(bytes),
            Err(f) => f,
        },
        Target::Unlisted { reason, .. } => unlisted(reason),
    };
    Err(Box::new(Verdict {
        file: target.path().display().to_string(),
        kind: None,
        verdict: "intake",
        warnings: Vec::new(),
        error: Some(IntakeReport {
            kind: failure.kind(),
            message: failure.to_string(),
        }),
        errors: Vec::new(),
        errors_truncated: false,
        findings: Vec::new(),
        findings_truncated: Vec::new(),
    }))
}

/// The read failure of a directory that cannot be listed.
pub fn unlisted(reason: &str) -> crate::fsread::ReadFailure {
    crate::fsread::ReadFailure::Io {
        reason: format!("map kan niet worden gelezen: {reason}"),
    }
}

/// Human-readable report of one verdict.
pub fn render_text(v: &Verdict) -> String {
    let mut s = headline(v);
    for w in &v.warnings {
        s.push_str(&format!("  waarschuwing: {w}\n"));
    }
    for e in &v.errors {
        s.push_str(&format!("  {} (regel {}): {}\n", e.path, e.line, e.message));
    }
    if v.errors_truncated {
        s.push_str(&format!(
            "  … lijst afgekapt: na de eerste {} fouten is niet verder geteld\n",
            v.errors.len()
        ));
    }
    for f in &v.findings {
        s.push_str(&format!(
            "  {} [{}] {}: {}\n",
            f.rule,
            f.code,
            f.locations.join(", "),
            f.text
        ));
    }
    for r in &v.findings_truncated {
        s.push_str(&format!(
            "  … lijst afgekapt: regel {r} geeft er hoogstens {} per bericht; er kunnen er meer zijn\n",
            rules::inmessage::MAX_PAIR_FINDINGS
        ));
    }
    s
}

/// The first line: file, kind, verdict and how many errors or findings (and whether cut off).
fn headline(v: &Verdict) -> String {
    let kind = v.kind.map(|k| k.name()).unwrap_or_else(|| "?".into());
    match v.verdict {
        "valid" => format!("{}: {kind} geldig\n", v.file),
        "intake" => format!(
            "{}: {kind} geweigerd bij ontvangst: {}\n",
            v.file,
            v.error.as_ref().map(|e| e.message.as_str()).unwrap_or("")
        ),
        "level1" => format!(
            "{}: {kind} voldoet niet aan de XSD (niveau 1), {}\n",
            v.file,
            crate::message::schema::count_text(v.errors.len(), v.errors_truncated)
        ),
        _ => {
            let n = v.findings.len();
            let count = if v.findings_truncated.is_empty() {
                format!("{n} bevinding(en)")
            } else {
                format!(
                    "{n} bevindingen getoond, lijst afgekapt (regel {}: hoogstens {} per bericht)",
                    v.findings_truncated.join(", "),
                    rules::inmessage::MAX_PAIR_FINDINGS
                )
            };
            format!(
                "{}: {kind} afgekeurd op niveau 2 (retourcode 0001), {count}\n",
                v.file
            )
        }
    }
}
