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

/// CPU time the calling thread has run so far, from `/proc/thread-self/schedstat` (Linux;
/// nanosecond resolution). `None` where the kernel does not expose it.
pub(crate) fn thread_cpu() -> Option<Duration> {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let nanos: u64 = text.split_ascii_whitespace().next()?.parse().ok()?;
    Some(Duration::from_nanos(nanos))
}

/// Runs `f` and returns its result with the wall time and the calling thread's CPU time it
/// took (the CPU time is zero where [`thread_cpu`] is unavailable).
pub(crate) async fn timed_cpu<T, F: Future<Output = T>>(f: F) -> (T, Duration, Duration) {
    let cpu_before = thread_cpu();
    let started = Instant::now();
    let out = f.await;
    let wall = started.elapsed();
    let cpu = match (cpu_before, thread_cpu()) {
        (Some(before), Some(after)) => after.saturating_sub(before),
        _ => Duration::ZERO,
    };
    (out, wall, cpu)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thread_cpu_advances_with_work() {
        let Some(before) = thread_cpu() else {
            return; // not Linux: nothing to check
        };
        let mut x = 0u64;
        let started = Instant::now();
        while started.elapsed() < Duration::from_millis(20) {
            x = std::hint::black_box(x.wrapping_add(1));
        }
        let after = thread_cpu().unwrap_or_default();
        assert!(
            after > before,
            "{before:?} -> {after:?} after a busy loop ({x})"
        );
    }

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
