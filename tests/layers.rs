//! The lower layers depend only downwards: domain ← message ← rules (see `src/lib.rs`).
//! Reads the sources and lists every `crate::<module>` a layer names outside comments. A file's
//! unit tests (from its `#[cfg(test)]` line on) may check against a higher layer (the domain's
//! code lists against the generated XSD tables): they are not scanned.

use std::path::{Path, PathBuf};

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("bronmap leesbaar") {
        let path = entry.expect("bronmap leesbaar").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Every `crate::name` in code (not in comments or unit tests) under `src/<layer>`, with file
/// and line.
fn crate_paths(layer: &str) -> Vec<(String, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("src")
        .join(layer);
    let mut files = Vec::new();
    rust_files(&root, &mut files);
    assert!(
        !files.is_empty(),
        "geen bronbestanden in {}",
        root.display()
    );
    let mut found = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).expect("bronbestand leesbaar");
        let code_lines = text.lines().take_while(|l| l.trim() != "#[cfg(test)]");
        for (n, line) in code_lines.enumerate() {
            let code = line.split("//").next().unwrap_or("");
            for (i, _) in code.match_indices("crate::") {
                let name: String = code[i + "crate::".len()..]
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                found.push((name, format!("{}:{}", file.display(), n + 1)));
            }
        }
    }
    found
}

fn assert_only(layer: &str, allowed: &[&str]) {
    let wrong: Vec<_> = crate_paths(layer)
        .into_iter()
        .filter(|(name, _)| !allowed.contains(&name.as_str()))
        .collect();
    assert!(
        wrong.is_empty(),
        "src/{layer} mag alleen {allowed:?} gebruiken, maar noemt: {wrong:?}"
    );
}

#[test]
fn domain_depends_on_nothing_above_it() {
    assert_only("domain", &["domain"]);
}

#[test]
fn message_depends_only_on_domain() {
    assert_only("message", &["domain", "message"]);
}

#[test]
fn rules_depend_only_on_message_and_domain() {
    assert_only("rules", &["domain", "message", "rules"]);
}

#[test]
fn the_scan_sees_the_imports_it_checks() {
    // Guards the scanner itself: the message layer does name the domain layer.
    assert!(crate_paths("message")
        .iter()
        .any(|(name, _)| name == "domain"));
}
