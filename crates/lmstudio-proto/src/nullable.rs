//! `null` read as "absent": the field's default (empty string, empty list, zero, `None`).
//!
//! OpenAI-compatible servers write `null` where others leave a field out: SGLang sends
//! `"tool_calls": null` and `"role": null` in every stream delta, DeepSeek `"content": null`
//! beside `reasoning_content`, and so on. serde accepts `null` for an `Option` field by itself;
//! every other field a response type has (strings, lists, numbers, nested objects) is read with
//! [`null_as_default`] (derived types) or [`OrDefault`] (the `deserialize_with_extra!` types),
//! so such a body parses and the `null` means what leaving the key out would have meant.
//!
//! A field that must be present (an id, a `choices` list) is still an error when its key is
//! missing: that is how an `{"error": ...}` body is told apart from an answer.

use serde::{Deserialize, Deserializer};

/// Reads a value, `null` as `T::default()` (use with `#[serde(deserialize_with = ...)]`).
pub(crate) fn null_as_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

/// A value read like [`null_as_default`] does, as a type (for hand-written visitors).
pub(crate) struct OrDefault<T>(pub(crate) T);

impl<'de, T: Deserialize<'de> + Default> Deserialize<'de> for OrDefault<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        null_as_default(deserializer).map(OrDefault)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize, Debug, PartialEq)]
    struct Sample {
        #[serde(default, deserialize_with = "null_as_default")]
        text: String,
        #[serde(default, deserialize_with = "null_as_default")]
        list: Vec<u32>,
        #[serde(deserialize_with = "null_as_default")]
        required: Vec<u32>,
    }

    #[test]
    fn null_and_absent_read_as_the_default_but_a_required_key_stays_required() {
        let sample: Sample =
            serde_json::from_str(r#"{"text":null,"list":null,"required":null}"#).unwrap();
        assert_eq!(
            sample,
            Sample {
                text: String::new(),
                list: Vec::new(),
                required: Vec::new()
            }
        );
        let sample: Sample = serde_json::from_str(r#"{"required":[1],"text":"t"}"#).unwrap();
        assert_eq!(sample.required, [1]);
        assert_eq!(sample.text, "t");
        let err = serde_json::from_str::<Sample>(r#"{"text":"t"}"#).unwrap_err();
        assert!(
            err.to_string().contains("missing field `required`"),
            "{err}"
        );
        let err = serde_json::from_str::<Sample>(r#"{"required":[],"list":"x"}"#).unwrap_err();
        assert!(err.to_string().contains("invalid type"), "{err}");
    }

    #[test]
    fn or_default_wraps_the_same_rule() {
        let OrDefault(value) = serde_json::from_str::<OrDefault<u64>>("null").unwrap();
        assert_eq!(value, 0);
        let OrDefault(value) = serde_json::from_str::<OrDefault<Option<u64>>>("7").unwrap();
        assert_eq!(value, Some(7));
    }
}
