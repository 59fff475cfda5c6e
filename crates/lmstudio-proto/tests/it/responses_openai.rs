//! OpenAI's documented Responses API examples (the `createResponse` examples and every
//! stream event's example in openai/openai-openapi's `openapi.yaml`): each parses,
//! round-trips, and says what it said. Sources and licence: `data/openai-responses/README.md`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use common::{round_trip, sse_named_events};
use lmstudio_proto::error::ErrorCode;
use lmstudio_proto::openai::ToolChoiceMode;
use lmstudio_proto::responses::{
    ContentPart, Item, Response, ResponseAssembler, ResponseStatus, ResponseStreamEvent,
    ResponsesInput, ResponsesRequest, ResponsesTool, ResponsesToolChoice,
};
use serde_json::json;

macro_rules! example {
    ($name:literal) => {
        (
            $name,
            include_str!(concat!("../data/openai-responses/", $name)),
        )
    };
}

fn response((name, body): (&str, &str)) -> Response {
    round_trip(name, body)
}

fn request((name, body): (&str, &str)) -> ResponsesRequest {
    round_trip(name, body)
}

#[test]
fn a_text_answer() {
    let response = response(example!("create_text_input.response.json"));
    assert_eq!(response.status, Some(ResponseStatus::Completed));
    assert!(
        response
            .output_text()
            .starts_with("In a peaceful grove beneath a silver moon")
    );
    assert_eq!(response.error, None);
    assert_eq!(response.extra["tool_choice"], "auto");
    let usage = response.usage.as_ref().unwrap();
    assert_eq!(usage.total_tokens, usage.input_tokens + usage.output_tokens);
    let request = request(example!("create_text_input.request.json"));
    assert_eq!(
        request.input,
        ResponsesInput::from("Tell me a three sentence bedtime story about a unicorn.")
    );
}

#[test]
fn a_function_call_and_its_tool() {
    let response = response(example!("create_functions.response.json"));
    let calls = response.function_calls();
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].name, "get_current_weather");
    assert_eq!(
        calls[0].arguments_json().unwrap(),
        json!({"location": "Boston, MA", "unit": "celsius"})
    );
    assert!(calls[0].call_id.starts_with("call_"));
    let request = request(example!("create_functions.request.json"));
    let tools = request.tools.as_ref().unwrap();
    let ResponsesTool::Function(tool) = &tools[0] else {
        panic!("a function tool")
    };
    assert_eq!(tool.name, "get_current_weather");
    assert_eq!(
        tool.parameters.as_ref().unwrap()["required"],
        json!(["location", "unit"])
    );
    assert_eq!(
        request.tool_choice,
        Some(ResponsesToolChoice::Mode(ToolChoiceMode::Auto))
    );
}

#[test]
fn reasoning_tokens_and_effort() {
    let response = response(example!("create_reasoning.response.json"));
    let usage = response.usage.as_ref().unwrap();
    assert_eq!(usage.reasoning_tokens(), Some(832));
    assert_eq!(usage.cached_tokens(), Some(0));
    assert_eq!(
        usage.input_tokens_details.as_ref().unwrap().extra["cache_write_tokens"],
        0
    );
    assert_eq!(response.extra["reasoning"]["effort"], "high");
    let request = request(example!("create_reasoning.request.json"));
    assert_eq!(
        request.reasoning.unwrap().effort.map(|e| e.to_string()),
        Some("high".to_owned())
    );
}

#[test]
fn input_parts_and_built_in_tools() {
    let image = request(example!("create_image_input.request.json"));
    let ResponsesInput::Items(items) = &image.input else {
        panic!("items")
    };
    let Item::Message(message) = &items[0] else {
        panic!("a message")
    };
    let kinds: Vec<&str> = message
        .content
        .parts()
        .iter()
        .map(ContentPart::kind)
        .collect();
    assert_eq!(kinds, ["input_text", "input_image"]);
    assert!(
        matches!(&message.content.parts()[1], ContentPart::InputImage(i) if i.image_url.as_deref().unwrap().starts_with("https://"))
    );
    let _ = response(example!("create_image_input.response.json"));

    let file = request(example!("create_file_input.request.json"));
    let ResponsesInput::Items(items) = &file.input else {
        panic!("items")
    };
    let Item::Message(message) = &items[0] else {
        panic!("a message")
    };
    assert!(
        message
            .content
            .parts()
            .iter()
            .any(|p| p.kind() == "input_file")
    );
    let _ = response(example!("create_file_input.response.json"));

    // Built-in tools and their call items are kept whole.
    for (req, resp, tool, call) in [
        (
            example!("create_web_search.request.json"),
            example!("create_web_search.response.json"),
            "web_search_preview",
            "web_search_call",
        ),
        (
            example!("create_file_search.request.json"),
            example!("create_file_search.response.json"),
            "file_search",
            "file_search_call",
        ),
    ] {
        let request = request(req);
        let tools = request.tools.unwrap();
        assert!(matches!(&tools[0], ResponsesTool::Other(_)));
        assert_eq!(tools[0].kind(), tool);
        let response = response(resp);
        assert_eq!(response.output[0].kind(), call);
        assert!(matches!(response.output[0], Item::Other(_)));
        assert!(!response.output_text().is_empty());
    }
}

#[test]
fn the_documented_stream() {
    let (name, body) = example!("create_streaming.response.sse");
    let mut assembler = ResponseAssembler::new();
    let mut kinds = Vec::new();
    for (i, (event_name, data)) in sse_named_events(body).into_iter().enumerate() {
        let event: ResponseStreamEvent = round_trip(&format!("{name} event {i}"), data);
        assert_eq!(event_name, Some(event.kind()));
        kinds.push(event.kind().to_owned());
        assembler.push(&event);
    }
    assert_eq!(
        kinds,
        [
            "response.created",
            "response.in_progress",
            "response.output_item.added",
            "response.content_part.added",
            "response.output_text.delta",
            "response.output_text.done",
            "response.content_part.done",
            "response.output_item.done",
            "response.completed",
        ]
    );
    // The docs elide all deltas but the first ("..."): the assembly keeps what the deltas
    // said, not the done events' whole text.
    assert_eq!(assembler.text(), "Hi");
    let assembled = assembler.finish().unwrap();
    assert_eq!(assembled.status, Some(ResponseStatus::Completed));
    assert_eq!(assembled.usage.as_ref().unwrap().total_tokens, 48);
    assert!(
        !assembled.extra.contains_key("instructions"),
        "a typed field"
    );
    assert_eq!(
        assembled.instructions,
        Some(json!("You are a helpful assistant."))
    );
    let request = request(example!("create_streaming.request.json"));
    assert_eq!(request.stream, Some(true));
}

/// Every event example of the spec, by file name (the event's `type`).
const EVENTS: &[(&str, &str)] = &[
    example!("events/error.json"),
    example!("events/response.audio.delta.json"),
    example!("events/response.audio.done.json"),
    example!("events/response.audio.transcript.delta.json"),
    example!("events/response.audio.transcript.done.json"),
    example!("events/response.code_interpreter_call.completed.json"),
    example!("events/response.code_interpreter_call.in_progress.json"),
    example!("events/response.code_interpreter_call.interpreting.json"),
    example!("events/response.code_interpreter_call_code.delta.json"),
    example!("events/response.code_interpreter_call_code.done.json"),
    example!("events/response.completed.json"),
    example!("events/response.content_part.added.json"),
    example!("events/response.content_part.done.json"),
    example!("events/response.created.json"),
    example!("events/response.custom_tool_call_input.delta.json"),
    example!("events/response.custom_tool_call_input.done.json"),
    example!("events/response.failed.json"),
    example!("events/response.file_search_call.completed.json"),
    example!("events/response.file_search_call.in_progress.json"),
    example!("events/response.file_search_call.searching.json"),
    example!("events/response.function_call_arguments.done.json"),
    example!("events/response.image_generation_call.completed.json"),
    example!("events/response.image_generation_call.generating.json"),
    example!("events/response.image_generation_call.in_progress.json"),
    example!("events/response.image_generation_call.partial_image.json"),
    example!("events/response.in_progress.json"),
    example!("events/response.incomplete.json"),
    example!("events/response.mcp_call.completed.json"),
    example!("events/response.mcp_call.failed.json"),
    example!("events/response.mcp_call.in_progress.json"),
    example!("events/response.mcp_call_arguments.delta.json"),
    example!("events/response.mcp_call_arguments.done.json"),
    example!("events/response.mcp_list_tools.completed.json"),
    example!("events/response.mcp_list_tools.failed.json"),
    example!("events/response.mcp_list_tools.in_progress.json"),
    example!("events/response.output_item.added.json"),
    example!("events/response.output_item.done.json"),
    example!("events/response.output_text.annotation.added.json"),
    example!("events/response.output_text.delta.json"),
    example!("events/response.output_text.done.json"),
    example!("events/response.queued.json"),
    example!("events/response.reasoning_summary_part.added.json"),
    example!("events/response.reasoning_summary_part.done.json"),
    example!("events/response.reasoning_summary_text.delta.json"),
    example!("events/response.reasoning_summary_text.done.json"),
    example!("events/response.reasoning_text.delta.json"),
    example!("events/response.reasoning_text.done.json"),
    example!("events/response.refusal.delta.json"),
    example!("events/response.refusal.done.json"),
    example!("events/response.web_search_call.completed.json"),
    example!("events/response.web_search_call.in_progress.json"),
    example!("events/response.web_search_call.searching.json"),
];

/// The event types this crate models (the rest must land in `Other`, kept whole).
const MODELLED: &[&str] = &[
    "error",
    "response.completed",
    "response.content_part.added",
    "response.content_part.done",
    "response.created",
    "response.failed",
    "response.function_call_arguments.done",
    "response.in_progress",
    "response.incomplete",
    "response.mcp_call_arguments.delta",
    "response.mcp_call_arguments.done",
    "response.output_item.added",
    "response.output_item.done",
    "response.output_text.delta",
    "response.output_text.done",
    "response.queued",
    "response.reasoning_summary_part.added",
    "response.reasoning_summary_part.done",
    "response.reasoning_summary_text.delta",
    "response.reasoning_summary_text.done",
    "response.reasoning_text.delta",
    "response.reasoning_text.done",
];

#[test]
fn every_documented_event_parses_and_round_trips() {
    assert_eq!(EVENTS.len(), 52);
    for (name, json) in EVENTS {
        let event: ResponseStreamEvent = round_trip(name, json);
        let kind = name
            .strip_prefix("events/")
            .and_then(|n| n.strip_suffix(".json"))
            .unwrap();
        assert_eq!(event.kind(), kind);
        let other = matches!(event, ResponseStreamEvent::Other(_));
        assert_eq!(other, !MODELLED.contains(&kind), "{kind}");
        assert_eq!(
            event.error().is_some(),
            matches!(kind, "error" | "response.failed"),
            "{kind}"
        );
        assert_eq!(
            event.is_terminal(),
            matches!(
                kind,
                "response.completed" | "response.failed" | "response.incomplete"
            ),
            "{kind}"
        );
    }
}

#[test]
fn what_the_documented_events_say() {
    let event = |kind: &str| -> ResponseStreamEvent {
        let (name, json) = EVENTS
            .iter()
            .find(|(name, _)| *name == format!("events/{kind}.json"))
            .unwrap();
        round_trip(name, json)
    };
    let ResponseStreamEvent::Error(error) = event("error") else {
        panic!("error")
    };
    assert_eq!(error.message(), "Something went wrong");
    assert_eq!(error.code, Some(ErrorCode::Text("ERR_SOMETHING".into())));
    assert_eq!(error.sequence_number, Some(1));
    let failed = event("response.failed");
    assert_eq!(
        failed.error().unwrap().message(),
        "The model failed to generate a response."
    );
    let ResponseStreamEvent::Incomplete(incomplete) = event("response.incomplete") else {
        panic!("incomplete")
    };
    assert_eq!(
        incomplete
            .response
            .incomplete_details
            .as_ref()
            .unwrap()
            .reason,
        "max_tokens"
    );
    let ResponseStreamEvent::ReasoningSummaryTextDelta(delta) =
        event("response.reasoning_summary_text.delta")
    else {
        panic!("summary delta")
    };
    assert_eq!(delta.summary_index, Some(0));
    assert!(delta.delta.starts_with("**Responding to a greeting**"));
    let ResponseStreamEvent::FunctionCallArgumentsDone(done) =
        event("response.function_call_arguments.done")
    else {
        panic!("arguments done")
    };
    assert!(!done.arguments.is_empty());
    let mut assembler = ResponseAssembler::new();
    for kind in [
        "response.created",
        "response.reasoning_summary_text.delta",
        "response.completed",
    ] {
        assembler.push(&event(kind));
    }
    assert!(
        assembler
            .reasoning_summary()
            .starts_with("**Responding to a greeting**")
    );
    assert_eq!(assembler.reasoning(), "");
    assert!(assembler.finish().is_ok());
}
