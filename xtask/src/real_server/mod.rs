//! `cargo xtask integration --real`: the facade's suite against a real OpenAI-compatible server
//! (llama.cpp's own HTTP server from the `xllamacpp` wheel, serving Gemma 3 270M), installed
//! from PyPI into `target/real-server/venv`, started twice (plain, then with an API key), and
//! always stopped by PID, also on failure, Ctrl-C or SIGTERM. See docs/testing.md.

mod auth;
mod inference;
mod messages;
mod metrics;
mod proxy;
mod readiness;
mod responses;
mod server;
mod setup;

use std::time::{Duration, Instant};

use vtcode_config::{ApiToken, VTCodeConfig};
use vtcode_lmstudio::LMStudioClient;

use crate::checks::Suite;
use metrics::{Metrics, RunFacts, Tally};
use server::RunningServer;
use setup::{Paths, Prepared};

const USAGE: &str = "\
usage: cargo xtask integration --real [--port N] [--python PATH] [--fresh]

  --port N       run the plain server on 127.0.0.1:N (refused when taken; default: a free port)
  --python PATH  the Python 3.9+ that creates the venv (default: python3, or $REAL_SERVER_PYTHON)
  --fresh        delete and recreate target/real-server/venv even when it is intact";

/// The variable the suite's configs name as `api_token_env`. The run refuses to start when it
/// is set, so no token from the environment can leak into a check.
pub(crate) const TOKEN_ENV: &str = "XTASK_REAL_SUITE_TOKEN";

/// Parsed command-line options.
#[derive(Debug)]
struct Options {
    port: Option<u16>,
    python: String,
    fresh: bool,
}

impl Options {
    fn parse(args: &[String]) -> Result<Self, String> {
        let mut options = Options {
            port: None,
            python: std::env::var("REAL_SERVER_PYTHON")
                .ok()
                .filter(|p| !p.trim().is_empty())
                .unwrap_or_else(|| "python3".to_owned()),
            fresh: false,
        };
        let mut iter = args.iter();
        while let Some(flag) = iter.next() {
            let mut value = || {
                iter.next()
                    .cloned()
                    .ok_or_else(|| format!("{flag} needs a value\n\n{USAGE}"))
            };
            match flag.as_str() {
                "--port" => {
                    let text = value()?;
                    let port = text
                        .parse::<u16>()
                        .ok()
                        .filter(|p| *p != 0)
                        .ok_or_else(|| format!("--port {text}: not a port number (1-65535)"))?;
                    options.port = Some(port);
                }
                "--python" => options.python = value()?,
                "--fresh" => options.fresh = true,
                "-h" | "--help" => return Err(USAGE.to_owned()),
                other => return Err(format!("unknown option `{other}`\n\n{USAGE}")),
            }
        }
        Ok(options)
    }
}

/// Runs the real-server suite; the servers are stopped whatever happens.
pub(crate) fn run(args: &[String]) -> Result<(), String> {
    let options = Options::parse(args)?;
    if std::env::var_os(TOKEN_ENV).is_some() {
        return Err(format!(
            "{TOKEN_ENV} is set in the environment: unset it (the suite uses that name for a \
             variable that must be empty)"
        ));
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| format!("could not start the async runtime: {e}"))?;
    runtime.block_on(async {
        tokio::select! {
            result = run_all(&options) => result,
            signal = interrupted() => {
                // `run_all` was dropped above: its server guards have stopped and reaped the
                // servers by now.
                Err(format!("real-server: interrupted by {signal}; every server it started was stopped"))
            }
        }
    })
}

/// Resolves on Ctrl-C (SIGINT) or SIGTERM.
async fn interrupted() -> &'static str {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut term = signal(SignalKind::terminate()).ok();
        let sigterm = async {
            match term.as_mut() {
                Some(term) => {
                    term.recv().await;
                }
                None => std::future::pending::<()>().await,
            }
        };
        tokio::select! {
            () = ctrl_c() => "Ctrl-C (SIGINT)",
            () = sigterm => "SIGTERM",
        }
    }
    #[cfg(not(unix))]
    {
        ctrl_c().await;
        "Ctrl-C"
    }
}

/// Resolves on Ctrl-C; never, when the handler cannot be installed.
async fn ctrl_c() {
    if tokio::signal::ctrl_c().await.is_err() {
        std::future::pending::<()>().await;
    }
}

async fn run_all(options: &Options) -> Result<(), String> {
    let started = Instant::now();
    let load_at_start = metrics::loadavg();
    let paths = Paths::new(&crate::ci::repo_root());
    let prepared = setup::prepare(&paths, &options.python, options.fresh).await?;

    let mut suite = Suite::new("real-server");
    let mut tally = Tally::default();
    let mut metrics = Metrics::default();
    let mut ready = Vec::new();

    let plain = RunningServer::start(&paths, "plain", options.port, None).await?;
    ready.push(("plain", plain.ready_after));
    let url = plain.base_url();
    readiness::run(&mut suite, &mut tally, &mut metrics, &url, plain.port()).await;
    inference::run(&mut suite, &mut tally, &mut metrics, &url).await;
    responses::run(&mut suite, &mut tally, &mut metrics, &url).await;
    messages::run(&mut suite, &mut tally, &mut metrics, &url).await;
    let plain_stop = plain.stop().await;

    let key = api_key();
    let keyed = RunningServer::start(&paths, "api-key", None, Some(&key)).await?;
    ready.push(("api-key", keyed.ready_after));
    auth::run(&mut suite, &mut tally, &keyed.base_url(), &key).await;
    messages::run_keyed(&mut suite, &mut tally, &keyed.base_url(), &key).await;
    let keyed_pid = keyed.pid();
    let keyed_stop = keyed.stop().await;

    let wall = started.elapsed();
    let facts = RunFacts {
        wall,
        prepared: &prepared,
        ready: &ready,
        loadavg: [load_at_start, metrics::loadavg()],
    };
    print_figures(&facts, &metrics);
    let report = paths.work.join("latest.json");
    metrics::write_report(&report, &facts, &metrics, &tally)?;
    println!("real-server: wrote {}", report.display());
    let outcome = suite.finish();
    plain_stop?;
    keyed_stop.map_err(|e| format!("{e} (pid {keyed_pid})"))?;
    outcome
}

/// A fresh key per run, never printed.
fn api_key() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    format!("sk-xtask-{:x}{:x}", nanos, std::process::id())
}

fn print_figures(facts: &RunFacts<'_>, metrics: &Metrics) {
    let prepared: &Prepared = facts.prepared;
    let ready: Vec<String> = facts
        .ready
        .iter()
        .map(|(label, at)| format!("{label} {:.2} s", at.as_secs_f64()))
        .collect();
    println!(
        "\nreal-server: wall {:.1} s (venv {}: check {:.1} s, venv {:.1} s, pip {:.1} s, model {:.1} s; server ready: {}; load average {} -> {})",
        facts.wall.as_secs_f64(),
        if prepared.fresh { "fresh" } else { "reused" },
        prepared.check.as_secs_f64(),
        prepared.venv.as_secs_f64(),
        prepared.pip.as_secs_f64(),
        prepared.assemble.as_secs_f64(),
        ready.join(", "),
        facts.loadavg[0],
        facts.loadavg[1]
    );
    if let Some((rate, ttft)) = metrics.medians() {
        println!(
            "real-server: streaming {rate:.1} tokens/s, time to first token {} (median of {} runs of max_tokens {}, through LMStudioClient::chat_stream)",
            crate::checks::millis(ttft),
            metrics.stream_runs.len(),
            metrics.stream_max_tokens
        );
    }
    if let Some(((r_rate, r_ttft), (c_rate, c_ttft))) = metrics.responses_vs_chat_medians() {
        println!(
            "real-server: same prompt, median of {} pairs: responses_stream {r_rate:.1} tokens/s, first text after {}; chat_stream {c_rate:.1} tokens/s, first text after {}",
            metrics.responses_vs_chat.len(),
            crate::checks::millis(r_ttft),
            crate::checks::millis(c_ttft)
        );
    }
    if let Some(((m_rate, m_ttft), (c_rate, c_ttft))) = metrics.messages_vs_chat_medians() {
        println!(
            "real-server: same prompt, median of {} pairs: messages_stream {m_rate:.1} tokens/s, first text after {}; chat_stream {c_rate:.1} tokens/s, first text after {}",
            metrics.messages_vs_chat.len(),
            crate::checks::millis(m_ttft),
            crate::checks::millis(c_ttft)
        );
    }
    if let Some(c) = &metrics.concurrent {
        println!(
            "real-server: {} concurrent streams on {} slots: {} tokens in {:.2} s = {:.1} tokens/s aggregate",
            c.streams,
            server::SLOTS,
            c.completion_tokens,
            c.wall.as_secs_f64(),
            metrics::rate(c.completion_tokens, c.wall)
        );
    }
}

/// A config for the server at `base_url`: `default_model` when given, the token when given,
/// and `api_token_env` naming a variable that is never set (so the process environment cannot
/// supply a token).
pub(crate) fn config(base_url: &str, model: Option<&str>, token: Option<&str>) -> VTCodeConfig {
    let mut config = VTCodeConfig::default();
    config.lmstudio.base_url = Some(base_url.to_owned());
    config.lmstudio.api_token_env = TOKEN_ENV.to_owned();
    config.lmstudio.api_token = token.map(ApiToken::new);
    config.agent.default_model = model.map(str::to_owned);
    config
}

/// A client for `config`, as a check error when it cannot be built.
pub(crate) fn client(config: &VTCodeConfig) -> Result<LMStudioClient, String> {
    LMStudioClient::new(config).map_err(|e| format!("LMStudioClient::new failed: {e}"))
}

/// Time limits for one check (generous: the machine's two cores are shared).
pub(crate) const QUICK: Duration = Duration::from_secs(30);
/// For checks that generate many tokens.
pub(crate) const SLOW: Duration = Duration::from_secs(120);
