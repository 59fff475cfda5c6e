//! Numbers from outside are data, never a crash: how the facade reads the speeds, sizes,
//! seconds and TTLs a server, a proxy in front of it or `lms` reports.
//!
//! What each reading does with a value it cannot use:
//!
//! | number | unusable when | becomes |
//! |---|---|---|
//! | download speed (`bytes_per_second`) | NaN, infinite, negative | `None` (unknown) |
//! | ETA (bytes left / speed) | no speed, speed 0 or subnormal, `downloaded > total`, more than [`MAX_ETA`] | `None` (unknown) |
//! | seconds (`load_time_seconds`) | NaN, infinite, negative, more than a `Duration` holds | `None` (unknown) |
//! | byte counts, context lengths, TTLs in ms (`u64`) | never: every `u64` is kept as sent | a `u64`, a `Duration` for TTLs |
//!
//! Floats become a `Duration` only through [`duration_from_secs_f64`] (clippy bans the
//! panicking `Duration` float conversions). Sizes never size an allocation.

use std::time::Duration;

use lmstudio_proto::native::v1::DownloadStatus;
use lmstudio_proto::numbers::duration_from_secs_f64;

use crate::progress::ProgressEvent;

#[cfg(test)]
mod prop;

/// The longest ETA worth reporting: anything further is no estimate and reads as unknown.
/// It also keeps `Instant::now() + eta` far from overflowing for callers.
pub(crate) const MAX_ETA: Duration = Duration::from_secs(365 * 24 * 60 * 60);

/// A reported speed in bytes per second: kept when finite and not negative (`-0.0` reads as
/// `0.0`), else unknown.
pub(crate) fn speed(bytes_per_second: Option<f64>) -> Option<f64> {
    bytes_per_second
        .filter(|s| s.is_finite() && *s >= 0.0)
        .map(|s| s + 0.0)
}

/// The estimated time left for `total - done` bytes at `bytes_per_second`, or `None` when it
/// cannot be estimated (see the module table). Never panics, whatever the inputs.
pub(crate) fn eta(
    total: Option<u64>,
    done: Option<u64>,
    bytes_per_second: Option<f64>,
) -> Option<Duration> {
    let speed = speed(bytes_per_second).filter(|s| *s > 0.0)?;
    let left = total?.checked_sub(done?)?;
    duration_from_secs_f64(left as f64 / speed).filter(|eta| *eta <= MAX_ETA)
}

/// Seconds the server reports (e.g. a load time): kept when a `Duration` can hold them
/// (finite, not negative, below 2^64), else unknown. `-0.0` reads as `0.0`.
pub(crate) fn seconds(value: Option<f64>) -> Option<f64> {
    value
        .filter(|s| duration_from_secs_f64(*s).is_some())
        .map(|s| s + 0.0)
}

/// A TTL `lms` reports in milliseconds. Every `u64` of milliseconds fits in a `Duration`.
pub(crate) fn ttl_from_millis(ttl_ms: Option<u64>) -> Option<Duration> {
    ttl_ms.map(Duration::from_millis)
}

/// One status poll of a REST download as a progress event; `total` is the best total known
/// so far. Speed and ETA follow [`speed`] and [`eta`]; a missing byte count reads as 0.
pub(crate) fn download_progress(
    model: &str,
    status: &DownloadStatus,
    total: Option<u64>,
) -> ProgressEvent {
    ProgressEvent::DownloadProgress {
        model: model.to_owned(),
        downloaded_bytes: status.downloaded_bytes.unwrap_or(0),
        total_bytes: total,
        bytes_per_second: speed(status.bytes_per_second),
        eta: eta(total, status.downloaded_bytes, status.bytes_per_second),
    }
}

#[cfg(test)]
mod tests {
    use lmstudio_proto::native::v1::DownloadState;

    use super::*;

    fn status(done: Option<u64>, speed: Option<f64>) -> DownloadStatus {
        let mut status = DownloadStatus::new(DownloadState::Downloading);
        status.downloaded_bytes = done;
        status.bytes_per_second = speed;
        status
    }

    fn eta_of(event: &ProgressEvent) -> Option<Duration> {
        match event {
            ProgressEvent::DownloadProgress { eta, .. } => *eta,
            _ => None,
        }
    }

    fn speed_of(event: &ProgressEvent) -> Option<f64> {
        match event {
            ProgressEvent::DownloadProgress {
                bytes_per_second, ..
            } => *bytes_per_second,
            _ => None,
        }
    }

    /// The crash that started the audit: `Duration::from_secs_f64(12e9 / 1e-300)` panicked.
    #[test]
    fn a_subnormal_download_speed_with_a_large_total_has_no_eta() {
        let event = download_progress("m", &status(Some(1), Some(1e-300)), Some(12_000_000_000));
        assert_eq!(eta_of(&event), None);
        assert_eq!(speed_of(&event), Some(1e-300));
        let line = crate::progress::progress_line(&event);
        assert!(!line.contains("ETA"), "{line}");
        for tiny in [f64::MIN_POSITIVE, 5e-324, 1e-320] {
            assert_eq!(eta(Some(u64::MAX), Some(0), Some(tiny)), None);
        }
    }

    #[test]
    fn nan_infinite_and_negative_speeds_are_unknown() {
        for bad in [
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            -1.0,
            -1e-300,
            f64::MIN,
        ] {
            let event = download_progress("m", &status(Some(5), Some(bad)), Some(10));
            assert_eq!(speed_of(&event), None, "{bad}");
            assert_eq!(eta_of(&event), None, "{bad}");
        }
        assert_eq!(speed(Some(-0.0)).map(f64::is_sign_positive), Some(true));
        assert_eq!(eta(Some(10), Some(5), Some(0.0)), None);
    }

    #[test]
    fn an_eta_past_a_year_or_with_more_done_than_total_is_unknown() {
        assert_eq!(eta(Some(10), Some(11), Some(1.0)), None);
        assert_eq!(eta(Some(u64::MAX), Some(0), Some(1.0)), None);
        assert_eq!(eta(None, Some(0), Some(1.0)), None);
        assert_eq!(eta(Some(10), None, Some(1.0)), None);
        let year = MAX_ETA.as_secs();
        assert_eq!(eta(Some(year), Some(0), Some(1.0)), Some(MAX_ETA));
        assert_eq!(eta(Some(year + 1), Some(0), Some(1.0)), None);
        assert_eq!(
            eta(Some(u64::MAX), Some(u64::MAX), Some(f64::MAX)),
            Some(Duration::ZERO)
        );
        assert_eq!(
            eta(Some(2_920_000_000), Some(1_230_000_000), Some(45_670_000.0)).map(|d| d.as_secs()),
            Some(37)
        );
    }

    #[test]
    fn load_seconds_outside_a_duration_are_unknown() {
        for bad in [
            f64::NAN,
            f64::INFINITY,
            -1.0,
            -1e-300,
            1e300,
            f64::MAX,
            2e19,
        ] {
            assert_eq!(seconds(Some(bad)), None, "{bad}");
        }
        assert_eq!(seconds(Some(1e-300)), Some(1e-300));
        assert_eq!(seconds(Some(-0.0)).map(f64::is_sign_positive), Some(true));
        assert_eq!(seconds(Some(2.5)), Some(2.5));
        assert_eq!(seconds(None), None);
    }

    #[test]
    fn the_largest_ttl_in_milliseconds_is_a_duration() {
        assert_eq!(
            ttl_from_millis(Some(u64::MAX)),
            Some(Duration::from_millis(u64::MAX))
        );
        assert_eq!(ttl_from_millis(Some(0)), Some(Duration::ZERO));
    }
}
