//! Tools a Responses request offers (function tools, remote MCP servers, the server's
//! built-in tools) and `tool_choice`.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

use crate::nullable::null_as_default;
use crate::openai::ToolChoiceMode;
use crate::tagged::{Tagged, tag_of};

tagged_enum! {
    /// A tool the model may use, tagged by `type`.
    ///
    /// LM Studio accepts `function` and `mcp` only (any other type is an HTTP 400
    /// `invalid_union_discriminator`); OpenAI also has built-in tools (`web_search`,
    /// `file_search`, ...), kept whole in [`Other`](Self::Other).
    pub enum ResponsesTool {
        /// `{"type":"function","name":...,"parameters":{...}}` (flat, unlike chat
        /// completions' `{"type":"function","function":{...}}`).
        Function(FunctionTool) = "function",
        /// `{"type":"mcp","server_label":...,"server_url":...}`: a remote MCP server the
        /// server connects to itself (LM Studio: opt-in in the developer settings).
        Mcp(McpTool) = "mcp",
    }
}

impl ResponsesTool {
    /// A function tool; `parameters` is a JSON Schema object.
    pub fn function(
        name: impl Into<String>,
        description: impl Into<String>,
        parameters: Value,
    ) -> Self {
        Self::Function(FunctionTool {
            name: name.into(),
            description: Some(description.into()),
            parameters: Some(parameters),
            strict: None,
            extra: Map::new(),
        })
    }

    /// A remote MCP server, all of whose tools may be called.
    pub fn mcp(server_label: impl Into<String>, server_url: impl Into<String>) -> Self {
        Self::Mcp(McpTool {
            server_label: server_label.into(),
            server_url: Some(server_url.into()),
            ..McpTool::default()
        })
    }

    /// The name a person knows the tool by: the function's `name`, the MCP server's
    /// `server_label`, else an unknown tool's `name` or `server_label` field.
    pub fn name(&self) -> Option<&str> {
        let name = match self {
            Self::Function(tool) => Some(tool.name.as_str()),
            Self::Mcp(tool) => Some(tool.server_label.as_str()),
            Self::Other(map) => ["name", "server_label"]
                .iter()
                .find_map(|key| map.get(*key).and_then(Value::as_str)),
        };
        name.filter(|name| !name.is_empty())
    }
}

/// A function the model may call.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct FunctionTool {
    /// The name the model calls it by.
    #[serde(default, deserialize_with = "null_as_default")]
    pub name: String,
    /// What it does, for the model.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// A JSON Schema object describing the arguments.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parameters: Option<Value>,
    /// Strict schema adherence (llama.cpp assumes `true` when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strict: Option<bool>,
    /// Other fields to send.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A remote MCP server.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct McpTool {
    /// A label for the server; calls name it.
    #[serde(default, deserialize_with = "null_as_default")]
    pub server_label: String,
    /// The server's URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_url: Option<String>,
    /// The tools that may be called: a list of names, or a filter object; all when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed_tools: Option<Value>,
    /// HTTP headers for the MCP server (e.g. an `Authorization` header).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub headers: Option<Map<String, Value>>,
    /// Which calls need approval: `"always"`, `"never"`, or a filter object.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub require_approval: Option<Value>,
    /// What the server is for, for the model.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_description: Option<String>,
    /// Other fields to send.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `tool_choice`: `"auto"`, `"none"`, `"required"`, one function, or another object.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum ResponsesToolChoice {
    /// A string mode.
    Mode(ToolChoiceMode),
    /// `{"type":"function","name":...}`: call this function.
    Function {
        /// The function's name.
        name: String,
    },
    /// Another object (`{"type":"mcp",...}`, `{"type":"allowed_tools",...}`, a built-in
    /// tool): kept whole.
    Other(Map<String, Value>),
}

impl ResponsesToolChoice {
    /// `"auto"`.
    pub fn auto() -> Self {
        Self::Mode(ToolChoiceMode::Auto)
    }

    /// `"none"`.
    pub fn none() -> Self {
        Self::Mode(ToolChoiceMode::None)
    }

    /// `"required"`.
    pub fn required() -> Self {
        Self::Mode(ToolChoiceMode::Required)
    }

    /// Force a call to the function `name`.
    pub fn function(name: impl Into<String>) -> Self {
        Self::Function { name: name.into() }
    }
}

#[derive(Serialize)]
struct NameBody<'a> {
    name: &'a str,
}

impl Serialize for ResponsesToolChoice {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Mode(mode) => mode.serialize(serializer),
            Self::Function { name } => Tagged {
                tag: "function",
                body: &NameBody { name },
            }
            .serialize(serializer),
            Self::Other(map) => map.serialize(serializer),
        }
    }
}

impl<'de> Deserialize<'de> for ResponsesToolChoice {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        match Value::deserialize(deserializer)? {
            Value::String(mode) => Ok(Self::Mode(ToolChoiceMode::from(mode))),
            Value::Object(map) => {
                let name = map.get("name").and_then(Value::as_str);
                match (tag_of(&map).as_deref(), name) {
                    (Some("function"), Some(name)) if map.len() == 2 => Ok(Self::Function {
                        name: name.to_owned(),
                    }),
                    _ => Ok(Self::Other(map)),
                }
            }
            other => Err(serde::de::Error::custom(format!(
                "tool_choice must be a string or an object, not {other}"
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn tool_choice_forms_round_trip() {
        for (choice, wire) in [
            (ResponsesToolChoice::auto(), json!("auto")),
            (ResponsesToolChoice::required(), json!("required")),
            (
                ResponsesToolChoice::function("f"),
                json!({"type":"function","name":"f"}),
            ),
            (
                ResponsesToolChoice::Other(
                    json!({"type":"mcp","server_label":"hf"})
                        .as_object()
                        .cloned()
                        .unwrap(),
                ),
                json!({"type":"mcp","server_label":"hf"}),
            ),
        ] {
            assert_eq!(serde_json::to_value(&choice).unwrap(), wire);
            assert_eq!(
                serde_json::from_value::<ResponsesToolChoice>(wire).unwrap(),
                choice
            );
        }
        assert!(serde_json::from_value::<ResponsesToolChoice>(json!(3)).is_err());
    }

    #[test]
    fn tools_are_flat_and_unknown_types_are_kept() {
        let tool = ResponsesTool::function("get_weather", "Weather", json!({"type":"object"}));
        assert_eq!(
            serde_json::to_value(&tool).unwrap(),
            json!({"type":"function","name":"get_weather","description":"Weather","parameters":{"type":"object"}})
        );
        assert_eq!(tool.name(), Some("get_weather"));
        let mcp = ResponsesTool::mcp("hf", "https://huggingface.co/mcp");
        assert_eq!(mcp.kind(), "mcp");
        assert_eq!(mcp.name(), Some("hf"));
        let other: ResponsesTool =
            serde_json::from_value(json!({"type":"web_search_preview"})).unwrap();
        assert_eq!(other.kind(), "web_search_preview");
        assert_eq!(other.name(), None);
    }
}
