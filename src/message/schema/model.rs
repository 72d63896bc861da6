//! The shape of the generated schema tables: just enough of XML Schema to express the iWmo 3.2 XSDs
//! (sequences of elements with cardinalities; restrictions of string/integer/date/time with length,
//! range, pattern and enumeration facets).

/// Built-in XSD type a simple type is derived from. Decides whitespace handling and lexical checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Base {
    /// xs:string: whitespace preserved.
    String,
    /// xs:integer: whitespace collapsed, `[+-]?[0-9]+`.
    Integer,
    /// xs:date: whitespace collapsed, `-?YYYY-MM-DD` plus optional zone.
    Date,
    /// xs:time: whitespace collapsed, `hh:mm:ss(.s+)?` plus optional zone.
    Time,
}

/// Every XSD pattern used by iWmo 3.2, each implemented by hand (XSD regex semantics:
/// implicitly anchored, `.` excludes CR and LF, `\s` is space/tab/CR/LF).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pattern {
    /// `.*[^\s].*`: no CR/LF anywhere and at least one character other than space/tab.
    NonBlankLine,
    /// `[^:Z]*` (LDT_Datum: no time zone).
    NoColonNoZ,
    /// `[^Z+-]+` (LDT_Tijd: no time zone).
    NoZoneSuffix,
    /// `[0-9]{n}`.
    Digits(usize),
    /// `[0-9]*`.
    DigitsAny,
    /// `([a-zA-ZÀ-ỳ])+`.
    Letters,
    /// `([.\s]*\S+[.\s]*)+`: at least one non-whitespace character.
    HasNonSpace,
    /// `(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)`.
    Version,
    /// `([a-zA-Z0-9])+`.
    AlphaNum,
    /// A fixed value such as `418`.
    Literal(&'static str),
}

impl Pattern {
    /// The pattern as written in the XSD, for error texts.
    pub fn xsd(&self) -> String {
        match self {
            Pattern::NonBlankLine => r".*[^\s].*".into(),
            Pattern::NoColonNoZ => "[^:Z]*".into(),
            Pattern::NoZoneSuffix => "[^Z+-]+".into(),
            Pattern::Digits(n) => format!("[0-9]{{{n}}}"),
            Pattern::DigitsAny => "[0-9]*".into(),
            Pattern::Letters => "([a-zA-ZÀ-ỳ])+".into(),
            Pattern::HasNonSpace => r"([.\s]*\S+[.\s]*)+".into(),
            Pattern::Version => r"(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)".into(),
            Pattern::AlphaNum => "([a-zA-Z0-9])+".into(),
            Pattern::Literal(s) => (*s).into(),
        }
    }

    pub fn matches(&self, v: &str) -> bool {
        let xsd_space = |c: char| matches!(c, ' ' | '\t' | '\n' | '\r');
        match self {
            Pattern::NonBlankLine => {
                !v.contains(['\n', '\r']) && v.chars().any(|c| c != ' ' && c != '\t')
            }
            Pattern::NoColonNoZ => !v.contains([':', 'Z']),
            Pattern::NoZoneSuffix => !v.is_empty() && !v.contains(['Z', '+', '-']),
            Pattern::Digits(n) => v.len() == *n && v.bytes().all(|b| b.is_ascii_digit()),
            Pattern::DigitsAny => v.bytes().all(|b| b.is_ascii_digit()),
            Pattern::Letters => {
                !v.is_empty()
                    && v.chars()
                        .all(|c| c.is_ascii_alphabetic() || ('\u{C0}'..='\u{1EF3}').contains(&c))
            }
            Pattern::HasNonSpace => v.chars().any(|c| !xsd_space(c)),
            Pattern::Version => {
                let mut parts = 0;
                for p in v.split('.') {
                    parts += 1;
                    let ok = p == "0"
                        || (!p.is_empty()
                            && !p.starts_with('0')
                            && p.bytes().all(|b| b.is_ascii_digit()));
                    if !ok {
                        return false;
                    }
                }
                parts == 3
            }
            Pattern::AlphaNum => !v.is_empty() && v.bytes().all(|b| b.is_ascii_alphanumeric()),
            Pattern::Literal(s) => v == *s,
        }
    }
}

#[derive(Debug)]
pub struct SimpleType {
    pub name: &'static str,
    pub base: Base,
    pub min_length: Option<u32>,
    pub max_length: Option<u32>,
    pub min_inclusive: Option<i64>,
    pub max_inclusive: Option<i64>,
    /// One slice per derivation step; every step must match (alternatives within a step: any).
    pub patterns: &'static [&'static [Pattern]],
    pub enumeration: &'static [&'static str],
}

/// Which namespace an element declaration is qualified with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ns {
    /// `http://www.istandaarden.nl/iwmo/3_2/basisschema/schema`.
    Basis,
    /// The namespace of the message being validated.
    Message,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TypeRef {
    Simple(u16),
    Complex(u16),
}

#[derive(Debug)]
pub struct ElementDecl {
    pub name: &'static str,
    pub ns: Ns,
    pub min: u32,
    pub max: u32,
    pub ty: TypeRef,
}

#[derive(Debug)]
pub struct ComplexType {
    pub name: &'static str,
    pub elements: &'static [ElementDecl],
}

#[derive(Debug)]
pub struct MessageSchema {
    pub number: u16,
    pub root_type: u16,
    pub bericht_xsd_versie: &'static str,
    pub basisschema_xsd_versie: &'static str,
}
