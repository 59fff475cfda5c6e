//! `cargo xtask integration --real`: the suite against a real llama.cpp server (being written).

/// Runs the real-server suite.
pub(crate) fn run(_args: &[String]) -> Result<(), String> {
    Err("the real-server suite is being written".to_owned())
}
