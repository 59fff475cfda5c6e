//! Fault catalogue (docs/faults.md): the LM Studio emulator's injected faults and error
//! quirks (broken streams, failed or slow downloads, hanging loads, the 0.3 profile, auth,
//! refused inference), seen through the facade.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use futures_util::StreamExt;
use std::io::ErrorKind;
use std::time::Duration;
use vtcode_lmstudio::http::StatusCode;

use lmstudio_testkit::{CatalogModel, Emulator, EmulatorBuilder, Profile};
use vtcode_config::{PreloadMode, VTCodeConfig};
use vtcode_lmstudio::proto::openai::{ChatCompletionRequest, ChatMessage};
use vtcode_lmstudio::{LMStudioClient, LmStudioError, NoProgress};

const MODEL: &str = "openai/gpt-oss-20b";
const NO_TOKEN_VAR: &str = "VTCODE_LMSTUDIO_FAULT_TESTS_NO_TOKEN";

fn config_for(emulator: &Emulator) -> VTCodeConfig {
    let mut config = VTCodeConfig::default()
        .with_base_url(emulator.url())
        .with_preload(PreloadMode::Wait)
        .with_lms_path("/nonexistent/lms-for-tests");
    config.lmstudio.api_token_env = NO_TOKEN_VAR.to_owned();
    config.lmstudio.connect_timeout_ms = 2_000;
    config.lmstudio.request_timeout_ms = 10_000;
    config
}

fn client_with(config: &VTCodeConfig) -> LMStudioClient {
    LMStudioClient::builder(config)
        .reporter(std::sync::Arc::new(NoProgress))
        .poll_interval(Duration::from_millis(10))
        .index_wait(Duration::from_secs(5))
        .build()
        .unwrap()
}

/// An emulator with the model downloaded and loaded.
fn loaded() -> EmulatorBuilder {
    Emulator::builder().model(CatalogModel::gpt_oss_20b().loaded(true))
}

fn chat(text: &str) -> ChatCompletionRequest {
    ChatCompletionRequest::new(MODEL, vec![ChatMessage::user(text)])
}

#[tokio::test]
async fn an_error_inside_a_200_stream_is_a_server_error() {
    let emulator = loaded().inject_stream_error_after(2).start().await.unwrap();
    let client = client_with(&config_for(&emulator));
    let err = client
        .chat_stream(chat("hello there"))
        .await
        .unwrap()
        .into_summary()
        .await
        .unwrap_err();
    match &err {
        LmStudioError::Server {
            status, message, ..
        } => {
            assert_eq!(*status, 200);
            assert!(message.starts_with("The model has crashed"), "{message}");
        }
        other => panic!("expected Server, got {other:?}"),
    }
    assert_eq!(std::io::Error::from(err).kind(), ErrorKind::Other);
}

#[tokio::test]
async fn a_stream_dropped_without_done_is_unexpected_eof() {
    let emulator = loaded().drop_stream_after(2).start().await.unwrap();
    let client = client_with(&config_for(&emulator));
    let mut stream = client.chat_stream(chat("hello there")).await.unwrap();
    let mut chunks = 0;
    let err = loop {
        match stream.next().await.expect("an error before the end") {
            Ok(_) => chunks += 1,
            Err(err) => break err,
        }
    };
    assert_eq!(chunks, 2);
    assert!(
        matches!(err, LmStudioError::StreamEndedEarly { .. }),
        "{err:?}"
    );
    assert_eq!(std::io::Error::from(err).kind(), ErrorKind::UnexpectedEof);
    assert!(stream.next().await.is_none());
}

#[tokio::test]
async fn a_stream_aborted_mid_body_is_a_transport_error() {
    let emulator = loaded().abort_stream_after(1).start().await.unwrap();
    let client = client_with(&config_for(&emulator));
    let err = client
        .chat_stream(chat("hello there"))
        .await
        .unwrap()
        .into_summary()
        .await
        .unwrap_err();
    assert!(matches!(err, LmStudioError::Transport { .. }), "{err:?}");
    assert_eq!(std::io::Error::from(err).kind(), ErrorKind::Other);
}

#[tokio::test]
async fn a_download_job_that_fails_is_download_failed() {
    let emulator = Emulator::builder()
        .model(CatalogModel::gpt_oss_20b().size_bytes(10_000_000))
        .fail_download(MODEL)
        .start()
        .await
        .unwrap();
    let client = client_with(&config_for(&emulator));
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
    let emulator = loaded().start().await.unwrap();
    let client = client_with(&config_for(&emulator));
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

#[tokio::test]
async fn a_download_slower_than_its_limit_is_timed_out() {
    let emulator = Emulator::builder()
        .model(CatalogModel::gpt_oss_20b().size_bytes(1_000_000_000))
        .download_speed(1_000)
        .start()
        .await
        .unwrap();
    let mut config = config_for(&emulator);
    config.lmstudio.download_timeout_ms = Some(300);
    let err = client_with(&config)
        .download_model(MODEL)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::TimedOut);
    assert_eq!(
        err.to_string(),
        format!("downloading {MODEL} timed out after 300 ms")
    );
}

#[tokio::test]
async fn a_load_that_hangs_is_timed_out_naming_the_request() {
    let emulator = Emulator::builder()
        .model(CatalogModel::gpt_oss_20b().downloaded(true))
        .load_delay(Duration::from_secs(60))
        .start()
        .await
        .unwrap();
    let mut config = config_for(&emulator);
    config.lmstudio.load_timeout_ms = 300;
    let err = client_with(&config).load_model(MODEL).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::TimedOut);
    assert_eq!(
        err.to_string(),
        format!(
            "POST {}/api/v1/models/load timed out after 300 ms",
            emulator.url()
        )
    );
}

#[tokio::test]
async fn unknown_routes_on_the_0_3_profile_are_200_errors_and_detection_falls_back() {
    let emulator = Emulator::builder()
        .profile(Profile::V0_3)
        .model(CatalogModel::gpt_oss_20b().downloaded(true))
        .start()
        .await
        .unwrap();
    let client = client_with(&config_for(&emulator));
    let err = client
        .http()
        .get_json::<serde_json::Value>("/api/v1/models")
        .await
        .unwrap_err();
    assert!(
        matches!(&err, lmstudio_transport::Error::Server { status: StatusCode::OK, message, .. } if message == "Unexpected endpoint or method. (GET /api/v1/models)"),
        "{err:?}"
    );
    // The facade takes that answer for a missing route and lists from /api/v0.
    assert_eq!(client.fetch_models().await.unwrap(), vec![MODEL.to_owned()]);
}

#[tokio::test]
async fn a_0_3_server_without_lms_cannot_download_and_says_lms_is_not_found() {
    let emulator = Emulator::builder()
        .profile(Profile::V0_3)
        .model(CatalogModel::gpt_oss_20b())
        .start()
        .await
        .unwrap();
    let client = client_with(&config_for(&emulator));
    let err = client.download_model(MODEL).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert!(
        err.to_string().contains("/nonexistent/lms-for-tests"),
        "{err}"
    );
    assert_eq!(emulator.request_count("POST", "/api/v1/models/download"), 0);
}

#[tokio::test]
async fn a_server_requiring_a_token_is_permission_denied_naming_the_variable() {
    let emulator = loaded()
        .auth_token(Some("sk-lm-fault:tests".to_owned()))
        .start()
        .await
        .unwrap();
    let err = LMStudioClient::try_from_provider(&config_for(&emulator))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::PermissionDenied);
    let text = err.to_string();
    assert!(
        text.contains("HTTP 401") && text.contains(NO_TOKEN_VAR),
        "{text}"
    );
}

#[tokio::test]
async fn chat_with_jit_off_and_nothing_loaded_is_a_server_error() {
    let emulator = Emulator::builder()
        .jit(false)
        .model(CatalogModel::gpt_oss_20b().downloaded(true))
        .start()
        .await
        .unwrap();
    let client = client_with(&config_for(&emulator));
    let err = client.chat(chat("hi")).await.unwrap_err();
    assert!(
        matches!(&err, LmStudioError::Server { status: StatusCode::NOT_FOUND, message, .. } if message.starts_with("No models loaded.")),
        "{err:?}"
    );
    assert!(!err.is_not_responding());
}

#[tokio::test]
async fn a_prompt_longer_than_the_context_is_a_server_error() {
    let emulator = loaded().start().await.unwrap();
    let client = client_with(&config_for(&emulator));
    let err = client.chat(chat(&"word ".repeat(5000))).await.unwrap_err();
    assert!(
        matches!(&err, LmStudioError::Server { status: StatusCode::BAD_REQUEST, message, .. } if message.contains("greater than the context length")),
        "{err:?}"
    );
}
