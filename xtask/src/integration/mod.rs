//! `cargo xtask integration`: the facade's end-to-end suite against the LM Studio emulator in
//! every profile (0.3 / 0.4, JIT on / off), against `LMSTUDIO_URL` when set, and (`--real`)
//! against a real llama.cpp server.
//!
//! The emulator suite is ordinary tests (`crates/vtcode-lmstudio/tests/it/matrix/`), which
//! `cargo test --workspace` runs too: this task runs just them and prints the pass counts per
//! configuration.

mod live;

use std::collections::BTreeMap;
use std::process::Command;

use lmstudio_testkit::Profile;

const INTEGRATION_USAGE: &str = "\
usage: cargo xtask integration [--real] [--profile 0.3|0.4] [--jit on|off] [--url URL]

Without flags: every emulator profile x JIT setting, then LMSTUDIO_URL (or --url) when set.
--real runs the suite against a real llama.cpp server instead (see docs/testing.md).";

/// Runs the integration suites; `--real` runs the real llama.cpp server suite.
pub(crate) fn run(args: &[String]) -> Result<(), String> {
    if args.iter().any(|a| a == "--real") {
        let rest: Vec<String> = args.iter().filter(|a| *a != "--real").cloned().collect();
        return crate::real_server::run(&rest);
    }
    let selection = Selection::parse(args)?;
    build_fake_lms()?;
    let mut failures = Vec::new();
    if let Err(err) = run_matrix(&selection) {
        failures.push(err);
    }
    if let Some(url) = &selection.url {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .map_err(|e| format!("could not start the async runtime: {e}"))?;
        if let Err(err) = runtime.block_on(live::run(url)) {
            failures.push(err);
        }
    }
    if failures.is_empty() {
        Ok(())
    } else {
        Err(failures.join("\n"))
    }
}

/// The test-name suffix of one configuration: `v0_4_jit_on`.
fn config_name(profile: Profile, jit: bool) -> String {
    let profile = match profile {
        Profile::V0_3 => "v0_3",
        Profile::V0_4 => "v0_4",
    };
    format!("{profile}_jit_{}", if jit { "on" } else { "off" })
}

/// Runs `cargo test -p vtcode-lmstudio --test it` on the selected configurations' matrix tests
/// and prints how many passed in each.
fn run_matrix(selection: &Selection) -> Result<(), String> {
    let configs: Vec<String> = selection
        .profiles
        .iter()
        .flat_map(|p| selection.jit.iter().map(|j| config_name(*p, *j)))
        .collect();
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let mut command = Command::new(cargo);
    command.args(["test", "-p", "vtcode-lmstudio", "--test", "it", "--"]);
    // Every configuration: the whole module; some: their names (only matrix tests end so).
    if configs.len() == 4 {
        command.arg("matrix::");
    } else {
        command.args(&configs);
    }
    command.args(["--color", "never"]);
    let output = command
        .output()
        .map_err(|e| format!("could not run cargo test: {e}"))?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let mut counts: BTreeMap<&str, (usize, Vec<String>)> = BTreeMap::new();
    for line in stdout.lines() {
        let Some((name, result)) = line
            .strip_prefix("test matrix::")
            .and_then(|rest| rest.rsplit_once(" ... "))
        else {
            continue;
        };
        let Some((check, config)) = name.rsplit_once("::") else {
            continue;
        };
        let entry = counts.entry(config).or_default();
        if result.trim() == "ok" {
            entry.0 += 1;
        } else {
            entry.1.push(check.to_owned());
        }
    }
    for config in &configs {
        let (passed, failed) = counts.get(config.as_str()).cloned().unwrap_or_default();
        println!(
            "emulator {config}: {passed} passed, {} failed{}",
            failed.len(),
            if failed.is_empty() {
                String::new()
            } else {
                format!(" ({})", failed.join(", "))
            }
        );
    }
    let total: usize = counts.values().map(|(p, _)| p).sum();
    if output.status.success() && total > 0 {
        println!("emulator matrix: {total} checks passed");
        Ok(())
    } else {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let tail: Vec<&str> = stdout.lines().rev().take(40).collect();
        Err(format!(
            "the emulator matrix failed ({}):\n{}\n{}",
            output.status,
            tail.into_iter().rev().collect::<Vec<_>>().join("\n"),
            stderr.lines().rev().take(5).collect::<Vec<_>>().join("\n")
        ))
    }
}

/// Which configurations to run.
struct Selection {
    profiles: Vec<Profile>,
    jit: Vec<bool>,
    url: Option<String>,
}

impl Selection {
    fn parse(args: &[String]) -> Result<Self, String> {
        let mut selection = Selection {
            profiles: vec![Profile::V0_4, Profile::V0_3],
            jit: vec![true, false],
            url: std::env::var("LMSTUDIO_URL")
                .ok()
                .filter(|u| !u.trim().is_empty()),
        };
        let mut iter = args.iter();
        while let Some(flag) = iter.next() {
            let mut value = || {
                iter.next()
                    .cloned()
                    .ok_or_else(|| format!("{flag} needs a value\n\n{INTEGRATION_USAGE}"))
            };
            match flag.as_str() {
                "--profile" => {
                    selection.profiles = match value()?.as_str() {
                        "0.3" => vec![Profile::V0_3],
                        "0.4" => vec![Profile::V0_4],
                        other => {
                            return Err(format!("--profile: expected 0.3 or 0.4, got `{other}`"));
                        }
                    }
                }
                "--jit" => {
                    selection.jit = match value()?.as_str() {
                        "on" => vec![true],
                        "off" => vec![false],
                        other => return Err(format!("--jit: expected on or off, got `{other}`")),
                    }
                }
                "--url" => selection.url = Some(value()?),
                "-h" | "--help" => return Err(INTEGRATION_USAGE.to_owned()),
                other => return Err(format!("unknown argument `{other}`\n\n{INTEGRATION_USAGE}")),
            }
        }
        Ok(selection)
    }
}

/// The 0.3 profile downloads and loads through `lms`: build the testkit's fake one.
pub(crate) fn build_fake_lms() -> Result<(), String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let status = Command::new(cargo)
        .args([
            "build",
            "--quiet",
            "-p",
            "lmstudio-testkit",
            "--bin",
            "fake-lms",
        ])
        .status()
        .map_err(|e| format!("could not run cargo to build the fake lms: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("building the fake lms failed ({status})"))
    }
}
