//! Shared test helpers: round trips, a lossless-ness check, a tiny SSE `data:` splitter, and
//! the `null` walker ([`nulls`]).
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

pub(crate) mod nulls;

use std::fmt::Debug;

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

/// Parses `json` as `T`, checks serialize -> parse gives an equal value, and checks that the
/// serialized form says everything the original said (see [`assert_lossless`]).
pub(crate) fn round_trip<T>(name: &str, json: &str) -> T
where
    T: Serialize + DeserializeOwned + PartialEq + Debug,
{
    let parsed: T = serde_json::from_str(json).unwrap_or_else(|e| {
        panic!(
            "{name}: does not parse as {}: {e}",
            std::any::type_name::<T>()
        )
    });
    let text = serde_json::to_string(&parsed).expect("serialize");
    let again: T = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("{name}: re-serialized form does not parse: {e}\n{text}"));
    assert_eq!(again, parsed, "{name}: round trip changed the value");
    let original: Value = serde_json::from_str(json).expect("fixture is JSON");
    assert_lossless(
        name,
        &original,
        &serde_json::to_value(&parsed).expect("to_value"),
    );
    parsed
}

/// Asserts `ours` carries every non-null field of `original`, with equal values (it may add
/// defaults, e.g. a missing `role`): `null`s are ignored (we skip `None`), empty arrays and
/// objects equal absent ones, and numbers compare as numbers (`4` == `4.0`; floats to 1e-6
/// relative, since vectors are `f32`).
pub(crate) fn assert_lossless(name: &str, original: &Value, ours: &Value) {
    let (a, b) = (normalize(original), normalize(ours));
    if let Err(path) = same(&a, &b, String::from("$")) {
        panic!(
            "{name}: serialized form differs at {path}\noriginal: {}\nours:     {}",
            excerpt(&a),
            excerpt(&b)
        );
    }
}

fn excerpt(value: &Value) -> String {
    let text = value.to_string();
    text.chars().take(600).collect()
}

fn normalize(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), normalize(v)))
                .filter(|(_, v)| !is_empty(v))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(normalize).collect()),
        other => other.clone(),
    }
}

fn is_empty(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::Array(items) => items.is_empty(),
        Value::Object(map) => map.is_empty(),
        _ => false,
    }
}

fn same(a: &Value, b: &Value, path: String) -> Result<(), String> {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            for (key, p) in x {
                match y.get(key) {
                    Some(q) => same(p, q, format!("{path}.{key}"))?,
                    None => return Err(format!("{path}.{key} (lost)")),
                }
            }
            Ok(())
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
            for (i, (p, q)) in x.iter().zip(y).enumerate() {
                same(p, q, format!("{path}[{i}]"))?;
            }
            Ok(())
        }
        (Value::Number(x), Value::Number(y)) => {
            if !x.is_f64() && !y.is_f64() {
                return if x == y { Ok(()) } else { Err(path) };
            }
            let (p, q) = (x.as_f64().unwrap(), y.as_f64().unwrap());
            if (p - q).abs() <= 1e-6 * p.abs().max(q.abs()).max(1e-30) {
                Ok(())
            } else {
                Err(path)
            }
        }
        _ if a == b => Ok(()),
        _ => Err(path),
    }
}

/// The `data:` payloads of an SSE body up to `[DONE]` (which must be present), one per event.
/// Only what these fixtures need: single-line `data:` fields, LF or CRLF line ends.
pub(crate) fn sse_data(body: &str) -> Vec<&str> {
    let mut events = Vec::new();
    for line in body.lines() {
        let Some(data) = line.strip_prefix("data:") else {
            continue;
        };
        let data = data.strip_prefix(' ').unwrap_or(data);
        if data == "[DONE]" {
            return events;
        }
        events.push(data);
    }
    panic!("stream has no [DONE]");
}

/// The named events of an SSE body that has no `[DONE]` (the Responses API): each event's
/// `event:` name and `data:` payload, in order. Only what these fixtures need: single-line
/// fields, LF line ends, events separated by blank lines; other lines are ignored.
pub(crate) fn sse_named_events(body: &str) -> Vec<(Option<&str>, &str)> {
    let mut events = Vec::new();
    let mut name = None;
    for line in body.lines() {
        if let Some(value) = line.strip_prefix("event:") {
            name = Some(value.trim_start());
        } else if let Some(data) = line.strip_prefix("data:") {
            events.push((name.take(), data.strip_prefix(' ').unwrap_or(data)));
        } else if line.is_empty() {
            name = None;
        }
    }
    events
}
