//! `ToolCallAssembler`: whole tool calls from streamed fragments, as real servers send them.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use lmstudio_proto::openai::{
    ChatCompletionChunk, ChatDelta, ToolCall, ToolCallAssembler, ToolCallDelta, ToolType,
};
use serde_json::{Value, json};

/// A chunk for choice 0 carrying `tool_calls` fragments.
fn chunk(fragments: Value) -> ChatCompletionChunk {
    serde_json::from_value(json!({
        "id": "c", "object": "chat.completion.chunk", "model": "m",
        "choices": [{"index": 0, "delta": {"tool_calls": fragments}, "finish_reason": null}]
    }))
    .unwrap()
}

fn assemble(fragments: &[Value]) -> Vec<ToolCall> {
    let mut assembler = ToolCallAssembler::new();
    for fragment in fragments {
        assembler.push_chunk(&chunk(json!([fragment])));
    }
    assembler.into_calls()
}

#[test]
fn documented_lmstudio_sequence() {
    let calls = assemble(&[
        json!({"index":0,"id":"814890118","type":"function","function":{"name":"get_current_weather","arguments":""}}),
        json!({"index":0,"function":{"arguments":"{\""}}),
        json!({"index":0,"function":{"arguments":"location"}}),
        json!({"index":0,"function":{"arguments":"\":\"San Francisco, CA\"}"}}),
    ]);
    assert_eq!(
        calls,
        [ToolCall::function(
            "814890118",
            "get_current_weather",
            r#"{"location":"San Francisco, CA"}"#
        )]
    );
}

#[test]
fn arguments_in_one_piece() {
    let calls = assemble(&[json!({"index":0,"id":"1","type":"function",
        "function":{"name":"f","arguments":"{\"a\":1}"}})]);
    assert_eq!(calls, [ToolCall::function("1", "f", r#"{"a":1}"#)]);
    assert_eq!(calls[0].arguments_json().unwrap(), json!({"a": 1}));
}

#[test]
fn missing_index_continues_the_last_call() {
    let calls = assemble(&[
        json!({"id":"a","type":"function","function":{"name":"first","arguments":"{\"x\""}}),
        json!({"function":{"arguments":":1}"}}),
        json!({"id":"b","function":{"name":"second","arguments":"{}"}}),
        json!({"function":{"arguments":""}}),
    ]);
    assert_eq!(
        calls,
        [
            ToolCall::function("a", "first", r#"{"x":1}"#),
            ToolCall::function("b", "second", "{}"),
        ]
    );
}

#[test]
fn missing_index_and_id_but_a_new_name_starts_a_new_call() {
    let calls = assemble(&[
        json!({"function":{"name":"first","arguments":"{}"}}),
        json!({"function":{"name":"first","arguments":""}}),
        json!({"function":{"name":"second","arguments":"{}"}}),
    ]);
    let names: Vec<&str> = calls.iter().map(|c| c.function.name.as_str()).collect();
    assert_eq!(names, ["first", "second"]);
    assert!(
        calls
            .iter()
            .all(|c| c.id.is_empty() && c.kind == ToolType::Function)
    );
}

#[test]
fn type_arriving_late_or_never() {
    let calls = assemble(&[
        json!({"index":0,"id":"1","function":{"name":"f","arguments":""}}),
        json!({"index":0,"type":"function","function":{"arguments":"{}"}}),
    ]);
    assert_eq!(calls, [ToolCall::function("1", "f", "{}")]);
    let calls = assemble(&[json!({"index":0,"id":"1","function":{"name":"f","arguments":"{}"}})]);
    assert_eq!(calls[0].kind, ToolType::Function);
    let calls = assemble(&[
        json!({"index":0,"id":"1","type":"mcp","function":{"name":"f","arguments":"{}"}}),
    ]);
    assert_eq!(calls[0].kind, ToolType::Other("mcp".into()));
}

#[test]
fn parallel_calls_interleaved_by_index() {
    let mut assembler = ToolCallAssembler::new();
    assembler.push_chunk(&chunk(json!([
        {"index":0,"id":"a","type":"function","function":{"name":"f","arguments":""}},
        {"index":1,"id":"b","type":"function","function":{"name":"g","arguments":""}}
    ])));
    assembler.push_chunk(&chunk(
        json!([{"index":1,"function":{"arguments":"{\"y\":2}"}}]),
    ));
    assembler.push_chunk(&chunk(
        json!([{"index":0,"function":{"arguments":"{\"x\":1}"}}]),
    ));
    assert_eq!(assembler.len(), 2);
    assert_eq!(
        assembler.calls(),
        [
            ToolCall::function("a", "f", r#"{"x":1}"#),
            ToolCall::function("b", "g", r#"{"y":2}"#),
        ]
    );
}

#[test]
fn a_reused_index_with_a_new_id_is_a_new_call() {
    let calls = assemble(&[
        json!({"index":0,"id":"a","type":"function","function":{"name":"f","arguments":"{}"}}),
        json!({"index":0,"id":"b","type":"function","function":{"name":"g","arguments":"{}"}}),
    ]);
    assert_eq!(
        calls,
        [
            ToolCall::function("a", "f", "{}"),
            ToolCall::function("b", "g", "{}")
        ]
    );
}

#[test]
fn repeated_id_and_name_on_every_fragment() {
    let calls = assemble(&[
        json!({"index":0,"id":"a","type":"function","function":{"name":"f","arguments":"{\"q\":"}}),
        json!({"index":0,"id":"a","type":"function","function":{"name":"f","arguments":"\"x\"}"}}),
    ]);
    assert_eq!(calls, [ToolCall::function("a", "f", r#"{"q":"x"}"#)]);
}

#[test]
fn choices_are_kept_apart() {
    let mut assembler = ToolCallAssembler::new();
    let chunk: ChatCompletionChunk = serde_json::from_value(json!({"choices": [
        {"index":0,"delta":{"tool_calls":[{"index":0,"id":"a","function":{"name":"f","arguments":"{"}}]}},
        {"index":1,"delta":{"tool_calls":[{"index":0,"id":"b","function":{"name":"g","arguments":"["}}]}}
    ]}))
    .unwrap();
    assembler.push_chunk(&chunk);
    let chunk: ChatCompletionChunk = serde_json::from_value(json!({"choices": [
        {"index":1,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"]"}}]}},
        {"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"}"}}]}}
    ]}))
    .unwrap();
    assembler.push_chunk(&chunk);
    assert_eq!(
        assembler.calls(),
        [
            ToolCall::function("a", "f", "{}"),
            ToolCall::function("b", "g", "[]")
        ]
    );
}

#[test]
fn deltas_and_single_fragments() {
    let mut assembler = ToolCallAssembler::new();
    assert!(assembler.is_empty());
    let delta: ChatDelta = serde_json::from_value(
        json!({"tool_calls":[{"index":0,"id":"a","function":{"name":"f","arguments":"{"}}]}),
    )
    .unwrap();
    assembler.push_delta(&delta);
    let fragment: ToolCallDelta =
        serde_json::from_value(json!({"index":0,"function":{"arguments":"}"}})).unwrap();
    assembler.push_fragment(&fragment);
    assert_eq!(assembler.calls(), [ToolCall::function("a", "f", "{}")]);
}

#[test]
fn object_arguments_in_a_fragment_are_kept_as_text() {
    let calls =
        assemble(&[json!({"index":0,"id":"a","function":{"name":"f","arguments":{"k":true}}})]);
    assert_eq!(calls[0].arguments_json().unwrap(), json!({"k": true}));
}

#[test]
fn chunks_without_tool_calls_change_nothing() {
    let mut assembler = ToolCallAssembler::new();
    let chunk: ChatCompletionChunk = serde_json::from_value(
        json!({"choices":[{"index":0,"delta":{"content":"hi"},"finish_reason":null}]}),
    )
    .unwrap();
    assembler.push_chunk(&chunk);
    let usage: ChatCompletionChunk =
        serde_json::from_value(json!({"choices":[],"usage":{"prompt_tokens":1}})).unwrap();
    assembler.push_chunk(&usage);
    assert!(assembler.is_empty());
    assert!(assembler.calls().is_empty());
}
