//! `lms ps --json` with fields set on every row: an instance on an LM Link device
//! (`deviceIdentifier`), an idle TTL (`ttlMs`), or a hostile value where a number belongs.
//! The emulator knows nothing of LM Link; the fake adds what the test asks for.

use std::io::Write;
use std::time::Duration;

use serde_json::Value;

use super::client::Server;
use super::{args, commands, fail};

/// `lms ps [--json]`, with `fields` set on every `--json` row (the table is as usual).
pub(crate) fn ps(
    server: &Server,
    fields: &[(String, Value)],
    rest: &[String],
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> i32 {
    let parsed = match args::parse(rest, &[], &["json"], &[]) {
        Ok(parsed) => parsed,
        Err(message) => return fail(err, &message),
    };
    if !parsed.has("json") {
        return commands::ps(server, rest, out, err);
    }
    let reply = match server.get("/__testkit/lms/ps", Duration::from_secs(30)) {
        Ok(reply) => reply,
        Err(message) => return fail(err, &message),
    };
    if let Some(message) = reply.error_message() {
        return fail(err, &message);
    }
    let Value::Array(mut rows) = reply.json() else {
        return fail(
            err,
            &format!("unexpected answer from the server: {}", reply.body),
        );
    };
    for row in &mut rows {
        if let Value::Object(row) = row {
            for (key, value) in fields {
                row.insert(key.clone(), value.clone());
            }
        }
    }
    let _ = writeln!(out, "{}", Value::Array(rows));
    0
}

/// Reads a `--ps-field KEY=JSON` value.
pub(crate) fn parse_field(text: &str) -> Result<(String, Value), String> {
    let (key, json) = text
        .split_once('=')
        .filter(|(key, _)| !key.is_empty())
        .ok_or_else(|| format!("option '--ps-field': expected KEY=JSON, got {text:?}"))?;
    let value = serde_json::from_str(json)
        .map_err(|e| format!("option '--ps-field': {json:?} is not JSON: {e}"))?;
    Ok((key.to_owned(), value))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_a_key_and_a_json_value() {
        assert_eq!(
            parse_field(r#"deviceIdentifier="mac-studio""#),
            Ok(("deviceIdentifier".to_owned(), Value::from("mac-studio")))
        );
        assert_eq!(
            parse_field("ttlMs=-1"),
            Ok(("ttlMs".to_owned(), Value::from(-1)))
        );
        for bad in ["ttlMs", "=1", "ttlMs=not json"] {
            assert!(parse_field(bad).is_err(), "{bad}");
        }
    }
}
