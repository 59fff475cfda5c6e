//! Property tests for `lms load --estimate-only` output: any text is an estimate or a typed
//! error, never a panic; output shaped like the real one, with every locale grouping, colours
//! and hostile numbers in each slot, reads back to the numbers that were printed.
//!
//! `PROPTEST_CASES` raises the case count as in [`crate::prop_tests`].

use proptest::prelude::*;
use proptest::test_runner::Config;

use crate::estimate::{EstimateVerdict, parse_estimate, parse_grouped_integer};

fn config() -> Config {
    let mut config = Config::default();
    if std::env::var_os("PROPTEST_CASES").is_none() {
        config.cases = 256;
    }
    config.failure_persistence = None;
    config
}

/// Bytes as lms's `formatSizeBytes1024` prints them: `0 Bytes`, `512 Bytes`, `12.34 GiB`.
fn format_1024(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["Bytes", "KiB", "MiB", "GiB", "TiB"];
    if bytes == 0 {
        return "0 Bytes".to_owned();
    }
    let mut index = 0;
    let mut size = bytes as f64;
    while size >= 1024.0 && index < UNITS.len() - 1 {
        size /= 1024.0;
        index += 1;
    }
    if index == 0 {
        format!("{bytes} Bytes")
    } else {
        format!("{size:.2} {}", UNITS[index])
    }
}

/// `n` grouped by threes with `separator` (as `toLocaleString` does in most locales).
fn grouped(n: u64, separator: char) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(separator);
        }
        out.push(c);
    }
    out
}

fn separator() -> impl Strategy<Value = Option<char>> {
    prop::option::of(prop::sample::select(vec![
        ',', '.', ' ', '\u{a0}', '\u{202f}', '\'', '\u{2019}', '\u{2009}',
    ]))
}

/// A colour code around a value, or none.
fn colour() -> impl Strategy<Value = (String, String)> {
    prop::sample::select(vec![
        ("", ""),
        ("\x1b[32m", "\x1b[39m"),
        ("\x1b[33m", "\x1b[39m"),
        ("\x1b[1m\x1b[33m", "\x1b[39m\x1b[22m"),
    ])
    .prop_map(|(a, b)| (a.to_owned(), b.to_owned()))
}

/// Memory sizes up to a few hundred TiB (`formatSizeBytes1024` tops out at TiB).
fn bytes() -> impl Strategy<Value = u64> {
    prop_oneof![Just(0u64), 0u64..1024, 0u64..(1 << 40), 0u64..(1 << 50),]
}

/// Text where a number or size belongs, as a broken or hostile `lms` might print it.
fn hostile() -> BoxedStrategy<String> {
    prop_oneof![
        prop::sample::select(vec![
            "",
            "NaN",
            "Infinity",
            "-1",
            "-0",
            "1e308",
            "1.2.3",
            "..",
            "%",
            "GiB",
            "12 PiB",
            "18446744073709551616 Bytes",
            "99999999999999999999999 TiB",
            "1e21 TiB",
            "8,,192",
            ",8",
            "8,",
            "--",
            "\u{0}",
            "\u{9b}31m",
        ])
        .prop_map(str::to_owned),
        "[0-9.,\u{a0} ]{0,40}( (Bytes|B|KiB|MiB|GiB|TiB|KB|GB))?",
        any::<String>(),
    ]
    .boxed()
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn prop_any_text_is_an_estimate_or_an_error(text in any::<String>()) {
        if let Ok(estimate) = parse_estimate(&text)
            && let Some(p) = estimate.gpu_offload_percent
        {
            prop_assert!((0.0..=100.0).contains(&p));
        }
    }

    #[test]
    fn prop_estimates_read_back_whatever_the_locale_and_colours(
        gpu in bytes(),
        total in bytes(),
        context in prop::option::of(1u64..=10_000_000),
        sep in separator(),
        (on, off) in colour(),
        will_fail in any::<bool>(),
        low in any::<bool>(),
        crlf in any::<bool>(),
    ) {
        let mut lines = vec!["Model: qwen/qwen3-4b".to_owned()];
        if let Some(n) = context {
            let text = sep.map_or_else(|| n.to_string(), |s| grouped(n, s));
            lines.push(format!("Context Length: {text}"));
        }
        lines.push(format!("Estimated GPU Memory:   {on}{}{off}", format_1024(gpu)));
        lines.push(format!("Estimated Total Memory: {on}{}{off}", format_1024(total)));
        if low {
            lines.push(format!("Confidence: {on}LOW{off}"));
        }
        lines.push(String::new());
        let verdict = if will_fail { "will fail to load" } else { "may be loaded" };
        lines.push(format!(
            "Estimate: {on}This model {verdict} based on your resource guardrails settings.{off}"
        ));
        let text = lines.join(if crlf { "\r\n" } else { "\n" });
        let estimate = parse_estimate(&text);
        prop_assert!(estimate.is_ok(), "{:?}: {:?}", text, estimate);
        let estimate = estimate.unwrap_or_else(|_| unreachable!());
        prop_assert_eq!(estimate.context_length, context);
        prop_assert_eq!(estimate.low_confidence, low);
        prop_assert_eq!(
            estimate.verdict,
            if will_fail { EstimateVerdict::WillFail } else { EstimateVerdict::MayLoad }
        );
        // Two decimals of the unit: within 0.5 % (exact in bytes).
        for (printed, read) in [(gpu, estimate.gpu_memory_bytes), (total, estimate.total_memory_bytes)] {
            let (a, b) = (printed as f64, read as f64);
            prop_assert!((a - b).abs() <= a * 0.005 + 0.5, "{} read as {}", printed, read);
        }
    }

    #[test]
    fn prop_hostile_values_in_every_slot_never_panic(
        context in hostile(),
        offload in hostile(),
        gpu in hostile(),
        total in hostile(),
        verdict in hostile(),
    ) {
        let text = format!(
            "Model: m\nContext Length: {context}\nGPU Offload: {offload}%\n\
             Estimated GPU Memory: {gpu}\nEstimated Total Memory: {total}\nEstimate: {verdict}\n"
        );
        if let Ok(estimate) = parse_estimate(&text)
            && let Some(p) = estimate.gpu_offload_percent
        {
            prop_assert!(p.is_finite() && (0.0..=100.0).contains(&p));
        }
        let _ = parse_grouped_integer(&context);
    }

    #[test]
    fn prop_every_grouping_of_a_number_reads_as_it(n in any::<u64>(), sep in separator()) {
        let text = sep.map_or_else(|| n.to_string(), |s| grouped(n, s));
        prop_assert_eq!(parse_grouped_integer(&text), Some(n));
    }
}
