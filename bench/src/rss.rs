//! Benchmark 5: memory while streaming a 100 MB chat answer.
//!
//! A raw server streams a chunked `text/event-stream` body of realistic answer chunks (the
//! fixtures' content chunks, cycled) until the size is reached, then the finish and usage
//! chunks and `data: [DONE]`. Each measurement runs in a fresh child process (this binary,
//! `rss-child <mode> <url>`), so nothing else this run allocated counts: the child sets up
//! its client, resets its peak RSS (`/proc/self/clear_refs` = 5), reads VmRSS, consumes the
//! stream, then reads VmHWM (peak). Growth = peak − the RSS before the request.
//!
//! Modes: `facade` (`LMStudioClient::chat_stream`, every chunk taken with `next()`),
//! `transport` (`lmstudio_transport` `send_json_stream::<ChatCompletionChunk>`) and
//! `buffered` (the baseline: reqwest reads the whole body with `bytes()`, then counts the
//! events in it).

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use lmstudio_proto::openai::{ChatCompletionChunk, ChatCompletionRequest, ChatMessage};
use lmstudio_transport::{Client, Endpoint};
use serde_json::{Value, json};
use vtcode_config::VTCodeConfig;
use vtcode_lmstudio::LMStudioClient;

use crate::Params;
use crate::corpus::{content_payloads, count_events, cycle_events, fixture_payloads};
use crate::report::{Figure, Target};
use crate::servers::RawServer;
use crate::stats::Samples;

/// The goal for RSS growth, in MiB.
const RSS_TARGET_MIB: f64 = 10.0;
/// Longest a child may take.
const CHILD_LIMIT: Duration = Duration::from_secs(180);
/// The modes, in the order of the figures.
const MODES: [&str; 3] = ["facade", "buffered", "transport"];

/// Runs the benchmark (spawns the child processes).
pub(crate) async fn run(params: &Params) -> Result<Vec<Figure>, String> {
    let block = cycle_events(&content_payloads(), 64 * 1024);
    let tail = tail_events();
    let per_block = count_events(&block);
    let blocks = params.rss_bytes.div_ceil(block.len());
    let expected_chunks = blocks * per_block + count_events(&tail) - 1;
    let body_bytes = blocks * block.len() + tail.len();
    let server =
        RawServer::sse(block, params.rss_bytes, tail).map_err(|e| format!("sse server: {e}"))?;
    let exe = std::env::current_exe().map_err(|e| format!("current_exe: {e}"))?;

    let mut growth = [Samples::new(), Samples::new(), Samples::new()];
    let mut secs = [Samples::new(), Samples::new(), Samples::new()];
    let mut facade_content_bytes = 0.0;
    for round in 0..params.rss_rounds {
        for k in 0..MODES.len() {
            let which = (round + k) % MODES.len();
            let out = spawn_child(&exe, MODES[which], &server.url())?;
            let chunks = out["chunks"].as_f64().unwrap_or(-1.0);
            if chunks != expected_chunks as f64 {
                return Err(format!(
                    "rss {}: {chunks} chunks, expected {expected_chunks}",
                    MODES[which]
                ));
            }
            let before = out["rss_before_kib"].as_f64().unwrap_or(0.0);
            let peak = out["peak_kib"].as_f64().unwrap_or(0.0);
            growth[which].push((peak - before).max(0.0) / 1024.0);
            secs[which].push(out["secs"].as_f64().unwrap_or(0.0));
            if MODES[which] == "facade" {
                facade_content_bytes = out["content_bytes"].as_f64().unwrap_or(0.0);
            }
        }
    }
    let summaries: Vec<_> = growth.iter().map(Samples::summary).collect();
    let times: Vec<_> = secs.iter().map(Samples::summary).collect();
    let (Some(facade), Some(buffered), Some(transport)) =
        (summaries[0], summaries[1], summaries[2])
    else {
        return Err("rss: no samples".to_owned());
    };
    let details = json!({
        "body_bytes": body_bytes,
        "chunks": expected_chunks,
        "rounds": params.rss_rounds,
        "seconds": {
            "facade": times[0].map(|s| s.to_json()),
            "buffered": times[1].map(|s| s.to_json()),
            "transport": times[2].map(|s| s.to_json()),
        },
        "facade_summary_content_bytes": facade_content_bytes,
    });
    let mb = body_bytes as f64 / 1e6;
    Ok(vec![
        Figure::new(
            "rss_facade",
            format!("5. stream {mb:.0} MB via facade chat_stream (peak RSS growth)"),
            "MiB",
            facade,
        )
        .baseline("reqwest bytes() (buffers the body)", buffered)
        .target(Target::Below(RSS_TARGET_MIB))
        .details(details.clone()),
        Figure::new(
            "rss_transport",
            format!("5. stream {mb:.0} MB via transport JsonStream (peak RSS growth)"),
            "MiB",
            transport,
        )
        .baseline("reqwest bytes() (buffers the body)", buffered)
        .details(details),
    ])
}

/// The finish chunk, the usage chunk and `[DONE]`, from the fixtures.
fn tail_events() -> Vec<u8> {
    let payloads = fixture_payloads();
    let finish = payloads
        .iter()
        .find(|p| p.contains("\"finish_reason\":\"stop\""));
    let usage = payloads.iter().find(|p| p.contains("\"usage\""));
    let mut tail = Vec::new();
    for data in [finish, usage].into_iter().flatten() {
        tail.extend_from_slice(format!("data: {data}\n\n").as_bytes());
    }
    tail.extend_from_slice(b"data: [DONE]\n\n");
    tail
}

/// Runs one child and returns the JSON it printed.
fn spawn_child(exe: &std::path::Path, mode: &str, url: &str) -> Result<Value, String> {
    let mut child = Command::new(exe)
        .args(["rss-child", mode, url])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| format!("cannot start the rss child: {e}"))?;
    let started = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if started.elapsed() > CHILD_LIMIT => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("rss child {mode} took over {CHILD_LIMIT:?}"));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            Err(e) => return Err(format!("rss child: {e}")),
        }
    };
    let mut out = String::new();
    if let Some(mut stdout) = child.stdout.take() {
        stdout
            .read_to_string(&mut out)
            .map_err(|e| format!("rss child output: {e}"))?;
    }
    if !status.success() {
        return Err(format!("rss child {mode} failed ({status})"));
    }
    let line = out.lines().last().unwrap_or_default();
    serde_json::from_str(line).map_err(|e| format!("rss child {mode} printed {line:?}: {e}"))
}

/// Entry point of `rss-child <mode> <url>`: prints one JSON line.
pub(crate) fn child(args: &[String]) -> Result<(), String> {
    let [mode, url] = args else {
        return Err("usage: rss-child <facade|transport|buffered> <url>".to_owned());
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let out = runtime.block_on(consume(mode, url))?;
    println!("{out}");
    Ok(())
}

async fn consume(mode: &str, url: &str) -> Result<Value, String> {
    let request = ChatCompletionRequest::new("bench-model", vec![ChatMessage::user("hi")]);
    let mut content_bytes = 0usize;
    let (chunks, before, started) = match mode {
        "facade" => {
            let mut config = VTCodeConfig::default();
            config.lmstudio.base_url = Some(url.to_owned());
            let client = LMStudioClient::new(&config).map_err(|e| e.to_string())?;
            let before = prepare()?;
            let started = Instant::now();
            let mut stream = client
                .chat_stream(request)
                .await
                .map_err(|e| e.to_string())?;
            let mut chunks = 0usize;
            while let Some(chunk) = stream.next().await {
                chunk.map_err(|e| e.to_string())?;
                chunks += 1;
            }
            content_bytes = stream.summary().content.len();
            (chunks, before, started)
        }
        "transport" => {
            let endpoint = Endpoint::parse(url).map_err(|e| e.to_string())?;
            let client = Client::builder(endpoint)
                .build()
                .map_err(|e| e.to_string())?;
            let before = prepare()?;
            let started = Instant::now();
            let mut stream = client
                .post("/v1/chat/completions")
                .json(&request.streaming())
                .send_json_stream::<ChatCompletionChunk>()
                .await
                .map_err(|e| e.to_string())?;
            let mut chunks = 0usize;
            while let Some(chunk) = stream.next().await {
                std::hint::black_box(chunk.map_err(|e| e.to_string())?);
                chunks += 1;
            }
            (chunks, before, started)
        }
        "buffered" => {
            let client = reqwest::Client::new();
            let before = prepare()?;
            let started = Instant::now();
            let body = client
                .post(format!("{url}/v1/chat/completions"))
                .json(&request.streaming())
                .send()
                .await
                .and_then(reqwest::Response::error_for_status)
                .map_err(|e| e.to_string())?
                .bytes()
                .await
                .map_err(|e| e.to_string())?;
            let chunks = count_events(&body).saturating_sub(1);
            (chunks, before, started)
        }
        other => return Err(format!("unknown rss mode {other}")),
    };
    let secs = started.elapsed().as_secs_f64();
    let after = status()?;
    Ok(json!({
        "mode": mode,
        "chunks": chunks,
        "secs": secs,
        "rss_before_kib": before,
        "peak_kib": after.0,
        "rss_after_kib": after.1,
        "content_bytes": content_bytes,
    }))
}

/// Resets the peak RSS and returns the current RSS (KiB).
fn prepare() -> Result<u64, String> {
    // "5" resets VmHWM to the current RSS (Linux 4.0+); ignored where unsupported, in which
    // case the peak still includes start-up (a few MiB at most in this small process).
    let _ = std::fs::write("/proc/self/clear_refs", "5");
    status().map(|(_, rss)| rss)
}

/// (VmHWM, VmRSS) in KiB.
fn status() -> Result<(u64, u64), String> {
    let text = std::fs::read_to_string("/proc/self/status")
        .map_err(|e| format!("cannot read /proc/self/status: {e}"))?;
    let field = |name: &str| {
        text.lines()
            .find_map(|line| line.strip_prefix(name))
            .and_then(|rest| {
                rest.trim()
                    .trim_end_matches("kB")
                    .trim()
                    .parse::<u64>()
                    .ok()
            })
    };
    match (field("VmHWM:"), field("VmRSS:")) {
        (Some(hwm), Some(rss)) => Ok((hwm, rss)),
        _ => Err("VmHWM/VmRSS missing from /proc/self/status".to_owned()),
    }
}
