//! `/v1/responses` in both profiles: whole answers (text, reasoning, a function call,
//! `max_output_tokens`), the named event stream in OpenAI's order, parsed and assembled with
//! the proto crate's types, errors injected mid-stream (an `error` event, the bare 500-shaped
//! JSON), and LM Studio's refusals (tool types, `text.format` on 0.4, `previous_response_id`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::support;

use lmstudio_proto::responses::{
    Item, Response, ResponseAssembler, ResponseStatus, ResponseStreamEvent,
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

/// A request body with `text.format` (which the 0.4 profile requires).
fn body(extra: Value) -> Value {
    let mut body = json!({ "model": KEY, "text": { "format": { "type": "text" } } });
    body.as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    body
}

/// The stream's events, each parsed by the proto crate (never `Other`, SSE name = `type`),
/// and their assembly.
fn events(response: &support::Response) -> (Vec<ResponseStreamEvent>, ResponseAssembler) {
    let mut assembler = ResponseAssembler::new();
    let mut events = Vec::new();
    for (name, data) in response.sse_events() {
        let event = ResponseStreamEvent::from_sse(None, &data).unwrap();
        assert_eq!(name.as_deref(), Some(event.kind()), "{data}");
        assembler.push(&event);
        events.push(event);
    }
    assert!(!response.body.contains("[DONE]"));
    (events, assembler)
}

fn kinds(events: &[ResponseStreamEvent]) -> Vec<&str> {
    events.iter().map(ResponseStreamEvent::kind).collect()
}

#[tokio::test]
async fn text_whole_and_streamed_in_both_profiles() {
    for profile in [Profile::V0_3, Profile::V0_4] {
        let emulator = start(Emulator::builder().profile(profile)).await;
        let input = json!({ "input": "Provide a prime number less than 50" });
        let whole: Response = serde_json::from_value(
            post(&emulator.url(), "/v1/responses", &body(input.clone()))
                .await
                .json(),
        )
        .unwrap();
        assert!(whole.id.starts_with("resp_"));
        assert_eq!(whole.object.as_deref(), Some("response"));
        assert_eq!(whole.status, Some(ResponseStatus::Completed));
        assert!(whole.output_text().contains("prime number"), "{profile:?}");
        assert!(whole.usage.as_ref().unwrap().output_tokens > 0);

        let mut streamed = input.clone();
        streamed["stream"] = json!(true);
        let response = post(&emulator.url(), "/v1/responses", &body(streamed)).await;
        assert_eq!(response.header("content-type"), Some("text/event-stream"));
        let (events, assembler) = events(&response);
        let kinds = kinds(&events);
        let deltas = kinds
            .iter()
            .filter(|k| **k == "response.output_text.delta")
            .count();
        assert!(deltas > 1);
        let mut expected = vec![
            "response.created",
            "response.in_progress",
            "response.output_item.added",
            "response.content_part.added",
        ];
        expected.extend(std::iter::repeat_n("response.output_text.delta", deltas));
        expected.extend([
            "response.output_text.done",
            "response.content_part.done",
            "response.output_item.done",
            "response.completed",
        ]);
        assert_eq!(kinds, expected, "{profile:?}");
        let numbers: Vec<u64> = events.iter().filter_map(|e| e.sequence_number()).collect();
        assert_eq!(numbers, (0..events.len() as u64).collect::<Vec<_>>());
        let assembled = assembler.finish().unwrap();
        assert_eq!(assembled.output_text(), whole.output_text());
        assert_eq!(assembled.usage, whole.usage);
    }
}

#[tokio::test]
async fn max_output_tokens_makes_an_incomplete_response() {
    let emulator = start(Emulator::builder()).await;
    let input = json!({ "input": [{ "role": "user", "content": "hi" }], "max_output_tokens": 2 });
    let short = post(&emulator.url(), "/v1/responses", &body(input.clone()))
        .await
        .json();
    assert_eq!(short["status"], "incomplete");
    assert_eq!(short["incomplete_details"]["reason"], "max_output_tokens");
    assert_eq!(short["usage"]["output_tokens"], 2);
    let mut streamed = input;
    streamed["stream"] = json!(true);
    let (events, assembler) =
        events(&post(&emulator.url(), "/v1/responses", &body(streamed)).await);
    assert_eq!(events.last().unwrap().kind(), "response.incomplete");
    assert_eq!(
        assembler.finish().unwrap().status,
        Some(ResponseStatus::Incomplete)
    );
}

#[tokio::test]
async fn reasoning_comes_as_a_reasoning_item_with_reasoning_text() {
    let emulator = start(Emulator::builder().reasoning(ReasoningField::Reasoning)).await;
    let input = json!({ "input": "Why is the sky blue?" });
    let whole: Response = serde_json::from_value(
        post(&emulator.url(), "/v1/responses", &body(input.clone()))
            .await
            .json(),
    )
    .unwrap();
    let Item::Reasoning(reasoning) = &whole.output[0] else {
        panic!("a reasoning item first: {whole:?}")
    };
    assert!(reasoning.summary.is_empty(), "LM Studio sends no summary");
    assert!(!reasoning.text().is_empty());
    assert_eq!(whole.output[1].kind(), "message");
    let mut streamed = input;
    streamed["stream"] = json!(true);
    let (events, assembler) =
        events(&post(&emulator.url(), "/v1/responses", &body(streamed)).await);
    let kinds = kinds(&events);
    assert!(kinds.contains(&"response.reasoning_text.delta"));
    assert!(kinds.contains(&"response.reasoning_text.done"));
    assert_eq!(assembler.reasoning(), whole.reasoning_text());
    assert_eq!(assembler.text(), whole.output_text());
    assert!(whole.usage.unwrap().reasoning_tokens().unwrap() > 0);
}

#[tokio::test]
async fn a_function_call_whole_and_streamed() {
    let emulator = start(Emulator::builder()).await;
    let tools = json!([{ "type": "function", "name": "shell",
        "parameters": { "type": "object", "properties": { "command": { "type": "string" } } } }]);
    let input = json!({ "input": "run shell ls", "tools": tools });
    let whole: Response = serde_json::from_value(
        post(&emulator.url(), "/v1/responses", &body(input.clone()))
            .await
            .json(),
    )
    .unwrap();
    let calls = whole.function_calls();
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].name, "shell");
    assert!(calls[0].arguments_json().unwrap().is_object());
    let mut streamed = input;
    streamed["stream"] = json!(true);
    let (events, assembler) =
        events(&post(&emulator.url(), "/v1/responses", &body(streamed)).await);
    assert!(kinds(&events).contains(&"response.function_call_arguments.delta"));
    let assembled = assembler.function_calls();
    assert_eq!(assembled.len(), 1);
    assert_eq!(assembled[0].name, "shell");
    assert_eq!(assembled[0].arguments, calls[0].arguments);
    // The tool's result goes back as a function_call_output item; the model answers in text.
    let answer = json!({ "input": [
        { "role": "user", "content": "run shell ls" },
        { "type": "function_call", "call_id": calls[0].call_id, "name": "shell", "arguments": calls[0].arguments },
        { "type": "function_call_output", "call_id": calls[0].call_id, "output": "a.txt b.txt" },
    ], "tools": tools });
    let after: Response = serde_json::from_value(
        post(&emulator.url(), "/v1/responses", &body(answer))
            .await
            .json(),
    )
    .unwrap();
    assert!(after.function_calls().is_empty());
    assert!(!after.output_text().is_empty());
}

#[tokio::test]
async fn an_error_mid_stream_as_an_error_event_or_a_bare_500_json() {
    for (builder, check) in [
        (
            Emulator::builder().inject_stream_error_after(5),
            "The model has crashed",
        ),
        (
            Emulator::builder().inject_bare_stream_error_after(5),
            "peg-native format",
        ),
    ] {
        let emulator = start(builder).await;
        let response = post(
            &emulator.url(),
            "/v1/responses",
            &body(json!({ "input": "hello there", "stream": true })),
        )
        .await;
        let raw = response.sse_events();
        assert_eq!(raw.len(), 6, "{raw:?}");
        let (name, data) = raw.last().unwrap();
        let event = ResponseStreamEvent::from_sse(name.as_deref(), data).unwrap();
        let error = event.error().expect("the last event is an error");
        assert!(error.message().contains(check), "{data}");
        assert!(
            !raw.iter()
                .any(|(n, _)| n.as_deref() == Some("response.completed"))
        );
    }
}

#[tokio::test]
async fn lm_studios_refusals() {
    let emulator = start(Emulator::builder()).await;
    let url = emulator.url();
    // A tool type other than function and mcp.
    let tools = json!([{ "type": "function", "name": "f" }, { "type": "mcp", "server_label": "hf" },
        { "type": "web_search" }]);
    let refused = post(
        &url,
        "/v1/responses",
        &body(json!({ "input": "hi", "tools": tools })),
    )
    .await;
    assert_eq!(refused.status, 400);
    assert_eq!(
        refused.json(),
        json!({ "error": { "message": "Invalid discriminator value. Expected 'function' | 'mcp'",
            "type": "invalid_request_error", "param": "tools.2.type",
            "code": "invalid_union_discriminator" } })
    );
    // No text.format on 0.4.
    let refused = post(
        &url,
        "/v1/responses",
        &json!({ "model": KEY, "input": "hi" }),
    )
    .await;
    assert_eq!(refused.status, 400);
    assert_eq!(refused.json()["error"]["param"], "text.format");
    assert_eq!(
        refused.json()["error"]["code"],
        "missing_required_parameter"
    );
    // A previous response this server never gave.
    let refused = post(
        &url,
        "/v1/responses",
        &body(json!({ "input": "hi", "previous_response_id": "resp_does_not_exist" })),
    )
    .await;
    assert_eq!(refused.status, 400);
    assert_eq!(
        refused.json()["error"]["code"],
        "previous_response_not_found"
    );
    // One it gave is continued.
    let first = post(&url, "/v1/responses", &body(json!({ "input": "hi" })))
        .await
        .json();
    let next = post(
        &url,
        "/v1/responses",
        &body(json!({ "input": "more", "previous_response_id": first["id"], "stream": true })),
    )
    .await;
    assert_eq!(next.status, 200);
    let completed: Value = serde_json::from_str(&next.sse_events().last().unwrap().1).unwrap();
    assert_eq!(completed["response"]["previous_response_id"], first["id"]);
}

#[tokio::test]
async fn the_0_3_profile_takes_no_format_and_fails_a_streamed_continuation() {
    let emulator = start(Emulator::builder().profile(Profile::V0_3)).await;
    let url = emulator.url();
    let first = post(
        &url,
        "/v1/responses",
        &json!({ "model": KEY, "input": "hi" }),
    )
    .await
    .json();
    assert_eq!(first["status"], "completed");
    let continued = json!({ "model": KEY, "input": "more", "previous_response_id": first["id"] });
    assert_eq!(post(&url, "/v1/responses", &continued).await.status, 200);
    let mut streamed = continued;
    streamed["stream"] = json!(true);
    let refused = post(&url, "/v1/responses", &streamed).await;
    assert_eq!(refused.status, 400);
    assert_eq!(
        refused.json()["error"]["message"],
        format!(
            "Previous response with id '{}' not found.",
            first["id"].as_str().unwrap()
        )
    );
}

#[tokio::test]
async fn a_prompt_longer_than_the_context_is_refused() {
    let emulator = start(Emulator::builder().default_context_length(64)).await;
    let long = "word ".repeat(400);
    let refused = post(
        &emulator.url(),
        "/v1/responses",
        &body(json!({ "input": long, "stream": true })),
    )
    .await;
    assert_eq!(refused.status, 400);
    assert!(
        refused.json()["error"]
            .as_str()
            .unwrap()
            .contains("greater than the context length")
    );
}
