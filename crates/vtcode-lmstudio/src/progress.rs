//! Progress events of the readiness flow, and the reporters that show them.

use std::fmt::Write as _;
use std::io::{IsTerminal, Write};
use std::sync::Mutex;
use std::time::Duration;

/// Formats a byte count with decimal units, as LM Studio does (`2.28 GB`); from `lmstudio-lms`,
/// which owns the one implementation.
pub use lmstudio_lms::format_bytes;

/// How a download is carried out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum DownloadMethod {
    /// `POST /api/v1/models/download` and status polling (LM Studio 0.4+).
    Rest,
    /// `lms get --yes <model>`.
    LmsCli,
}

impl std::fmt::Display for DownloadMethod {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Rest => "LM Studio REST API",
            Self::LmsCli => "lms get",
        })
    }
}

/// One step of making a model ready, as it happens.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum ProgressEvent {
    /// `[lmstudio] auto_start`: the local server refused connections, so `lms server start
    /// --port <port>` is starting it (this can take up to a minute while LM Studio wakes).
    StartingServer {
        /// The port it is started on (the port of the URL in use).
        port: u16,
    },
    /// The started server answers `/lmstudio-greeting`; the flow goes on.
    ServerStarted {
        /// The port it listens on.
        port: u16,
        /// From running `lms server start` until the server answered.
        elapsed: Duration,
    },
    /// A download is starting.
    DownloadStarted {
        /// The model being downloaded.
        model: String,
        /// How it is downloaded.
        method: DownloadMethod,
        /// The total size, when the server says.
        total_bytes: Option<u64>,
    },
    /// Bytes arrived.
    DownloadProgress {
        /// The model being downloaded.
        model: String,
        /// Bytes downloaded so far.
        downloaded_bytes: u64,
        /// Total bytes, when known.
        total_bytes: Option<u64>,
        /// Current speed, when known.
        bytes_per_second: Option<f64>,
        /// Estimated time left, when known.
        eta: Option<Duration>,
    },
    /// The download job is paused (in LM Studio's UI); polling continues.
    DownloadPaused {
        /// The model being downloaded.
        model: String,
    },
    /// The download finished (or the model was already there).
    DownloadFinished {
        /// The model.
        model: String,
        /// True when nothing had to be downloaded.
        already_present: bool,
    },
    /// Waiting for a freshly downloaded model to appear in the model list.
    WaitingForIndex {
        /// The model.
        model: String,
    },
    /// A chat, completion or embeddings request is waiting for a load of its model that is
    /// still running (a background preload, or another caller's load), so as not to race it.
    WaitingForLoad {
        /// The model the request names.
        model: String,
    },
    /// A load is starting.
    LoadStarted {
        /// The model key being loaded.
        model: String,
    },
    /// LM Studio's estimate of the memory a load of the model takes, read with `lms load
    /// --estimate-only` before the readiness flow loads it (when `lms` is on this machine).
    /// When [`estimate.will_fail()`](lmstudio_lms::LoadEstimate::will_fail), LM Studio's
    /// resource guardrails are expected to refuse the load, and the report has a warning.
    MemoryEstimate {
        /// The model key.
        model: String,
        /// The estimate.
        estimate: lmstudio_lms::LoadEstimate,
    },
    /// The load finished.
    LoadFinished {
        /// The model key.
        model: String,
        /// The instance id to send as `model` in requests.
        instance_id: String,
        /// Load time reported by the server, when it says.
        load_seconds: Option<f64>,
    },
}

/// Receives progress events. Implemented for any `Fn(&ProgressEvent) + Send + Sync`.
pub trait ProgressReporter: Send + Sync {
    /// Called for each event, in order, from the task of the call that was given this
    /// reporter (a call that joined a download or load another caller started gets that
    /// operation's events too). Must not block long.
    fn report(&self, event: &ProgressEvent);
}

impl<F> ProgressReporter for F
where
    F: Fn(&ProgressEvent) + Send + Sync,
{
    fn report(&self, event: &ProgressEvent) {
        self(event)
    }
}

/// A reporter that ignores everything.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoProgress;

impl ProgressReporter for NoProgress {
    fn report(&self, _event: &ProgressEvent) {}
}

/// The default reporter: one tidy progress line on stderr.
///
/// On a terminal the line redraws in place; otherwise (logs, CI) it prints a line every 10 %.
#[derive(Debug)]
pub struct StderrReporter {
    terminal: bool,
    last_decile: Mutex<Option<u64>>,
}

impl Default for StderrReporter {
    fn default() -> Self {
        Self::new()
    }
}

impl StderrReporter {
    /// A reporter that detects whether stderr is a terminal.
    pub fn new() -> Self {
        Self {
            terminal: std::io::stderr().is_terminal(),
            last_decile: Mutex::new(None),
        }
    }

    fn emit(&self, line: &str, redraw: bool) {
        let mut err = std::io::stderr().lock();
        // Progress output is best effort: a closed stderr must not fail the download.
        let _ = if redraw && self.terminal {
            write!(err, "\r\x1b[2K{line}")
        } else {
            writeln!(err, "{line}")
        };
        let _ = err.flush();
    }
}

impl ProgressReporter for StderrReporter {
    fn report(&self, event: &ProgressEvent) {
        match event {
            ProgressEvent::StartingServer { port } => self.emit(
                &format!("LM Studio is not running: starting its server on port {port} (lms server start)..."),
                false,
            ),
            ProgressEvent::ServerStarted { port, elapsed } => self.emit(
                &format!(
                    "LM Studio's server is up on port {port} (started in {} ms)",
                    elapsed.as_millis()
                ),
                false,
            ),
            ProgressEvent::DownloadStarted {
                model,
                method,
                total_bytes,
            } => {
                let size = total_bytes.map(|b| format!(" ({})", format_bytes(b)));
                self.emit(
                    &format!(
                        "Downloading {model}{} via {method}...",
                        size.unwrap_or_default()
                    ),
                    false,
                );
            }
            ProgressEvent::DownloadProgress { .. } => {
                let line = progress_line(event);
                if self.terminal {
                    self.emit(&line, true);
                } else if let Some(decile) = progress_decile(event) {
                    let mut last = crate::client::lock(&self.last_decile);
                    if *last != Some(decile) {
                        *last = Some(decile);
                        drop(last);
                        self.emit(&line, false);
                    }
                }
            }
            ProgressEvent::DownloadPaused { model } => self.emit(
                &format!("Download of {model} is paused in LM Studio"),
                false,
            ),
            ProgressEvent::DownloadFinished {
                model,
                already_present,
            } => {
                if self.terminal {
                    self.emit("", true);
                }
                let what = if *already_present {
                    "already downloaded"
                } else {
                    "downloaded"
                };
                self.emit(&format!("{model} {what}"), false);
            }
            ProgressEvent::MemoryEstimate { model, estimate } => {
                if let Some(warning) = crate::memory_estimate::warning(model, estimate) {
                    self.emit(&format!("Warning: {warning}"), false);
                }
            }
            ProgressEvent::WaitingForIndex { .. }
            | ProgressEvent::WaitingForLoad { .. }
            | ProgressEvent::LoadStarted { .. }
            | ProgressEvent::LoadFinished { .. } => {}
        }
    }
}

fn progress_decile(event: &ProgressEvent) -> Option<u64> {
    match event {
        ProgressEvent::DownloadProgress {
            downloaded_bytes,
            total_bytes: Some(total),
            ..
        } if *total > 0 => Some(downloaded_bytes.saturating_mul(10) / total),
        _ => None,
    }
}

/// Formats a download progress event as `42.1% | 1.23 GB / 2.92 GB | 45.67 MB/s | ETA 00:37`.
pub fn progress_line(event: &ProgressEvent) -> String {
    let mut line = String::new();
    if let ProgressEvent::DownloadProgress {
        model,
        downloaded_bytes,
        total_bytes,
        bytes_per_second,
        eta,
    } = event
    {
        let _ = write!(line, "{model}: ");
        match total_bytes {
            Some(total) if *total > 0 => {
                let pct = (*downloaded_bytes as f64 / *total as f64 * 100.0).min(100.0);
                let _ = write!(
                    line,
                    "{pct:5.1}% | {} / {}",
                    format_bytes(*downloaded_bytes),
                    format_bytes(*total)
                );
            }
            _ => {
                let _ = write!(line, "{}", format_bytes(*downloaded_bytes));
            }
        }
        if let Some(speed) = bytes_per_second {
            let _ = write!(line, " | {}/s", format_bytes(*speed as u64));
        }
        if let Some(eta) = eta {
            let secs = eta.as_secs();
            let _ = write!(line, " | ETA {:02}:{:02}", secs / 60, secs % 60);
        }
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_line_shows_percent_speed_and_eta() {
        let line = progress_line(&ProgressEvent::DownloadProgress {
            model: "m".into(),
            downloaded_bytes: 1_230_000_000,
            total_bytes: Some(2_920_000_000),
            bytes_per_second: Some(45_670_000.0),
            eta: Some(Duration::from_secs(37)),
        });
        assert_eq!(
            line,
            "m:  42.1% | 1.23 GB / 2.92 GB | 45.67 MB/s | ETA 00:37"
        );
    }

    #[test]
    fn closures_are_reporters() {
        let seen = Mutex::new(Vec::new());
        let reporter = |e: &ProgressEvent| seen.lock().expect("lock").push(e.clone());
        reporter.report(&ProgressEvent::WaitingForIndex { model: "m".into() });
        assert_eq!(seen.lock().expect("lock").len(), 1);
    }
}
