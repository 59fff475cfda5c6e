//! `MessageAssembler` on broken and hostile streams: cut anywhere, blocks out of order or
//! never started, deltas that do not fit, bad tool JSON, error events. Always a typed error,
//! never a panic, never an allocation an index asks for.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use lmstudio_proto::anthropic::{
    AssembleError, ContentBlock, ContentDelta, ErrorType, MessageAssembler, StopReason, StreamEvent,
};
use serde_json::json;

use super::{assemble, assembled, data, stream};

pub(crate) fn event(json: serde_json::Value) -> StreamEvent {
    serde_json::from_value(json).unwrap()
}

pub(crate) fn start() -> StreamEvent {
    event(
        json!({"type": "message_start", "message": {"id": "msg_1", "type": "message",
        "role": "assistant", "content": [], "model": "m", "stop_reason": null,
        "stop_sequence": null, "usage": {"input_tokens": 10, "output_tokens": 1,
        "cache_read_input_tokens": 4}}}),
    )
}

pub(crate) fn block_start(index: u64, block: serde_json::Value) -> StreamEvent {
    event(json!({"type": "content_block_start", "index": index, "content_block": block}))
}

pub(crate) fn delta(index: u64, delta: serde_json::Value) -> StreamEvent {
    event(json!({"type": "content_block_delta", "index": index, "delta": delta}))
}

pub(crate) fn stop(index: u64) -> StreamEvent {
    event(json!({"type": "content_block_stop", "index": index}))
}

pub(crate) fn message_stop() -> StreamEvent {
    event(json!({"type": "message_stop"}))
}

pub(crate) fn text(index: u64, text: &str) -> StreamEvent {
    delta(index, json!({"type": "text_delta", "text": text}))
}

pub(crate) fn json_piece(index: u64, piece: &str) -> StreamEvent {
    delta(
        index,
        json!({"type": "input_json_delta", "partial_json": piece}),
    )
}

pub(crate) fn tool_use(index: u64) -> StreamEvent {
    block_start(
        index,
        json!({"type": "tool_use", "id": "toolu_1", "name": "f", "input": {}}),
    )
}

/// Pushes events until one fails; returns that error.
fn first_error(events: &[StreamEvent]) -> AssembleError {
    let (_, pushed) = assemble(events);
    pushed.expect_err("the stream must be refused")
}

#[test]
fn a_stream_cut_anywhere_ends_early() {
    // A real stream with a tool call, cut after each of its events but the last.
    let events = stream(data!("sdk/tool_use_response.txt"));
    let whole = assembled("tool_use_response", &events);
    for cut in 0..events.len() {
        let (assembler, pushed) = assemble(&events[..cut]);
        pushed.unwrap();
        assert!(!assembler.is_complete(), "cut at {cut}");
        if cut > 0 {
            // What arrived so far is readable.
            let snapshot = assembler.snapshot().unwrap();
            assert_eq!(snapshot.id, whole.id);
            assert!(whole.text().starts_with(&assembler.text()), "cut at {cut}");
        }
        let err = assembler.finish().unwrap_err();
        let AssembleError::EndedEarly {
            message_started,
            blocks,
        } = err
        else {
            panic!("cut at {cut}: {err:?}")
        };
        assert_eq!(message_started, cut > 0, "cut at {cut}");
        assert!(blocks <= 2);
        assert!(
            err.to_string()
                .starts_with("the stream ended before message_")
        );
    }
}

#[test]
fn a_stream_cut_in_the_middle_of_a_tool_input() {
    let events = stream(data!("sdk/tool_use_response.txt"));
    // Up to the third input_json_delta: the input is half there.
    let cut = events
        .iter()
        .position(|e| match e {
            StreamEvent::ContentBlockDelta(d) => matches!(
                &d.delta,
                ContentDelta::InputJsonDelta(piece) if piece.partial_json.starts_with("on")
            ),
            _ => false,
        })
        .unwrap()
        + 1;
    let (assembler, pushed) = assemble(&events[..cut]);
    pushed.unwrap();
    assert_eq!(assembler.block_count(), 2);
    assert_eq!(assembler.partial_json(1), Some("{\"location\": \"P"));
    // Until the block stops, the call keeps the input it started with.
    let snapshot = assembler.snapshot().unwrap();
    assert_eq!(snapshot.content[1].as_tool_use().unwrap().input, json!({}));
    assert_eq!(snapshot.stop_reason, None);
    assert!(matches!(
        assembler.finish(),
        Err(AssembleError::EndedEarly {
            message_started: true,
            blocks: 2
        })
    ));
}

#[test]
fn blocks_must_start_in_order_and_no_index_allocates() {
    for index in [1, 2, 7, u64::from(u32::MAX)] {
        let err = first_error(&[
            start(),
            block_start(index, json!({"type": "text", "text": ""})),
        ]);
        assert_eq!(
            err,
            AssembleError::UnexpectedIndex {
                index: u32::try_from(index).unwrap(),
                expected: 0
            }
        );
    }
    // A repeated start.
    let err = first_error(&[
        start(),
        block_start(0, json!({"type": "text", "text": ""})),
        block_start(0, json!({"type": "text", "text": ""})),
    ]);
    assert_eq!(
        err,
        AssembleError::UnexpectedIndex {
            index: 0,
            expected: 1
        }
    );
    // An index beyond u32 is not an event at all.
    let huge = r#"{"type":"content_block_delta","index":1000000000000,"delta":{"type":"text_delta","text":"x"}}"#;
    assert!(serde_json::from_str::<StreamEvent>(huge).is_err());
}

#[test]
fn deltas_and_stops_must_name_a_started_open_block() {
    for bad in [text(0, "x"), stop(0), text(u64::from(u32::MAX), "x")] {
        let index = match &bad {
            StreamEvent::ContentBlockDelta(d) => d.index,
            StreamEvent::ContentBlockStop(s) => s.index,
            _ => unreachable!(),
        };
        let err = first_error(&[start(), bad]);
        assert_eq!(err, AssembleError::UnknownBlock { index });
    }
    let opened = [start(), block_start(0, json!({"type": "text", "text": ""}))];
    for after in [text(0, "late"), stop(0)] {
        let mut events = opened.to_vec();
        events.extend([stop(0), after]);
        assert_eq!(
            first_error(&events),
            AssembleError::BlockStopped { index: 0 }
        );
    }
}

#[test]
fn a_delta_must_fit_its_block() {
    let cases = [
        (tool_use(0), text(0, "x"), ("tool_use", "text_delta")),
        (
            block_start(0, json!({"type": "text", "text": ""})),
            json_piece(0, "{}"),
            ("text", "input_json_delta"),
        ),
        (
            block_start(0, json!({"type": "text", "text": ""})),
            delta(0, json!({"type": "signature_delta", "signature": "s"})),
            ("text", "signature_delta"),
        ),
        (
            block_start(0, json!({"type": "redacted_thinking", "data": "d"})),
            delta(0, json!({"type": "thinking_delta", "thinking": "t"})),
            ("redacted_thinking", "thinking_delta"),
        ),
    ];
    for (block, piece, (block_kind, delta_kind)) in cases {
        let err = first_error(&[start(), block, piece]);
        assert_eq!(
            err,
            AssembleError::DeltaMismatch {
                index: 0,
                block: block_kind.into(),
                delta: delta_kind.into()
            }
        );
        assert!(err.to_string().contains(delta_kind), "{err}");
    }
}

#[test]
fn a_tool_call_without_input_deltas_keeps_its_start_input() {
    let events = [
        start(),
        block_start(
            0,
            json!({"type": "tool_use", "id": "t", "name": "now", "input": {"tz": "UTC"}}),
        ),
        json_piece(0, ""),
        stop(0),
        message_stop(),
    ];
    let message = assembled("no input deltas", &events);
    assert_eq!(
        message.content[0].as_tool_use().unwrap().input,
        json!({"tz": "UTC"})
    );
}

#[test]
fn events_out_of_place() {
    assert_eq!(
        first_error(&[text(0, "x")]),
        AssembleError::NotStarted {
            event: "content_block_delta".into()
        }
    );
    assert_eq!(
        first_error(&[message_stop()]),
        AssembleError::NotStarted {
            event: "message_stop".into()
        }
    );
    assert_eq!(
        first_error(&[start(), start()]),
        AssembleError::DuplicateMessageStart
    );
    let ping = event(json!({"type": "ping"}));
    assert_eq!(
        first_error(&[start(), message_stop(), ping.clone()]),
        AssembleError::AfterMessageStop {
            event: "ping".into()
        }
    );
    // Pings and unknown events are skipped anywhere before the end.
    let unknown = event(json!({"type": "thread.note", "n": 1}));
    let message = assembled(
        "pings",
        &[ping.clone(), start(), unknown, ping, message_stop()],
    );
    assert!(message.content.is_empty());
}

#[test]
fn an_error_event_is_returned_with_its_type_and_message() {
    let error = event(
        json!({"type": "error", "error": {"type": "overloaded_error",
        "message": "Overloaded"}}),
    );
    let mut assembler = MessageAssembler::new();
    assembler.push(&start()).unwrap();
    assembler
        .push(&block_start(0, json!({"type": "text", "text": ""})))
        .unwrap();
    assembler.push(&text(0, "Hel")).unwrap();
    let Err(AssembleError::Api(detail)) = assembler.push(&error) else {
        panic!("the error event")
    };
    assert_eq!(detail.error_type(), Some(&ErrorType::Overloaded));
    assert_eq!(detail.message(), "Overloaded");
    assert_eq!(
        AssembleError::Api(detail).to_string(),
        "the server sent an error event: overloaded_error: Overloaded"
    );
    assert_eq!(assembler.text(), "Hel");
    assert!(matches!(
        assembler.finish(),
        Err(AssembleError::EndedEarly { .. })
    ));
}

#[test]
fn usage_and_stop_come_from_message_delta_over_message_start() {
    let events = [
        start(),
        event(
            json!({"type": "message_delta", "delta": {"stop_reason": "end_turn",
            "stop_sequence": null, "stop_details": {"type": "x"}},
            "usage": {"output_tokens": 30, "cache_creation_input_tokens": 2,
            "server_tool_use": {"web_search_requests": 1}}}),
        ),
        event(
            json!({"type": "message_delta", "delta": {"stop_reason": null},
            "usage": {"output_tokens": 31, "input_tokens": 11}}),
        ),
        message_stop(),
    ];
    let message = assembled("usage", &events);
    // A later delta without a stop reason keeps the earlier one.
    assert_eq!(message.stop_reason, Some(StopReason::EndTurn));
    assert_eq!(message.extra["stop_details"]["type"], "x");
    let usage = &message.usage;
    assert_eq!((usage.input_tokens, usage.output_tokens), (11, 31));
    assert_eq!(usage.cache_read_input_tokens, Some(4));
    assert_eq!(usage.cache_creation_input_tokens, Some(2));
    assert_eq!(usage.extra["server_tool_use"]["web_search_requests"], 1);
    assert_eq!(usage.total_input_tokens(), 17);
}

#[test]
fn blocks_of_unknown_types_grow_in_their_own_keys() {
    let events = [
        start(),
        block_start(
            0,
            json!({"type": "server_tool_use", "id": "s", "name": "web_search", "input": {}}),
        ),
        json_piece(0, "{\"q\":"),
        json_piece(0, "\"x\"}"),
        stop(0),
        block_start(1, json!({"type": "compaction"})),
        text(1, "sum"),
        text(1, "mary"),
        delta(1, json!({"type": "thinking_delta", "thinking": "t"})),
        delta(1, json!({"type": "signature_delta", "signature": "g"})),
        delta(1, json!({"type": "citations_delta", "citation": {}})),
        stop(1),
        block_start(2, json!({"type": "odd", "text": 5})),
        text(2, "x"),
    ];
    let (assembler, pushed) = assemble(&events);
    assert_eq!(
        pushed,
        Err(AssembleError::DeltaMismatch {
            index: 2,
            block: "odd".into(),
            delta: "text (the block's `text` is not a string)".into()
        })
    );
    let snapshot = assembler.snapshot().unwrap();
    let ContentBlock::Other(search) = &snapshot.content[0] else {
        panic!("unknown block")
    };
    assert_eq!(search["input"], json!({"q": "x"}));
    let ContentBlock::Other(compaction) = &snapshot.content[1] else {
        panic!("unknown block")
    };
    assert_eq!(
        compaction,
        json!({"type": "compaction", "text": "summary", "thinking": "t", "signature": "g"})
            .as_object()
            .unwrap()
    );
}

#[test]
fn blocks_in_message_start_come_first() {
    let start = event(
        json!({"type": "message_start", "message": {"id": "m", "content": [
        {"type": "text", "text": "prefilled "}], "usage": {}}}),
    );
    let events = [
        start,
        block_start(1, json!({"type": "text", "text": ""})),
        text(1, "rest"),
        stop(1),
        message_stop(),
    ];
    let message = assembled("prefilled", &events);
    assert_eq!(message.text(), "prefilled rest");
    assert_eq!(message.content.len(), 2);
}

#[test]
fn thinking_and_signature_from_deltas() {
    let events = [
        start(),
        block_start(
            0,
            json!({"type": "thinking", "thinking": "", "signature": ""}),
        ),
        delta(0, json!({"type": "thinking_delta", "thinking": "Let me "})),
        delta(0, json!({"type": "thinking_delta", "thinking": "think."})),
        delta(0, json!({"type": "signature_delta", "signature": "EqQB"})),
        stop(0),
        block_start(1, json!({"type": "thinking"})),
        delta(1, json!({"type": "signature_delta", "signature": "Zz"})),
        stop(1),
        message_stop(),
    ];
    let message = assembled("thinking", &events);
    let [
        ContentBlock::Thinking(first),
        ContentBlock::Thinking(second),
    ] = message.content.as_slice()
    else {
        panic!("two thinking blocks")
    };
    assert_eq!(first.thinking, "Let me think.");
    assert_eq!(first.signature.as_deref(), Some("EqQB"));
    // A start without a signature gets one from its delta.
    assert_eq!(second.signature.as_deref(), Some("Zz"));
    assert_eq!(message.thinking(), "Let me think.");
}
