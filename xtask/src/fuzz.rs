//! `cargo xtask fuzz`: runs the fuzz targets (being written).

/// Runs the task.
pub(crate) fn run(_args: &[String]) -> Result<(), String> {
    Err("`fuzz` is being written".to_owned())
}
