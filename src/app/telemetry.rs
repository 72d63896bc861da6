//! Logging: JSON lines for the worker (one span per message), plain text for the tools, as the
//! `log_format` key says. Never a BSN or a name: messages are identified by sender, kind and
//! Identificatie only.
//!
//! JSON lines keep the shape of tracing-subscriber's JSON format (`timestamp`, `level`,
//! `fields`, `target`, `span`, `spans`), with field values as JSON values: numbers and booleans
//! as such, and a field recorded with `?` whose text is a JSON array or object (`codes =
//! ?vec_of_strings`) as that array or object, not as a string holding it.

use std::fmt;
use std::io::IsTerminal;

use serde_json::{Map, Value};
use tracing::field::{Field, Visit};
use tracing::{Event, Subscriber};
use tracing_subscriber::fmt::format::{JsonFields, Writer};
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields, FormattedFields};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::EnvFilter;

use super::config::LogFormat;

/// Installs the subscriber: `RUST_LOG`, else `info` for the worker and `warn` for the tools.
/// Colour codes only when stderr is a terminal.
pub fn init(format: LogFormat, serve: bool) {
    let default = if serve { "info" } else { "warn" };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let json = match format {
        LogFormat::Json => true,
        LogFormat::Text => false,
        LogFormat::Auto => serve,
    };
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal());
    let _ = if json {
        builder
            .fmt_fields(JsonFields::new())
            .event_format(JsonLines)
            .try_init()
    } else {
        builder.try_init()
    };
}

/// One JSON object per event (see the module documentation).
pub struct JsonLines;

impl<S, N> FormatEvent<S, N> for JsonLines
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let meta = event.metadata();
        let mut fields = Map::new();
        event.record(&mut JsonVisitor(&mut fields));
        let spans: Vec<Value> = ctx
            .event_scope()
            .map(|scope| scope.from_root().map(|s| span_json::<S, N>(&s)).collect())
            .unwrap_or_default();
        // Written in this order (a map would sort the keys): time and level first.
        let timestamp = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
        write!(
            writer,
            "{{\"timestamp\":{},\"level\":{},\"fields\":{},\"target\":{}",
            Value::from(timestamp),
            Value::from(meta.level().as_str()),
            Value::Object(fields),
            Value::from(meta.target())
        )?;
        if let Some(current) = spans.last() {
            write!(
                writer,
                ",\"span\":{current},\"spans\":{}",
                Value::Array(spans.clone())
            )?;
        }
        writeln!(writer, "}}")
    }
}

/// A span as `{"name": …, field: value, …}`; its fields were formatted as JSON by
/// [`JsonFields`] when it was entered.
fn span_json<S, N>(span: &tracing_subscriber::registry::SpanRef<'_, S>) -> Value
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    let mut obj = Map::new();
    obj.insert("name".into(), span.name().into());
    if let Some(f) = span.extensions().get::<FormattedFields<N>>() {
        if let Ok(Value::Object(fields)) = serde_json::from_str::<Value>(f) {
            for (k, v) in fields {
                obj.insert(k, from_text(v));
            }
        }
    }
    Value::Object(obj)
}

/// A string field that holds a JSON array or object becomes that value.
fn from_text(v: Value) -> Value {
    match &v {
        Value::String(s) if s.starts_with('[') || s.starts_with('{') => {
            serde_json::from_str::<Value>(s)
                .ok()
                .filter(|p| p.is_array() || p.is_object())
                .unwrap_or(v)
        }
        _ => v,
    }
}

/// Records event fields as JSON values.
struct JsonVisitor<'a>(&'a mut Map<String, Value>);

impl Visit for JsonVisitor<'_> {
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.0.insert(field.name().into(), value.into());
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.0.insert(field.name().into(), value.into());
    }
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.0.insert(field.name().into(), value.into());
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.0.insert(field.name().into(), value.into());
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().into(), value.into());
    }
    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        self.0.insert(field.name().into(), value.to_string().into());
    }
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        let text = format!("{value:?}");
        self.0
            .insert(field.name().into(), from_text(Value::String(text)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_text_that_is_a_json_array_or_object_becomes_one() {
        let codes = vec!["9321".to_string(), "0611".to_string()];
        assert_eq!(
            from_text(Value::String(format!("{codes:?}"))),
            serde_json::json!(["9321", "0611"])
        );
        let s = Value::String("[niet json".into());
        assert_eq!(from_text(s.clone()), s);
        let n = Value::String("12".into());
        assert_eq!(from_text(n.clone()), n, "only arrays and objects");
    }
}
