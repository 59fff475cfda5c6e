//! A live progress bar for the demo: redraws one line on a terminal, prints milestones in logs.

use std::io::{IsTerminal, Write};
use std::sync::Mutex;
use std::time::Instant;

use vtcode_lmstudio::{ProgressEvent, ProgressReporter, format_bytes};

const WIDTH: usize = 30;

/// Draws download and load progress on stderr.
pub(super) struct TerminalProgress {
    terminal: bool,
    state: Mutex<BarState>,
}

#[derive(Default)]
struct BarState {
    /// When the current step started.
    started: Option<Instant>,
    /// The last decile printed when not on a terminal.
    last_decile: Option<u64>,
    /// Whether a redrawn line is on screen and needs a newline before other output.
    line_open: bool,
}

impl TerminalProgress {
    pub(super) fn new() -> Self {
        Self {
            terminal: std::io::stderr().is_terminal(),
            state: Mutex::new(BarState::default()),
        }
    }

    fn draw(&self, state: &mut BarState, line: &str, milestone: Option<u64>) {
        let mut err = std::io::stderr().lock();
        if self.terminal {
            let _ = write!(err, "\r\x1b[2K  {line}");
            state.line_open = true;
        } else if milestone.is_none() || milestone != state.last_decile {
            state.last_decile = milestone;
            let _ = writeln!(err, "  {line}");
        }
        let _ = err.flush();
    }

    fn say(&self, state: &mut BarState, line: &str) {
        let mut err = std::io::stderr().lock();
        if state.line_open {
            let _ = writeln!(err);
            state.line_open = false;
        }
        let _ = writeln!(err, "  {line}");
        let _ = err.flush();
    }
}

/// `[#########.....................]  30%`.
pub(super) fn bar(fraction: f64) -> String {
    let fraction = if fraction.is_finite() {
        fraction.clamp(0.0, 1.0)
    } else {
        0.0
    };
    let filled = (fraction * WIDTH as f64).round() as usize;
    format!(
        "[{}{}] {:>3.0}%",
        "#".repeat(filled),
        ".".repeat(WIDTH - filled),
        fraction * 100.0
    )
}

impl ProgressReporter for TerminalProgress {
    fn report(&self, event: &ProgressEvent) {
        let mut state = crate::lock(&self.state);
        match event {
            ProgressEvent::StartingServer { port } => {
                self.say(
                    &mut state,
                    &format!("LM Studio is not running: lms server start --port {port} ..."),
                );
            }
            ProgressEvent::ServerStarted { port, elapsed } => {
                self.say(
                    &mut state,
                    &format!(
                        "LM Studio's server answers on port {port} (started in {:.0} ms)",
                        elapsed.as_secs_f64() * 1000.0
                    ),
                );
            }
            ProgressEvent::DownloadStarted {
                model,
                method,
                total_bytes,
            } => {
                state.started = Some(Instant::now());
                state.last_decile = None;
                let size = total_bytes.map_or(String::new(), |b| format!(", {}", format_bytes(b)));
                self.say(
                    &mut state,
                    &format!("downloading {model} via {method}{size}"),
                );
            }
            ProgressEvent::DownloadProgress {
                downloaded_bytes,
                total_bytes,
                bytes_per_second,
                eta,
                ..
            } => {
                let fraction = total_bytes
                    .filter(|total| *total > 0)
                    .map(|total| *downloaded_bytes as f64 / total as f64);
                let mut line = match fraction {
                    Some(fraction) => bar(fraction),
                    None => "[ size unknown ]".to_owned(),
                };
                line.push_str(&format!("  {}", format_bytes(*downloaded_bytes)));
                if let Some(total) = total_bytes {
                    line.push_str(&format!(" / {}", format_bytes(*total)));
                }
                if let Some(speed) = bytes_per_second.filter(|s| s.is_finite() && *s > 0.0) {
                    line.push_str(&format!("  {}/s", format_bytes(speed as u64)));
                }
                if let Some(eta) = eta {
                    line.push_str(&format!("  ETA {}s", eta.as_secs()));
                }
                let decile = fraction.map(|f| (f.clamp(0.0, 1.0) * 10.0) as u64);
                self.draw(&mut state, &line, decile);
            }
            ProgressEvent::DownloadPaused { model } => {
                self.say(
                    &mut state,
                    &format!("download of {model} paused in LM Studio"),
                );
            }
            ProgressEvent::DownloadFinished {
                model,
                already_present,
            } => {
                let line = if *already_present {
                    format!("{model} was already downloaded")
                } else {
                    let took = state.started.map_or(String::new(), |s| {
                        format!(" in {:.1} s", s.elapsed().as_secs_f64())
                    });
                    format!("downloaded {model}{took}")
                };
                self.say(&mut state, &line);
            }
            ProgressEvent::WaitingForIndex { model } => {
                self.say(
                    &mut state,
                    &format!("waiting for LM Studio to list {model}"),
                );
            }
            ProgressEvent::WaitingForLoad { model } => {
                self.say(
                    &mut state,
                    &format!("waiting for the load of {model} to finish"),
                );
            }
            ProgressEvent::LoadStarted { model } => {
                state.started = Some(Instant::now());
                self.say(&mut state, &format!("loading {model} ..."));
            }
            ProgressEvent::LoadFinished {
                instance_id,
                load_seconds,
                ..
            } => {
                let took = load_seconds
                    .map(|s| format!(" in {s:.2} s"))
                    .or_else(|| {
                        state
                            .started
                            .map(|s| format!(" in {:.2} s", s.elapsed().as_secs_f64()))
                    })
                    .unwrap_or_default();
                self.say(&mut state, &format!("loaded as {instance_id}{took}"));
            }
            ProgressEvent::MemoryEstimate { model, estimate } => {
                let gib = |bytes: u64| bytes as f64 / f64::from(1u32 << 30);
                let verdict = if estimate.will_fail() {
                    "LM Studio says the load will fail"
                } else {
                    "it may be loaded"
                };
                self.say(
                    &mut state,
                    &format!(
                        "{model} needs about {:.2} GiB of GPU memory, {:.2} GiB in all: {verdict}",
                        gib(estimate.gpu_memory_bytes),
                        gib(estimate.total_memory_bytes)
                    ),
                );
            }
            other => self.say(&mut state, &format!("{other:?}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::bar;

    #[test]
    fn bar_is_clamped_and_sized() {
        assert_eq!(bar(0.0), format!("[{}]   0%", ".".repeat(30)));
        assert_eq!(bar(1.5), format!("[{}] 100%", "#".repeat(30)));
        assert_eq!(bar(f64::NAN), format!("[{}]   0%", ".".repeat(30)));
        assert!(bar(0.5).starts_with(&format!("[{}.", "#".repeat(15))));
    }
}
