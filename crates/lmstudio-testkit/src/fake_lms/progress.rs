//! The text of `lms get`'s progress bar and the size/time formats `lms` prints.

/// Spinner frames, as `lms` draws them.
pub(crate) const SPINNER: [char; 10] = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

/// `1.23 GB` (decimal units, two decimals): the one formatter, `lmstudio_lms::format_bytes`
/// (the parser of `lms get`'s bar lives in that crate too). Speeds and sizes that are not
/// whole bytes are rounded down; negative or NaN ones read as 0.
pub(crate) fn format_bytes(bytes: f64) -> String {
    lmstudio_lms::format_bytes(bytes as u64)
}

/// `00:37`, or `01:02:03` past an hour; `--:--` when unknown.
pub(crate) fn format_eta(seconds: Option<f64>) -> String {
    match seconds {
        Some(s) if s.is_finite() && s >= 0.0 => {
            let total = s.round() as u64;
            let (h, m, sec) = (total / 3600, total % 3600 / 60, total % 60);
            if h > 0 {
                format!("{h:02}:{m:02}:{sec:02}")
            } else {
                format!("{m:02}:{sec:02}")
            }
        }
        _ => "--:--".to_owned(),
    }
}

/// A 10-cell bar with eighth-block precision: `█████▌    `.
pub(crate) fn bar(fraction: f64) -> String {
    const PARTIAL: [char; 8] = [' ', '▏', '▎', '▍', '▌', '▋', '▊', '▉'];
    const CELLS: usize = 10;
    let eighths = (fraction.clamp(0.0, 1.0) * (CELLS * 8) as f64).floor() as usize;
    let full = eighths / 8;
    let mut out: String = "█".repeat(full);
    if full < CELLS {
        out.push(PARTIAL[eighths % 8]);
        out.push_str(&" ".repeat(CELLS - full - 1));
    }
    out
}

/// One progress line (without the redraw codes):
/// `⠋ [█████▌    ] 42.13% | 1.23 GB / 2.92 GB | 45.67 MB/s | ETA 00:37`.
pub(crate) fn progress_line(frame: usize, done: u64, total: u64, speed: f64) -> String {
    let fraction = if total == 0 {
        1.0
    } else {
        done as f64 / total as f64
    };
    let eta = (speed > 0.0).then(|| total.saturating_sub(done) as f64 / speed);
    format!(
        "{} [{}] {:.2}% | {} / {} | {}/s | ETA {}",
        SPINNER[frame % SPINNER.len()],
        bar(fraction),
        fraction * 100.0,
        format_bytes(done as f64),
        format_bytes(total as f64),
        format_bytes(speed),
        format_eta(eta)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_line_matches_lms_format() {
        let line = progress_line(0, 1_230_000_000, 2_920_000_000, 45_670_000.0);
        assert_eq!(
            line,
            "⠋ [████▏     ] 42.12% | 1.23 GB / 2.92 GB | 45.67 MB/s | ETA 00:37"
        );
    }

    #[test]
    fn bars_and_formats_cover_the_edges() {
        assert_eq!(bar(0.0), "          ");
        assert_eq!(bar(1.0), "██████████");
        assert_eq!(bar(0.55).chars().count(), 10);
        assert_eq!(format_bytes(512.0), "512 B");
        assert_eq!(format_bytes(-1.0), "0 B");
        assert_eq!(format_eta(Some(3723.0)), "01:02:03");
        assert_eq!(format_eta(None), "--:--");
    }
}
