//! The fake `lms` end to end: a wrapper script runs the `fake-lms` binary against an emulator.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::support;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use lmstudio_testkit::{
    CatalogModel, Emulator, FakeLmsOptions, find_fake_lms_binary, write_lms_wrapper,
    write_lms_wrapper_with,
};
use serde_json::Value;
use support::{check_fields, fixture_json};

const KEY: &str = "qwen/qwen3-4b";
const SIZE: u64 = 40_000_000;

pub(crate) struct Output {
    pub(crate) code: i32,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
}

/// Spawns `lms args...` with stdin null and both pipes captured.
fn spawn(lms: &Path, args: &[&str]) -> std::process::Child {
    // A script written while another test thread forks can briefly be "Text file busy"
    // (ETXTBSY): retry a few times.
    let mut tries = 0;
    loop {
        let spawned = Command::new(lms)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn();
        match spawned {
            Err(e) if e.kind() == std::io::ErrorKind::ExecutableFileBusy && tries < 50 => {
                tries += 1;
                std::thread::sleep(Duration::from_millis(20));
            }
            other => break other.unwrap(),
        }
    }
}

/// Runs `lms args...` with stdin null, draining both pipes, killing it after 60 s.
pub(crate) fn run(lms: &Path, args: &[&str]) -> Output {
    let mut child = spawn(lms, args);
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let out_thread = std::thread::spawn(move || {
        let mut s = String::new();
        out.read_to_string(&mut s).unwrap();
        s
    });
    let err_thread = std::thread::spawn(move || {
        let mut s = String::new();
        err.read_to_string(&mut s).unwrap();
        s
    });
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            child.kill().unwrap();
            child.wait().unwrap();
            panic!("lms {args:?} did not finish");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    Output {
        code: status.code().unwrap_or(-1),
        stdout: out_thread.join().unwrap(),
        stderr: err_thread.join().unwrap(),
    }
}

/// An emulator (on its own thread: the test blocks on child processes) and an `lms` script.
fn setup() -> (Emulator, tempfile::TempDir, PathBuf) {
    let emulator = Emulator::builder()
        .model(CatalogModel::llm(KEY).size_bytes(SIZE).params_string("4B"))
        .model(CatalogModel::llm("x/broken").size_bytes(SIZE))
        .model(CatalogModel::nomic_embed())
        .fail_download("x/broken")
        .download_speed(SIZE) // about one second
        .index_delay(Duration::from_millis(1))
        .start_threaded()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let lms = write_lms_wrapper(
        dir.path(),
        Path::new(env!("CARGO_BIN_EXE_fake-lms")),
        &emulator.url(),
    )
    .unwrap();
    (emulator, dir, lms)
}

pub(crate) fn json(text: &str) -> Value {
    serde_json::from_str(text.trim()).unwrap_or_else(|e| panic!("{e}: {text:?}"))
}

#[test]
fn get_shows_progress_then_ls_lists_the_model() {
    let (emulator, _dir, lms) = setup();
    let got = run(&lms, &["get", "--yes", KEY]);
    assert_eq!(got.code, 0, "{}", got.stderr);
    assert!(
        got.stdout
            .starts_with("Resolution completed. Downloading 40.00 MB...\n"),
        "{:?}",
        got.stdout
    );
    assert!(got.stdout.contains("\x1b[?25l"));
    let frames: Vec<&str> = got.stdout.split("\r\x1b[0K").skip(1).collect();
    assert!(!frames.is_empty());
    let last = frames.last().unwrap();
    assert!(
        last.contains("] 100.00% | 40.00 MB / 40.00 MB | "),
        "{last:?}"
    );
    assert!(
        frames
            .iter()
            .all(|f| f.contains(" | ETA ") && f.contains(" MB/s"))
    );
    assert_eq!(got.stderr, "Finalizing download...\nDownload completed.\n");
    assert!(emulator.is_downloaded(KEY));
    assert_eq!(emulator.request_count("POST", "/__testkit/lms/get"), 1);

    let ls = run(&lms, &["ls", "--json"]);
    assert_eq!(ls.code, 0);
    assert_eq!(ls.stdout.lines().count(), 1, "one line of JSON");
    let models = json(&ls.stdout);
    let keys: Vec<&str> = models
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["modelKey"].as_str().unwrap())
        .collect();
    assert!(keys.contains(&KEY));
    check_fields(
        &fixture_json("docs_lms_ls_json_sdk_example.json"),
        &models,
        false,
        "$",
    );

    let again = run(&lms, &["get", "--yes", KEY]);
    assert_eq!(again.code, 0);
    assert_eq!(
        again.stderr,
        format!("Model already downloaded. To use, run:\n lms load {KEY}\n")
    );
    let text = run(&lms, &["ls"]);
    assert!(
        text.stdout.starts_with("You have 2 models, taking up"),
        "{}",
        text.stdout
    );
    let llms = json(&run(&lms, &["ls", "--json", "--llm"]).stdout);
    assert_eq!(llms.as_array().unwrap().len(), 1);
}

#[test]
fn get_failures_exit_1_with_an_error_line() {
    let (_emulator, _dir, lms) = setup();
    let unknown = run(&lms, &["get", "--yes", "no/such-model"]);
    assert_eq!(unknown.code, 1);
    assert!(unknown.stderr.starts_with("Error: "), "{}", unknown.stderr);
    let broken = run(&lms, &["get", "-y", "x/broken"]);
    assert_eq!(broken.code, 1);
    assert!(
        broken.stderr.contains("Error: Failed to download x/broken"),
        "{}",
        broken.stderr
    );
    let two_ats = run(&lms, &["get", "--yes", "a@b@c"]);
    assert_eq!(two_ats.code, 1);
}

#[test]
fn load_creates_instances_that_ps_shows() {
    let (emulator, _dir, lms) = setup();
    emulator.set_downloaded(KEY, true);
    let first = run(
        &lms,
        &[
            "load", KEY, "--yes", "-c", "8192", "--ttl", "300", "--gpu", "max",
        ],
    );
    assert_eq!(first.code, 0, "{}", first.stderr);
    assert!(
        first.stderr.starts_with("Model loaded successfully in "),
        "{}",
        first.stderr
    );
    assert!(
        first
            .stderr
            .contains(&format!("use the identifier \"{KEY}\""))
    );
    assert!(
        first.stdout.contains(&format!("\rLoading {KEY} ")),
        "spinner on stdout"
    );
    let second = run(&lms, &["load", KEY, "--yes"]);
    assert!(
        second
            .stderr
            .contains(&format!("use the identifier \"{KEY}:2\"")),
        "{}",
        second.stderr
    );
    assert_eq!(
        emulator.loaded_instances(KEY),
        [KEY.to_owned(), format!("{KEY}:2")]
    );

    let ps = json(&run(&lms, &["ps", "--json"]).stdout);
    let rows = ps.as_array().unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0]["identifier"], KEY);
    assert_eq!(rows[0]["modelKey"], KEY);
    assert_eq!(rows[0]["contextLength"], 8192);
    assert_eq!(rows[0]["ttlMs"], 300_000);
    assert_eq!(rows[0]["status"], "idle");
    assert!(rows[1]["ttlMs"].is_null());
    for field in [
        "lastUsedTime",
        "queued",
        "parallel",
        "sizeBytes",
        "maxContextLength",
    ] {
        assert!(rows[0].get(field).is_some(), "{field}");
    }

    let unload = run(&lms, &["unload", KEY]);
    assert_eq!(unload.code, 0, "{}", unload.stderr);
    assert_eq!(emulator.loaded_instances(KEY), [format!("{KEY}:2")]);
    assert_eq!(run(&lms, &["unload", "ghost"]).code, 1);
    assert_eq!(run(&lms, &["unload", "--all"]).code, 0);
    assert_eq!(run(&lms, &["ps", "--json"]).stdout.trim(), "[]");
    let empty = run(&lms, &["ps"]);
    assert_eq!(empty.stderr, "No models are currently loaded.\n");
}

#[test]
fn load_errors_exit_1() {
    let (_emulator, _dir, lms) = setup();
    let missing = run(&lms, &["load", "x/broken", "--yes"]);
    assert_eq!(missing.code, 1);
    assert!(
        missing
            .stderr
            .starts_with("Error: No model found that matches model key"),
        "{}",
        missing.stderr
    );
    let bad_context = run(&lms, &["load", KEY, "-c", "lots"]);
    assert_eq!(bad_context.code, 1);
    let bad_gpu = run(&lms, &["load", KEY, "--gpu", "2"]);
    assert_eq!(bad_gpu.code, 1);
}

#[test]
fn server_status_reports_the_port() {
    let (emulator, dir, lms) = setup();
    let status = run(&lms, &["server", "status", "--json"]);
    assert_eq!(status.code, 0);
    assert_eq!(
        json(&status.stdout),
        serde_json::json!({"running": true, "port": emulator.port()})
    );
    let text = run(&lms, &["server", "status"]);
    assert_eq!(
        text.stderr,
        format!("The server is running on port {}.\n", emulator.port())
    );
    let url = emulator.url();
    drop(emulator);
    let dead =
        write_lms_wrapper(dir.path(), Path::new(env!("CARGO_BIN_EXE_fake-lms")), &url).unwrap();
    let down = run(&dead, &["server", "status", "--json"]);
    assert_eq!(down.code, 0);
    assert_eq!(json(&down.stdout), serde_json::json!({"running": false}));
    let ls = run(&dead, &["ls", "--json"]);
    assert_eq!(ls.code, 1);
    assert!(ls.stderr.starts_with("Error: "));
}

#[test]
fn unknown_commands_and_options_exit_1() {
    let (_emulator, _dir, lms) = setup();
    let unknown = run(&lms, &["frobnicate"]);
    assert_eq!(unknown.code, 1);
    assert_eq!(unknown.stderr, "Error: unknown command 'frobnicate'\n");
    let option = run(&lms, &["ls", "--bogus"]);
    assert_eq!(option.code, 1);
    let bare = run(&lms, &[]);
    assert_eq!(bare.code, 0);
    assert!(bare.stdout.starts_with("lms is LM Studio's CLI utility"));
    let found = find_fake_lms_binary().expect("fake-lms sits in target/debug");
    assert_eq!(
        found.file_name(),
        Path::new(env!("CARGO_BIN_EXE_fake-lms")).file_name()
    );
    let version = run(&lms, &["version", "--json"]);
    assert_eq!(json(&version.stdout)["version"], "fake-lms");
}

/// An `lms` wrapper with `options`, against `emulator`.
fn wrapper_with(emulator: &Emulator, dir: &Path, options: &FakeLmsOptions) -> PathBuf {
    write_lms_wrapper_with(
        dir,
        Path::new(env!("CARGO_BIN_EXE_fake-lms")),
        &emulator.url(),
        options,
    )
    .unwrap()
}

#[test]
fn a_fault_for_one_command_exits_with_its_code_and_stderr_and_args_are_recorded() {
    let (emulator, dir, _lms) = setup();
    let args_file = dir.path().join("args.txt");
    let lms = wrapper_with(
        &emulator,
        dir.path(),
        &FakeLmsOptions::new()
            .record_args_to(&args_file)
            .only_for("get")
            .stderr_line("Error: network unreachable")
            .stderr_line("second line")
            .exit_with(3),
    );
    let got = run(&lms, &["get", "--yes", KEY]);
    assert_eq!(got.code, 3, "{}", got.stderr);
    assert_eq!(got.stderr, "Error: network unreachable\nsecond line\n");
    assert!(got.stdout.is_empty(), "{:?}", got.stdout);
    assert!(!emulator.is_downloaded(KEY), "the fault ran the download");
    // Other commands run normally.
    let listed = run(&lms, &["ls", "--json"]);
    assert_eq!(listed.code, 0, "{}", listed.stderr);
    assert!(json(&listed.stdout).is_array(), "{}", listed.stdout);
    let recorded = lmstudio_testkit::recorded_calls(&args_file).unwrap();
    assert_eq!(recorded, [vec!["get", "--yes", KEY], vec!["ls", "--json"]]);
}

#[test]
fn stderr_lines_without_an_action_come_before_the_normal_command() {
    let (emulator, dir, _lms) = setup();
    let lms = wrapper_with(
        &emulator,
        dir.path(),
        &FakeLmsOptions::new().stderr_line("W: a warning first"),
    );
    let got = run(&lms, &["ps", "--json"]);
    assert_eq!(got.code, 0, "{}", got.stderr);
    assert!(
        got.stderr.starts_with("W: a warning first\n"),
        "{:?}",
        got.stderr
    );
    assert!(json(&got.stdout).is_array(), "{}", got.stdout);
}

#[test]
fn a_hanging_lms_prints_its_stderr_then_runs_until_killed() {
    use std::io::BufRead;
    let (emulator, dir, _lms) = setup();
    let lms = wrapper_with(
        &emulator,
        dir.path(),
        &FakeLmsOptions::new()
            .only_for("load")
            .stderr_line("Loading...")
            .hang(),
    );
    let mut child = spawn(&lms, &["load", KEY, "--yes"]);
    let mut stderr = std::io::BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    stderr.read_line(&mut line).unwrap();
    assert_eq!(line, "Loading...\n");
    // It printed its line and is still running: a hang, not an exit.
    assert!(child.try_wait().unwrap().is_none(), "the fake exited");
    child.kill().unwrap();
    let status = child.wait().unwrap();
    assert!(!status.success(), "{status:?}");
    assert_eq!(emulator.loaded_instances(KEY), Vec::<String>::new());
}

#[cfg(unix)] // signals are a Unix notion; elsewhere the fake aborts
#[test]
fn a_fake_killed_by_a_signal_dies_of_sigkill_after_its_stderr() {
    use std::os::unix::process::ExitStatusExt;
    let (emulator, dir, _lms) = setup();
    let lms = wrapper_with(
        &emulator,
        dir.path(),
        &FakeLmsOptions::new()
            .stderr_line("Error: out of memory")
            .killed_by_signal(),
    );
    let mut child = spawn(&lms, &["get", "--yes", KEY]);
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.signal(), Some(9), "{status:?}");
    assert_eq!(stderr, "Error: out of memory\n");
}
