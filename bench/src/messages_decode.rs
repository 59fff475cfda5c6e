//! Benchmark: decoding a large Anthropic Messages stream (`/v1/messages`, `stream: true`)
//! into this project's types, against decoding the same events into `serde_json::Value`.
//!
//! No Rust Anthropic client is in the workspace's reach (the package lists hold SDKs for
//! .NET, Java and Go only), so the baseline is what a Rust program without these types
//! does: parse each event's data into a `Value`. The input is one long answer built from
//! llama.cpp's real Messages streams (`bench/data`): its `message_start` and
//! `content_block_start`, every captured `text_delta` event cycled to tens of MB, then
//! `content_block_stop`, `message_delta` and `message_stop`, with `event:` names as the
//! server sends them. Both sides get the same bytes, cut into the same 8 KiB pieces, through
//! the same SSE decoder (`lmstudio_transport::sse::SseDecoder`), so only the JSON target
//! differs:
//! - ours: `lmstudio_proto::anthropic::StreamEvent::from_sse` per event (the typed event a
//!   `MessagesStream` yields); a second figure also feeds each event to `MessageAssembler`
//!   (the whole of `messages_stream`'s per-event work: the final message built from the
//!   deltas);
//! - baseline: `serde_json::from_str::<Value>` per event.

use std::hint::black_box;
use std::time::Instant;

use bytes::Bytes;
use lmstudio_proto::anthropic::{MessageAssembler, StreamEvent};
use lmstudio_transport::Limits;
use lmstudio_transport::sse::SseDecoder;
use serde_json::{Value, json};

use crate::Params;
use crate::report::Figure;
use crate::sse_decode::PIECE;
use crate::stats::Samples;

/// llama.cpp's Messages streams, embedded at build time.
const STREAMS: [&str; 2] = [
    include_str!("../data/llama_server_messages_stream.sse"),
    include_str!("../data/llama_server_messages_tools_stream.sse"),
];

/// One SSE event of a capture: its name and data.
type Event = (&'static str, &'static str);

/// The events of a capture, in order.
fn events(stream: &'static str) -> Vec<Event> {
    stream
        .split("\n\n")
        .filter_map(|block| {
            let mut name = None;
            let mut data = None;
            for line in block.lines() {
                if let Some(value) = line.strip_prefix("event: ") {
                    name = Some(value);
                } else if let Some(value) = line.strip_prefix("data: ") {
                    data = Some(value);
                }
            }
            Some((name?, data?))
        })
        .collect()
}

/// One answer of at least `min_bytes`: the first capture's opening events, every
/// `text_delta` of every capture cycled, the first capture's closing events. Returns the
/// bytes and the number of events.
fn corpus(min_bytes: usize) -> (Vec<u8>, usize) {
    let first = events(STREAMS[0]);
    let is_delta = |(name, _): &Event| *name == "content_block_delta";
    let head: Vec<Event> = first.iter().copied().take_while(|e| !is_delta(e)).collect();
    let tail: Vec<Event> = first
        .iter()
        .copied()
        .skip_while(|e| !is_delta(e))
        .filter(|e| !is_delta(e))
        .collect();
    let deltas: Vec<Event> = STREAMS
        .iter()
        .flat_map(|stream| events(stream))
        .filter(|e| is_delta(e))
        .collect();
    let mut out = Vec::with_capacity(min_bytes + 4096);
    let mut count = 0;
    let mut push = |out: &mut Vec<u8>, (name, data): Event| {
        out.extend_from_slice(format!("event: {name}\ndata: {data}\n\n").as_bytes());
        count += 1;
    };
    for event in &head {
        push(&mut out, *event);
    }
    while out.len() < min_bytes && !deltas.is_empty() {
        for event in &deltas {
            push(&mut out, *event);
        }
    }
    for event in &tail {
        push(&mut out, *event);
    }
    (out, count)
}

/// What each side does with an event.
#[derive(Clone, Copy, PartialEq, Debug)]
enum Work {
    /// `StreamEvent::from_sse`.
    Typed,
    /// `StreamEvent::from_sse`, then `MessageAssembler::push`.
    Assembled,
    /// `serde_json::from_str::<Value>` (the baseline).
    Value,
}

/// Decodes the pieces; returns the number of events and the assembled text's length.
fn decode(pieces: &[Bytes], work: Work) -> Result<(usize, usize), String> {
    let mut decoder = SseDecoder::new(Limits::default().max_sse_event_bytes);
    let mut assembler = MessageAssembler::new();
    let mut count = 0;
    let mut handle = |name: Option<&str>, data: &str| -> Result<(), String> {
        match work {
            Work::Typed => {
                let event = StreamEvent::from_sse(name, data).map_err(|e| format!("typed: {e}"))?;
                black_box(event);
            }
            Work::Assembled => {
                let event = StreamEvent::from_sse(name, data).map_err(|e| format!("typed: {e}"))?;
                assembler
                    .push(&event)
                    .map_err(|e| format!("assembler: {e}"))?;
            }
            Work::Value => {
                let value: Value = serde_json::from_str(data).map_err(|e| format!("value: {e}"))?;
                black_box(value);
            }
        }
        count += 1;
        Ok(())
    };
    for piece in pieces {
        decoder.push(piece);
        while let Some(event) = decoder.next_event_ref() {
            let event = event.map_err(|e| format!("sse: {e}"))?;
            handle(event.event, event.data)?;
        }
    }
    decoder.finish();
    while let Some(event) = decoder.next_event_ref() {
        let event = event.map_err(|e| format!("sse: {e}"))?;
        handle(event.event, event.data)?;
    }
    let text = if work == Work::Assembled {
        if !assembler.is_complete() {
            return Err("assembler: no message_stop".to_owned());
        }
        assembler.text().len()
    } else {
        0
    };
    Ok((count, text))
}

fn timed(pieces: &[Bytes], work: Work) -> Result<f64, String> {
    let started = Instant::now();
    decode(pieces, work)?;
    Ok(started.elapsed().as_secs_f64())
}

/// Runs the benchmark (sized and repeated like the SSE decode benchmark).
pub(crate) fn run(params: &Params) -> Result<Vec<Figure>, String> {
    let (bytes, events) = corpus(params.sse_bytes);
    let size = bytes.len() as f64;
    let pieces: Vec<Bytes> = bytes.chunks(PIECE).map(Bytes::copy_from_slice).collect();
    drop(bytes);
    let mut figures = Vec::new();
    for work in [Work::Typed, Work::Assembled] {
        // One untimed pass each: checks the counts and warms the caches.
        for side in [work, Work::Value] {
            let (counted, _) = decode(&pieces, side)?;
            if counted != events {
                return Err(format!(
                    "messages: {side:?} decoded {counted} events, expected {events}"
                ));
            }
        }
        let mut ours_mb = Samples::new();
        let mut base_mb = Samples::new();
        let mut ours_eps = Samples::new();
        let mut base_eps = Samples::new();
        for round in 0..params.sse_rounds {
            let (o, b) = if round % 2 == 0 {
                let o = timed(&pieces, work)?;
                (o, timed(&pieces, Work::Value)?)
            } else {
                let b = timed(&pieces, Work::Value)?;
                (timed(&pieces, work)?, b)
            };
            ours_mb.push(size / 1e6 / o);
            base_mb.push(size / 1e6 / b);
            ours_eps.push(events as f64 / o);
            base_eps.push(events as f64 / b);
        }
        let (Some(om), Some(bm), Some(oe), Some(be)) = (
            ours_mb.summary(),
            base_mb.summary(),
            ours_eps.summary(),
            base_eps.summary(),
        ) else {
            return Err("messages: no samples".to_owned());
        };
        let details = json!({
            "input_bytes": size,
            "events": events,
            "piece_bytes": PIECE,
            "rounds": params.sse_rounds,
            "ours": if work == Work::Typed { "StreamEvent::from_sse" } else { "StreamEvent::from_sse + MessageAssembler::push" },
            "no_rust_anthropic_client": "no Rust Anthropic client is in reach; the baseline parses the same events into serde_json::Value",
        });
        let (id, name) = match work {
            Work::Typed => (
                "messages_decode",
                "Messages stream → typed events (throughput)",
            ),
            _ => (
                "messages_decode_assembled",
                "Messages stream → typed events + assembled message (throughput)",
            ),
        };
        figures.push(
            Figure::new(id, name, "MB/s", om)
                .baseline("SSE + serde_json::Value", bm)
                .details(details.clone()),
        );
        figures.push(
            Figure::new(
                &format!("{id}_events"),
                name.replace("throughput", "events"),
                "events/s",
                oe,
            )
            .baseline("SSE + serde_json::Value", be)
            .details(details),
        );
    }
    Ok(figures)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_side_sees_every_event_and_the_answer_assembles() {
        let (bytes, events) = corpus(50_000);
        assert!(bytes.len() >= 50_000);
        // Odd piece size: boundaries fall inside lines and inside UTF-8 sequences.
        let pieces: Vec<Bytes> = bytes.chunks(777).map(Bytes::copy_from_slice).collect();
        for work in [Work::Typed, Work::Assembled, Work::Value] {
            assert_eq!(decode(&pieces, work).unwrap().0, events, "{work:?}");
        }
        let (_, text) = decode(&pieces, Work::Assembled).unwrap();
        assert!(text > 1_000, "{text}");
    }

    #[test]
    fn the_corpus_opens_and_closes_like_the_capture() {
        let (bytes, _) = corpus(10_000);
        let text = String::from_utf8(bytes).unwrap();
        assert!(text.starts_with("event: message_start\n"));
        assert!(text.contains("event: content_block_start\n"));
        assert!(text.ends_with("event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n"));
        assert_eq!(text.matches("event: message_start").count(), 1);
    }
}
