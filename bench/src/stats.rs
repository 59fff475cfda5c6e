//! Samples and their summary (median, min, max), plus small timing helpers.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// Repeated measurements of one figure, in the figure's unit.
#[derive(Clone, Debug, Default)]
pub(crate) struct Samples {
    values: Vec<f64>,
}

impl Samples {
    /// No samples yet.
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// Adds one measurement.
    pub(crate) fn push(&mut self, value: f64) {
        if value.is_finite() {
            self.values.push(value);
        }
    }

    /// The summary, or `None` when nothing was measured.
    pub(crate) fn summary(&self) -> Option<Summary> {
        if self.values.is_empty() {
            return None;
        }
        let mut sorted = self.values.clone();
        sorted.sort_by(f64::total_cmp);
        let n = sorted.len();
        let median = if n % 2 == 1 {
            sorted[n / 2]
        } else {
            (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0
        };
        Some(Summary {
            median,
            min: sorted[0],
            max: sorted[n - 1],
            n,
        })
    }
}

/// Median, min and max of a set of samples.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Summary {
    /// The median.
    pub(crate) median: f64,
    /// The smallest sample.
    pub(crate) min: f64,
    /// The largest sample.
    pub(crate) max: f64,
    /// How many samples.
    pub(crate) n: usize,
}

impl Summary {
    /// A single exact value (a count, not a timing).
    pub(crate) fn exact(value: f64) -> Self {
        Self {
            median: value,
            min: value,
            max: value,
            n: 1,
        }
    }

    /// The JSON form written to `latest.json`.
    pub(crate) fn to_json(self) -> Value {
        json!({ "median": self.median, "min": self.min, "max": self.max, "n": self.n })
    }
}

/// Microseconds in a duration, as a float.
pub(crate) fn micros(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

/// Runs `f` and returns its result with the time it took.
pub(crate) async fn timed<T, F: Future<Output = T>>(f: F) -> (T, Duration) {
    let started = Instant::now();
    let out = f.await;
    (out, started.elapsed())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_odd_and_even_counts() {
        let mut s = Samples::new();
        for v in [5.0, 1.0, 3.0] {
            s.push(v);
        }
        assert_eq!(
            s.summary(),
            Some(Summary {
                median: 3.0,
                min: 1.0,
                max: 5.0,
                n: 3
            })
        );
        s.push(7.0);
        assert_eq!(s.summary().map(|x| x.median), Some(4.0));
    }

    #[test]
    fn non_finite_values_are_dropped_and_empty_has_no_summary() {
        let mut s = Samples::new();
        assert_eq!(s.summary(), None);
        s.push(f64::NAN);
        assert_eq!(s.summary(), None);
    }
}
