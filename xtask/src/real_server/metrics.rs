//! What the real-server run measures (streaming speed as the client sees it, time to first
//! token, setup and start-up times), the check tally, and `target/real-server/latest.json`.

use futures_util::StreamExt;
use std::future::Future;
use std::path::Path;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};
use vtcode_lmstudio::proto::openai::{ChatCompletionChunk, ChatCompletionRequest};
use vtcode_lmstudio::{ChatStreamSummary, LMStudioClient};

use crate::checks::{CheckResult, Suite};

/// One streamed chat, timed through the client's streaming API.
#[derive(Debug, Clone, Default)]
pub(crate) struct StreamRun {
    /// `usage.completion_tokens` of the final chunk.
    pub(crate) completion_tokens: u64,
    /// From sending the request to the first chunk with content.
    pub(crate) ttft: Duration,
    /// From the first chunk to the last chunk before `[DONE]`.
    pub(crate) first_to_last: Duration,
    /// From sending the request to the end of the stream.
    pub(crate) total: Duration,
    /// llama.cpp's own generation speed (`timings.predicted_per_second` on the usage chunk),
    /// to cross-check the client-side figure.
    pub(crate) server_tokens_per_second: Option<f64>,
}

impl StreamRun {
    /// Completion tokens per second between the first and the last chunk.
    pub(crate) fn tokens_per_second(&self) -> f64 {
        let secs = self.first_to_last.as_secs_f64();
        if secs > 0.0 {
            self.completion_tokens as f64 / secs
        } else {
            0.0
        }
    }

    pub(crate) fn to_json(&self) -> Value {
        json!({
            "completion_tokens": self.completion_tokens,
            "ttft_ms": ms(self.ttft),
            "first_to_last_ms": ms(self.first_to_last),
            "total_ms": ms(self.total),
            "tokens_per_second": round(self.tokens_per_second()),
            "server_reported_tokens_per_second": self.server_tokens_per_second.map(round),
        })
    }
}

/// A finished stream: every chunk with its arrival time, the summary, and the timing.
#[derive(Debug)]
pub(crate) struct TimedStream {
    /// The chunks in order, each with its offset from the request.
    pub(crate) chunks: Vec<(Duration, ChatCompletionChunk)>,
    /// What the facade assembled.
    pub(crate) summary: ChatStreamSummary,
    /// The timing.
    pub(crate) run: StreamRun,
}

/// Streams `request` through [`LMStudioClient::chat_stream`] and times every chunk.
pub(crate) async fn timed_stream(
    client: &LMStudioClient,
    request: ChatCompletionRequest,
) -> Result<TimedStream, String> {
    let started = Instant::now();
    let mut stream = client
        .chat_stream(request)
        .await
        .map_err(|e| format!("chat_stream failed: {e}"))?;
    let mut chunks = Vec::new();
    while let Some(item) = stream.next().await {
        let chunk = item.map_err(|e| format!("stream item {} failed: {e}", chunks.len()))?;
        chunks.push((started.elapsed(), chunk));
    }
    let total = started.elapsed();
    let summary = stream.summary();
    let first = chunks.first().map(|(at, _)| *at).unwrap_or_default();
    let last = chunks.last().map(|(at, _)| *at).unwrap_or_default();
    let ttft = chunks
        .iter()
        .find(|(_, c)| c.content().is_some_and(|t| !t.is_empty()))
        .map(|(at, _)| *at)
        .unwrap_or(total);
    let server_tokens_per_second = chunks
        .last()
        .and_then(|(_, c)| c.extra.get("timings"))
        .and_then(|t| t.get("predicted_per_second"))
        .and_then(Value::as_f64);
    let run = StreamRun {
        completion_tokens: summary.usage.as_ref().map_or(0, |u| u.completion_tokens),
        ttft,
        first_to_last: last.saturating_sub(first),
        total,
        server_tokens_per_second,
    };
    Ok(TimedStream {
        chunks,
        summary,
        run,
    })
}

/// Eight streams at once on the server's two slots.
#[derive(Debug, Clone, Default)]
pub(crate) struct ConcurrentRun {
    /// How many streams.
    pub(crate) streams: usize,
    /// Completion tokens over all streams.
    pub(crate) completion_tokens: u64,
    /// From the first request to the last stream's end.
    pub(crate) wall: Duration,
}

/// Everything the run measured.
#[derive(Debug, Default)]
pub(crate) struct Metrics {
    /// The throughput runs (same request, in sequence).
    pub(crate) stream_runs: Vec<StreamRun>,
    /// `max_tokens` of the throughput runs.
    pub(crate) stream_max_tokens: i64,
    /// The concurrent run.
    pub(crate) concurrent: Option<ConcurrentRun>,
    /// How long `ensure_oss_ready` took to refuse the unserved default model.
    pub(crate) ensure_refusal: Option<Duration>,
    /// The requests `ensure_oss_ready` sent for the unserved default model.
    pub(crate) ensure_requests: Vec<String>,
    /// The same prompt streamed through `responses_stream` and `chat_stream`, in pairs.
    pub(crate) responses_vs_chat: Vec<(StreamRun, StreamRun)>,
    /// The same prompt streamed through `messages_stream` and `chat_stream`, in pairs.
    pub(crate) messages_vs_chat: Vec<(StreamRun, StreamRun)>,
}

impl Metrics {
    /// The median tokens/s and time to first token of the throughput runs.
    pub(crate) fn medians(&self) -> Option<(f64, Duration)> {
        median_of(&self.stream_runs.iter().collect::<Vec<_>>())
    }
}

/// The median tokens/s and time to first token of `runs`.
pub(crate) fn median_of(runs: &[&StreamRun]) -> Option<(f64, Duration)> {
    if runs.is_empty() {
        return None;
    }
    let mut rates: Vec<f64> = runs.iter().map(|r| r.tokens_per_second()).collect();
    rates.sort_by(f64::total_cmp);
    let mut ttfts: Vec<Duration> = runs.iter().map(|r| r.ttft).collect();
    ttfts.sort();
    Some((rates[rates.len() / 2], ttfts[ttfts.len() / 2]))
}

impl Metrics {
    /// The medians of the Responses runs and of the chat runs beside them.
    pub(crate) fn responses_vs_chat_medians(&self) -> Option<((f64, Duration), (f64, Duration))> {
        pair_medians(&self.responses_vs_chat)
    }

    /// The medians of the Messages runs and of the chat runs beside them.
    pub(crate) fn messages_vs_chat_medians(&self) -> Option<((f64, Duration), (f64, Duration))> {
        pair_medians(&self.messages_vs_chat)
    }
}

/// The medians of the first runs of `pairs` and of the second ones.
fn pair_medians(pairs: &[(StreamRun, StreamRun)]) -> Option<((f64, Duration), (f64, Duration))> {
    let first: Vec<&StreamRun> = pairs.iter().map(|(r, _)| r).collect();
    let chat: Vec<&StreamRun> = pairs.iter().map(|(_, c)| c).collect();
    Some((median_of(&first)?, median_of(&chat)?))
}

/// Which checks passed, alongside the lead's [`Suite`] (which prints them).
#[derive(Debug, Default)]
pub(crate) struct Tally {
    /// Names of passed checks.
    pub(crate) passed: Vec<String>,
    /// Names of failed checks.
    pub(crate) failed: Vec<String>,
}

impl Tally {
    /// Runs one check through the suite and records its outcome here too.
    pub(crate) async fn check<F>(
        &mut self,
        suite: &mut Suite,
        name: &str,
        limit: Duration,
        check: F,
    ) where
        F: Future<Output = CheckResult>,
    {
        let mut passed = false;
        suite
            .check(name, limit, async {
                let outcome = check.await;
                passed = outcome.is_ok();
                outcome
            })
            .await;
        if passed {
            self.passed.push(name.to_owned());
        } else {
            self.failed.push(name.to_owned());
        }
    }
}

/// The inputs of `latest.json` that are not measured by the suite itself.
#[derive(Debug)]
pub(crate) struct RunFacts<'a> {
    /// The whole run.
    pub(crate) wall: Duration,
    /// Setup facts.
    pub(crate) prepared: &'a super::setup::Prepared,
    /// (label, time to ready) per server start.
    pub(crate) ready: &'a [(&'static str, Duration)],
    /// `/proc/loadavg` at the start and at the end (the machine is shared).
    pub(crate) loadavg: [String; 2],
}

/// The first three fields of `/proc/loadavg`, or "" where there is none.
pub(crate) fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|text| {
            text.split_whitespace()
                .take(3)
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_default()
}

/// Writes `latest.json` (pretty-printed) and returns the path.
pub(crate) fn write_report(
    path: &Path,
    facts: &RunFacts<'_>,
    metrics: &Metrics,
    tally: &Tally,
) -> Result<(), String> {
    let prepared = facts.prepared;
    let (median_rate, median_ttft) = metrics.medians().unwrap_or_default();
    let concurrent = metrics.concurrent.as_ref().map(|c| {
        json!({
            "streams": c.streams,
            "slots": super::server::SLOTS,
            "completion_tokens": c.completion_tokens,
            "wall_ms": ms(c.wall),
            "aggregate_tokens_per_second": round(rate(c.completion_tokens, c.wall)),
        })
    });
    let ready: serde_json::Map<String, Value> = facts
        .ready
        .iter()
        .map(|(label, at)| ((*label).to_owned(), json!(secs(*at))))
        .collect();
    let report = json!({
        "command": "cargo xtask integration --real",
        "generated_unix": SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0),
        "wall_seconds": secs(facts.wall),
        "venv": if prepared.fresh { "fresh" } else { "reused" },
        "python": prepared.python_version,
        "wheels": [super::setup::XLLAMACPP, super::setup::MODEL_PACKAGE],
        "setup_seconds": {
            "check": secs(prepared.check),
            "venv": secs(prepared.venv),
            "pip": secs(prepared.pip),
            "assemble": secs(prepared.assemble),
        },
        "model": { "id": super::server::ALIAS, "gguf_bytes": prepared.model_bytes },
        "server": { "slots": super::server::SLOTS, "threads": super::server::THREADS, "ready_seconds": ready },
        "stream": {
            "max_tokens": metrics.stream_max_tokens,
            "definition": "completion_tokens / (last chunk - first chunk); ttft = request sent -> first content chunk",
            "median_tokens_per_second": round(median_rate),
            "median_ttft_ms": ms(median_ttft),
            "runs": metrics.stream_runs.iter().map(StreamRun::to_json).collect::<Vec<_>>(),
        },
        "concurrent": concurrent,
        "responses_vs_chat": versus_chat("responses_stream", &metrics.responses_vs_chat),
        "messages_vs_chat": versus_chat("messages_stream", &metrics.messages_vs_chat),
        "loadavg": { "start": facts.loadavg[0], "end": facts.loadavg[1] },
        "ensure_oss_ready_refusal_ms": metrics.ensure_refusal.map(ms),
        "ensure_oss_ready_requests": metrics.ensure_requests,
        "checks": { "passed": tally.passed.len(), "failed": tally.failed },
    });
    let text = serde_json::to_string_pretty(&report)
        .map_err(|e| format!("cannot encode {}: {e}", path.display()))?;
    std::fs::write(path, text + "\n").map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// Pairs of one API's stream (`label`) and `chat_stream` on the same prompt, for the report.
fn versus_chat(label: &str, pairs: &[(StreamRun, StreamRun)]) -> Value {
    let Some(((a_rate, a_ttft), (c_rate, c_ttft))) = pair_medians(pairs) else {
        return Value::Null;
    };
    json!({
        "definition": "same prompt and max tokens, temperature 0, one warm-up each, then alternating; tokens/s = output tokens / (last event - first event); ttft = request sent -> first non-empty text delta",
        label: { "median_tokens_per_second": round(a_rate), "median_ttft_ms": ms(a_ttft) },
        "chat_stream": { "median_tokens_per_second": round(c_rate), "median_ttft_ms": ms(c_ttft) },
        "pairs": pairs.iter().map(|(a, c)| json!({
            label: a.to_json(),
            "chat_stream": c.to_json(),
        })).collect::<Vec<_>>(),
    })
}

/// Tokens per second over `wall`.
pub(crate) fn rate(tokens: u64, wall: Duration) -> f64 {
    let secs = wall.as_secs_f64();
    if secs > 0.0 {
        tokens as f64 / secs
    } else {
        0.0
    }
}

fn ms(d: Duration) -> f64 {
    round(d.as_secs_f64() * 1000.0)
}

fn secs(d: Duration) -> f64 {
    (d.as_secs_f64() * 1000.0).round() / 1000.0
}

fn round(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}
