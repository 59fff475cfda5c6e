//! The Anthropic Messages API (`POST /v1/messages`) through the facade against mockito:
//! llama.cpp's real answers (whole and streamed), Anthropic's recorded tool-use and thinking
//! streams, and each behaviour the facade handles: the default model and the token sent,
//! Anthropic's error shape (status or `error` event) and llama.cpp's OpenAI-shaped one keeping
//! their message, LM Studio's role-alternation refusal kept as sent, a context overflow, a
//! stream cut before `message_stop`, broken events and broken tool input, and
//! `count_tokens` (a count from llama.cpp, `Unsupported` from LM Studio's "Unexpected
//! endpoint").

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::support;

use futures_util::StreamExt;
use futures_util::stream::FusedStream;
use mockito::Matcher;
use serde_json::json;
use support::config_for;
use vtcode_lmstudio::http::StatusCode;
use vtcode_lmstudio::proto::anthropic::{
    ContentBlock, ContentDelta, InputMessage, MessagesRequest, StopReason, StreamEvent, Tool,
};
use vtcode_lmstudio::{LMStudioClient, LmStudioError};

const WHOLE: &str = include_str!("../data/messages/messages.json");
const STREAM: &str = include_str!("../data/messages/messages_stream.sse");
const TOOL_STREAM: &str = include_str!("../data/messages/recorded_tool_use_stream.sse");
const THINKING_STREAM: &str = include_str!("../data/messages/fable_stream-a-refusal.sse");
const CUT_TOOL_STREAM: &str = include_str!("../data/messages/incomplete_partial_json_response.txt");
const COUNT: &str = include_str!("../data/messages/count_tokens.json");
const LLAMA_500: &str = include_str!("../data/messages/error_missing_messages_500.json");
const ANTHROPIC_400: &str = include_str!("../data/messages/recorded_error_400.json");

/// Anthropic's wording for two turns of one role in a row (LM Studio validates alternation
/// the same way; the facade keeps whatever message it sends).
const ROLES: &str = r#"{"type":"error","error":{"type":"invalid_request_error","message":"messages: roles must alternate between \"user\" and \"assistant\", but found multiple \"user\" roles in a row"}}"#;

async fn mock_messages(server: &mut mockito::Server, status: usize, body: &str) -> mockito::Mock {
    let content_type = if body.starts_with("event:") {
        "text/event-stream"
    } else {
        "application/json"
    };
    server
        .mock("POST", "/v1/messages")
        .with_status(status)
        .with_header("content-type", content_type)
        .with_body(body)
        .create_async()
        .await
}

fn client(server: &mockito::Server) -> LMStudioClient {
    let mut config = config_for(&server.url());
    config.agent.default_model = Some("gemma-3-270m".into());
    LMStudioClient::new(&config).unwrap()
}

fn request() -> MessagesRequest {
    MessagesRequest::new("", vec![InputMessage::user("Say hello.")]).with_max_tokens(8)
}

#[tokio::test]
async fn a_whole_answer_with_the_default_model_the_token_and_no_stream_flag() {
    let mut server = support::server().await;
    let mock = server
        .mock("POST", "/v1/messages")
        .match_header("authorization", "Bearer sk-lm-messages")
        // `stream` is never sent to the whole form, whatever the request said.
        .match_body(Matcher::Exact(
            r#"{"model":"gemma-3-270m","messages":[{"role":"user","content":"Say hello."}],"max_tokens":8}"#.into(),
        ))
        .with_header("content-type", "application/json")
        .with_body(WHOLE)
        .expect(1)
        .create_async()
        .await;
    let mut config = config_for(&server.url());
    config.agent.default_model = Some("gemma-3-270m".into());
    config.lmstudio.api_token = Some(vtcode_config::ApiToken::new("sk-lm-messages"));
    let message = LMStudioClient::new(&config)
        .unwrap()
        .messages(request().with_stream(true))
        .await
        .unwrap();
    mock.assert_async().await;
    assert_eq!(message.text(), "Say hi.<|im_end|>");
    assert_eq!(message.stop_reason, Some(StopReason::MaxTokens));
    assert_eq!(message.usage.input_tokens, 26);
    assert_eq!(message.usage.output_tokens, 8);
    assert_eq!(message.model, "gemma-3-270m");
}

#[tokio::test]
async fn llama_cpps_stream_yields_every_event_then_a_summary_from_the_deltas() {
    let mut server = support::server().await;
    let mock = server
        .mock("POST", "/v1/messages")
        .match_body(Matcher::Regex(r#""stream":true"#.into()))
        .with_header("content-type", "text/event-stream")
        .with_body(STREAM)
        .expect(1)
        .create_async()
        .await;
    let mut stream = client(&server).messages_stream(request()).await.unwrap();
    let mut kinds = Vec::new();
    let mut deltas = String::new();
    while let Some(event) = stream.next().await {
        let event = event.unwrap();
        if let Some(text) = event.text_delta() {
            deltas.push_str(text);
        }
        kinds.push(event.kind().to_owned());
    }
    mock.assert_async().await;
    assert!(stream.is_terminated());
    assert!(stream.next().await.is_none(), "fused");
    assert_eq!(kinds.len(), 13);
    assert_eq!(
        (kinds[0].as_str(), kinds[1].as_str()),
        ("message_start", "content_block_start")
    );
    assert_eq!(
        &kinds[10..],
        ["content_block_stop", "message_delta", "message_stop"]
    );
    let summary = stream.summary();
    assert!(summary.complete);
    assert_eq!(summary.events, 13);
    assert_eq!(summary.text, deltas);
    assert_eq!(summary.text, "Say hello.\n<|im_");
    assert_eq!(summary.stop_reason, Some(StopReason::MaxTokens));
    let usage = summary.usage.unwrap();
    assert_eq!(
        (
            usage.input_tokens,
            usage.output_tokens,
            usage.cache_read_input_tokens
        ),
        (5, 8, Some(21))
    );
    assert!(summary.message_id.unwrap().starts_with("chatcmpl-"));
    assert_eq!(summary.model.as_deref(), Some("gemma-3-270m"));
    assert_eq!(summary.message.unwrap().text(), "Say hello.\n<|im_");
    assert!(summary.tool_uses.is_empty() && summary.tool_input_errors.is_empty());
}

#[tokio::test]
async fn a_tool_call_is_assembled_from_its_input_json_pieces_and_makes_the_next_turn() {
    let mut server = support::server().await;
    mock_messages(&mut server, 200, TOOL_STREAM).await;
    let weather = Tool::custom(
        "get_weather",
        "The weather",
        json!({"type": "object", "properties": {"location": {"type": "string"}}}),
    );
    let request = request().with_tools(vec![weather]);
    let mut stream = client(&server)
        .messages_stream(request.clone())
        .await
        .unwrap();
    let mut pieces = String::new();
    while let Some(event) = stream.next().await {
        if let StreamEvent::ContentBlockDelta(delta) = event.unwrap()
            && let ContentDelta::InputJsonDelta(piece) = &delta.delta
        {
            pieces.push_str(&piece.partial_json);
        }
    }
    let summary = stream.summary();
    assert_eq!(summary.stop_reason, Some(StopReason::ToolUse));
    assert_eq!(summary.tool_uses.len(), 1);
    let call = &summary.tool_uses[0];
    assert_eq!(call.name, "get_weather");
    assert_eq!(
        call.input,
        serde_json::from_str::<serde_json::Value>(&pieces).unwrap()
    );
    assert_eq!(call.input["location"], "San Francisco, CA");
    assert_eq!(summary.usage.unwrap().output_tokens, 74);
    // The answer and the result make the next request.
    let mut next = request;
    next.messages
        .push(InputMessage::from(summary.message.unwrap()));
    next.messages
        .push(InputMessage::user(vec![ContentBlock::tool_result(
            &call.id, "18 °C",
        )]));
    let body = serde_json::to_value(&next).unwrap();
    assert_eq!(body["messages"][1]["content"][0]["type"], "tool_use");
    assert_eq!(
        body["messages"][2]["content"][0]["tool_use_id"],
        call.id.as_str()
    );
}

#[tokio::test]
async fn thinking_and_its_signature_are_assembled() {
    let mut server = support::server().await;
    mock_messages(&mut server, 200, THINKING_STREAM).await;
    let summary = client(&server)
        .messages_stream(request().with_thinking_budget(1024))
        .await
        .unwrap()
        .into_summary()
        .await
        .unwrap();
    assert!(summary.thinking.starts_with("Simple educational question"));
    assert_eq!(summary.text, "Hi");
    assert_eq!(summary.stop_reason, Some(StopReason::Refusal));
    let message = summary.message.unwrap();
    let ContentBlock::Thinking(thinking) = &message.content[0] else {
        panic!("{:?}", message.content[0]);
    };
    assert!(
        thinking
            .signature
            .as_deref()
            .unwrap()
            .starts_with("c3ludGhldGlj")
    );
}

#[tokio::test]
async fn anthropic_shaped_errors_keep_their_status_and_message() {
    for (status, body, needle) in [
        (400, ROLES, "roles must alternate"),
        (400, ANTHROPIC_400, "unexpected `tool_use_id`"),
        (
            529,
            r#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#,
            "Overloaded",
        ),
    ] {
        for streamed in [false, true] {
            let mut server = support::server().await;
            let mock = server
                .mock("POST", "/v1/messages")
                .with_status(status)
                .with_header("content-type", "application/json")
                .with_body(body)
                .expect(1)
                .create_async()
                .await;
            let client = client(&server);
            let err = if streamed {
                client.messages_stream(request()).await.unwrap_err()
            } else {
                client.messages(request()).await.unwrap_err()
            };
            mock.assert_async().await;
            match &err {
                LmStudioError::Server {
                    status: got,
                    message,
                    ..
                } => {
                    assert_eq!(got.as_u16(), u16::try_from(status).unwrap());
                    assert!(message.contains(needle), "{message}");
                }
                other => panic!("expected Server, got {other:?}"),
            }
            assert!(err.to_string().contains(needle), "{err}");
        }
    }
}

#[tokio::test]
async fn the_role_alternation_refusal_is_sent_once_and_kept_as_lm_studio_said_it() {
    let mut server = support::server().await;
    let mock = server
        .mock("POST", "/v1/messages")
        .with_status(400)
        .with_header("content-type", "application/json")
        .with_body(ROLES)
        .expect(1)
        .create_async()
        .await;
    let request = MessagesRequest::new(
        "",
        vec![InputMessage::user("one"), InputMessage::user("two")],
    );
    let err = client(&server).messages(request).await.unwrap_err();
    mock.assert_async().await;
    let transport = std::error::Error::source(&err)
        .and_then(|s| s.downcast_ref::<vtcode_lmstudio::transport::Error>())
        .unwrap();
    let envelope = transport.envelope().unwrap();
    assert_eq!(envelope.error.kind(), Some("invalid_request_error"));
    assert_eq!(
        envelope.message(),
        r#"messages: roles must alternate between "user" and "assistant", but found multiple "user" roles in a row"#
    );
}

#[tokio::test]
async fn an_anthropic_auth_error_is_an_auth_error() {
    let mut server = support::server().await;
    mock_messages(
        &mut server,
        401,
        r#"{"type":"error","error":{"type":"authentication_error","message":"invalid x-api-key"}}"#,
    )
    .await;
    let err = client(&server).messages(request()).await.unwrap_err();
    assert!(err.is_auth(), "{err:?}");
    assert!(err.to_string().contains("invalid x-api-key"), "{err}");
}

#[tokio::test]
async fn llama_cpps_openai_shaped_error_keeps_its_message() {
    let mut server = support::server().await;
    mock_messages(&mut server, 500, LLAMA_500).await;
    let err = client(&server).messages(request()).await.unwrap_err();
    assert!(
        matches!(&err, LmStudioError::Server { status, message, .. } if *status == StatusCode::INTERNAL_SERVER_ERROR && message == "'messages' is required"),
        "{err:?}"
    );
}

#[tokio::test]
async fn an_error_event_mid_stream_is_an_error_and_what_arrived_is_kept() {
    let cut = STREAM.find("event: content_block_stop").unwrap();
    for error in [
        r#"event: error
data: {"type":"error","error":{"type":"api_error","message":"The model has crashed without additional information."}}"#,
        // llama.cpp's shape, without an event name.
        r#"data: {"error":{"code":500,"message":"The model has crashed without additional information.","type":"server_error"}}"#,
    ] {
        let body = format!("{}{error}\n\n", &STREAM[..cut]);
        let mut server = support::server().await;
        mock_messages(&mut server, 200, &body).await;
        let mut stream = client(&server).messages_stream(request()).await.unwrap();
        let mut events = 0;
        let err = loop {
            match stream.next().await.expect("an error, never a silent end") {
                Ok(_) => events += 1,
                Err(err) => break err,
            }
        };
        assert_eq!(events, 10);
        assert!(
            matches!(&err, LmStudioError::Server { status, message, .. } if *status == StatusCode::OK && message == "The model has crashed without additional information."),
            "{err:?}"
        );
        assert!(stream.next().await.is_none());
        let summary = stream.summary();
        assert!(!summary.complete && summary.message.is_none());
        assert_eq!(summary.text, "Say hello.\n<|im_", "what arrived is kept");
    }
}

#[tokio::test]
async fn a_context_overflow_is_context_overflow_whole_streamed_and_mid_stream() {
    let llama = r#"{"error":{"code":400,"message":"request (3015 tokens) exceeds the available context size (2048 tokens), try increasing it","type":"exceed_context_size_error","n_prompt_tokens":3015,"n_ctx":2048}}"#;
    for streamed in [false, true] {
        let mut server = support::server().await;
        mock_messages(&mut server, 400, llama).await;
        let client = client(&server);
        let err = if streamed {
            client.messages_stream(request()).await.unwrap_err()
        } else {
            client.messages(request()).await.unwrap_err()
        };
        assert!(
            matches!(&err, LmStudioError::ContextOverflow { prompt_tokens: Some(3015), context_length: Some(2048), model, .. } if model == "gemma-3-270m"),
            "{err:?}"
        );
    }
    // LM Studio's wording, as an Anthropic error event inside a 200 stream.
    let body = format!(
        "event: error\ndata: {}\n\n",
        json!({"type":"error","error":{"type":"invalid_request_error","message":"The number of tokens to keep from the initial prompt is greater than the context length (n_keep: 13055>= n_ctx: 4096). Try to load the model with a larger context length, or provide a shorter input."}})
    );
    let mut server = support::server().await;
    mock_messages(&mut server, 200, &body).await;
    let err = client(&server)
        .messages_stream(request())
        .await
        .unwrap()
        .into_summary()
        .await
        .unwrap_err();
    assert!(err.is_context_overflow(), "{err:?}");
    // The same, as an `error` string (LM Studio's shape in a stream).
    let text = "The number of tokens to keep from the initial prompt is greater than the context length (n_keep: 13055>= n_ctx: 4096).";
    for data in [
        json!({ "error": text }),
        json!({"type":"error","error": text}),
    ] {
        let body = format!("event: error\ndata: {data}\n\n");
        let mut server = support::server().await;
        mock_messages(&mut server, 200, &body).await;
        let err = client(&server)
            .messages_stream(request())
            .await
            .unwrap()
            .into_summary()
            .await
            .unwrap_err();
        assert!(
            matches!(
                err,
                LmStudioError::ContextOverflow {
                    prompt_tokens: Some(13055),
                    context_length: Some(4096),
                    ..
                }
            ),
            "{data}: {err:?}"
        );
    }
}

#[tokio::test]
async fn a_stream_cut_before_message_stop_ended_early() {
    for cut_at in ["event: message_stop", "event: content_block_delta"] {
        let cut = STREAM.rfind(cut_at).unwrap();
        let mut server = support::server().await;
        mock_messages(&mut server, 200, &STREAM[..cut]).await;
        let mut stream = client(&server).messages_stream(request()).await.unwrap();
        let items: Vec<_> = (&mut stream).collect().await;
        assert!(
            matches!(
                items.last().unwrap(),
                Err(LmStudioError::StreamEndedEarly { .. })
            ),
            "{:?}",
            items.last()
        );
        assert!(items[..items.len() - 1].iter().all(Result::is_ok));
        let summary = stream.summary();
        assert!(!summary.complete && summary.message.is_none());
        assert!(summary.text.starts_with("Say hello."));
    }
}

#[tokio::test]
async fn events_that_break_the_protocol_are_invalid_json() {
    // A delta for block 3, which never started.
    let body = STREAM.replacen(r#""index":0,"delta""#, r#""index":3,"delta""#, 1);
    let mut server = support::server().await;
    mock_messages(&mut server, 200, &body).await;
    let err = client(&server)
        .messages_stream(request())
        .await
        .unwrap()
        .into_summary()
        .await
        .unwrap_err();
    assert!(
        matches!(&err, LmStudioError::InvalidJson { detail, .. } if detail.contains("content block 3")),
        "{err:?}"
    );
    assert!(err.to_string().starts_with("JSON parse error: "));
}

#[tokio::test]
async fn a_tool_input_that_is_not_json_is_reported_not_run() {
    let body = TOOL_STREAM.replacen(r#"units\": \"f\"}"#, r#"units\": \"f\""#, 1);
    assert_ne!(body, TOOL_STREAM);
    let mut server = support::server().await;
    mock_messages(&mut server, 200, &body).await;
    let summary = client(&server)
        .messages_stream(request())
        .await
        .unwrap()
        .into_summary()
        .await
        .unwrap();
    assert!(summary.complete);
    assert_eq!(summary.tool_uses.len(), 1);
    assert_eq!(
        summary.tool_uses[0].input,
        json!({}),
        "the input it started with"
    );
    let error = &summary.tool_input_errors[0];
    assert_eq!((error.index, error.name.as_str()), (0, "get_weather"));
    assert_eq!(error.id, summary.tool_uses[0].id);
    assert!(error.partial_json.ends_with(r#""units": "f""#), "{error:?}");
    assert!(!error.error.is_empty());
}

#[tokio::test]
async fn a_tool_input_cut_by_max_tokens_is_reported_not_run() {
    let mut server = support::server().await;
    mock_messages(&mut server, 200, CUT_TOOL_STREAM).await;
    let summary = client(&server)
        .messages_stream(request())
        .await
        .unwrap()
        .into_summary()
        .await
        .unwrap();
    assert!(summary.complete, "message_stop completes it");
    assert_eq!(summary.stop_reason, Some(StopReason::MaxTokens));
    assert!(
        summary
            .text
            .starts_with("I'll create a comprehensive tax guide")
    );
    assert_eq!(summary.tool_uses.len(), 1);
    assert_eq!(summary.tool_uses[0].input, json!({}));
    let error = &summary.tool_input_errors[0];
    assert_eq!((error.index, error.name.as_str()), (1, "make_file"));
    assert!(error.partial_json.ends_with("\"Filing taxes"), "{error:?}");
}

#[tokio::test]
async fn count_tokens_from_llama_cpp_and_unsupported_on_lm_studio() {
    let mut server = support::server().await;
    let mock = server
        .mock("POST", "/v1/messages/count_tokens")
        // No `max_tokens` and no `stream`: the route takes neither.
        .match_body(Matcher::Exact(
            r#"{"model":"gemma-3-270m","messages":[{"role":"user","content":"Say hello."}]}"#
                .into(),
        ))
        .with_header("content-type", "application/json")
        .with_body(COUNT)
        .expect(1)
        .create_async()
        .await;
    let count = client(&server)
        .count_message_tokens(request().with_stream(true))
        .await
        .unwrap();
    mock.assert_async().await;
    assert_eq!(count.input_tokens, 26);

    let mut server = support::server().await;
    server
        .mock("POST", "/v1/messages/count_tokens")
        .with_header("content-type", "application/json")
        .with_body(support::unexpected_endpoint(
            "POST",
            "/v1/messages/count_tokens",
        ))
        .create_async()
        .await;
    let err = client(&server)
        .count_message_tokens(request())
        .await
        .unwrap_err();
    match &err {
        LmStudioError::Unsupported {
            operation, reason, ..
        } => {
            assert_eq!(operation, "count_message_tokens");
            assert!(reason.contains("Unexpected endpoint or method"), "{reason}");
        }
        other => panic!("expected Unsupported, got {other:?}"),
    }
    assert!(!err.to_string().starts_with("JSON parse error"));
}

#[tokio::test]
async fn count_tokens_keeps_a_real_error() {
    let mut server = support::server().await;
    server
        .mock("POST", "/v1/messages/count_tokens")
        .with_status(400)
        .with_header("content-type", "application/json")
        .with_body(ROLES)
        .create_async()
        .await;
    let err = client(&server)
        .count_message_tokens(request())
        .await
        .unwrap_err();
    assert!(
        matches!(&err, LmStudioError::Server { message, .. } if message.contains("roles must alternate")),
        "{err:?}"
    );
}
