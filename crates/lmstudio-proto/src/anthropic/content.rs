//! Content blocks: what messages, system prompts, tool results and answers are made of.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

use crate::nullable::null_as_default;

/// Content: a string (shorthand for one text block) or an array of blocks.
///
/// Used for a message's `content`, the request's `system` and a tool result's `content`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
#[non_exhaustive]
pub enum MessageContent {
    /// Plain text.
    Text(String),
    /// Text, image, tool-use, tool-result, thinking, ... blocks.
    Blocks(Vec<ContentBlock>),
}

impl Default for MessageContent {
    /// Empty text.
    fn default() -> Self {
        Self::Text(String::new())
    }
}

impl MessageContent {
    /// The text: the string itself, or the text blocks joined (other blocks left out).
    pub fn text(&self) -> Cow<'_, str> {
        match self {
            Self::Text(text) => Cow::Borrowed(text),
            Self::Blocks(blocks) => {
                let mut texts = blocks.iter().filter_map(ContentBlock::as_text);
                match (texts.next(), texts.next()) {
                    (None, _) => Cow::Borrowed(""),
                    (Some(only), None) => Cow::Borrowed(only),
                    (Some(first), Some(second)) => {
                        let mut joined = format!("{first}{second}");
                        texts.for_each(|text| joined.push_str(text));
                        Cow::Owned(joined)
                    }
                }
            }
        }
    }

    /// The string, when the content is plain text.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Self::Text(text) => Some(text),
            Self::Blocks(_) => None,
        }
    }

    /// The blocks (none for plain text).
    pub fn blocks(&self) -> &[ContentBlock] {
        match self {
            Self::Text(_) => &[],
            Self::Blocks(blocks) => blocks,
        }
    }
}

impl From<&str> for MessageContent {
    fn from(text: &str) -> Self {
        Self::Text(text.to_owned())
    }
}

impl From<String> for MessageContent {
    fn from(text: String) -> Self {
        Self::Text(text)
    }
}

impl From<ContentBlock> for MessageContent {
    fn from(block: ContentBlock) -> Self {
        Self::Blocks(vec![block])
    }
}

impl From<Vec<ContentBlock>> for MessageContent {
    fn from(blocks: Vec<ContentBlock>) -> Self {
        Self::Blocks(blocks)
    }
}

impl<'de> Deserialize<'de> for MessageContent {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ContentVisitor;

        impl<'de> Visitor<'de> for ContentVisitor {
            type Value = MessageContent;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string or an array of content blocks")
            }

            fn visit_str<E: de::Error>(self, text: &str) -> Result<MessageContent, E> {
                Ok(MessageContent::Text(text.to_owned()))
            }

            fn visit_string<E: de::Error>(self, text: String) -> Result<MessageContent, E> {
                Ok(MessageContent::Text(text))
            }

            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<MessageContent, A::Error> {
                // The hint comes from the input: cap what is reserved up front.
                let mut blocks = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(64));
                while let Some(block) = seq.next_element()? {
                    blocks.push(block);
                }
                Ok(MessageContent::Blocks(blocks))
            }
        }

        deserializer.deserialize_any(ContentVisitor)
    }
}

tagged_enum! {
    /// One content block, tagged by `type`. Requests and answers share the shapes; block types
    /// this crate does not model (`server_tool_use`, `web_search_tool_result`, `document`,
    /// `search_result`, ...) are kept whole in [`Other`](Self::Other) and written back as
    /// they came.
    #[non_exhaustive]
    pub enum ContentBlock {
        /// Text (`"text"`).
        Text(TextBlock) = "text",
        /// An image (`"image"`, requests only).
        Image(ImageBlock) = "image",
        /// A call of a client tool the model made (`"tool_use"`).
        ToolUse(ToolUseBlock) = "tool_use",
        /// The result of a tool call, sent back in a `user` message (`"tool_result"`).
        ToolResult(ToolResultBlock) = "tool_result",
        /// The model's reasoning, with its signature (`"thinking"`).
        Thinking(ThinkingBlock) = "thinking",
        /// Reasoning the API returns encrypted (`"redacted_thinking"`).
        RedactedThinking(RedactedThinkingBlock) = "redacted_thinking",
    }
}

impl Default for ContentBlock {
    /// An empty text block.
    fn default() -> Self {
        Self::Text(TextBlock::default())
    }
}

impl ContentBlock {
    /// A text block.
    pub fn text(text: impl Into<String>) -> Self {
        Self::Text(TextBlock {
            text: text.into(),
            ..TextBlock::default()
        })
    }

    /// An image block from base64 data, e.g. `("image/png", "iVBORw0...")`.
    pub fn image_base64(media_type: impl Into<String>, data: impl Into<String>) -> Self {
        Self::Image(ImageBlock::new(ImageSource::Base64(Base64Source {
            media_type: media_type.into(),
            data: data.into(),
            extra: Map::new(),
        })))
    }

    /// An image block from an `https:` URL.
    pub fn image_url(url: impl Into<String>) -> Self {
        Self::Image(ImageBlock::new(ImageSource::Url(UrlSource {
            url: url.into(),
            extra: Map::new(),
        })))
    }

    /// A tool-use block (to replay a call the model made); `input` is a JSON object.
    pub fn tool_use(id: impl Into<String>, name: impl Into<String>, input: Value) -> Self {
        Self::ToolUse(ToolUseBlock {
            id: id.into(),
            name: name.into(),
            input,
            ..ToolUseBlock::default()
        })
    }

    /// The result of the call `tool_use_id`.
    pub fn tool_result(tool_use_id: impl Into<String>, content: impl Into<MessageContent>) -> Self {
        Self::ToolResult(ToolResultBlock {
            tool_use_id: tool_use_id.into(),
            content: Some(content.into()),
            ..ToolResultBlock::default()
        })
    }

    /// A failed call's result (`is_error: true`).
    pub fn tool_error(tool_use_id: impl Into<String>, content: impl Into<MessageContent>) -> Self {
        Self::ToolResult(ToolResultBlock {
            tool_use_id: tool_use_id.into(),
            content: Some(content.into()),
            is_error: Some(true),
            ..ToolResultBlock::default()
        })
    }

    /// The text of a text block.
    pub fn as_text(&self) -> Option<&str> {
        match self {
            Self::Text(block) => Some(&block.text),
            _ => None,
        }
    }

    /// The reasoning of a thinking block.
    pub fn as_thinking(&self) -> Option<&str> {
        match self {
            Self::Thinking(block) => Some(&block.thinking),
            _ => None,
        }
    }

    /// The call of a tool-use block.
    pub fn as_tool_use(&self) -> Option<&ToolUseBlock> {
        match self {
            Self::ToolUse(block) => Some(block),
            _ => None,
        }
    }
}

/// A prompt-caching breakpoint (`cache_control`) on a block, tool or system block.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CacheControl {
    /// `ephemeral`.
    #[serde(rename = "type", default, deserialize_with = "null_as_default")]
    pub kind: CacheControlType,
    /// How long the entry lives, e.g. `5m` or `1h`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttl: Option<String>,
    /// Fields this crate does not model.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl CacheControl {
    /// `{"type":"ephemeral"}`.
    pub fn ephemeral() -> Self {
        Self::default()
    }
}

open_enum! {
    /// The kind of a cache breakpoint; only `ephemeral` exists today (the default).
    #[derive(Default)]
    pub enum CacheControlType {
        /// A cache entry with a short lifetime (`"ephemeral"`).
        #[default]
        Ephemeral = "ephemeral",
    }
}

/// `{"type":"text","text":...}`. Citations and other fields are kept in `extra`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct TextBlock {
    /// The text.
    #[serde(default, deserialize_with = "null_as_default")]
    pub text: String,
    /// A cache breakpoint after this block.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_control: Option<CacheControl>,
    /// Fields this crate does not model (`citations`, ...).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `{"type":"image","source":{...}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ImageBlock {
    /// Where the image comes from.
    pub source: ImageSource,
    /// A cache breakpoint after this block.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_control: Option<CacheControl>,
    /// Fields this crate does not model.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl ImageBlock {
    /// An image block reading `source`.
    pub fn new(source: ImageSource) -> Self {
        Self {
            source,
            cache_control: None,
            extra: Map::new(),
        }
    }
}

tagged_enum! {
    /// An image's source, tagged by `type` (`file` and other sources are kept in
    /// [`Other`](Self::Other)).
    #[non_exhaustive]
    pub enum ImageSource {
        /// Inline data (`"base64"`).
        Base64(Base64Source) = "base64",
        /// An `https:` URL the server fetches (`"url"`).
        Url(UrlSource) = "url",
    }
}

/// `{"type":"base64","media_type":...,"data":...}`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Base64Source {
    /// `image/jpeg`, `image/png`, `image/gif` or `image/webp`.
    #[serde(default, deserialize_with = "null_as_default")]
    pub media_type: String,
    /// The image bytes, base64.
    #[serde(default, deserialize_with = "null_as_default")]
    pub data: String,
    /// Fields this crate does not model.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `{"type":"url","url":...}`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct UrlSource {
    /// The image's URL.
    #[serde(default, deserialize_with = "null_as_default")]
    pub url: String,
    /// Fields this crate does not model.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `{"type":"tool_use","id":...,"name":...,"input":{...}}`: a call of a client tool.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ToolUseBlock {
    /// The call's id; the result's `tool_use_id` names it.
    #[serde(default, deserialize_with = "null_as_default")]
    pub id: String,
    /// The tool's name.
    #[serde(default, deserialize_with = "null_as_default")]
    pub name: String,
    /// The arguments, a JSON object (streamed: assembled from `input_json_delta` pieces). A
    /// call without `input` (or with `null`) reads as `{}`.
    #[serde(default = "empty_object", deserialize_with = "object_if_null")]
    pub input: Value,
    /// A cache breakpoint after this block.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_control: Option<CacheControl>,
    /// Fields this crate does not model (`caller`, ...).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Default for ToolUseBlock {
    /// No id or name, `input: {}`.
    fn default() -> Self {
        Self {
            id: String::new(),
            name: String::new(),
            input: empty_object(),
            cache_control: None,
            extra: Map::new(),
        }
    }
}

fn empty_object() -> Value {
    Value::Object(Map::new())
}

/// A tool call's `input`, `{}` for `null`.
fn object_if_null<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Value, D::Error> {
    let input = Value::deserialize(deserializer)?;
    Ok(if input.is_null() {
        empty_object()
    } else {
        input
    })
}

/// `{"type":"tool_result","tool_use_id":...,"content":...,"is_error"?:...}`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ToolResultBlock {
    /// The call this answers.
    #[serde(default, deserialize_with = "null_as_default")]
    pub tool_use_id: String,
    /// What the tool returned: a string or blocks (text, images).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<MessageContent>,
    /// The tool failed; `content` says why.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_error: Option<bool>,
    /// A cache breakpoint after this block.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_control: Option<CacheControl>,
    /// Fields this crate does not model.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `{"type":"thinking","thinking":...,"signature":...}`. Send it back unchanged (signature
/// included) with the tool results of the same turn.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ThinkingBlock {
    /// The reasoning text.
    #[serde(default, deserialize_with = "null_as_default")]
    pub thinking: String,
    /// The server's signature of the reasoning (streamed as a `signature_delta`; empty or
    /// absent from servers that do not sign).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature: Option<String>,
    /// Fields this crate does not model.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `{"type":"redacted_thinking","data":...}`: encrypted reasoning, to send back unchanged.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct RedactedThinkingBlock {
    /// The encrypted reasoning.
    #[serde(default, deserialize_with = "null_as_default")]
    pub data: String,
    /// Fields this crate does not model.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}
