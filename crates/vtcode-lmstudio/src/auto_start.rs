//! `[lmstudio] auto_start`: start a local LM Studio server that refuses connections, one
//! start at a time per port in the process however many callers ask, then let the readiness
//! flow go on.
//!
//! It applies only when all of these hold (else the refusal is returned as it is):
//! - `auto_start` is on (default off: nothing here ever runs otherwise);
//! - the URL is LM Studio on this machine: a loopback host and no path prefix
//!   (`Settings::auto_start_port`);
//! - the connection was *refused* (nothing listens): not a connect timeout, not an HTTP error.
//!
//! First LM Studio's record of its server (`<home>/.internal/http-server-config.json`, in
//! the LM Studio home of the client's settings) is read. When it names another port (or
//! address) and LM Studio answers there, nothing is started
//! ([`ServerStartError::ServesElsewhere`]): LM Studio has one HTTP server, and
//! `lms server start --port N` would move it away from whoever uses it.
//!
//! The start runs `lms server start --port <port of the URL>`, with `--bind` and `--cors` as
//! LM Studio recorded them (without them `lms` would reset the bind address to 127.0.0.1 and
//! turn CORS off). A URL on a loopback address other than 127.0.0.1 (`[::1]`, `127.0.0.2`)
//! gets `--bind <that address>`, unless the recorded bind is a wildcard that covers it
//! (`0.0.0.0` for IPv4 addresses, `::` for both): the server must listen where the client
//! connects. Then it polls `GET /lmstudio-greeting` until `start_timeout_ms` runs out.
//!
//! Concurrent callers share one start through a process-wide single flight keyed by port (so
//! `localhost:N` and `127.0.0.1:N`, or clients with different tokens, still share it). The
//! start runs with the settings of the client that began it (its `lms`, its LM Studio home,
//! its `start_timeout_ms`); every caller waits with its own limit (one whose limit ends first
//! gives up then and leaves the start running for the others; one with a later limit keeps
//! checking the greeting after the start gave up), and a failure is the seed's "not
//! responding" error for the caller's own URL, with the [`ServerStartError`] (and what `lms`
//! printed) as its source. A start that finds the server already answering runs nothing.
//! This dedupes concurrent callers only: once a start has ended, a later call (after a failed
//! start, or after the server went away again) starts anew.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, LazyLock};
use std::time::{Duration, Instant};

use lmstudio_lms::{Lms, LmsError, ServerConfig, ServerStartOptions};
use lmstudio_transport::{Client as HttpClient, Endpoint, Error as TransportError};

use crate::catalog::ModelCatalog;
use crate::client::LMStudioClient;
use crate::error::{ErrorSource, LmStudioError, ServerStartError};
use crate::listing::greets_as_lmstudio;
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
    /// that waited for this start, unless the server answered only after the start gave up
    /// and a caller with a later limit saw it: then that caller's own wait).
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

/// One start per port at a time, in the whole process. The value is the start's own
/// outcome: every caller turns a failure into its own error (its URL, its limit).
static STARTS: LazyLock<SingleFlight<Result<Started, ServerStartError>, LmStudioError>> =
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

    /// Starts the server for all concurrent callers at once, waiting with this client's own
    /// limit (see the module docs).
    async fn start_server(
        &self,
        refused: LmStudioError,
        reporter: &dyn ProgressReporter,
    ) -> Result<Started, LmStudioError> {
        let Some(port) = self.may_auto_start(&refused) else {
            return Err(refused);
        };
        let limit = self.inner.settings.start_timeout;
        let began = Instant::now();
        // A limit too far ahead to represent is no limit.
        let deadline = began.checked_add(limit);
        let client = self.clone();
        let key = port.to_string();
        // Set when this call's work is the one that runs (the closure is called only then).
        let started_here = Arc::new(AtomicBool::new(false));
        let flight = STARTS.run(&key, reporter, {
            let started_here = started_here.clone();
            move |progress| {
                started_here.store(true, Ordering::SeqCst);
                async move { Ok(client.run_start(port, progress).await) }
            }
        });
        let mut flight = std::pin::pin!(flight);
        let outcome = match deadline {
            Some(at) => {
                match tokio::time::timeout_at(tokio::time::Instant::from_std(at), flight.as_mut())
                    .await
                {
                    Ok(outcome) => outcome,
                    // Our own start is bounded by this same limit: its own error says more.
                    Err(_) if started_here.load(Ordering::SeqCst) => flight.await,
                    // Past this caller's limit it stops waiting; the start goes on for the
                    // others.
                    Err(_) => Ok(Err(ServerStartError::TimedOut {
                        port,
                        limit,
                        source: None,
                    })),
                }
            }
            None => flight.await,
        };
        match outcome? {
            Ok(started) => Ok(started),
            // The start stopped at the limit of the client that began it; this caller's may
            // be later, and LM Studio may still be waking up.
            Err(ServerStartError::TimedOut { source, .. }) => {
                match self.wait_for_greeting(deadline).await {
                    Ok(()) => {
                        let elapsed = began.elapsed();
                        reporter.report(&ProgressEvent::ServerStarted { port, elapsed });
                        Ok(Started::Ran(ServerStartStep { port, elapsed }))
                    }
                    Err(last) => Err(not_responding(
                        &refused,
                        ServerStartError::TimedOut {
                            port,
                            limit,
                            source: source.or(last),
                        },
                    )),
                }
            }
            Err(start) => Err(not_responding(&refused, start)),
        }
    }

    /// The work of one start flight, with this (the first) caller's settings.
    async fn run_start(
        &self,
        port: u16,
        progress: FlightProgress,
    ) -> Result<Started, ServerStartError> {
        // A caller refused a moment before another start brought the server up starts nothing.
        if self.greets(PROBE_LIMIT).await.is_ok() {
            return Ok(Started::AlreadyUp);
        }
        let record = self.server_record();
        if let Some(record) = &record
            && let Some(elsewhere) = self.serving_elsewhere(port, record).await
        {
            tracing::warn!(
                port,
                serving_port = record.port,
                "LM Studio serves elsewhere; not starting (lms server start would move it)"
            );
            return Err(elsewhere);
        }
        let lms = match self.lms() {
            Ok(lms) => lms,
            Err(err) => {
                tracing::warn!(error = %err, port, "auto_start is on, but lms is not usable");
                return Err(ServerStartError::NoLms {
                    port,
                    source: Arc::new(err),
                });
            }
        };
        let url_ip = self.inner.settings.endpoint.host().parse::<IpAddr>().ok();
        let options = start_options(url_ip, port, record.as_ref());
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
            // `lms` may give up checking just before the server answers (or cannot check an
            // IPv6 bind address at all): look once more.
            if err.is_timeout() || self.greets(PROBE_LIMIT).await.is_err() {
                return Err(lms_failure(&lms, port, limit, err));
            }
            tracing::debug!(error = %err, "lms server start failed, but the server answers");
        }
        if let Err(last) = self.wait_for_greeting(deadline).await {
            return Err(ServerStartError::TimedOut {
                port,
                limit,
                source: last,
            });
        }
        let elapsed = started.elapsed();
        progress.report(&ProgressEvent::ServerStarted { port, elapsed });
        tracing::info!(port, ?elapsed, "LM Studio's server started");
        Ok(Started::Ran(ServerStartStep { port, elapsed }))
    }

    /// [`ServerStartError::ServesElsewhere`] when `record` puts LM Studio's server somewhere
    /// the URL does not reach and LM Studio answers there (one greeting, without the token,
    /// as `lms server status` checks it).
    async fn serving_elsewhere(
        &self,
        port: u16,
        record: &ServerConfig,
    ) -> Option<ServerStartError> {
        let address = connect_address(record);
        let host = self.inner.settings.endpoint.host();
        let same_place = record.port == port
            && (host.parse::<IpAddr>().ok() == Some(address)
                || (host == "localhost" && is_plain_loopback(address)));
        if same_place {
            return None;
        }
        let root = format!("http://{}", SocketAddr::new(address, record.port));
        let probe = Endpoint::parse(&root).ok().and_then(|endpoint| {
            HttpClient::builder(endpoint)
                .limits(self.inner.settings.limits)
                .build()
                .ok()
        })?;
        match greets_as_lmstudio(&probe, Some(PROBE_LIMIT)).await {
            Ok(true) => Some(ServerStartError::ServesElsewhere {
                port,
                serving_port: record.port,
                serving_address: address,
                record: record.path.clone(),
            }),
            Ok(false) | Err(_) => None,
        }
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

    /// One greeting of this client's server within `limit`: `Ok` when LM Studio answers;
    /// otherwise the transport error, if there was one.
    async fn greets(&self, limit: Duration) -> Result<(), Option<ErrorSource>> {
        match greets_as_lmstudio(self.http(), Some(limit)).await {
            Ok(true) => Ok(()),
            Ok(false) => Err(None),
            Err(err) => Err(Some(Arc::new(err) as ErrorSource)),
        }
    }

    /// LM Studio's record of its server (port, bind address, CORS), from the LM Studio home
    /// of the settings. Missing or unusable: `None`, with a debug line.
    fn server_record(&self) -> Option<ServerConfig> {
        self.inner
            .settings
            .server_record()
            .inspect_err(|err| {
                tracing::debug!(error = %err, "no LM Studio server record; starting with lms's defaults");
            })
            .ok()
    }
}

/// Where to greet the server LM Studio recorded: its bind address, or loopback for a
/// wildcard (`0.0.0.0`: 127.0.0.1; `::`: ::1), no bind, or one that is not an IP address.
fn connect_address(record: &ServerConfig) -> IpAddr {
    match record
        .bind
        .as_deref()
        .and_then(|b| b.parse::<IpAddr>().ok())
    {
        Some(IpAddr::V6(ip)) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        Some(ip) if !ip.is_unspecified() => ip,
        _ => IpAddr::V4(Ipv4Addr::LOCALHOST),
    }
}

/// 127.0.0.1 or ::1: what `localhost` resolves to.
fn is_plain_loopback(ip: IpAddr) -> bool {
    ip == IpAddr::V4(Ipv4Addr::LOCALHOST) || ip == IpAddr::V6(Ipv6Addr::LOCALHOST)
}

/// `--port` from the URL (never from the record: the URL is what the client talks to); bind
/// and CORS as recorded, except that a URL on a loopback address other than 127.0.0.1 binds
/// that address unless the recorded bind covers it. A recorded bind address that is not an
/// IP address is not passed.
fn start_options(
    url_ip: Option<IpAddr>,
    port: u16,
    record: Option<&ServerConfig>,
) -> ServerStartOptions {
    let recorded = record.and_then(|record| {
        let bind = record.bind.as_deref()?;
        match bind.parse::<IpAddr>() {
            Ok(ip) => Some(ip),
            Err(_) => {
                tracing::warn!(bind, path = %record.path.display(), "LM Studio's recorded bind address is not an IP address; starting without it");
                None
            }
        }
    });
    let other_loopback = url_ip.filter(|ip| ip.is_loopback() && !is_default_bind(*ip));
    let bind = match (other_loopback, recorded) {
        (Some(url_ip), Some(recorded)) if covers(recorded, url_ip) => Some(recorded),
        (Some(url_ip), recorded) => {
            if let Some(recorded) = recorded {
                tracing::warn!(
                    %recorded,
                    %url_ip,
                    "LM Studio's recorded bind address does not reach the URL's; binding the URL's"
                );
            }
            Some(url_ip)
        }
        (None, recorded) => recorded,
    };
    ServerStartOptions::new(port)
        .with_bind(bind)
        .with_cors(record.is_some_and(|record| record.cors == Some(true)))
}

/// 127.0.0.1: what `lms server start` binds without `--bind`.
fn is_default_bind(ip: IpAddr) -> bool {
    ip == IpAddr::V4(Ipv4Addr::LOCALHOST)
}

/// Whether a server bound to `bind` answers on `ip`: the same address, or a wildcard of its
/// family (`::` also takes IPv4 connections on a dual-stack system).
fn covers(bind: IpAddr, ip: IpAddr) -> bool {
    bind == ip || (bind.is_unspecified() && (bind.is_ipv6() || ip.is_ipv4()))
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
        let home = tempfile::tempdir().expect("temp dir");
        let dir = home.path().join(".internal");
        std::fs::create_dir_all(&dir).expect("mkdir");
        let mut fields = serde_json::json!({ "port": 9 });
        if let Some(bind) = bind {
            fields["networkInterface"] = bind.into();
        }
        if let Some(cors) = cors {
            fields["cors"] = cors.into();
        }
        std::fs::write(dir.join("http-server-config.json"), fields.to_string()).expect("write");
        lmstudio_lms::read_server_config(home.path()).expect("valid record")
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().expect("ip")
    }

    #[test]
    fn bind_and_cors_come_from_the_record_and_the_port_from_the_url() {
        let localhost = Some(ip("127.0.0.1"));
        let lan = record(Some("0.0.0.0"), Some(true));
        let options = start_options(localhost, 41343, Some(&lan));
        assert_eq!(options.port, 41343);
        assert_eq!(options.bind, Some(ip("0.0.0.0")));
        assert!(options.cors);
        let local = record(Some("127.0.0.1"), Some(false));
        let options = start_options(localhost, 41343, Some(&local));
        assert_eq!(options.bind, Some(ip("127.0.0.1")));
        assert!(!options.cors);
        assert_eq!(
            start_options(localhost, 1234, None),
            ServerStartOptions::new(1234)
        );
        // `localhost` is no IP address: as for 127.0.0.1, the record decides.
        assert_eq!(
            start_options(None, 1234, Some(&lan)).bind,
            Some(ip("0.0.0.0"))
        );
    }

    #[test]
    fn a_bind_that_is_not_an_ip_address_is_not_passed() {
        for bind in ["gpu-box.local", "--evil", "0.0.0.0 --cors", "::1%lo"] {
            let record = record(Some(bind), None);
            let options = start_options(Some(ip("127.0.0.1")), 1, Some(&record));
            assert_eq!(options.bind, None, "{bind}");
        }
    }

    #[test]
    fn another_loopback_address_is_bound_unless_the_record_covers_it() {
        let cases: [(&str, Option<&str>, Option<&str>); 10] = [
            // (URL address, recorded bind, --bind)
            ("::1", None, Some("::1")),
            ("127.0.0.2", None, Some("127.0.0.2")),
            ("127.0.0.2", Some("127.0.0.1"), Some("127.0.0.2")),
            ("::1", Some("127.0.0.1"), Some("::1")),
            ("127.0.0.2", Some("192.168.1.20"), Some("127.0.0.2")),
            // Wildcards that cover it are kept (LAN serving is not dropped).
            ("127.0.0.2", Some("0.0.0.0"), Some("0.0.0.0")),
            ("127.0.0.2", Some("::"), Some("::")),
            ("::1", Some("::"), Some("::")),
            // 0.0.0.0 takes no IPv6 connection.
            ("::1", Some("0.0.0.0"), Some("::1")),
            ("::1", Some("::1"), Some("::1")),
        ];
        for (url, recorded, wanted) in cases {
            let record = recorded.map(|bind| record(Some(bind), None));
            let options = start_options(Some(ip(url)), 1234, record.as_ref());
            assert_eq!(options.bind, wanted.map(ip), "{url} with {recorded:?}");
        }
        // A remote address is never auto-started; if it were, the record would decide.
        let record = record(Some("0.0.0.0"), None);
        assert_eq!(
            start_options(Some(ip("192.0.2.1")), 1, Some(&record)).bind,
            Some(ip("0.0.0.0"))
        );
    }

    #[test]
    fn the_recorded_server_is_greeted_on_its_bind_address_or_loopback() {
        let cases: [(Option<&str>, &str); 7] = [
            (None, "127.0.0.1"),
            (Some("0.0.0.0"), "127.0.0.1"),
            (Some("::"), "::1"),
            (Some("127.0.0.1"), "127.0.0.1"),
            (Some("::1"), "::1"),
            (Some("192.168.1.20"), "192.168.1.20"),
            (Some("gpu-box.local"), "127.0.0.1"),
        ];
        for (bind, wanted) in cases {
            assert_eq!(connect_address(&record(bind, None)), ip(wanted), "{bind:?}");
        }
    }
}
