//! Benchmark 1: warm readiness (model downloaded and loaded) against the emulator.
//!
//! Ours: `ensure_oss_ready_with_report` with `preload = "wait"` (the awaited flow). Baseline:
//! the flow Codex's LM Studio support runs, written with reqwest: `GET /v1/models` (server
//! check), `GET /v1/models` again (is the model there?), then `POST /v1/responses` with
//! `max_output_tokens: 1` (load the model by using it).
//!
//! Each iteration stands for one program start, so both sides build a fresh client (and a
//! fresh connection) every time. Ours also lets go of its server's shared engine at once
//! (zero linger), so the next iteration starts a new one: otherwise it would answer from the
//! engine's 2 s catalog cache over a warm connection, which no real start-up gets (the
//! `engine` benchmark measures that case).

use std::time::Duration;

use lmstudio_testkit::{CatalogModel, Emulator, RecordedRequest};
use serde_json::{Value, json};
use vtcode_config::{PreloadMode, VTCodeConfig};
use vtcode_lmstudio::{LMStudioClient, LoadStep};

use crate::Params;
use crate::report::{Figure, Target};
use crate::stats::{Samples, Summary, micros, timed};

/// The model made ready.
const MODEL: &str = "openai/gpt-oss-20b";

/// Runs the benchmark; returns the time figure and the request-count figure.
pub(crate) async fn run(params: &Params) -> Result<Vec<Figure>, String> {
    let (emulator, config) = warm_emulator()?;
    let url = emulator.url();

    // What each flow sends (and a check that both succeed).
    emulator.clear_requests();
    ours(&config).await?;
    let ours_requests = describe(&emulator.requests());
    emulator.clear_requests();
    codex_style(&url).await?;
    let codex_requests = describe(&emulator.requests());

    let mut ours_t = Samples::new();
    let mut base_t = Samples::new();
    for i in 0..params.readiness_iters {
        emulator.clear_requests();
        // Alternate the order so neither side always runs right after the other.
        if i % 2 == 0 {
            ours_t.push(micros(timed(ours(&config)).await.1));
            base_t.push(micros(timed(codex_style(&url)).await.1));
        } else {
            base_t.push(micros(timed(codex_style(&url)).await.1));
            ours_t.push(micros(timed(ours(&config)).await.1));
        }
    }
    let (Some(ours_s), Some(base_s)) = (ours_t.summary(), base_t.summary()) else {
        return Err("readiness: no samples".to_owned());
    };
    let details = json!({
        "iterations": params.readiness_iters,
        "fresh_client_per_iteration": true,
        "ours_requests": ours_requests,
        "baseline_requests": codex_requests,
    });
    let time = Figure::new(
        "readiness",
        "1. warm readiness, fresh client (time)",
        "µs",
        ours_s,
    )
    .baseline("Codex-style flow (reqwest)", base_s)
    .target(Target::RatioAtMost(0.5))
    .details(details.clone());
    let count = Figure::new(
        "readiness_requests",
        "1. warm readiness (requests made)",
        "requests",
        Summary::exact(ours_requests.len() as f64),
    )
    .baseline(
        "Codex-style flow (reqwest)",
        Summary::exact(codex_requests.len() as f64),
    )
    .details(details);
    Ok(vec![time, count])
}

/// An emulator with [`MODEL`] downloaded and loaded, and a config (`preload = "wait"`) for
/// it; the engine benchmark uses the same.
pub(crate) fn warm_emulator() -> Result<(Emulator, VTCodeConfig), String> {
    let emulator = Emulator::builder()
        .model(
            CatalogModel::llm(MODEL)
                .size_bytes(12_000_000_000)
                .downloaded(true)
                .loaded(true),
        )
        .start_threaded()
        .map_err(|e| format!("cannot start the emulator: {e}"))?;
    let mut config = VTCodeConfig::default();
    config.lmstudio.base_url = Some(emulator.url());
    config.agent.default_model = Some(MODEL.to_owned());
    config.lmstudio.preload = PreloadMode::Wait;
    config.lmstudio.api_token_env = String::new();
    Ok((emulator, config))
}

/// `METHOD /path` for each request.
fn describe(requests: &[RecordedRequest]) -> Vec<String> {
    requests
        .iter()
        .map(|r| format!("{} {}", r.method, r.path))
        .collect()
}

/// Our awaited readiness flow (what `ensure_oss_ready_with_report` runs), from a fresh
/// client whose engine is let go when it is dropped.
async fn ours(config: &VTCodeConfig) -> Result<(), String> {
    let report = LMStudioClient::builder(config)
        .engine_linger(Duration::ZERO)
        .build()
        .map_err(|e| format!("ours: {e}"))?
        .ensure_ready(MODEL)
        .await
        .map_err(|e| format!("ours: {e}"))?;
    match report.load {
        LoadStep::AlreadyLoaded { .. } => Ok(()),
        other => Err(format!("ours: expected AlreadyLoaded, got {other:?}")),
    }
}

/// The Codex-style flow, from a fresh reqwest client.
async fn codex_style(url: &str) -> Result<(), String> {
    let http = reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(5))
        .build()
        .map_err(|e| format!("baseline: {e}"))?;
    let models = format!("{url}/v1/models");
    // 1. Is the server up?
    let check = http.get(&models).send().await.map_err(|e| e.to_string())?;
    if !check.status().is_success() {
        return Err(format!("baseline: server check {}", check.status()));
    }
    check.bytes().await.map_err(|e| e.to_string())?;
    // 2. Is the model there?
    let list: Value = http
        .get(&models)
        .send()
        .await
        .and_then(reqwest::Response::error_for_status)
        .map_err(|e| e.to_string())?
        .json()
        .await
        .map_err(|e| e.to_string())?;
    let listed = list["data"]
        .as_array()
        .is_some_and(|data| data.iter().any(|m| m["id"] == MODEL));
    if !listed {
        return Err(format!("baseline: {MODEL} not listed"));
    }
    // 3. Load it by using it.
    let body = json!({ "model": MODEL, "input": "", "max_output_tokens": 1, "text": { "format": { "type": "text" } } });
    http.post(format!("{url}/v1/responses"))
        .json(&body)
        .send()
        .await
        .and_then(reqwest::Response::error_for_status)
        .map_err(|e| e.to_string())?
        .bytes()
        .await
        .map_err(|e| e.to_string())?;
    Ok(())
}
