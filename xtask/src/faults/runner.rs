//! Runs the tests the fault catalogue names and reads their outcome from libtest's output.
//!
//! Tests are grouped by crate and test target (`crates/<crate>/tests/<stem>.rs` is
//! `cargo test -p <crate> --test <stem>`, a module of a test binary,
//! `crates/<crate>/tests/<bin>/...`, is `--test <bin>`, `crates/<crate>/src/...` is `--lib`);
//! each target runs
//! once, whole, and every `test <path> ... ok|FAILED|ignored` line is matched to the named
//! functions by the last segment of its path.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::process::Command;

use super::TestRef;

/// What happened to one named test.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Outcome {
    /// Ran and passed.
    Passed,
    /// Ran and failed.
    Failed,
    /// Marked `#[ignore]`.
    Ignored,
    /// Not in the target's output (compiled out on this platform, or not a `#[test]`).
    NotRun,
}

/// The cargo arguments selecting the test target that holds `path`.
pub(super) fn target_args(path: &str) -> Option<Vec<String>> {
    let mut parts = path.split('/');
    let (Some("crates"), Some(krate), Some(dir)) = (parts.next(), parts.next(), parts.next())
    else {
        return None;
    };
    let rest: Vec<&str> = parts.collect();
    match (dir, rest.as_slice()) {
        ("tests", [file]) => {
            let stem = file.strip_suffix(".rs")?;
            Some(vec![
                "-p".into(),
                krate.into(),
                "--test".into(),
                stem.into(),
            ])
        }
        // `tests/it/main.rs` and its modules (`tests/it/faults/lms.rs`) are the `it` binary.
        ("tests", [bin, _, ..]) if rest.last().is_some_and(|f| f.ends_with(".rs")) => Some(vec![
            "-p".into(),
            krate.into(),
            "--test".into(),
            (*bin).into(),
        ]),
        ("src", [_, ..]) => Some(vec!["-p".into(), krate.into(), "--lib".into()]),
        _ => None,
    }
}

/// Reads libtest's `test <path> ... <result>` lines into (last path segment, outcome).
pub(super) fn parse_results(output: &str) -> HashMap<String, Vec<Outcome>> {
    let mut results: HashMap<String, Vec<Outcome>> = HashMap::new();
    for line in output.lines() {
        let Some(rest) = line.strip_prefix("test ") else {
            continue;
        };
        let Some((path, result)) = rest.rsplit_once(" ... ") else {
            continue;
        };
        let outcome = match result.trim() {
            "ok" => Outcome::Passed,
            "FAILED" => Outcome::Failed,
            r if r.starts_with("ignored") => Outcome::Ignored,
            _ => continue,
        };
        let name = path.rsplit("::").next().unwrap_or(path).trim();
        results.entry(name.to_owned()).or_default().push(outcome);
    }
    results
}

/// One outcome for a name that may appear several times (same name in two modules): any
/// failure wins, then any pass.
fn combine(outcomes: Option<&Vec<Outcome>>) -> Outcome {
    let Some(outcomes) = outcomes else {
        return Outcome::NotRun;
    };
    for wanted in [Outcome::Failed, Outcome::Passed, Outcome::Ignored] {
        if outcomes.contains(&wanted) {
            return wanted;
        }
    }
    Outcome::NotRun
}

/// Runs every target the `tests` live in and returns each test's outcome. A test whose file
/// does not map to a target is [`Outcome::NotRun`].
pub(super) fn run_tests(
    root: &Path,
    tests: &[&TestRef],
) -> Result<HashMap<TestRef, Outcome>, String> {
    let mut targets: BTreeMap<Vec<String>, Vec<&TestRef>> = BTreeMap::new();
    let mut outcomes = HashMap::new();
    for test in tests {
        match target_args(&test.path) {
            Some(args) => targets.entry(args).or_default().push(test),
            None => {
                outcomes.insert((*test).clone(), Outcome::NotRun);
            }
        }
    }
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    for (args, named) in targets {
        let output = Command::new(&cargo)
            .arg("test")
            .args(&args)
            .args(["--", "--color", "never"])
            .current_dir(root)
            .output()
            .map_err(|e| format!("could not run cargo test {}: {e}", args.join(" ")))?;
        let stdout = String::from_utf8_lossy(&output.stdout);
        let results = parse_results(&stdout);
        if results.is_empty() && !output.status.success() {
            let stderr = String::from_utf8_lossy(&output.stderr);
            let tail: Vec<&str> = stderr.lines().rev().take(8).collect();
            return Err(format!(
                "cargo test {} did not run ({}):\n{}",
                args.join(" "),
                output.status,
                tail.into_iter().rev().collect::<Vec<_>>().join("\n")
            ));
        }
        for test in named {
            outcomes.insert(test.clone(), combine(results.get(&test.name)));
        }
    }
    Ok(outcomes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_files_to_cargo_targets() {
        assert_eq!(
            target_args("crates/lmstudio-lms/tests/get.rs").unwrap(),
            ["-p", "lmstudio-lms", "--test", "get"]
        );
        assert_eq!(
            target_args("crates/lmstudio-lms/src/lms.rs").unwrap(),
            ["-p", "lmstudio-lms", "--lib"]
        );
        assert_eq!(
            target_args("crates/vtcode-lmstudio/tests/it/faults/lms.rs").unwrap(),
            ["-p", "vtcode-lmstudio", "--test", "it"]
        );
        assert_eq!(
            target_args("crates/x/tests/it/support.rs").unwrap(),
            ["-p", "x", "--test", "it"]
        );
        assert_eq!(target_args("xtask/src/main.rs"), None);
        assert_eq!(target_args("crates/x/tests/notes.txt"), None);
    }

    #[test]
    fn reads_libtest_lines() {
        let output = "\nrunning 4 tests\n\
            test refused ... ok\n\
            test tests::unit ... FAILED\n\
            test slow ... ignored, needs a network\n\
            test mod_a::dup ... ok\n\
            test mod_b::dup ... FAILED\n\
            test result: FAILED. 2 passed; 2 failed\n";
        let results = parse_results(output);
        assert_eq!(combine(results.get("refused")), Outcome::Passed);
        assert_eq!(combine(results.get("unit")), Outcome::Failed);
        assert_eq!(combine(results.get("slow")), Outcome::Ignored);
        assert_eq!(combine(results.get("dup")), Outcome::Failed);
        assert_eq!(combine(results.get("absent")), Outcome::NotRun);
        assert!(!results.contains_key("result: FAILED. 2 passed; 2 failed"));
    }
}
