//! Benchmark 3: decoding a large realistic SSE chat stream into typed chunks.
//!
//! The input (tens of MB) cycles every `data:` event of the fixture streams in `bench/data`
//! and ends with `data: [DONE]`. Both sides get the same bytes, cut into the same 8 KiB
//! pieces (prepared before timing), and decode every event's data into
//! `lmstudio_proto::openai::ChatCompletionChunk` with serde_json:
//! - ours: `lmstudio_transport::sse::SseDecoder` (push a piece, drain its events with
//!   `next_event_ref`, the borrowed path `JsonStream` uses);
//! - baseline: `eventsource_stream::Eventsource` over a stream of the same pieces.
//!
//! A second pair of figures decodes events only (no serde), to show where the time goes.

use std::convert::Infallible;
use std::hint::black_box;
use std::time::Instant;

use bytes::Bytes;
use eventsource_stream::Eventsource;
use futures_util::StreamExt;
use lmstudio_proto::openai::ChatCompletionChunk;
use lmstudio_transport::Limits;
use lmstudio_transport::sse::SseDecoder;
use serde_json::json;

use crate::Params;
use crate::corpus::decode_corpus;
use crate::report::{Figure, Target};
use crate::stats::Samples;

/// Size of the pieces fed to both decoders.
pub(crate) const PIECE: usize = 8 * 1024;

/// What to do with each event's data.
#[derive(Clone, Copy, PartialEq)]
enum Work {
    /// Decode into `ChatCompletionChunk`.
    Serde,
    /// Only touch the data.
    EventsOnly,
}

/// Runs the benchmark.
pub(crate) async fn run(params: &Params) -> Result<Vec<Figure>, String> {
    let (corpus, chunks) = decode_corpus(params.sse_bytes);
    let bytes = corpus.len() as f64;
    let pieces: Vec<Bytes> = corpus.chunks(PIECE).map(Bytes::copy_from_slice).collect();
    drop(corpus);

    let mut figures = Vec::new();
    for work in [Work::Serde, Work::EventsOnly] {
        // One untimed pass each: checks the counts and warms the caches.
        for counted in [ours(&pieces, work)?, baseline(&pieces, work).await?] {
            if counted != chunks {
                return Err(format!("sse: decoded {counted} chunks, expected {chunks}"));
            }
        }
        let mut ours_mb = Samples::new();
        let mut base_mb = Samples::new();
        let mut ours_cps = Samples::new();
        let mut base_cps = Samples::new();
        for round in 0..params.sse_rounds {
            let run_ours = || -> Result<f64, String> {
                let started = Instant::now();
                ours(&pieces, work)?;
                Ok(started.elapsed().as_secs_f64())
            };
            let (o, b) = if round % 2 == 0 {
                let o = run_ours()?;
                (o, time_baseline(&pieces, work).await?)
            } else {
                let b = time_baseline(&pieces, work).await?;
                (run_ours()?, b)
            };
            ours_mb.push(bytes / 1e6 / o);
            base_mb.push(bytes / 1e6 / b);
            ours_cps.push(chunks as f64 / o);
            base_cps.push(chunks as f64 / b);
        }
        let (Some(om), Some(bm), Some(oc), Some(bc)) = (
            ours_mb.summary(),
            base_mb.summary(),
            ours_cps.summary(),
            base_cps.summary(),
        ) else {
            return Err("sse: no samples".to_owned());
        };
        let details = json!({
            "input_bytes": bytes,
            "chunks": chunks,
            "piece_bytes": PIECE,
            "rounds": params.sse_rounds,
        });
        let base_name = "eventsource-stream + serde_json";
        if work == Work::Serde {
            figures.push(
                Figure::new(
                    "sse_decode",
                    "3. SSE decode + serde (throughput)",
                    "MB/s",
                    om,
                )
                .baseline(base_name, bm)
                .target(Target::RatioAtLeast(2.0))
                .details(details.clone()),
            );
            figures.push(
                Figure::new(
                    "sse_decode_chunks",
                    "3. SSE decode + serde (chunks)",
                    "chunks/s",
                    oc,
                )
                .baseline(base_name, bc)
                .details(details),
            );
        } else {
            figures.push(
                Figure::new(
                    "sse_events_only",
                    "3. SSE events only, no serde (throughput)",
                    "MB/s",
                    om,
                )
                .baseline("eventsource-stream", bm)
                .details(details),
            );
        }
    }
    Ok(figures)
}

/// Our decoder over the pieces; returns the number of JSON chunks.
fn ours(pieces: &[Bytes], work: Work) -> Result<usize, String> {
    let mut decoder = SseDecoder::new(Limits::default().max_sse_event_bytes);
    let mut count = 0;
    for piece in pieces {
        decoder.push(piece);
        drain(&mut decoder, work, &mut count)?;
    }
    decoder.finish();
    drain(&mut decoder, work, &mut count)?;
    Ok(count)
}

fn drain(decoder: &mut SseDecoder, work: Work, count: &mut usize) -> Result<(), String> {
    // The path `JsonStream` takes: each event's data parsed where the decoder holds it.
    while let Some(event) = decoder.next_event_ref() {
        let event = event.map_err(|e| format!("ours: {e}"))?;
        handle(event.data, work, count)?;
    }
    Ok(())
}

/// eventsource-stream over the same pieces; returns the number of JSON chunks.
async fn baseline(pieces: &[Bytes], work: Work) -> Result<usize, String> {
    let input = futures_util::stream::iter(pieces.iter().cloned().map(Ok::<Bytes, Infallible>));
    let mut events = input.eventsource();
    let mut count = 0;
    while let Some(event) = events.next().await {
        let event = event.map_err(|e| format!("eventsource-stream: {e}"))?;
        handle(&event.data, work, &mut count)?;
    }
    Ok(count)
}

async fn time_baseline(pieces: &[Bytes], work: Work) -> Result<f64, String> {
    let started = Instant::now();
    baseline(pieces, work).await?;
    Ok(started.elapsed().as_secs_f64())
}

fn handle(data: &str, work: Work, count: &mut usize) -> Result<(), String> {
    if data == "[DONE]" {
        return Ok(());
    }
    match work {
        Work::Serde => {
            let chunk: ChatCompletionChunk =
                serde_json::from_str(data).map_err(|e| format!("serde: {e}"))?;
            black_box(chunk);
        }
        Work::EventsOnly => {
            black_box(data.len());
        }
    }
    *count += 1;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn both_decoders_see_every_chunk_of_a_small_corpus() {
        let (corpus, chunks) = decode_corpus(50_000);
        // Odd piece size: boundaries fall inside lines and inside UTF-8 sequences.
        let pieces: Vec<Bytes> = corpus.chunks(777).map(Bytes::copy_from_slice).collect();
        for work in [Work::Serde, Work::EventsOnly] {
            assert_eq!(ours(&pieces, work).unwrap(), chunks);
            assert_eq!(baseline(&pieces, work).await.unwrap(), chunks);
        }
    }
}
