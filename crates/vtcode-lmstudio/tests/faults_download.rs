//! Fault catalogue (docs/faults.md): REST downloads that go wrong after the job starts: a
//! status poll that errors, a job answer without a job id, a model that never shows up.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::io::ErrorKind;

use support::{
    Recorder, assert_download_failed, builder_for, config_for, download_error, typed, v1_model,
    v1_models_body,
};
use vtcode_lmstudio::LmStudioError;

const MODEL: &str = "openai/gpt-oss-20b";

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
