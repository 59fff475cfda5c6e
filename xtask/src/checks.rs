//! A tiny named-check runner for the end-to-end suites: runs each check, prints one line per
//! check with its time, and ends with "N passed, M failed".

use std::future::Future;
use std::time::{Duration, Instant};

/// The outcome of one check: `Err` carries the reason it failed.
pub(crate) type CheckResult = Result<(), String>;

/// Collects check outcomes for one suite.
pub(crate) struct Suite {
    name: String,
    passed: usize,
    failed: Vec<String>,
    started: Instant,
}

impl Suite {
    /// A new suite; `name` prefixes the summary line.
    pub(crate) fn new(name: impl Into<String>) -> Self {
        let name = name.into();
        println!("\n=== {name} ===");
        Self {
            name,
            passed: 0,
            failed: Vec::new(),
            started: Instant::now(),
        }
    }

    /// Runs one check with a time limit and records its outcome.
    pub(crate) async fn check<F>(&mut self, name: &str, limit: Duration, check: F)
    where
        F: Future<Output = CheckResult>,
    {
        let started = Instant::now();
        let outcome = match tokio::time::timeout(limit, check).await {
            Ok(outcome) => outcome,
            Err(_) => Err(format!("did not finish within {limit:?}")),
        };
        let elapsed = started.elapsed();
        match outcome {
            Ok(()) => {
                self.passed += 1;
                println!("ok      {name} ({})", millis(elapsed));
            }
            Err(reason) => {
                println!("FAILED  {name} ({}): {reason}", millis(elapsed));
                self.failed.push(name.to_owned());
            }
        }
    }

    /// Prints "N passed, M failed" and returns an error naming the failed checks, if any.
    pub(crate) fn finish(self) -> Result<(), String> {
        println!(
            "{}: {} passed, {} failed ({})",
            self.name,
            self.passed,
            self.failed.len(),
            millis(self.started.elapsed())
        );
        if self.failed.is_empty() {
            Ok(())
        } else {
            Err(format!(
                "{}: failed checks: {}",
                self.name,
                self.failed.join(", ")
            ))
        }
    }
}

/// Fails the check with `message` unless `condition` holds.
pub(crate) fn ensure(condition: bool, message: impl FnOnce() -> String) -> CheckResult {
    if condition { Ok(()) } else { Err(message()) }
}

/// Fails the check unless `kinds` (a stream's event types, in order) is `head`, then at least
/// one `middle`, then `tail`.
pub(crate) fn ensure_event_order(
    kinds: &[&str],
    head: &[&str],
    middle: &str,
    tail: &[&str],
) -> CheckResult {
    let n = kinds.len();
    ensure(n > head.len() + tail.len(), || {
        format!("only {n} events: {kinds:?}")
    })?;
    ensure(
        kinds[..head.len()] == *head
            && kinds[n - tail.len()..] == *tail
            && kinds[head.len()..n - tail.len()]
                .iter()
                .all(|k| *k == middle),
        || format!("event order {kinds:?}"),
    )
}

/// Formats a duration as milliseconds with one decimal.
pub(crate) fn millis(duration: Duration) -> String {
    format!("{:.1} ms", duration.as_secs_f64() * 1000.0)
}
