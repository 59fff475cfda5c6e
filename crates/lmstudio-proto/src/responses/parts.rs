//! Content parts: what a message (and a reasoning item's `content` and `summary`) is made of
//! — input text and images, output text, refusals, reasoning and summary text.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// A message's content: a string (input only), or parts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
#[non_exhaustive]
pub enum Content {
    /// Plain text.
    Text(String),
    /// Text, image, refusal, ... parts.
    Parts(Vec<ContentPart>),
}

impl Default for Content {
    /// Empty text.
    fn default() -> Self {
        Self::Text(String::new())
    }
}

impl Content {
    /// The text: the string, or the text parts (`output_text`, `input_text`) joined.
    pub fn text(&self) -> Cow<'_, str> {
        match self {
            Self::Text(text) => Cow::Borrowed(text),
            Self::Parts(parts) => join(parts.iter().filter_map(ContentPart::as_text)),
        }
    }

    /// The parts (none for plain text).
    pub fn parts(&self) -> &[ContentPart] {
        match self {
            Self::Text(_) => &[],
            Self::Parts(parts) => parts,
        }
    }
}

impl From<&str> for Content {
    fn from(text: &str) -> Self {
        Self::Text(text.to_owned())
    }
}

impl From<String> for Content {
    fn from(text: String) -> Self {
        Self::Text(text)
    }
}

impl From<Vec<ContentPart>> for Content {
    fn from(parts: Vec<ContentPart>) -> Self {
        Self::Parts(parts)
    }
}

/// Joins text pieces, borrowing when there is at most one.
pub(crate) fn join<'a>(pieces: impl Iterator<Item = &'a str>) -> Cow<'a, str> {
    crate::openai::join_text(pieces.map(Cow::Borrowed))
}

tagged_enum! {
    /// One part of a message (or of a reasoning item's `content` and `summary`), tagged by
    /// `type`. Unknown part types (`input_file`, `input_audio`, ...) are kept whole.
    #[non_exhaustive]
    pub enum ContentPart {
        /// `{"type":"input_text","text":...}`.
        InputText(TextPart) = "input_text",
        /// `{"type":"input_image","image_url":...}`.
        InputImage(InputImage) = "input_image",
        /// `{"type":"output_text","text":...,"annotations":[...]}`.
        OutputText(OutputText) = "output_text",
        /// `{"type":"refusal","refusal":...}`.
        Refusal(RefusalPart) = "refusal",
        /// `{"type":"reasoning_text","text":...}` (LM Studio, llama.cpp).
        ReasoningText(TextPart) = "reasoning_text",
        /// `{"type":"summary_text","text":...}` (OpenAI's reasoning summaries).
        SummaryText(TextPart) = "summary_text",
    }
}

impl ContentPart {
    /// An `input_text` part.
    pub fn input_text(text: impl Into<String>) -> Self {
        Self::InputText(TextPart::new(text))
    }

    /// An `input_image` part from a URL (`https:` or `data:`).
    pub fn input_image(url: impl Into<String>) -> Self {
        Self::InputImage(InputImage {
            image_url: Some(url.into()),
            file_id: None,
            detail: None,
            extra: Map::new(),
        })
    }

    /// An `output_text` part (an earlier answer sent back).
    pub fn output_text(text: impl Into<String>) -> Self {
        Self::OutputText(OutputText {
            text: text.into(),
            annotations: Vec::new(),
            logprobs: Vec::new(),
            extra: Map::new(),
        })
    }

    /// The text of an `output_text` or `input_text` part.
    pub fn as_text(&self) -> Option<&str> {
        match self {
            Self::OutputText(part) => Some(&part.text),
            Self::InputText(part) => Some(&part.text),
            _ => None,
        }
    }

    /// The text of a `reasoning_text` part.
    pub fn as_reasoning(&self) -> Option<&str> {
        match self {
            Self::ReasoningText(part) => Some(&part.text),
            _ => None,
        }
    }

    /// The text of a `summary_text` part.
    pub fn as_summary(&self) -> Option<&str> {
        match self {
            Self::SummaryText(part) => Some(&part.text),
            _ => None,
        }
    }

    /// The text of a `refusal` part.
    pub fn as_refusal(&self) -> Option<&str> {
        match self {
            Self::Refusal(part) => Some(&part.refusal),
            _ => None,
        }
    }
}

/// A part that is only text (`input_text`, `reasoning_text`, `summary_text`).
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
#[non_exhaustive]
pub struct TextPart {
    /// The text.
    #[serde(default)]
    pub text: String,
    /// Fields this crate does not model.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl TextPart {
    /// A part holding `text`.
    pub fn new(text: impl Into<String>) -> Self {
        Self {
            text: text.into(),
            extra: Map::new(),
        }
    }
}

/// An `input_image` part.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
#[non_exhaustive]
pub struct InputImage {
    /// An `https:` or `data:` URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_url: Option<String>,
    /// An uploaded file's id (OpenAI).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_id: Option<String>,
    /// `auto`, `low` or `high`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// Fields this crate does not model.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// An `output_text` part.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
#[non_exhaustive]
pub struct OutputText {
    /// The text.
    #[serde(default)]
    pub text: String,
    /// Citations and the like (kept as sent).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub annotations: Vec<Value>,
    /// Token log probabilities, when asked for (llama.cpp always sends `[]`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub logprobs: Vec<Value>,
    /// Fields this crate does not model.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A `refusal` part.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
#[non_exhaustive]
pub struct RefusalPart {
    /// Why the model declined, for people.
    #[serde(default)]
    pub refusal: String,
    /// Fields this crate does not model.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

deserialize_with_extra!(TextPart { text: "text" });
deserialize_with_extra!(InputImage {
    image_url: "image_url",
    file_id: "file_id",
    detail: "detail",
});
deserialize_with_extra!(OutputText {
    text: "text",
    annotations: "annotations",
    logprobs: "logprobs",
});
deserialize_with_extra!(RefusalPart { refusal: "refusal" });
