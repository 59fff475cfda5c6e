//! Parsing `lms get`'s progress bar: `⠋ [█████▌    ] 42.13% | 1.23 GB / 2.92 GB | 45.67 MB/s | ETA 00:37`.
//!
//! lms formats sizes with decimal units (`B`, `KB`, `MB`, `GB`, `TB`, powers of 1000); binary
//! units (`KiB`, `MiB`, `GiB`, `TiB`) are accepted too. The ETA is `mm:ss` or `hh:mm:ss`; lms
//! prints `Infinity:NaN:NaN` or `NaN:NaN` while the speed is zero, which parses as no ETA.

use std::time::Duration;

use crate::text::strip_ansi;

/// One progress update of a download.
#[derive(Debug, Clone, PartialEq)]
pub struct DownloadProgress {
    /// Completed fraction, `0.0..=1.0` (from the percentage lms prints).
    pub fraction: f64,
    /// Bytes downloaded so far (as precise as lms prints it: 3 significant digits or so).
    pub downloaded_bytes: u64,
    /// Total bytes to download.
    pub total_bytes: u64,
    /// Current speed in bytes per second, when printed.
    pub bytes_per_second: Option<f64>,
    /// Estimated time left, when printed and finite.
    pub eta: Option<Duration>,
}

impl DownloadProgress {
    /// The completed percentage, `0.0..=100.0`.
    pub fn percent(&self) -> f64 {
        self.fraction * 100.0
    }
}

/// Parses one line of `lms get` output into a progress update.
///
/// ANSI escapes are removed first, and the spinner and bar glyphs before the percentage are
/// ignored. The percentage and the `done / total` sizes are required; speed and ETA are
/// optional. Returns `None` for any other line (plan screens, status messages, garbage).
pub fn parse_progress_line(line: &str) -> Option<DownloadProgress> {
    if !line.contains('%') {
        return None;
    }
    let clean = strip_ansi(line);
    let (percent, rest) = find_percent(&clean)?;
    let mut sizes = None;
    let mut speed = None;
    let mut eta = None;
    for segment in rest.split('|').map(str::trim).filter(|s| !s.is_empty()) {
        if let Some(value) = segment.strip_prefix("ETA") {
            eta = parse_eta(value.trim());
        } else if let Some(value) = segment.strip_suffix("/s") {
            speed = parse_size(value).map(|b| b as f64);
        } else if sizes.is_none()
            && let Some((done, total)) = segment.split_once('/')
        {
            sizes = Some((parse_size(done)?, parse_size(total)?));
        }
    }
    let (downloaded_bytes, total_bytes) = sizes?;
    Some(DownloadProgress {
        fraction: (percent / 100.0).clamp(0.0, 1.0),
        downloaded_bytes,
        total_bytes,
        bytes_per_second: speed,
        eta,
    })
}

/// Finds the first `N%` or `N.NN%` followed by `|`; returns the number and the text after `|`.
fn find_percent(line: &str) -> Option<(f64, &str)> {
    for (idx, _) in line.match_indices('%') {
        let before = &line[..idx];
        let Some(start) = before
            .char_indices()
            .rev()
            .take_while(|(_, c)| c.is_ascii_digit() || *c == '.')
            .last()
            .map(|(i, _)| i)
        else {
            continue;
        };
        // The number must stand alone: `1e3%` or `x5%` are not percentages.
        if before[..start]
            .chars()
            .next_back()
            .is_some_and(|c| c.is_alphanumeric())
        {
            continue;
        }
        let Ok(value) = before[start..].parse::<f64>() else {
            continue;
        };
        if !(0.0..=100.0).contains(&value) {
            continue;
        }
        let after = line[idx + 1..].trim_start();
        if let Some(rest) = after.strip_prefix('|') {
            return Some((value, rest));
        }
    }
    None
}

/// Formats a byte count with decimal units and two decimals, as `lms` and LM Studio print
/// sizes (`999 B`, `45.67 MB`, `2.28 GB`); [`parse_progress_line`] reads this form back.
///
/// ```
/// assert_eq!(lmstudio_lms::format_bytes(2_280_000_000), "2.28 GB");
/// assert_eq!(lmstudio_lms::format_bytes(512), "512 B");
/// ```
pub fn format_bytes(bytes: u64) -> String {
    format_in_units(bytes, 1000.0, &["B", "KB", "MB", "GB", "TB"])
}

/// Formats a byte count as `lms` prints memory (`formatSizeBytes1024`, used by
/// `lms load --estimate-only`): base 1024, two decimals.
///
/// ```
/// assert_eq!(lmstudio_lms::format_bytes_1024(13_250_000_000), "12.34 GiB");
/// assert_eq!(lmstudio_lms::format_bytes_1024(1536), "1.50 KiB");
/// assert_eq!(lmstudio_lms::format_bytes_1024(1023), "1023 Bytes");
/// assert_eq!(lmstudio_lms::format_bytes_1024(24 << 30), "24.00 GiB");
/// assert_eq!(lmstudio_lms::format_bytes_1024(u64::MAX), "16777216.00 TiB");
/// assert_eq!(lmstudio_lms::format_bytes_1024(0), "0 Bytes");
/// ```
pub fn format_bytes_1024(bytes: u64) -> String {
    format_in_units(bytes, 1024.0, &["Bytes", "KiB", "MiB", "GiB", "TiB"])
}

/// `bytes` in the largest of `units` (each `base` times the one before) that keeps the value
/// at least 1, with two decimals; whole bytes in the first unit.
fn format_in_units(bytes: u64, base: f64, units: &[&str]) -> String {
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= base && unit + 1 < units.len() {
        value /= base;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} {}", units[0])
    } else {
        format!("{value:.2} {}", units[unit])
    }
}

/// Parses `1.23 GB`, `512 B`, `4.5MiB` into bytes.
pub(crate) fn parse_size(text: &str) -> Option<u64> {
    let text = text.trim();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let value: f64 = number.parse().ok()?;
    let multiplier: f64 = match unit.trim().to_ascii_lowercase().as_str() {
        "b" => 1.0,
        "kb" => 1e3,
        "mb" => 1e6,
        "gb" => 1e9,
        "tb" => 1e12,
        "kib" => 1024.0,
        "mib" => 1024.0 * 1024.0,
        "gib" => 1024.0 * 1024.0 * 1024.0,
        "tib" => 1024.0 * 1024.0 * 1024.0 * 1024.0,
        _ => return None,
    };
    let bytes = (value * multiplier).round();
    if !bytes.is_finite() || bytes < 0.0 || bytes >= u64::MAX as f64 {
        return None;
    }
    Some(bytes as u64)
}

/// Parses `mm:ss` or `hh:mm:ss` (each part decimal digits).
fn parse_eta(text: &str) -> Option<Duration> {
    let parts: Vec<&str> = text.split(':').collect();
    if parts.len() < 2 || parts.len() > 3 {
        return None;
    }
    let mut seconds: u64 = 0;
    for part in parts {
        if part.is_empty() || part.len() > 6 || !part.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let value: u64 = part.parse().ok()?;
        seconds = seconds.checked_mul(60)?.checked_add(value)?;
    }
    Some(Duration::from_secs(seconds))
}

/// Delivers parsed progress to a reporter, skipping updates identical to the previous one
/// (lms redraws every 50 ms, mostly with the same numbers and only a new spinner frame).
pub(crate) struct ProgressFilter<'a> {
    last: Option<DownloadProgress>,
    reporter: &'a mut (dyn FnMut(DownloadProgress) + Send),
}

impl<'a> ProgressFilter<'a> {
    pub(crate) fn new(reporter: &'a mut (dyn FnMut(DownloadProgress) + Send)) -> Self {
        Self {
            last: None,
            reporter,
        }
    }

    /// Parses `line`; reports it if it is progress and differs from the previous update.
    pub(crate) fn line(&mut self, line: &str) {
        let Some(progress) = parse_progress_line(line) else {
            return;
        };
        if self.last.as_ref() == Some(&progress) {
            return;
        }
        self.last = Some(progress.clone());
        (self.reporter)(progress);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_documented_line() {
        let p = parse_progress_line("42.13% | 1.23 GB / 2.92 GB | 45.67 MB/s | ETA 00:37").unwrap();
        assert!((p.fraction - 0.4213).abs() < 1e-9);
        assert_eq!(p.downloaded_bytes, 1_230_000_000);
        assert_eq!(p.total_bytes, 2_920_000_000);
        assert_eq!(p.bytes_per_second, Some(45_670_000.0));
        assert_eq!(p.eta, Some(Duration::from_secs(37)));
    }

    #[test]
    fn tolerates_spinner_bar_padding_and_escapes() {
        let line = "\x1b[?25l\x1b[s⠹ [█████████████▌                                    ] 27.40% |   802.50 MB /   2.93 GB |   12.00 MB/s | ETA 02:57          \x1b[u";
        let p = parse_progress_line(line).unwrap();
        assert!((p.percent() - 27.40).abs() < 1e-9);
        assert_eq!(p.downloaded_bytes, 802_500_000);
        assert_eq!(p.eta, Some(Duration::from_secs(177)));
    }

    #[test]
    fn bar_glyph_adjacent_to_percentage() {
        let p = parse_progress_line("[██]5% | 1 B / 20 B").unwrap();
        assert!((p.fraction - 0.05).abs() < 1e-9);
        assert_eq!((p.downloaded_bytes, p.total_bytes), (1, 20));
        assert_eq!(p.bytes_per_second, None);
        assert_eq!(p.eta, None);
    }

    #[test]
    fn units_and_hours() {
        let p = parse_progress_line("1.00% | 1.5 KiB / 2 TiB | 3 KB/s | ETA 01:02:03").unwrap();
        assert_eq!(p.downloaded_bytes, 1536);
        assert_eq!(p.total_bytes, 2 * 1024u64.pow(4));
        assert_eq!(p.bytes_per_second, Some(3000.0));
        assert_eq!(p.eta, Some(Duration::from_secs(3723)));
    }

    #[test]
    fn infinite_eta_is_none() {
        let p =
            parse_progress_line("0.00% | 0 B / 2.92 GB | 0 B/s | ETA Infinity:NaN:NaN").unwrap();
        assert_eq!(p.eta, None);
        assert_eq!(p.bytes_per_second, Some(0.0));
        let p = parse_progress_line("100.00% | 2.92 GB / 2.92 GB | 0 B/s | ETA NaN:NaN").unwrap();
        assert_eq!(p.fraction, 1.0);
        assert_eq!(p.eta, None);
    }

    #[test]
    fn rejects_non_progress_lines() {
        for line in [
            "",
            "Resolution completed. Downloading 2.28 GB...",
            "Finalizing download...",
            "100% sure",
            "42% | no sizes here",
            "142.00% | 1 GB / 2 GB",
            "42.13% | 1.23 XB / 2.92 GB",
            "Loading model 50% ⠋",
        ] {
            assert!(parse_progress_line(line).is_none(), "{line:?}");
        }
    }

    #[test]
    fn filter_skips_duplicates() {
        let mut seen = Vec::new();
        {
            let mut report = |p: DownloadProgress| seen.push(p.downloaded_bytes);
            let mut filter = ProgressFilter::new(&mut report);
            filter.line("⠋ [ ] 1.00% | 1 B / 100 B");
            filter.line("⠙ [ ] 1.00% | 1 B / 100 B");
            filter.line("not progress");
            filter.line("⠹ [ ] 2.00% | 2 B / 100 B");
        }
        assert_eq!(seen, vec![1, 2]);
    }
}
