//! Answers that are wrong through the facade (fault catalogue, docs/faults.md): endless,
//! reset or non-HTTP bodies, HTML where JSON belongs, LM Studio's 200 error bodies for unknown
//! routes, auth refusals and refused inference.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::support::StartFresh;
use std::io::ErrorKind;

use lmstudio_testkit::fault::{Fault, FaultServer, http_response};
use lmstudio_testkit::{CatalogModel, Emulator, Profile};
use vtcode_lmstudio::http::StatusCode;
use vtcode_lmstudio::{LMStudioClient, LmStudioError};

use super::{
    MODEL, NO_TOKEN_VAR, chat, emulator_client, emulator_config, loaded, models_error,
    plain_client, short_config,
};
use crate::support::typed;

#[tokio::test]
async fn an_endless_body_is_invalid_data_too_large() {
    let (_server, err) = models_error(Fault::EndlessBody).await;
    assert_eq!(err.kind(), ErrorKind::InvalidData);
    assert!(
        matches!(typed(&err), LmStudioError::TooLarge { limit: 65536, .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("65536-byte limit"), "{err}");
}

#[tokio::test]
async fn a_reset_mid_body_is_a_transport_error_not_not_responding() {
    let (_server, err) = models_error(Fault::ResetMidBody).await;
    assert_eq!(err.kind(), ErrorKind::Other);
    assert!(
        matches!(typed(&err), LmStudioError::Transport { .. }),
        "{err:?}"
    );
    assert!(!typed(&err).is_not_responding());
}

#[tokio::test]
async fn bytes_that_are_not_http_are_a_transport_error() {
    let (_server, err) = models_error(Fault::Garbage).await;
    assert_eq!(err.kind(), ErrorKind::Other);
    assert!(
        matches!(typed(&err), LmStudioError::Transport { .. }),
        "{err:?}"
    );
    assert!(err.to_string().starts_with("transport error talking to "));
}

#[tokio::test]
async fn an_html_page_on_every_route_is_invalid_data() {
    let page = b"<html><head><title>Captive portal</title></head><body>Sign in</body></html>";
    let server = FaultServer::start(Fault::Raw(http_response(200, "text/html", page)))
        .await
        .unwrap();
    let err = plain_client(&short_config(&server.url()))
        .fetch_models()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidData);
    let text = err.to_string();
    assert!(text.starts_with("JSON parse error: "), "{text}");
    assert!(text.contains("<title>Captive portal</title>"), "{text}");
}

#[tokio::test]
async fn unknown_routes_on_the_0_3_profile_are_200_errors_and_detection_falls_back() {
    let emulator = Emulator::builder()
        .profile(Profile::V0_3)
        .model(CatalogModel::gpt_oss_20b().downloaded(true))
        .start_fresh()
        .await
        .unwrap();
    let client = emulator_client(&emulator_config(&emulator));
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
async fn a_server_requiring_a_token_is_permission_denied_naming_the_variable() {
    let emulator = loaded()
        .auth_token(Some("sk-lm-fault:tests".to_owned()))
        .start_fresh()
        .await
        .unwrap();
    let err = LMStudioClient::try_from_provider(&emulator_config(&emulator))
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
        .start_fresh()
        .await
        .unwrap();
    let client = emulator_client(&emulator_config(&emulator));
    let err = client.chat(chat("hi")).await.unwrap_err();
    assert!(
        matches!(&err, LmStudioError::Server { status: StatusCode::NOT_FOUND, message, .. } if message.starts_with("No models loaded.")),
        "{err:?}"
    );
    assert!(!err.is_not_responding());
}

#[tokio::test]
async fn a_prompt_longer_than_the_context_is_a_context_overflow() {
    let emulator = loaded().start_fresh().await.unwrap();
    let client = emulator_client(&emulator_config(&emulator));
    // Read the model list first, so the advice can name the model's largest context.
    let max = client
        .model_info("openai/gpt-oss-20b")
        .await
        .unwrap()
        .and_then(|m| m.max_context_length)
        .and_then(|max| u32::try_from(max).ok());
    let err = client.chat(chat(&"word ".repeat(5000))).await.unwrap_err();
    match &err {
        LmStudioError::ContextOverflow {
            prompt_tokens,
            context_length,
            max_context_length,
            status,
            message,
            ..
        } => {
            assert_eq!(*status, StatusCode::BAD_REQUEST);
            assert!(
                prompt_tokens.is_some_and(|p| p >= 5000),
                "{prompt_tokens:?}"
            );
            assert!(
                context_length.is_some_and(|c| c < 5000),
                "{context_length:?}"
            );
            assert_eq!(*max_context_length, max);
            assert!(
                message.contains("greater than the context length"),
                "{message}"
            );
        }
        other => panic!("expected ContextOverflow, got {other:?}"),
    }
    assert!(err.is_context_overflow() && !err.is_not_responding());
    assert_eq!(
        std::io::Error::from(err.clone()).kind(),
        std::io::ErrorKind::InvalidInput
    );
    let text = err.to_string();
    assert!(
        text.contains("openai/gpt-oss-20b") && text.contains("Shorten"),
        "{text}"
    );
    if let Some(max) = max {
        assert!(text.contains(&format!("up to {max} tokens")), "{text}");
    }
}

#[tokio::test]
async fn a_stream_that_overflows_the_context_is_a_context_overflow() {
    let emulator = loaded().start_fresh().await.unwrap();
    let client = emulator_client(&emulator_config(&emulator));
    let err = match client.chat_stream(chat(&"word ".repeat(5000))).await {
        Err(err) => err,
        Ok(stream) => stream.into_summary().await.unwrap_err(),
    };
    assert!(err.is_context_overflow(), "{err:?}");
}

/// A server that answers every chat with `status` and `body`.
async fn chat_answering(status: usize, content_type: &str, body: &str) -> mockito::Server {
    let mut server = crate::support::server().await;
    server
        .mock("POST", "/v1/chat/completions")
        .with_status(status)
        .with_header("content-type", content_type)
        .with_body(body)
        .create_async()
        .await;
    server
}

#[tokio::test]
async fn llama_cpps_context_error_is_a_context_overflow_with_its_numbers() {
    // llama.cpp's server, checked against the real one (see the real-server suite).
    let body = r#"{"error":{"code":400,"message":"request (6024 tokens) exceeds the available context size (2048 tokens), try increasing it","type":"exceed_context_size_error","n_prompt_tokens":6024,"n_ctx":2048}}"#;
    let server = chat_answering(400, "application/json", body).await;
    let client = LMStudioClient::new(&crate::support::config_for(&server.url())).unwrap();
    let err = client.chat(chat("long")).await.unwrap_err();
    assert!(
        matches!(
            err,
            LmStudioError::ContextOverflow {
                prompt_tokens: Some(6024),
                context_length: Some(2048),
                ..
            }
        ),
        "{err:?}"
    );
}

#[tokio::test]
async fn lm_studios_older_wording_inside_a_stream_is_a_context_overflow() {
    let body = "data: {\"error\":\"Trying to keep the first 5000 tokens when context the overflows. However, the model is loaded with context length of only 4096 tokens, which is not enough.\"}\n\n";
    let server = chat_answering(200, "text/event-stream", body).await;
    let client = LMStudioClient::new(&crate::support::config_for(&server.url())).unwrap();
    let stream = client.chat_stream(chat("long")).await.unwrap();
    let err = stream.into_summary().await.unwrap_err();
    match err {
        LmStudioError::ContextOverflow {
            prompt_tokens,
            status,
            ..
        } => {
            assert_eq!(prompt_tokens, Some(5000));
            assert_eq!(status, StatusCode::OK, "it came inside a 200 stream");
        }
        other => panic!("expected ContextOverflow, got {other:?}"),
    }
}

#[tokio::test]
async fn other_bad_requests_stay_server_errors() {
    let body =
        r#"{"error":{"message":"'messages' field is required","type":"invalid_request_error"}}"#;
    let server = chat_answering(400, "application/json", body).await;
    let client = LMStudioClient::new(&crate::support::config_for(&server.url())).unwrap();
    let err = client.chat(chat("x")).await.unwrap_err();
    assert!(matches!(err, LmStudioError::Server { .. }), "{err:?}");
    assert!(!err.is_context_overflow());
}
