//! A misbehaving `lms` through the facade (fault catalogue, docs/faults.md), on LM Studio 0.3
//! servers (no REST download or load, so `lms` does the work): missing, not executable, killed
//! by a signal, failing, hanging. The `lms` is the testkit's fake, told how to misbehave.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::support::StartFresh;
use std::io::ErrorKind;
use std::path::PathBuf;

use lmstudio_testkit::{CatalogModel, Emulator, FakeLmsOptions, Profile};
use vtcode_config::VTCodeConfig;
use vtcode_lmstudio::LmStudioError;

use super::{MODEL, emulator_client, emulator_config};
use crate::support::{
    self, Recorder, assert_download_failed, client_for, config_for, download_error, fake_lms,
    typed, unexpected_endpoint, v0_model, v0_models_body,
};

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
async fn a_0_3_server_without_lms_cannot_download_and_says_lms_is_not_found() {
    let emulator = Emulator::builder()
        .profile(Profile::V0_3)
        .model(CatalogModel::gpt_oss_20b())
        .start_fresh()
        .await
        .unwrap();
    let client = emulator_client(&emulator_config(&emulator));
    let err = client.download_model(MODEL).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert!(
        err.to_string().contains("/nonexistent/lms-for-tests"),
        "{err}"
    );
    assert_eq!(emulator.request_count("POST", "/api/v1/models/download"), 0);
}

/// Execute permission is a Unix mode bit: elsewhere any file with the right name runs.
#[cfg(unix)]
#[tokio::test]
async fn an_lms_that_is_not_executable_is_permission_denied() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let server = v0_server(false).await;
    let lms = fake_lms(dir.path(), &server.url(), &FakeLmsOptions::new());
    std::fs::set_permissions(&lms, std::fs::Permissions::from_mode(0o644)).unwrap();
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

/// Death by a signal is a Unix notion (elsewhere the fake aborts with an exit code).
#[cfg(unix)]
#[tokio::test]
async fn lms_get_killed_by_a_signal_is_download_failed_naming_the_signal() {
    let dir = tempfile::tempdir().unwrap();
    let server = v0_server(false).await;
    let options = FakeLmsOptions::new()
        .only_for("get")
        .stderr_line("Error: out of memory")
        .killed_by_signal();
    let lms = fake_lms(dir.path(), &server.url(), &options);
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
    let server = v0_server(false).await;
    let lms = fake_lms(
        dir.path(),
        &server.url(),
        &FakeLmsOptions::new().only_for("get").hang(),
    );
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
    let server = v0_server(true).await;
    let options = FakeLmsOptions::new()
        .only_for("load")
        .stderr_line("Error: Not enough memory to load the model")
        .exit_with(1);
    let lms = fake_lms(dir.path(), &server.url(), &options);
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
    let server = v0_server(true).await;
    let lms = fake_lms(
        dir.path(),
        &server.url(),
        &FakeLmsOptions::new().only_for("load").hang(),
    );
    let mut config = config_with_lms(&server, lms);
    config.lmstudio.load_timeout_ms = 500;
    let recorder = Recorder::default();
    let err = client_for(&config, &recorder)
        .load_model(MODEL)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::TimedOut);
    let port = server.host_with_port();
    let port = port.rsplit(':').next().unwrap();
    assert_eq!(
        err.to_string(),
        format!("lms load {MODEL} --yes --port {port} timed out after 500 ms")
    );
}
