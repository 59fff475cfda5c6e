//! `cargo xtask bench`: release benchmarks (being written).

/// Runs the task.
pub(crate) fn run(_args: &[String]) -> Result<(), String> {
    Err("`bench` is being written".to_owned())
}
