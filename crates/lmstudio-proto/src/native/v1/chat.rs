//! `POST /api/v1/chat`: LM Studio's stateful chat (MCP/plugin tools, no custom tools).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::nullable::null_as_default;

use super::models::ReasoningSetting;

open_enum! {
    /// The kind of an input item (`type`).
    pub enum InputItemType {
        /// A text message (`"message"`).
        Message = "message",
        /// A text part (`"text"`; the docs' image example uses this for its text).
        Text = "text",
        /// An image as a data URL (`"image"`).
        Image = "image",
    }
}

open_enum! {
    /// The kind of an integration or tool provider (`type`).
    pub enum IntegrationType {
        /// An installed plugin (`"plugin"`).
        Plugin = "plugin",
        /// An MCP server given in the request (`"ephemeral_mcp"`).
        EphemeralMcp = "ephemeral_mcp",
    }
}

/// `POST /api/v1/chat`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ChatRequest {
    /// The model key or instance id (loaded just in time when needed).
    pub model: String,
    /// The user's input: text, or items (text and images).
    pub input: ChatInput,
    /// A system prompt.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system_prompt: Option<String>,
    /// Plugins and MCP servers the model may call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub integrations: Option<Vec<Integration>>,
    /// Stream named events ([`ChatStreamEvent`](super::ChatStreamEvent)).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream: Option<bool>,
    /// Sampling temperature.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f64>,
    /// Nucleus sampling.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_p: Option<f64>,
    /// Top-k sampling.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_k: Option<u64>,
    /// Min-p sampling.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_p: Option<f64>,
    /// Repetition penalty.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repeat_penalty: Option<f64>,
    /// Output token limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_output_tokens: Option<u64>,
    /// Reasoning setting (errors if the model does not support it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasoning: Option<ReasoningSetting>,
    /// Context length to load with, when this request loads the model.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context_length: Option<u64>,
    /// Whether the server keeps the conversation (default true).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub store: Option<bool>,
    /// Continue a stored conversation (`resp_...`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_response_id: Option<String>,
    /// Other fields to send.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl ChatRequest {
    /// A request sending `input` to `model`.
    pub fn new(model: impl Into<String>, input: impl Into<ChatInput>) -> Self {
        Self {
            model: model.into(),
            input: input.into(),
            ..Self::default()
        }
    }
}

/// The chat input: a string or a list of items.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
#[non_exhaustive]
pub enum ChatInput {
    /// Plain text.
    Text(String),
    /// Text and image items.
    Items(Vec<InputItem>),
}

impl Default for ChatInput {
    fn default() -> Self {
        Self::Text(String::new())
    }
}

impl From<&str> for ChatInput {
    fn from(text: &str) -> Self {
        Self::Text(text.to_owned())
    }
}

impl From<String> for ChatInput {
    fn from(text: String) -> Self {
        Self::Text(text)
    }
}

impl From<Vec<InputItem>> for ChatInput {
    fn from(items: Vec<InputItem>) -> Self {
        Self::Items(items)
    }
}

/// One input item: `{"type":"message","content":...}` or `{"type":"image","data_url":...}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct InputItem {
    /// `message`, `text` or `image`.
    #[serde(rename = "type")]
    pub kind: InputItemType,
    /// The text (message and text items).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,
    /// The image as a `data:` URL (image items).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_url: Option<String>,
    /// Other fields.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl InputItem {
    /// A text message item.
    pub fn message(content: impl Into<String>) -> Self {
        Self {
            kind: InputItemType::Message,
            content: Some(content.into()),
            data_url: None,
            extra: Map::new(),
        }
    }

    /// An image item from a `data:` URL.
    pub fn image(data_url: impl Into<String>) -> Self {
        Self {
            kind: InputItemType::Image,
            content: None,
            data_url: Some(data_url.into()),
            extra: Map::new(),
        }
    }
}

/// An integration: a plugin id, or an object describing a plugin or an MCP server.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
#[non_exhaustive]
pub enum Integration {
    /// A plugin id, e.g. `mcp/playwright`.
    Plugin(String),
    /// `{"type":"plugin",...}` or `{"type":"ephemeral_mcp",...}`.
    Spec(IntegrationSpec),
}

/// An integration object.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct IntegrationSpec {
    /// `plugin` or `ephemeral_mcp`.
    #[serde(rename = "type")]
    pub kind: IntegrationType,
    /// The plugin id (plugins).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The server's label (MCP).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_label: Option<String>,
    /// The server's URL (MCP).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_url: Option<String>,
    /// The tools the model may call; all when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed_tools: Option<Vec<String>>,
    /// HTTP headers for the MCP server.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub headers: Option<Map<String, Value>>,
    /// Other fields.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The answer to a chat (also the `result` of the stream's `chat.end` event).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ChatResponse {
    /// The instance that answered.
    #[serde(default, deserialize_with = "null_as_default")]
    pub model_instance_id: String,
    /// What the model produced, in order.
    #[serde(default, deserialize_with = "null_as_default")]
    pub output: Vec<OutputItem>,
    /// Token counts and timings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stats: Option<ChatStats>,
    /// The id to continue this conversation with (`previous_response_id`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_id: Option<String>,
    /// Fields this crate does not model.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl ChatResponse {
    /// The message items' text, concatenated (reasoning and tool calls left out).
    pub fn text(&self) -> String {
        self.output
            .iter()
            .filter_map(|item| match item {
                OutputItem::Message(message) => Some(message.content.as_str()),
                _ => None,
            })
            .collect()
    }
}

tagged_enum! {
    /// One output item, tagged by `type`.
    pub enum OutputItem {
        /// Text for the user (`"message"`).
        Message(TextContent) = "message",
        /// Reasoning text (`"reasoning"`).
        Reasoning(TextContent) = "reasoning",
        /// A tool the model called, with its output (`"tool_call"`).
        ToolCall(ToolCallInfo) = "tool_call",
        /// A tool call that could not run (`"invalid_tool_call"`).
        InvalidToolCall(ToolCallFailure) = "invalid_tool_call",
    }
}

/// A text payload: `{"content": "..."}`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct TextContent {
    /// The text.
    #[serde(default, deserialize_with = "null_as_default")]
    pub content: String,
    /// Fields this crate does not model.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A tool call (output item, and the `tool_call.start|arguments|success` events).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ToolCallInfo {
    /// The tool's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool: Option<String>,
    /// The arguments (a JSON object).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arguments: Option<Value>,
    /// What the tool returned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output: Option<String>,
    /// Which plugin or MCP server ran the tool.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider_info: Option<ProviderInfo>,
    /// Fields this crate does not model.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A failed tool call (`invalid_tool_call` item, `tool_call.failure` event).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ToolCallFailure {
    /// Why it failed, for people.
    #[serde(default, deserialize_with = "null_as_default")]
    pub reason: String,
    /// Details, e.g. `{"type":"invalid_name","tool_name":"open_browser"}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Value>,
    /// Fields this crate does not model.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Which integration provided a tool.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ProviderInfo {
    /// `plugin` or `ephemeral_mcp`.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<IntegrationType>,
    /// The MCP server's label.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_label: Option<String>,
    /// The plugin's id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plugin_id: Option<String>,
    /// Fields this crate does not model.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Token counts and timings of a chat.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ChatStats {
    /// Prompt tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_tokens: Option<u64>,
    /// All output tokens, reasoning included.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_output_tokens: Option<u64>,
    /// Reasoning tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasoning_output_tokens: Option<u64>,
    /// Generation speed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tokens_per_second: Option<f64>,
    /// Seconds until the first token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_to_first_token_seconds: Option<f64>,
    /// Seconds spent loading the model (only when this request loaded it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_load_time_seconds: Option<f64>,
    /// Fields this crate does not model.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minimal_request() {
        let request = ChatRequest::new("m", "hi");
        assert_eq!(
            serde_json::to_string(&request).unwrap(),
            r#"{"model":"m","input":"hi"}"#
        );
        let request = ChatRequest::new(
            "m",
            vec![InputItem::message("hi"), InputItem::image("data:x")],
        );
        assert_eq!(
            serde_json::to_string(&request).unwrap(),
            r#"{"model":"m","input":[{"type":"message","content":"hi"},{"type":"image","data_url":"data:x"}]}"#
        );
    }

    #[test]
    fn unknown_output_item_round_trips() {
        let body = r#"{"model_instance_id":"m","output":[{"type":"message","content":"a"},
            {"type":"hologram","beam":1},{"type":"message","content":"b"}]}"#;
        let response: ChatResponse = serde_json::from_str(body).unwrap();
        assert_eq!(response.text(), "ab");
        assert_eq!(response.output[1].kind(), "hologram");
        let again: ChatResponse =
            serde_json::from_str(&serde_json::to_string(&response).unwrap()).unwrap();
        assert_eq!(again, response);
    }
}
