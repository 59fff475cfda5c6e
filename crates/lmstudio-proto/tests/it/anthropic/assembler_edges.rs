//! `MessageAssembler` where a stream is odd but legal, as the Python SDK reads it: a tool input
//! cut by `max_tokens`, an input that fails at its stop, tool calls without `input`,
//! signatures, citations, deltas without a body, `message_start` without `content`, and the
//! top-level fields of `message_delta`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use lmstudio_proto::anthropic::{
    AssembleError, ContentBlock, ContentBlockStartEvent, ContentDelta, MessagesResponse,
    StopReason, StreamEvent,
};
use serde_json::{Map, Value, json};

use super::assemble;
use super::assembled;
use super::assembler::{
    block_start, delta, event, json_piece, message_stop, start, stop, text, tool_use,
};

fn max_tokens() -> StreamEvent {
    event(
        json!({"type": "message_delta", "delta": {"stop_reason": "max_tokens",
        "stop_sequence": null}, "usage": {"output_tokens": 9}}),
    )
}

fn signature(piece: &str) -> Value {
    json!({"type": "signature_delta", "signature": piece})
}

fn citation(piece: Value) -> Value {
    json!({"type": "citations_delta", "citation": piece})
}

fn parse(text: &str) -> StreamEvent {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("{text}: {e}"))
}

#[test]
fn message_stop_completes_a_message_whose_open_tool_input_is_cut() {
    let cut = "{\"path\": \"a.txt\", \"body\": \"hal";
    let events = [
        start(),
        block_start(0, json!({"type": "text", "text": ""})),
        text(0, "Writing it."),
        stop(0),
        tool_use(1),
        json_piece(1, cut),
        block_start(
            2,
            json!({"type": "server_tool_use", "id": "s", "input": {}}),
        ),
        json_piece(2, "{\"q\": "),
        max_tokens(),
        message_stop(),
    ];
    let (assembler, pushed) = assemble(&events);
    pushed.unwrap();
    assert!(assembler.is_complete());
    assert_eq!(assembler.partial_json(1), Some(cut));
    assert_eq!(assembler.partial_json(2), Some("{\"q\": "));
    let message = assembler.finish().unwrap();
    assert_eq!(message.text(), "Writing it.");
    // The cut calls keep the input they started with; `stop_reason` says why.
    assert_eq!(message.content[1].as_tool_use().unwrap().input, json!({}));
    let ContentBlock::Other(search) = &message.content[2] else {
        panic!("an unknown block: {:?}", message.content[2])
    };
    assert_eq!(search["input"], json!({}));
    assert_eq!(message.stop_reason, Some(StopReason::MaxTokens));
}

#[test]
fn an_input_that_fails_at_its_stop_closes_the_block_and_finish_reports_it() {
    let events = [
        start(),
        block_start(0, json!({"type": "text", "text": "Hi"})),
        stop(0),
        tool_use(1),
        json_piece(1, "{\"a\": "),
        json_piece(1, "tru"),
        stop(1),
    ];
    let (mut assembler, pushed) = assemble(&events);
    let Err(AssembleError::InvalidToolInput { index: 1, error }) = pushed else {
        panic!("invalid input: {pushed:?}")
    };
    assert!(
        error.contains("expected ident") || error.contains("EOF"),
        "{error}"
    );
    // The block is closed: later events for it are refused, a piece that would complete the
    // JSON included, and its input stays as it started.
    for late in [json_piece(1, "e}"), stop(1)] {
        assert_eq!(
            assembler.push(&late),
            Err(AssembleError::BlockStopped { index: 1 })
        );
    }
    assert_eq!(assembler.partial_json(1), Some("{\"a\": tru"));
    let snapshot = assembler.snapshot().unwrap();
    assert_eq!(snapshot.content[1].as_tool_use().unwrap().input, json!({}));
    // message_stop completes the message (not `EndedEarly`); finish reports the block.
    assembler.push(&message_stop()).unwrap();
    assert!(assembler.is_complete());
    assert_eq!(
        assembler.finish(),
        Err(AssembleError::InvalidToolInput { index: 1, error })
    );
}

#[test]
fn a_tool_call_started_without_input_gets_an_empty_object() {
    let mut null_input = ContentBlockStartEvent::default();
    null_input.content_block = ContentBlock::tool_use("t", "now", Value::Null);
    let events = [
        start(),
        StreamEvent::ContentBlockStart(null_input),
        stop(0),
        parse(
            r#"{"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"u","name":"now"}}"#,
        ),
        stop(1),
        parse(
            r#"{"type":"content_block_start","index":2,"content_block":{"type":"tool_use","id":"v","name":"now","input":null}}"#,
        ),
        message_stop(),
    ];
    let message = assembled("no input", &events);
    assert_eq!(message.tool_uses().count(), 3);
    for call in message.tool_uses() {
        assert_eq!(call.input, json!({}), "{}", call.id);
    }
    let body = serde_json::to_value(&message).unwrap();
    for index in 0..3 {
        assert_eq!(body["content"][index]["input"], json!({}));
    }
}

#[test]
fn a_signature_delta_replaces_the_signature() {
    let events = [
        start(),
        block_start(
            0,
            json!({"type": "thinking", "thinking": "", "signature": "old"}),
        ),
        delta(0, signature("EqQB")),
        delta(0, signature("EqQC")),
        stop(0),
        block_start(1, json!({"type": "future_thinking", "signature": "old"})),
        delta(1, signature("Zz")),
        delta(1, signature("Zy")),
        stop(1),
        message_stop(),
    ];
    let message = assembled("signatures", &events);
    let ContentBlock::Thinking(thinking) = &message.content[0] else {
        panic!("a thinking block")
    };
    assert_eq!(thinking.signature.as_deref(), Some("EqQC"));
    let ContentBlock::Other(future) = &message.content[1] else {
        panic!("an unknown block")
    };
    assert_eq!(future["signature"], "Zy");
}

#[test]
fn citations_deltas_append_to_the_text_blocks_citations() {
    let cite = |n: u64| {
        json!({"type": "char_location", "cited_text": "x", "document_index": n,
            "start_char_index": 0, "end_char_index": 1})
    };
    let events = [
        start(),
        block_start(0, json!({"type": "text", "text": ""})),
        text(0, "The sky"),
        delta(0, citation(cite(0))),
        text(0, " is blue."),
        delta(0, citation(cite(1))),
        stop(0),
        block_start(1, json!({"type": "text", "text": "", "citations": null})),
        delta(1, citation(cite(2))),
        // No citation in it: nothing to add.
        delta(1, json!({"type": "citations_delta", "citation": null})),
        delta(1, json!({"type": "citations_delta"})),
        stop(1),
        block_start(
            2,
            json!({"type": "text", "text": "", "citations": [cite(3)]}),
        ),
        delta(2, citation(cite(4))),
        stop(2),
        // A block of another kind has no citations to add to (the SDK skips it too).
        tool_use(3),
        delta(3, citation(cite(5))),
        stop(3),
        message_stop(),
    ];
    let message = assembled("citations", &events);
    assert_eq!(message.text(), "The sky is blue.");
    let citations = |index: usize| match &message.content[index] {
        ContentBlock::Text(block) => block.extra["citations"].clone(),
        other => panic!("a text block: {other:?}"),
    };
    assert_eq!(citations(0), json!([cite(0), cite(1)]));
    assert_eq!(citations(1), json!([cite(2)]));
    assert_eq!(citations(2), json!([cite(3), cite(4)]));
    assert_eq!(
        serde_json::to_value(&message.content[3]).unwrap()["citations"],
        Value::Null
    );
    // Citations that are not a list cannot grow.
    let (_, pushed) = assemble(&[
        start(),
        block_start(0, json!({"type": "text", "text": "", "citations": "none"})),
        delta(0, citation(cite(0))),
    ]);
    assert_eq!(
        pushed,
        Err(AssembleError::DeltaMismatch {
            index: 0,
            block: "text".into(),
            delta: "citations_delta (the block's `citations` is not a list)".into()
        })
    );
}

#[test]
fn a_delta_without_a_body_is_skipped() {
    for body in [
        r#"{"type":"content_block_delta","index":0,"delta":null}"#,
        r#"{"type":"content_block_delta","index":0}"#,
        r#"{"index":0,"delta":null,"type":"content_block_delta"}"#,
        r#"{"index":0,"type":"content_block_delta"}"#,
    ] {
        let empty = parse(body);
        let StreamEvent::ContentBlockDelta(piece) = &empty else {
            panic!("{body}: a delta event")
        };
        assert_eq!(piece.delta, ContentDelta::Other(Map::new()), "{body}");
        assert_eq!(piece.delta.kind(), "");
        let events = [
            start(),
            tool_use(0),
            json_piece(0, "{\"a\":"),
            empty.clone(),
            json_piece(0, "1}"),
            stop(0),
            message_stop(),
        ];
        let message = assembled(body, &events);
        assert_eq!(
            message.content[0].as_tool_use().unwrap().input,
            json!({"a": 1})
        );
    }
}

#[test]
fn a_message_start_without_content_opens_an_empty_message() {
    for body in [
        r#"{"type":"message_start","message":{"id":"msg_1","model":"m","usage":{"input_tokens":3}}}"#,
        r#"{"message":{"model":"m","id":"msg_1","usage":{"input_tokens":3}},"type":"message_start"}"#,
    ] {
        let opening = parse(body);
        let StreamEvent::MessageStart(event) = &opening else {
            panic!("{body}: a message_start")
        };
        assert!(event.message.content.is_empty());
        let events = [
            opening.clone(),
            block_start(0, json!({"type": "text", "text": ""})),
            text(0, "hi"),
            stop(0),
            message_stop(),
        ];
        let message = assembled(body, &events);
        assert_eq!(
            (message.id.as_str(), message.text().as_str()),
            ("msg_1", "hi")
        );
        assert_eq!(message.usage.input_tokens, 3);
    }
    // A whole answer still needs its `content` (an error body has none).
    let err =
        serde_json::from_str::<MessagesResponse>(r#"{"id":"msg_1","model":"m"}"#).unwrap_err();
    assert!(err.to_string().contains("missing field `content`"), "{err}");
}

#[test]
fn message_delta_fields_land_on_the_message() {
    let events = [
        start(),
        event(json!({"type": "message_delta",
            "delta": {"stop_reason": "end_turn", "container": {"id": "c1"}},
            "usage": {"output_tokens": 4},
            "context_management": {"applied_edits": [{"type": "clear"}]}})),
        message_stop(),
    ];
    let message = assembled("message_delta fields", &events);
    assert_eq!(
        message.extra["context_management"],
        json!({"applied_edits": [{"type": "clear"}]})
    );
    assert_eq!(message.extra["container"], json!({"id": "c1"}));
    assert_eq!(message.usage.output_tokens, 4);
}
