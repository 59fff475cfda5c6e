//! Fuzz target: the `lms get` progress parser, ANSI stripping and model-argument checks never
//! panic and keep their promises on arbitrary terminal output.

#![no_main]

use libfuzzer_sys::fuzz_target;
use lmstudio_lms::{parse_progress_line, strip_ansi, validate_model_arg};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    check_line(&text);
    for line in text.split(['\r', '\n']) {
        check_line(line);
    }
});

fn check_line(line: &str) {
    let clean = strip_ansi(line);
    assert!(clean.len() <= line.len(), "stripping made the line longer");
    assert!(
        !clean.chars().any(|c| c != '\t' && c.is_control()),
        "a control character survived: {clean:?}"
    );
    assert_eq!(strip_ansi(&clean), clean, "stripping is not idempotent");

    if let Some(progress) = parse_progress_line(line) {
        assert!(
            (0.0..=1.0).contains(&progress.fraction),
            "fraction {} out of range",
            progress.fraction
        );
        assert!((0.0..=100.0).contains(&progress.percent()));
        if let Some(speed) = progress.bytes_per_second {
            assert!(speed.is_finite() && speed >= 0.0, "speed {speed}");
        }
        let _ = progress.eta.map(|eta| eta.as_secs());
    }

    if validate_model_arg(line).is_ok() {
        assert!(!line.is_empty() && !line.starts_with('-'), "{line:?}");
        assert!(
            !line.chars().any(|c| c.is_whitespace() || c.is_control()),
            "{line:?}"
        );
        assert!(line.matches('@').count() <= 1, "{line:?}");
    }
}
