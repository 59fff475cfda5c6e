//! Chat messages: roles, text or content-part arrays (text, images, thinking, refusals).

use std::borrow::Cow;

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

use super::response::AssistantMessage;
use super::tools::ToolCall;
use crate::nullable::null_as_default;
use crate::tagged::{Tagged, from_fields, tag_of};
use crate::text_or_list::deserialize_text_or_list;

open_enum! {
    /// Who wrote a message (`role`).
    pub enum Role {
        /// Instructions (`"system"`).
        System = "system",
        /// Instructions, newer OpenAI name; LM Studio rewrites it to `system` (`"developer"`).
        Developer = "developer",
        /// The user (`"user"`).
        User = "user",
        /// The model (`"assistant"`).
        Assistant = "assistant",
        /// A tool's result (`"tool"`).
        Tool = "tool",
        /// A function result, legacy OpenAI (`"function"`).
        Function = "function",
    }
}

/// One message of a chat request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ChatMessage {
    /// Who wrote it.
    pub role: Role,
    /// The text or content parts; may be absent on an assistant message with tool calls.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<MessageContent>,
    /// An optional participant name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The tool calls an assistant message made (send them back with the tool results).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_calls: Option<Vec<ToolCall>>,
    /// The call a `tool` message answers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_call_id: Option<String>,
    /// Other fields to send.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl ChatMessage {
    /// A message with `role` and `content`.
    pub fn new(role: Role, content: impl Into<MessageContent>) -> Self {
        Self {
            role,
            content: Some(content.into()),
            name: None,
            tool_calls: None,
            tool_call_id: None,
            extra: Map::new(),
        }
    }

    /// A `system` message.
    pub fn system(content: impl Into<MessageContent>) -> Self {
        Self::new(Role::System, content)
    }

    /// A `developer` message.
    pub fn developer(content: impl Into<MessageContent>) -> Self {
        Self::new(Role::Developer, content)
    }

    /// A `user` message: text, or parts such as images.
    pub fn user(content: impl Into<MessageContent>) -> Self {
        Self::new(Role::User, content)
    }

    /// An `assistant` message (a previous answer).
    pub fn assistant(content: impl Into<MessageContent>) -> Self {
        Self::new(Role::Assistant, content)
    }

    /// An `assistant` message that made `tool_calls` (no content).
    pub fn assistant_tool_calls(tool_calls: Vec<ToolCall>) -> Self {
        Self {
            content: None,
            tool_calls: Some(tool_calls),
            ..Self::new(Role::Assistant, "")
        }
    }

    /// A `tool` message: the result of the call `call_id`.
    pub fn tool(call_id: impl Into<String>, content: impl Into<MessageContent>) -> Self {
        Self {
            tool_call_id: Some(call_id.into()),
            ..Self::new(Role::Tool, content)
        }
    }

    /// The text of the content (text parts joined), empty when there is none.
    pub fn text(&self) -> Cow<'_, str> {
        self.content
            .as_ref()
            .map_or(Cow::Borrowed(""), MessageContent::text)
    }
}

impl From<AssistantMessage> for ChatMessage {
    /// The answer as a message to append to the history (reasoning is left out: the
    /// `reasoning` fields and any thinking parts of the content).
    fn from(message: AssistantMessage) -> Self {
        Self {
            role: message.role,
            content: message.content.and_then(MessageContent::without_reasoning),
            name: None,
            tool_calls: (!message.tool_calls.is_empty()).then_some(message.tool_calls),
            tool_call_id: None,
            extra: Map::new(),
        }
    }
}

/// A message's content: a string, or an array of parts.
///
/// Requests use parts for images; answers from some servers use them too (Mistral's reasoning
/// models answer `[{"type":"thinking",...},{"type":"text",...}]`). Read the answer with
/// [`text`](Self::text) and the thinking with [`reasoning`](Self::reasoning).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
#[non_exhaustive]
pub enum MessageContent {
    /// Plain text.
    Text(String),
    /// Text, image, thinking, ... parts.
    Parts(Vec<ContentPart>),
}

impl Default for MessageContent {
    /// Empty text.
    fn default() -> Self {
        Self::Text(String::new())
    }
}

impl MessageContent {
    /// The text: the string itself, or the text parts joined (images, thinking and refusals
    /// left out).
    pub fn text(&self) -> Cow<'_, str> {
        match self {
            Self::Text(text) => Cow::Borrowed(text),
            Self::Parts(parts) => join(
                parts
                    .iter()
                    .filter_map(ContentPart::as_text)
                    .map(Cow::Borrowed),
            ),
        }
    }

    /// The thinking parts' text joined (`thinking` and `reasoning` parts); empty for a string.
    pub fn reasoning(&self) -> Cow<'_, str> {
        match self {
            Self::Text(_) => Cow::Borrowed(""),
            Self::Parts(parts) => join(parts.iter().filter_map(ContentPart::as_reasoning)),
        }
    }

    /// The refusal parts' text joined; empty when there is none.
    pub fn refusal(&self) -> Cow<'_, str> {
        join(
            self.parts()
                .iter()
                .filter_map(ContentPart::as_refusal)
                .map(Cow::Borrowed),
        )
    }

    /// The string, when the content is plain text.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Self::Text(text) => Some(text),
            Self::Parts(_) => None,
        }
    }

    /// The parts (none for plain text).
    pub fn parts(&self) -> &[ContentPart] {
        match self {
            Self::Text(_) => &[],
            Self::Parts(parts) => parts,
        }
    }

    /// The content without thinking parts; `None` when nothing else is left.
    fn without_reasoning(self) -> Option<Self> {
        match self {
            Self::Text(text) => Some(Self::Text(text)),
            Self::Parts(mut parts) => {
                parts.retain(|part| part.as_reasoning().is_none());
                (!parts.is_empty()).then_some(Self::Parts(parts))
            }
        }
    }
}

/// Joins text pieces (empty ones skipped), borrowing when there is at most one.
pub(crate) fn join<'a>(pieces: impl Iterator<Item = Cow<'a, str>>) -> Cow<'a, str> {
    let mut pieces = pieces.filter(|piece| !piece.is_empty());
    let Some(first) = pieces.next() else {
        return Cow::Borrowed("");
    };
    match pieces.next() {
        None => first,
        Some(second) => {
            let mut joined = first.into_owned();
            joined.push_str(&second);
            pieces.for_each(|piece| joined.push_str(&piece));
            Cow::Owned(joined)
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

impl From<Vec<ContentPart>> for MessageContent {
    fn from(parts: Vec<ContentPart>) -> Self {
        Self::Parts(parts)
    }
}

impl<'de> Deserialize<'de> for MessageContent {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserialize_text_or_list(
            deserializer,
            "a string or an array of content parts",
            Self::Text,
            Self::Parts,
        )
    }
}

/// One part of a content array, tagged by `type`.
///
/// Unknown part types are kept whole in [`Other`](Self::Other) and written back as they came.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum ContentPart {
    /// `{"type":"text","text":...}`.
    Text {
        /// The text.
        text: String,
    },
    /// `{"type":"image_url","image_url":{"url":...,"detail"?:...}}`.
    ImageUrl {
        /// The image: an `https:` or `data:` URL.
        image_url: ImageUrl,
    },
    /// `{"type":"refusal","refusal":...}`: the model declined (OpenAI).
    Refusal {
        /// Why, for people.
        refusal: String,
    },
    /// `{"type":"thinking","thinking":...}`: reasoning, as Mistral's reasoning models (nested
    /// text parts) or Anthropic-style servers (a string, with a `signature`) send it.
    Thinking(ThinkingPart),
    /// `{"type":"reasoning","text":...}`: reasoning in a flat text part.
    Reasoning(ReasoningPart),
    /// A part type this crate does not know (e.g. `input_audio`): the whole object.
    Other(Map<String, Value>),
}

/// The body of a [`ContentPart::Thinking`] part.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ThinkingPart {
    /// The reasoning: a string, or parts (Mistral: `[{"type":"text","text":...}]`).
    #[serde(default, deserialize_with = "null_as_default")]
    pub thinking: MessageContent,
    /// Other fields (Mistral's `closed`, Anthropic's `signature`), kept so they round-trip.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The body of a [`ContentPart::Reasoning`] part.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ReasoningPart {
    /// The reasoning text.
    #[serde(default, deserialize_with = "null_as_default")]
    pub text: String,
    /// Other fields, kept so they round-trip.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl ContentPart {
    /// A text part.
    pub fn text(text: impl Into<String>) -> Self {
        Self::Text { text: text.into() }
    }

    /// An image part from a URL (`https:` or `data:image/png;base64,...`).
    pub fn image_url(url: impl Into<String>) -> Self {
        Self::ImageUrl {
            image_url: ImageUrl {
                url: url.into(),
                detail: None,
            },
        }
    }

    /// A thinking part holding `text` (`{"type":"thinking","thinking":"..."}`).
    pub fn thinking(text: impl Into<String>) -> Self {
        Self::Thinking(ThinkingPart {
            thinking: MessageContent::Text(text.into()),
            extra: Map::new(),
        })
    }

    /// The text of a text part.
    pub fn as_text(&self) -> Option<&str> {
        match self {
            Self::Text { text } => Some(text),
            _ => None,
        }
    }

    /// The reasoning of a thinking or reasoning part (a nested thinking's text parts joined).
    pub fn as_reasoning(&self) -> Option<Cow<'_, str>> {
        match self {
            Self::Thinking(part) => Some(part.thinking.text()),
            Self::Reasoning(part) => Some(Cow::Borrowed(&part.text)),
            _ => None,
        }
    }

    /// The text of a refusal part.
    pub fn as_refusal(&self) -> Option<&str> {
        match self {
            Self::Refusal { refusal } => Some(refusal),
            _ => None,
        }
    }

    /// The `type` tag.
    pub fn kind(&self) -> &str {
        match self {
            Self::Text { .. } => "text",
            Self::ImageUrl { .. } => "image_url",
            Self::Refusal { .. } => "refusal",
            Self::Thinking(_) => "thinking",
            Self::Reasoning(_) => "reasoning",
            Self::Other(map) => map.get("type").and_then(Value::as_str).unwrap_or(""),
        }
    }
}

/// The image of an `image_url` part.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ImageUrl {
    /// An `https:` or `data:` URL.
    #[serde(deserialize_with = "null_as_default")]
    pub url: String,
    /// `auto`, `low` or `high`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

#[derive(Serialize)]
struct TextBody<T> {
    text: T,
}

#[derive(Deserialize)]
struct TextFields {
    #[serde(deserialize_with = "null_as_default")]
    text: String,
}

#[derive(Serialize)]
struct RefusalBody<T> {
    refusal: T,
}

#[derive(Deserialize)]
struct RefusalFields {
    #[serde(default, deserialize_with = "null_as_default")]
    refusal: String,
}

#[derive(Serialize)]
struct ImageBody<T> {
    image_url: T,
}

impl Serialize for ContentPart {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Text { text } => Tagged {
                tag: "text",
                body: &TextBody { text },
            }
            .serialize(serializer),
            Self::ImageUrl { image_url } => Tagged {
                tag: "image_url",
                body: &ImageBody { image_url },
            }
            .serialize(serializer),
            Self::Refusal { refusal } => Tagged {
                tag: "refusal",
                body: &RefusalBody { refusal },
            }
            .serialize(serializer),
            Self::Thinking(body) => Tagged {
                tag: "thinking",
                body,
            }
            .serialize(serializer),
            Self::Reasoning(body) => Tagged {
                tag: "reasoning",
                body,
            }
            .serialize(serializer),
            Self::Other(map) => map.serialize(serializer),
        }
    }
}

impl<'de> Deserialize<'de> for ContentPart {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let mut map = Map::<String, Value>::deserialize(deserializer)?;
        let Some(tag) = tag_of(&map).filter(|tag| KNOWN_PARTS.contains(&tag.as_str())) else {
            return Ok(Self::Other(map));
        };
        map.remove("type");
        match tag.as_str() {
            "text" => {
                let body: TextFields = from_fields(map)?;
                Ok(Self::Text { text: body.text })
            }
            "image_url" => {
                // Some clients send `image_url` as a bare string.
                let image_url = match map.remove("image_url") {
                    Some(Value::String(url)) => ImageUrl { url, detail: None },
                    Some(Value::Null) => ImageUrl::default(),
                    Some(value) => serde_json::from_value(value).map_err(D::Error::custom)?,
                    None => return Err(D::Error::missing_field("image_url")),
                };
                Ok(Self::ImageUrl { image_url })
            }
            "refusal" => {
                let body: RefusalFields = from_fields(map)?;
                Ok(Self::Refusal {
                    refusal: body.refusal,
                })
            }
            "thinking" => from_fields(map).map(Self::Thinking),
            _ => from_fields(map).map(Self::Reasoning),
        }
    }
}

/// The part types with a variant of their own.
const KNOWN_PARTS: [&str; 5] = ["text", "image_url", "refusal", "thinking", "reasoning"];

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn constructors_serialize_minimally() {
        let tool = ChatMessage::tool("42", "sunny");
        assert_eq!(
            serde_json::to_value(&tool).unwrap(),
            json!({"role":"tool","content":"sunny","tool_call_id":"42"})
        );
        assert_eq!(
            serde_json::to_value(ChatMessage::developer("be brief")).unwrap(),
            json!({"role":"developer","content":"be brief"})
        );
    }

    #[test]
    fn image_parts_round_trip() {
        let message = ChatMessage::user(vec![
            ContentPart::text("what is "),
            ContentPart::image_url("data:image/png;base64,AAAA"),
            ContentPart::text("this?"),
        ]);
        let value = serde_json::to_value(&message).unwrap();
        assert_eq!(
            value,
            json!({"role":"user","content":[
                {"type":"text","text":"what is "},
                {"type":"image_url","image_url":{"url":"data:image/png;base64,AAAA"}},
                {"type":"text","text":"this?"}]})
        );
        let again: ChatMessage = serde_json::from_value(value).unwrap();
        assert_eq!(again, message);
        assert_eq!(again.text(), "what is this?");
    }

    #[test]
    fn unknown_part_and_string_image_url() {
        let content: MessageContent = serde_json::from_value(json!([
            {"type":"input_audio","input_audio":{"data":"x","format":"wav"}},
            {"type":"image_url","image_url":"https://x/y.png"}
        ]))
        .unwrap();
        let MessageContent::Parts(parts) = &content else {
            panic!("expected parts")
        };
        assert_eq!(parts[0].kind(), "input_audio");
        assert_eq!(parts[1], ContentPart::image_url("https://x/y.png"));
        let again: MessageContent =
            serde_json::from_str(&serde_json::to_string(&content).unwrap()).unwrap();
        assert_eq!(again, content);
    }
}
