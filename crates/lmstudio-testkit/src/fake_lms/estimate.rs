//! `lms load <key> --estimate-only [-c N] [--gpu X]`: the estimate `lms` prints on stderr,
//! in the format chosen with [`FakeEstimate`] (verdict, colours, the locale's digit grouping,
//! low confidence, or a malformed output). Nothing is loaded; it exits 0 either way, as `lms`
//! does.

use std::io::Write;
use std::time::Duration;

use super::client::Server;
use super::{args, fail};

/// How `Context Length` is grouped, as `toLocaleString` does in some locale.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Grouping {
    /// `8,192` (en-US).
    #[default]
    Comma,
    /// `8.192` (de-DE).
    Dot,
    /// `8 192`.
    Space,
    /// `8\u{a0}192` (a no-break space).
    NoBreakSpace,
    /// `8\u{202f}192` (a narrow no-break space, fr-FR).
    NarrowNoBreakSpace,
    /// `8192`.
    None,
}

impl Grouping {
    fn as_arg(self) -> &'static str {
        match self {
            Self::Comma => "comma",
            Self::Dot => "dot",
            Self::Space => "space",
            Self::NoBreakSpace => "nbsp",
            Self::NarrowNoBreakSpace => "nnbsp",
            Self::None => "none",
        }
    }

    fn separator(self) -> Option<char> {
        match self {
            Self::Comma => Some(','),
            Self::Dot => Some('.'),
            Self::Space => Some(' '),
            Self::NoBreakSpace => Some('\u{a0}'),
            Self::NarrowNoBreakSpace => Some('\u{202f}'),
            Self::None => None,
        }
    }
}

/// What the fake's `lms load --estimate-only` prints. The default: the model may be loaded,
/// no colours, `Context Length` grouped with a comma, sizes computed from the model's size.
///
/// ```
/// use lmstudio_testkit::fake_lms::{FakeEstimate, Grouping};
///
/// let estimate = FakeEstimate::will_fail().coloured().grouping(Grouping::NarrowNoBreakSpace);
/// assert_eq!(estimate.to_arg(), "will-fail,colour,group=nnbsp");
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FakeEstimate {
    will_fail: bool,
    malformed: bool,
    coloured: bool,
    low_confidence: bool,
    grouping: Grouping,
    memory: Option<(u64, u64)>,
}

impl FakeEstimate {
    /// "This model may be loaded based on your resource guardrails settings."
    #[must_use]
    pub fn fits() -> Self {
        Self::default()
    }

    /// "This model will fail to load based on your resource guardrails settings."
    #[must_use]
    pub fn will_fail() -> Self {
        Self {
            will_fail: true,
            ..Self::default()
        }
    }

    /// An output no parser should accept: an unreadable `Estimated GPU Memory`, no total, a
    /// verdict `lms` never prints.
    #[must_use]
    pub fn malformed() -> Self {
        Self {
            malformed: true,
            ..Self::default()
        }
    }

    /// Colours the sizes and the verdict, as chalk does on a terminal (green when the model
    /// may be loaded, yellow when not), whatever `NO_COLOR` says.
    #[must_use]
    pub fn coloured(mut self) -> Self {
        self.coloured = true;
        self
    }

    /// Adds `Confidence: LOW`.
    #[must_use]
    pub fn low_confidence(mut self) -> Self {
        self.low_confidence = true;
        self
    }

    /// Groups `Context Length` (printed when `-c` is given) this way.
    #[must_use]
    pub fn grouping(mut self, grouping: Grouping) -> Self {
        self.grouping = grouping;
        self
    }

    /// Prints these sizes instead of ones computed from the model's size.
    #[must_use]
    pub fn memory(mut self, gpu_bytes: u64, total_bytes: u64) -> Self {
        self.memory = Some((gpu_bytes, total_bytes));
        self
    }

    /// The value of the fake's `--estimate` option for these settings.
    pub fn to_arg(&self) -> String {
        let mut parts = vec![
            if self.malformed {
                "malformed"
            } else if self.will_fail {
                "will-fail"
            } else {
                "fits"
            }
            .to_owned(),
        ];
        if self.coloured {
            parts.push("colour".to_owned());
        }
        if self.low_confidence {
            parts.push("low".to_owned());
        }
        if self.grouping != Grouping::default() {
            parts.push(format!("group={}", self.grouping.as_arg()));
        }
        if let Some((gpu, total)) = self.memory {
            parts.push(format!("gpu={gpu}"));
            parts.push(format!("total={total}"));
        }
        parts.join(",")
    }

    /// Reads an `--estimate` value.
    pub(crate) fn from_arg(text: &str) -> Result<Self, String> {
        let bad = || format!("option '--estimate': cannot read {text:?}");
        let mut estimate = Self::default();
        let (mut gpu, mut total) = (None, None);
        for part in text.split(',') {
            match part.split_once('=') {
                None => match part {
                    "fits" => {}
                    "will-fail" => estimate.will_fail = true,
                    "malformed" => estimate.malformed = true,
                    "colour" => estimate.coloured = true,
                    "low" => estimate.low_confidence = true,
                    _ => return Err(bad()),
                },
                Some(("group", name)) => {
                    estimate.grouping = [
                        Grouping::Comma,
                        Grouping::Dot,
                        Grouping::Space,
                        Grouping::NoBreakSpace,
                        Grouping::NarrowNoBreakSpace,
                        Grouping::None,
                    ]
                    .into_iter()
                    .find(|g| g.as_arg() == name)
                    .ok_or_else(bad)?;
                }
                Some(("gpu", n)) => gpu = Some(n.parse().map_err(|_| bad())?),
                Some(("total", n)) => total = Some(n.parse().map_err(|_| bad())?),
                Some(_) => return Err(bad()),
            }
        }
        match (gpu, total) {
            (Some(gpu), Some(total)) => estimate.memory = Some((gpu, total)),
            (None, None) => {}
            _ => return Err(bad()),
        }
        Ok(estimate)
    }
}

/// Bytes as `lms`'s `formatSizeBytes1024` prints them: `0 Bytes`, `512 Bytes`, `12.34 GiB`.
pub(crate) fn format_bytes_1024(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["Bytes", "KiB", "MiB", "GiB", "TiB"];
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

fn grouped(n: u64, separator: Option<char>) -> String {
    let digits = n.to_string();
    let Some(separator) = separator else {
        return digits;
    };
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(separator);
        }
        out.push(c);
    }
    out
}

/// The KV cache the fake counts per token of context.
const KV_BYTES_PER_TOKEN: u64 = 48 * 1024;
/// What the fake adds to the total for the runtime itself.
const RUNTIME_BYTES: u64 = 512 << 20;

/// `lms load <key> --estimate-only ...`: prints the estimate for a downloaded model.
pub(crate) fn estimate(
    server: &Server,
    style: &FakeEstimate,
    rest: &[String],
    err: &mut dyn Write,
) -> i32 {
    let parsed = match args::parse(
        rest,
        &["context-length", "ttl", "gpu", "identifier", "parallel"],
        &["yes", "exact", "local", "estimate-only"],
        &[("-y", "yes"), ("-c", "context-length")],
    ) {
        Ok(parsed) => parsed,
        Err(message) => return fail(err, &message),
    };
    let Some(key) = parsed.positionals.first() else {
        return fail(
            err,
            "Please specify a model key to estimate (no TTY to choose one).",
        );
    };
    let models = match server.get("/__testkit/lms/ls", Duration::from_secs(30)) {
        Ok(reply) => reply.json(),
        Err(message) => return fail(err, &message),
    };
    let Some(model) = models.as_array().into_iter().flatten().find(|m| {
        m["modelKey"] == key.as_str()
            || m["variants"]
                .as_array()
                .is_some_and(|v| v.iter().any(|k| k == key.as_str()))
    }) else {
        return fail(
            err,
            &format!("No model found that matches model key \"{key}\"."),
        );
    };
    let context = match parsed.value("context-length").map(str::parse::<u64>) {
        None => None,
        Some(Ok(n)) if n >= 1 => Some(n),
        Some(_) => {
            return fail(
                err,
                "option '--context-length': expected a positive integer",
            );
        }
    };
    let ratio = match parsed.value("gpu") {
        None => None,
        Some("off") => Some(0.0),
        Some("max") => Some(1.0),
        Some(raw) => match raw.parse::<f64>() {
            Ok(r) if (0.0..=1.0).contains(&r) => Some(r),
            _ => {
                return fail(
                    err,
                    "option '--gpu': expected off, max or a number between 0 and 1",
                );
            }
        },
    };
    let size = model["sizeBytes"].as_u64().unwrap_or(0);
    let kv = context.unwrap_or(4096).saturating_mul(KV_BYTES_PER_TOKEN);
    let (gpu, total) = style.memory.unwrap_or_else(|| {
        let weights = size.saturating_add(kv);
        let on_gpu = (weights as f64 * ratio.unwrap_or(1.0)) as u64;
        (on_gpu, weights.saturating_add(RUNTIME_BYTES))
    });
    let (on, off) = match (style.coloured, style.will_fail) {
        (false, _) => ("", ""),
        (true, false) => ("\x1b[32m", "\x1b[39m"),
        (true, true) => ("\x1b[33m", "\x1b[39m"),
    };
    let mut text = format!("Model: {}\n", model["modelKey"].as_str().unwrap_or(key));
    if style.malformed {
        text.push_str(&format!(
            "Estimated GPU Memory:   {on}about {}{off}\nEstimate: {on}hard to say{off}\n",
            format_bytes_1024(gpu)
        ));
    } else {
        if let Some(n) = context {
            text.push_str(&format!(
                "Context Length: {}\n",
                grouped(n, style.grouping.separator())
            ));
        }
        if let Some(ratio) = ratio {
            text.push_str(&format!("GPU Offload: {}%\n", ratio * 100.0));
        }
        text.push_str(&format!(
            "Estimated GPU Memory:   {on}{}{off}\nEstimated Total Memory: {on}{}{off}\n",
            format_bytes_1024(gpu),
            format_bytes_1024(total)
        ));
        if style.low_confidence {
            let (on, off) = if style.coloured {
                ("\x1b[33m", "\x1b[39m")
            } else {
                ("", "")
            };
            text.push_str(&format!("Confidence: {on}LOW{off}\n"));
        }
        let verdict = if style.will_fail {
            "will fail to load"
        } else {
            "may be loaded"
        };
        text.push_str(&format!(
            "\nEstimate: {on}This model {verdict} based on your resource guardrails settings.{off}\n"
        ));
    }
    let _ = err.write_all(text.as_bytes());
    0
}

/// Whether `lms load` was asked for an estimate only.
pub(crate) fn wanted(rest: &[String]) -> bool {
    rest.iter().any(|arg| arg == "--estimate-only")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_round_trip_through_their_argument() {
        for estimate in [
            FakeEstimate::fits(),
            FakeEstimate::will_fail().coloured().low_confidence(),
            FakeEstimate::malformed(),
            FakeEstimate::fits().grouping(Grouping::Dot).memory(1, 2),
            FakeEstimate::fits().grouping(Grouping::None),
        ] {
            assert_eq!(FakeEstimate::from_arg(&estimate.to_arg()), Ok(estimate));
        }
        for bad in ["nope", "group=x", "gpu=1", "gpu=x,total=1", "fits,=1"] {
            assert!(FakeEstimate::from_arg(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn sizes_and_groupings_print_as_lms_prints_them() {
        assert_eq!(format_bytes_1024(0), "0 Bytes");
        assert_eq!(format_bytes_1024(512), "512 Bytes");
        assert_eq!(format_bytes_1024(1536), "1.50 KiB");
        assert_eq!(format_bytes_1024(13_250_000_000), "12.34 GiB");
        assert_eq!(grouped(8192, Some(',')), "8,192");
        assert_eq!(grouped(131_072, Some('\u{202f}')), "131\u{202f}072");
        assert_eq!(grouped(512, Some('.')), "512");
        assert_eq!(grouped(8192, None), "8192");
    }

    #[test]
    fn the_estimate_flag_is_found_among_the_arguments() {
        let args: Vec<String> = ["k", "--yes", "--estimate-only"]
            .iter()
            .map(|s| (*s).to_owned())
            .collect();
        assert!(wanted(&args));
        assert!(!wanted(&args[..2]));
    }
}
