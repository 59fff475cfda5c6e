//! `cargo xtask ci`: the checks `.ci/run` performs, runnable locally.

use std::path::PathBuf;
use std::process::Command;

/// Runs `.ci/run` from the repository root, so local runs and CI never drift apart.
pub(crate) fn run(args: &[String]) -> Result<(), String> {
    if !args.is_empty() {
        return Err(format!("`ci` takes no arguments, got {args:?}"));
    }
    let root = repo_root();
    let status = Command::new("bash")
        .arg(root.join(".ci/run"))
        .current_dir(&root)
        .status()
        .map_err(|e| format!("could not start bash .ci/run: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!(".ci/run failed ({status})"))
    }
}

/// The workspace root: xtask's manifest lives one level below it.
pub(crate) fn repo_root() -> PathBuf {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().map(PathBuf::from).unwrap_or(manifest)
}
