//! Fault catalogue (docs/faults.md): a misbehaving `lms` seen through the facade on an
//! LM Studio 0.3 server (no REST download or load, so `lms` does the work).

#![allow(clippy::unwrap_used, clippy::expect_used)]
#![cfg(unix)] // fake `lms` executables are `#!/bin/sh` scripts

mod support;

use std::io::ErrorKind;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use support::{
    Recorder, assert_download_failed, client_for, config_for, download_error, typed,
    unexpected_endpoint, v0_model, v0_models_body,
};
use vtcode_config::VTCodeConfig;
use vtcode_lmstudio::LmStudioError;

const MODEL: &str = "openai/gpt-oss-20b";

/// Writes `body` as an `lms` script with `mode`: temp name, chmod, rename (no ETXTBSY).
fn write_lms(dir: &Path, body: &str, mode: u32) -> PathBuf {
    let path = dir.join("lms");
    let tmp = dir.join(".lms.tmp");
    std::fs::write(&tmp, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(mode)).unwrap();
    std::fs::rename(&tmp, &path).unwrap();
    path
}

/// A 0.3 server: no `/api/v1`, `/api/v0/models` lists MODEL when `listed` (never loaded).
async fn v0_server(listed: bool) -> mockito::Server {
    let mut server = support::server().await;
    server
        .mock("GET", "/api/v1/models")
        .with_body(unexpected_endpoint("GET", "/api/v1/models"))
        .create_async()
        .await;
    let mut models = vec![v0_model("qwen2.5-7b-instruct", false)];
    if listed {
        models.push(v0_model(MODEL, false));
    }
    server
        .mock("GET", "/api/v0/models")
        .with_body(v0_models_body(&models))
        .create_async()
        .await;
    server
}

fn config_with_lms(server: &mockito::Server, lms: PathBuf) -> VTCodeConfig {
    let mut config = config_for(&server.url());
    config.lmstudio.lms_path = Some(lms);
    config
}

#[tokio::test]
async fn an_lms_that_is_not_executable_is_permission_denied() {
    let dir = tempfile::tempdir().unwrap();
    let lms = write_lms(dir.path(), "exit 0", 0o644);
    let server = v0_server(false).await;
    let recorder = Recorder::default();
    let err = client_for(&config_with_lms(&server, lms.clone()), &recorder)
        .download_model(MODEL)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::PermissionDenied);
    match typed(&err) {
        LmStudioError::Lms(inner) => assert!(
            matches!(&**inner, lmstudio_lms::LmsError::NotExecutable { path } if *path == lms),
            "{inner:?}"
        ),
        other => panic!("expected Lms(NotExecutable), got {other:?}"),
    }
}

#[tokio::test]
async fn lms_get_killed_by_a_signal_is_download_failed_naming_the_signal() {
    let dir = tempfile::tempdir().unwrap();
    let lms = write_lms(
        dir.path(),
        "echo 'Error: out of memory' >&2\nkill -9 $$",
        0o755,
    );
    let server = v0_server(false).await;
    let recorder = Recorder::default();
    let err = client_for(&config_with_lms(&server, lms), &recorder)
        .download_model(MODEL)
        .await
        .unwrap_err();
    assert_download_failed(&err, &["signal 9", "Error: out of memory"]);
}

#[tokio::test]
async fn a_hanging_lms_get_hits_the_download_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let lms = write_lms(dir.path(), "exec sleep 1000", 0o755);
    let server = v0_server(false).await;
    let mut config = config_with_lms(&server, lms);
    config.lmstudio.download_timeout_ms = Some(500);
    let err = download_error(&config, MODEL).await;
    assert_eq!(err.kind(), ErrorKind::TimedOut);
    assert_eq!(
        err.to_string(),
        format!("downloading {MODEL} timed out after 500 ms")
    );
}

#[tokio::test]
async fn a_failing_lms_load_keeps_the_exit_code_and_stderr() {
    let dir = tempfile::tempdir().unwrap();
    let lms = write_lms(
        dir.path(),
        "echo 'Error: Not enough memory to load the model' >&2\nexit 1",
        0o755,
    );
    let server = v0_server(true).await;
    let recorder = Recorder::default();
    let err = client_for(&config_with_lms(&server, lms), &recorder)
        .load_model(MODEL)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Other);
    match typed(&err) {
        LmStudioError::Lms(inner) => assert!(
            matches!(&**inner, lmstudio_lms::LmsError::Failed { status, .. } if status == "exit code 1"),
            "{inner:?}"
        ),
        other => panic!("expected Lms(Failed), got {other:?}"),
    }
    assert!(
        err.to_string()
            .contains("Not enough memory to load the model"),
        "{err}"
    );
}

#[tokio::test]
async fn a_hanging_lms_load_is_timed_out_naming_the_command() {
    let dir = tempfile::tempdir().unwrap();
    let lms = write_lms(dir.path(), "exec sleep 1000", 0o755);
    let server = v0_server(true).await;
    let mut config = config_with_lms(&server, lms);
    config.lmstudio.load_timeout_ms = 500;
    let recorder = Recorder::default();
    let err = client_for(&config, &recorder)
        .load_model(MODEL)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::TimedOut);
    assert_eq!(
        err.to_string(),
        format!("lms load {MODEL} --yes timed out after 500 ms")
    );
}
