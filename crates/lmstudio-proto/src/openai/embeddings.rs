//! `POST /v1/embeddings`.

use std::fmt;

use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::ObjectKind;
use crate::nullable::null_as_default;

/// `POST /v1/embeddings`. Unset fields are not sent.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct EmbeddingRequest {
    /// The embedding model key.
    pub model: String,
    /// What to embed.
    pub input: EmbeddingInput,
    /// `float` (the default) or `base64`; this crate reads float vectors only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encoding_format: Option<String>,
    /// Requested vector size (models that support it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dimensions: Option<u32>,
    /// Other fields to send (e.g. LM Studio's `ttl`).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl EmbeddingRequest {
    /// A request embedding `input` with `model`.
    pub fn new(model: impl Into<String>, input: impl Into<EmbeddingInput>) -> Self {
        Self {
            model: model.into(),
            input: input.into(),
            ..Self::default()
        }
    }
}

/// `input`: a string, strings, or token ids.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
#[non_exhaustive]
pub enum EmbeddingInput {
    /// One text.
    Text(String),
    /// Several texts (one vector each).
    Texts(Vec<String>),
    /// One pre-tokenized input.
    Tokens(Vec<u32>),
    /// Several pre-tokenized inputs.
    TokenBatches(Vec<Vec<u32>>),
}

impl Default for EmbeddingInput {
    fn default() -> Self {
        Self::Text(String::new())
    }
}

impl From<&str> for EmbeddingInput {
    fn from(text: &str) -> Self {
        Self::Text(text.to_owned())
    }
}

impl From<String> for EmbeddingInput {
    fn from(text: String) -> Self {
        Self::Text(text)
    }
}

impl From<Vec<String>> for EmbeddingInput {
    fn from(texts: Vec<String>) -> Self {
        Self::Texts(texts)
    }
}

impl From<Vec<&str>> for EmbeddingInput {
    fn from(texts: Vec<&str>) -> Self {
        Self::Texts(texts.into_iter().map(str::to_owned).collect())
    }
}

/// The answer: one vector per input.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct EmbeddingResponse {
    /// `list`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object: Option<ObjectKind>,
    /// The vectors (the key is required; `null` reads as none).
    #[serde(deserialize_with = "null_as_default")]
    pub data: Vec<Embedding>,
    /// The model that answered (LM Studio may add the `@quant` variant).
    #[serde(default, deserialize_with = "null_as_default")]
    pub model: String,
    /// Token counts (LM Studio may report zeros).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage: Option<EmbeddingUsage>,
    /// Fields this crate does not model.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl EmbeddingResponse {
    /// The vectors ordered by `index` (the input order).
    pub fn vectors(&self) -> Vec<&[f32]> {
        let mut data: Vec<&Embedding> = self.data.iter().collect();
        data.sort_by_key(|e| e.index);
        data.into_iter().map(|e| e.embedding.as_slice()).collect()
    }
}

/// One vector.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Embedding {
    /// `embedding`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object: Option<ObjectKind>,
    /// The vector. A value outside `f32`'s range is an error (it would otherwise become an
    /// infinity, which JSON cannot carry). The key is required; `null` reads as empty.
    #[serde(deserialize_with = "finite_f32_vector")]
    pub embedding: Vec<f32>,
    /// The input this vector belongs to.
    #[serde(default, deserialize_with = "null_as_default")]
    pub index: u32,
    /// Fields this crate does not model.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Token counts of an embedding request.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct EmbeddingUsage {
    /// Input tokens.
    #[serde(default, deserialize_with = "null_as_default")]
    pub prompt_tokens: u64,
    /// Input tokens (again).
    #[serde(default, deserialize_with = "null_as_default")]
    pub total_tokens: u64,
    /// Fields this crate does not model.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Reads an array of numbers as `f32`s, refusing values that do not fit; `null` as empty.
fn finite_f32_vector<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<f32>, D::Error> {
    struct VectorVisitor;

    impl<'de> Visitor<'de> for VectorVisitor {
        type Value = Vec<f32>;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("an array of numbers")
        }

        fn visit_unit<E: de::Error>(self) -> Result<Vec<f32>, E> {
            Ok(Vec::new())
        }

        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<f32>, A::Error> {
            // The hint comes from the input: cap what is reserved up front.
            let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(8192));
            while let Some(value) = seq.next_element::<f64>()? {
                let narrowed = value as f32;
                if !narrowed.is_finite() {
                    return Err(de::Error::custom(format_args!(
                        "embedding value {value} is outside the range of f32"
                    )));
                }
                out.push(narrowed);
            }
            Ok(out)
        }
    }

    deserializer.deserialize_any(VectorVisitor)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn input_forms() {
        for (input, wire) in [
            (EmbeddingInput::from("a"), json!("a")),
            (EmbeddingInput::from(vec!["a", "b"]), json!(["a", "b"])),
            (EmbeddingInput::Tokens(vec![1, 2]), json!([1, 2])),
            (
                EmbeddingInput::TokenBatches(vec![vec![1], vec![2, 3]]),
                json!([[1], [2, 3]]),
            ),
        ] {
            assert_eq!(serde_json::to_value(&input).unwrap(), wire);
            assert_eq!(
                serde_json::from_value::<EmbeddingInput>(wire).unwrap(),
                input
            );
        }
        assert_eq!(
            serde_json::to_string(&EmbeddingRequest::new("e", "x")).unwrap(),
            r#"{"model":"e","input":"x"}"#
        );
    }

    #[test]
    fn vectors_follow_index() {
        let response: EmbeddingResponse = serde_json::from_value(json!({
            "data":[{"embedding":[2.0],"index":1},{"embedding":[1.0],"index":0}],"model":"e"
        }))
        .unwrap();
        assert_eq!(response.vectors(), vec![&[1.0f32][..], &[2.0f32][..]]);
    }

    /// Found by the `proto_json` fuzz target: 4.08e90 became an infinity, which serialized
    /// as `null` and could not be read back.
    #[test]
    fn a_value_outside_the_f32_range_is_an_error_not_an_infinity() {
        let err = serde_json::from_value::<EmbeddingResponse>(json!({
            "data":[{"embedding":[0.5, 4.0870737284421e90],"index":0}],"model":"e"
        }))
        .unwrap_err();
        assert!(
            err.to_string().contains("outside the range of f32"),
            "{err}"
        );
        let ok: EmbeddingResponse = serde_json::from_value(json!({
            "data":[{"embedding":[0.5, -3.0e38, 1e-50],"index":0}],"model":"e"
        }))
        .unwrap();
        assert_eq!(ok.data[0].embedding, vec![0.5, -3.0e38, 0.0]);
    }
}
