//! Reading an import file into rows of named cells with the `csv` crate (RFC 4180 quoting), and
//! collecting the errors of the whole file. The rules are documented on [`super`].

use std::collections::HashMap;

use csv::{ReaderBuilder, StringRecord, Trim};

use super::{money, CsvError, CsvErrors};

/// At most this many errors are listed; the rest are counted.
pub const MAX_ERRORS: usize = 50;

/// The columns of one kind of file.
pub(crate) struct Spec {
    pub columns: &'static [&'static str],
    /// (column in whole cents, the same amount in euros): a file has exactly one of each pair.
    pub euros: &'static [(&'static str, &'static str)],
}

impl Spec {
    fn euro_column(&self, cents: &str) -> Option<&'static str> {
        self.euros
            .iter()
            .find(|(c, _)| *c == cents)
            .map(|(_, e)| *e)
    }

    fn known(&self) -> String {
        let mut names: Vec<&str> = self.columns.to_vec();
        names.extend(self.euros.iter().map(|(_, e)| *e));
        names.join(", ")
    }
}

/// The errors of one file: the first [`MAX_ERRORS`] and how many there were in all.
#[derive(Default)]
pub(crate) struct Errors {
    list: Vec<CsvError>,
    total: usize,
}

impl Errors {
    pub fn push(&mut self, line: usize, column: &str, message: impl Into<String>) {
        self.total += 1;
        if self.list.len() < MAX_ERRORS {
            self.list.push(CsvError {
                line,
                column: column.to_string(),
                message: message.into(),
            });
        }
    }

    fn finish<T>(self, ok: T) -> Result<T, CsvErrors> {
        if self.total == 0 {
            Ok(ok)
        } else {
            Err(CsvErrors {
                more: self.total - self.list.len(),
                errors: self.list,
            })
        }
    }
}

/// Where each column of the spec is in the file: its index and the name the file uses for it
/// (the euro column stands in for its cents column).
struct Header {
    at: HashMap<&'static str, (usize, &'static str)>,
    width: usize,
}

impl Header {
    fn read(rec: &StringRecord, line: usize, spec: &Spec) -> Result<Header, CsvErrors> {
        let mut errors = Errors::default();
        let mut at: HashMap<&'static str, (usize, &'static str)> = HashMap::new();
        let mut unknown = Vec::new();
        for (i, raw) in rec.iter().enumerate() {
            let name = raw.to_lowercase();
            let found = spec
                .columns
                .iter()
                .find(|c| **c == name)
                .map(|c| (*c, *c))
                .or_else(|| spec.euros.iter().find(|(_, e)| *e == name).copied());
            match found {
                None => unknown.push((i, raw)),
                Some((canonical, used)) => match at.get(canonical) {
                    Some((_, prev)) if *prev == used => {
                        errors.push(line, used, "staat meer dan eens in de kopregel")
                    }
                    Some((_, prev)) => errors.push(
                        line,
                        used,
                        format!("kolommen {prev} en {used} staan er allebei; gebruik er één"),
                    ),
                    None => {
                        at.insert(canonical, (i, used));
                    }
                },
            }
        }
        if at.is_empty() {
            // Most likely a data line: echo nothing of it (it may hold a BSN).
            errors.push(
                line,
                "",
                format!("geen kopregel met kolomnamen; verwacht: {}", spec.known()),
            );
            return errors.finish(Header { at, width: 0 });
        }
        for (i, raw) in unknown {
            // A name with digits is not echoed: it may be a value (a BSN) from a broken header.
            let column = match raw {
                "" => format!("{}", i + 1),
                r if r.bytes().any(|b| b.is_ascii_digit()) => format!("{}", i + 1),
                r => r.to_string(),
            };
            let message = if raw.is_empty() {
                "kolom zonder naam in de kopregel".to_string()
            } else {
                format!("onbekende kolom (bekende kolommen: {})", spec.known())
            };
            errors.push(line, &column, message);
        }
        for c in spec.columns {
            if !at.contains_key(c) {
                let message = match spec.euro_column(c) {
                    Some(e) => format!("ontbreekt in de kopregel (of kolom {e}, in euro's)"),
                    None => "ontbreekt in de kopregel".to_string(),
                };
                errors.push(line, c, message);
            }
        }
        errors.finish(Header {
            at,
            width: rec.len(),
        })
    }
}

/// One data line, to take cells from by column name; errors go to the file's list.
pub(crate) struct Row<'a> {
    pub line: usize,
    rec: &'a StringRecord,
    header: &'a Header,
    spec: &'a Spec,
    errors: &'a mut Errors,
}

impl<'a> Row<'a> {
    /// The cell of a spec column and the name the file gives that column.
    fn cell(&self, col: &'static str) -> (&'a str, &'static str) {
        match self.header.at.get(col) {
            Some((i, used)) => (self.rec.get(*i).unwrap_or(""), *used),
            None => ("", col),
        }
    }

    pub fn fail(&mut self, column: &str, message: impl Into<String>) {
        self.errors.push(self.line, column, message);
    }

    /// A required cell.
    pub fn get<T>(
        &mut self,
        col: &'static str,
        f: impl FnOnce(&str) -> Result<T, String>,
    ) -> Option<T> {
        let (value, used) = self.cell(col);
        let r = if value.is_empty() {
            Err("is leeg (verplicht)".to_string())
        } else {
            f(value)
        };
        r.map_err(|m| self.fail(used, redact(value, m))).ok()
    }

    /// An optional cell: empty is `None`.
    pub fn opt<T>(
        &mut self,
        col: &'static str,
        f: impl FnOnce(&str) -> Result<T, String>,
    ) -> Option<Option<T>> {
        let (value, used) = self.cell(col);
        if value.is_empty() {
            return Some(None);
        }
        f(value)
            .map(Some)
            .map_err(|m| self.fail(used, redact(value, m)))
            .ok()
    }

    /// A required amount from a cents column or its euro column, in cents.
    pub fn money(&mut self, col: &'static str) -> Option<u64> {
        let f = self.money_parser(col);
        self.get(col, f)
    }

    /// An optional amount (empty is `None`) from a cents column or its euro column, in cents.
    pub fn money_opt(&mut self, col: &'static str) -> Option<Option<u64>> {
        let f = self.money_parser(col);
        self.opt(col, f)
    }

    fn money_parser(&self, col: &'static str) -> impl FnOnce(&str) -> Result<u64, String> {
        let euro = self.spec.euro_column(col).unwrap_or("-");
        let in_euros = self.cell(col).1 != col;
        move |s| {
            if in_euros {
                money::euros(s)
            } else {
                money::cents(s, euro)
            }
        }
    }
}

/// A value with 9 or more digits in a row may be a BSN in the wrong column: it is not echoed.
fn redact(value: &str, message: String) -> String {
    let mut run = 0;
    let long_run = value.bytes().any(|b| {
        run = if b.is_ascii_digit() { run + 1 } else { 0 };
        run >= 9
    });
    if long_run {
        message.replace(value, "…")
    } else {
        message
    }
}

/// The delimiter, from the header line (the first line that is not blank): `;` when it holds a
/// semicolon, `,` when it holds a comma. Both or neither is refused: no column name holds either.
fn delimiter(text: &str) -> Result<u8, CsvErrors> {
    let Some((i, header)) = text.lines().enumerate().find(|(_, l)| !l.trim().is_empty()) else {
        return Err(CsvErrors::one(1, "", "het bestand is leeg"));
    };
    match (header.contains(';'), header.contains(',')) {
        (true, false) => Ok(b';'),
        (false, true) => Ok(b','),
        (true, true) => Err(CsvErrors::one(
            i + 1,
            "",
            "de kopregel bevat zowel ',' als ';'; gebruik één scheidingsteken",
        )),
        (false, false) => Err(CsvErrors::one(
            i + 1,
            "",
            "de kopregel bevat geen scheidingsteken (',' of ';')",
        )),
    }
}

/// Reads the file and calls `build` on every data line; `build` reports its errors on the row and
/// returns `None` for a bad line. Any error anywhere: `Err` with all of them (up to the cap).
pub(crate) fn parse<T>(
    text: &str,
    spec: &Spec,
    mut build: impl FnMut(&mut Row<'_>) -> Option<T>,
) -> Result<Vec<T>, CsvErrors> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut reader = ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .trim(Trim::All)
        .delimiter(delimiter(text)?)
        .from_reader(text.as_bytes());
    let mut errors = Errors::default();
    let mut header: Option<Header> = None;
    let mut out = Vec::new();
    let mut rec = StringRecord::new();
    loop {
        match reader.read_record(&mut rec) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line() as usize);
                errors.push(line, "", format!("onleesbare regel ({e})"));
                break;
            }
        }
        // Blank lines (and lines of empty cells only) are skipped.
        if rec.iter().all(str::is_empty) {
            continue;
        }
        let line = rec.position().map_or(0, |p| p.line() as usize);
        let Some(h) = &header else {
            header = Some(Header::read(&rec, line, spec)?);
            continue;
        };
        if rec.len() != h.width {
            let mut message = format!("{} kolommen verwacht, {} gevonden", h.width, rec.len());
            if rec.iter().any(|c| c.contains('\n')) {
                message.push_str(" (een aanhalingsteken niet gesloten?)");
            }
            errors.push(line, "", message);
            continue;
        }
        let mut row = Row {
            line,
            rec: &rec,
            header: h,
            spec,
            errors: &mut errors,
        };
        if let Some(item) = build(&mut row) {
            out.push(item);
        }
    }
    if header.is_none() {
        return Err(CsvErrors::one(1, "", "het bestand is leeg"));
    }
    errors.finish(out)
}
