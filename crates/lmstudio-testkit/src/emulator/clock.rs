//! Time stamps and ids in the shapes LM Studio uses (unix seconds, ISO 8601, `chatcmpl-…`).

use std::time::{SystemTime, UNIX_EPOCH};

/// Seconds since the Unix epoch.
pub(crate) fn unix_secs(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// Milliseconds since the Unix epoch.
pub(crate) fn unix_millis(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// `2025-10-03T15:33:23.496Z`.
pub(crate) fn iso8601(time: SystemTime) -> String {
    let millis = unix_millis(time);
    let secs = millis / 1000;
    let days = i64::try_from(secs / 86_400).unwrap_or(0);
    let rem = secs % 86_400;
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        millis % 1000
    )
}

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// A well-mixed 64-bit value from a seed (splitmix64).
pub(crate) fn mix(seed: u64) -> u64 {
    let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// FNV-1a hash of some bytes.
pub(crate) fn hash(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |acc, byte| {
        (acc ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// 16 lower-case hex digits derived from `n`.
pub(crate) fn hex_id(n: u64) -> String {
    format!("{:016x}", mix(n))
}

/// `len` lower-case base-36 characters derived from `n` (LM Studio's `chatcmpl-` ids).
pub(crate) fn base36_id(n: u64, len: usize) -> String {
    const DIGITS: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut state = mix(n);
    (0..len)
        .map(|i| {
            if i % 8 == 7 {
                state = mix(state);
            }
            let digit = DIGITS[(state % 36) as usize];
            state /= 36;
            char::from(digit)
        })
        .collect()
}

/// A nine-digit numeric string (LM Studio's tool-call ids look like `365174485`).
pub(crate) fn numeric_id(n: u64) -> String {
    (100_000_000 + mix(n ^ 0x5A5A) % 900_000_000).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn iso8601_matches_known_instants() {
        assert_eq!(iso8601(UNIX_EPOCH), "1970-01-01T00:00:00.000Z");
        let t = UNIX_EPOCH + Duration::from_millis(1_759_505_603_496);
        assert_eq!(iso8601(t), "2025-10-03T15:33:23.496Z");
        let leap = UNIX_EPOCH + Duration::from_secs(951_782_400);
        assert_eq!(iso8601(leap), "2000-02-29T00:00:00.000Z");
    }

    #[test]
    fn ids_have_the_expected_shapes() {
        let id = base36_id(7, 21);
        assert_eq!(id.len(), 21);
        assert!(
            id.chars()
                .all(|c| c.is_ascii_alphanumeric() && !c.is_ascii_uppercase())
        );
        let numeric = numeric_id(3);
        assert_eq!(numeric.len(), 9);
        assert!(numeric.chars().all(|c| c.is_ascii_digit()));
        assert_ne!(base36_id(1, 21), base36_id(2, 21));
    }
}
