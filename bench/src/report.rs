//! Figures, targets, the printed table and `latest.json`.

use std::fmt::Write as _;
use std::path::Path;

use serde_json::{Value, json};

use crate::stats::Summary;

/// A goal a figure is held to.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Target {
    /// ours / baseline must be at most this (lower is better).
    RatioAtMost(f64),
    /// ours / baseline must be at least this (higher is better).
    RatioAtLeast(f64),
    /// ours (median) must be strictly below this, in the figure's unit.
    Below(f64),
    /// ours (median) must be at most this, in the figure's unit.
    AtMost(f64),
}

impl Target {
    /// The target as printed, e.g. `<= 0.5x`.
    fn describe(self, unit: &str) -> String {
        match self {
            Target::RatioAtMost(r) => format!("<= {r}x"),
            Target::RatioAtLeast(r) => format!(">= {r}x"),
            Target::Below(v) => format!("< {} {unit}", number(v)),
            Target::AtMost(v) => format!("<= {} {unit}", number(v)),
        }
    }

    /// Whether the figure meets the target (`None` when the ratio it needs is missing).
    fn met(self, ours: f64, ratio: Option<f64>) -> Option<bool> {
        match self {
            Target::RatioAtMost(r) => ratio.map(|x| x <= r),
            Target::RatioAtLeast(r) => ratio.map(|x| x >= r),
            Target::Below(v) => Some(ours < v),
            Target::AtMost(v) => Some(ours <= v),
        }
    }
}

/// One row of the results: our figure, the same-run baseline, the ratio and the target.
#[derive(Clone, Debug)]
pub(crate) struct Figure {
    /// Stable id (`readiness`, `get_loop`, ...).
    pub(crate) id: String,
    /// What is measured.
    pub(crate) name: String,
    /// The unit of `ours` and `baseline` (`µs`, `ms`, `MB/s`, `MB`, `crates`).
    pub(crate) unit: &'static str,
    /// Our measurement.
    pub(crate) ours: Summary,
    /// The baseline's name and measurement.
    pub(crate) baseline: Option<(String, Summary)>,
    /// The goal, when the issue sets one.
    pub(crate) target: Option<Target>,
    /// Extra facts (request counts, chunk counts, ...).
    pub(crate) details: Value,
}

impl Figure {
    /// A figure without baseline, target or details.
    pub(crate) fn new(
        id: &str,
        name: impl Into<String>,
        unit: &'static str,
        ours: Summary,
    ) -> Self {
        Self {
            id: id.to_owned(),
            name: name.into(),
            unit,
            ours,
            baseline: None,
            target: None,
            details: Value::Null,
        }
    }

    /// Adds the baseline.
    pub(crate) fn baseline(mut self, name: impl Into<String>, summary: Summary) -> Self {
        self.baseline = Some((name.into(), summary));
        self
    }

    /// Adds the target.
    pub(crate) fn target(mut self, target: Target) -> Self {
        self.target = Some(target);
        self
    }

    /// Adds details.
    pub(crate) fn details(mut self, details: Value) -> Self {
        self.details = details;
        self
    }

    /// ours / baseline (medians).
    pub(crate) fn ratio(&self) -> Option<f64> {
        let (_, base) = self.baseline.as_ref()?;
        (base.median != 0.0).then(|| self.ours.median / base.median)
    }

    /// PASS/MISS, or `None` without a target.
    pub(crate) fn verdict(&self) -> Option<bool> {
        self.target?.met(self.ours.median, self.ratio())
    }

    fn to_json(&self) -> Value {
        json!({
            "id": self.id,
            "name": self.name,
            "unit": self.unit,
            "ours": self.ours.to_json(),
            "baseline": self.baseline.as_ref().map(|(name, s)| {
                let mut value = s.to_json();
                value["name"] = json!(name);
                value
            }),
            "ratio": self.ratio(),
            "target": self.target.map(|t| t.describe(self.unit)),
            "result": self.verdict().map(|ok| if ok { "PASS" } else { "MISS" }),
            "details": self.details,
        })
    }
}

/// A number with about three significant digits.
pub(crate) fn number(v: f64) -> String {
    let a = v.abs();
    if a == 0.0 {
        "0".to_owned()
    } else if a >= 100.0 {
        format!("{v:.0}")
    } else if a >= 10.0 {
        format!("{v:.1}")
    } else if a >= 1.0 {
        format!("{v:.2}")
    } else {
        format!("{v:.3}")
    }
}

fn cell(s: Summary, unit: &str) -> String {
    if s.n <= 1 || s.min == s.max {
        format!("{} {unit}", number(s.median))
    } else {
        format!(
            "{} {unit} ({}–{})",
            number(s.median),
            number(s.min),
            number(s.max)
        )
    }
}

/// The results table, as printed and pasted into docs/benchmarks.md (Markdown).
pub(crate) fn table(figures: &[Figure]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "| figure | ours median (min–max) | baseline | baseline median (min–max) | ratio | target | result |"
    );
    let _ = writeln!(out, "|---|---|---|---|---|---|---|");
    for f in figures {
        let (base_name, base_cell) = match &f.baseline {
            Some((name, s)) => (name.clone(), cell(*s, f.unit)),
            None => ("—".to_owned(), "—".to_owned()),
        };
        let ratio = f
            .ratio()
            .map_or_else(|| "—".to_owned(), |r| format!("{}x", number(r)));
        let target = f
            .target
            .map_or_else(|| "—".to_owned(), |t| t.describe(f.unit));
        let result = match f.verdict() {
            Some(true) => "PASS",
            Some(false) => "MISS",
            None => "—",
        };
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} |",
            f.name,
            cell(f.ours, f.unit),
            base_name,
            base_cell,
            ratio,
            target,
            result
        );
    }
    out
}

/// How many targets passed and missed.
pub(crate) fn tally(figures: &[Figure]) -> (usize, usize) {
    figures
        .iter()
        .filter_map(Figure::verdict)
        .fold(
            (0, 0),
            |(p, m), ok| if ok { (p + 1, m) } else { (p, m + 1) },
        )
}

/// Writes `latest.json`.
pub(crate) fn write_json(path: &Path, figures: &[Figure], meta: Value) -> Result<(), String> {
    let (pass, miss) = tally(figures);
    let mut doc = meta;
    doc["targets"] = json!({ "pass": pass, "miss": miss });
    doc["figures"] = Value::Array(figures.iter().map(Figure::to_json).collect());
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    }
    let text = serde_json::to_string_pretty(&doc).map_err(|e| e.to_string())?;
    std::fs::write(path, text + "\n").map_err(|e| format!("cannot write {}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fig(ours: f64, base: f64, target: Target) -> Figure {
        Figure::new("x", "x", "µs", Summary::exact(ours))
            .baseline("b", Summary::exact(base))
            .target(target)
    }

    #[test]
    fn ratio_targets_compare_medians() {
        assert_eq!(
            fig(1.0, 4.0, Target::RatioAtMost(0.5)).verdict(),
            Some(true)
        );
        assert_eq!(
            fig(3.0, 4.0, Target::RatioAtMost(0.5)).verdict(),
            Some(false)
        );
        assert_eq!(
            fig(9.0, 4.0, Target::RatioAtLeast(2.0)).verdict(),
            Some(true)
        );
        assert_eq!(
            fig(5.0, 4.0, Target::RatioAtLeast(2.0)).verdict(),
            Some(false)
        );
    }

    #[test]
    fn absolute_targets_ignore_the_baseline() {
        assert_eq!(fig(9.9, 1.0, Target::Below(10.0)).verdict(), Some(true));
        assert_eq!(fig(10.0, 1.0, Target::Below(10.0)).verdict(), Some(false));
        assert_eq!(fig(60.0, 1.0, Target::AtMost(60.0)).verdict(), Some(true));
    }

    #[test]
    fn a_ratio_target_without_baseline_has_no_verdict() {
        let f = Figure::new("x", "x", "µs", Summary::exact(1.0)).target(Target::RatioAtMost(1.0));
        assert_eq!(f.verdict(), None);
        assert!(table(&[f]).contains("| — |"));
    }
}
