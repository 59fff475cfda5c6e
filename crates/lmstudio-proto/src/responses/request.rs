//! `POST /v1/responses`: the request, with its reasoning and text-format settings.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::items::Item;
use super::tools::{ResponsesTool, ResponsesToolChoice};
use crate::openai::JsonSchemaFormat;

/// `POST /v1/responses`. Unset fields are not sent.
///
/// ```
/// use lmstudio_proto::responses::{ReasoningEffort, ResponsesRequest};
///
/// let request = ResponsesRequest::new("openai/gpt-oss-20b", "Provide a prime number less than 50")
///     .with_reasoning_effort(ReasoningEffort::Low);
/// assert_eq!(
///     serde_json::to_string(&request).unwrap(),
///     r#"{"model":"openai/gpt-oss-20b","input":"Provide a prime number less than 50","reasoning":{"effort":"low"}}"#
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ResponsesRequest {
    /// The model key or instance id.
    #[serde(default)]
    pub model: String,
    /// The input: text, or items (messages, function call outputs, earlier output items).
    #[serde(default)]
    pub input: ResponsesInput,
    /// A system (developer) message put before the input.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instructions: Option<String>,
    /// Tools the model may use.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tools: Option<Vec<ResponsesTool>>,
    /// Whether and which tool to use.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_choice: Option<ResponsesToolChoice>,
    /// Allow several tool calls in one answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parallel_tool_calls: Option<bool>,
    /// Reasoning effort and summaries.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasoning: Option<ReasoningConfig>,
    /// The output's format (plain text or a JSON schema) and verbosity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<TextConfig>,
    /// Continue from a stored response (`resp_...`): the server keeps the conversation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_response_id: Option<String>,
    /// Whether the server stores the response (for `previous_response_id`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub store: Option<bool>,
    /// Output token limit (reasoning included).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_output_tokens: Option<u64>,
    /// Sampling temperature.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f64>,
    /// Nucleus sampling.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_p: Option<f64>,
    /// Stream named events ([`ResponseStreamEvent`](super::ResponseStreamEvent)) over SSE.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream: Option<bool>,
    /// Free-form key-value pairs stored with the response.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Map<String, Value>>,
    /// Other fields to send (e.g. `include`, `truncation`, LM Studio's `ttl`).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl ResponsesRequest {
    /// A request sending `input` to `model`, everything else unset.
    pub fn new(model: impl Into<String>, input: impl Into<ResponsesInput>) -> Self {
        Self {
            model: model.into(),
            input: input.into(),
            ..Self::default()
        }
    }

    /// Sets `instructions`.
    pub fn with_instructions(mut self, instructions: impl Into<String>) -> Self {
        self.instructions = Some(instructions.into());
        self
    }

    /// Sets `tools`.
    pub fn with_tools(mut self, tools: Vec<ResponsesTool>) -> Self {
        self.tools = Some(tools);
        self
    }

    /// Sets `tool_choice`.
    pub fn with_tool_choice(mut self, choice: ResponsesToolChoice) -> Self {
        self.tool_choice = Some(choice);
        self
    }

    /// Sets `max_output_tokens`.
    pub fn with_max_output_tokens(mut self, tokens: u64) -> Self {
        self.max_output_tokens = Some(tokens);
        self
    }

    /// Sets `temperature`.
    pub fn with_temperature(mut self, temperature: f64) -> Self {
        self.temperature = Some(temperature);
        self
    }

    /// Sets `reasoning.effort`.
    pub fn with_reasoning_effort(mut self, effort: ReasoningEffort) -> Self {
        self.reasoning
            .get_or_insert_with(ReasoningConfig::default)
            .effort = Some(effort);
        self
    }

    /// Sets `text.format`.
    pub fn with_text_format(mut self, format: TextFormat) -> Self {
        self.text.get_or_insert_with(TextConfig::default).format = Some(format);
        self
    }

    /// Sets `previous_response_id`.
    pub fn with_previous_response_id(mut self, id: impl Into<String>) -> Self {
        self.previous_response_id = Some(id.into());
        self
    }

    /// Sets `stream: true`.
    pub fn streaming(mut self) -> Self {
        self.stream = Some(true);
        self
    }
}

/// `input`: a string, or a list of items.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
#[non_exhaustive]
pub enum ResponsesInput {
    /// Plain text (one user message).
    Text(String),
    /// Messages, function call outputs, earlier output items.
    Items(Vec<Item>),
}

impl Default for ResponsesInput {
    fn default() -> Self {
        Self::Text(String::new())
    }
}

impl From<&str> for ResponsesInput {
    fn from(text: &str) -> Self {
        Self::Text(text.to_owned())
    }
}

impl From<String> for ResponsesInput {
    fn from(text: String) -> Self {
        Self::Text(text)
    }
}

impl From<Vec<Item>> for ResponsesInput {
    fn from(items: Vec<Item>) -> Self {
        Self::Items(items)
    }
}

open_enum! {
    /// How hard a reasoning model thinks (`reasoning.effort`).
    pub enum ReasoningEffort {
        /// No reasoning (`"none"`).
        None = "none",
        /// `"minimal"`.
        Minimal = "minimal",
        /// `"low"`.
        Low = "low",
        /// `"medium"`.
        Medium = "medium",
        /// `"high"`.
        High = "high",
        /// `"xhigh"`.
        XHigh = "xhigh",
    }
}

open_enum! {
    /// Whether and how the reasoning is summarised (`reasoning.summary`; OpenAI).
    pub enum ReasoningSummary {
        /// `"auto"`.
        Auto = "auto",
        /// `"concise"`.
        Concise = "concise",
        /// `"detailed"`.
        Detailed = "detailed",
    }
}

/// `reasoning`: effort and summary.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ReasoningConfig {
    /// How hard to think.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub effort: Option<ReasoningEffort>,
    /// Summaries of the reasoning.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<ReasoningSummary>,
    /// Other fields to send.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `text`: the output format and verbosity.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct TextConfig {
    /// Plain text, or structured output.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<TextFormat>,
    /// `low`, `medium` or `high` (OpenAI).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verbosity: Option<String>,
    /// Other fields to send.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl TextConfig {
    /// `{"format":{"type":"text"}}`.
    pub fn text() -> Self {
        Self {
            format: Some(TextFormat::text()),
            ..Self::default()
        }
    }
}

/// The body of a format without fields of its own (`text`, `json_object`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct PlainFormat {
    /// Fields this crate does not model.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

tagged_enum! {
    /// `text.format`, tagged by `type`.
    #[non_exhaustive]
    pub enum TextFormat {
        /// `{"type":"text"}`.
        Text(PlainFormat) = "text",
        /// `{"type":"json_schema","name":...,"schema":{...},"strict"?:...}` (flat, unlike chat
        /// completions' `response_format`).
        JsonSchema(JsonSchemaFormat) = "json_schema",
        /// `{"type":"json_object"}`.
        JsonObject(PlainFormat) = "json_object",
    }
}

impl TextFormat {
    /// `{"type":"text"}`.
    pub fn text() -> Self {
        Self::Text(PlainFormat::default())
    }

    /// A `json_schema` format named `name` with `schema`.
    pub fn json_schema(name: impl Into<String>, schema: Value) -> Self {
        Self::JsonSchema(JsonSchemaFormat {
            name: name.into(),
            schema: Some(schema),
            ..JsonSchemaFormat::default()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn text_formats_round_trip() {
        for wire in [
            json!({"type":"text"}),
            json!({"type":"json_object"}),
            json!({"type":"json_schema","name":"obj","schema":{"type":"object"},"strict":true}),
            json!({"type":"grammar","grammar":"root ::= \"x\""}),
        ] {
            let format: TextFormat = serde_json::from_value(wire.clone()).unwrap();
            assert_eq!(serde_json::to_value(&format).unwrap(), wire);
        }
        assert_eq!(
            serde_json::to_value(TextFormat::json_schema("n", json!({"type":"object"}))).unwrap(),
            json!({"type":"json_schema","name":"n","schema":{"type":"object"}})
        );
        assert_eq!(
            serde_json::to_value(TextConfig::text()).unwrap(),
            json!({"format":{"type":"text"}})
        );
    }

    #[test]
    fn input_is_text_or_items() {
        let text: ResponsesInput = serde_json::from_value(json!("hi")).unwrap();
        assert_eq!(text, ResponsesInput::from("hi"));
        let items: ResponsesInput =
            serde_json::from_value(json!([{"role":"user","content":"hi"}])).unwrap();
        assert_eq!(items, ResponsesInput::Items(vec![Item::user("hi")]));
    }
}
