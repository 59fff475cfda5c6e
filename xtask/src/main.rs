//! `cargo xtask <task>`: the project's automation, as plain functions.

mod bench;
mod checks;
mod ci;
mod demo;
mod faults;
mod fuzz;
mod integration;
mod real_server;

use std::process::ExitCode;
use std::sync::{Mutex, MutexGuard};

/// Locks a mutex, recovering the data if a panicking thread poisoned it (xtask's one copy).
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

const USAGE: &str = "\
usage: cargo xtask <task> [args]

tasks:
  demo          the readiness flow + a streamed chat, against the bundled emulator
                (or a real LM Studio with LMSTUDIO_URL / --url)
  integration   the facade's end-to-end suite against the emulator in every profile
                (and LMSTUDIO_URL when set); --real runs it against a real llama.cpp server
  bench         release benchmarks against same-run baselines (target/bench/latest.json)
  fuzz          run every fuzz target for --seconds N each (installs cargo-fuzz if missing)
  faults        count the fault catalogue's cases and check each names an existing test
  ci            run the same checks as .ci/run
";

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let task = args.next();
    let rest: Vec<String> = args.collect();
    let result = match task.as_deref() {
        Some("ci") => ci::run(&rest),
        Some("demo") => demo::run(&rest),
        Some("integration") => integration::run(&rest),
        Some("bench") => bench::run(&rest),
        Some("fuzz") => fuzz::run(&rest),
        Some("faults") => faults::run(&rest),
        Some("help" | "-h" | "--help") | None => {
            print!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Some(other) => Err(format!("unknown task `{other}`\n\n{USAGE}")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("xtask: {message}");
            ExitCode::FAILURE
        }
    }
}
