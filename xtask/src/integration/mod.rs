//! `cargo xtask integration`: the facade's end-to-end suite against the LM Studio emulator in
//! every profile (0.3 / 0.4, JIT on / off), against `LMSTUDIO_URL` when set, and (`--real`)
//! against a real llama.cpp server.

mod emulated;
mod live;
mod scenario;

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
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| format!("could not start the async runtime: {e}"))?;
    runtime.block_on(async {
        let mut failures = Vec::new();
        for profile in &selection.profiles {
            for jit in &selection.jit {
                if let Err(err) = emulated::run(*profile, *jit).await {
                    failures.push(err);
                }
            }
        }
        if let Some(url) = &selection.url
            && let Err(err) = live::run(url).await
        {
            failures.push(err);
        }
        if failures.is_empty() {
            Ok(())
        } else {
            Err(failures.join("\n"))
        }
    })
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
