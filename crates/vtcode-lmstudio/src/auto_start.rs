//! `[lmstudio] auto_start`: start a local LM Studio server that refuses connections, once per
//! process and port however many callers ask, then let the readiness flow go on.
//!
//! It applies only when all of these hold (else the refusal is returned as it is):
//! - `auto_start` is on (default off: nothing here ever runs otherwise);
//! - the URL is LM Studio on this machine: a loopback host and no path prefix
//!   (`Settings::auto_start_port`);
//! - the connection was *refused* (nothing listens): not a connect timeout, not an HTTP error.
//!
//! The start runs `lms server start --port <port of the URL>`, with `--bind` and `--cors` as
//! LM Studio recorded them in `<home>/.internal/http-server-config.json` (without them `lms`
//! would reset the bind address to 127.0.0.1 and turn CORS off), then polls
//! `GET /lmstudio-greeting` until `start_timeout_ms` runs out. Concurrent callers share one
//! start through a process-wide single flight keyed by port (so `localhost:N` and
//! `127.0.0.1:N`, or clients with different tokens, still start it once); a start that finds
//! the server already answering runs nothing. A failure is the seed's "not responding" error
//! with the [`ServerStartError`] (and what `lms` printed) as its source. A later call after a
//! failed start may try again: the cause (LM Studio waking slowly, a busy port) may be gone.

use std::net::IpAddr;
use std::sync::{Arc, LazyLock};
use std::time::{Duration, Instant};

use lmstudio_lms::{Lms, LmsError, ServerConfig, ServerStartOptions};
use lmstudio_transport::Error as TransportError;

use crate::catalog::ModelCatalog;
use crate::client::LMStudioClient;
use crate::error::{ErrorSource, LmStudioError, ServerStartError};
use crate::progress::{ProgressEvent, ProgressReporter};
use crate::single_flight::{FlightProgress, SingleFlight};

/// The longest one greeting check may take while waiting for the started server.
const PROBE_LIMIT: Duration = Duration::from_secs(1);
/// The first pause between greeting checks; it doubles up to [`MAX_PAUSE`].
const FIRST_PAUSE: Duration = Duration::from_millis(20);
/// The longest pause between greeting checks.
const MAX_PAUSE: Duration = Duration::from_millis(250);

/// What an automatic start did, in a [`ReadinessReport`](crate::ReadinessReport).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct ServerStartStep {
    /// The port the server was started on.
    pub port: u16,
    /// From running `lms server start` until the server answered (the same for every caller
    /// that waited for this start).
    pub elapsed: Duration,
}

/// What one start flight found.
#[derive(Debug, Clone, Copy)]
enum Started {
    /// It ran `lms server start` and the server came up.
    Ran(ServerStartStep),
    /// The server already answered (another start had just brought it up): nothing ran.
    AlreadyUp,
}

/// One start per port at a time, in the whole process.
static STARTS: LazyLock<SingleFlight<Started, LmStudioError>> =
    LazyLock::new(SingleFlight::default);

impl LMStudioClient {
    /// [`models`](Self::models), starting the local server first when it refuses and
    /// `auto_start` applies (see the module docs). Also returns the start, if one ran.
    pub(crate) async fn models_starting_server(
        &self,
        reporter: &dyn ProgressReporter,
    ) -> (
        Result<Arc<ModelCatalog>, LmStudioError>,
        Option<ServerStartStep>,
    ) {
        let refused = match self.models().await {
            Err(err) if self.may_auto_start(&err).is_some() => err,
            other => return (other, None),
        };
        match self.start_server(refused, reporter).await {
            Ok(Started::Ran(step)) => (self.models().await, Some(step)),
            Ok(Started::AlreadyUp) => (self.models().await, None),
            Err(err) => (Err(err), None),
        }
    }

    /// The port to start, when `err` is a refused connection and `auto_start` applies.
    fn may_auto_start(&self, err: &LmStudioError) -> Option<u16> {
        let port = self.inner.settings.auto_start_port()?;
        match err {
            LmStudioError::NotResponding {
                source,
                start: None,
                ..
            } if matches!(**source, TransportError::ConnectRefused { .. }) => Some(port),
            _ => None,
        }
    }

    /// Starts the server for all concurrent callers at once (see the module docs).
    async fn start_server(
        &self,
        refused: LmStudioError,
        reporter: &dyn ProgressReporter,
    ) -> Result<Started, LmStudioError> {
        let Some(port) = self.may_auto_start(&refused) else {
            return Err(refused);
        };
        let client = self.clone();
        STARTS
            .run(&port.to_string(), reporter, move |progress| async move {
                client.run_start(port, refused, progress).await
            })
            .await
    }

    /// The work of one start flight.
    async fn run_start(
        &self,
        port: u16,
        refused: LmStudioError,
        progress: FlightProgress,
    ) -> Result<Started, LmStudioError> {
        // A caller refused a moment before another start brought the server up starts nothing.
        if self.greets(PROBE_LIMIT).await.is_ok() {
            return Ok(Started::AlreadyUp);
        }
        let fail = |start: ServerStartError| not_responding(&refused, start);
        let lms = match self.lms() {
            Ok(lms) => lms,
            Err(err) => {
                tracing::warn!(error = %err, port, "auto_start is on, but lms is not usable");
                return Err(fail(ServerStartError::NoLms {
                    port,
                    source: Arc::new(err),
                }));
            }
        };
        let options = start_options(port, self.server_record());
        let limit = self.inner.settings.start_timeout;
        progress.report(&ProgressEvent::StartingServer { port });
        tracing::info!(
            port,
            ?options,
            "LM Studio refuses connections; starting its server"
        );
        let started = Instant::now();
        // A limit too far ahead to represent is no limit.
        let deadline = started.checked_add(limit);
        if let Err(err) = lms.clone().with_timeout(limit).server_start(&options).await {
            // `lms` may give up checking just before the server answers: look once more.
            if err.is_timeout() || self.greets(PROBE_LIMIT).await.is_err() {
                return Err(fail(lms_failure(&lms, port, limit, err)));
            }
            tracing::debug!(error = %err, "lms server start failed, but the server answers");
        }
        if let Err(last) = self.wait_for_greeting(deadline).await {
            return Err(fail(ServerStartError::TimedOut {
                port,
                limit,
                source: last,
            }));
        }
        let elapsed = started.elapsed();
        progress.report(&ProgressEvent::ServerStarted { port, elapsed });
        tracing::info!(port, ?elapsed, "LM Studio's server started");
        Ok(Started::Ran(ServerStartStep { port, elapsed }))
    }

    /// Polls the greeting until it answers or `deadline` passes: checks bounded by
    /// [`PROBE_LIMIT`], pauses doubling from [`FIRST_PAUSE`] to [`MAX_PAUSE`]. On time-out,
    /// the last check's error.
    async fn wait_for_greeting(
        &self,
        deadline: Option<Instant>,
    ) -> Result<(), Option<ErrorSource>> {
        let mut pause = FIRST_PAUSE;
        let mut last = None;
        loop {
            let left = deadline.map(|d| d.saturating_duration_since(Instant::now()));
            if left.is_some_and(|left| left.is_zero()) {
                return Err(last);
            }
            let attempt = left.map_or(PROBE_LIMIT, |left| left.min(PROBE_LIMIT));
            match self.greets(attempt).await {
                Ok(()) => return Ok(()),
                Err(err) => last = err.or(last),
            }
            let left = deadline.map(|d| d.saturating_duration_since(Instant::now()));
            tokio::time::sleep(left.map_or(pause, |left| left.min(pause))).await;
            pause = (pause * 2).min(MAX_PAUSE);
        }
    }

    /// One `GET /lmstudio-greeting` within `limit` (connect, headers and body): `Ok` when LM
    /// Studio answers (`{"lmstudio":true}`, or 401/403: only its auth guards the route).
    async fn greets(&self, limit: Duration) -> Result<(), Option<ErrorSource>> {
        let response = self
            .http()
            .get("/lmstudio-greeting")
            .connect_timeout(limit)
            .response_headers_timeout(limit)
            .deadline(limit)
            .send_raw()
            .await
            .map_err(|e| Some(Arc::new(e) as ErrorSource))?;
        let lmstudio = serde_json::from_slice::<serde_json::Value>(&response.body)
            .ok()
            .and_then(|v| v.get("lmstudio").and_then(serde_json::Value::as_bool))
            == Some(true);
        if matches!(response.status.as_u16(), 401 | 403) || (response.status == 200 && lmstudio) {
            Ok(())
        } else {
            Err(None)
        }
    }

    /// LM Studio's record of its server (bind address, CORS), from the configured home or
    /// the one `lms` would find. Missing or unusable: `None`, with a debug line.
    fn server_record(&self) -> Option<ServerConfig> {
        let record = match &self.inner.settings.lmstudio_home {
            Some(home) => lmstudio_lms::read_server_config(home),
            None => lmstudio_lms::read_user_server_config(),
        };
        record
            .inspect_err(|err| {
                tracing::debug!(error = %err, "no LM Studio server record; starting with lms's defaults");
            })
            .ok()
    }
}

/// `--port` from the URL (never from the record: the URL is what the client talks to); bind
/// and CORS as recorded. A recorded bind address that is not an IP address is not passed.
fn start_options(port: u16, record: Option<ServerConfig>) -> ServerStartOptions {
    let Some(record) = record else {
        return ServerStartOptions::new(port);
    };
    let bind = record
        .bind
        .as_deref()
        .and_then(|bind| match bind.parse::<IpAddr>() {
            Ok(ip) => Some(ip),
            Err(_) => {
                tracing::warn!(bind, path = %record.path.display(), "LM Studio's recorded bind address is not an IP address; starting without --bind");
                None
            }
        });
    ServerStartOptions::new(port)
        .with_bind(bind)
        .with_cors(record.cors == Some(true))
}

/// The start error for a failed or timed-out `lms server start`.
fn lms_failure(lms: &Lms, port: u16, limit: Duration, err: LmsError) -> ServerStartError {
    if err.is_timeout() {
        return ServerStartError::TimedOut {
            port,
            limit,
            source: Some(Arc::new(err)),
        };
    }
    let command = match &err {
        LmsError::Failed { command, .. } => command.clone(),
        _ => format!("{} server start --port {port}", lms.path().display()),
    };
    ServerStartError::Failed {
        port,
        command,
        source: Arc::new(err),
    }
}

/// The seed's "not responding" error for the refused connection, with why the start failed.
fn not_responding(refused: &LmStudioError, start: ServerStartError) -> LmStudioError {
    match refused {
        LmStudioError::NotResponding { url, source, .. } => LmStudioError::NotResponding {
            url: url.clone(),
            timed_out: start.is_timeout(),
            source: source.clone(),
            start: Some(Arc::new(start)),
        },
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(bind: Option<&str>, cors: Option<bool>) -> ServerConfig {
        static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let home =
            std::env::temp_dir().join(format!("auto-start-record-{}-{n}", std::process::id()));
        let dir = home.join(".internal");
        std::fs::create_dir_all(&dir).expect("mkdir");
        let mut fields = serde_json::json!({ "port": 9 });
        if let Some(bind) = bind {
            fields["networkInterface"] = bind.into();
        }
        if let Some(cors) = cors {
            fields["cors"] = cors.into();
        }
        std::fs::write(dir.join("http-server-config.json"), fields.to_string()).expect("write");
        let read = lmstudio_lms::read_server_config(&home).expect("valid record");
        let _ = std::fs::remove_dir_all(&home);
        read
    }

    #[test]
    fn bind_and_cors_come_from_the_record_and_the_port_from_the_url() {
        let options = start_options(41343, Some(record(Some("0.0.0.0"), Some(true))));
        assert_eq!(options.port, 41343);
        assert_eq!(options.bind, Some("0.0.0.0".parse().expect("ip")));
        assert!(options.cors);
        let options = start_options(41343, Some(record(Some("127.0.0.1"), Some(false))));
        assert_eq!(options.bind, Some("127.0.0.1".parse().expect("ip")));
        assert!(!options.cors);
        assert_eq!(start_options(1234, None), ServerStartOptions::new(1234));
    }

    #[test]
    fn a_bind_that_is_not_an_ip_address_is_not_passed() {
        for bind in ["gpu-box.local", "--evil", "0.0.0.0 --cors", "::1%lo"] {
            let options = start_options(1, Some(record(Some(bind), None)));
            assert_eq!(options.bind, None, "{bind}");
        }
    }
}
