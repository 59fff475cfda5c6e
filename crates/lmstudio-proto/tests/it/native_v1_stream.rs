//! The `/api/v1/chat` named stream events (docs examples, in document order) parse into
//! `ChatStreamEvent` and round-trip.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use common::round_trip;
use lmstudio_proto::error::ErrorCode;
use lmstudio_proto::native::v1::{BareEvent, ChatStreamEvent, OutputItem};

const EVENTS: [(&str, &str); 19] = [
    (
        "chat.start",
        include_str!("../data/lmstudio/docs_v1_stream_events_0.json"),
    ),
    (
        "model_load.start",
        include_str!("../data/lmstudio/docs_v1_stream_events_1.json"),
    ),
    (
        "model_load.progress",
        include_str!("../data/lmstudio/docs_v1_stream_events_2.json"),
    ),
    (
        "model_load.end",
        include_str!("../data/lmstudio/docs_v1_stream_events_3.json"),
    ),
    (
        "prompt_processing.start",
        include_str!("../data/lmstudio/docs_v1_stream_events_4.json"),
    ),
    (
        "prompt_processing.progress",
        include_str!("../data/lmstudio/docs_v1_stream_events_5.json"),
    ),
    (
        "prompt_processing.end",
        include_str!("../data/lmstudio/docs_v1_stream_events_6.json"),
    ),
    (
        "reasoning.start",
        include_str!("../data/lmstudio/docs_v1_stream_events_7.json"),
    ),
    (
        "reasoning.delta",
        include_str!("../data/lmstudio/docs_v1_stream_events_8.json"),
    ),
    (
        "reasoning.end",
        include_str!("../data/lmstudio/docs_v1_stream_events_9.json"),
    ),
    (
        "tool_call.start",
        include_str!("../data/lmstudio/docs_v1_stream_events_10.json"),
    ),
    (
        "tool_call.arguments",
        include_str!("../data/lmstudio/docs_v1_stream_events_11.json"),
    ),
    (
        "tool_call.success",
        include_str!("../data/lmstudio/docs_v1_stream_events_12.json"),
    ),
    (
        "tool_call.failure",
        include_str!("../data/lmstudio/docs_v1_stream_events_13.json"),
    ),
    (
        "message.start",
        include_str!("../data/lmstudio/docs_v1_stream_events_14.json"),
    ),
    (
        "message.delta",
        include_str!("../data/lmstudio/docs_v1_stream_events_15.json"),
    ),
    (
        "message.end",
        include_str!("../data/lmstudio/docs_v1_stream_events_16.json"),
    ),
    (
        "error",
        include_str!("../data/lmstudio/docs_v1_stream_events_17.json"),
    ),
    (
        "chat.end",
        include_str!("../data/lmstudio/docs_v1_stream_events_18.json"),
    ),
];

fn parse_all() -> Vec<ChatStreamEvent> {
    EVENTS
        .iter()
        .map(|(name, json)| {
            let event: ChatStreamEvent = round_trip(name, json);
            assert_eq!(event.kind(), *name);
            assert!(
                !matches!(event, ChatStreamEvent::Other(_)),
                "{name} fell back to Other"
            );
            event
        })
        .collect()
}

#[test]
fn every_documented_event_parses_into_its_variant() {
    let events = parse_all();
    assert!(
        matches!(&events[0], ChatStreamEvent::ChatStart(e) if e.model_instance_id == "openai/gpt-oss-20b")
    );
    assert!(matches!(&events[2], ChatStreamEvent::ModelLoadProgress(e) if e.progress == 0.65));
    assert!(
        matches!(&events[3], ChatStreamEvent::ModelLoadEnd(e) if e.load_time_seconds == Some(12.34))
    );
    assert!(
        matches!(&events[5], ChatStreamEvent::PromptProcessingProgress(e) if e.progress == 0.5 && e.model_instance_id.is_none())
    );
    assert_eq!(
        events[6],
        ChatStreamEvent::PromptProcessingEnd(BareEvent::default())
    );
    assert!(matches!(&events[8], ChatStreamEvent::ReasoningDelta(d) if d.content == "Need to"));
    assert!(
        matches!(&events[11], ChatStreamEvent::ToolCallArguments(c) if c.arguments.as_ref().unwrap()["limit"] == 1)
    );
    assert!(
        matches!(&events[12], ChatStreamEvent::ToolCallSuccess(c) if c.output.as_deref().unwrap().contains("Showing first 1 models"))
    );
    assert!(
        matches!(&events[13], ChatStreamEvent::ToolCallFailure(f) if f.reason == "Cannot find tool with name open_browser.")
    );
    assert!(matches!(&events[15], ChatStreamEvent::MessageDelta(d) if d.content == "The current"));
}

#[test]
fn error_event_carries_the_error_object() {
    let events = parse_all();
    let ChatStreamEvent::Error(error) = &events[17] else {
        panic!("expected an error event")
    };
    assert_eq!(error.error.message(), "\"model\" is required");
    assert_eq!(error.error.kind.as_deref(), Some("invalid_request"));
    assert_eq!(
        error.error.code,
        Some(ErrorCode::Text("missing_required_parameter".into()))
    );
    assert_eq!(error.error.param.as_deref(), Some("model"));
}

#[test]
fn chat_end_carries_the_whole_result() {
    let events = parse_all();
    let last = events.last().unwrap();
    assert!(last.is_end());
    let ChatStreamEvent::ChatEnd(end) = last else {
        panic!("expected chat.end")
    };
    let kinds: Vec<&str> = end.result.output.iter().map(OutputItem::kind).collect();
    assert_eq!(kinds, ["reasoning", "tool_call", "message"]);
    assert_eq!(end.result.text(), "The current top‑trending model is...");
    assert_eq!(
        end.result.stats.as_ref().unwrap().reasoning_output_tokens,
        Some(5)
    );
}

#[test]
fn sse_event_name_and_data() {
    let event = ChatStreamEvent::from_sse(
        Some("message.delta"),
        r#"{"type":"message.delta","content":"x"}"#,
    )
    .unwrap();
    assert!(matches!(event, ChatStreamEvent::MessageDelta(d) if d.content == "x"));
    assert!(ChatStreamEvent::from_sse(Some("message.delta"), "not json").is_err());
}

#[test]
fn unknown_event_type_and_fields_survive() {
    let event: ChatStreamEvent = round_trip(
        "unknown event",
        r#"{"type":"tool_call.progress","tool":"x","fraction":0.5}"#,
    );
    assert_eq!(event.kind(), "tool_call.progress");
    assert!(matches!(event, ChatStreamEvent::Other(_)));
    let event: ChatStreamEvent = round_trip(
        "known event, new field",
        r#"{"type":"message.delta","content":"a","channel":"final"}"#,
    );
    let ChatStreamEvent::MessageDelta(delta) = &event else {
        panic!("expected message.delta")
    };
    assert_eq!(delta.extra["channel"], "final");
}

#[test]
fn type_first_or_last_reads_the_same() {
    // Every documented event (at every depth: `chat.end` holds tagged output items), read
    // from text with `type` first and from text with `type` last.
    for (name, json) in EVENTS {
        let value: serde_json::Value = serde_json::from_str(json).unwrap();
        let first: ChatStreamEvent =
            serde_json::from_str(&common::nulls::type_first_text(&value)).unwrap();
        let last: ChatStreamEvent = serde_json::from_str(&type_last_text(&value)).unwrap();
        assert_eq!(first, last, "{name}");
        assert_eq!(first, serde_json::from_value(value).unwrap(), "{name}");
    }
}

#[test]
fn repeated_keys_non_string_types_and_non_objects() {
    for text in [
        r#"{"type":"message.delta","content":"a","content":"b"}"#,
        r#"{"content":"a","type":"message.delta","content":"b"}"#,
        r#"{"type":"message.delta","content":"a","type":"message.delta"}"#,
        r#"{"type":"tool_call.progress","n":1,"n":2}"#,
        r#"{"n":1,"type":"x","type":"y"}"#,
    ] {
        let err = serde_json::from_str::<ChatStreamEvent>(text).unwrap_err();
        assert!(err.to_string().contains("duplicate field"), "{text}: {err}");
    }
    // A `type` that is not a string keeps the object whole, wherever it is.
    for text in [r#"{"type":3,"content":"a"}"#, r#"{"content":"a","type":3}"#] {
        let event: ChatStreamEvent = serde_json::from_str(text).unwrap();
        let ChatStreamEvent::Other(map) = &event else {
            panic!("{text}: kept whole")
        };
        assert_eq!((&map["type"], &map["content"]), (&3.into(), &"a".into()));
        assert_eq!(event.kind(), "");
    }
    for text in ["[]", "\"chat.end\"", "null"] {
        let err = serde_json::from_str::<ChatStreamEvent>(text).unwrap_err();
        assert!(
            err.to_string()
                .contains("a JSON object with a `type` (ChatStreamEvent)"),
            "{text}: {err}"
        );
    }
}

/// `value` as JSON text with the `type` key last in every object.
fn type_last_text(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::Object(map) => {
            let rest = map.iter().filter(|(key, _)| key.as_str() != "type");
            let fields: Vec<String> = rest
                .chain(map.get_key_value("type"))
                .map(|(key, child)| {
                    format!(
                        "{}:{}",
                        serde_json::to_string(key).unwrap(),
                        type_last_text(child)
                    )
                })
                .collect();
            format!("{{{}}}", fields.join(","))
        }
        serde_json::Value::Array(items) => {
            let items: Vec<String> = items.iter().map(type_last_text).collect();
            format!("[{}]", items.join(","))
        }
        scalar => scalar.to_string(),
    }
}
