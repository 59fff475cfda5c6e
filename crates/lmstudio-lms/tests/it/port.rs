//! `Lms::with_port` and `Lms::server_start`: every client command passes `--port`, `server
//! status` never does, and `server start` passes the server's own port, bind and CORS, with
//! its output kept for errors and a time limit.
#![allow(clippy::unwrap_used, clippy::expect_used)]
#![cfg(unix)] // fake `lms` executables are `#!/bin/sh` scripts

use crate::common;

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use common::{FakeLms, proc_exists, record_args, record_pid, wait_for_pid, wait_gone};
use lmstudio_lms::{GetOptions, LmsError, LoadOptions, ServerStartOptions};

/// A fake that records its argv and prints `output` on stdout (for the `--json` commands).
fn recording(output: &str) -> FakeLms {
    let output = output.to_owned();
    FakeLms::new(move |dir| format!("{}\nprintf '%s\\n' '{output}'", record_args(dir)))
}

#[tokio::test]
async fn every_client_command_ends_with_the_port() {
    let fake = recording("[]");
    let lms = fake.lms.clone().with_port(41343);
    assert_eq!(lms.port(), Some(41343));

    lms.ls().await.unwrap();
    assert_eq!(
        fake.recorded_args().unwrap(),
        ["ls", "--json", "--port", "41343"]
    );
    lms.ps().await.unwrap();
    assert_eq!(
        fake.recorded_args().unwrap(),
        ["ps", "--json", "--port", "41343"]
    );
    lms.load(
        "qwen/qwen3-4b",
        &LoadOptions::default().with_context_length(Some(4096)),
    )
    .await
    .unwrap();
    assert_eq!(
        fake.recorded_args().unwrap(),
        [
            "load",
            "qwen/qwen3-4b",
            "--yes",
            "-c",
            "4096",
            "--port",
            "41343"
        ]
    );
    lms.unload("qwen/qwen3-4b:2").await.unwrap();
    assert_eq!(
        fake.recorded_args().unwrap(),
        ["unload", "qwen/qwen3-4b:2", "--port", "41343"]
    );
    lms.get("qwen/qwen3-4b", &GetOptions::default(), &mut |_| {})
        .await
        .unwrap();
    assert_eq!(
        fake.recorded_args().unwrap(),
        ["get", "--yes", "qwen/qwen3-4b", "--port", "41343"]
    );
}

#[tokio::test]
async fn without_a_port_nothing_is_added() {
    let fake = recording("[]");
    assert_eq!(fake.lms.port(), None);
    fake.lms.ls().await.unwrap();
    assert_eq!(fake.recorded_args().unwrap(), ["ls", "--json"]);
}

#[tokio::test]
async fn server_status_never_gets_a_port() {
    // The real `lms server status` has no `--port` option (commander would exit 1 on it).
    let fake = recording(r#"{"running":false}"#);
    let status = fake
        .lms
        .clone()
        .with_port(5555)
        .server_status()
        .await
        .unwrap();
    assert!(!status.running);
    assert_eq!(
        fake.recorded_args().unwrap(),
        ["server", "status", "--json"]
    );
}

#[tokio::test]
async fn server_start_passes_its_own_port_bind_and_cors() {
    let fake = FakeLms::new(|dir| {
        format!(
            "{}\necho 'Success! Server is now running on port 41343' >&2",
            record_args(dir)
        )
    });
    // The client port of `with_port` is not added: `--port` of `server start` is the server's.
    let lms = fake.lms.clone().with_port(1234);
    let options = ServerStartOptions::new(41343)
        .with_bind(Some(IpAddr::V4(Ipv4Addr::UNSPECIFIED)))
        .with_cors(true);
    lms.server_start(&options).await.unwrap();
    assert_eq!(
        fake.recorded_args().unwrap(),
        [
            "server", "start", "--port", "41343", "--bind", "0.0.0.0", "--cors"
        ]
    );
    lms.server_start(&ServerStartOptions::new(41343))
        .await
        .unwrap();
    assert_eq!(
        fake.recorded_args().unwrap(),
        ["server", "start", "--port", "41343"]
    );
}

#[tokio::test]
async fn a_failed_server_start_keeps_what_lms_printed() {
    let fake = FakeLms::new(|_| {
        "echo 'Waking up LM Studio service...' >&2\n\
         echo 'Error: Failed to verify the server is running. Please try to use another port.' >&2\n\
         exit 1"
            .to_owned()
    });
    let err = fake
        .lms
        .server_start(&ServerStartOptions::new(1234))
        .await
        .unwrap_err();
    match &err {
        LmsError::Failed {
            command,
            status,
            stderr_tail,
        } => {
            assert_eq!(command, "lms server start --port 1234");
            assert_eq!(status, "exit code 1");
            assert!(stderr_tail.contains("Waking up"), "{stderr_tail}");
            assert!(
                stderr_tail.contains("Failed to verify the server is running"),
                "{stderr_tail}"
            );
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_server_start_that_hangs_is_stopped_at_the_limit_and_reaped() {
    let fake = FakeLms::new(|dir| format!("{}\nexec sleep 3600", record_pid(dir)));
    let lms = fake.lms.clone().with_timeout(Duration::from_millis(300));
    let run = tokio::spawn(async move { lms.server_start(&ServerStartOptions::new(1234)).await });
    let pid = wait_for_pid(fake.dir.path()).await;
    let err = run.await.unwrap().unwrap_err();
    assert!(err.is_timeout(), "{err:?}");
    assert!(
        err.to_string().contains("lms server start --port 1234"),
        "{err}"
    );
    wait_gone(pid).await.unwrap();
    assert!(!proc_exists(pid));
}

#[tokio::test]
async fn port_zero_is_refused_before_anything_runs() {
    let fake = FakeLms::new(record_args);
    let err = fake
        .lms
        .server_start(&ServerStartOptions::new(0))
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            LmsError::InvalidOption {
                option: "--port",
                ..
            }
        ),
        "{err:?}"
    );
    assert!(fake.recorded_args().is_none(), "lms ran");
}
