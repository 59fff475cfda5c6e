//! The seed API's error contract: kinds and verbatim messages, and no message ever lost.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::support;

use std::io::ErrorKind;

use support::{config_for, typed, unexpected_endpoint, v1_models_body};
use vtcode_lmstudio::{LMStudioClient, LmStudioError, ensure_oss_ready};

fn closed_port_url() -> String {
    format!("http://127.0.0.1:{}", lmstudio_testkit::closed_port())
}

#[tokio::test]
async fn unreachable_server_is_connection_refused_with_the_verbatim_message() {
    let config = config_for(&closed_port_url());
    let err = ensure_oss_ready(&config).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ConnectionRefused);
    assert_eq!(
        err.to_string(),
        "LM Studio is not responding. Install from https://lmstudio.ai/download and run 'lms server start'."
    );
    assert!(typed(&err).is_not_responding());

    let err = LMStudioClient::try_from_provider(&config)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ConnectionRefused);
}

#[tokio::test]
async fn missing_token_is_permission_denied_naming_the_variable() {
    let mut server = support::server().await;
    let _m = server
        .mock("GET", "/api/v1/models")
        .with_status(401)
        .with_header("content-type", "application/json")
        .with_body(r#"{"error":{"type":"invalid_request","code":"invalid_api_key","message":"An LM Studio API token is required to make requests to this server"}}"#)
        .create_async()
        .await;
    let mut config = config_for(&server.url());
    config.lmstudio.api_token_env = "MY_LMSTUDIO_TOKEN".into();
    let err = ensure_oss_ready(&config).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::PermissionDenied);
    let text = err.to_string();
    assert!(text.contains("MY_LMSTUDIO_TOKEN"), "{text}");
    assert!(text.contains("API token is required"), "{text}");
}

#[tokio::test]
async fn wrong_token_is_permission_denied_without_the_token() {
    let mut server = support::server().await;
    let _m = server
        .mock("GET", "/api/v1/models")
        .match_header("authorization", "Bearer sk-lm-secret:value")
        .with_status(403)
        .with_body(r#"{"error":{"message":"Invalid API token","type":"invalid_request"}}"#)
        .create_async()
        .await;
    let mut config = config_for(&server.url());
    config.lmstudio.api_token = Some(vtcode_config::ApiToken::new("sk-lm-secret:value"));
    let err = LMStudioClient::try_from_provider(&config)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::PermissionDenied);
    let text = format!("{err} {err:?}");
    assert!(!text.contains("sk-lm-secret"), "token leaked: {text}");
    assert!(text.contains("LM_API_TOKEN"), "{text}");
}

#[tokio::test]
async fn server_errors_keep_status_and_message_and_are_not_not_responding() {
    let mut server = support::server().await;
    let _list = server
        .mock("GET", "/api/v1/models")
        .with_body(v1_models_body(&[support::v1_model(
            "openai/gpt-oss-20b",
            &[],
        )]))
        .create_async()
        .await;
    let _load = server
        .mock("POST", "/api/v1/models/load")
        .with_status(500)
        .with_body(
            r#"{"error":"The model has crashed without additional information. (Exit code: 6)"}"#,
        )
        .create_async()
        .await;
    let client = LMStudioClient::new(&config_for(&server.url())).unwrap();
    let err = client.load_model("openai/gpt-oss-20b").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Other);
    let text = err.to_string();
    assert!(text.contains("500"), "{text}");
    assert!(text.contains("The model has crashed"), "{text}");
    assert!(!typed(&err).is_not_responding());
}

#[tokio::test]
async fn a_200_error_body_is_a_server_error_not_success() {
    let mut server = support::server().await;
    let _list = server
        .mock("GET", "/api/v1/models")
        .with_body(v1_models_body(&[support::v1_model(
            "openai/gpt-oss-20b",
            &["openai/gpt-oss-20b"],
        )]))
        .create_async()
        .await;
    let _chat = server
        .mock("POST", "/v1/chat/completions")
        .with_status(200)
        .with_body(unexpected_endpoint("POST", "/v1/chat/completions"))
        .create_async()
        .await;
    let client = LMStudioClient::new(&config_for(&server.url())).unwrap();
    let request = vtcode_lmstudio::proto::openai::ChatCompletionRequest::new(
        "openai/gpt-oss-20b",
        vec![vtcode_lmstudio::proto::openai::ChatMessage::user("hi")],
    );
    let err = client.chat(request).await.unwrap_err();
    match err {
        LmStudioError::Server {
            status, message, ..
        } => {
            assert_eq!(status, 200);
            assert!(message.starts_with("Unexpected endpoint"), "{message}");
        }
        other => panic!("expected a server error, got {other:?}"),
    }
}

#[tokio::test]
async fn invalid_json_is_invalid_data_with_the_contract_prefix() {
    let mut server = support::server().await;
    let _list = server
        .mock("GET", "/api/v1/models")
        .with_body(v1_models_body(&[support::v1_model(
            "openai/gpt-oss-20b",
            &["openai/gpt-oss-20b"],
        )]))
        .create_async()
        .await;
    let _chat = server
        .mock("POST", "/v1/embeddings")
        .with_status(200)
        .with_body("{\"object\":\"list\",\"data\":[{\"embedding\":[0.1,")
        .create_async()
        .await;
    let client = LMStudioClient::new(&config_for(&server.url())).unwrap();
    let request = vtcode_lmstudio::proto::openai::EmbeddingRequest::new(
        "openai/gpt-oss-20b",
        vtcode_lmstudio::proto::openai::EmbeddingInput::from("x"),
    );
    let err: std::io::Error = client.embeddings(request).await.unwrap_err().into();
    assert_eq!(err.kind(), ErrorKind::InvalidData);
    assert!(err.to_string().starts_with("JSON parse error: "), "{err}");
}

/// An LM Studio 0.3.x server (no REST downloads) without the model: the download needs `lms`.
async fn server_that_needs_lms() -> mockito::Server {
    let mut server = support::server().await;
    server
        .mock("GET", "/api/v1/models")
        .with_body(unexpected_endpoint("GET", "/api/v1/models"))
        .create_async()
        .await;
    server
        .mock("GET", "/api/v0/models")
        .with_body(support::v0_models_body(&[support::v0_model(
            "qwen2.5-7b-instruct",
            false,
        )]))
        .create_async()
        .await;
    server
}

#[tokio::test]
async fn a_configured_lms_path_that_does_not_exist_is_not_found_and_names_the_path() {
    let server = server_that_needs_lms().await;
    let config = config_for(&server.url());
    let err = ensure_oss_ready(&config).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert!(
        err.to_string().contains("/nonexistent/lms-for-tests"),
        "{err}"
    );
}

const CHILD_ENV: &str = "VTCODE_LMSTUDIO_TEST_NO_LMS_CHILD";

/// Runs in a child process whose PATH and HOME hold no `lms` (see the test below).
#[tokio::test]
async fn missing_lms_child_scenario() {
    if std::env::var_os(CHILD_ENV).is_none() {
        return; // Only meaningful inside the clean environment the parent sets up.
    }
    let server = server_that_needs_lms().await;
    let mut config = config_for(&server.url());
    config.lmstudio.lms_path = None;
    let err = ensure_oss_ready(&config).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert_eq!(
        err.to_string(),
        "LM Studio not found. Please install LM Studio from https://lmstudio.ai/"
    );
    println!("child-scenario-passed");
}

#[test]
fn missing_lms_is_not_found_with_the_verbatim_message() {
    // Discovery reads PATH and HOME; run the scenario in a child with both pointing nowhere,
    // so no `lms` installed on this machine can be found.
    let home = tempfile::tempdir().unwrap();
    let output = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "errors::missing_lms_child_scenario",
            "--nocapture",
        ])
        .env(CHILD_ENV, "1")
        .env("PATH", home.path())
        .env("HOME", home.path())
        .env_remove("LMSTUDIO_LMS_PATH")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success() && stdout.contains("child-scenario-passed"),
        "child failed: {stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
}
