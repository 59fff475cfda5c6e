//! `Deserialize` for structs that keep unknown fields in `extra`, without serde's `flatten`.
//!
//! `#[serde(flatten)]` makes a derived `Deserialize` buffer the whole object (and every nested
//! flattened object again) into serde's intermediate content tree before reading the fields.
//! On the streaming hot path, where every chunk nests three such structs, that doubled the
//! decoding cost. [`deserialize_with_extra!`] reads the fields straight from the input instead:
//! known keys into their fields, every other key into `extra` as a `serde_json::Value`. The
//! behaviour matches the derived types of this crate: missing fields take their `Default` (or
//! are an error when marked `required`), `null` reads as the field's `Default` too (see
//! [`crate::nullable`]), and a repeated key is an error. `Serialize` stays derived (flattening
//! on output costs nothing extra).

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, Deserialize, Deserializer, Visitor};

/// Implements `Deserialize` for a struct with named fields plus `extra: Map<String, Value>`.
///
/// ```text
/// deserialize_with_extra!(Usage { prompt_tokens: "prompt_tokens", choices: "choices" required });
/// ```
macro_rules! deserialize_with_extra {
    ($ty:ident { $( $field:ident : $key:literal $($required:ident)? ),+ $(,)? }) => {
        impl<'de> ::serde::Deserialize<'de> for $ty {
            fn deserialize<D: ::serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                struct FieldsVisitor;

                impl<'de> ::serde::de::Visitor<'de> for FieldsVisitor {
                    type Value = $ty;

                    fn expecting(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                        f.write_str(concat!("a JSON object (", stringify!($ty), ")"))
                    }

                    fn visit_map<A: ::serde::de::MapAccess<'de>>(
                        self,
                        mut map: A,
                    ) -> Result<$ty, A::Error> {
                        $( let mut $field = None; )+
                        let mut extra = ::serde_json::Map::new();
                        while let Some(key) = map.next_key::<$crate::extra::FieldKey<'de>>()? {
                            match key.as_str() {
                                $( $key => {
                                    if $field.is_some() {
                                        return Err(::serde::de::Error::duplicate_field($key));
                                    }
                                    $field = Some(
                                        map.next_value::<$crate::nullable::OrDefault<_>>()?.0,
                                    );
                                } )+
                                _ => {
                                    let value: ::serde_json::Value = map.next_value()?;
                                    if extra.insert(key.into_string(), value).is_some() {
                                        return Err(::serde::de::Error::custom(
                                            "duplicate field in an object",
                                        ));
                                    }
                                }
                            }
                        }
                        Ok($ty {
                            $( $field: deserialize_with_extra!(@take $field, $key $($required)?), )+
                            extra,
                        })
                    }
                }

                deserializer.deserialize_map(FieldsVisitor)
            }
        }
    };
    (@take $field:ident, $key:literal required) => {
        $field.ok_or_else(|| ::serde::de::Error::missing_field($key))?
    };
    (@take $field:ident, $key:literal) => {
        $field.unwrap_or_default()
    };
}

/// An object key, borrowed from the input when it has no escapes.
pub(crate) struct FieldKey<'de>(pub(crate) Cow<'de, str>);

impl FieldKey<'_> {
    /// The key's text.
    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }

    /// The key as an owned string (for `extra`).
    pub(crate) fn into_string(self) -> String {
        self.0.into_owned()
    }
}

impl<'de> Deserialize<'de> for FieldKey<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_str(FieldKeyVisitor)
    }
}

struct FieldKeyVisitor;

impl<'de> Visitor<'de> for FieldKeyVisitor {
    type Value = FieldKey<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object key")
    }

    fn visit_borrowed_str<E: de::Error>(self, value: &'de str) -> Result<Self::Value, E> {
        Ok(FieldKey(Cow::Borrowed(value)))
    }

    fn visit_str<E: de::Error>(self, value: &str) -> Result<Self::Value, E> {
        Ok(FieldKey(Cow::Owned(value.to_owned())))
    }

    fn visit_string<E: de::Error>(self, value: String) -> Result<Self::Value, E> {
        Ok(FieldKey(Cow::Owned(value)))
    }
}

#[cfg(test)]
mod tests {
    use crate::openai::{ChatCompletionChunk, ChunkChoice, FinishReason, Usage};

    #[test]
    fn unknown_fields_land_in_extra_and_round_trip() {
        let text = r#"{"id":"c","model":"m","choices":[{"index":0,"delta":{"content":"hi","x-delta":1},"finish_reason":null,"x-choice":[1,2]}],"timings":{"n":3}}"#;
        let chunk: ChatCompletionChunk = serde_json::from_str(text).unwrap();
        assert_eq!(chunk.content().as_deref(), Some("hi"));
        assert_eq!(chunk.extra["timings"]["n"], 3);
        assert_eq!(chunk.choices[0].extra["x-choice"][1], 2);
        assert_eq!(chunk.choices[0].delta.extra["x-delta"], 1);
        let again: ChatCompletionChunk =
            serde_json::from_str(&serde_json::to_string(&chunk).unwrap()).unwrap();
        assert_eq!(again, chunk);
    }

    #[test]
    fn missing_fields_take_defaults_but_a_required_one_is_an_error() {
        let choice: ChunkChoice = serde_json::from_str("{}").unwrap();
        assert_eq!(choice, ChunkChoice::default());
        let err = serde_json::from_str::<ChatCompletionChunk>(r#"{"error":"boom"}"#).unwrap_err();
        assert!(err.to_string().contains("missing field `choices`"), "{err}");
    }

    #[test]
    fn null_reads_as_the_default_and_a_required_key_stays_required() {
        let choice: ChunkChoice =
            serde_json::from_str(r#"{"finish_reason":null,"logprobs":null,"index":null}"#).unwrap();
        assert_eq!(choice, ChunkChoice::default());
        let choice: ChunkChoice = serde_json::from_str(r#"{"finish_reason":"stop"}"#).unwrap();
        assert_eq!(choice.finish_reason, Some(FinishReason::Stop));
        let usage: Usage = serde_json::from_str(r#"{"prompt_tokens":null}"#).unwrap();
        assert_eq!(usage.prompt_tokens, 0);
        let chunk: ChatCompletionChunk = serde_json::from_str(r#"{"choices":null}"#).unwrap();
        assert!(chunk.choices.is_empty());
        let err = serde_json::from_str::<Usage>(r#"{"prompt_tokens":"x"}"#).unwrap_err();
        assert!(err.to_string().contains("invalid type"), "{err}");
    }

    #[test]
    fn repeated_keys_and_non_objects_are_errors() {
        let err =
            serde_json::from_str::<Usage>(r#"{"total_tokens":1,"total_tokens":2}"#).unwrap_err();
        assert!(
            err.to_string().contains("duplicate field `total_tokens`"),
            "{err}"
        );
        let err = serde_json::from_str::<Usage>(r#"{"x":1,"x":2}"#).unwrap_err();
        assert!(err.to_string().contains("duplicate field"), "{err}");
        let err = serde_json::from_str::<Usage>("[1,2,3]").unwrap_err();
        assert!(err.to_string().contains("a JSON object (Usage)"), "{err}");
    }

    #[test]
    fn escaped_keys_are_matched_and_kept() {
        let usage: Usage =
            serde_json::from_str(r#"{"total\u005ftokens":7,"caf\u00e9":true}"#).unwrap();
        assert_eq!(usage.total_tokens, 7);
        assert_eq!(usage.extra["café"], true);
    }
}
