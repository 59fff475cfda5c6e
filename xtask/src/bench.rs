//! `cargo xtask bench [--quick] [--only LIST]`: builds and runs the release benchmarks in
//! `bench/` (their own workspace, so reqwest and eventsource-stream never enter the library
//! build), which print each figure beside its same-run baseline and write
//! `target/bench/latest.json`. See docs/benchmarks.md.

use std::process::Command;

/// Runs the task; every argument is passed to the benchmark binary.
pub(crate) fn run(args: &[String]) -> Result<(), String> {
    let root = crate::ci::repo_root();
    let manifest = root.join("bench").join("Cargo.toml");
    let target_dir = root.join("target").join("bench-build");
    let status = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned()))
        .arg("run")
        .arg("--release")
        .arg("--manifest-path")
        .arg(&manifest)
        .arg("--target-dir")
        .arg(&target_dir)
        .arg("--")
        .arg("--root")
        .arg(&root)
        .args(args)
        .current_dir(&root)
        .status()
        .map_err(|e| format!("could not run cargo for {}: {e}", manifest.display()))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("the benchmarks failed ({status})"))
    }
}
