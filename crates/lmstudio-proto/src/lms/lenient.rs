//! Numbers `lms` prints that this crate reads leniently: a value that is not a usable whole
//! number reads as unknown (`None`) instead of failing the whole parse.
//!
//! `lms` is JavaScript: its numbers are IEEE doubles and nothing on the wire promises they are
//! whole, positive or small. A broken or hostile `lms` (or a future one) may print `-1`,
//! `1e30`, `8.5`, `"8589934592"` or `true` where a byte count belongs. Reading such a field
//! must neither panic, wrap, nor throw away the rest of a useful answer (a hardware survey
//! with one odd GPU entry still says how much RAM there is). What each reader keeps:
//!
//! | input | [`u64_or_none`] | [`i64_or_none`] |
//! |---|---|---|
//! | an integer in range | kept | kept |
//! | a negative integer | `None` | kept when in range |
//! | a float with a fraction (`8.5`) | the whole part (`8`) | the whole part, toward zero |
//! | a float out of range (`1e30`, `-1.0` for `u64`) | `None` | `None` |
//! | a string of decimal digits (`"42"`, surrounding spaces allowed) | kept when in range | kept when in range |
//! | any other string, `true`, an array, an object | `None` | `None` |
//! | `null` or an absent key | `None` | `None` |

use std::fmt;

use serde::Deserializer;
use serde::de::{self, IgnoredAny, MapAccess, SeqAccess, Visitor};

/// 2^64 as a float: the first float no `u64` holds.
const TWO_POW_64: f64 = 18_446_744_073_709_551_616.0;
/// 2^63 as a float: the first float no `i64` holds.
const TWO_POW_63: f64 = 9_223_372_036_854_775_808.0;

/// Reads an `Option<u64>` leniently (see the module table).
pub(crate) fn u64_or_none<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<u64>, D::Error> {
    deserializer.deserialize_any(Lenient::<u64>::new())
}

/// Reads an `Option<i64>` leniently (see the module table).
pub(crate) fn i64_or_none<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<i64>, D::Error> {
    deserializer.deserialize_any(Lenient::<i64>::new())
}

/// The target integer type of a [`Lenient`] visitor.
trait Whole: Sized {
    fn from_u64(value: u64) -> Option<Self>;
    fn from_i64(value: i64) -> Option<Self>;
    fn from_f64(value: f64) -> Option<Self>;
    fn from_text(text: &str) -> Option<Self>;
}

impl Whole for u64 {
    fn from_u64(value: u64) -> Option<Self> {
        Some(value)
    }

    fn from_i64(value: i64) -> Option<Self> {
        u64::try_from(value).ok()
    }

    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)] // range checked first
    fn from_f64(value: f64) -> Option<Self> {
        // NaN and the infinities are outside the range; `-0.5` truncates to zero but is still
        // a negative reading, refused with the rest.
        (0.0..TWO_POW_64)
            .contains(&value)
            .then(|| value.trunc() as u64)
    }

    fn from_text(text: &str) -> Option<Self> {
        let text = text.trim();
        (!text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()))
            .then(|| text.parse().ok())
            .flatten()
    }
}

impl Whole for i64 {
    fn from_u64(value: u64) -> Option<Self> {
        i64::try_from(value).ok()
    }

    fn from_i64(value: i64) -> Option<Self> {
        Some(value)
    }

    #[allow(clippy::cast_possible_truncation)] // range checked first
    fn from_f64(value: f64) -> Option<Self> {
        (-TWO_POW_63..TWO_POW_63)
            .contains(&value)
            .then(|| value.trunc() as i64)
    }

    fn from_text(text: &str) -> Option<Self> {
        let text = text.trim();
        let digits = text.strip_prefix('-').unwrap_or(text);
        (!digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()))
            .then(|| text.parse().ok())
            .flatten()
    }
}

struct Lenient<T>(std::marker::PhantomData<T>);

impl<T> Lenient<T> {
    fn new() -> Self {
        Self(std::marker::PhantomData)
    }
}

impl<'de, T: Whole> Visitor<'de> for Lenient<T> {
    type Value = Option<T>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a number (anything else reads as unknown)")
    }

    fn visit_u64<E: de::Error>(self, value: u64) -> Result<Self::Value, E> {
        Ok(T::from_u64(value))
    }

    fn visit_i64<E: de::Error>(self, value: i64) -> Result<Self::Value, E> {
        Ok(T::from_i64(value))
    }

    fn visit_f64<E: de::Error>(self, value: f64) -> Result<Self::Value, E> {
        Ok(T::from_f64(value))
    }

    fn visit_str<E: de::Error>(self, value: &str) -> Result<Self::Value, E> {
        Ok(T::from_text(value))
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(self)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(None)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    #[derive(Deserialize, Debug, PartialEq)]
    struct Sample {
        #[serde(default, deserialize_with = "super::u64_or_none")]
        bytes: Option<u64>,
        #[serde(default, deserialize_with = "super::i64_or_none")]
        id: Option<i64>,
    }

    fn read(json: &str) -> (Option<u64>, Option<i64>) {
        let sample: Sample = serde_json::from_str(&format!(r#"{{"bytes":{json},"id":{json}}}"#))
            .unwrap_or_else(|e| panic!("{json}: {e}"));
        (sample.bytes, sample.id)
    }

    #[test]
    fn usable_numbers_are_kept_and_hostile_ones_read_as_unknown() {
        let max = u64::MAX.to_string();
        let cases: Vec<(&str, Option<u64>, Option<i64>)> = vec![
            ("0", Some(0), Some(0)),
            ("8589934592", Some(8_589_934_592), Some(8_589_934_592)),
            (&max, Some(u64::MAX), None),
            ("18446744073709551616", None, None),
            ("-1", None, Some(-1)),
            ("-9223372036854775808", None, Some(i64::MIN)),
            ("8.5", Some(8), Some(8)),
            ("-8.5", None, Some(-8)),
            ("-0.0", Some(0), Some(0)),
            ("1e30", None, None),
            ("-1e30", None, None),
            ("1e-300", Some(0), Some(0)),
            (r#""42""#, Some(42), Some(42)),
            (r#"" 42 ""#, Some(42), Some(42)),
            (r#""-42""#, None, Some(-42)),
            (r#""4.2""#, None, None),
            (r#""lots""#, None, None),
            (r#""""#, None, None),
            ("true", None, None),
            ("null", None, None),
            ("[1,[2]]", None, None),
            (r#"{"a":{"b":1}}"#, None, None),
        ];
        for (json, bytes, id) in cases {
            assert_eq!(read(json), (bytes, id), "{json}");
        }
        let absent: Sample = serde_json::from_str("{}").unwrap();
        assert_eq!(
            absent,
            Sample {
                bytes: None,
                id: None
            }
        );
    }
}
