//! Usage errors in Dutch: clap says what is wrong in English; this says it again from the
//! error's kind and context (the argument, the value, the suggestion), with the usage line.

use clap::error::{ContextKind, ContextValue, ErrorKind};

/// The whole message for a usage error (exit 2), ending with where to find help.
pub fn message(e: &clap::Error) -> String {
    let mut text = format!("iwmo: {}", what(e));
    if let Some(hint) = suggestion(e) {
        text.push_str(&format!("\n\n  tip: {hint}"));
    }
    let mut command = "iwmo".to_string();
    if let Some(ContextValue::StyledStr(usage)) = e.get(ContextKind::Usage) {
        let usage = super::cli::dutch_usage(&usage.to_string());
        text.push_str(&format!("\n\n{}", usage.trim_end()));
        // "Gebruik: iwmo replay <IDENTIFICATIE>" → "iwmo replay"
        command = usage
            .split_whitespace()
            .skip(1)
            .take_while(|w| w.chars().all(|c| c.is_ascii_lowercase() || c == '-'))
            .collect::<Vec<_>>()
            .join(" ");
    }
    text.push_str(&format!("\n\nMeer uitleg: {command} --help"));
    text
}

/// A context value as text ("" when absent).
fn ctx(e: &clap::Error, kind: ContextKind) -> String {
    match e.get(kind) {
        Some(ContextValue::String(s)) => s.clone(),
        Some(ContextValue::Strings(v)) => v.join(", "),
        Some(ContextValue::StyledStr(s)) => s.to_string(),
        Some(ContextValue::StyledStrs(v)) => v
            .iter()
            .map(|s| s.to_string())
            .collect::<Vec<_>>()
            .join(", "),
        Some(ContextValue::Number(n)) => n.to_string(),
        Some(ContextValue::Bool(b)) => b.to_string(),
        _ => String::new(),
    }
}

/// What is wrong, in Dutch.
fn what(e: &clap::Error) -> String {
    use ContextKind as C;
    let arg = ctx(e, C::InvalidArg);
    let value = ctx(e, C::InvalidValue);
    match e.kind() {
        ErrorKind::InvalidSubcommand => {
            format!("onbekende opdracht '{}'", ctx(e, C::InvalidSubcommand))
        }
        ErrorKind::UnknownArgument => format!("onbekende optie of argument '{arg}'"),
        ErrorKind::InvalidValue if value.is_empty() => format!("{arg} vraagt een waarde"),
        ErrorKind::InvalidValue => {
            let valid = ctx(e, C::ValidValue);
            format!("ongeldige waarde '{value}' voor {arg} (mogelijk: {valid})")
        }
        ErrorKind::ValueValidation => {
            format!("ongeldige waarde '{value}' voor {arg}{}", expected(&arg))
        }
        ErrorKind::MissingRequiredArgument => format!("verplicht argument ontbreekt: {arg}"),
        ErrorKind::MissingSubcommand | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            "geef een opdracht op".to_string()
        }
        ErrorKind::ArgumentConflict => {
            let prior = ctx(e, C::PriorArg);
            format!("{arg} gaat niet samen met {prior}")
        }
        ErrorKind::TooManyValues => format!("te veel waarden voor {arg}: '{value}'"),
        ErrorKind::TooFewValues | ErrorKind::WrongNumberOfValues => {
            format!("verkeerd aantal waarden voor {arg}")
        }
        ErrorKind::NoEquals => format!("{arg} vraagt een waarde na '='"),
        ErrorKind::InvalidUtf8 => "een argument is geen geldige UTF-8-tekst".to_string(),
        _ => "ongeldige aanroep".to_string(),
    }
}

/// What a value should look like, by the argument's value name.
fn expected(arg: &str) -> &'static str {
    if arg.contains("<DATUM>") {
        ": verwacht een datum JJJJ-MM-DD"
    } else if arg.contains("<N>") || arg.contains("<BYTES>") {
        ": verwacht een geheel getal (0 of meer)"
    } else {
        ""
    }
}

/// clap's suggestion ("did you mean"), in Dutch.
fn suggestion(e: &clap::Error) -> Option<String> {
    for kind in [
        ContextKind::SuggestedSubcommand,
        ContextKind::SuggestedArg,
        ContextKind::SuggestedValue,
    ] {
        let s = ctx(e, kind);
        if !s.is_empty() {
            return Some(format!("bedoelt u '{s}'?"));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error_of(args: &[&str]) -> String {
        match super::super::cli::command().try_get_matches_from(args) {
            Ok(_) => panic!("{args:?} parsed"),
            Err(e) => message(&e),
        }
    }

    #[test]
    fn usage_errors_are_told_in_dutch() {
        let m = error_of(&["iwmo", "procss"]);
        assert!(m.starts_with("iwmo: onbekende opdracht 'procss'"), "{m}");
        assert!(m.contains("bedoelt u 'process'?"), "{m}");
        assert!(m.contains("Gebruik: iwmo [OPTIES] <OPDRACHT>"), "{m}");
        let m = error_of(&["iwmo", "process"]);
        assert!(m.contains("verplicht argument ontbreekt: <PAD>..."), "{m}");
        assert!(m.ends_with("Meer uitleg: iwmo process --help"), "{m}");
        let m = error_of(&["iwmo", "--today", "morgen", "holds", "list"]);
        assert!(
            m.contains("ongeldige waarde 'morgen' voor --today <DATUM>: verwacht een datum"),
            "{m}"
        );
        let m = error_of(&["iwmo", "--log-format", "xml", "holds", "list"]);
        assert!(m.contains("mogelijk: auto, text, json"), "{m}");
        let m = error_of(&["iwmo", "holds", "list", "--verkeerd"]);
        assert!(
            m.contains("onbekende optie of argument '--verkeerd'"),
            "{m}"
        );
        for m in [error_of(&["iwmo"]), error_of(&["iwmo", "replay"])] {
            assert!(!m.contains("error:") && !m.contains("Usage"), "{m}");
        }
    }
}
