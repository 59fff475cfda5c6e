//! `cargo xtask fuzz [--seconds N] [--target NAME]...`: runs every fuzz target in `fuzz/`.
//!
//! Installs cargo-fuzz when it is missing (`cargo install cargo-fuzz --locked`), builds the
//! targets once on the stable toolchain (`RUSTC_BOOTSTRAP=1`, `--sanitizer none`, build output
//! in `target/fuzz-build`), then runs each target for N seconds (default 60). The committed
//! seeds in `fuzz/seeds/<target>/` (copied from the test fixtures) are copied into the libFuzzer
//! working corpus `fuzz/corpus/<target>/` (not committed; it grows across runs). Crash inputs
//! go to `fuzz/artifacts/<target>/`, full logs to `target/fuzz-logs/<target>.log`. Prints each
//! target's executions and outcome; fails when any target crashed or could not run.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

/// Every target in `fuzz/Cargo.toml`.
const TARGETS: &[&str] = &["sse_decoder", "proto_json", "lms_progress", "endpoint"];
const DEFAULT_SECONDS: u64 = 60;
/// libFuzzer's per-input limit: an input slower than this is reported as a hang (a failure).
const PER_INPUT_TIMEOUT_SECS: u64 = 10;

const USAGE: &str = "usage: cargo xtask fuzz [--seconds N] [--target NAME]...\n\
                     targets: sse_decoder, proto_json, lms_progress, endpoint (default: all)";

/// Runs the task.
pub(crate) fn run(args: &[String]) -> Result<(), String> {
    let options = Options::parse(args)?;
    let root = workspace_root();
    let fuzz_dir = root.join("fuzz");
    let build_dir = root.join("target").join("fuzz-build");
    let log_dir = root.join("target").join("fuzz-logs");
    fs::create_dir_all(&log_dir).map_err(|e| format!("creating {}: {e}", log_dir.display()))?;

    ensure_cargo_fuzz()?;
    println!("building the fuzz targets (release, --sanitizer none)...");
    let status = cargo_fuzz(&root)
        .args(["build", "--sanitizer", "none", "--target-dir"])
        .arg(&build_dir)
        .args(options.targets_for_build())
        .status()
        .map_err(|e| format!("running cargo fuzz build: {e}"))?;
    if !status.success() {
        return Err(format!("cargo fuzz build failed ({status})"));
    }

    let mut reports = Vec::new();
    for target in &options.targets {
        let corpus = prepare_corpus(&fuzz_dir, target)?;
        let artifacts = fuzz_dir.join("artifacts").join(target);
        fs::create_dir_all(&artifacts)
            .map_err(|e| format!("creating {}: {e}", artifacts.display()))?;
        let log = log_dir.join(format!("{target}.log"));
        println!(
            "fuzzing {target} for {} s (log: {})",
            options.seconds,
            log.display()
        );
        reports.push(run_target(
            &root,
            &build_dir,
            target,
            &corpus,
            &artifacts,
            &log,
            options.seconds,
        )?);
    }

    println!();
    println!(
        "{:<14} {:>8} {:>14} {:>10} {:>8}  outcome",
        "target", "seconds", "executions", "exec/s", "corpus"
    );
    for report in &reports {
        println!(
            "{:<14} {:>8} {:>14} {:>10} {:>8}  {}",
            report.target,
            report.seconds,
            report.executions.map_or("?".to_owned(), |n| n.to_string()),
            report.rate().map_or("?".to_owned(), |n| n.to_string()),
            report.corpus_files,
            report.outcome
        );
    }
    let failed: Vec<&str> = reports
        .iter()
        .filter(|r| !r.ok)
        .map(|r| r.target.as_str())
        .collect();
    let passed = reports.len() - failed.len();
    println!("{passed} passed, {} failed", failed.len());
    if failed.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "fuzz targets failed: {} (see the logs and fuzz/artifacts/)",
            failed.join(", ")
        ))
    }
}

#[derive(Debug)]
struct Options {
    seconds: u64,
    targets: Vec<String>,
}

impl Options {
    fn parse(args: &[String]) -> Result<Options, String> {
        let mut seconds = DEFAULT_SECONDS;
        let mut targets = Vec::new();
        let mut args = args.iter();
        while let Some(arg) = args.next() {
            match arg.as_str() {
                "--seconds" => {
                    let value = args.next().ok_or("--seconds needs a value")?;
                    seconds =
                        value.parse().ok().filter(|n| *n > 0).ok_or_else(|| {
                            format!("--seconds: `{value}` is not a positive number")
                        })?;
                }
                "--target" => {
                    let value = args.next().ok_or("--target needs a value")?;
                    if !TARGETS.contains(&value.as_str()) {
                        return Err(format!("unknown fuzz target `{value}`\n{USAGE}"));
                    }
                    targets.push(value.clone());
                }
                "-h" | "--help" => return Err(USAGE.to_owned()),
                other => return Err(format!("unexpected argument `{other}`\n{USAGE}")),
            }
        }
        if targets.is_empty() {
            targets = TARGETS.iter().map(|t| (*t).to_owned()).collect();
        }
        Ok(Options { seconds, targets })
    }

    /// `cargo fuzz build` builds every target without a name; one name builds just that one.
    fn targets_for_build(&self) -> Vec<String> {
        match self.targets.as_slice() {
            [one] => vec![one.clone()],
            _ => Vec::new(),
        }
    }
}

fn workspace_root() -> PathBuf {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest
        .parent()
        .map_or(manifest.clone(), Path::to_path_buf)
}

/// `cargo fuzz` from the workspace root (where it finds `fuzz/`), on stable.
fn cargo_fuzz(root: &Path) -> Command {
    let mut command = Command::new(cargo());
    command
        .arg("fuzz")
        .current_dir(root)
        .env("RUSTC_BOOTSTRAP", "1");
    command
}

fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned())
}

fn ensure_cargo_fuzz() -> Result<(), String> {
    let installed = Command::new(cargo())
        .args(["fuzz", "--version"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if installed {
        return Ok(());
    }
    println!("cargo-fuzz is missing: cargo install cargo-fuzz --locked");
    let status = Command::new(cargo())
        .args(["install", "cargo-fuzz", "--locked"])
        .status()
        .map_err(|e| format!("running cargo install: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("cargo install cargo-fuzz failed ({status})"))
    }
}

/// Copies the committed seeds into the working corpus (existing entries are kept).
fn prepare_corpus(fuzz_dir: &Path, target: &str) -> Result<PathBuf, String> {
    let seeds = fuzz_dir.join("seeds").join(target);
    let corpus = fuzz_dir.join("corpus").join(target);
    fs::create_dir_all(&corpus).map_err(|e| format!("creating {}: {e}", corpus.display()))?;
    let entries = fs::read_dir(&seeds).map_err(|e| format!("reading {}: {e}", seeds.display()))?;
    for entry in entries {
        let entry = entry.map_err(|e| format!("reading {}: {e}", seeds.display()))?;
        let to = corpus.join(entry.file_name());
        if !to.exists() {
            fs::copy(entry.path(), &to)
                .map_err(|e| format!("copying {}: {e}", entry.path().display()))?;
        }
    }
    Ok(corpus)
}

#[derive(Debug)]
struct Report {
    target: String,
    seconds: u64,
    executions: Option<u64>,
    corpus_files: usize,
    ok: bool,
    outcome: String,
}

impl Report {
    fn rate(&self) -> Option<u64> {
        Some(self.executions? / self.seconds.max(1))
    }
}

fn run_target(
    root: &Path,
    build_dir: &Path,
    target: &str,
    corpus: &Path,
    artifacts: &Path,
    log: &Path,
    seconds: u64,
) -> Result<Report, String> {
    let log_file = fs::File::create(log).map_err(|e| format!("creating {}: {e}", log.display()))?;
    let log_err = log_file
        .try_clone()
        .map_err(|e| format!("opening {}: {e}", log.display()))?;
    let started = Instant::now();
    let status = cargo_fuzz(root)
        .args(["run", "--sanitizer", "none", "--target-dir"])
        .arg(build_dir)
        .arg(target)
        .arg(corpus)
        .arg("--")
        .arg(format!("-max_total_time={seconds}"))
        .arg(format!("-timeout={PER_INPUT_TIMEOUT_SECS}"))
        .arg(format!("-artifact_prefix={}/", artifacts.display()))
        .arg("-print_final_stats=1")
        .stdout(log_file)
        .stderr(log_err)
        .status()
        .map_err(|e| format!("running cargo fuzz run {target}: {e}"))?;
    let elapsed = started.elapsed().as_secs();
    let text = fs::read_to_string(log).unwrap_or_default();
    let executions = executions(&text);
    let corpus_files = fs::read_dir(corpus).map_or(0, |d| d.count());
    let (ok, outcome) = if status.success() && text.contains("Done ") {
        (true, "no crash".to_owned())
    } else {
        let artifact = text
            .lines()
            .find_map(|l| l.split_once("Test unit written to ").map(|(_, p)| p.trim()))
            .unwrap_or("no artifact");
        let reason = text
            .lines()
            .find(|l| {
                l.contains("panicked at")
                    || l.contains("ERROR: libFuzzer")
                    || l.contains("==ERROR")
                    || l.starts_with("error")
            })
            .unwrap_or("see the log");
        (
            false,
            format!("FAILED ({status}): {} [{artifact}]", reason.trim()),
        )
    };
    Ok(Report {
        target: target.to_owned(),
        seconds: elapsed.max(1),
        executions,
        corpus_files,
        ok,
        outcome,
    })
}

/// libFuzzer's count of executed inputs: `stat::number_of_executed_units: N`, else the
/// `Done N runs in S second(s)` line.
fn executions(log: &str) -> Option<u64> {
    let stat = log.lines().find_map(|l| {
        l.strip_prefix("stat::number_of_executed_units:")
            .and_then(|n| n.trim().parse().ok())
    });
    stat.or_else(|| {
        log.lines().find_map(|l| {
            l.strip_prefix("Done ")
                .and_then(|rest| rest.split_whitespace().next())
                .and_then(|n| n.parse().ok())
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn options_default_and_explicit() {
        let options = Options::parse(&[]).unwrap();
        assert_eq!(options.seconds, DEFAULT_SECONDS);
        assert_eq!(options.targets.len(), TARGETS.len());
        assert!(options.targets_for_build().is_empty());
        let options = Options::parse(&args(&["--seconds", "10", "--target", "endpoint"])).unwrap();
        assert_eq!(options.seconds, 10);
        assert_eq!(options.targets, ["endpoint"]);
        assert_eq!(options.targets_for_build(), ["endpoint"]);
        assert!(Options::parse(&args(&["--seconds", "0"])).is_err());
        assert!(Options::parse(&args(&["--seconds"])).is_err());
        assert!(Options::parse(&args(&["--target", "nope"])).is_err());
        assert!(Options::parse(&args(&["--bogus"])).is_err());
    }

    #[test]
    fn executions_are_read_from_the_log() {
        assert_eq!(
            executions("x\nstat::number_of_executed_units: 1234\nDone 99 runs in 1 second(s)"),
            Some(1234)
        );
        assert_eq!(
            executions("Done 556496 runs in 21 second(s)\n"),
            Some(556_496)
        );
        assert_eq!(executions("nothing"), None);
    }
}
