//! `lms ls`, `ps`, `load`, `unload`, `server status|start|stop` and `version`.

use std::io::Write;
use std::path::Path;
use std::sync::mpsc;
use std::time::Duration;

use serde_json::{Map, Value, json};

use super::client::{Reply, Server};
use super::progress::{self, SPINNER};
use super::{args, fail};

/// Timeout for quick calls.
const QUICK: Duration = Duration::from_secs(30);
/// Timeout for a load (it blocks for the emulator's load delay).
const LOAD_TIMEOUT: Duration = Duration::from_secs(600);
/// Spinner redraw period (as `lms`).
const SPIN: Duration = Duration::from_millis(80);

fn fetch_array(server: &Server, path: &str) -> Result<Vec<Value>, String> {
    let reply = server.get(path, QUICK)?;
    if let Some(message) = reply.error_message() {
        return Err(message);
    }
    match reply.json() {
        Value::Array(items) => Ok(items),
        _ => Err(format!("unexpected answer from the server: {}", reply.body)),
    }
}

fn text<'a>(item: &'a Value, key: &str) -> &'a str {
    item.get(key).and_then(Value::as_str).unwrap_or("")
}

fn size_of(item: &Value) -> String {
    progress::format_bytes(item.get("sizeBytes").and_then(Value::as_f64).unwrap_or(0.0))
}

/// `lms ls [--json] [--llm] [--embedding]`.
pub(crate) fn ls(
    server: &Server,
    rest: &[String],
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> i32 {
    let parsed = match args::parse(
        rest,
        &[],
        &["json", "llm", "embedding", "variants", "detailed"],
        &[],
    ) {
        Ok(parsed) => parsed,
        Err(message) => return fail(err, &message),
    };
    let mut models = match fetch_array(server, "/__testkit/lms/ls") {
        Ok(models) => models,
        Err(message) => return fail(err, &message),
    };
    if let Some(key) = parsed.positionals.first() {
        models.retain(|m| text(m, "modelKey") == key.as_str());
    }
    if parsed.has("llm") != parsed.has("embedding") {
        let wanted = if parsed.has("llm") {
            "llm"
        } else {
            "embedding"
        };
        models.retain(|m| text(m, "type") == wanted);
    }
    if parsed.has("json") {
        let _ = writeln!(out, "{}", Value::Array(models));
        return 0;
    }
    if models.is_empty() {
        let _ = writeln!(out, "You have not downloaded any models yet.");
        return 0;
    }
    let total: f64 = models
        .iter()
        .filter_map(|m| m.get("sizeBytes").and_then(Value::as_f64))
        .sum();
    let _ = writeln!(
        out,
        "You have {} models, taking up {} of disk space.",
        models.len(),
        progress::format_bytes(total)
    );
    for (kind, title) in [("llm", "LLM"), ("embedding", "EMBEDDING")] {
        let rows: Vec<&Value> = models.iter().filter(|m| text(m, "type") == kind).collect();
        if rows.is_empty() {
            continue;
        }
        let _ = writeln!(
            out,
            "\n{title:<40}  {:<8}  {:<12}  {:<10}  DEVICE",
            "PARAMS", "ARCH", "SIZE"
        );
        for row in rows {
            let _ = writeln!(
                out,
                "{:<40}  {:<8}  {:<12}  {:<10}  Local",
                text(row, "modelKey"),
                text(row, "paramsString"),
                text(row, "architecture"),
                size_of(row)
            );
        }
    }
    0
}

/// `lms ps [--json]`.
pub(crate) fn ps(
    server: &Server,
    rest: &[String],
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> i32 {
    let parsed = match args::parse(rest, &[], &["json"], &[]) {
        Ok(parsed) => parsed,
        Err(message) => return fail(err, &message),
    };
    let loaded = match fetch_array(server, "/__testkit/lms/ps") {
        Ok(loaded) => loaded,
        Err(message) => return fail(err, &message),
    };
    if parsed.has("json") {
        let _ = writeln!(out, "{}", Value::Array(loaded));
        return 0;
    }
    if loaded.is_empty() {
        let _ = writeln!(err, "No models are currently loaded.");
        return 0;
    }
    let _ = writeln!(
        out,
        "{:<40}  {:<40}  {:<8}  {:<10}  {:<8}  {:<8}  {:<7}  TTL",
        "IDENTIFIER", "MODEL", "STATUS", "SIZE", "CONTEXT", "PARALLEL", "DEVICE"
    );
    for row in &loaded {
        let ttl = row
            .get("ttlMs")
            .and_then(Value::as_u64)
            .map_or_else(String::new, |ms| format!("{}s", ms / 1000));
        let _ = writeln!(
            out,
            "{:<40}  {:<40}  {:<8}  {:<10}  {:<8}  {:<8}  {:<7}  {ttl}",
            text(row, "identifier"),
            text(row, "modelKey"),
            text(row, "status").to_uppercase(),
            size_of(row),
            row.get("contextLength")
                .and_then(Value::as_u64)
                .unwrap_or(0),
            row.get("parallel").and_then(Value::as_u64).unwrap_or(0),
            "Local"
        );
    }
    0
}

fn positive(parsed: &args::Parsed, name: &str) -> Result<Option<u64>, String> {
    match parsed.value(name) {
        None => Ok(None),
        Some(raw) => match raw.parse::<u64>() {
            Ok(n) if n >= 1 => Ok(Some(n)),
            _ => Err(format!(
                "option '--{name}': expected a positive integer, got \"{raw}\""
            )),
        },
    }
}

fn check_gpu(value: Option<&str>) -> Result<(), String> {
    match value {
        None | Some("off" | "max") => Ok(()),
        Some(raw) => match raw.parse::<f64>() {
            Ok(x) if (0.0..=1.0).contains(&x) => Ok(()),
            _ => Err(format!(
                "option '--gpu': expected off, max or a number between 0 and 1, got \"{raw}\""
            )),
        },
    }
}

/// `lms load <key> [--yes] [-c N] [--ttl N] [--gpu X] [--identifier X] [--parallel N]`.
pub(crate) fn load(
    server: &Server,
    rest: &[String],
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> i32 {
    let parsed = match args::parse(
        rest,
        &["context-length", "ttl", "gpu", "identifier", "parallel"],
        &["yes", "exact", "local", "estimate-only"],
        &[("-y", "yes"), ("-c", "context-length")],
    ) {
        Ok(parsed) => parsed,
        Err(message) => return fail(err, &message),
    };
    let Some(key) = parsed.positionals.first().cloned() else {
        return fail(
            err,
            "Please specify a model key to load (no TTY to choose one).",
        );
    };
    let mut body = Map::new();
    body.insert("model".into(), json!(key));
    let numbers = [
        ("context-length", "context_length"),
        ("ttl", "ttl_seconds"),
        ("parallel", "parallel"),
    ];
    for (flag, field) in numbers {
        match positive(&parsed, flag) {
            Ok(Some(n)) => {
                body.insert(field.into(), json!(n));
            }
            Ok(None) => {}
            Err(message) => return fail(err, &message),
        }
    }
    if let Err(message) = check_gpu(parsed.value("gpu")) {
        return fail(err, &message);
    }
    if let Some(identifier) = parsed.value("identifier") {
        body.insert("identifier".into(), json!(identifier));
    }
    let reply = spin_while(out, &key, {
        let server = server.clone();
        let body = Value::Object(body);
        move || server.post("/__testkit/lms/load", &body, LOAD_TIMEOUT)
    });
    let reply = match reply {
        Ok(reply) => reply,
        Err(message) => return fail(err, &message),
    };
    if let Some(message) = reply.error_message() {
        return fail(err, &message);
    }
    let done = reply.json();
    let seconds = done
        .get("load_time_seconds")
        .and_then(Value::as_f64)
        .unwrap_or(0.0);
    let gib = done
        .get("size_bytes")
        .and_then(Value::as_f64)
        .unwrap_or(0.0)
        / f64::from(1u32 << 30);
    let _ = write!(
        err,
        "Model loaded successfully in {seconds:.2}s.\n({gib:.2} GiB)\nTo use the model in the API/SDK, use the identifier \"{}\".\n",
        text(&done, "identifier")
    );
    0
}

/// Runs `work` on a thread while redrawing `\rLoading <key> NN% ⠋` on stdout every 80 ms.
fn spin_while(
    out: &mut dyn Write,
    key: &str,
    work: impl FnOnce() -> Result<Reply, String> + Send + 'static,
) -> Result<Reply, String> {
    let (tx, rx) = mpsc::channel();
    let handle = std::thread::spawn(move || {
        let _ = tx.send(work());
    });
    let mut frame = 0;
    let result = loop {
        let _ = write!(
            out,
            "\rLoading {key} {}% {}",
            if frame == 0 { 0 } else { 50 },
            SPINNER[frame % SPINNER.len()]
        );
        let _ = out.flush();
        frame += 1;
        match rx.recv_timeout(SPIN) {
            Ok(result) => break result,
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                break Err("the load request failed".to_owned());
            }
        }
    };
    let _ = handle.join();
    let _ = write!(out, "\r\x1b[0K");
    let _ = out.flush();
    result
}

/// `lms unload <identifier> | --all`.
pub(crate) fn unload(
    server: &Server,
    rest: &[String],
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> i32 {
    let _ = out;
    let parsed = match args::parse(rest, &[], &["all"], &[("-a", "all")]) {
        Ok(parsed) => parsed,
        Err(message) => return fail(err, &message),
    };
    let body = if parsed.has("all") {
        json!({ "all": true })
    } else if let Some(identifier) = parsed.positionals.first() {
        json!({ "identifier": identifier })
    } else {
        let loaded = match fetch_array(server, "/__testkit/lms/ps") {
            Ok(loaded) => loaded,
            Err(message) => return fail(err, &message),
        };
        match loaded.as_slice() {
            [] => {
                let _ = writeln!(err, "No models to unload.");
                return 0;
            }
            [only] => json!({ "identifier": text(only, "identifier") }),
            _ => {
                return fail(
                    err,
                    "Several models are loaded: pass an identifier or --all.",
                );
            }
        }
    };
    let reply = match server.post("/__testkit/lms/unload", &body, QUICK) {
        Ok(reply) => reply,
        Err(message) => return fail(err, &message),
    };
    if let Some(message) = reply.error_message() {
        return fail(err, &message);
    }
    let unloaded = reply.json();
    let ids: Vec<&str> = unloaded
        .get("unloaded")
        .and_then(Value::as_array)
        .map(|ids| ids.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    if parsed.has("all") {
        let _ = writeln!(err, "Unloaded {} model(s).", ids.len());
    } else {
        for id in ids {
            let _ = writeln!(err, "Model \"{id}\" unloaded.");
        }
    }
    0
}

/// `lms server status [--json]`, `server start [--port N] [--bind X] [--cors]`, `server
/// stop`. `status` and `stop` take no `--port` (as in `lms`, where only `start` has one).
pub(crate) fn server(
    server: &Server,
    rest: &[String],
    start_dir: Option<&Path>,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> i32 {
    let Some((sub, rest)) = rest.split_first() else {
        return fail(err, "missing subcommand: lms server <start|stop|status>");
    };
    let parsed = match args::parse(rest, &["bind"], &["json", "cors"], &[("-p", "port")]) {
        Ok(parsed) => parsed,
        Err(message) => return fail(err, &message),
    };
    if sub != "start" && parsed.flags.contains_key("port") {
        return fail(err, "unknown option '--port'");
    }
    if sub == "start" {
        return super::start::server_start(server, &parsed, start_dir, err);
    }
    let running = server.greets(Duration::from_secs(2));
    match sub.as_str() {
        "status" if parsed.has("json") => {
            let status = if running {
                json!({ "running": true, "port": server.port })
            } else {
                json!({ "running": false })
            };
            let _ = writeln!(out, "{status}");
            0
        }
        "status" => {
            if running {
                let _ = writeln!(err, "The server is running on port {}.", server.port);
            } else {
                let _ = writeln!(err, "The server is not running.");
            }
            0
        }
        "stop" if running => fail(err, "The fake lms cannot stop the LM Studio emulator."),
        "stop" => fail(err, "The server is not running."),
        other => fail(err, &format!("unknown command 'server {other}'")),
    }
}

/// `lms version [--json]`.
pub(crate) fn version(rest: &[String], out: &mut dyn Write, err: &mut dyn Write) -> i32 {
    let parsed = match args::parse(rest, &[], &["json"], &[]) {
        Ok(parsed) => parsed,
        Err(message) => return fail(err, &message),
    };
    if parsed.has("json") {
        let _ = writeln!(out, "{}", json!({ "version": "fake-lms" }));
    } else {
        let _ = writeln!(out, "CLI commit: fake-lms");
    }
    0
}
