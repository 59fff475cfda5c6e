//! `lms load <key> --estimate-only`: the memory a load would take, and whether LM Studio's
//! resource guardrails would let it happen, without loading anything.
//!
//! `lms` prints the estimate as text through its logger, on stderr (lmstudio-ai/lms
//! `src/subcommands/load.ts`, `printEstimatedResourceUsage`):
//!
//! ```text
//! Model: openai/gpt-oss-20b
//! Context Length: 8,192
//! GPU Offload: 100%
//! Estimated GPU Memory:   12.34 GiB
//! Estimated Total Memory: 13.50 GiB
//! Confidence: LOW
//!
//! Estimate: This model may be loaded based on your resource guardrails settings.
//! ```
//!
//! `Context Length` and `GPU Offload` echo `-c` and `--gpu` when they are given; `Confidence`
//! appears only when it is low; the last line says `... will fail to load ...` when the
//! guardrails would refuse the load. The command exits 0 either way. The sizes are coloured
//! (green when the load may go ahead, yellow when not), memory is base 1024 (`Bytes`, `KiB`,
//! `MiB`, `GiB`, `TiB`; `lms` before February 2026 printed base-1000 `B`, `KB` .. `TB`, read
//! as such), and the context length is formatted for the locale (`8,192`, `8.192`, `8 192`,
//! with a no-break or narrow no-break space, or `8192`).
//!
//! So the command runs with `LC_ALL=C` and `NO_COLOR=1`, ANSI escapes are stripped anyway,
//! every grouping is accepted, and both output streams are read. Output without the two
//! memory lines and a known verdict is [`LmsError::InvalidOutput`].

use crate::Lms;
use crate::error::LmsError;
use crate::lms::{LoadOptions, load_args};
use crate::process::{self, Spec, StdoutMode};
use crate::progress::parse_size;
use crate::text::{head_chars, strip_ansi};

/// Added to the environment of `lms load --estimate-only`: the C locale (no digit grouping
/// to guess) and no colours.
pub(crate) const ESTIMATE_ENV: [(&str, &str); 2] = [("LC_ALL", "C"), ("NO_COLOR", "1")];

/// Lines of output kept for parsing (the estimate is about eight).
const MAX_LINES: usize = 256;
/// Characters kept of one line.
const MAX_LINE_CHARS: usize = 1024;

/// Options for [`Lms::estimate_load`] (each maps to an `lms load` flag):
/// `EstimateOptions::default()` and the `with_*` setters.
///
/// ```
/// let options = lmstudio_lms::EstimateOptions::default()
///     .with_context_length(Some(8192))
///     .with_gpu("max");
/// assert_eq!(options.gpu.as_deref(), Some("max"));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct EstimateOptions {
    /// `-c <n>`: the context length to estimate for (at least 1; `None`: the model's default).
    pub context_length: Option<u32>,
    /// `--gpu <off|max|0..1>`: the GPU offload ratio to estimate for.
    pub gpu: Option<String>,
}

impl EstimateOptions {
    /// Sets [`EstimateOptions::context_length`].
    #[must_use]
    pub fn with_context_length(mut self, tokens: Option<u32>) -> Self {
        self.context_length = tokens;
        self
    }

    /// Sets [`EstimateOptions::gpu`] (`off`, `max`, or a ratio `0..1`).
    #[must_use]
    pub fn with_gpu(mut self, gpu: impl Into<String>) -> Self {
        self.gpu = Some(gpu.into());
        self
    }
}

/// What LM Studio's guardrails say about loading the model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum EstimateVerdict {
    /// "This model may be loaded based on your resource guardrails settings."
    MayLoad,
    /// "This model will fail to load based on your resource guardrails settings."
    WillFail,
}

/// The estimate `lms load --estimate-only` printed.
///
/// Sizes are as precise as `lms` prints them: two decimals of their unit (`12.34 GiB` is
/// known to about 5 MiB).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct LoadEstimate {
    /// The model key `lms` estimated for (`Model:`), when it says.
    pub model: Option<String>,
    /// The context length estimated for (`Context Length:`, printed only for `-c`).
    pub context_length: Option<u64>,
    /// The GPU offload in percent (`GPU Offload:`, printed only for `--gpu`; 0 to 100).
    pub gpu_offload_percent: Option<f64>,
    /// Estimated GPU memory for the model and its context, in bytes.
    pub gpu_memory_bytes: u64,
    /// Estimated memory in all, in bytes.
    pub total_memory_bytes: u64,
    /// True when `lms` printed `Confidence: LOW` (LM Studio's heuristics do not fit the
    /// model well; it prints nothing when confident).
    pub low_confidence: bool,
    /// Whether the guardrails would let the load go ahead.
    pub verdict: EstimateVerdict,
}

impl LoadEstimate {
    /// True when LM Studio says the load would fail (the model does not fit its guardrails).
    pub fn will_fail(&self) -> bool {
        self.verdict == EstimateVerdict::WillFail
    }
}

impl Lms {
    /// `lms load <key> --yes --estimate-only [-c N] [--gpu X]`: how much memory loading `key`
    /// would take, and whether LM Studio's resource guardrails would allow it. Nothing is
    /// loaded. `--yes` keeps `lms` from prompting when several models match.
    ///
    /// Runs with `LC_ALL=C` and `NO_COLOR=1` and the time limit of [`Lms::with_timeout`].
    /// `lms` exits 0 whether or not the model would fit: read
    /// [`LoadEstimate::verdict`]. A non-zero exit (an unknown model, say) is
    /// [`LmsError::Failed`]; output that cannot be read is [`LmsError::InvalidOutput`].
    pub async fn estimate_load(
        &self,
        key: &str,
        options: &EstimateOptions,
    ) -> Result<LoadEstimate, LmsError> {
        // A client command: `--port` when the caller set one, so it never starts LM Studio.
        let args = self.client_args(estimate_args(key, options)?);
        let mut lines: Vec<String> = Vec::new();
        let finished = process::run_with_env(
            Spec {
                program: self.path(),
                args: &args,
                timeout: Some(self.timeout()),
                stdout: StdoutMode::Lines,
            },
            &ESTIMATE_ENV,
            // The estimate is on stderr (lms's logger); stdout is read too, in case a version
            // moves it.
            &mut |_, line| {
                if lines.len() < MAX_LINES {
                    lines.push(head_chars(line, MAX_LINE_CHARS));
                }
            },
        )
        .await?
        .require_success()?;
        let text = lines.join("\n");
        parse_estimate(&text).map_err(|message| LmsError::InvalidOutput {
            command: finished.command,
            message,
            excerpt: head_chars(text.trim(), 256),
        })
    }
}

/// Builds and checks the arguments: `load <key> --yes --estimate-only [-c N] [--gpu X]`.
pub(crate) fn estimate_args(key: &str, options: &EstimateOptions) -> Result<Vec<String>, LmsError> {
    let load = LoadOptions {
        context_length: options.context_length,
        gpu: options.gpu.clone(),
        ..LoadOptions::default()
    };
    let mut args = load_args(key, &load)?;
    // `load <key> --yes`, then the estimate flag, then the options.
    args.insert(3, "--estimate-only".to_owned());
    Ok(args)
}

/// Reads the estimate out of `lms`'s output (any line order; unknown lines ignored; the
/// first of a repeated line counts).
pub(crate) fn parse_estimate(output: &str) -> Result<LoadEstimate, String> {
    let mut model = None;
    let mut context_length = None;
    let mut gpu_offload_percent = None;
    let mut gpu_memory = None;
    let mut total_memory = None;
    let mut low_confidence = false;
    let mut verdict = None;
    for raw in output.split(['\n', '\r']) {
        let line = strip_ansi(raw);
        let Some((key, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim();
        match normalize_key(key).as_str() {
            "model" if model.is_none() && !value.is_empty() => model = Some(value.to_owned()),
            "context length" if context_length.is_none() => {
                context_length = parse_grouped_integer(value);
            }
            "gpu offload" if gpu_offload_percent.is_none() => {
                gpu_offload_percent = parse_percent(value);
            }
            "estimated gpu memory" if gpu_memory.is_none() => {
                gpu_memory =
                    Some(parse_memory(value).ok_or_else(|| {
                        format!("`Estimated GPU Memory` {value:?} is not a size")
                    })?);
            }
            "estimated total memory" if total_memory.is_none() => {
                total_memory =
                    Some(parse_memory(value).ok_or_else(|| {
                        format!("`Estimated Total Memory` {value:?} is not a size")
                    })?);
            }
            "confidence" => low_confidence |= value.eq_ignore_ascii_case("low"),
            "estimate" if verdict.is_none() => {
                verdict = Some(
                    parse_verdict(value)
                        .ok_or_else(|| format!("the verdict {value:?} is not one lms prints"))?,
                );
            }
            _ => {}
        }
    }
    Ok(LoadEstimate {
        model,
        context_length,
        gpu_offload_percent,
        gpu_memory_bytes: gpu_memory.ok_or("no `Estimated GPU Memory` line")?,
        total_memory_bytes: total_memory.ok_or("no `Estimated Total Memory` line")?,
        low_confidence,
        verdict: verdict.ok_or("no `Estimate:` verdict line")?,
    })
}

/// `Estimated  GPU Memory ` -> `estimated gpu memory`: trimmed, lower case, single spaces.
fn normalize_key(key: &str) -> String {
    key.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_ascii_lowercase()
}

fn parse_verdict(text: &str) -> Option<EstimateVerdict> {
    let text = text.to_ascii_lowercase();
    if text.contains("will fail to load") {
        Some(EstimateVerdict::WillFail)
    } else if text.contains("may be loaded") {
        Some(EstimateVerdict::MayLoad)
    } else {
        None
    }
}

/// `12.34 GiB`, `0 Bytes`, `512 B`, `65.68 GB` (older `lms`, base 1000) into bytes.
fn parse_memory(text: &str) -> Option<u64> {
    let text = text.trim();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    if unit.trim().eq_ignore_ascii_case("bytes") {
        return parse_size(&format!("{number} B"));
    }
    parse_size(text)
}

/// Characters locales put between digit groups: `,` `.` `'` `’`, and the space, no-break
/// space, narrow no-break space and thin space.
fn is_group_separator(c: char) -> bool {
    matches!(
        c,
        ',' | '.' | '\'' | '\u{2019}' | ' ' | '\u{a0}' | '\u{202f}' | '\u{2009}'
    )
}

/// `8,192`, `8.192`, `8 192`, `8192`, `1,00,000`: digits with single separators between
/// them. `None` for anything else, and for more than a `u64` holds.
pub(crate) fn parse_grouped_integer(text: &str) -> Option<u64> {
    let text = text.trim();
    let mut digits = String::new();
    let mut after_separator = true; // no leading separator
    for c in text.chars() {
        if c.is_ascii_digit() {
            digits.push(c);
            after_separator = false;
        } else if is_group_separator(c) && !after_separator {
            after_separator = true;
        } else {
            return None;
        }
        if digits.len() > 20 {
            return None;
        }
    }
    if after_separator {
        return None; // empty, or a trailing separator
    }
    digits.parse().ok()
}

/// `100%`, `50%`, `33.300000000000004%` (JavaScript's `0.333 * 100`): 0 to 100, else `None`.
fn parse_percent(text: &str) -> Option<f64> {
    let number = text.trim().strip_suffix('%')?.trim();
    if number.is_empty() || !number.chars().all(|c| c.is_ascii_digit() || c == '.') {
        return None;
    }
    number
        .parse::<f64>()
        .ok()
        .filter(|p| p.is_finite() && (0.0..=100.0).contains(p))
}

#[cfg(test)]
mod tests {
    use super::*;

    const FITS: &str = "Model: openai/gpt-oss-20b\nContext Length: 8,192\nGPU Offload: 100%\n\
        Estimated GPU Memory:   12.34 GiB\nEstimated Total Memory: 13.50 GiB\n\n\
        Estimate: This model may be loaded based on your resource guardrails settings.\n";

    fn gib(x: f64) -> u64 {
        (x * 1024.0 * 1024.0 * 1024.0).round() as u64
    }

    #[test]
    fn the_documented_output_reads() {
        let estimate = parse_estimate(FITS).unwrap();
        assert_eq!(estimate.model.as_deref(), Some("openai/gpt-oss-20b"));
        assert_eq!(estimate.context_length, Some(8192));
        assert_eq!(estimate.gpu_offload_percent, Some(100.0));
        assert_eq!(estimate.gpu_memory_bytes, gib(12.34));
        assert_eq!(estimate.total_memory_bytes, gib(13.5));
        assert!(!estimate.low_confidence);
        assert_eq!(estimate.verdict, EstimateVerdict::MayLoad);
        assert!(!estimate.will_fail());
    }

    #[test]
    fn colours_low_confidence_and_the_will_fail_verdict() {
        let text = "Model: big/model\n\
            Estimated GPU Memory:   \x1b[33m65.68 GiB\x1b[39m\n\
            Estimated Total Memory: \x1b[33m1.02 TiB\x1b[39m\n\
            Confidence: \x1b[33mLOW\x1b[39m\n\
            \n\
            Estimate: \x1b[33mThis model will fail to load based on your resource guardrails settings.\x1b[39m\n";
        let estimate = parse_estimate(text).unwrap();
        assert_eq!(estimate.gpu_memory_bytes, gib(65.68));
        assert_eq!(
            estimate.total_memory_bytes,
            (1.02 * 1024.0_f64.powi(4)).round() as u64
        );
        assert!(estimate.low_confidence);
        assert!(estimate.will_fail());
        assert_eq!(estimate.context_length, None);
        assert_eq!(estimate.gpu_offload_percent, None);
    }

    #[test]
    fn every_grouping_reads_as_the_same_number() {
        for text in [
            "8,192",
            "8.192",
            "8 192",
            "8\u{a0}192",
            "8\u{202f}192",
            "8'192",
            "8\u{2019}192",
            "8192",
            " 8,192 ",
        ] {
            assert_eq!(parse_grouped_integer(text), Some(8192), "{text:?}");
        }
        assert_eq!(parse_grouped_integer("1,00,000"), Some(100_000));
        assert_eq!(parse_grouped_integer("131,072"), Some(131_072));
        for bad in [
            "",
            ",",
            "8,",
            ",8",
            "8,,192",
            "8, 192",
            "-8192",
            "8192a",
            "0x10",
            "8_192",
            "99999999999999999999999",
            "１２",
        ] {
            assert_eq!(parse_grouped_integer(bad), None, "{bad:?}");
        }
        assert_eq!(
            parse_grouped_integer("18,446,744,073,709,551,615"),
            Some(u64::MAX)
        );
        assert_eq!(parse_grouped_integer("18,446,744,073,709,551,616"), None);
    }

    #[test]
    fn sizes_in_every_unit_lms_prints() {
        assert_eq!(parse_memory("0 Bytes"), Some(0));
        assert_eq!(parse_memory("512 Bytes"), Some(512));
        assert_eq!(parse_memory("512 B"), Some(512));
        assert_eq!(parse_memory("1.50 KiB"), Some(1536));
        assert_eq!(parse_memory("2.00 MiB"), Some(2 * 1024 * 1024));
        assert_eq!(parse_memory("1.00 TiB"), Some(1 << 40));
        // Before February 2026 lms printed memory base 1000.
        assert_eq!(parse_memory("65.68 GB"), Some(65_680_000_000));
        assert_eq!(parse_memory("12.34\u{a0}GiB"), Some(gib(12.34)));
        for bad in [
            "",
            "GiB",
            "-1 GiB",
            "1.2.3 GiB",
            "12 PiB",
            "lots",
            "1e21 TiB",
            "NaN GiB",
        ] {
            assert_eq!(parse_memory(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn percentages_are_zero_to_a_hundred() {
        assert_eq!(parse_percent("0%"), Some(0.0));
        assert_eq!(parse_percent("50%"), Some(50.0));
        assert_eq!(
            parse_percent("33.300000000000004%"),
            Some(33.300_000_000_000_004)
        );
        for bad in ["", "%", "100", "101%", "-1%", "NaN%", "1e2%", "abc%"] {
            assert_eq!(parse_percent(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn malformed_output_is_an_error_naming_what_is_wrong() {
        let cases = [
            ("", "no `Estimated GPU Memory` line"),
            (
                "Estimated GPU Memory: 1 GiB\nEstimate: This model may be loaded",
                "no `Estimated Total Memory` line",
            ),
            (
                "Estimated GPU Memory: 1 GiB\nEstimated Total Memory: 2 GiB",
                "no `Estimate:` verdict line",
            ),
            (
                "Estimated GPU Memory: lots\nEstimated Total Memory: 2 GiB\nEstimate: may be loaded",
                "is not a size",
            ),
            (
                "Estimated GPU Memory: 1 GiB\nEstimated Total Memory: 2 GiB\nEstimate: perhaps",
                "is not one lms prints",
            ),
        ];
        for (text, wanted) in cases {
            let err = parse_estimate(text).unwrap_err();
            assert!(err.contains(wanted), "{text:?}: {err}");
        }
    }

    #[test]
    fn unreadable_optional_lines_are_unknown_not_errors() {
        let text = FITS
            .replace("8,192", "eight thousand")
            .replace("100%", "all of it");
        let estimate = parse_estimate(&text).unwrap();
        assert_eq!(estimate.context_length, None);
        assert_eq!(estimate.gpu_offload_percent, None);
    }

    #[test]
    fn the_arguments_and_environment() {
        assert_eq!(
            estimate_args("openai/gpt-oss-20b", &EstimateOptions::default()).unwrap(),
            ["load", "openai/gpt-oss-20b", "--yes", "--estimate-only"]
        );
        let options = EstimateOptions::default()
            .with_context_length(Some(8192))
            .with_gpu("0.5");
        assert_eq!(
            estimate_args("k", &options).unwrap(),
            [
                "load",
                "k",
                "--yes",
                "--estimate-only",
                "-c",
                "8192",
                "--gpu",
                "0.5"
            ]
        );
        assert_eq!(ESTIMATE_ENV, [("LC_ALL", "C"), ("NO_COLOR", "1")]);
        for bad in [
            EstimateOptions::default().with_context_length(Some(0)),
            EstimateOptions::default().with_gpu("2"),
        ] {
            assert!(matches!(
                estimate_args("k", &bad),
                Err(LmsError::InvalidOption { .. })
            ));
        }
        assert!(matches!(
            estimate_args("--all", &EstimateOptions::default()),
            Err(LmsError::InvalidModelArg { .. })
        ));
    }
}
