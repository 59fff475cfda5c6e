//! `POST /v1/chat/completions`: the request.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

use super::message::ChatMessage;
use super::tools::{Tool, ToolChoice};
use crate::tagged::{Tagged, from_fields, tag_of};

/// `POST /v1/chat/completions`. Unset fields are not sent.
///
/// ```
/// use lmstudio_proto::openai::{ChatCompletionRequest, ChatMessage};
///
/// let request = ChatCompletionRequest::new("qwen/qwen3-4b", vec![ChatMessage::user("hi")])
///     .with_max_tokens(-1)
///     .with_temperature(0.2);
/// assert_eq!(request.max_tokens, Some(-1));
/// ```
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ChatCompletionRequest {
    /// The model key or instance id.
    pub model: String,
    /// The conversation so far.
    pub messages: Vec<ChatMessage>,
    /// Sampling temperature.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f64>,
    /// Nucleus sampling.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_p: Option<f64>,
    /// Top-k sampling (LM Studio, llama.cpp).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_k: Option<u64>,
    /// Min-p sampling (LM Studio, llama.cpp).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_p: Option<f64>,
    /// Output token limit; `-1` means no limit (LM Studio).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<i64>,
    /// Output token limit, newer OpenAI name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_completion_tokens: Option<i64>,
    /// Stream chunks ([`ChatCompletionChunk`](super::ChatCompletionChunk)) over SSE.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream: Option<bool>,
    /// Streaming options (`include_usage`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream_options: Option<StreamOptions>,
    /// Stop sequences.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop: Option<StopSequences>,
    /// Presence penalty.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub presence_penalty: Option<f64>,
    /// Frequency penalty.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub frequency_penalty: Option<f64>,
    /// Repetition penalty (LM Studio, llama.cpp).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repeat_penalty: Option<f64>,
    /// Token id (as a string) to bias.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logit_bias: Option<BTreeMap<String, f64>>,
    /// Sampling seed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<i64>,
    /// Tools the model may call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tools: Option<Vec<Tool>>,
    /// Whether and which tool to call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_choice: Option<ToolChoice>,
    /// Allow several tool calls in one answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parallel_tool_calls: Option<bool>,
    /// Structured output.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_format: Option<ResponseFormat>,
    /// Reasoning effort, e.g. `low` (accepted; honoured by some models only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasoning_effort: Option<String>,
    /// LM Studio: idle time-to-live in seconds, applied when this request JIT-loads the model.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttl: Option<u64>,
    /// LM Studio: a draft model for speculative decoding.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub draft_model: Option<String>,
    /// Other fields to send.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl ChatCompletionRequest {
    /// A request sending `messages` to `model`, everything else unset.
    pub fn new(model: impl Into<String>, messages: Vec<ChatMessage>) -> Self {
        Self {
            model: model.into(),
            messages,
            ..Self::default()
        }
    }

    /// Sets `temperature`.
    pub fn with_temperature(mut self, temperature: f64) -> Self {
        self.temperature = Some(temperature);
        self
    }

    /// Sets `max_tokens` (`-1`: no limit).
    pub fn with_max_tokens(mut self, max_tokens: i64) -> Self {
        self.max_tokens = Some(max_tokens);
        self
    }

    /// Sets `tools`.
    pub fn with_tools(mut self, tools: Vec<Tool>) -> Self {
        self.tools = Some(tools);
        self
    }

    /// Sets `tool_choice`.
    pub fn with_tool_choice(mut self, choice: ToolChoice) -> Self {
        self.tool_choice = Some(choice);
        self
    }

    /// Sets `response_format`.
    pub fn with_response_format(mut self, format: ResponseFormat) -> Self {
        self.response_format = Some(format);
        self
    }

    /// Sets `stream: true` and asks for the final usage chunk.
    pub fn streaming(mut self) -> Self {
        self.stream = Some(true);
        self.stream_options = Some(StreamOptions::with_usage());
        self
    }
}

/// `stream_options`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct StreamOptions {
    /// Send a final chunk with `usage` and `choices: []` (LM Studio 0.3.18+).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub include_usage: Option<bool>,
    /// Other fields to send.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl StreamOptions {
    /// `{"include_usage": true}`.
    pub fn with_usage() -> Self {
        Self {
            include_usage: Some(true),
            extra: Map::new(),
        }
    }
}

/// `stop`: one string or several.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
#[non_exhaustive]
pub enum StopSequences {
    /// One stop sequence.
    One(String),
    /// Several stop sequences.
    Many(Vec<String>),
}

impl From<&str> for StopSequences {
    fn from(stop: &str) -> Self {
        Self::One(stop.to_owned())
    }
}

impl From<String> for StopSequences {
    fn from(stop: String) -> Self {
        Self::One(stop)
    }
}

impl From<Vec<String>> for StopSequences {
    fn from(stops: Vec<String>) -> Self {
        Self::Many(stops)
    }
}

/// `response_format`: LM Studio accepts `text` and `json_schema` (and rejects `json_object`
/// with HTTP 400); llama.cpp also takes `json_object`.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum ResponseFormat {
    /// `{"type":"text"}`.
    Text,
    /// `{"type":"json_object"}`.
    JsonObject,
    /// `{"type":"json_schema","json_schema":{...}}`.
    JsonSchema {
        /// The schema and its name.
        json_schema: JsonSchemaFormat,
    },
    /// A format this crate does not know: the whole object.
    Other(Map<String, Value>),
}

impl ResponseFormat {
    /// A `json_schema` format named `name` with `schema`.
    pub fn json_schema(name: impl Into<String>, schema: Value) -> Self {
        Self::JsonSchema {
            json_schema: JsonSchemaFormat {
                name: name.into(),
                schema: Some(schema),
                ..JsonSchemaFormat::default()
            },
        }
    }
}

/// The `json_schema` object of a structured-output request.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct JsonSchemaFormat {
    /// A name for the schema.
    #[serde(default)]
    pub name: String,
    /// What the output is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The JSON Schema.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<Value>,
    /// Strict adherence: `true`, or the string `"true"` as LM Studio's docs send it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strict: Option<Value>,
    /// Other fields.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[derive(Serialize)]
struct Empty {}

#[derive(Serialize, Deserialize)]
struct SchemaBody<T> {
    json_schema: T,
}

impl Serialize for ResponseFormat {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Text => Tagged {
                tag: "text",
                body: &Empty {},
            }
            .serialize(serializer),
            Self::JsonObject => Tagged {
                tag: "json_object",
                body: &Empty {},
            }
            .serialize(serializer),
            Self::JsonSchema { json_schema } => Tagged {
                tag: "json_schema",
                body: &SchemaBody { json_schema },
            }
            .serialize(serializer),
            Self::Other(map) => map.serialize(serializer),
        }
    }
}

impl<'de> Deserialize<'de> for ResponseFormat {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let mut map = Map::<String, Value>::deserialize(deserializer)?;
        match tag_of(&map).as_deref() {
            Some("text") if map.len() == 1 => Ok(Self::Text),
            Some("json_object") if map.len() == 1 => Ok(Self::JsonObject),
            Some("json_schema") => {
                map.remove("type");
                let body: SchemaBody<JsonSchemaFormat> = from_fields(map)?;
                Ok(Self::JsonSchema {
                    json_schema: body.json_schema,
                })
            }
            // Unknown types, and known ones with extra fields (e.g. llama.cpp's
            // `{"type":"json_object","schema":{...}}`), are kept whole.
            _ => Ok(Self::Other(map)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn response_formats_round_trip() {
        for wire in [
            json!({"type":"text"}),
            json!({"type":"json_object"}),
            json!({"type":"json_object","schema":{"type":"object"}}),
            json!({"type":"json_schema","json_schema":{"name":"joke","strict":"true","schema":{"type":"object"}}}),
            json!({"type":"grammar","grammar":"root ::= \"x\""}),
        ] {
            let format: ResponseFormat = serde_json::from_value(wire.clone()).unwrap();
            assert_eq!(serde_json::to_value(&format).unwrap(), wire);
        }
        assert_eq!(
            serde_json::to_value(ResponseFormat::json_schema("n", json!({"type":"object"})))
                .unwrap(),
            json!({"type":"json_schema","json_schema":{"name":"n","schema":{"type":"object"}}})
        );
    }

    #[test]
    fn stop_forms() {
        let one: StopSequences = serde_json::from_value(json!("\n")).unwrap();
        assert_eq!(one, StopSequences::from("\n"));
        let many: StopSequences = serde_json::from_value(json!(["a", "b"])).unwrap();
        assert_eq!(many, StopSequences::Many(vec!["a".into(), "b".into()]));
    }
}
