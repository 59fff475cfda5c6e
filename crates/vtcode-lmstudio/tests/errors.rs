//! The seed API's error contract: kinds and verbatim messages, and no message ever lost.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::io::ErrorKind;

use support::{config_for, typed, unexpected_endpoint, v1_models_body};
use vtcode_lmstudio::{LMStudioClient, LmStudioError, ensure_oss_ready};

fn closed_port_url() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    format!("http://127.0.0.1:{port}")
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
    let mut server = mockito::Server::new_async().await;
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
    let mut server = mockito::Server::new_async().await;
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
    let mut server = mockito::Server::new_async().await;
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
    let mut server = mockito::Server::new_async().await;
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
    let mut server = mockito::Server::new_async().await;
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

#[tokio::test]
async fn missing_lms_is_not_found_with_the_verbatim_message() {
    // An LM Studio 0.3.x server (no REST downloads) without the model: the download needs lms.
    let mut server = mockito::Server::new_async().await;
    let _v1 = server
        .mock("GET", "/api/v1/models")
        .with_body(unexpected_endpoint("GET", "/api/v1/models"))
        .create_async()
        .await;
    let _v0 = server
        .mock("GET", "/api/v0/models")
        .with_body(support::v0_models_body(&[support::v0_model(
            "qwen2.5-7b-instruct",
            false,
        )]))
        .create_async()
        .await;
    let config = config_for(&server.url());
    let err = ensure_oss_ready(&config).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert_eq!(
        err.to_string(),
        "LM Studio not found. Please install LM Studio from https://lmstudio.ai/"
    );
}
