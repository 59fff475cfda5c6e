//! Reading the numbers a server sends: seconds as JSON floats become a [`Duration`] only when
//! they can.
//!
//! Every number on the wire is controlled by the server (or by whatever sits between it and
//! the client), so a conversion must never panic. [`Duration::from_secs_f64`] panics on a
//! negative, infinite, NaN or too large value; this crate's workspace bans it (and the other
//! panicking float conversions of [`Duration`]) with clippy's `disallowed-methods`, and every
//! float-to-`Duration` conversion goes through [`duration_from_secs_f64`] instead.

use std::time::Duration;

/// Converts seconds given as a float into a [`Duration`], or `None` when no `Duration` can
/// hold them.
///
/// - NaN, `+∞`, `-∞` and any negative value (even `-1e-300`) are `None`; `-0.0` is zero.
/// - Values of `2^64` seconds (about 5.8 × 10¹¹ years) or more are `None`; use
///   [`Option::unwrap_or`] with [`Duration::MAX`] where saturating is the right reading.
/// - Tiny and subnormal values (`1e-300`, `5e-324`) are [`Duration::ZERO`]: precision is
///   one nanosecond.
///
/// ```
/// use std::time::Duration;
/// use lmstudio_proto::numbers::duration_from_secs_f64;
///
/// assert_eq!(duration_from_secs_f64(1.5), Some(Duration::from_millis(1500)));
/// assert_eq!(duration_from_secs_f64(1e-300), Some(Duration::ZERO));
/// assert_eq!(duration_from_secs_f64(f64::NAN), None);
/// assert_eq!(duration_from_secs_f64(-1.0), None);
/// assert_eq!(duration_from_secs_f64(1e300), None);
/// ```
#[allow(clippy::disallowed_methods)] // the one sanctioned float-to-Duration conversion
pub fn duration_from_secs_f64(secs: f64) -> Option<Duration> {
    // `try_from_secs_f64` refuses NaN, infinities, negative values and overflow itself.
    Duration::try_from_secs_f64(secs).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_seconds_are_none_or_exact() {
        for bad in [
            f64::NAN,
            -f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            -1.0,
            -1e-300,
            -f64::MIN_POSITIVE,
            f64::MAX,
            1e300,
            u64::MAX as f64,
            18_446_744_073_709_551_616.0,
        ] {
            assert_eq!(duration_from_secs_f64(bad), None, "{bad:e}");
        }
        assert_eq!(duration_from_secs_f64(-0.0), Some(Duration::ZERO));
        assert_eq!(duration_from_secs_f64(0.0), Some(Duration::ZERO));
        assert_eq!(duration_from_secs_f64(5e-324), Some(Duration::ZERO));
        assert_eq!(duration_from_secs_f64(1e-300), Some(Duration::ZERO));
        assert_eq!(duration_from_secs_f64(37.0), Some(Duration::from_secs(37)));
        // The largest float below 2^64 still fits.
        let largest = 18_446_744_073_709_549_568.0;
        assert_eq!(
            duration_from_secs_f64(largest),
            Some(Duration::from_secs(18_446_744_073_709_549_568))
        );
    }

    #[test]
    fn every_bit_pattern_near_the_edges_is_handled() {
        // Walk the floats around 0, 1 and 2^64 bit by bit: none may panic, and a result is
        // always the nearest representable duration (within a nanosecond).
        for base in [0.0f64, 1.0, 18_446_744_073_709_549_568.0] {
            let bits = base.to_bits();
            for delta in 0..2000u64 {
                for candidate in [bits.wrapping_add(delta), bits.wrapping_sub(delta)] {
                    let secs = f64::from_bits(candidate);
                    if let Some(d) = duration_from_secs_f64(secs) {
                        assert!(secs >= 0.0);
                        assert!((d.as_secs_f64() - secs).abs() <= 1e-9_f64.max(secs * 1e-15));
                    }
                }
            }
        }
    }
}
