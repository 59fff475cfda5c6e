//! `lms get [--yes] <model>`: starts a download and redraws a progress bar on stdout every
//! ~50 ms until it completes; status lines on stderr.

use std::io::Write;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::client::Server;
use super::progress;
use super::{args, fail};

/// Time between redraws (as `lms`).
const TICK: Duration = Duration::from_millis(50);
/// Per-request timeout.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// The longest the fake waits for one download.
const MAX_WAIT: Duration = Duration::from_secs(3600);

/// Runs `lms get`.
pub(crate) fn get(
    server: &Server,
    rest: &[String],
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> i32 {
    let parsed = match args::parse(
        rest,
        &[],
        &["yes", "mlx", "gguf", "select"],
        &[("-y", "yes")],
    ) {
        Ok(parsed) => parsed,
        Err(message) => return fail(err, &message),
    };
    let Some(model) = parsed.positionals.first() else {
        return fail(
            err,
            "Please specify a model to download, e.g. lms get openai/gpt-oss-20b",
        );
    };
    if model.matches('@').count() > 1 {
        return fail(
            err,
            &format!("Invalid model name \"{model}\": more than one '@'."),
        );
    }
    if parsed.has("select") && parsed.has("yes") {
        return fail(err, "--select cannot be used with --yes.");
    }
    let reply = match server.post(
        "/__testkit/lms/get",
        &json!({ "model": model }),
        REQUEST_TIMEOUT,
    ) {
        Ok(reply) => reply,
        Err(message) => return fail(err, &message),
    };
    if let Some(message) = reply.error_message() {
        return fail(err, &message);
    }
    let body = reply.json();
    let key = body
        .get("key")
        .and_then(Value::as_str)
        .unwrap_or(model)
        .to_owned();
    let total = body
        .get("total_size_bytes")
        .and_then(Value::as_u64)
        .unwrap_or(0);
    match body.get("status").and_then(Value::as_str) {
        Some("already_downloaded") => {
            let _ = write!(
                err,
                "Model already downloaded. To use, run:\n lms load {key}\n"
            );
            0
        }
        Some("downloading") => {
            let job = body
                .get("job_id")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let size = progress::format_bytes(total as f64);
            let plan = if parsed.has("yes") {
                format!("Resolution completed. Downloading {size}...\n")
            } else {
                format!("About to download {size}.\n")
            };
            let _ = out.write_all(plan.as_bytes());
            follow(server, job, &key, out, err)
        }
        _ => fail(
            err,
            &format!("unexpected answer from the server: {}", reply.body),
        ),
    }
}

/// Polls the job and redraws the bar until the job ends.
fn follow(server: &Server, job: &str, key: &str, out: &mut dyn Write, err: &mut dyn Write) -> i32 {
    let _ = out.write_all(b"\x1b[?25l");
    let started = Instant::now();
    let mut frame = 0;
    let mut speed = 0.0;
    loop {
        let status = match server.get(&format!("/__testkit/lms/download/{job}"), REQUEST_TIMEOUT) {
            Ok(reply) => match reply.error_message() {
                None => reply.json(),
                Some(message) => return end(out, err, Err(message)),
            },
            Err(message) => return end(out, err, Err(message)),
        };
        let total = status
            .get("total_size_bytes")
            .and_then(Value::as_u64)
            .unwrap_or(0);
        let done = status
            .get("downloaded_bytes")
            .and_then(Value::as_u64)
            .unwrap_or(0);
        // The final status has no speed: keep showing the last one seen.
        if let Some(now) = status.get("bytes_per_second").and_then(Value::as_f64) {
            speed = now;
        }
        let line = progress::progress_line(frame, done, total, speed);
        let _ = write!(out, "\r\x1b[0K{line}");
        let _ = out.flush();
        frame += 1;
        match status.get("status").and_then(Value::as_str) {
            Some("completed") => return end(out, err, Ok(())),
            Some("failed") => {
                return end(
                    out,
                    err,
                    Err(format!(
                        "Failed to download {key}. The download was interrupted."
                    )),
                );
            }
            _ => {}
        }
        if started.elapsed() > MAX_WAIT {
            return end(
                out,
                err,
                Err(format!("Timed out waiting for the download of {key}.")),
            );
        }
        std::thread::sleep(TICK);
    }
}

fn end(out: &mut dyn Write, err: &mut dyn Write, result: Result<(), String>) -> i32 {
    let _ = out.write_all(b"\n\x1b[?25h");
    let _ = out.flush();
    match result {
        Ok(()) => {
            let _ = err.write_all(b"Finalizing download...\nDownload completed.\n");
            0
        }
        Err(message) => fail(err, &message),
    }
}
