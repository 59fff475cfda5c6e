//! Downloads that go wrong through the facade (fault catalogue, docs/faults.md): a failed
//! job, an unknown model, a status poll that errors, a job answer without a job id, a model
//! that never shows up in the list, a download the server refuses.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::support::StartFresh;
use std::io::ErrorKind;

use lmstudio_testkit::{CatalogModel, Emulator};
use vtcode_lmstudio::{LmStudioError, NoProgress};

use super::{MODEL, emulator_client, emulator_config, loaded};
use crate::support::{
    self, Recorder, assert_download_failed, builder_for, config_for, download_error, typed,
    v1_model, v1_models_body,
};

#[tokio::test]
async fn a_download_job_that_fails_is_download_failed() {
    let emulator = Emulator::builder()
        .model(CatalogModel::gpt_oss_20b().size_bytes(10_000_000))
        .fail_download(MODEL)
        .start_fresh()
        .await
        .unwrap();
    let client = emulator_client(&emulator_config(&emulator));
    let err = client.download_model(MODEL).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Other);
    let typed = err
        .get_ref()
        .and_then(|e| e.downcast_ref::<LmStudioError>())
        .unwrap();
    assert!(
        matches!(typed, LmStudioError::DownloadFailed { model, .. } if model == MODEL),
        "{typed:?}"
    );
    assert!(err.to_string().contains("failed"), "{err}");
    assert!(!emulator.is_downloaded(MODEL));
}

#[tokio::test]
async fn downloading_a_model_the_server_does_not_know_is_download_failed() {
    let emulator = loaded().start_fresh().await.unwrap();
    let client = emulator_client(&emulator_config(&emulator));
    let err = client
        .download("no/such-model", &NoProgress)
        .await
        .unwrap_err();
    match &err {
        LmStudioError::DownloadFailed { model, detail, .. } => {
            assert_eq!(model, "no/such-model");
            assert!(detail.contains("HTTP 404"), "{detail}");
        }
        other => panic!("expected DownloadFailed, got {other:?}"),
    }
}

/// A 0.4 server that lists only another model and answers the download POST with `started`.
async fn server_with_download(started: &str) -> mockito::Server {
    let mut server = support::server().await;
    server
        .mock("GET", "/api/v1/models")
        .with_body(v1_models_body(&[v1_model("qwen/qwen3-4b", &[])]))
        .create_async()
        .await;
    server
        .mock("POST", "/api/v1/models/download")
        .with_body(started)
        .create_async()
        .await;
    server
}

const STARTED: &str = r#"{"job_id":"job_9","status":"downloading","total_size_bytes":1000}"#;

#[tokio::test]
async fn a_status_poll_answering_500_fails_the_download_with_the_servers_message() {
    let mut server = server_with_download(STARTED).await;
    server
        .mock("GET", "/api/v1/models/download/status/job_9")
        .with_status(500)
        .with_body(r#"{"error":"download worker crashed"}"#)
        .create_async()
        .await;
    let err = download_error(&config_for(&server.url()), MODEL).await;
    assert_download_failed(
        &err,
        &["polling job job_9 failed", "download worker crashed"],
    );
}

#[tokio::test]
async fn a_job_answer_without_a_job_id_is_invalid_data() {
    let server = server_with_download(r#"{"status":"downloading","total_size_bytes":1000}"#).await;
    let err = download_error(&config_for(&server.url()), MODEL).await;
    assert_eq!(err.kind(), ErrorKind::InvalidData);
    let text = err.to_string();
    assert!(text.starts_with("JSON parse error: "), "{text}");
    assert!(text.contains("no job_id"), "{text}");
}

#[tokio::test]
async fn a_finished_download_that_never_appears_in_the_list_is_download_failed() {
    let mut server = server_with_download(STARTED).await;
    server
        .mock("GET", "/api/v1/models/download/status/job_9")
        .with_body(r#"{"job_id":"job_9","status":"completed","total_size_bytes":1000,"downloaded_bytes":1000}"#)
        .create_async()
        .await;
    let recorder = Recorder::default();
    let client = builder_for(&config_for(&server.url()), &recorder)
        .index_wait(std::time::Duration::from_millis(300))
        .build()
        .unwrap();
    let err = client.download_model(MODEL).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Other);
    assert!(
        matches!(typed(&err), LmStudioError::DownloadFailed { .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("did not appear in"), "{err}");
}

#[tokio::test]
async fn a_download_refused_by_the_server_is_download_failed_with_its_message() {
    let mut server = support::server().await;
    server
        .mock("GET", "/api/v1/models")
        .with_body(v1_models_body(&[]))
        .create_async()
        .await;
    server
        .mock("POST", "/api/v1/models/download")
        .with_status(507)
        .with_body(r#"{"error":{"message":"Not enough disk space","type":"insufficient_storage"}}"#)
        .create_async()
        .await;
    let err = download_error(&config_for(&server.url()), MODEL).await;
    assert_eq!(err.kind(), ErrorKind::Other);
    let text = err.to_string();
    assert!(
        text.contains("HTTP 507") && text.contains("Not enough disk space"),
        "{text}"
    );
}
