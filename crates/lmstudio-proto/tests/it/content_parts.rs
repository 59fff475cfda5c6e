//! Assistant content as a string or an array of parts (text, thinking, refusal, unknown).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use common::round_trip;
use lmstudio_proto::openai::{
    AssistantMessage, ChatCompletionChunk, ChatCompletionResponse, ChatDelta, ChatMessage,
    ContentPart, MessageContent, ToolCallAssembler,
};
use serde_json::json;

#[test]
fn mistral_nested_thinking_in_a_response() {
    let response: ChatCompletionResponse = round_trip(
        "mistral response",
        &json!({"id":"r","model":"magistral-small","choices":[{"index":0,"finish_reason":"stop",
            "message":{"role":"assistant","tool_calls":null,"content":[
                {"type":"thinking","thinking":[{"type":"text","text":"Two plus "},
                    {"type":"text","text":"two."}]},
                {"type":"text","text":"2 + 2 = 4"}]}}]})
        .to_string(),
    );
    assert_eq!(response.text().as_deref(), Some("2 + 2 = 4"));
    assert_eq!(response.reasoning().as_deref(), Some("Two plus two."));
    let message = &response.choices[0].message;
    assert!(message.tool_calls.is_empty());
    assert_eq!(message.reasoning_text(), None, "no reasoning field");
    let content = message.content.as_ref().unwrap();
    assert_eq!(content.parts().len(), 2);
    assert_eq!(content.parts()[0].kind(), "thinking");
    assert_eq!(content.as_str(), None);
}

#[test]
fn flat_thinking_reasoning_and_refusal_parts() {
    let message: AssistantMessage = round_trip(
        "flat parts",
        r#"{"role":"assistant","reasoning_content":"first. ","content":[
            {"type":"thinking","thinking":"second. ","signature":"sig=="},
            {"type":"reasoning","text":"third."},
            {"type":"refusal","refusal":"I can't."},
            {"type":"text","text":"a"},{"type":"text","text":"b"}]}"#,
    );
    assert_eq!(message.text().as_deref(), Some("ab"));
    assert_eq!(
        message.reasoning().as_deref(),
        Some("first. second. third.")
    );
    let content = message.content.as_ref().unwrap();
    assert_eq!(content.refusal(), "I can't.");
    assert_eq!(content.reasoning(), "second. third.");
    match &content.parts()[0] {
        ContentPart::Thinking(part) => assert_eq!(part.extra["signature"], "sig=="),
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn unknown_parts_are_kept_verbatim() {
    let parts = json!([
        {"type":"reference","reference_ids":[1,2]},
        {"type":"text","text":"x"},
        {"type":"thinking","thinking":[{"type":"text","text":"t"},{"type":"reference","ids":[3]}],"closed":true}
    ]);
    let content: MessageContent = serde_json::from_value(parts.clone()).unwrap();
    assert_eq!(serde_json::to_value(&content).unwrap(), parts);
    assert_eq!(content.text(), "x");
    assert_eq!(content.reasoning(), "t");
    assert_eq!(content.parts()[0].kind(), "reference");
}

#[test]
fn plain_string_content_is_written_as_a_string() {
    let text = r#"{"role":"assistant","content":"hi"}"#;
    let message: AssistantMessage = serde_json::from_str(text).unwrap();
    assert_eq!(message.content, Some(MessageContent::from("hi")));
    assert_eq!(serde_json::to_string(&message).unwrap(), text);
    assert_eq!(message.reasoning(), None);
    let delta: ChatDelta = serde_json::from_str(r#"{"content":"x"}"#).unwrap();
    assert_eq!(serde_json::to_string(&delta).unwrap(), r#"{"content":"x"}"#);
}

#[test]
fn the_history_message_leaves_thinking_out() {
    let message: AssistantMessage = serde_json::from_value(json!({"content":[
        {"type":"thinking","thinking":[{"type":"text","text":"hm"}]},
        {"type":"text","text":"4"}]}))
    .unwrap();
    let history: ChatMessage = message.into();
    assert_eq!(
        serde_json::to_value(&history).unwrap(),
        json!({"role":"assistant","content":[{"type":"text","text":"4"}]})
    );
    let only_thinking: AssistantMessage =
        serde_json::from_value(json!({"content":[{"type":"thinking","thinking":"hm"}]})).unwrap();
    assert_eq!(ChatMessage::from(only_thinking).content, None);
}

#[test]
fn a_mistral_style_stream_assembles_text_and_reasoning() {
    let deltas = [
        json!({"role":"assistant","content":""}),
        json!({"content":[{"type":"thinking","thinking":[{"type":"text","text":"Okay"}]}]}),
        json!({"content":[{"type":"thinking","thinking":[{"type":"text","text":", sure."}]}]}),
        json!({"content":"2 + 2"}),
        json!({"content":[{"type":"text","text":" = 4"}],"tool_calls":null,"role":null}),
    ];
    let mut assembler = ToolCallAssembler::new();
    let mut texts = Vec::new();
    for delta in deltas {
        let chunk: ChatCompletionChunk =
            serde_json::from_value(json!({"choices":[{"index":0,"delta":delta}]})).unwrap();
        texts.push(chunk.content().map(|t| t.into_owned()));
        assembler.push_chunk(&chunk);
    }
    assert_eq!(assembler.text(), "2 + 2 = 4");
    assert_eq!(assembler.reasoning(), "Okay, sure.");
    assert!(assembler.is_empty(), "no tool calls");
    assert_eq!(
        texts[1].as_deref(),
        Some(""),
        "a thinking-only delta has no text"
    );
    assert_eq!(texts[4].as_deref(), Some(" = 4"));
}

#[test]
fn reasoning_fields_and_parts_in_one_delta() {
    let delta: ChatDelta = serde_json::from_value(json!({
        "reasoning":"", "reasoning_content":"a",
        "content":[{"type":"reasoning","text":"b"},{"type":"text","text":"c"}]
    }))
    .unwrap();
    assert_eq!(delta.reasoning().as_deref(), Some("ab"));
    assert_eq!(delta.text().as_deref(), Some("c"));
    assert_eq!(
        delta.reasoning_text(),
        Some(""),
        "the field alone, as before"
    );
    let empty: ChatDelta = serde_json::from_value(json!({"reasoning":""})).unwrap();
    assert_eq!(empty.reasoning(), None);
    assert_eq!(empty.text(), None);
}

#[test]
fn null_inside_parts_reads_as_empty() {
    let content: MessageContent = serde_json::from_value(json!([
        {"type":"text","text":null},
        {"type":"thinking","thinking":null},
        {"type":"refusal","refusal":null},
        {"type":"image_url","image_url":null}
    ]))
    .unwrap();
    assert_eq!(content.text(), "");
    assert_eq!(content.reasoning(), "");
    let again: MessageContent =
        serde_json::from_value(serde_json::to_value(&content).unwrap()).unwrap();
    assert_eq!(again, content);
    let wrong: Result<MessageContent, _> = serde_json::from_value(json!(7));
    assert!(wrong.is_err());
    assert_eq!(
        serde_json::to_value(ContentPart::thinking("x")).unwrap(),
        json!({"type":"thinking","thinking":"x"})
    );
}
