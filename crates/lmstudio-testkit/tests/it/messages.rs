//! `/v1/messages` (Anthropic's Messages API): served by the 0.4 profile only (0.3 answers the
//! 200 "Unexpected endpoint" body, as real 0.3 does); whole answers (text, thinking, a
//! `tool_use` call, `max_tokens`), the named event stream in Anthropic's order, parsed and
//! assembled with the proto crate's types, an error injected mid-stream, the strict role
//! check, `x-api-key` auth, and no `count_tokens`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::support;

use lmstudio_proto::anthropic::{
    ContentBlock, ErrorResponse, ErrorType, MessageAssembler, MessagesResponse, StopReason,
    StreamEvent,
};
use lmstudio_testkit::{CatalogModel, Emulator, EmulatorBuilder, Profile, ReasoningField};
use serde_json::{Value, json};
use support::post;

const KEY: &str = "openai/gpt-oss-20b";

async fn start(builder: EmulatorBuilder) -> Emulator {
    builder
        .model(CatalogModel::gpt_oss_20b().loaded(true))
        .start()
        .await
        .unwrap()
}

fn body(extra: Value) -> Value {
    let mut body = json!({
        "model": KEY,
        "max_tokens": 256,
        "messages": [{ "role": "user", "content": "Provide a prime number less than 50" }],
    });
    body.as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    body
}

/// The stream's events, each parsed by the proto crate (never `Other`, SSE name = `type`),
/// and the message assembled from them.
fn events(response: &support::Response) -> (Vec<StreamEvent>, MessagesResponse) {
    let mut assembler = MessageAssembler::new();
    let mut events = Vec::new();
    for (name, data) in response.sse_events() {
        let event = StreamEvent::from_sse(None, &data).unwrap();
        assert!(!matches!(event, StreamEvent::Other(_)), "{data}");
        assert_eq!(name.as_deref(), Some(event.kind()), "{data}");
        assembler.push(&event).unwrap();
        events.push(event);
    }
    assert!(!response.body.contains("[DONE]"));
    (events, assembler.finish().unwrap())
}

fn kinds(events: &[StreamEvent]) -> Vec<&str> {
    events.iter().map(StreamEvent::kind).collect()
}

#[tokio::test]
async fn text_whole_and_streamed_on_0_4() {
    let emulator = start(Emulator::builder()).await;
    let response = post(&emulator.url(), "/v1/messages", &body(json!({}))).await;
    assert_eq!(response.status, 200);
    let whole: MessagesResponse = serde_json::from_value(response.json()).unwrap();
    assert!(whole.id.starts_with("msg_"));
    assert_eq!(whole.kind.as_deref(), Some("message"));
    assert_eq!(whole.model, KEY);
    assert_eq!(whole.stop_reason, Some(StopReason::EndTurn));
    assert!(whole.text().contains("prime number"));
    assert!(whole.usage.input_tokens > 0 && whole.usage.output_tokens > 0);

    let response = post(
        &emulator.url(),
        "/v1/messages",
        &body(json!({ "stream": true })),
    )
    .await;
    assert_eq!(response.header("content-type"), Some("text/event-stream"));
    let (events, assembled) = events(&response);
    let kinds = kinds(&events);
    let n = kinds.len();
    assert_eq!(
        kinds[..3],
        ["message_start", "ping", "content_block_start"],
        "{kinds:?}"
    );
    assert_eq!(
        kinds[n - 3..],
        ["content_block_stop", "message_delta", "message_stop"]
    );
    assert!(kinds[3..n - 3].iter().all(|k| *k == "content_block_delta"));
    assert_eq!(assembled.text(), whole.text());
    assert_eq!(assembled.usage, whole.usage);
    assert_eq!(assembled.stop_reason, Some(StopReason::EndTurn));
}

#[tokio::test]
async fn lm_studio_0_3_has_no_messages_route() {
    let emulator = start(Emulator::builder().profile(Profile::V0_3)).await;
    let response = post(&emulator.url(), "/v1/messages", &body(json!({}))).await;
    assert_eq!(response.status, 200);
    assert_eq!(
        response.json(),
        json!({ "error": "Unexpected endpoint or method. (POST /v1/messages)" })
    );
}

#[tokio::test]
async fn count_tokens_is_an_unexpected_endpoint_in_both_profiles() {
    for profile in [Profile::V0_3, Profile::V0_4] {
        let emulator = start(Emulator::builder().profile(profile)).await;
        let response = post(
            &emulator.url(),
            "/v1/messages/count_tokens",
            &body(json!({})),
        )
        .await;
        assert_eq!(response.status, 200);
        assert_eq!(
            response.json()["error"],
            "Unexpected endpoint or method. (POST /v1/messages/count_tokens)"
        );
    }
}

#[tokio::test]
async fn thinking_comes_first_when_reasoning_is_on() {
    let emulator = start(Emulator::builder().reasoning(ReasoningField::Reasoning)).await;
    let whole: MessagesResponse = serde_json::from_value(
        post(&emulator.url(), "/v1/messages", &body(json!({})))
            .await
            .json(),
    )
    .unwrap();
    let kinds: Vec<&str> = whole.content.iter().map(ContentBlock::kind).collect();
    assert_eq!(kinds, ["thinking", "text"]);
    assert!(!whole.thinking().is_empty());
    let response = post(
        &emulator.url(),
        "/v1/messages",
        &body(json!({ "stream": true })),
    )
    .await;
    let (events, assembled) = events(&response);
    assert!(events.iter().any(|e| matches!(e,
        StreamEvent::ContentBlockDelta(d) if d.delta.kind() == "thinking_delta")));
    assert_eq!(assembled.thinking(), whole.thinking());
    assert_eq!(assembled.text(), whole.text());
}

#[tokio::test]
async fn a_tool_call_streams_its_input_as_json_pieces_and_a_result_gets_an_answer() {
    let emulator = start(Emulator::builder()).await;
    let tools = json!([{ "name": "get_weather", "description": "Weather",
        "input_schema": { "type": "object", "properties": { "city": { "type": "string" } } } }]);
    let ask = json!({ "tools": tools,
        "messages": [{ "role": "user", "content": "get_weather for Paris" }] });
    let whole: MessagesResponse = serde_json::from_value(
        post(&emulator.url(), "/v1/messages", &body(ask.clone()))
            .await
            .json(),
    )
    .unwrap();
    assert_eq!(whole.stop_reason, Some(StopReason::ToolUse));
    let call = whole.tool_uses().next().unwrap().clone();
    assert_eq!(call.name, "get_weather");
    assert_eq!(call.input["city"], "get_weather for Paris");

    let mut streamed = ask.clone();
    streamed["stream"] = json!(true);
    let response = post(&emulator.url(), "/v1/messages", &body(streamed)).await;
    let (events, assembled) = events(&response);
    let pieces = events
        .iter()
        .filter(|e| matches!(e, StreamEvent::ContentBlockDelta(d) if d.delta.kind() == "input_json_delta"))
        .count();
    assert!(pieces > 1, "the input arrives in pieces");
    assert_eq!(assembled.tool_uses().next().unwrap().input, call.input);
    assert_eq!(assembled.stop_reason, Some(StopReason::ToolUse));

    let mut answer = ask;
    answer["messages"] = json!([
        { "role": "user", "content": "get_weather for Paris" },
        { "role": "assistant", "content": [{ "type": "tool_use", "id": call.id, "name": call.name, "input": call.input }] },
        { "role": "user", "content": [{ "type": "tool_result", "tool_use_id": call.id, "content": "sunny" }] },
    ]);
    let text: MessagesResponse = serde_json::from_value(
        post(&emulator.url(), "/v1/messages", &body(answer))
            .await
            .json(),
    )
    .unwrap();
    assert_eq!(text.text(), "The tool returned: sunny");
    assert_eq!(text.stop_reason, Some(StopReason::EndTurn));
}

#[tokio::test]
async fn max_tokens_stops_with_max_tokens() {
    let emulator = start(Emulator::builder()).await;
    let whole: MessagesResponse = serde_json::from_value(
        post(
            &emulator.url(),
            "/v1/messages",
            &body(json!({ "max_tokens": 3 })),
        )
        .await
        .json(),
    )
    .unwrap();
    assert_eq!(whole.stop_reason, Some(StopReason::MaxTokens));
    assert_eq!(whole.usage.output_tokens, 3);
}

#[tokio::test]
async fn roles_must_alternate() {
    let emulator = start(Emulator::builder()).await;
    let twice = json!({ "messages": [
        { "role": "user", "content": "one" },
        { "role": "user", "content": "two" },
    ]});
    let response = post(&emulator.url(), "/v1/messages", &body(twice)).await;
    assert_eq!(response.status, 400);
    let error = ErrorResponse::from_slice(response.body.as_bytes()).unwrap();
    assert_eq!(error.error_type(), Some(&ErrorType::InvalidRequest));
    assert!(
        error.message().contains("roles must alternate") && error.message().contains("\"user\""),
        "{error}"
    );
    let missing = json!({ "model": KEY });
    let response = post(&emulator.url(), "/v1/messages", &missing).await;
    assert_eq!(response.status, 400);
    assert!(ErrorResponse::from_slice(response.body.as_bytes()).is_some());
}

#[tokio::test]
async fn an_error_injected_mid_stream_is_an_anthropic_error_event() {
    let emulator = start(Emulator::builder().inject_stream_error_after(4)).await;
    let response = post(
        &emulator.url(),
        "/v1/messages",
        &body(json!({ "stream": true })),
    )
    .await;
    let events = response.sse_events();
    assert_eq!(events.len(), 5);
    let (name, data) = events.last().unwrap();
    assert_eq!(name.as_deref(), Some("error"));
    let event = StreamEvent::from_sse(None, data).unwrap();
    let StreamEvent::Error(error) = &event else {
        panic!("{data}")
    };
    assert_eq!(error.error.error_type(), Some(&ErrorType::Api));
    assert!(error.error.message().contains("The model has crashed"));
    assert!(!response.body.contains("message_stop"));
}

#[tokio::test]
async fn the_token_may_come_as_x_api_key() {
    let emulator = start(Emulator::builder().auth_token(Some("sk-lm-anthropic".into()))).await;
    let sent = body(json!({})).to_string();
    let keyed = support::request(
        &emulator.url(),
        "POST",
        "/v1/messages",
        Some(&sent),
        &[("x-api-key", "sk-lm-anthropic")],
    )
    .await;
    assert_eq!(keyed.status, 200, "{}", keyed.body);
    let bearer = support::request(
        &emulator.url(),
        "POST",
        "/v1/messages",
        Some(&sent),
        &[("Authorization", "Bearer sk-lm-anthropic")],
    )
    .await;
    assert_eq!(bearer.status, 200);
    let wrong = support::request(
        &emulator.url(),
        "POST",
        "/v1/messages",
        Some(&sent),
        &[("x-api-key", "sk-wrong")],
    )
    .await;
    assert_eq!(wrong.status, 401);
    // Elsewhere only the bearer token counts.
    let chat = json!({ "model": KEY, "messages": [{ "role": "user", "content": "hi" }] });
    let elsewhere = support::request(
        &emulator.url(),
        "POST",
        "/v1/chat/completions",
        Some(&chat.to_string()),
        &[("x-api-key", "sk-lm-anthropic")],
    )
    .await;
    assert_eq!(elsewhere.status, 401);
    let recorded = emulator.requests();
    let header = recorded[0]
        .headers
        .iter()
        .find(|(name, _)| name == "x-api-key")
        .unwrap();
    assert_eq!(header.1, "<redacted>", "the key is never recorded");
}
