//! Benchmark 4: a refused connection (nothing listens on the port) and `localhost` vs
//! `127.0.0.1`.
//!
//! - Time to the error: our transport `get_json` vs reqwest `send()`, one client each; and
//!   the whole facade flow (`ensure_oss_ready_with_report`, fresh client: what a user waits
//!   for before "LM Studio is not responding") vs the Codex-style first request (fresh
//!   reqwest client).
//! - Connect time: a fresh client and one GET to a listening server, by `localhost` and by
//!   `127.0.0.1`, for ours and for reqwest.

use std::future::Future;

use lmstudio_transport::{Client, Endpoint, Error};
use serde_json::{Value, json};
use vtcode_config::VTCodeConfig;
use vtcode_lmstudio::ensure_oss_ready_with_report;

use crate::Params;
use crate::report::{Figure, Target};
use crate::servers::{RawServer, free_port};
use crate::stats::{Samples, Summary, timed};

/// The goal for a refused connection, in ms.
const REFUSED_TARGET_MS: f64 = 10.0;

/// Runs the benchmark.
pub(crate) async fn run(params: &Params) -> Result<Vec<Figure>, String> {
    let port = free_port().map_err(|e| format!("no free port: {e}"))?;
    let iters = params.refused_iters;
    let mut figures = Vec::new();

    for host in ["127.0.0.1", "localhost"] {
        let url = format!("http://{host}:{port}");
        let ours = client(&url)?;
        let base = reqwest::Client::new();
        let models = format!("{url}/v1/models");
        let (o, b) = pair(
            iters,
            || refused_ours(&ours),
            || refused_reqwest(&base, &models),
        )
        .await?;
        let mut figure = Figure::new(
            &format!("refused_transport_{}", host.replace('.', "_")),
            format!("4. refused, time to error, transport ({host})"),
            "ms",
            o,
        )
        .baseline("reqwest", b);
        if host == "127.0.0.1" {
            figure = figure.target(Target::Below(REFUSED_TARGET_MS));
        }
        figures.push(figure.details(json!({ "iterations": iters })));
    }

    let url = format!("http://127.0.0.1:{port}");
    let mut config = VTCodeConfig::default();
    config.lmstudio.base_url = Some(url.clone());
    let models = format!("{url}/v1/models");
    let (o, b) = pair(
        iters,
        || refused_facade(&config),
        || refused_reqwest_fresh(&models),
    )
    .await?;
    figures.push(
        Figure::new(
            "refused_facade",
            "4. refused, time to error, facade ensure (fresh client)",
            "ms",
            o,
        )
        .baseline("Codex-style first GET (fresh reqwest)", b)
        .target(Target::Below(REFUSED_TARGET_MS))
        .details(json!({ "iterations": iters })),
    );

    figures.extend(connect_times(params).await?);
    Ok(figures)
}

/// Alternating timed runs of two fallible futures; summaries in ms.
async fn pair<A, B, FA, FB>(iters: usize, mut a: A, mut b: B) -> Result<(Summary, Summary), String>
where
    A: FnMut() -> FA,
    B: FnMut() -> FB,
    FA: Future<Output = Result<(), String>>,
    FB: Future<Output = Result<(), String>>,
{
    let mut sa = Samples::new();
    let mut sb = Samples::new();
    // Untimed first round: checks both fail the expected way.
    a().await?;
    b().await?;
    for i in 0..iters {
        if i % 2 == 0 {
            let (r, t) = timed(a()).await;
            r?;
            sa.push(t.as_secs_f64() * 1e3);
            let (r, t) = timed(b()).await;
            r?;
            sb.push(t.as_secs_f64() * 1e3);
        } else {
            let (r, t) = timed(b()).await;
            r?;
            sb.push(t.as_secs_f64() * 1e3);
            let (r, t) = timed(a()).await;
            r?;
            sa.push(t.as_secs_f64() * 1e3);
        }
    }
    match (sa.summary(), sb.summary()) {
        (Some(a), Some(b)) => Ok((a, b)),
        _ => Err("no samples".to_owned()),
    }
}

fn client(url: &str) -> Result<Client, String> {
    let endpoint = Endpoint::parse(url).map_err(|e| e.to_string())?;
    Client::builder(endpoint).build().map_err(|e| e.to_string())
}

async fn refused_ours(client: &Client) -> Result<(), String> {
    match client.get_json::<Value>("/v1/models").await {
        Err(Error::ConnectRefused { .. }) => Ok(()),
        other => Err(format!("ours: expected ConnectRefused, got {other:?}")),
    }
}

async fn refused_reqwest(client: &reqwest::Client, url: &str) -> Result<(), String> {
    match client.get(url).send().await {
        Err(e) if e.is_connect() => Ok(()),
        other => Err(format!("reqwest: expected a connect error, got {other:?}")),
    }
}

async fn refused_reqwest_fresh(url: &str) -> Result<(), String> {
    refused_reqwest(&reqwest::Client::new(), url).await
}

async fn refused_facade(config: &VTCodeConfig) -> Result<(), String> {
    match ensure_oss_ready_with_report(config).await {
        Err(e) if e.is_not_responding() => Ok(()),
        other => Err(format!("facade: expected NotResponding, got {other:?}")),
    }
}

/// Fresh client + one GET to a listening server, by name and by address.
async fn connect_times(params: &Params) -> Result<Vec<Figure>, String> {
    let server = RawServer::json().map_err(|e| format!("cannot start the server: {e}"))?;
    let port = server.port();
    let by_ip = format!("http://127.0.0.1:{port}");
    let by_name = format!("http://localhost:{port}");
    let iters = params.refused_iters;
    let (ours_name, ours_ip) = pair(
        iters,
        || first_get_ours(&by_name),
        || first_get_ours(&by_ip),
    )
    .await?;
    let (req_name, req_ip) = pair(
        iters,
        || first_get_reqwest(&by_name),
        || first_get_reqwest(&by_ip),
    )
    .await?;
    let details = json!({
        "iterations": iters,
        "reqwest_localhost_ms": req_name.to_json(),
        "reqwest_127_0_0_1_ms": req_ip.to_json(),
        "note": "fresh client + connect + one small GET per sample",
    });
    Ok(vec![
        Figure::new(
            "connect_localhost_ours",
            "4. connect + first GET, ours: localhost (baseline 127.0.0.1)",
            "ms",
            ours_name,
        )
        .baseline("ours via 127.0.0.1", ours_ip)
        .details(details.clone()),
        Figure::new(
            "connect_localhost_reqwest",
            "4. connect + first GET, reqwest: localhost (baseline 127.0.0.1)",
            "ms",
            req_name,
        )
        .baseline("reqwest via 127.0.0.1", req_ip)
        .details(details),
    ])
}

async fn first_get_ours(url: &str) -> Result<(), String> {
    let client = client(url)?;
    client
        .get_json::<Value>("/lmstudio-greeting")
        .await
        .map(drop)
        .map_err(|e| format!("ours: {e}"))
}

async fn first_get_reqwest(url: &str) -> Result<(), String> {
    reqwest::Client::new()
        .get(format!("{url}/lmstudio-greeting"))
        .send()
        .await
        .and_then(reqwest::Response::error_for_status)
        .map_err(|e| e.to_string())?
        .json::<Value>()
        .await
        .map(drop)
        .map_err(|e| format!("reqwest: {e}"))
}
