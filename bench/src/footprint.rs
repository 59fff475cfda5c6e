//! Benchmark 6: how many crates `vtcode-lmstudio` pulls in, beside a reqwest stack.
//!
//! Ours: `cargo tree -p vtcode-lmstudio -e normal --prefix none` from the repo root,
//! deduplicated by name and version (the root crate and our own crates included). Baselines:
//! throwaway manifests generated under `target/bench/footprint/` and measured the same way
//! (their root package included, so both sides count "the program + what it pulls in"):
//! - `reqwest (json, stream), no default features` + tokio (rt-multi-thread, macros) + serde
//!   (derive) + serde_json: the smallest reqwest stack that can do what we do (plain HTTP);
//! - the same with reqwest's default features (TLS, HTTP/2, proxies, charset): what
//!   `cargo add reqwest --features json,stream` gives.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;

use crate::report::{Figure, Target};
use crate::stats::Summary;

/// The issue's goal for our tree.
const TREE_TARGET: f64 = 60.0;
/// Longest a `cargo tree` may take (it may have to fetch index entries the first time).
const CARGO_LIMIT: Duration = Duration::from_secs(120);

/// Runs the benchmark from the repo `root`.
pub(crate) fn run(root: &Path) -> Result<Vec<Figure>, String> {
    let ours = cargo_tree(
        root,
        &[
            "tree",
            "-p",
            "vtcode-lmstudio",
            "-e",
            "normal",
            "--prefix",
            "none",
        ],
    )?;
    let dir = root.join("target/bench/footprint");
    let minimal = baseline(
        &dir.join("reqwest-minimal"),
        r#"reqwest = { version = "0.13", default-features = false, features = ["json", "stream"] }"#,
    )?;
    let defaults = baseline(
        &dir.join("reqwest-defaults"),
        r#"reqwest = { version = "0.13", features = ["json", "stream"] }"#,
    );
    let mut figures = vec![
        Figure::new(
            "footprint",
            "6. crates in vtcode-lmstudio's normal tree",
            "crates",
            Summary::exact(ours.len() as f64),
        )
        .baseline(
            "reqwest (json, stream; no default features) + tokio + serde",
            Summary::exact(minimal.len() as f64),
        )
        .target(Target::AtMost(TREE_TARGET))
        .details(json!({
            "ours": ours,
            "baseline": minimal,
            "command": "cargo tree -p vtcode-lmstudio -e normal --prefix none (deduplicated)",
        })),
    ];
    match defaults {
        Ok(defaults) => figures.push(
            Figure::new(
                "footprint_defaults",
                "6. crates, vs reqwest with default features",
                "crates",
                Summary::exact(ours.len() as f64),
            )
            .baseline(
                "reqwest (json, stream; default features) + tokio + serde",
                Summary::exact(defaults.len() as f64),
            )
            .details(json!({ "baseline": defaults })),
        ),
        Err(e) => eprintln!("bench: footprint with reqwest's default features skipped: {e}"),
    }
    Ok(figures)
}

/// Writes a throwaway manifest with `reqwest_line` + tokio + serde and counts its tree.
fn baseline(dir: &Path, reqwest_line: &str) -> Result<BTreeSet<String>, String> {
    std::fs::create_dir_all(dir.join("src"))
        .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let manifest = format!(
        "[package]\nname = \"footprint-baseline\"\nversion = \"0.0.0\"\nedition = \"2021\"\n\
         publish = false\n\n[workspace]\n\n[dependencies]\n{reqwest_line}\n\
         tokio = {{ version = \"1\", features = [\"rt-multi-thread\", \"macros\"] }}\n\
         serde = {{ version = \"1\", features = [\"derive\"] }}\nserde_json = \"1\"\n"
    );
    write(&dir.join("Cargo.toml"), &manifest)?;
    write(
        &dir.join("src/lib.rs"),
        "//! Footprint baseline: no code.\n",
    )?;
    let manifest_path = dir.join("Cargo.toml");
    let manifest_path = manifest_path.to_string_lossy();
    cargo_tree(
        dir,
        &[
            "tree",
            "--manifest-path",
            &manifest_path,
            "-e",
            "normal",
            "--prefix",
            "none",
        ],
    )
}

fn write(path: &Path, text: &str) -> Result<(), String> {
    std::fs::write(path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// Runs `cargo <args>` in `dir` and returns the unique `name vX.Y.Z` entries it printed.
fn cargo_tree(dir: &Path, args: &[&str]) -> Result<BTreeSet<String>, String> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut child = Command::new(cargo)
        .args(args)
        .current_dir(dir)
        .env("CARGO_TERM_COLOR", "never")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run cargo tree: {e}"))?;
    // Read both pipes on threads so a large tree cannot fill a pipe and stall cargo.
    let out = child.stdout.take().map(read_on_thread);
    let err = child.stderr.take().map(read_on_thread);
    let started = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if started.elapsed() > CARGO_LIMIT => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!(
                    "cargo {} took over {CARGO_LIMIT:?}",
                    args.join(" ")
                ));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            Err(e) => return Err(format!("cargo tree: {e}")),
        }
    };
    let stdout = out.and_then(|h| h.join().ok()).unwrap_or_default();
    let stderr = err.and_then(|h| h.join().ok()).unwrap_or_default();
    if !status.success() {
        let tail: String = stderr.lines().rev().take(5).collect::<Vec<_>>().join(" | ");
        return Err(format!(
            "cargo {} failed ({status}): {tail}",
            args.join(" ")
        ));
    }
    Ok(unique_crates(&stdout))
}

fn read_on_thread(
    mut pipe: impl std::io::Read + Send + 'static,
) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let mut text = String::new();
        let _ = pipe.read_to_string(&mut text);
        text
    })
}

/// `name vX.Y.Z` for each line of `cargo tree --prefix none`, deduplicated.
fn unique_crates(tree: &str) -> BTreeSet<String> {
    tree.lines()
        .filter_map(|line| {
            let mut words = line.split_whitespace();
            let name = words.next()?;
            let version = words.next()?;
            version
                .starts_with('v')
                .then(|| format!("{name} {version}"))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tree_lines_are_deduplicated_by_name_and_version() {
        let tree = "vtcode-lmstudio v0.1.0 (/x/crates/vtcode-lmstudio)\nserde v1.0.1\n\
                    serde_derive v1.0.1 (proc-macro)\nserde v1.0.1 (*)\nserde v0.9.0\n\n";
        let set = unique_crates(tree);
        assert_eq!(set.len(), 4, "{set:?}");
        assert!(set.contains("serde_derive v1.0.1"));
    }
}
