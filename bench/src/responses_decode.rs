//! Benchmark 9: decoding a large Responses API stream (named SSE events) into typed events.
//!
//! Two inputs of tens of MB, each cut into the same 8 KiB pieces for both sides and split into
//! events by the same `SseDecoder` (the path `responses_stream` takes), so only the typing
//! differs:
//! - llama.cpp's bytes: the captured text, reasoning and function-call streams
//!   (`bench/data/responses/llama_*.sse`) cycled. async-openai's types cannot read them (they
//!   require `sequence_number`, `output_index` and `content_index`, which llama.cpp leaves
//!   out): the run checks that, says so, and compares ours with `serde_json::Value`;
//! - OpenAI's documented event examples (`openai_*.json`) as a text answer of 20 deltas,
//!   cycled: ours against async-openai's `ResponseStreamEvent` (its `response-types` feature).
//!   async-openai cannot read OpenAI's own `response.completed` example (a message without
//!   `status`): that event is left out of this input, and the run says so.
//!
//! Ours is `lmstudio_proto::responses::ResponseStreamEvent::from_sse`, what the facade's
//! decoder calls for each event.

use std::hint::black_box;
use std::time::Instant;

use async_openai::types::responses::ResponseStreamEvent as TheirEvent;
use bytes::Bytes;
use lmstudio_proto::responses::ResponseStreamEvent;
use lmstudio_transport::Limits;
use lmstudio_transport::sse::SseDecoder;
use serde_json::{Value, json};

use crate::Params;
use crate::report::Figure;
use crate::sse_decode::PIECE;
use crate::stats::Samples;

const LLAMA: [&str; 3] = [
    include_str!("../data/responses/llama_text_stream.sse"),
    include_str!("../data/responses/llama_reasoning_stream.sse"),
    include_str!("../data/responses/llama_function_call_stream.sse"),
];

/// OpenAI's documented examples, in the order of a streamed text answer.
const OPENAI_HEAD: [&str; 4] = [
    include_str!("../data/responses/openai_response.created.json"),
    include_str!("../data/responses/openai_response.in_progress.json"),
    include_str!("../data/responses/openai_response.output_item.added.json"),
    include_str!("../data/responses/openai_response.content_part.added.json"),
];
const OPENAI_DELTA: &str = include_str!("../data/responses/openai_response.output_text.delta.json");
const OPENAI_TAIL: [&str; 4] = [
    include_str!("../data/responses/openai_response.output_text.done.json"),
    include_str!("../data/responses/openai_response.content_part.done.json"),
    include_str!("../data/responses/openai_response.output_item.done.json"),
    include_str!("../data/responses/openai_response.completed.json"),
];
/// Deltas per answer in the OpenAI-shaped input.
const DELTAS: usize = 20;

/// One event: its SSE name and data.
type Event = (Option<String>, String);

/// The events of an SSE text (single-line `data:` fields, blank-line separated).
fn events_of(text: &str) -> Vec<Event> {
    let mut events = Vec::new();
    let mut name = None;
    for line in text.lines() {
        if let Some(value) = line.strip_prefix("event: ") {
            name = Some(value.to_owned());
        } else if let Some(data) = line.strip_prefix("data: ") {
            events.push((name.take(), data.to_owned()));
        }
    }
    events
}

/// llama.cpp's captured events.
fn llama_events() -> Vec<Event> {
    LLAMA.iter().flat_map(|text| events_of(text)).collect()
}

/// OpenAI's documented events as one text answer, each made compact (keys kept in their
/// order: `type` first, as OpenAI sends it) and named by its type.
fn openai_events() -> Result<Vec<Event>, String> {
    let deltas = std::iter::repeat_n(OPENAI_DELTA, DELTAS);
    let texts = OPENAI_HEAD.iter().copied().chain(deltas).chain(OPENAI_TAIL);
    texts
        .map(|text| {
            let value: Value = serde_json::from_str(text).map_err(|e| format!("example: {e}"))?;
            let name = value["type"].as_str().map(str::to_owned);
            let compact = minify(text);
            if serde_json::from_str::<Value>(&compact).ok() != Some(value) {
                return Err(format!("minifying changed an example: {compact}"));
            }
            Ok((name, compact))
        })
        .collect()
}

/// The JSON text without whitespace outside strings (key order kept, unlike a re-encode).
fn minify(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let (mut in_string, mut escaped) = (false, false);
    for c in text.chars() {
        if in_string {
            out.push(c);
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => in_string = false,
                _ => {}
            }
        } else if !c.is_whitespace() {
            in_string = c == '"';
            out.push(c);
        }
    }
    out
}

/// The events cycled into SSE bytes of at least `min_bytes`; returns the bytes and the
/// number of events.
fn cycle(events: &[Event], min_bytes: usize) -> (Vec<u8>, usize) {
    let mut out = Vec::with_capacity(min_bytes + 4096);
    let mut count = 0;
    while out.len() < min_bytes && !events.is_empty() {
        for (name, data) in events {
            if let Some(name) = name {
                out.extend_from_slice(b"event: ");
                out.extend_from_slice(name.as_bytes());
                out.push(b'\n');
            }
            out.extend_from_slice(b"data: ");
            out.extend_from_slice(data.as_bytes());
            out.extend_from_slice(b"\n\n");
            count += 1;
        }
    }
    (out, count)
}

/// Which types an event's data is decoded into.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Side {
    /// `lmstudio_proto::responses::ResponseStreamEvent`.
    Ours,
    /// async-openai's `ResponseStreamEvent`.
    AsyncOpenai,
    /// `serde_json::Value`.
    Value,
}

impl Side {
    fn name(self) -> &'static str {
        match self {
            Side::Ours => "ours",
            Side::AsyncOpenai => "async-openai (response-types) + serde_json",
            Side::Value => "serde_json::Value",
        }
    }
}

fn decode_one(side: Side, name: Option<&str>, data: &str) -> Result<(), String> {
    match side {
        Side::Ours => {
            black_box(ResponseStreamEvent::from_sse(name, data).map_err(|e| e.to_string())?);
        }
        Side::AsyncOpenai => {
            black_box(serde_json::from_str::<TheirEvent>(data).map_err(|e| e.to_string())?);
        }
        Side::Value => {
            black_box(serde_json::from_str::<Value>(data).map_err(|e| e.to_string())?);
        }
    }
    Ok(())
}

/// Splits the pieces into events with our decoder and types each; returns the event count.
fn decode(pieces: &[Bytes], side: Side) -> Result<usize, String> {
    let mut decoder = SseDecoder::new(Limits::default().max_sse_event_bytes);
    let mut count = 0;
    let mut drain = |decoder: &mut SseDecoder| -> Result<(), String> {
        while let Some(event) = decoder.next_event_ref() {
            let event = event.map_err(|e| format!("sse: {e}"))?;
            decode_one(side, event.event, event.data)
                .map_err(|e| format!("{}: event {count}: {e}", side.name()))?;
            count += 1;
        }
        Ok(())
    };
    for piece in pieces {
        decoder.push(piece);
        drain(&mut decoder)?;
    }
    decoder.finish();
    drain(&mut decoder)?;
    Ok(count)
}

/// The events async-openai's types read (ours read them all), and the names of those it
/// cannot read with the reason (OpenAI's own `response.completed` example has a message
/// without `status`, which async-openai requires).
fn readable_by_both(events: Vec<Event>) -> (Vec<Event>, Vec<String>) {
    let mut left_out = Vec::new();
    let kept = events
        .into_iter()
        .filter(
            |(name, data)| match serde_json::from_str::<TheirEvent>(data) {
                Ok(_) => true,
                Err(e) => {
                    left_out.push(format!("{} ({e})", name.as_deref().unwrap_or("?")));
                    false
                }
            },
        )
        .collect();
    (kept, left_out)
}

/// How many of `events` async-openai's types read, and the first error.
fn async_openai_reads(events: &[Event]) -> (usize, Option<String>) {
    let mut read = 0;
    let mut first = None;
    for (name, data) in events {
        match serde_json::from_str::<TheirEvent>(data) {
            Ok(_) => read += 1,
            Err(e) => {
                first.get_or_insert_with(|| format!("{}: {e}", name.as_deref().unwrap_or("?")));
            }
        }
    }
    (read, first)
}

/// Times both sides on `pieces` (alternating which goes first) and returns the figure.
fn compare(
    id: &str,
    title: &str,
    pieces: &[Bytes],
    events: usize,
    baseline: Side,
    rounds: usize,
    details: Value,
) -> Result<Figure, String> {
    let bytes: usize = pieces.iter().map(Bytes::len).sum();
    for side in [Side::Ours, baseline] {
        let counted = decode(pieces, side)?;
        if counted != events {
            return Err(format!(
                "{}: {counted} events, expected {events}",
                side.name()
            ));
        }
    }
    let time = |side: Side| -> Result<f64, String> {
        let started = Instant::now();
        decode(pieces, side)?;
        Ok(started.elapsed().as_secs_f64())
    };
    let mut ours = Samples::new();
    let mut theirs = Samples::new();
    for round in 0..rounds {
        let (o, b) = if round % 2 == 0 {
            let o = time(Side::Ours)?;
            (o, time(baseline)?)
        } else {
            let b = time(baseline)?;
            (time(Side::Ours)?, b)
        };
        ours.push(bytes as f64 / 1e6 / o);
        theirs.push(bytes as f64 / 1e6 / b);
    }
    let (Some(o), Some(b)) = (ours.summary(), theirs.summary()) else {
        return Err("no samples".to_owned());
    };
    let mut details = details;
    details["input_bytes"] = json!(bytes);
    details["events"] = json!(events);
    details["piece_bytes"] = json!(PIECE);
    details["rounds"] = json!(rounds);
    Ok(Figure::new(id, title, "MB/s", o)
        .baseline(baseline.name(), b)
        .details(details))
}

/// Runs the benchmark.
pub(crate) fn run(params: &Params) -> Result<Vec<Figure>, String> {
    let mut figures = Vec::new();

    let llama = llama_events();
    let (read, first_error) = async_openai_reads(&llama);
    eprintln!(
        "bench: responses: async-openai's types read {read} of llama.cpp's {} events{}; comparing llama.cpp's bytes against serde_json::Value",
        llama.len(),
        first_error
            .as_deref()
            .map(|e| format!(" (first error: {e})"))
            .unwrap_or_default()
    );
    let baseline = if read == llama.len() {
        Side::AsyncOpenai
    } else {
        Side::Value
    };
    let (corpus, events) = cycle(&llama, params.sse_bytes);
    let pieces: Vec<Bytes> = corpus.chunks(PIECE).map(Bytes::copy_from_slice).collect();
    drop(corpus);
    figures.push(compare(
        "responses_decode_llama",
        "9. Responses stream decode, llama.cpp's events",
        &pieces,
        events,
        baseline,
        params.sse_rounds,
        json!({
            "source": "llama.cpp b11549 (xllamacpp) captures: text, reasoning, function call",
            "async_openai_reads": read,
            "async_openai_first_error": first_error,
            "events_per_cycle": llama.len(),
        }),
    )?);

    let (openai, left_out) = readable_by_both(openai_events()?);
    if openai.is_empty() {
        return Err("async-openai reads none of OpenAI's documented events".to_owned());
    }
    if !left_out.is_empty() {
        eprintln!(
            "bench: responses: async-openai's types cannot read OpenAI's own documented {}; left out of the OpenAI-shaped input",
            left_out.join(", ")
        );
    }
    let (corpus, events) = cycle(&openai, params.sse_bytes);
    let pieces: Vec<Bytes> = corpus.chunks(PIECE).map(Bytes::copy_from_slice).collect();
    drop(corpus);
    figures.push(compare(
        "responses_decode_openai",
        "9. Responses stream decode, OpenAI's documented events",
        &pieces,
        events,
        Side::AsyncOpenai,
        params.sse_rounds,
        json!({
            "source": "openai/openai-openapi event examples, a text answer of 20 deltas",
            "events_per_cycle": openai.len(),
            "left_out_unreadable_by_async_openai": left_out,
        }),
    )?);
    Ok(figures)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn async_openai_cannot_read_llama_cpps_events_but_reads_openais() {
        let llama = llama_events();
        assert_eq!(llama.len(), 16 + 18 + 12);
        let (read, error) = async_openai_reads(&llama);
        assert!(read < llama.len(), "{read}");
        assert!(error.unwrap().contains("missing field"));
        // Of OpenAI's own examples it reads all but `response.completed`.
        let openai = openai_events().unwrap();
        let (read, error) = async_openai_reads(&openai);
        assert_eq!(read, openai.len() - 1);
        assert!(error.unwrap().starts_with("response.completed"));
        let (kept, left_out) = readable_by_both(openai);
        assert_eq!(kept.len(), read);
        assert_eq!(left_out.len(), 1);
    }

    #[test]
    fn minifying_keeps_the_key_order_and_the_strings() {
        assert_eq!(
            minify("{\n  \"type\": \"a b\",\n  \"x\": \"q\\\" }\"\n}"),
            "{\"type\":\"a b\",\"x\":\"q\\\" }\"}"
        );
        let events = openai_events().unwrap();
        assert!(
            events
                .iter()
                .all(|(_, data)| data.starts_with("{\"type\":"))
        );
    }

    #[test]
    fn every_side_decodes_every_event_of_a_small_corpus() {
        for events in [llama_events(), openai_events().unwrap()] {
            let (corpus, count) = cycle(&events, 50_000);
            // Odd piece size: boundaries fall inside lines and inside UTF-8 sequences.
            let pieces: Vec<Bytes> = corpus.chunks(777).map(Bytes::copy_from_slice).collect();
            assert_eq!(decode(&pieces, Side::Ours).unwrap(), count);
            assert_eq!(decode(&pieces, Side::Value).unwrap(), count);
        }
        let (readable, _) = readable_by_both(openai_events().unwrap());
        let (corpus, count) = cycle(&readable, 50_000);
        let pieces: Vec<Bytes> = corpus.chunks(777).map(Bytes::copy_from_slice).collect();
        assert_eq!(decode(&pieces, Side::AsyncOpenai).unwrap(), count);
        assert_eq!(decode(&pieces, Side::Ours).unwrap(), count);
    }
}
