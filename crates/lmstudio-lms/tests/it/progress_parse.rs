//! `lms get` progress lines, as lms really draws them, parsed through the public API.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use lmstudio_lms::{DownloadProgress, format_bytes, parse_progress_line};

/// One redraw exactly as lms's ProgressBar writes it: hide cursor, save cursor, (clear line),
/// `\r`, spinner, bar, percentage, text, padding, restore cursor.
fn redraw(spinner: char, filled: usize, percent: &str, text: &str) -> String {
    let bar = format!("{}{}", "█".repeat(filled), " ".repeat(50 - filled));
    format!("\x1b[?25l\x1b[s\x1b[2K\r{spinner} [{bar}] {percent}% | {text}          \x1b[u")
}

/// Splits raw terminal output the way the crate does: on `\r` and `\n`.
fn progress_events(raw: &str) -> Vec<DownloadProgress> {
    raw.split(['\r', '\n'])
        .filter_map(parse_progress_line)
        .collect()
}

#[test]
fn a_captured_redraw_sequence() {
    let mut raw = String::from("Resolution completed. Downloading 2.93 GB...\n");
    raw += &redraw(
        '⠋',
        0,
        "0.00",
        "   0 B /  2.93 GB |    0 B/s | ETA Infinity:NaN:NaN",
    );
    raw += &redraw(
        '⠙',
        13,
        "27.40",
        "802.50 MB /  2.93 GB | 12.00 MB/s | ETA 02:57",
    );
    raw += &redraw(
        '⠹',
        50,
        "100.00",
        "  2.93 GB /  2.93 GB | 45.67 MB/s | ETA 00:00",
    );
    let events = progress_events(&raw);
    assert_eq!(events.len(), 3, "{events:?}");

    assert_eq!(events[0].fraction, 0.0);
    assert_eq!(events[0].downloaded_bytes, 0);
    assert_eq!(events[0].total_bytes, 2_930_000_000);
    assert_eq!(events[0].bytes_per_second, Some(0.0));
    assert_eq!(events[0].eta, None);

    assert!((events[1].fraction - 0.274).abs() < 1e-9);
    assert_eq!(events[1].downloaded_bytes, 802_500_000);
    assert_eq!(events[1].bytes_per_second, Some(12_000_000.0));
    assert_eq!(events[1].eta, Some(Duration::from_secs(2 * 60 + 57)));

    assert_eq!(events[2].fraction, 1.0);
    assert_eq!(events[2].eta, Some(Duration::ZERO));
}

#[test]
fn the_documented_example() {
    let p =
        parse_progress_line("⠋ [█████▌    ] 42.13% | 1.23 GB / 2.92 GB | 45.67 MB/s | ETA 00:37")
            .unwrap();
    assert_eq!(
        p,
        DownloadProgress {
            fraction: 0.4213,
            downloaded_bytes: 1_230_000_000,
            total_bytes: 2_920_000_000,
            bytes_per_second: Some(45_670_000.0),
            eta: Some(Duration::from_secs(37)),
        }
    );
    assert!((p.percent() - 42.13).abs() < 1e-9);
}

#[test]
fn every_unit() {
    let cases: [(&str, u64); 10] = [
        ("999 B", 999),
        ("1.50 KB", 1_500),
        ("2.25 MB", 2_250_000),
        ("3.00 GB", 3_000_000_000),
        ("1.20 TB", 1_200_000_000_000),
        ("1 KiB", 1_024),
        ("1.5 MiB", 1_572_864),
        ("2 GiB", 2_147_483_648),
        ("1 TiB", 1_099_511_627_776),
        ("7.5kB", 7_500),
    ];
    for (size, bytes) in cases {
        let line = format!("1.00% | {size} / 9 TB | 1 B/s | ETA 00:01");
        let p = parse_progress_line(&line).unwrap_or_else(|| panic!("{line}"));
        assert_eq!(p.downloaded_bytes, bytes, "{size}");
    }
}

#[test]
fn eta_forms() {
    let eta = |text: &str| {
        parse_progress_line(&format!("5.00% | 1 MB / 20 MB | 1 MB/s | ETA {text}"))
            .unwrap()
            .eta
    };
    assert_eq!(eta("00:37"), Some(Duration::from_secs(37)));
    assert_eq!(eta("59:59"), Some(Duration::from_secs(3599)));
    assert_eq!(eta("01:00:00"), Some(Duration::from_secs(3600)));
    assert_eq!(
        eta("123:04:05"),
        Some(Duration::from_secs(123 * 3600 + 245))
    );
    assert_eq!(eta("NaN:NaN"), None);
    assert_eq!(eta("Infinity:NaN:NaN"), None);
    assert_eq!(eta("--:--"), None);
    assert_eq!(eta("1:2:3:4"), None);
}

#[test]
fn colours_inside_the_line_are_ignored() {
    let line = "\x1b[36m⠼\x1b[39m [\x1b[32m██\x1b[39m] \x1b[1m10.00\x1b[22m% | 1 GB / 10 GB | \x1b]0;t\x07 5 MB/s | ETA 30:00";
    let p = parse_progress_line(line).unwrap();
    assert!((p.fraction - 0.1).abs() < 1e-9);
    assert_eq!(p.bytes_per_second, Some(5_000_000.0));
}

#[test]
fn lines_that_are_not_progress() {
    for line in [
        "Finalizing download...",
        "Download completed.",
        "Model already downloaded. To use, run:",
        "\rLoading openai/gpt-oss-20b 45% ⠋",
        "About to download 2.28 GB.",
        "50% | half done",
        "% | 1 GB / 2 GB",
        ". % | 1 GB / 2 GB",
        "1e3% | 1 GB / 2 GB",
        "\x1b[?25h",
    ] {
        assert_eq!(parse_progress_line(line), None, "{line:?}");
    }
}

#[test]
fn sizes_formatted_like_lms_parse_back() {
    for (bytes, text) in [
        (0, "0 B"),
        (999, "999 B"),
        (1_000, "1.00 KB"),
        (45_670_000, "45.67 MB"),
        (2_280_000_000, "2.28 GB"),
        (u64::MAX, "18446744.07 TB"),
    ] {
        assert_eq!(format_bytes(bytes), text);
    }
    for bytes in [0, 512, 802_500_000, 2_930_000_000] {
        let line = format!(
            "50.00% | {} / {} | 0 B/s | ETA 00:01",
            format_bytes(bytes),
            format_bytes(bytes)
        );
        let parsed = parse_progress_line(&line).unwrap();
        assert_eq!(parsed.total_bytes, bytes, "{line}");
    }
}
