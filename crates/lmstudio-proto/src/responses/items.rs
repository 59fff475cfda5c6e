//! Items: what `input` carries and what `output` returns (messages, reasoning, function calls
//! and their outputs, MCP calls). Their content parts are in `parts.rs`.
//!
//! One [`Item`] type serves both directions, as in the API: an answer's output items can be
//! sent back as the next request's input (stateless turns).

use std::borrow::Cow;

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

use super::parts::{Content, ContentPart, join};

use crate::nullable::null_as_default;
use crate::openai::Role;

open_enum! {
    /// The state of an item (`status`).
    pub enum ItemStatus {
        /// Still being generated (`"in_progress"`).
        InProgress = "in_progress",
        /// Done (`"completed"`).
        Completed = "completed",
        /// Cut short, e.g. by the token limit (`"incomplete"`).
        Incomplete = "incomplete",
    }
}

tagged_enum! {
    /// One item of `input` or `output`, tagged by `type`.
    ///
    /// A message may come without `type` (`{"role":"user","content":"hi"}`, OpenAI's short
    /// form): it reads as a [`Message`](Self::Message), and is written back with
    /// `"type":"message"` (llama.cpp refuses an assistant message without it: "Cannot
    /// determine type of 'item'"). Unknown item types (`web_search_call`, `file_search_call`,
    /// ...) are kept whole in [`Other`](Self::Other).
    #[non_exhaustive]
    pub enum Item {
        /// `{"type":"message","role":...,"content":...}`.
        Message(MessageItem) = "message",
        /// `{"type":"reasoning",...}`: LM Studio and llama.cpp put the text in `content`
        /// (`reasoning_text` parts), OpenAI in `summary` (`summary_text` parts).
        Reasoning(ReasoningItem) = "reasoning",
        /// `{"type":"function_call","call_id":...,"name":...,"arguments":...}`.
        FunctionCall(FunctionCallItem) = "function_call",
        /// `{"type":"function_call_output","call_id":...,"output":...}`: a tool's result,
        /// sent back in `input`.
        FunctionCallOutput(FunctionCallOutputItem) = "function_call_output",
        /// `{"type":"mcp_call",...}`: a remote MCP tool the server called (LM Studio's `mcp`
        /// tools, OpenAI's remote MCP).
        McpCall(McpCallItem) = "mcp_call",
    }
    untyped: "role" => "message";
}

impl Item {
    /// A message with `role` and `content` (text or parts).
    pub fn message(role: Role, content: impl Into<Content>) -> Self {
        Self::Message(MessageItem::new(role, content))
    }

    /// A `user` message.
    pub fn user(content: impl Into<Content>) -> Self {
        Self::message(Role::User, content)
    }

    /// A `system` message.
    pub fn system(content: impl Into<Content>) -> Self {
        Self::message(Role::System, content)
    }

    /// A `developer` message.
    pub fn developer(content: impl Into<Content>) -> Self {
        Self::message(Role::Developer, content)
    }

    /// An `assistant` message (a previous answer).
    pub fn assistant(content: impl Into<Content>) -> Self {
        Self::message(Role::Assistant, content)
    }

    /// The result of the call `call_id`.
    pub fn function_call_output(call_id: impl Into<String>, output: impl Into<Content>) -> Self {
        Self::FunctionCallOutput(FunctionCallOutputItem {
            call_id: call_id.into(),
            output: output.into(),
            id: None,
            status: None,
            extra: Map::new(),
        })
    }

    /// The item's `id`, when it has one.
    pub fn id(&self) -> Option<&str> {
        let id = match self {
            Self::Message(item) => item.id.as_deref(),
            Self::Reasoning(item) => Some(item.id.as_str()),
            Self::FunctionCall(item) => Some(item.id.as_str()),
            Self::FunctionCallOutput(item) => item.id.as_deref(),
            Self::McpCall(item) => Some(item.id.as_str()),
            Self::Other(map) => map.get("id").and_then(Value::as_str),
        };
        id.filter(|id| !id.is_empty())
    }
}

impl From<FunctionCallItem> for Item {
    fn from(call: FunctionCallItem) -> Self {
        Self::FunctionCall(call)
    }
}

impl From<MessageItem> for Item {
    fn from(message: MessageItem) -> Self {
        Self::Message(message)
    }
}

/// A message item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct MessageItem {
    /// The item id (`msg_...`; absent on input).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Who wrote it (`assistant` when absent or `null`).
    #[serde(default = "assistant", deserialize_with = "role_or_assistant")]
    pub role: Role,
    /// Text, or content parts (answers always use parts).
    #[serde(default, deserialize_with = "null_as_default")]
    pub content: Content,
    /// `in_progress`, `completed` or `incomplete` (output only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<ItemStatus>,
    /// Fields this crate does not model.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

fn assistant() -> Role {
    Role::Assistant
}

fn role_or_assistant<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Role, D::Error> {
    Ok(Option::<Role>::deserialize(deserializer)?.unwrap_or(Role::Assistant))
}

impl MessageItem {
    /// A message with `role` and `content`.
    pub fn new(role: Role, content: impl Into<Content>) -> Self {
        Self {
            id: None,
            role,
            content: content.into(),
            status: None,
            extra: Map::new(),
        }
    }

    /// The text: the string, or the `output_text` and `input_text` parts joined.
    pub fn text(&self) -> Cow<'_, str> {
        self.content.text()
    }

    /// The refusal parts' text joined; empty when there is none.
    pub fn refusal(&self) -> Cow<'_, str> {
        join(
            self.content
                .parts()
                .iter()
                .filter_map(ContentPart::as_refusal),
        )
    }
}

/// A `reasoning` item.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ReasoningItem {
    /// The item id (`rs_...`).
    #[serde(default, deserialize_with = "null_as_default")]
    pub id: String,
    /// Summary parts (`summary_text`; OpenAI). LM Studio and llama.cpp send `[]`.
    #[serde(default, deserialize_with = "null_as_default")]
    pub summary: Vec<ContentPart>,
    /// The reasoning itself (`reasoning_text`; LM Studio, llama.cpp).
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "null_as_default"
    )]
    pub content: Vec<ContentPart>,
    /// Encrypted reasoning to send back (OpenAI, with `include`); llama.cpp sends `""`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encrypted_content: Option<String>,
    /// `in_progress`, `completed` or `incomplete`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<ItemStatus>,
    /// Fields this crate does not model.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl ReasoningItem {
    /// The `reasoning_text` parts joined.
    pub fn text(&self) -> Cow<'_, str> {
        join(self.content.iter().filter_map(ContentPart::as_reasoning))
    }

    /// The `summary_text` parts joined.
    pub fn summary_text(&self) -> Cow<'_, str> {
        join(self.summary.iter().filter_map(ContentPart::as_summary))
    }
}

/// A `function_call` item: the model asks for a tool to run.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct FunctionCallItem {
    /// The item id (`fc_...`; empty on input items that leave it out).
    #[serde(
        default,
        skip_serializing_if = "String::is_empty",
        deserialize_with = "null_as_default"
    )]
    pub id: String,
    /// The call's id: answer it with [`Item::function_call_output`].
    #[serde(default, deserialize_with = "null_as_default")]
    pub call_id: String,
    /// The function's name.
    #[serde(default, deserialize_with = "null_as_default")]
    pub name: String,
    /// The arguments as a JSON string (an object sent instead is kept as its text).
    #[serde(default, deserialize_with = "crate::openai::string_or_json")]
    pub arguments: String,
    /// `in_progress`, `completed` or `incomplete`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<ItemStatus>,
    /// Fields this crate does not model.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl FunctionCallItem {
    /// A call of `name` with `arguments` (JSON text), answered under `call_id`.
    pub fn new(
        call_id: impl Into<String>,
        name: impl Into<String>,
        arguments: impl Into<String>,
    ) -> Self {
        Self {
            call_id: call_id.into(),
            name: name.into(),
            arguments: arguments.into(),
            ..Self::default()
        }
    }

    /// The arguments parsed as JSON (an empty string parses as `{}`).
    pub fn arguments_json(&self) -> Result<Value, serde_json::Error> {
        if self.arguments.trim().is_empty() {
            return Ok(Value::Object(Map::new()));
        }
        serde_json::from_str(&self.arguments)
    }
}

/// A `function_call_output` item: a tool's result.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct FunctionCallOutputItem {
    /// The call this answers.
    #[serde(default, deserialize_with = "null_as_default")]
    pub call_id: String,
    /// The result: text, or parts (`input_text`, `input_image`).
    #[serde(default, deserialize_with = "null_as_default")]
    pub output: Content,
    /// The item id, when the server gave one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// `in_progress`, `completed` or `incomplete`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<ItemStatus>,
    /// Fields this crate does not model.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// An `mcp_call` item: a remote MCP tool the server ran.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct McpCallItem {
    /// The item id (`mcp_...`).
    #[serde(default, deserialize_with = "null_as_default")]
    pub id: String,
    /// The MCP server's label (as in the request's `mcp` tool).
    #[serde(default, deserialize_with = "null_as_default")]
    pub server_label: String,
    /// The tool's name.
    #[serde(default, deserialize_with = "null_as_default")]
    pub name: String,
    /// The arguments as a JSON string.
    #[serde(default, deserialize_with = "crate::openai::string_or_json")]
    pub arguments: String,
    /// What the tool returned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output: Option<String>,
    /// Why the call failed (a string or an object), when it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<Value>,
    /// `in_progress`, `completed`, `incomplete`, `calling` or `failed`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// Fields this crate does not model (`approval_request_id`, ...).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_message_without_type_reads_as_a_message_and_is_written_with_it() {
        let item: Item = serde_json::from_value(json!({"role":"user","content":"hi"})).unwrap();
        assert_eq!(item, Item::user("hi"));
        assert_eq!(
            serde_json::to_value(&item).unwrap(),
            json!({"type":"message","role":"user","content":"hi"})
        );
    }

    #[test]
    fn only_a_missing_type_makes_a_message() {
        let last: Item =
            serde_json::from_str(r#"{"content":"hi","role":"user","type":"message"}"#).unwrap();
        let untyped: Item = serde_json::from_str(r#"{"content":"hi","role":"user"}"#).unwrap();
        assert_eq!(last, Item::user("hi"));
        assert_eq!(untyped, Item::user("hi"));
        for text in [
            r#"{"role":"user","type":null,"content":"hi"}"#,
            r#"{"type":3,"role":"user"}"#,
            r#"{"content":"hi"}"#,
            "{}",
        ] {
            let item: Item = serde_json::from_str(text).unwrap();
            assert!(matches!(item, Item::Other(_)), "{text}: {item:?}");
            assert_eq!(
                serde_json::to_value(&item).unwrap(),
                serde_json::from_str::<Value>(text).unwrap()
            );
        }
    }

    #[test]
    fn other_is_written_type_first_and_a_repeated_type_is_an_error() {
        let item: Item =
            serde_json::from_str(r#"{"id":"ws_1","type":"web_search_call","status":"done"}"#)
                .unwrap();
        let text = serde_json::to_string(&item).unwrap();
        assert!(text.starts_with(r#"{"type":"web_search_call","#), "{text}");
        for text in [
            r#"{"type":"message","role":"user","type":"message"}"#,
            r#"{"type":"function_call","name":"f","type":"reasoning"}"#,
            r#"{"role":"user","type":"message","type":"message"}"#,
        ] {
            let err = serde_json::from_str::<Item>(text).unwrap_err();
            assert!(err.to_string().contains("duplicate field"), "{text}: {err}");
        }
    }

    #[test]
    fn unknown_items_and_parts_are_kept() {
        let wire = json!({"type":"web_search_call","id":"ws_1","status":"completed"});
        let item: Item = serde_json::from_value(wire.clone()).unwrap();
        assert_eq!(item.kind(), "web_search_call");
        assert_eq!(item.id(), Some("ws_1"));
        assert_eq!(serde_json::to_value(&item).unwrap(), wire);
        let part: ContentPart =
            serde_json::from_value(json!({"type":"input_file","file_id":"f"})).unwrap();
        assert_eq!(part.kind(), "input_file");
    }

    #[test]
    fn function_call_arguments_parse() {
        let call = FunctionCallItem::new("c", "f", "");
        assert_eq!(call.arguments_json().unwrap(), json!({}));
        let item: Item = serde_json::from_value(
            json!({"type":"function_call","call_id":"c","name":"f","arguments":{"a":1}}),
        )
        .unwrap();
        let Item::FunctionCall(call) = item else {
            panic!("a function call")
        };
        assert_eq!(call.arguments_json().unwrap(), json!({"a":1}));
    }
}
