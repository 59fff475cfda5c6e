//! The Anthropic Messages API types (`lmstudio_proto::anthropic`) against real captures
//! (llama.cpp's `/v1/messages`, Anthropic's API recorded by its Python SDK), the SDKs' stream
//! fixtures, populated samples (every key `null` in turn) and hostile streams. Sources and
//! licences: `data/anthropic/README.md`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod assembler;
mod assembler_edges;
mod llama_server;
mod nulls;
mod requests;
mod sdk;
mod tagged;

use lmstudio_proto::anthropic::{AssembleError, MessageAssembler, MessagesResponse, StreamEvent};

use crate::common::round_trip;

/// A test data file under `data/anthropic/`, as `(name, text)`.
macro_rules! data {
    ($path:literal) => {
        ($path, include_str!(concat!("../../data/anthropic/", $path)))
    };
}
pub(crate) use data;

/// One SSE event: its `event:` name (if any) and its `data:` lines joined with `\n`.
pub(crate) struct SseEvent {
    pub(crate) name: Option<String>,
    pub(crate) data: String,
}

/// Splits an SSE body into events as the SSE spec does: fields until a blank line, `data:`
/// lines joined, comments skipped; an event cut before its blank line still counts.
pub(crate) fn sse_events(body: &str) -> Vec<SseEvent> {
    let mut events = Vec::new();
    let (mut name, mut data): (Option<String>, Option<String>) = (None, None);
    for line in body.lines().chain(std::iter::once("")) {
        if line.is_empty() {
            if let Some(data) = data.take() {
                events.push(SseEvent {
                    name: name.take(),
                    data,
                });
            }
            name = None;
            continue;
        }
        let (field, value) = line.split_once(':').unwrap_or((line, ""));
        let value = value.strip_prefix(' ').unwrap_or(value);
        match field {
            "event" => name = Some(value.to_owned()),
            "data" => match &mut data {
                Some(data) => {
                    data.push('\n');
                    data.push_str(value);
                }
                None => data = Some(value.to_owned()),
            },
            _ => {}
        }
    }
    events
}

/// Every event of a stream, each round-tripped (nothing lost), its `event:` name checked
/// against its `type`.
pub(crate) fn stream((name, body): (&str, &str)) -> Vec<StreamEvent> {
    let events: Vec<StreamEvent> = sse_events(body)
        .iter()
        .enumerate()
        .map(|(i, sse)| {
            let event: StreamEvent = round_trip(&format!("{name}#{i}"), &sse.data);
            assert_eq!(
                sse.name.as_deref(),
                Some(event.kind()),
                "{name}#{i}: the SSE event name and the data's type differ"
            );
            let again = StreamEvent::from_sse(sse.name.as_deref(), &sse.data).unwrap();
            assert_eq!(again, event, "{name}#{i}: from_sse reads it differently");
            event
        })
        .collect();
    assert!(!events.is_empty(), "{name}: no events");
    events
}

/// The kinds of the events, in order.
pub(crate) fn kinds(events: &[StreamEvent]) -> Vec<&str> {
    events.iter().map(StreamEvent::kind).collect()
}

/// Feeds every event; the first error is returned with the assembler as it was then.
pub(crate) fn assemble(events: &[StreamEvent]) -> (MessageAssembler, Result<(), AssembleError>) {
    let mut assembler = MessageAssembler::new();
    for event in events {
        if let Err(error) = assembler.push(event) {
            return (assembler, Err(error));
        }
    }
    (assembler, Ok(()))
}

/// The message a complete stream builds.
pub(crate) fn assembled(name: &str, events: &[StreamEvent]) -> MessagesResponse {
    let (assembler, pushed) = assemble(events);
    pushed.unwrap_or_else(|e| panic!("{name}: {e}"));
    assert!(assembler.is_complete(), "{name}: no message_stop");
    let message = assembler.finish().unwrap();
    // What the assembler built serializes back to a message body.
    round_trip::<MessagesResponse>(name, &serde_json::to_string(&message).unwrap());
    message
}

/// The text of every `text_delta`, joined.
pub(crate) fn delta_text(events: &[StreamEvent]) -> String {
    events.iter().filter_map(StreamEvent::text_delta).collect()
}

#[test]
fn the_sse_splitter_follows_the_spec() {
    let events =
        sse_events(": comment\nevent: a\ndata: 1\ndata: 2\n\ndata:3\r\n\r\nevent: b\ndata: cut");
    let got: Vec<(Option<&str>, &str)> = events
        .iter()
        .map(|e| (e.name.as_deref(), e.data.as_str()))
        .collect();
    assert_eq!(got, [(Some("a"), "1\n2"), (None, "3"), (Some("b"), "cut")]);
}
