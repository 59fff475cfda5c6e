//! The Responses API (`POST /v1/responses`) through the facade against mockito: llama.cpp's
//! real answers (whole and streamed: text, reasoning, a function call), and each LM Studio
//! behaviour the facade handles: a refused tool type named from the request, `text.format`
//! sent by default, errors inside a 200 stream (an `error` event, a bare 500-shaped JSON),
//! `previous_response_not_found` surfaced as sent and not retried, a context overflow.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::support;

use futures_util::StreamExt;
use futures_util::stream::FusedStream;
use mockito::Matcher;
use serde_json::json;
use support::config_for;
use vtcode_lmstudio::http::StatusCode;
use vtcode_lmstudio::proto::responses::{
    Item, ResponseStatus, ResponseStreamEvent, ResponsesRequest, ResponsesTool, TextFormat,
};
use vtcode_lmstudio::{LMStudioClient, LmStudioError};

const TEXT: &str = include_str!("../data/responses/text.body");
const TEXT_STREAM: &str = include_str!("../data/responses/text_stream.body");
const REASONING_STREAM: &str = include_str!("../data/responses/reasoning_stream.body");
const CALL_STREAM: &str = include_str!("../data/responses/function_call_stream.body");
const OVERFLOW: &str = include_str!("../data/responses/error_context_overflow_stream.body");

/// LM Studio's answer to a tool type it does not take (BT reports, 0.3.x-0.4.x).
const TOOL_REFUSED: &str = r#"{"error":{"message":"Invalid discriminator value. Expected 'function' | 'mcp'","type":"invalid_request_error","param":"tools.6.type","code":"invalid_union_discriminator"}}"#;
/// LM Studio 0.3.31's answer to `previous_response_id` with `stream: true`.
const PREVIOUS_NOT_FOUND: &str = r#"{"error":{"message":"Previous response with id 'resp_abc' not found.","type":"invalid_request_error","param":"previous_response_id","code":"previous_response_not_found"}}"#;

async fn mock_responses(server: &mut mockito::Server, status: usize, body: &str) -> mockito::Mock {
    let content_type = if body.starts_with("event:") {
        "text/event-stream"
    } else {
        "application/json"
    };
    server
        .mock("POST", "/v1/responses")
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

fn request() -> ResponsesRequest {
    ResponsesRequest::new("", "Say hello.").with_max_output_tokens(8)
}

/// Seven tools, the last (index 6) of a type LM Studio refuses.
fn seven_tools() -> Vec<ResponsesTool> {
    let mut tools: Vec<ResponsesTool> = (0..6)
        .map(|i| ResponsesTool::function(format!("tool_{i}"), "a tool", json!({"type":"object"})))
        .collect();
    tools.push(serde_json::from_value(json!({"type":"custom","name":"apply_patch"})).unwrap());
    tools
}

#[tokio::test]
async fn a_whole_answer_with_the_default_model_and_a_text_format() {
    let mut server = support::server().await;
    let mock = server
        .mock("POST", "/v1/responses")
        .match_body(Matcher::AllOf(vec![
            Matcher::Regex(r#""model":"gemma-3-270m""#.into()),
            Matcher::Regex(r#""text":\{"format":\{"type":"text"\}\}"#.into()),
        ]))
        .with_header("content-type", "application/json")
        .with_body(TEXT)
        .expect(1)
        .create_async()
        .await;
    let response = client(&server).responses(request()).await.unwrap();
    mock.assert_async().await;
    assert_eq!(response.status, Some(ResponseStatus::Completed));
    assert_eq!(response.output_text(), "Say hello.<|im_end|>");
    assert_eq!(response.usage.unwrap().total_tokens, 34);
}

#[tokio::test]
async fn a_format_the_caller_set_is_sent_as_set() {
    let mut server = support::server().await;
    let mock = server
        .mock("POST", "/v1/responses")
        .match_body(Matcher::AllOf(vec![
            Matcher::Regex(r#""format":\{"type":"json_schema","name":"obj""#.into()),
            Matcher::Regex(r#""stream":true"#.into()),
        ]))
        .with_header("content-type", "text/event-stream")
        .with_body(TEXT_STREAM)
        .expect(1)
        .create_async()
        .await;
    let request =
        request().with_text_format(TextFormat::json_schema("obj", json!({"type":"object"})));
    let summary = client(&server)
        .responses_stream(request)
        .await
        .unwrap()
        .into_summary()
        .await
        .unwrap();
    mock.assert_async().await;
    assert!(summary.complete);
}

#[tokio::test]
async fn a_text_stream_yields_every_event_then_a_summary_from_the_deltas() {
    let mut server = support::server().await;
    mock_responses(&mut server, 200, TEXT_STREAM).await;
    let mut stream = client(&server).responses_stream(request()).await.unwrap();
    let mut kinds = Vec::new();
    let mut deltas = String::new();
    while let Some(event) = stream.next().await {
        let event = event.unwrap();
        if let ResponseStreamEvent::OutputTextDelta(delta) = &event {
            deltas.push_str(&delta.delta);
        }
        kinds.push(event.kind().to_owned());
    }
    assert!(stream.is_terminated());
    assert!(stream.next().await.is_none(), "fused");
    assert_eq!(kinds.len(), 16);
    assert_eq!(kinds.first().map(String::as_str), Some("response.created"));
    assert_eq!(kinds.last().map(String::as_str), Some("response.completed"));
    let summary = stream.summary();
    assert!(summary.complete);
    assert_eq!(summary.events, 16);
    assert_eq!(summary.text, deltas);
    assert_eq!(summary.text, "<|im_end|>\n<");
    assert_eq!(summary.status, Some(ResponseStatus::Completed));
    assert!(summary.response_id.unwrap().starts_with("resp_"));
    assert_eq!(summary.model.as_deref(), Some("gemma-3-270m"));
    assert_eq!(summary.usage.unwrap().output_tokens, 8);
    assert_eq!(summary.response.unwrap().output_text(), "<|im_end|>\n<");
}

#[tokio::test]
async fn reasoning_and_a_function_call_are_assembled() {
    let mut server = support::server().await;
    mock_responses(&mut server, 200, REASONING_STREAM).await;
    let summary = client(&server)
        .responses_stream(request())
        .await
        .unwrap()
        .into_summary()
        .await
        .unwrap();
    assert_eq!(summary.reasoning, "2 + 2.\n");
    assert_eq!(summary.text, "10");

    let mut server = support::server().await;
    mock_responses(&mut server, 200, CALL_STREAM).await;
    let summary = client(&server)
        .responses_stream(request())
        .await
        .unwrap()
        .into_summary()
        .await
        .unwrap();
    assert_eq!(summary.function_calls.len(), 1);
    let call = &summary.function_calls[0];
    assert_eq!(call.name, "get_weather");
    assert_eq!(call.arguments_json().unwrap(), json!({"city": "Paris"}));
    // The answer to send back with the next request.
    let next = Item::function_call_output(&call.call_id, "sunny");
    assert!(matches!(next, Item::FunctionCallOutput(ref o) if o.call_id.starts_with("call_")));
}

#[tokio::test]
async fn a_refused_tool_type_is_named_from_the_request() {
    for streamed in [false, true] {
        let mut server = support::server().await;
        let mock = server
            .mock("POST", "/v1/responses")
            .with_status(400)
            .with_header("content-type", "application/json")
            .with_body(TOOL_REFUSED)
            .expect(1)
            .create_async()
            .await;
        let client = client(&server);
        let request = request().with_tools(seven_tools());
        let err = if streamed {
            client.responses_stream(request).await.unwrap_err()
        } else {
            client.responses(request).await.unwrap_err()
        };
        mock.assert_async().await;
        match &err {
            LmStudioError::UnsupportedTool {
                index,
                tool_type,
                tool_name,
                status,
                message,
                ..
            } => {
                assert_eq!(*index, 6);
                assert_eq!(tool_type, "custom");
                assert_eq!(tool_name.as_deref(), Some("apply_patch"));
                assert_eq!(*status, StatusCode::BAD_REQUEST);
                assert!(message.contains("Expected 'function' | 'mcp'"), "{message}");
            }
            other => panic!("expected UnsupportedTool, got {other:?}"),
        }
        let text = err.to_string();
        for needle in [
            "tool 6",
            "`custom`",
            "`apply_patch`",
            "strip_unsupported_tools",
        ] {
            assert!(text.contains(needle), "{text} lacks {needle}");
        }
        assert_eq!(
            std::io::Error::from(err).kind(),
            std::io::ErrorKind::InvalidInput
        );
    }
}

#[tokio::test]
async fn a_refusal_naming_no_tool_of_the_request_stays_a_server_error() {
    let mut server = support::server().await;
    mock_responses(&mut server, 400, TOOL_REFUSED).await;
    // No tools were sent: the index names nothing, the server's message is kept as it came.
    let err = client(&server).responses(request()).await.unwrap_err();
    assert!(
        matches!(&err, LmStudioError::Server { message, .. } if message.starts_with("Invalid discriminator value")),
        "{err:?}"
    );
}

#[tokio::test]
async fn an_error_event_mid_stream_is_an_error_with_its_message() {
    let cut = TEXT_STREAM
        .find("event: response.output_text.done")
        .unwrap();
    let body = format!(
        "{}event: error\ndata: {}\n\n",
        &TEXT_STREAM[..cut],
        r#"{"type":"error","code":"server_error","message":"The model has crashed without additional information.","param":null}"#
    );
    let mut server = support::server().await;
    mock_responses(&mut server, 200, &body).await;
    let mut stream = client(&server).responses_stream(request()).await.unwrap();
    let mut events = 0;
    let err = loop {
        match stream.next().await.expect("an error, never a silent end") {
            Ok(event) => {
                assert!(!matches!(event, ResponseStreamEvent::Other(_)));
                events += 1;
            }
            Err(err) => break err,
        }
    };
    assert_eq!(events, 12);
    match &err {
        LmStudioError::Server {
            status, message, ..
        } => {
            assert_eq!(*status, StatusCode::OK);
            assert_eq!(
                message,
                "The model has crashed without additional information."
            );
        }
        other => panic!("expected Server, got {other:?}"),
    }
    assert!(stream.next().await.is_none());
    let summary = stream.summary();
    assert!(!summary.complete);
    assert_eq!(summary.text, "<|im_end|>\n<", "what arrived is kept");
}

#[tokio::test]
async fn a_bare_500_shaped_json_mid_stream_is_an_error_with_its_message() {
    let cut = TEXT_STREAM
        .find("event: response.output_text.delta")
        .unwrap();
    let peg = r#"{"code":500,"message":"The model produced output that does not match the expected peg-native format","type":"server_error"}"#;
    for body in [
        format!("{}data: {peg}\n\n", &TEXT_STREAM[..cut]),
        format!("{}event: error\ndata: {peg}\n\n", &TEXT_STREAM[..cut]),
    ] {
        let mut server = support::server().await;
        mock_responses(&mut server, 200, &body).await;
        let err = client(&server)
            .responses_stream(request())
            .await
            .unwrap()
            .into_summary()
            .await
            .unwrap_err();
        assert!(
            matches!(&err, LmStudioError::Server { message, .. } if message.contains("peg-native format")),
            "{err:?}"
        );
    }
}

#[tokio::test]
async fn previous_response_not_found_comes_back_as_sent_and_is_not_retried() {
    for streamed in [false, true] {
        let mut server = support::server().await;
        let mock = server
            .mock("POST", "/v1/responses")
            .match_body(Matcher::Regex(
                r#""previous_response_id":"resp_abc""#.into(),
            ))
            .with_status(400)
            .with_header("content-type", "application/json")
            .with_body(PREVIOUS_NOT_FOUND)
            .expect(1)
            .create_async()
            .await;
        let client = client(&server);
        let request = request().with_previous_response_id("resp_abc");
        let err = if streamed {
            client.responses_stream(request).await.unwrap_err()
        } else {
            client.responses(request).await.unwrap_err()
        };
        mock.assert_async().await;
        match &err {
            LmStudioError::Server {
                status, message, ..
            } => {
                assert_eq!(*status, StatusCode::BAD_REQUEST);
                assert_eq!(message, "Previous response with id 'resp_abc' not found.");
            }
            other => panic!("expected Server, got {other:?}"),
        }
        let transport = std::error::Error::source(&err)
            .and_then(|s| s.downcast_ref::<vtcode_lmstudio::transport::Error>())
            .unwrap();
        assert_eq!(
            transport
                .envelope()
                .unwrap()
                .error
                .code()
                .map(ToString::to_string)
                .as_deref(),
            Some("previous_response_not_found")
        );
    }
}

#[tokio::test]
async fn previous_response_not_found_inside_a_stream_is_an_error_too() {
    let body = format!(
        "event: error\ndata: {}\n\n",
        r#"{"type":"error","error":{"type":"invalid_request_error","code":"previous_response_not_found","message":"Previous response with id 'resp_abc' not found."}}"#
    );
    let mut server = support::server().await;
    mock_responses(&mut server, 200, &body).await;
    let err = client(&server)
        .responses_stream(request().with_previous_response_id("resp_abc"))
        .await
        .unwrap()
        .into_summary()
        .await
        .unwrap_err();
    assert!(
        matches!(&err, LmStudioError::Server { message, .. } if message == "Previous response with id 'resp_abc' not found."),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_context_overflow_is_context_overflow_whole_streamed_and_mid_stream() {
    for streamed in [false, true] {
        let mut server = support::server().await;
        mock_responses(&mut server, 400, OVERFLOW).await;
        let client = client(&server);
        let err = if streamed {
            client.responses_stream(request()).await.unwrap_err()
        } else {
            client.responses(request()).await.unwrap_err()
        };
        match &err {
            LmStudioError::ContextOverflow {
                prompt_tokens,
                context_length,
                model,
                ..
            } => {
                assert_eq!((*prompt_tokens, *context_length), (Some(3015), Some(2048)));
                assert_eq!(model, "gemma-3-270m");
            }
            other => panic!("expected ContextOverflow, got {other:?}"),
        }
        assert!(err.is_context_overflow());
    }
    // LM Studio's wording, as an error event inside a 200 stream.
    let body = format!(
        "event: error\ndata: {}\n\n",
        json!({"type":"error","error":{"type":"invalid_request_error","message":"The number of tokens to keep from the initial prompt is greater than the context length (n_keep: 13055>= n_ctx: 4096). Try to load the model with a larger context length, or provide a shorter input."}})
    );
    let mut server = support::server().await;
    mock_responses(&mut server, 200, &body).await;
    let err = client(&server)
        .responses_stream(request())
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
        "{err:?}"
    );
}

#[tokio::test]
async fn an_overflow_sent_as_an_error_string_in_a_stream_is_context_overflow() {
    let text = "The number of tokens to keep from the initial prompt is greater than the context length (n_keep: 13055>= n_ctx: 4096). Try to load the model with a larger context length, or provide a shorter input.";
    for data in [
        json!({ "error": text }),
        json!({"type":"error","error": text}),
    ] {
        let body = format!("event: error\ndata: {data}\n\n");
        let mut server = support::server().await;
        mock_responses(&mut server, 200, &body).await;
        let err = client(&server)
            .responses_stream(request())
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
async fn a_refused_param_naming_a_function_tool_is_no_unsupported_tool() {
    let mut server = support::server().await;
    mock_responses(&mut server, 400, TOOL_REFUSED).await;
    let tools: Vec<ResponsesTool> = (0..7)
        .map(|i| ResponsesTool::function(format!("tool_{i}"), "a tool", json!({"type":"object"})))
        .collect();
    let err = client(&server)
        .responses(request().with_tools(tools))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, LmStudioError::Server { message, .. } if message.contains("Expected 'function' | 'mcp'")),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_stream_without_a_terminal_event_ended_early() {
    let cut = TEXT_STREAM.find("event: response.completed").unwrap();
    let mut server = support::server().await;
    mock_responses(&mut server, 200, &TEXT_STREAM[..cut]).await;
    let mut stream = client(&server).responses_stream(request()).await.unwrap();
    let items: Vec<_> = (&mut stream).collect().await;
    assert_eq!(items.len(), 16, "15 events, then the error");
    assert!(
        matches!(
            items.last().unwrap(),
            Err(LmStudioError::StreamEndedEarly { .. })
        ),
        "{:?}",
        items.last()
    );
    let summary = stream.summary();
    assert!(!summary.complete);
    assert_eq!(summary.text, "<|im_end|>\n<");
    assert!(summary.response.is_none());
}

#[tokio::test]
async fn the_token_is_sent() {
    let mut server = support::server().await;
    let mock = server
        .mock("POST", "/v1/responses")
        .match_header("authorization", "Bearer sk-lm-responses")
        .with_header("content-type", "application/json")
        .with_body(TEXT)
        .expect(1)
        .create_async()
        .await;
    let mut config = config_for(&server.url());
    config.lmstudio.api_token = Some(vtcode_config::ApiToken::new("sk-lm-responses"));
    let client = LMStudioClient::new(&config).unwrap();
    client
        .responses(ResponsesRequest::new("m", "hi"))
        .await
        .unwrap();
    mock.assert_async().await;
}
