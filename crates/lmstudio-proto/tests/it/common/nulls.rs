//! `null` tolerance without a hand-written field list: a fully populated sample of a type has
//! each of its keys set to `null` in turn, at every depth, and must still parse.
//!
//! [`assert_populated`] makes sure the sample leaves no field at its default, so a field added
//! to a type later cannot escape [`assert_nulls_tolerated`]: a field left out of the sample
//! shows as `None`, `""`, `[]` or `{}` in the value's `Debug` form (which, unlike the JSON,
//! also lists the fields skipped when serializing). Every value is read from text with each
//! `type` key first as well (a `serde_json::Value` gives its keys sorted), so the one-pass
//! reading of tagged enums is exercised too.

use std::fmt::Debug;

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

/// Parses the sample `json` as `T` and returns it with its serialized form.
pub(crate) fn populated<T>(name: &str, json: &str) -> (T, Value)
where
    T: Serialize + DeserializeOwned + PartialEq + Debug,
{
    let value: T = serde_json::from_str(json)
        .unwrap_or_else(|e| panic!("{name}: the sample does not parse: {e}"));
    let serialized = serde_json::to_value(&value).expect("serialize");
    let again: T = serde_json::from_value(serialized.clone())
        .unwrap_or_else(|e| panic!("{name}: the serialized sample does not parse: {e}"));
    assert_eq!(again, value, "{name}: the sample does not round-trip");
    let type_first: T = serde_json::from_str(&type_first_text(&serialized))
        .unwrap_or_else(|e| panic!("{name}: the sample with `type` first does not parse: {e}"));
    assert_eq!(
        type_first, value,
        "{name}: the sample with `type` first reads differently"
    );
    (value, serialized)
}

/// Fails when the sample leaves a field at its default or empty: in its serialized JSON (no
/// `null`, no empty string, array or object) or in its `Debug` form (no `None`, `""`, `[]` or
/// `{}` outside string literals: this catches the fields serializing skipped).
pub(crate) fn assert_populated<T: Debug>(name: &str, value: &T, serialized: &Value) {
    let mut empties = Vec::new();
    empty_json_values(serialized, "$", &mut empties);
    assert!(
        empties.is_empty(),
        "{name}: the sample leaves these empty in its JSON: {empties:?}"
    );
    let debug = format!("{value:?}");
    let defaults = defaults_in_debug(&debug);
    assert!(
        defaults.is_empty(),
        "{name}: the sample leaves fields at their default (see the Debug text around each): \
         {defaults:#?}"
    );
}

/// Sets every key of `serialized` (every object at every depth, array elements included) to
/// `null` in turn and parses the result as `T`, which must succeed and round-trip.
///
/// The one exception is found, not listed: a key whose value is not an array may refuse
/// `null` when leaving the key out is also an error (a type's identity: a model `id`, a
/// download `status`, the `error` of an error body). Returns how many keys were tried.
pub(crate) fn assert_nulls_tolerated<T>(name: &str, serialized: &Value) -> usize
where
    T: Serialize + DeserializeOwned + PartialEq + Debug,
{
    let mut paths = Vec::new();
    key_paths(serialized, &mut Vec::new(), &mut paths);
    assert!(!paths.is_empty(), "{name}: the sample has no keys");
    for path in &paths {
        let mut nulled = serialized.clone();
        let original = replace(&mut nulled, path, Some(Value::Null));
        let shown = show(path);
        // Read from text with every `type` key first too: tagged objects take another path
        // then (a value's keys come sorted), which must read the same.
        let type_first = serde_json::from_str::<T>(&type_first_text(&nulled));
        match serde_json::from_value::<T>(nulled) {
            Ok(parsed) => {
                match type_first {
                    Ok(read) => assert_eq!(
                        read, parsed,
                        "{name}: with {shown} = null, `type` first reads differently"
                    ),
                    Err(e) => panic!("{name}: with {shown} = null, `type` first fails: {e}"),
                }
                let text = serde_json::to_string(&parsed).expect("serialize");
                let again: T = serde_json::from_str(&text).unwrap_or_else(|e| {
                    panic!("{name}: with {shown} = null, the re-serialized value fails: {e}")
                });
                assert_eq!(again, parsed, "{name}: with {shown} = null, no round trip");
            }
            Err(error) => {
                assert!(
                    type_first.is_err(),
                    "{name}: with {shown} = null, only `type` first parses"
                );
                let mut removed = serialized.clone();
                replace(&mut removed, path, None);
                let required = serde_json::from_value::<T>(removed).is_err();
                assert!(
                    required && !original.is_array(),
                    "{name}: {shown} = null fails to parse: {error}"
                );
            }
        }
    }
    paths.len()
}

/// `value` as JSON text with the `type` key first in every object (the others follow in
/// order), as Anthropic's API and llama.cpp write tagged objects.
pub(crate) fn type_first_text(value: &Value) -> String {
    match value {
        Value::Object(map) => {
            let tag = map.get_key_value("type");
            let rest = map.iter().filter(|(key, _)| key.as_str() != "type");
            let fields: Vec<String> = tag
                .into_iter()
                .chain(rest)
                .map(|(key, child)| {
                    let key = serde_json::to_string(key).expect("a key serializes");
                    format!("{key}:{}", type_first_text(child))
                })
                .collect();
            format!("{{{}}}", fields.join(","))
        }
        Value::Array(items) => {
            let items: Vec<String> = items.iter().map(type_first_text).collect();
            format!("[{}]", items.join(","))
        }
        scalar => scalar.to_string(),
    }
}

/// One step of a path: an object key or an array index.
#[derive(Clone, Debug)]
enum Step {
    Key(String),
    Index(usize),
}

fn key_paths(value: &Value, prefix: &mut Vec<Step>, out: &mut Vec<Vec<Step>>) {
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                prefix.push(Step::Key(key.clone()));
                out.push(prefix.clone());
                key_paths(child, prefix, out);
                prefix.pop();
            }
        }
        Value::Array(items) => {
            for (index, child) in items.iter().enumerate() {
                prefix.push(Step::Index(index));
                key_paths(child, prefix, out);
                prefix.pop();
            }
        }
        _ => {}
    }
}

/// Replaces the value at `path` (which ends with a key) with `new`, or removes the key when
/// `new` is `None`; returns the old value.
fn replace(root: &mut Value, path: &[Step], new: Option<Value>) -> Value {
    let (last, parents) = path.split_last().expect("a path has a key");
    let mut current = root;
    for step in parents {
        current = match step {
            Step::Key(key) => current.get_mut(key.as_str()),
            Step::Index(index) => current.get_mut(*index),
        }
        .expect("the path exists");
    }
    let (Step::Key(key), Value::Object(map)) = (last, current) else {
        panic!("a path ends with an object key");
    };
    match new {
        Some(new) => map.insert(key.clone(), new),
        None => map.remove(key),
    }
    .expect("the key exists")
}

fn show(path: &[Step]) -> String {
    let mut shown = String::from("$");
    for step in path {
        match step {
            Step::Key(key) => shown.push_str(&format!(".{key}")),
            Step::Index(index) => shown.push_str(&format!("[{index}]")),
        }
    }
    shown
}

fn empty_json_values(value: &Value, path: &str, out: &mut Vec<String>) {
    let empty = match value {
        Value::Null => true,
        Value::String(text) => text.is_empty(),
        Value::Array(items) => items.is_empty(),
        Value::Object(map) => map.is_empty(),
        Value::Bool(_) | Value::Number(_) => false,
    };
    if empty {
        out.push(path.to_owned());
    }
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                empty_json_values(child, &format!("{path}.{key}"), out);
            }
        }
        Value::Array(items) => {
            for (index, child) in items.iter().enumerate() {
                empty_json_values(child, &format!("{path}[{index}]"), out);
            }
        }
        _ => {}
    }
}

/// The places in a `Debug` text that show a default: `None`, `""`, `[]`, `{}` outside string
/// literals, each with the text before it (to find the field).
pub(crate) fn defaults_in_debug(debug: &str) -> Vec<String> {
    let chars: Vec<char> = debug.chars().collect();
    let context = |at: usize| -> String {
        let start = at.saturating_sub(60);
        chars[start..(at + 4).min(chars.len())].iter().collect()
    };
    let mut found = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        match chars[i] {
            '"' => {
                // A string literal: skip to its closing quote, minding escapes.
                let start = i;
                i += 1;
                while i < chars.len() && chars[i] != '"' {
                    i += if chars[i] == '\\' { 2 } else { 1 };
                }
                if i == start + 1 {
                    found.push(context(start));
                }
            }
            '[' if chars.get(i + 1) == Some(&']') => found.push(context(i)),
            '{' if chars.get(i + 1) == Some(&'}') => found.push(context(i)),
            'N' if chars[i..].starts_with(&['N', 'o', 'n', 'e'])
                && !chars.get(i + 4).is_some_and(|c| c.is_alphanumeric())
                && !(i > 0 && chars[i - 1].is_alphanumeric()) =>
            {
                found.push(context(i));
            }
            _ => {}
        }
        i += 1;
    }
    found
}
