//! Tools: definitions sent with a request, `tool_choice`, and the calls a model makes.

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

use crate::nullable::null_as_default;

open_enum! {
    /// The kind of a tool or tool call (`type`); only `function` exists today (the default).
    #[derive(Default)]
    pub enum ToolType {
        /// A function tool (`"function"`).
        #[default]
        Function = "function",
    }
}

open_enum! {
    /// The string forms of `tool_choice`.
    pub enum ToolChoiceMode {
        /// The model decides (`"auto"`).
        Auto = "auto",
        /// No tool calls (`"none"`).
        None = "none",
        /// At least one tool call (`"required"`; llama.cpp-backed models only in LM Studio).
        Required = "required",
    }
}

/// A tool the model may call.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Tool {
    /// `function`.
    #[serde(rename = "type", default)]
    pub kind: ToolType,
    /// The function.
    pub function: FunctionDefinition,
    /// Other fields to send.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Tool {
    /// A function tool; `parameters` is a JSON Schema object.
    pub fn function(
        name: impl Into<String>,
        description: impl Into<String>,
        parameters: Value,
    ) -> Self {
        Self {
            kind: ToolType::Function,
            function: FunctionDefinition {
                name: name.into(),
                description: Some(description.into()),
                parameters: Some(parameters),
                strict: None,
                extra: Map::new(),
            },
            extra: Map::new(),
        }
    }
}

/// A function's name, description and JSON Schema parameters.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct FunctionDefinition {
    /// The name the model calls it by.
    pub name: String,
    /// What it does, for the model.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// A JSON Schema object describing the arguments.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parameters: Option<Value>,
    /// Ask for strict schema adherence.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strict: Option<bool>,
    /// Other fields to send.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `tool_choice`: `"auto"`, `"none"`, `"required"`, or a named function.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
#[non_exhaustive]
pub enum ToolChoice {
    /// A string mode.
    Mode(ToolChoiceMode),
    /// `{"type":"function","function":{"name":...}}`.
    Named(NamedToolChoice),
}

impl ToolChoice {
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
        Self::Named(NamedToolChoice {
            kind: ToolType::Function,
            function: FunctionName { name: name.into() },
        })
    }
}

/// A `tool_choice` naming one function.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct NamedToolChoice {
    /// `function`.
    #[serde(rename = "type", default)]
    pub kind: ToolType,
    /// The function to call.
    pub function: FunctionName,
}

/// `{"name": ...}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct FunctionName {
    /// The function's name.
    pub name: String,
}

/// A whole tool call (in a response, or assembled from stream fragments).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ToolCall {
    /// The call's id; echo it as `tool_call_id` in the tool's answer. LM Studio uses numeric
    /// strings such as `365174485`.
    #[serde(default, deserialize_with = "null_as_default")]
    pub id: String,
    /// `function`.
    #[serde(rename = "type", default, deserialize_with = "null_as_default")]
    pub kind: ToolType,
    /// The function and its arguments.
    #[serde(default, deserialize_with = "null_as_default")]
    pub function: FunctionCall,
    /// Fields this crate does not model (Mistral, DeepSeek, Ollama and OpenRouter repeat the
    /// stream's `index` in whole responses), kept so they round-trip.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl ToolCall {
    /// A function call.
    pub fn function(
        id: impl Into<String>,
        name: impl Into<String>,
        arguments: impl Into<String>,
    ) -> Self {
        Self {
            id: id.into(),
            kind: ToolType::Function,
            function: FunctionCall {
                name: name.into(),
                arguments: arguments.into(),
            },
            extra: Map::new(),
        }
    }

    /// The arguments parsed as JSON (an empty string parses as `{}`).
    pub fn arguments_json(&self) -> Result<Value, serde_json::Error> {
        if self.function.arguments.trim().is_empty() {
            return Ok(Value::Object(Map::new()));
        }
        serde_json::from_str(&self.function.arguments)
    }
}

/// The function a call names and its arguments.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct FunctionCall {
    /// The function's name.
    #[serde(default, deserialize_with = "null_as_default")]
    pub name: String,
    /// The arguments as a JSON string. Servers that send an object instead are tolerated:
    /// the object is kept as its JSON text.
    #[serde(default, deserialize_with = "string_or_json")]
    pub arguments: String,
}

/// A string as is; `null` as empty; any other JSON value as its JSON text.
pub(crate) fn string_or_json<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<String, D::Error> {
    Ok(match Value::deserialize(deserializer)? {
        Value::String(text) => text,
        Value::Null => String::new(),
        other => other.to_string(),
    })
}

/// Like [`string_or_json`], for an optional field (`null` and absent read as `None`).
pub(crate) fn opt_string_or_json<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<String>, D::Error> {
    Ok(match Option::<Value>::deserialize(deserializer)? {
        None | Some(Value::Null) => None,
        Some(Value::String(text)) => Some(text),
        Some(other) => Some(other.to_string()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn tool_choice_forms() {
        for (choice, wire) in [
            (ToolChoice::auto(), json!("auto")),
            (ToolChoice::none(), json!("none")),
            (ToolChoice::required(), json!("required")),
            (
                ToolChoice::function("f"),
                json!({"type":"function","function":{"name":"f"}}),
            ),
            (
                ToolChoice::Mode(ToolChoiceMode::Other("any".into())),
                json!("any"),
            ),
        ] {
            assert_eq!(serde_json::to_value(&choice).unwrap(), wire);
            assert_eq!(serde_json::from_value::<ToolChoice>(wire).unwrap(), choice);
        }
    }

    #[test]
    fn object_arguments_are_kept_as_text() {
        let call: ToolCall = serde_json::from_value(
            json!({"id":"1","type":"function","function":{"name":"f","arguments":{"a":1}}}),
        )
        .unwrap();
        assert_eq!(call.function.arguments, r#"{"a":1}"#);
        assert_eq!(call.arguments_json().unwrap(), json!({"a":1}));
        let call: ToolCall =
            serde_json::from_value(json!({"function":{"name":"f","arguments":null}})).unwrap();
        assert_eq!(call.kind, ToolType::Function);
        assert_eq!(call.arguments_json().unwrap(), json!({}));
    }

    #[test]
    fn tool_definition() {
        let tool = Tool::function("get_weather", "Weather", json!({"type":"object"}));
        assert_eq!(
            serde_json::to_value(&tool).unwrap(),
            json!({"type":"function","function":{"name":"get_weather","description":"Weather","parameters":{"type":"object"}}})
        );
    }
}
