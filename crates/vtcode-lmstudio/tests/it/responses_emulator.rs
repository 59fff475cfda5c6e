//! The Responses API through the facade against the emulator, both profiles: text, reasoning,
//! a function call answered with its output, a refused tool type (and the helper that strips
//! it), errors injected mid-stream, an overflow, and `previous_response_not_found` sent once.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::support;

use lmstudio_testkit::{Emulator, Profile, ReasoningField};
use serde_json::json;
use vtcode_lmstudio::proto::responses::{
    Item, ResponseStatus, ResponsesInput, ResponsesRequest, ResponsesTool,
};
use vtcode_lmstudio::{LmStudioError, strip_unsupported_tools};

const MODEL: &str = "openai/gpt-oss-20b";

use support::{emulator_client as client_for, loaded_emulator as loaded};

fn shell_tool() -> ResponsesTool {
    ResponsesTool::function(
        "shell",
        "Run a command",
        json!({"type": "object", "properties": {"command": {"type": "string"}}}),
    )
}

#[tokio::test]
async fn text_whole_and_streamed_in_both_profiles() {
    for profile in [Profile::V0_3, Profile::V0_4] {
        let emulator = loaded(Emulator::builder().profile(profile)).await;
        let client = client_for(&emulator);
        // No model and no text format given: the client fills in both (0.4 requires the format).
        let request = ResponsesRequest::new("", "Provide a prime number less than 50");
        let whole = client.responses(request.clone()).await.unwrap();
        assert_eq!(whole.status, Some(ResponseStatus::Completed), "{profile:?}");
        assert!(whole.output_text().contains("prime number"));
        assert_eq!(whole.model, MODEL);
        let summary = client
            .responses_stream(request)
            .await
            .unwrap()
            .into_summary()
            .await
            .unwrap();
        assert!(summary.complete);
        assert_eq!(summary.text, whole.output_text());
        assert_eq!(summary.usage, whole.usage);
        assert_eq!(summary.model.as_deref(), Some(MODEL));
        let sent = emulator.requests();
        let body: serde_json::Value = serde_json::from_str(&sent.last().unwrap().body).unwrap();
        assert_eq!(body["text"]["format"]["type"], "text");
        assert_eq!(body["stream"], true);
    }
}

#[tokio::test]
async fn reasoning_is_assembled_from_its_deltas() {
    let emulator = loaded(Emulator::builder().reasoning(ReasoningField::Reasoning)).await;
    let client = client_for(&emulator);
    let request = ResponsesRequest::new(MODEL, "Why is the sky blue?");
    let whole = client.responses(request.clone()).await.unwrap();
    let summary = client
        .responses_stream(request)
        .await
        .unwrap()
        .into_summary()
        .await
        .unwrap();
    assert!(!summary.reasoning.is_empty());
    assert_eq!(summary.reasoning, whole.reasoning_text());
    assert_eq!(summary.text, whole.output_text());
}

#[tokio::test]
async fn a_function_call_and_its_output_make_a_turn() {
    let emulator = loaded(Emulator::builder()).await;
    let client = client_for(&emulator);
    let request = ResponsesRequest::new(MODEL, vec![Item::user("run shell ls")])
        .with_tools(vec![shell_tool()]);
    let summary = client
        .responses_stream(request.clone())
        .await
        .unwrap()
        .into_summary()
        .await
        .unwrap();
    assert_eq!(summary.function_calls.len(), 1);
    let call = summary.function_calls[0].clone();
    assert_eq!(call.name, "shell");
    assert!(call.arguments_json().unwrap()["command"].is_string());
    let mut next = request;
    let ResponsesInput::Items(items) = &mut next.input else {
        unreachable!()
    };
    items.push(Item::from(call.clone()));
    items.push(Item::function_call_output(&call.call_id, "a.txt b.txt"));
    let answer = client.responses(next).await.unwrap();
    assert!(answer.function_calls().is_empty());
    assert!(!answer.output_text().is_empty());
}

#[tokio::test]
async fn a_refused_tool_is_named_and_stripping_it_lets_the_request_through() {
    let emulator = loaded(Emulator::builder()).await;
    let client = client_for(&emulator);
    let web_search: ResponsesTool = serde_json::from_value(json!({"type": "web_search"})).unwrap();
    let mut request = ResponsesRequest::new(MODEL, "run shell ls").with_tools(vec![
        shell_tool(),
        ResponsesTool::mcp("hf", "https://hf.co/mcp"),
        web_search,
    ]);
    let err = client.responses_stream(request.clone()).await.unwrap_err();
    assert!(
        matches!(&err, LmStudioError::UnsupportedTool { index: 2, tool_type, tool_name: None, .. } if tool_type == "web_search"),
        "{err:?}"
    );
    let removed = strip_unsupported_tools(&mut request);
    assert_eq!(removed.len(), 1);
    let answer = client.responses(request).await.unwrap();
    assert_eq!(answer.function_calls()[0].name, "shell");
}

#[tokio::test]
async fn errors_injected_mid_stream_keep_their_message() {
    for (builder, needle) in [
        (
            Emulator::builder().inject_stream_error_after(4),
            "The model has crashed",
        ),
        (
            Emulator::builder().inject_bare_stream_error_after(4),
            "peg-native format",
        ),
    ] {
        let emulator = loaded(builder).await;
        let client = client_for(&emulator);
        let err = client
            .responses_stream(ResponsesRequest::new(MODEL, "hello there"))
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
                assert!(message.contains(needle), "{message}");
            }
            other => panic!("expected Server, got {other:?}"),
        }
    }
}

#[tokio::test]
async fn a_stream_dropped_before_its_terminal_event_ended_early() {
    let emulator = loaded(Emulator::builder().drop_stream_after(6)).await;
    let client = client_for(&emulator);
    let err = client
        .responses_stream(ResponsesRequest::new(MODEL, "hello there"))
        .await
        .unwrap()
        .into_summary()
        .await
        .unwrap_err();
    assert!(
        matches!(err, LmStudioError::StreamEndedEarly { .. }),
        "{err:?}"
    );
}

#[tokio::test]
async fn an_overflow_is_context_overflow_with_the_models_largest_context() {
    let emulator = loaded(Emulator::builder().default_context_length(64)).await;
    let client = client_for(&emulator);
    client.models().await.unwrap();
    let err = client
        .responses_stream(ResponsesRequest::new(MODEL, "word ".repeat(400)))
        .await
        .unwrap_err();
    match &err {
        LmStudioError::ContextOverflow {
            context_length,
            max_context_length,
            ..
        } => {
            assert_eq!(*context_length, Some(64));
            assert!(max_context_length.is_some());
        }
        other => panic!("expected ContextOverflow, got {other:?}"),
    }
}

#[tokio::test]
async fn previous_response_not_found_is_returned_once_as_sent() {
    let emulator = loaded(Emulator::builder().profile(Profile::V0_3)).await;
    let client = client_for(&emulator);
    let first = client
        .responses(ResponsesRequest::new(MODEL, "hi"))
        .await
        .unwrap();
    let before = emulator.request_count("POST", "/v1/responses");
    let err = client
        .responses_stream(ResponsesRequest::new(MODEL, "more").with_previous_response_id(&first.id))
        .await
        .unwrap_err();
    assert_eq!(
        emulator.request_count("POST", "/v1/responses"),
        before + 1,
        "not retried"
    );
    assert!(
        matches!(&err, LmStudioError::Server { status, message, .. } if *status == 400 && message == &format!("Previous response with id '{}' not found.", first.id)),
        "{err:?}"
    );
    // Not streamed, the same continuation works.
    let next = client
        .responses(ResponsesRequest::new(MODEL, "more").with_previous_response_id(&first.id))
        .await
        .unwrap();
    assert_eq!(
        next.previous_response_id.as_deref(),
        Some(first.id.as_str())
    );
}
