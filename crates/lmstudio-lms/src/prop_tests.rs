//! Property tests: `lms` output is data, never a crash.
//!
//! Arbitrary text, and text built like `lms get`'s progress bar with hostile numbers in every
//! slot (`1e308`, `18446744073709551616`, 400 nines, `NaN`, `Infinity:NaN:NaN`, ETAs of
//! 999999 hours, bad units, ANSI codes anywhere), goes through the progress parser, the
//! size formatter, the line splitter, the stderr tail and the `--json` output parser. None may
//! panic, and what comes out must be usable: a fraction in `0..=1`, finite speeds, bounded
//! lines.
//!
//! `cargo test` runs [`DEFAULT_CASES`] cases per property; set `PROPTEST_CASES` for a long run:
//! `PROPTEST_CASES=200000 cargo test --release -p lmstudio-lms --lib prop`.

use lmstudio_proto::lms::{LmsLoadedModel, LmsModel, LmsServerStatus};
use proptest::prelude::*;
use proptest::test_runner::Config;

use crate::lms::parse_json_output;
use crate::progress::{
    DownloadProgress, ProgressFilter, format_bytes, parse_progress_line, parse_size,
};
use crate::text::{LineSplitter, TailBuffer, strip_ansi};

/// Cases per property in a plain `cargo test`.
const DEFAULT_CASES: u32 = 256;

fn config() -> Config {
    let mut config = Config::default(); // reads PROPTEST_CASES
    if std::env::var_os("PROPTEST_CASES").is_none() {
        config.cases = DEFAULT_CASES;
    }
    // Crashes become named regression tests; no files are written into the source tree.
    config.failure_persistence = None;
    config
}

/// Numbers as `lms` might print them, and as a broken or hostile one might.
fn number_text() -> BoxedStrategy<String> {
    prop_oneof![
        8 => prop::sample::select(vec![
            "0", "1", "5", "42.13", "27.40", "100", "100.00", "0.00", "1.23", "2.92", "45.67",
            "802.50", "999.99", "1.5",
        ])
        .prop_map(str::to_owned),
        4 => prop::sample::select(vec![
            "1e308", "1e-300", "NaN", "Infinity", "-1", "-0", ".", "..", "1.2.3", "",
            "18446744073709551615", "18446744073709551616", "99999999999999999999999",
            "0.000000000000000000000000000000000001", "100.0000000000001",
        ])
        .prop_map(str::to_owned),
        1 => "[0-9]{1,400}",
        1 => "[0-9]{0,30}\\.[0-9]{0,30}",
        1 => any::<f64>().prop_map(|x| x.to_string()),
        1 => any::<u64>().prop_map(|x| x.to_string()),
    ]
    .boxed()
}

fn unit() -> BoxedStrategy<String> {
    prop_oneof![
        4 => prop::sample::select(vec!["B", "KB", "MB", "GB", "TB", "KiB", "MiB", "GiB", "TiB"]),
        1 => prop::sample::select(vec!["kb", "XB", "", " GB", "PB", "G B", "GBGB"]),
    ]
    .prop_map(str::to_owned)
    .boxed()
}

fn eta_text() -> BoxedStrategy<String> {
    prop_oneof![
        3 => prop::sample::select(vec![
            "00:37", "02:57", "01:02:03", "Infinity:NaN:NaN", "NaN:NaN", "999999:999999:999999",
            "9999999:00", "1:2:3:4", "", ":", "::", "-1:00", "18446744073709551615:00",
        ])
        .prop_map(str::to_owned),
        1 => "[0-9:]{0,24}",
    ]
    .boxed()
}

/// Noise that may sit anywhere on a redrawn line.
fn noise() -> BoxedStrategy<String> {
    prop_oneof![
        12 => Just(String::new()),
        1 => prop::sample::select(vec![
            "\x1b[2K", "\x1b[?25l", "\x1b[s", "\x1b[u", "\x1b]0;t\x07", "\x1b", "\u{9b}1m", "\r",
            "⠋ ", "[███▌  ] ", "%", "|", "/", " ",
        ])
        .prop_map(str::to_owned),
        1 => any::<String>(),
    ]
    .boxed()
}

/// A line shaped like `⠋ [██▌ ] 42.13% | 1.23 GB / 2.92 GB | 45.67 MB/s | ETA 00:37`, with
/// hostile text in every slot.
fn progress_like_line() -> BoxedStrategy<String> {
    (
        (noise(), number_text(), noise()),
        (number_text(), unit(), number_text(), unit()),
        (number_text(), unit(), eta_text(), noise()),
        any::<bool>(),
    )
        .prop_map(
            |((lead, pct, mid), (done, du, total, tu), (speed, su, eta, tail), with_extras)| {
                let mut line = format!("{lead}{pct}%{mid} | {done} {du} / {total} {tu}");
                if with_extras {
                    line.push_str(&format!(" | {speed} {su}/s | ETA {eta}"));
                }
                line.push_str(&tail);
                line
            },
        )
        .boxed()
}

/// Everything parsed from a line is usable, and its sizes format to short text.
fn check_progress(progress: &DownloadProgress) {
    assert!(
        (0.0..=1.0).contains(&progress.fraction),
        "fraction {}",
        progress.fraction
    );
    if let Some(speed) = progress.bytes_per_second {
        assert!(speed.is_finite() && speed >= 0.0, "speed {speed}");
    }
    for bytes in [progress.downloaded_bytes, progress.total_bytes] {
        let text = format_bytes(bytes);
        assert!(!text.is_empty() && text.len() <= 16, "{bytes} -> {text}");
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn prop_any_text_is_progress_or_not_without_panicking(line in any::<String>()) {
        if let Some(progress) = parse_progress_line(&line) {
            check_progress(&progress);
        }
    }

    #[test]
    fn prop_progress_lines_with_hostile_numbers_parse_to_usable_values(
        line in progress_like_line(),
    ) {
        if let Some(progress) = parse_progress_line(&line) {
            check_progress(&progress);
        }
        let mut seen = 0usize;
        {
            let mut report = |p: DownloadProgress| {
                check_progress(&p);
                seen += 1;
            };
            let mut filter = ProgressFilter::new(&mut report);
            filter.line(&line);
            filter.line(&line);
        }
        prop_assert!(seen <= 1);
    }

    #[test]
    fn prop_sizes_are_whole_bytes_or_none(number in number_text(), unit in unit()) {
        // Any u64 is a valid size; the property is that nothing panics or wraps.
        let _ = parse_size(&format!("{number} {unit}"));
        let _ = parse_size(&format!("{number}{unit}"));
    }

    #[test]
    fn prop_any_size_formats_to_text_the_parser_reads_back(bytes in any::<u64>()) {
        let text = format_bytes(bytes);
        let parsed = parse_size(&text);
        prop_assert!(parsed.is_some(), "{} -> {}", bytes, text);
        // Two decimals of the unit: within 0.5 % (or exact below 1 KB).
        let (a, b) = (bytes as f64, parsed.unwrap_or_default() as f64);
        prop_assert!((a - b).abs() <= a * 0.005 + 0.5, "{} -> {} -> {}", bytes, text, b);
    }

    #[test]
    fn prop_stripping_ansi_leaves_no_controls_and_is_idempotent(text in any::<String>()) {
        let once = strip_ansi(&text).into_owned();
        prop_assert!(!once.chars().any(|c| c != '\t' && c.is_control()));
        prop_assert_eq!(strip_ansi(&once).into_owned(), once);
    }

    #[test]
    fn prop_lines_are_bounded_and_the_same_for_any_split(
        bytes in prop::collection::vec(any::<u8>(), 0..512),
        cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..8),
        max_line in 0usize..64,
    ) {
        let whole = split_lines(&[bytes.as_slice()], max_line);
        let mut points: Vec<usize> = cuts.iter().map(|c| c.index(bytes.len() + 1)).collect();
        points.sort_unstable();
        let mut pieces = Vec::new();
        let mut start = 0;
        for point in points {
            pieces.push(&bytes[start..point]);
            start = point;
        }
        pieces.push(&bytes[start..]);
        prop_assert_eq!(&split_lines(&pieces, max_line), &whole);
        for line in &whole {
            // Lossy decoding turns one bad byte into a 3-byte U+FFFD at most.
            prop_assert!(line.len() <= max_line * 3, "{} > 3 * {}", line.len(), max_line);
        }
    }

    #[test]
    fn prop_the_stderr_tail_stays_within_its_budget(
        lines in prop::collection::vec(any::<String>(), 0..40),
        max_lines in 0usize..8,
        max_bytes in 0usize..128,
    ) {
        let mut tail = TailBuffer::new(max_lines, max_bytes);
        for line in &lines {
            tail.push(line);
        }
        let joined = tail.joined();
        prop_assert!(joined.len() <= max_bytes + max_lines);
    }

    #[test]
    fn prop_json_output_parses_or_is_invalid_json(
        lead in prop::collection::vec(noise(), 0..3),
        body in prop_oneof![
            any::<String>(),
            Just("[{\"modelKey\":\"a\",\"sizeBytes\":18446744073709551615,\"maxContextLength\":0}]".to_owned()),
            Just("[{\"modelKey\":\"a\",\"sizeBytes\":18446744073709551616}]".to_owned()),
            Just("[{\"modelKey\":\"a\",\"identifier\":\"a:2\",\"ttlMs\":18446744073709551615}]".to_owned()),
            Just("[{\"modelKey\":\"a\",\"ttlMs\":-1}]".to_owned()),
            Just("[{\"modelKey\":\"a\",\"ttlMs\":1e999}]".to_owned()),
            Just("{\"running\":true,\"port\":65535}".to_owned()),
            Just("{\"running\":true,\"port\":65536}".to_owned()),
            Just("{\"running\":true,\"port\":-1}".to_owned()),
        ],
    ) {
        let mut stdout = lead.join("\n");
        stdout.push('\n');
        stdout.push_str(&body);
        let bytes = stdout.as_bytes();
        let _ = parse_json_output::<Vec<LmsModel>>("lms ls --json", bytes);
        if let Ok(rows) = parse_json_output::<Vec<LmsLoadedModel>>("lms ps --json", bytes) {
            for row in &rows {
                let _ = row.ttl_ms.map(std::time::Duration::from_millis);
                let _ = row.instance_id();
            }
        }
        if let Ok(status) = parse_json_output::<LmsServerStatus>("lms server status --json", bytes) {
            prop_assert!(status.port.is_none_or(|p| u32::from(p) <= 65_535));
        }
    }
}

fn split_lines(pieces: &[&[u8]], max_line: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut splitter = LineSplitter::new(max_line);
    let mut push = |line: &str| lines.push(line.to_owned());
    for piece in pieces {
        splitter.push(piece, &mut push);
    }
    splitter.finish(&mut push);
    lines
}

/// A size with more digits than an `f64` holds is no size (it parses as infinity).
#[test]
fn a_size_of_four_hundred_digits_is_none() {
    assert_eq!(parse_size(&format!("{} GB", "9".repeat(400))), None);
    assert_eq!(parse_size("18446744073709551616 B"), None);
    assert_eq!(parse_size("1e308 GB"), None);
    assert_eq!(
        parse_size("18446744073709549568 B"),
        Some(18_446_744_073_709_549_568)
    );
}

/// An ETA too long for a `u64` of seconds is no ETA; the longest accepted one is a few
/// centuries, far from overflowing an `Instant`.
#[test]
fn an_eta_of_a_million_hours_is_kept_and_an_overflowing_one_is_none() {
    let p = parse_progress_line("1.00% | 1 B / 2 GB | 1 B/s | ETA 999999:999999:999999").unwrap();
    assert_eq!(
        p.eta.map(|d| d.as_secs()),
        Some((999_999 * 60 + 999_999) * 60 + 999_999)
    );
    let p = parse_progress_line("1.00% | 1 B / 2 GB | 1 B/s | ETA 9999999:00").unwrap();
    assert_eq!(p.eta, None);
    assert!(
        std::time::Instant::now()
            .checked_add(std::time::Duration::from_secs(
                (999_999 * 60 + 999_999) * 60 + 999_999
            ))
            .is_some()
    );
}

/// The line generator must reach the parser's success path, not only its rejections.
#[test]
fn prop_progress_generator_reaches_the_parser() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;

    let mut runner = TestRunner::deterministic();
    let strategy = progress_like_line();
    let (mut parsed, mut with_eta) = (0, 0);
    for _ in 0..300 {
        let Ok(tree) = strategy.new_tree(&mut runner) else {
            continue;
        };
        if let Some(progress) = parse_progress_line(&tree.current()) {
            parsed += 1;
            with_eta += usize::from(progress.eta.is_some());
        }
    }
    assert!(
        parsed >= 15 && with_eta >= 3,
        "{parsed} parsed, {with_eta} with an ETA"
    );
}
