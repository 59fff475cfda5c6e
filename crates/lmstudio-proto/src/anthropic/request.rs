//! `POST /v1/messages`: the request, its messages, tools, tool choice and thinking budget.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

use super::content::{CacheControl, MessageContent};
use super::response::MessagesResponse;
use crate::nullable::null_as_default;
use crate::tagged::{from_fields, tag_of};

/// `POST /v1/messages`. Unset fields are not sent.
///
/// Anthropic's API requires `max_tokens`; LM Studio and llama.cpp do not, so it is optional
/// here (set it: the default may be unlimited).
///
/// ```
/// use lmstudio_proto::anthropic::{InputMessage, MessagesRequest};
///
/// let request = MessagesRequest::new("qwen/qwen3-4b", vec![InputMessage::user("hi")])
///     .with_max_tokens(256)
///     .with_system("Be brief.");
/// assert_eq!(
///     serde_json::to_string(&request).unwrap(),
///     r#"{"model":"qwen/qwen3-4b","messages":[{"role":"user","content":"hi"}],"system":"Be brief.","max_tokens":256}"#
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct MessagesRequest {
    /// The model key.
    pub model: String,
    /// The conversation so far: alternating `user` and `assistant` turns.
    pub messages: Vec<InputMessage>,
    /// The system prompt: a string or text blocks (with `cache_control`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system: Option<MessageContent>,
    /// Output token limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<u64>,
    /// Texts that end generation (`stop_reason: stop_sequence`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop_sequences: Option<Vec<String>>,
    /// Sampling temperature, `0.0..=1.0`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f64>,
    /// Nucleus sampling.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_p: Option<f64>,
    /// Top-k sampling.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_k: Option<u64>,
    /// Tools the model may call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tools: Option<Vec<Tool>>,
    /// Whether and which tool to call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_choice: Option<ToolChoice>,
    /// Extended thinking: on with a token budget, or off.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thinking: Option<ThinkingConfig>,
    /// Request metadata (`user_id`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Metadata>,
    /// Stream [`StreamEvent`](super::StreamEvent)s over SSE.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream: Option<bool>,
    /// Other fields to send.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl MessagesRequest {
    /// A request sending `messages` to `model`, everything else unset.
    pub fn new(model: impl Into<String>, messages: Vec<InputMessage>) -> Self {
        Self {
            model: model.into(),
            messages,
            ..Self::default()
        }
    }

    /// Sets `max_tokens`.
    pub fn with_max_tokens(mut self, max_tokens: u64) -> Self {
        self.max_tokens = Some(max_tokens);
        self
    }

    /// Sets `system`.
    pub fn with_system(mut self, system: impl Into<MessageContent>) -> Self {
        self.system = Some(system.into());
        self
    }

    /// Sets `temperature`.
    pub fn with_temperature(mut self, temperature: f64) -> Self {
        self.temperature = Some(temperature);
        self
    }

    /// Sets `stop_sequences`.
    pub fn with_stop_sequences(mut self, stop_sequences: Vec<String>) -> Self {
        self.stop_sequences = Some(stop_sequences);
        self
    }

    /// Sets `tools`.
    pub fn with_tools(mut self, tools: Vec<Tool>) -> Self {
        self.tools = Some(tools);
        self
    }

    /// Sets `tool_choice`.
    pub fn with_tool_choice(mut self, tool_choice: ToolChoice) -> Self {
        self.tool_choice = Some(tool_choice);
        self
    }

    /// Turns extended thinking on with `budget_tokens` (Anthropic's minimum is 1024).
    pub fn with_thinking_budget(mut self, budget_tokens: u64) -> Self {
        self.thinking = Some(ThinkingConfig::enabled(budget_tokens));
        self
    }

    /// Sets `stream`.
    pub fn with_stream(mut self, stream: bool) -> Self {
        self.stream = Some(stream);
        self
    }
}

open_enum! {
    /// Who wrote a message (`role`).
    pub enum Role {
        /// The user, and tool results (`"user"`).
        User = "user",
        /// The model (`"assistant"`).
        Assistant = "assistant",
        /// System instructions given mid-conversation (`"system"`, a later addition to
        /// Anthropic's API; the opening instructions go in the request's `system`).
        System = "system",
    }
}

/// One message of a request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct InputMessage {
    /// Who wrote it.
    pub role: Role,
    /// A string or blocks (tool results go in a `user` message's blocks).
    pub content: MessageContent,
    /// Other fields to send.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl InputMessage {
    /// A message with `role` and `content`.
    pub fn new(role: Role, content: impl Into<MessageContent>) -> Self {
        Self {
            role,
            content: content.into(),
            extra: Map::new(),
        }
    }

    /// A `user` message: text, or blocks (images, tool results).
    pub fn user(content: impl Into<MessageContent>) -> Self {
        Self::new(Role::User, content)
    }

    /// An `assistant` message (a previous answer, or a prefill).
    pub fn assistant(content: impl Into<MessageContent>) -> Self {
        Self::new(Role::Assistant, content)
    }
}

impl From<MessagesResponse> for InputMessage {
    /// The answer as the next `assistant` turn of the history, blocks as they came (thinking
    /// blocks and their signatures included, as the API wants them back with tool results).
    fn from(message: MessagesResponse) -> Self {
        Self::new(message.role, MessageContent::Blocks(message.content))
    }
}

/// A tool the model may use: a client tool with a JSON Schema, or a server tool (`web_search`,
/// `code_execution`, ...) kept as it came.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Tool {
    /// A tool the client runs: `{"name":...,"input_schema":{...}}`, `type` absent or
    /// `custom`.
    Custom(CustomTool),
    /// A tool of another `type` (server tools such as `web_search_20250305`): the whole object.
    Other(Map<String, Value>),
}

impl Tool {
    /// A client tool; `input_schema` is a JSON Schema object.
    pub fn custom(
        name: impl Into<String>,
        description: impl Into<String>,
        input_schema: Value,
    ) -> Self {
        Self::Custom(CustomTool {
            kind: None,
            name: name.into(),
            description: Some(description.into()),
            input_schema,
            cache_control: None,
            extra: Map::new(),
        })
    }

    /// The tool's name.
    pub fn name(&self) -> &str {
        match self {
            Self::Custom(tool) => &tool.name,
            Self::Other(map) => map.get("name").and_then(Value::as_str).unwrap_or(""),
        }
    }
}

impl Serialize for Tool {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Custom(tool) => tool.serialize(serializer),
            Self::Other(map) => map.serialize(serializer),
        }
    }
}

impl<'de> Deserialize<'de> for Tool {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let map = Map::<String, Value>::deserialize(deserializer)?;
        match tag_of(&map).as_deref() {
            None | Some("custom") => from_fields(map).map(Self::Custom),
            Some(_) => Ok(Self::Other(map)),
        }
    }
}

/// A client tool's definition.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CustomTool {
    /// `custom`, when the sender wrote it (usually left out).
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// The name the model calls it by.
    pub name: String,
    /// What it does, for the model.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// A JSON Schema object describing `input`.
    pub input_schema: Value,
    /// A cache breakpoint after this tool.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_control: Option<CacheControl>,
    /// Other fields to send (`strict`, `input_examples`, ...).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

tagged_enum! {
    /// Whether and which tool the model calls (`tool_choice`), tagged by `type`.
    #[non_exhaustive]
    pub enum ToolChoice {
        /// The model decides (`"auto"`).
        Auto(ToolChoiceOptions) = "auto",
        /// The model calls at least one tool (`"any"`).
        Any(ToolChoiceOptions) = "any",
        /// The model calls this tool (`"tool"`).
        Tool(NamedToolChoice) = "tool",
        /// The model calls no tool (`"none"`).
        None(ToolChoiceOptions) = "none",
    }
}

impl ToolChoice {
    /// `{"type":"auto"}`.
    pub fn auto() -> Self {
        Self::Auto(ToolChoiceOptions::default())
    }

    /// `{"type":"any"}`.
    pub fn any() -> Self {
        Self::Any(ToolChoiceOptions::default())
    }

    /// `{"type":"tool","name":...}`.
    pub fn tool(name: impl Into<String>) -> Self {
        Self::Tool(NamedToolChoice {
            name: name.into(),
            ..NamedToolChoice::default()
        })
    }

    /// `{"type":"none"}`.
    pub fn none() -> Self {
        Self::None(ToolChoiceOptions::default())
    }
}

/// The fields of `auto`, `any` and `none` tool choices.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ToolChoiceOptions {
    /// At most one tool call per answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disable_parallel_tool_use: Option<bool>,
    /// Other fields to send.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `{"type":"tool","name":...}`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct NamedToolChoice {
    /// The tool to call.
    #[serde(default, deserialize_with = "null_as_default")]
    pub name: String,
    /// At most one tool call per answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disable_parallel_tool_use: Option<bool>,
    /// Other fields to send.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

tagged_enum! {
    /// Extended thinking (`thinking`), tagged by `type` (`adaptive` and newer modes are kept in
    /// [`Other`](Self::Other)).
    #[non_exhaustive]
    pub enum ThinkingConfig {
        /// Thinking on, within a token budget (`"enabled"`).
        Enabled(ThinkingEnabled) = "enabled",
        /// Thinking off (`"disabled"`).
        Disabled(ThinkingDisabled) = "disabled",
    }
}

impl ThinkingConfig {
    /// `{"type":"enabled","budget_tokens":...}`.
    pub fn enabled(budget_tokens: u64) -> Self {
        Self::Enabled(ThinkingEnabled {
            budget_tokens,
            extra: Map::new(),
        })
    }

    /// `{"type":"disabled"}`.
    pub fn disabled() -> Self {
        Self::Disabled(ThinkingDisabled::default())
    }
}

/// `{"type":"enabled","budget_tokens":...}`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ThinkingEnabled {
    /// Tokens the model may spend thinking (counted in `max_tokens`).
    #[serde(default, deserialize_with = "null_as_default")]
    pub budget_tokens: u64,
    /// Other fields to send (`display`, ...).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `{"type":"disabled"}`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ThinkingDisabled {
    /// Other fields to send.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Request `metadata`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Metadata {
    /// An opaque id of the end user.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    /// Other fields to send.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}
