//! Benchmark 2: a keep-alive loop of small JSON GETs on one connection.
//!
//! Ours (`lmstudio_transport::Client::get_json`) vs reqwest (`get().send()` +
//! `error_for_status()` + `json()`) vs the raw floor: a hand-written HTTP/1.1 exchange on one
//! tokio `TcpStream` (write the request, read the head and the `Content-Length` body, decode
//! the JSON): what loopback and the server cost with no client at all. All three decode the
//! same typed body. The server is a minimal keep-alive server on its own thread.
//!
//! Two measures per side: wall time per request, and the client thread's CPU time per request
//! (the client runs on a current-thread runtime, so that thread does all of the client's work,
//! hyper's connection task included). On loopback the wall time is mostly the two thread
//! wake-ups of each round trip, which the raw floor shows; the CPU time is what the client
//! itself costs.

use lmstudio_transport::{Client, Endpoint};
use serde::Deserialize;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::Params;
use crate::report::{Figure, Target};
use crate::servers::{RawServer, content_length, find};
use crate::stats::{Samples, micros, timed_cpu};

/// The body served.
#[derive(Deserialize)]
struct Greeting {
    lmstudio: bool,
}

pub(crate) const PATH: &str = "/lmstudio-greeting";

/// Runs the benchmark.
pub(crate) async fn run(params: &Params) -> Result<Vec<Figure>, String> {
    let server = RawServer::json().map_err(|e| format!("cannot start the server: {e}"))?;
    let url = server.url();
    let endpoint = Endpoint::parse(&url).map_err(|e| e.to_string())?;
    let ours = Client::builder(endpoint)
        .build()
        .map_err(|e| e.to_string())?;
    let base = reqwest::Client::new();
    let full_url = format!("{url}{PATH}");
    let mut raw = RawClient::connect(server.port()).await?;

    let n = params.get_batch;
    let mut samples = [Samples::new(), Samples::new(), Samples::new()];
    let mut cpu = [Samples::new(), Samples::new(), Samples::new()];
    // Warm-up: connections open, allocators and caches settled.
    ours_batch(&ours, n / 4).await?;
    reqwest_batch(&base, &full_url, n / 4).await?;
    raw.batch(n / 4).await?;
    for round in 0..params.get_rounds {
        for k in 0..3 {
            let which = (round + k) % 3;
            let (outcome, wall, thread_cpu) = match which {
                0 => timed_cpu(ours_batch(&ours, n)).await,
                1 => timed_cpu(reqwest_batch(&base, &full_url, n)).await,
                _ => timed_cpu(raw.batch(n)).await,
            };
            outcome?;
            samples[which].push(micros(wall) / n as f64);
            cpu[which].push(micros(thread_cpu) / n as f64);
        }
    }
    let [Some(ours_s), Some(base_s), Some(raw_s)] = samples.map(|s| s.summary()) else {
        return Err("get loop: no samples".to_owned());
    };
    let [Some(ours_cpu), Some(base_cpu), Some(raw_cpu)] = cpu.map(|s| s.summary()) else {
        return Err("get loop: no CPU samples".to_owned());
    };
    let details = json!({
        "requests_per_sample": n,
        "rounds": params.get_rounds,
        "raw_floor_us": raw_s.to_json(),
        "reqwest_us": base_s.to_json(),
        "cpu_us": {
            "ours": ours_cpu.to_json(),
            "reqwest": base_cpu.to_json(),
            "raw_floor": raw_cpu.to_json(),
        },
        "runtime": "tokio current_thread (client); server on its own thread",
    });
    Ok(vec![
        Figure::new(
            "get_loop",
            "2. keep-alive small JSON GET (per request)",
            "µs",
            ours_s,
        )
        .baseline("reqwest", base_s)
        .target(Target::RatioAtMost(0.9))
        .details(details.clone()),
        Figure::new(
            "get_loop_floor",
            "2. keep-alive small JSON GET vs the raw floor",
            "µs",
            ours_s,
        )
        .baseline("raw HTTP/1.1 on one TcpStream", raw_s)
        .details(details.clone()),
        Figure::new(
            "get_loop_cpu",
            "2. keep-alive small JSON GET (client CPU per request)",
            "µs",
            ours_cpu,
        )
        .baseline("reqwest", base_cpu)
        .target(Target::RatioAtMost(0.9))
        .details(details.clone()),
        Figure::new(
            "get_loop_cpu_floor",
            "2. keep-alive small JSON GET (client CPU) vs the raw floor",
            "µs",
            ours_cpu,
        )
        .baseline("raw HTTP/1.1 on one TcpStream", raw_cpu)
        .details(details),
    ])
}

pub(crate) async fn ours_batch(client: &Client, n: usize) -> Result<(), String> {
    for _ in 0..n {
        let greeting: Greeting = client.get_json(PATH).await.map_err(|e| e.to_string())?;
        check(greeting)?;
    }
    Ok(())
}

pub(crate) async fn reqwest_batch(
    client: &reqwest::Client,
    url: &str,
    n: usize,
) -> Result<(), String> {
    for _ in 0..n {
        let greeting: Greeting = client
            .get(url)
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .map_err(|e| e.to_string())?
            .json()
            .await
            .map_err(|e| e.to_string())?;
        check(greeting)?;
    }
    Ok(())
}

fn check(greeting: Greeting) -> Result<(), String> {
    if greeting.lmstudio {
        Ok(())
    } else {
        Err("unexpected body".to_owned())
    }
}

/// The raw floor: one connection, requests written by hand, responses parsed by hand.
pub(crate) struct RawClient {
    stream: TcpStream,
    request: Vec<u8>,
    buf: Vec<u8>,
}

impl RawClient {
    pub(crate) async fn connect(port: u16) -> Result<Self, String> {
        let stream = TcpStream::connect(("127.0.0.1", port))
            .await
            .map_err(|e| format!("raw connect: {e}"))?;
        stream.set_nodelay(true).map_err(|e| e.to_string())?;
        let request = format!(
            "GET {PATH} HTTP/1.1\r\nhost: 127.0.0.1:{port}\r\naccept: application/json\r\n\r\n"
        )
        .into_bytes();
        Ok(Self {
            stream,
            request,
            buf: Vec::with_capacity(4096),
        })
    }

    pub(crate) async fn batch(&mut self, n: usize) -> Result<(), String> {
        for _ in 0..n {
            self.exchange().await?;
        }
        Ok(())
    }

    async fn exchange(&mut self) -> Result<(), String> {
        self.stream
            .write_all(&self.request)
            .await
            .map_err(|e| e.to_string())?;
        loop {
            if let Some(end) = find(&self.buf, b"\r\n\r\n") {
                let total = end + 4 + content_length(&self.buf[..end]);
                if self.buf.len() >= total {
                    if !self.buf.starts_with(b"HTTP/1.1 200") {
                        return Err("raw: unexpected status".to_owned());
                    }
                    let greeting: Greeting = serde_json::from_slice(&self.buf[end + 4..total])
                        .map_err(|e| e.to_string())?;
                    self.buf.drain(..total);
                    return check(greeting);
                }
            }
            self.buf.reserve(4096);
            let n = self
                .stream
                .read_buf(&mut self.buf)
                .await
                .map_err(|e| e.to_string())?;
            if n == 0 {
                return Err("raw: connection closed".to_owned());
            }
        }
    }
}
