//! The fake `lms` and `--port` / `server start`, as the real CLI: a client command with
//! `--port N` talks to 127.0.0.1:N or exits 1 saying the server is not running; `server start`
//! brings a server up through a `ServerStartWatcher` in this process.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

use lmstudio_testkit::{
    CatalogModel, Emulator, FakeLmsOptions, ServerStartWatcher, StartAnswer, write_lms_wrapper_with,
};

use super::fake_lms::{json, run};

/// A port nothing listens on, which no other test's server can take meanwhile.
fn free_port() -> u16 {
    lmstudio_testkit::closed_port()
}

fn wrapper(dir: &Path, url: &str, options: &FakeLmsOptions) -> PathBuf {
    write_lms_wrapper_with(dir, Path::new(env!("CARGO_BIN_EXE_fake-lms")), url, options).unwrap()
}

#[test]
fn a_client_command_with_a_port_talks_to_that_port_or_says_nothing_runs_there() {
    let emulator = Emulator::builder().start_threaded().unwrap();
    let dir = tempfile::tempdir().unwrap();
    // The wrapper's own server is dead: only `--port` can reach the emulator.
    let dead = format!("http://127.0.0.1:{}", free_port());
    let lms = wrapper(dir.path(), &dead, &FakeLmsOptions::new());
    let port = emulator.port().to_string();
    let listed = run(&lms, &["ls", "--json", "--port", &port]);
    assert_eq!(listed.code, 0, "{}", listed.stderr);
    assert!(json(&listed.stdout).is_array());
    let inline = run(&lms, &["ps", "--json", &format!("--port={port}")]);
    assert_eq!(inline.code, 0, "{}", inline.stderr);

    let nothing = free_port();
    for args in [
        vec!["ls", "--json"],
        vec!["ps", "--json"],
        vec!["get", "--yes", "openai/gpt-oss-20b"],
        vec!["load", "openai/gpt-oss-20b", "--yes"],
        vec!["unload", "openai/gpt-oss-20b"],
    ] {
        let mut args: Vec<String> = args.into_iter().map(str::to_owned).collect();
        args.extend(["--port".to_owned(), nothing.to_string()]);
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        let down = run(&lms, &refs);
        assert_eq!(down.code, 1, "{args:?}");
        assert_eq!(
            down.stderr,
            format!(
                "Error: The server does not appear to be running at 127.0.0.1:{nothing}. Please \
                 make sure the server is running and accessible at the specified address.\n"
            ),
            "{args:?}"
        );
    }
    let bad = run(&lms, &["ls", "--port", "70000"]);
    assert_eq!(bad.code, 1);
    assert!(bad.stderr.contains("'70000' is invalid"), "{}", bad.stderr);
}

#[test]
fn server_status_and_stop_take_no_port() {
    let emulator = Emulator::builder().start_threaded().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let lms = wrapper(dir.path(), &emulator.url(), &FakeLmsOptions::new());
    for sub in ["status", "stop"] {
        let got = run(&lms, &["server", sub, "--port", "1234"]);
        assert_eq!(got.code, 1, "{sub}");
        assert_eq!(got.stderr, "Error: unknown option '--port'\n", "{sub}");
    }
}

#[test]
fn server_start_brings_an_emulator_up_through_the_watcher() {
    let dir = tempfile::tempdir().unwrap();
    let watcher = ServerStartWatcher::watch(dir.path(), |_| {
        StartAnswer::emulator(Emulator::builder().model(CatalogModel::gpt_oss_20b()))
    });
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}");
    let calls = dir.path().join("calls.jsonl");
    let options = FakeLmsOptions::new()
        .record_args_to(&calls)
        .server_start_via(dir.path());
    let lms = wrapper(dir.path(), &url, &options);
    let port_arg = port.to_string();
    let started = run(
        &lms,
        &[
            "server", "start", "--port", &port_arg, "--bind", "0.0.0.0", "--cors",
        ],
    );
    assert_eq!(started.code, 0, "{}", started.stderr);
    assert!(
        started
            .stderr
            .ends_with(&format!("Success! Server is now running on port {port}\n")),
        "{}",
        started.stderr
    );
    assert!(
        started.stderr.contains("CORS is enabled"),
        "{}",
        started.stderr
    );
    let requests = watcher.requests();
    assert_eq!(requests.len(), 1, "{requests:?}");
    assert_eq!(requests[0].port, port);
    assert_eq!(requests[0].bind.as_deref(), Some("0.0.0.0"));
    assert!(requests[0].cors);
    assert_eq!(watcher.emulators()[0].port(), port);

    // Now it runs: client commands reach it, and a second start asks for nothing.
    let listed = run(&lms, &["ls", "--json", "--port", &port_arg]);
    assert_eq!(listed.code, 0, "{}", listed.stderr);
    let again = run(&lms, &["server", "start", "--port", &port_arg]);
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert_eq!(watcher.requests().len(), 1);
    assert!(watcher.errors().is_empty(), "{:?}", watcher.errors());
    let recorded = lmstudio_testkit::recorded_calls(&calls).unwrap();
    assert_eq!(recorded.len(), 3, "{recorded:?}");
    assert_eq!(recorded[1], ["ls", "--json", "--port", port_arg.as_str()]);

    // Dropping the watcher stops what it started.
    drop(watcher);
    let down = run(&lms, &["ls", "--json", "--port", &port_arg]);
    assert_eq!(down.code, 1, "{}", down.stderr);
}

#[test]
fn server_start_fails_like_lms_when_nothing_comes_up() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}");
    // No start directory: fails at once.
    let plain = wrapper(dir.path(), &url, &FakeLmsOptions::new());
    let failed = run(&plain, &["server", "start"]);
    assert_eq!(failed.code, 1);
    assert!(
        failed.stderr.ends_with(
            "Error: Failed to verify the server is running. Please try to use another port.\n"
        ),
        "{}",
        failed.stderr
    );
    // A watcher that starts nothing: the fake checks the port for a while, then fails too.
    let watcher = ServerStartWatcher::watch(dir.path(), |_| StartAnswer::Nothing);
    let lms = wrapper(
        dir.path(),
        &url,
        &FakeLmsOptions::new().server_start_via(dir.path()),
    );
    let failed = run(&lms, &["server", "start"]);
    assert_eq!(failed.code, 1);
    assert!(
        failed.stderr.contains("Failed to verify"),
        "{}",
        failed.stderr
    );
    // Without `--port` the request is for the wrapper's port (lms: the last used one).
    assert_eq!(watcher.requests().len(), 1);
    assert_eq!(watcher.requests()[0].port, port);
    assert_eq!(watcher.requests()[0].bind, None);
}
