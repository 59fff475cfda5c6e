//! Chat messages: roles, text or content-part arrays (text and images).

use std::borrow::Cow;

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

use super::response::AssistantMessage;
use super::tools::ToolCall;
use crate::tagged::{Tagged, from_fields, tag_of};

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
    /// The answer as a message to append to the history (reasoning is left out).
    fn from(message: AssistantMessage) -> Self {
        Self {
            role: message.role,
            content: message.content.map(MessageContent::Text),
            name: None,
            tool_calls: (!message.tool_calls.is_empty()).then_some(message.tool_calls),
            tool_call_id: None,
            extra: Map::new(),
        }
    }
}

/// A message's content: a string, or an array of parts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum MessageContent {
    /// Plain text.
    Text(String),
    /// Text and image parts.
    Parts(Vec<ContentPart>),
}

impl MessageContent {
    /// The text: the string itself, or the text parts joined (images left out).
    pub fn text(&self) -> Cow<'_, str> {
        match self {
            Self::Text(text) => Cow::Borrowed(text),
            Self::Parts(parts) => {
                let mut texts = parts.iter().filter_map(ContentPart::as_text);
                match (texts.next(), texts.next()) {
                    (None, _) => Cow::Borrowed(""),
                    (Some(only), None) => Cow::Borrowed(only),
                    (Some(first), Some(second)) => {
                        let mut joined = format!("{first}{second}");
                        texts.for_each(|t| joined.push_str(t));
                        Cow::Owned(joined)
                    }
                }
            }
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

/// One part of a content array, tagged by `type`.
#[derive(Debug, Clone, PartialEq)]
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
    /// A part type this crate does not know (e.g. `input_audio`): the whole object.
    Other(Map<String, Value>),
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

    /// The text of a text part.
    pub fn as_text(&self) -> Option<&str> {
        match self {
            Self::Text { text } => Some(text),
            _ => None,
        }
    }

    /// The `type` tag.
    pub fn kind(&self) -> &str {
        match self {
            Self::Text { .. } => "text",
            Self::ImageUrl { .. } => "image_url",
            Self::Other(map) => map.get("type").and_then(Value::as_str).unwrap_or(""),
        }
    }
}

/// The image of an `image_url` part.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImageUrl {
    /// An `https:` or `data:` URL.
    pub url: String,
    /// `auto`, `low` or `high`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

#[derive(Serialize, Deserialize)]
struct TextBody<T> {
    text: T,
}

#[derive(Serialize, Deserialize)]
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
            Self::Other(map) => map.serialize(serializer),
        }
    }
}

impl<'de> Deserialize<'de> for ContentPart {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let mut map = Map::<String, Value>::deserialize(deserializer)?;
        match tag_of(&map).as_deref() {
            Some("text") => {
                map.remove("type");
                let body: TextBody<String> = from_fields(map)?;
                Ok(Self::Text { text: body.text })
            }
            Some("image_url") => {
                map.remove("type");
                // Some clients send `image_url` as a bare string.
                let image_url = match map.remove("image_url") {
                    Some(Value::String(url)) => ImageUrl { url, detail: None },
                    Some(value) => serde_json::from_value(value).map_err(D::Error::custom)?,
                    None => return Err(D::Error::missing_field("image_url")),
                };
                Ok(Self::ImageUrl { image_url })
            }
            _ => Ok(Self::Other(map)),
        }
    }
}

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
