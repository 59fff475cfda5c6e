//! The default progress reporter: one tidy line on stderr.
//!
//! On a terminal the line is redrawn in place (`\r` + clear line). Otherwise (CI logs, files) a
//! full line is written only when the progress crosses a 10 % step, so logs stay short.

use std::io::{IsTerminal, Write};

use crate::progress::DownloadProgress;

/// Prints download progress to stderr as a single line.
///
/// ```no_run
/// # async fn demo(lms: &lmstudio_lms::Lms) -> Result<(), lmstudio_lms::LmsError> {
/// let mut bar = lmstudio_lms::StderrProgress::new();
/// let outcome = lms
///     .get("openai/gpt-oss-20b", &Default::default(), &mut |p| bar.report(&p))
///     .await;
/// bar.finish();
/// outcome?;
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct StderrProgress {
    printer: Printer,
}

impl StderrProgress {
    /// A reporter labelled "Downloading"; redraws in place when stderr is a terminal.
    pub fn new() -> Self {
        Self::with_label("Downloading")
    }

    /// A reporter whose lines start with `label` (for example the model key).
    pub fn with_label(label: impl Into<String>) -> Self {
        Self {
            printer: Printer::new(label.into(), std::io::stderr().is_terminal()),
        }
    }

    /// Shows one progress update.
    pub fn report(&mut self, progress: &DownloadProgress) {
        let mut err = std::io::stderr().lock();
        self.printer.report(progress, &mut err);
    }

    /// Ends the progress line (prints the pending newline on a terminal). Safe to call twice.
    pub fn finish(&mut self) {
        let mut err = std::io::stderr().lock();
        self.printer.finish(&mut err);
    }
}

impl Default for StderrProgress {
    fn default() -> Self {
        Self::new()
    }
}

/// The writer-agnostic part, so it can be tested with a `Vec<u8>`.
#[derive(Debug)]
pub(crate) struct Printer {
    label: String,
    terminal: bool,
    /// A line is on screen without its newline (terminal mode).
    open_line: bool,
    /// The last 10 % step printed (log mode).
    last_step: Option<u64>,
}

impl Printer {
    pub(crate) fn new(label: String, terminal: bool) -> Self {
        Self {
            label,
            terminal,
            open_line: false,
            last_step: None,
        }
    }

    pub(crate) fn report(&mut self, progress: &DownloadProgress, out: &mut dyn Write) {
        let line = format_line(&self.label, progress);
        // Write errors on stderr are not worth failing a download for.
        if self.terminal {
            let _ = write!(out, "\r\x1b[2K{line}");
            self.open_line = true;
        } else {
            let step = (progress.fraction.clamp(0.0, 1.0) * 10.0).floor() as u64;
            if self.last_step.is_some_and(|last| step <= last) {
                return;
            }
            self.last_step = Some(step);
            let _ = writeln!(out, "{line}");
        }
        let _ = out.flush();
    }

    pub(crate) fn finish(&mut self, out: &mut dyn Write) {
        if self.open_line {
            let _ = writeln!(out);
            let _ = out.flush();
            self.open_line = false;
        }
    }
}

/// `Downloading: 42.1% (1.23 GB / 2.92 GB, 45.67 MB/s, ETA 00:37)`.
fn format_line(label: &str, p: &DownloadProgress) -> String {
    let mut details = format!(
        "{} / {}",
        format_bytes(p.downloaded_bytes as f64),
        format_bytes(p.total_bytes as f64)
    );
    if let Some(speed) = p.bytes_per_second {
        details.push_str(&format!(", {}/s", format_bytes(speed)));
    }
    if let Some(eta) = p.eta {
        let secs = eta.as_secs();
        let (h, m, s) = (secs / 3600, (secs / 60) % 60, secs % 60);
        if h > 0 {
            details.push_str(&format!(", ETA {h:02}:{m:02}:{s:02}"));
        } else {
            details.push_str(&format!(", ETA {m:02}:{s:02}"));
        }
    }
    format!("{label}: {:.1}% ({details})", p.percent())
}

/// Decimal units, as lms prints them.
fn format_bytes(bytes: f64) -> String {
    const UNITS: [&str; 5] = ["B", "KB", "MB", "GB", "TB"];
    let mut value = bytes.max(0.0);
    let mut unit = 0;
    while value >= 1000.0 && unit < UNITS.len() - 1 {
        value /= 1000.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{value:.0} {}", UNITS[0])
    } else {
        format!("{value:.2} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn progress(fraction: f64) -> DownloadProgress {
        DownloadProgress {
            fraction,
            downloaded_bytes: (fraction * 2_920_000_000.0) as u64,
            total_bytes: 2_920_000_000,
            bytes_per_second: Some(45_670_000.0),
            eta: Some(Duration::from_secs(37)),
        }
    }

    #[test]
    fn line_format() {
        assert_eq!(
            format_line("Downloading", &progress(0.5)),
            "Downloading: 50.0% (1.46 GB / 2.92 GB, 45.67 MB/s, ETA 00:37)"
        );
        let mut p = progress(0.0);
        p.bytes_per_second = None;
        p.eta = Some(Duration::from_secs(3723));
        assert_eq!(
            format_line("x", &p),
            "x: 0.0% (0 B / 2.92 GB, ETA 01:02:03)"
        );
    }

    #[test]
    fn terminal_mode_redraws_and_finishes_with_newline() {
        let mut out = Vec::new();
        let mut printer = Printer::new("D".into(), true);
        printer.report(&progress(0.1), &mut out);
        printer.report(&progress(0.2), &mut out);
        printer.finish(&mut out);
        printer.finish(&mut out);
        let text = String::from_utf8(out).unwrap();
        assert_eq!(text.matches("\r\x1b[2K").count(), 2);
        assert_eq!(text.matches('\n').count(), 1);
        assert!(text.ends_with('\n'));
    }

    #[test]
    fn log_mode_prints_at_most_every_ten_percent() {
        let mut out = Vec::new();
        let mut printer = Printer::new("D".into(), false);
        for i in 0..=1000 {
            printer.report(&progress(f64::from(i) / 1000.0), &mut out);
        }
        printer.finish(&mut out);
        let text = String::from_utf8(out).unwrap();
        assert_eq!(text.lines().count(), 11, "{text}");
        assert!(!text.contains('\r'));
        assert!(text.lines().last().unwrap().contains("100.0%"));
    }
}
