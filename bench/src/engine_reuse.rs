//! Benchmark: what the shared engine buys a seed call, against the emulator (model downloaded
//! and loaded).
//!
//! - **Second seed call, warm engine.** A new client (as each `ensure_oss_ready` builds) for a
//!   server this process already talks to, with the catalog cache expired: the engine knows
//!   the server kind and holds a warm connection, so the flow is one `GET /api/v1/models` on
//!   a pooled connection. Baseline: the same GET, decoded into the same type, on a reused
//!   keep-alive `lmstudio_transport::Client` (goal: at most 1.2×). Every iteration is checked
//!   to have made exactly one request.
//! - **Fresh process.** A client whose engine is new (the previous one was let go with zero
//!   linger): server detection and a new TCP connection. Baseline, the raw floor: one new
//!   `TcpStream`, one hand-written HTTP/1.0 exchange, the same JSON decoded into the same type.

use std::time::Duration;

use lmstudio_proto::native::v1::ModelsResponse;
use lmstudio_transport::{Client, Endpoint};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use vtcode_config::VTCodeConfig;
use vtcode_lmstudio::{LMStudioClient, LoadStep, NoProgress};

use crate::Params;
use crate::report::{Figure, Target};
use crate::servers::find;
use crate::stats::{Samples, micros, timed};

const MODEL: &str = "openai/gpt-oss-20b";
const LIST: &str = "/api/v1/models";

/// Runs both comparisons.
pub(crate) async fn run(params: &Params) -> Result<Vec<Figure>, String> {
    let (emulator, config) = crate::readiness::warm_emulator()?;
    let url = emulator.url();
    let iterations = params.readiness_iters;

    // Warm: one client keeps the engine (and its connection) alive between seed calls, as an
    // agent's long-lived client or a call within the linger time would.
    let keeper = client(&config, Duration::from_secs(60))?;
    keeper.models().await.map_err(|e| format!("warm-up: {e}"))?;
    let keep_alive = Client::builder(Endpoint::parse(&url).map_err(|e| e.to_string())?)
        .build()
        .map_err(|e| e.to_string())?;
    let _: ModelsResponse = keep_alive.get_json(LIST).await.map_err(|e| e.to_string())?;
    let mut warm = Samples::new();
    let mut get = Samples::new();
    for i in 0..iterations {
        let ours = async {
            emulator.clear_requests();
            let took = timed(seed_call(&config, Duration::from_secs(60))).await;
            took.0?;
            let requests = emulator.requests();
            if requests.len() != 1 || requests[0].path != LIST {
                return Err(format!(
                    "the warm seed call made {} requests: {:?}",
                    requests.len(),
                    requests.iter().map(|r| &r.path).collect::<Vec<_>>()
                ));
            }
            Ok::<_, String>(took.1)
        };
        let base = async {
            let (result, took) = timed(keep_alive.get_json::<ModelsResponse>(LIST)).await;
            result.map_err(|e| e.to_string())?;
            Ok::<_, String>(took)
        };
        if i % 2 == 0 {
            warm.push(micros(ours.await?));
            get.push(micros(base.await?));
        } else {
            get.push(micros(base.await?));
            warm.push(micros(ours.await?));
        }
    }
    drop(keeper);

    // Fresh: every call starts a new engine; the previous one lingers for zero time.
    let mut fresh = Samples::new();
    let mut floor = Samples::new();
    for i in 0..iterations {
        let ours = async {
            let (result, took) = timed(seed_call(&config, Duration::ZERO)).await;
            result.map(|()| took)
        };
        let base = async {
            let (result, took) = timed(raw_exchange(emulator.port())).await;
            result.map(|()| took)
        };
        if i % 2 == 0 {
            fresh.push(micros(ours.await?));
            floor.push(micros(base.await?));
        } else {
            floor.push(micros(base.await?));
            fresh.push(micros(ours.await?));
        }
    }

    let summaries = (
        warm.summary(),
        get.summary(),
        fresh.summary(),
        floor.summary(),
    );
    let (Some(warm), Some(get), Some(fresh), Some(floor)) = summaries else {
        return Err("engine_reuse: no samples".to_owned());
    };
    let details = json!({ "iterations": iterations, "requests_per_warm_call": 1 });
    Ok(vec![
        Figure::new(
            "seed_call_warm_engine",
            "second seed call, warm engine, cache expired (time)",
            "µs",
            warm,
        )
        .baseline("keep-alive GET, same JSON (lmstudio-transport)", get)
        .target(Target::RatioAtMost(1.2))
        .details(details.clone()),
        Figure::new(
            "seed_call_fresh_engine",
            "seed call, fresh engine: detection + new connection (time)",
            "µs",
            fresh,
        )
        .baseline("raw floor: new TCP + hand-written exchange", floor)
        .details(details),
    ])
}

/// A client as a seed call builds it.
fn client(config: &VTCodeConfig, linger: Duration) -> Result<LMStudioClient, String> {
    LMStudioClient::builder(config)
        .reporter(std::sync::Arc::new(NoProgress))
        .catalog_ttl(Duration::ZERO)
        .engine_linger(linger)
        .build()
        .map_err(|e| e.to_string())
}

/// One seed call: a new client, the awaited readiness flow, the client dropped.
async fn seed_call(config: &VTCodeConfig, linger: Duration) -> Result<(), String> {
    let report = client(config, linger)?
        .ensure_ready(MODEL)
        .await
        .map_err(|e| format!("ours: {e}"))?;
    match report.load {
        LoadStep::AlreadyLoaded { .. } => Ok(()),
        other => Err(format!("ours: expected AlreadyLoaded, got {other:?}")),
    }
}

/// A new connection and one hand-written HTTP/1.0 exchange (the server closes after it),
/// decoding the same body.
async fn raw_exchange(port: u16) -> Result<(), String> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))
        .await
        .map_err(|e| format!("raw: {e}"))?;
    stream.set_nodelay(true).map_err(|e| e.to_string())?;
    let request = format!("GET {LIST} HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\n\r\n");
    stream
        .write_all(request.as_bytes())
        .await
        .map_err(|e| format!("raw: {e}"))?;
    let mut response = Vec::with_capacity(4096);
    stream
        .read_to_end(&mut response)
        .await
        .map_err(|e| format!("raw: {e}"))?;
    let head_end = find(&response, b"\r\n\r\n").ok_or("raw: no end of headers")?;
    let models: ModelsResponse = serde_json::from_slice(&response[head_end + 4..])
        .map_err(|e| format!("raw: the body is not the model list: {e}"))?;
    if models.models.is_empty() {
        return Err("raw: empty model list".to_owned());
    }
    Ok(())
}
