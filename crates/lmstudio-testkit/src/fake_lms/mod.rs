//! The fake `lms`: behaves like `lms get/ls/ps/load/unload/server status|start/runtime
//! survey` against an emulator (`load --estimate-only` included).
//!
//! The `fake-lms` binary calls [`run`]. It is invoked as
//! `fake-lms --server http://127.0.0.1:PORT <lms args...>`; tests put an `lms` script on disk
//! with [`write_lms_wrapper`] so the code under test runs "lms" as usual. Outputs follow the
//! real CLI: data (`--json`) and progress bars / spinners on stdout, messages on stderr,
//! `Error: ...` and exit code 1 on failure. Like the real CLI, a client command given
//! `--port N` talks to `127.0.0.1:N` and exits 1 when nothing answers there, and
//! `server start` can bring a server up through a [`ServerStartWatcher`] in the test process.

mod args;
mod client;
mod commands;
mod estimate;
mod faults;
mod get;
mod link;
mod progress;
mod start;
mod survey;
mod watcher;
mod wrapper;

use std::io::Write;

pub use estimate::{FakeEstimate, Grouping};
pub use faults::{FakeLmsOptions, recorded_calls};
pub use survey::FakeSurvey;
pub use watcher::{ServerStartWatcher, StartAnswer, StartRequest};
pub use wrapper::{find_fake_lms_binary, write_lms_wrapper, write_lms_wrapper_with};

use client::Server;

/// The text `lms` prints with no arguments.
const USAGE: &str = "lms is LM Studio's CLI utility for your models, server, and inference runtime. (fake-lms: the lmstudio-testkit stand-in)\n\nUsage: lms <get|ls|ps|load|unload|server|runtime|version> [options]\n\nCLI commit: fake-lms\n";

/// Runs the fake `lms` with `args` (program name excluded), writing to `out` / `err`, and
/// returns the exit code (0 success, 1 error).
///
/// `--server URL` (or `--server=URL`) must come before the command; without it the server is
/// `http://127.0.0.1:1234`. So must the fault options [`FakeLmsOptions`] writes (`--record
/// FILE`, `--on CMD`, `--stderr LINE`, `--exit CODE`, `--hang`, `--killed`, `--start-dir
/// DIR`).
pub fn run(args: &[String], out: &mut dyn Write, err: &mut dyn Write) -> i32 {
    let mut rest = args;
    let mut server_url = "http://127.0.0.1:1234".to_owned();
    let mut faults = FakeLmsOptions::new();
    loop {
        match faults.parse_one(rest) {
            Ok(Some(consumed)) => {
                rest = &rest[consumed..];
                continue;
            }
            Ok(None) => {}
            Err(message) => return fail(err, &message),
        }
        match rest.first().map(String::as_str) {
            Some("--server") => match rest.get(1) {
                Some(url) => {
                    server_url = url.clone();
                    rest = &rest[2..];
                }
                None => return fail(err, "option '--server' argument missing"),
            },
            Some(arg) if arg.starts_with("--server=") => {
                server_url = arg["--server=".len()..].to_owned();
                rest = &rest[1..];
            }
            _ => break,
        }
    }
    let server = match Server::parse(&server_url) {
        Ok(server) => server,
        Err(message) => return fail(err, &message),
    };
    if let Some(code) = faults.apply(rest.first().map(String::as_str), rest, err) {
        let _ = out.flush();
        let _ = err.flush();
        return code;
    }
    let Some((command, rest)) = rest.split_first() else {
        let _ = out.write_all(USAGE.as_bytes());
        return 0;
    };
    // Client commands honour `--port` / `--host` as `lms` does (see `start`).
    let takes_port = !matches!(
        command.as_str(),
        "server" | "version" | "-v" | "--version" | "-h" | "--help" | "help"
    );
    let server = if takes_port {
        match start::client_server(&server, rest) {
            Ok(server) => server,
            Err(message) => return fail(err, &message),
        }
    } else {
        server
    };
    let code = match command.as_str() {
        "get" => get::get(&server, rest, out, err),
        "ls" => commands::ls(&server, rest, out, err),
        "ps" if !faults.ps_fields().is_empty() => {
            link::ps(&server, faults.ps_fields(), rest, out, err)
        }
        "ps" => commands::ps(&server, rest, out, err),
        "load" if estimate::wanted(rest) => {
            estimate::estimate(&server, &faults.estimate_choice(), rest, err)
        }
        "load" => commands::load(&server, rest, out, err),
        "runtime" => survey::runtime(faults.survey_choice(), rest, out, err),
        "unload" => commands::unload(&server, rest, out, err),
        "server" => commands::server(&server, rest, faults.start_dir(), out, err),
        "version" => commands::version(rest, out, err),
        "-v" | "--version" => {
            let _ = writeln!(out, "CLI commit: fake-lms");
            0
        }
        "-h" | "--help" | "help" => {
            let _ = out.write_all(USAGE.as_bytes());
            0
        }
        other => fail(err, &format!("unknown command '{other}'")),
    };
    let _ = out.flush();
    let _ = err.flush();
    code
}

/// Prints `Error: <message>` on stderr and returns exit code 1.
pub(crate) fn fail(err: &mut dyn Write, message: &str) -> i32 {
    let _ = writeln!(err, "Error: {message}");
    1
}
