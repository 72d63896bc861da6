//! Writing generated SQL for both backends: placeholders, statement shapes (the row counts a
//! batch statement is written for, so it stays prepared), padding and numbered multi-row inserts.

use super::Backend;

/// Placeholders for generated SQL. SQLite gets anonymous `?` (bound in textual order):
/// numbered names make `sqlite3_bind_parameter_name` — called by sqlx for every parameter —
/// scan a list of all names, which is quadratic for statements with thousands of parameters.
pub(crate) struct Ph {
    backend: Backend,
    n: usize,
}

impl Ph {
    pub(crate) fn new(backend: Backend) -> Ph {
        Ph { backend, n: 0 }
    }
    /// Appends the next placeholder to `out`.
    fn push(&mut self, out: &mut String) {
        use std::fmt::Write;
        self.n += 1;
        match self.backend {
            Backend::Sqlite => out.push('?'),
            Backend::Postgres => {
                let _ = write!(out, "${}", self.n);
            }
        }
    }
    pub(crate) fn next(&mut self) -> String {
        let mut s = String::with_capacity(6);
        self.push(&mut s);
        s
    }
    /// `p,p,…` (n placeholders).
    pub(crate) fn list(&mut self, n: usize) -> String {
        let mut s = String::with_capacity(n * 6);
        for i in 0..n {
            if i > 0 {
                s.push(',');
            }
            self.push(&mut s);
        }
        s
    }
    /// `(p,…),(p,…)` for a multi-row insert of `rows` rows of `cols` columns.
    pub(crate) fn rows(&mut self, rows: usize, cols: usize) -> String {
        let mut s = String::with_capacity(rows * (cols * 6 + 3));
        for r in 0..rows {
            if r > 0 {
                s.push(',');
            }
            s.push('(');
            for i in 0..cols {
                if i > 0 {
                    s.push(',');
                }
                self.push(&mut s);
            }
            s.push(')');
        }
        s
    }
}

/// `(…),(…)` values for a multi-row insert on this backend.
pub(crate) fn values_clause(backend: Backend, rows: usize, cols: usize) -> String {
    Ph::new(backend).rows(rows, cols)
}

/// Chunk size for IN lists and multi-row inserts (stays far below the parameter limits of
/// SQLite and PostgreSQL). A power of two, as are its quarters and halves used elsewhere, so a
/// full chunk is a [`shape`] of its own.
pub(crate) const CHUNK: usize = 512;

/// The row count a statement over `n` rows (or an IN list of `n` values) is written for: the
/// next power of two, the rest padded (see [`padded`], [`insert_select`]). Each statement then
/// has about ten texts, which stay in the connection's statement cache: parsed and planned once
/// per connection instead of once per batch, and run in one round trip instead of two (a
/// statement that is not kept is prepared in a round trip of its own).
pub(crate) fn shape(n: usize) -> usize {
    n.max(1).next_power_of_two()
}

/// `items`, then copies of the last item up to [`shape`]`(items.len())` (none when empty). In
/// an IN list a repeated value changes nothing; in an [`insert_select`] the copies are cut off
/// by the row number.
pub(crate) fn padded<T>(items: &[T]) -> impl Iterator<Item = &T> {
    let extra = shape(items.len()) - items.len();
    items
        .iter()
        .chain(items.last().into_iter().cycle().take(extra))
}

/// `INSERT INTO {target} SELECT … FROM (VALUES (1,p,…),(2,p,…),…) AS v WHERE column1 <= p{suffix}`
/// for `rows` rows (a [`shape`]). `exprs` is the select list: "" takes the row's next bound
/// value, anything else is SQL of its own (e.g. `nextval(…)`). Bind the values of the rows
/// padded to `rows` (see [`padded`]), then the number of real rows: copies beyond it are not
/// inserted (the row number is in the text, so this does not depend on the order of VALUES).
pub(crate) fn insert_select(
    backend: Backend,
    target: &str,
    exprs: &[&str],
    rows: usize,
    suffix: &str,
) -> String {
    use std::fmt::Write;
    let bound = exprs.iter().filter(|e| e.is_empty()).count();
    let mut col = 1;
    let select: Vec<String> = exprs
        .iter()
        .map(|e| {
            if e.is_empty() {
                col += 1;
                format!("column{col}")
            } else {
                e.to_string()
            }
        })
        .collect();
    let mut ph = Ph::new(backend);
    let mut values = String::with_capacity(rows * (bound * 6 + 8));
    for r in 1..=rows {
        if r > 1 {
            values.push(',');
        }
        let _ = write!(values, "({r}");
        for _ in 0..bound {
            values.push(',');
            ph.push(&mut values);
        }
        values.push(')');
    }
    let real = ph.next();
    format!(
        "INSERT INTO {target} SELECT {} FROM (VALUES {values}) AS v WHERE column1 <= {real}{suffix}",
        select.join(", ")
    )
}
