//! `/v1/responses` as llama.cpp's server (the xllamacpp wheel, Gemma 3 270M) answered it:
//! whole answers, named event streams (text, reasoning then text, a function call), the
//! requests that produced them, and its errors. Each parses, round-trips, and says what it
//! said; the streams are assembled from their deltas. See `data/llama-server/README.md`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use common::{round_trip, sse_named_events};
use lmstudio_proto::error::{ErrorCode, ErrorEnvelope};
use lmstudio_proto::openai::Role;
use lmstudio_proto::responses::{
    ContentPart, Item, ReasoningEffort, Response, ResponseAssembler, ResponseStatus,
    ResponseStreamEvent, ResponsesInput, ResponsesRequest, ResponsesTool, TextFormat,
};
use serde_json::json;

macro_rules! capture {
    ($name:literal) => {
        (
            $name,
            include_str!(concat!("../data/llama-server/xllamacpp/responses/", $name)),
        )
    };
}

/// A whole answer, round-tripped.
fn answer((name, body): (&str, &str)) -> Response {
    round_trip(name, body)
}

/// A stream's events (each round-tripped; the SSE name must equal the data's `type`) and
/// their assembly.
struct Stream {
    events: Vec<ResponseStreamEvent>,
    assembler: ResponseAssembler,
}

impl Stream {
    fn kinds(&self) -> Vec<&str> {
        self.events.iter().map(ResponseStreamEvent::kind).collect()
    }

    fn completed(&self) -> &Response {
        match self.events.last() {
            Some(ResponseStreamEvent::Completed(event)) => &event.response,
            other => panic!("the stream does not end with response.completed: {other:?}"),
        }
    }
}

fn stream((name, body): (&str, &str)) -> Stream {
    let mut out = Stream {
        events: Vec::new(),
        assembler: ResponseAssembler::new(),
    };
    for (i, (event_name, data)) in sse_named_events(body).into_iter().enumerate() {
        let event: ResponseStreamEvent = round_trip(&format!("{name} event {i}"), data);
        assert_eq!(event_name, Some(event.kind()), "{name} event {i}");
        assert!(
            !matches!(event, ResponseStreamEvent::Other(_)),
            "{name} event {i} fell back to Other: {data}"
        );
        assert_eq!(event.sequence_number(), None, "llama.cpp sends none");
        out.assembler.push(&event);
        out.events.push(event);
    }
    assert!(!body.contains("[DONE]"), "{name}: no [DONE] marker");
    out
}

fn request((name, body): (&str, &str)) -> ResponsesRequest {
    round_trip(name, body)
}

#[test]
fn a_whole_text_answer() {
    let response = answer(capture!("text.body"));
    assert_eq!(response.status, Some(ResponseStatus::Completed));
    assert_eq!(response.object.as_deref(), Some("response"));
    assert_eq!(response.model, "gemma-3-270m");
    assert!(response.id.starts_with("resp_"));
    assert_eq!(
        response.created_at.as_ref().and_then(|t| t.unix()),
        Some(1_796_164_419)
    );
    assert_eq!(response.completed_at, response.created_at);
    assert_eq!(response.output_text(), "Say hello.<|im_end|>");
    let Item::Message(message) = &response.output[0] else {
        panic!("a message")
    };
    assert_eq!(message.role, Role::Assistant);
    assert!(message.id.as_deref().unwrap().starts_with("msg_"));
    assert!(
        matches!(&message.content.parts()[0], ContentPart::OutputText(t) if t.annotations.is_empty() && t.logprobs.is_empty())
    );
    let usage = response.usage.as_ref().unwrap();
    assert_eq!(
        (usage.input_tokens, usage.output_tokens, usage.total_tokens),
        (26, 8, 34)
    );
    assert_eq!(usage.cached_tokens(), Some(0));
    assert_eq!(usage.reasoning_tokens(), None);
}

#[test]
fn a_text_stream_in_llama_cpps_event_order() {
    let stream = stream(capture!("text_stream.body"));
    let mut expected = vec![
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "response.content_part.added",
    ];
    expected.extend(["response.output_text.delta"; 8]);
    expected.extend([
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
        "response.completed",
    ]);
    assert_eq!(stream.kinds(), expected);
    // The first events' response has only id, object and status.
    let created = stream.events[0].response().unwrap();
    assert_eq!(created.status, Some(ResponseStatus::InProgress));
    assert!(created.output.is_empty() && created.usage.is_none() && created.model.is_empty());
    // Assembled from the deltas, it says what the done events and the final response say.
    assert_eq!(stream.assembler.text(), "<|im_end|>\n<");
    let ResponseStreamEvent::OutputTextDone(done) = &stream.events[12] else {
        panic!("output_text.done")
    };
    assert_eq!(done.text, stream.assembler.text());
    let completed = stream.completed();
    assert_eq!(completed.output_text(), stream.assembler.text());
    let usage = completed.usage.as_ref().unwrap();
    assert_eq!(
        (usage.input_tokens, usage.output_tokens, usage.total_tokens),
        (26, 8, 34)
    );
    assert_eq!(usage.cached_tokens(), Some(21));
    let ResponseStreamEvent::Completed(event) = stream.events.last().unwrap() else {
        unreachable!()
    };
    assert_eq!(event.extra["timings"]["predicted_n"], 8);
    let assembled = stream.assembler.finish().unwrap();
    assert_eq!(assembled.id, completed.id);
    assert_eq!(assembled.status, Some(ResponseStatus::Completed));
    assert_eq!(assembled.usage, completed.usage);
    assert_eq!(assembled.output_text(), "<|im_end|>\n<");
    assert_eq!(assembled.output[0].id(), completed.output[0].id());
}

#[test]
fn a_stream_cut_in_the_middle_ended_early() {
    let (name, body) = capture!("text_stream.body");
    let events = sse_named_events(body);
    let mut assembler = ResponseAssembler::new();
    for (_, data) in &events[..7] {
        assembler.push(&ResponseStreamEvent::from_sse(None, data).unwrap());
    }
    let err = assembler.finish().unwrap_err();
    assert_eq!(err.events, 7, "{name}");
    assert_eq!(
        err.last_event.as_deref(),
        Some("response.output_text.delta")
    );
    // What had arrived is still readable.
    assert_eq!(assembler.text(), "<|im");
    assert_eq!(assembler.snapshot().output_text(), "<|im");
    assert!(!assembler.is_finished());
}

#[test]
fn reasoning_then_text_whole() {
    let response = answer(capture!("reasoning.body"));
    let kinds: Vec<&str> = response.output.iter().map(Item::kind).collect();
    assert_eq!(kinds, ["reasoning", "message"]);
    let Item::Reasoning(reasoning) = &response.output[0] else {
        unreachable!()
    };
    assert!(reasoning.summary.is_empty(), "llama.cpp sends summary: []");
    assert_eq!(reasoning.encrypted_content.as_deref(), Some(""));
    assert_eq!(response.reasoning_text(), "2 + 2.\n");
    assert_eq!(response.reasoning_summary(), "");
    assert_eq!(response.output_text(), "10");
}

#[test]
fn reasoning_then_text_streamed_with_interleaved_items() {
    let stream = stream(capture!("reasoning_stream.body"));
    let kinds = stream.kinds();
    // llama.cpp sends no reasoning_text.done, adds the message before the reasoning item is
    // done, and leaves out every output_index: items are told apart by id.
    assert!(!kinds.contains(&"response.reasoning_text.done"));
    let added_message = kinds
        .iter()
        .rposition(|k| *k == "response.output_item.added")
        .unwrap();
    let reasoning_done = kinds
        .iter()
        .position(|k| *k == "response.output_item.done")
        .unwrap();
    assert!(added_message < reasoning_done, "{kinds:?}");
    assert_eq!(stream.assembler.reasoning(), "2 + 2.\n");
    assert_eq!(stream.assembler.text(), "10");
    let completed = stream.completed();
    assert_eq!(completed.reasoning_text(), stream.assembler.reasoning());
    assert_eq!(completed.output_text(), stream.assembler.text());
    let assembled = stream.assembler.finish().unwrap();
    let kinds: Vec<&str> = assembled.output.iter().map(Item::kind).collect();
    assert_eq!(kinds, ["reasoning", "message"]);
    assert_eq!(assembled.reasoning_text(), "2 + 2.\n");
}

#[test]
fn a_function_call_whole() {
    let response = answer(capture!("function_call.body"));
    let calls = response.function_calls();
    assert_eq!(calls.len(), 1);
    let call = calls[0];
    assert_eq!(call.name, "get_weather");
    assert!(call.id.starts_with("fc_"));
    assert!(call.call_id.starts_with("call_"));
    assert_eq!(call.arguments_json().unwrap(), json!({"city": "Paris"}));
    assert_eq!(response.output_text(), "");
}

#[test]
fn a_function_call_streamed_without_an_arguments_done_event() {
    let stream = stream(capture!("function_call_stream.body"));
    let kinds = stream.kinds();
    assert!(!kinds.contains(&"response.function_call_arguments.done"));
    assert_eq!(
        kinds
            .iter()
            .filter(|k| **k == "response.function_call_arguments.delta")
            .count(),
        7
    );
    let calls = stream.assembler.function_calls();
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].name, "get_weather");
    assert_eq!(calls[0].arguments, r#"{"city": "Paris"}"#);
    let completed = stream.completed();
    assert_eq!(completed.function_calls()[0].arguments, calls[0].arguments);
    assert_eq!(completed.function_calls()[0].call_id, calls[0].call_id);
    assert_eq!(stream.assembler.text(), "");
}

#[test]
fn a_tool_offered_but_answered_with_text() {
    let response = answer(capture!("tool_offered_text.body"));
    assert!(response.function_calls().is_empty());
    assert!(response.output_text().starts_with("<|im_end|>user\n"));
    let stream = stream(capture!("tool_offered_text_stream.body"));
    assert_eq!(stream.assembler.text(), stream.completed().output_text());
    assert_eq!(stream.completed().usage.as_ref().unwrap().output_tokens, 40);
}

#[test]
fn the_requests_round_trip_with_their_fields_typed() {
    let text = request(capture!("text_stream.request.json"));
    assert_eq!(text.input, ResponsesInput::from("Say hello."));
    assert_eq!((text.max_output_tokens, text.stream), (Some(8), Some(true)));

    let call = request(capture!("function_call.request.json"));
    let ResponsesInput::Items(items) = &call.input else {
        panic!("items")
    };
    let kinds: Vec<&str> = items.iter().map(Item::kind).collect();
    assert_eq!(
        kinds,
        [
            "message",
            "function_call",
            "message",
            "function_call",
            "message"
        ]
    );
    let tools = call.tools.as_ref().unwrap();
    assert!(matches!(&tools[0], ResponsesTool::Function(f) if f.name == "get_weather"));
    assert_eq!(call.temperature, Some(0.0));

    let output = request(capture!("function_call_output.request.json"));
    assert_eq!(output.instructions.as_deref(), Some("Answer in one word."));
    let ResponsesInput::Items(items) = &output.input else {
        panic!("items")
    };
    assert!(
        matches!(&items[0], Item::Message(m) if matches!(&m.content.parts()[0], ContentPart::InputText(t) if t.text == "weather in Paris?"))
    );
    assert!(
        matches!(&items[2], Item::FunctionCallOutput(o) if o.call_id == "call_7" && o.output.text() == "sunny, 24 C")
    );

    let reasoning = request(capture!("reasoning.request.json"));
    let ResponsesInput::Items(items) = &reasoning.input else {
        panic!("items")
    };
    assert!(matches!(&items[1], Item::Reasoning(r) if r.text() == "One plus one."));

    let mcp = request(capture!("mcp_tool_accepted.request.json"));
    assert!(matches!(
        &mcp.tools.as_ref().unwrap()[0],
        ResponsesTool::Mcp(m) if m.server_label == "hf" && m.allowed_tools == Some(json!(["model_search"]))
    ));

    let schema = request(capture!("json_schema.request.json"));
    let format = schema.text.as_ref().unwrap().format.as_ref().unwrap();
    assert!(matches!(format, TextFormat::JsonSchema(s) if s.name == "obj"));

    let settings = request(capture!("text_format_text.request.json"));
    assert_eq!(
        settings.text.as_ref().unwrap().format,
        Some(TextFormat::text())
    );
    assert_eq!(settings.store, Some(false));
    assert_eq!(settings.metadata.as_ref().unwrap()["run"], "capture");
    assert_eq!(
        settings.reasoning.as_ref().unwrap().effort,
        Some(ReasoningEffort::Low)
    );
}

#[test]
fn what_llama_cpp_accepts_and_refuses() {
    // An `mcp` tool is accepted (LM Studio's own type), a plain text format too.
    assert_eq!(
        answer(capture!("mcp_tool_accepted.body")).status,
        Some(ResponseStatus::Completed)
    );
    assert_eq!(
        answer(capture!("text_format_text.body")).status,
        Some(ResponseStatus::Completed)
    );
    assert_eq!(
        answer(capture!("json_schema.body")).status,
        Some(ResponseStatus::Completed)
    );
    let errors = [
        (
            capture!("error_item_without_type.body"),
            "Cannot determine type of 'item'",
            "invalid_request_error",
        ),
        (
            capture!("error_missing_input.body"),
            "'input' is required",
            "invalid_request_error",
        ),
        (
            capture!("previous_response_id.body"),
            "llama.cpp does not support 'previous_response_id'.",
            "invalid_request_error",
        ),
        (
            capture!("error_context_overflow.body"),
            "request (3015 tokens) exceeds the available context size (2048 tokens), try increasing it",
            "exceed_context_size_error",
        ),
        (
            capture!("error_context_overflow_stream.body"),
            "request (3015 tokens) exceeds the available context size (2048 tokens), try increasing it",
            "exceed_context_size_error",
        ),
    ];
    for ((name, body), message, kind) in errors {
        let envelope = ErrorEnvelope::from_slice(body.as_bytes()).expect(name);
        assert_eq!(envelope.message(), message, "{name}");
        assert_eq!(envelope.error.kind(), Some(kind), "{name}");
        assert_eq!(
            envelope.error.code(),
            Some(&ErrorCode::Number(400)),
            "{name}"
        );
    }
}
