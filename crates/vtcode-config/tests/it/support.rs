//! Shared helpers for the integration tests: temporary workspaces and injected environments.
#![allow(dead_code, unreachable_pub, clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::path::Path;

use tempfile::TempDir;

/// A temporary workspace directory with `vtcode.toml` holding `text`.
pub fn workspace(text: &str) -> TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("vtcode.toml"), text).expect("write vtcode.toml");
    dir
}

/// A temporary workspace directory without `vtcode.toml`.
pub fn empty_workspace() -> TempDir {
    tempfile::tempdir().expect("temp dir")
}

/// An environment lookup serving exactly `pairs`.
pub fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> + use<> {
    let map: HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    move |name: &str| map.get(name).cloned()
}

/// An empty environment.
pub fn no_env(_: &str) -> Option<String> {
    None
}

/// The path of the config file in `dir`, as error messages print it.
pub fn config_path(dir: &Path) -> String {
    dir.join("vtcode.toml").display().to_string()
}
