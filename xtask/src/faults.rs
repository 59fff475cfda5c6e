//! `cargo xtask faults`: checks the fault catalogue (being written).

/// Runs the task.
pub(crate) fn run(_args: &[String]) -> Result<(), String> {
    Err("`faults` is being written".to_owned())
}
