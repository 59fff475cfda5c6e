//! `POST /v1/messages`, Anthropic's Messages API (LM Studio 0.4.1+; the 0.4 profile only):
//! text, a `thinking` block when the emulator's reasoning setting is on, one `tool_use` call
//! whose input streams as `input_json_delta` pieces, `max_tokens`, and the named SSE events
//! of a streamed answer in Anthropic's order (`message_start`, `ping`, per block
//! `content_block_start` / `content_block_delta`s / `content_block_stop`, `message_delta`
//! with the stop reason and output tokens, `message_stop`).
//!
//! Refusals come in Anthropic's error shape (`{"type":"error","error":{"type":
//! "invalid_request_error","message":...}}`; LM Studio's exact wording is unverified, so
//! Anthropic's is used): a body without `messages`, no messages, a role other than `user` and
//! `assistant`, and two turns of one role in a row (LM Studio validates alternation
//! strictly). The model lookup, the answer and the context check are the chat route's
//! ([`chat::prepare`]), so an unknown model or an overflow answers as chat does.
//! `/v1/messages/count_tokens` is not served (LM Studio's 200 "Unexpected endpoint").

use serde_json::{Map, Value, json};

use super::Shared;
use super::chat::{self, Prepared};
use super::clock;
use super::generate::{self, Generation};
use super::reply::{self, Resp};
use super::sse::{self, SseWriter};

/// Anthropic's error body for a refused request.
fn invalid(message: &str) -> Resp {
    reply::json(
        400,
        &json!({ "type": "error", "error": {
            "type": "invalid_request_error",
            "message": message,
        }}),
    )
}

/// The refusals, before any model is looked at.
fn validate(request: &Map<String, Value>) -> Option<Resp> {
    let Some(messages) = request.get("messages").and_then(Value::as_array) else {
        return Some(invalid("messages: Field required"));
    };
    if messages.is_empty() {
        return Some(invalid("messages: at least one message is required"));
    }
    let mut previous: Option<&str> = None;
    for (index, message) in messages.iter().enumerate() {
        let role = message.get("role").and_then(Value::as_str);
        let Some(role @ ("user" | "assistant")) = role else {
            return Some(invalid(&format!(
                "messages.{index}.role: Input should be 'user' or 'assistant'"
            )));
        };
        if previous == Some(role) {
            return Some(invalid(&format!(
                "messages: roles must alternate between \"user\" and \"assistant\", but found multiple \"{role}\" roles in a row"
            )));
        }
        previous = Some(role);
    }
    None
}

/// The text of a `system` or message `content`: a string, or its text blocks joined.
fn blocks_text(content: Option<&Value>) -> String {
    match content {
        Some(Value::Array(blocks)) => blocks
            .iter()
            .filter(|b| b.get("type").and_then(Value::as_str) == Some("text"))
            .filter_map(|b| b.get("text").and_then(Value::as_str))
            .collect::<Vec<_>>()
            .join(" "),
        other => generate::content_text(other),
    }
}

/// The `tool_result` blocks of a message, as the chat generator's `tool` messages.
fn tool_results(content: Option<&Value>) -> Vec<Value> {
    let Some(Value::Array(blocks)) = content else {
        return Vec::new();
    };
    blocks
        .iter()
        .filter(|b| b.get("type").and_then(Value::as_str) == Some("tool_result"))
        .map(|b| json!({ "role": "tool", "content": blocks_text(b.get("content")) }))
        .collect()
}

/// Turns a Messages request into the chat request the generator understands.
fn as_chat_request(request: &Map<String, Value>) -> Map<String, Value> {
    let mut messages = Vec::new();
    let system = blocks_text(request.get("system"));
    if !system.is_empty() {
        messages.push(json!({ "role": "system", "content": system }));
    }
    for message in request
        .get("messages")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let role = message.get("role").cloned().unwrap_or(Value::Null);
        let content = message.get("content");
        let text = blocks_text(content);
        let results = tool_results(content);
        if !text.is_empty() || results.is_empty() {
            messages.push(json!({ "role": role, "content": text }));
        }
        messages.extend(results);
    }
    let tools: Vec<Value> = request
        .get("tools")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|t| t.get("type").is_none_or(|k| k == "custom"))
        .map(|t| {
            json!({ "type": "function", "function": {
                "name": t.get("name").cloned().unwrap_or(Value::Null),
                "parameters": t.get("input_schema").cloned().unwrap_or(Value::Null),
            }})
        })
        .collect();
    let choice =
        request
            .get("tool_choice")
            .map(|choice| match choice.get("type").and_then(Value::as_str) {
                Some("any") => json!("required"),
                Some("none") => json!("none"),
                Some("tool") => {
                    json!({ "type": "function", "function": { "name": choice.get("name") } })
                }
                _ => json!("auto"),
            });
    let mut chat = Map::new();
    chat.insert("messages".into(), Value::Array(messages));
    chat.insert("tools".into(), Value::Array(tools));
    if let Some(choice) = choice {
        chat.insert("tool_choice".into(), choice);
    }
    for (from, to) in [
        ("model", "model"),
        ("max_tokens", "max_tokens"),
        ("stop_sequences", "stop"),
    ] {
        if let Some(value) = request.get(from) {
            chat.insert(to.into(), value.clone());
        }
    }
    chat
}

/// Handles a Messages API request.
pub(crate) async fn messages(shared: &Shared, body: &str) -> Resp {
    let request = match reply::parse_object(body) {
        Ok(request) => request,
        Err(response) => return *response,
    };
    if let Some(response) = validate(&request) {
        return response;
    }
    let Prepared {
        served,
        seed,
        delay,
        fault,
        generation,
        ..
    } = match chat::prepare(shared, &as_chat_request(&request)).await {
        Ok(prepared) => prepared,
        Err(response) => return response,
    };
    let answer = Answer {
        id: format!("msg_{}{}", clock::hex_id(seed), clock::hex_id(seed + 1)),
        model: served.instance_id,
        generation,
    };
    if request.get("stream").and_then(Value::as_bool) == Some(true) {
        let (response, writer) = sse::messages_sse_response(delay, fault);
        tokio::spawn(stream(writer, answer));
        return response;
    }
    reply::json(200, &answer.whole())
}

/// One answer: its id, the instance that answered, and what it generated.
struct Answer {
    id: String,
    model: String,
    generation: Generation,
}

impl Answer {
    fn stop_reason(&self) -> &'static str {
        match self.generation.finish_reason {
            "length" => "max_tokens",
            "tool_calls" => "tool_use",
            // A matched stop sequence too, as llama.cpp reports it.
            _ => "end_turn",
        }
    }

    /// The call's input (the arguments are JSON the generator wrote).
    fn input(&self) -> Option<Value> {
        let call = self.generation.tool_call.as_ref()?;
        Some(serde_json::from_str(&call.arguments).unwrap_or_else(|_| json!({})))
    }

    /// The blocks: thinking (when there is reasoning), text (unless only a call came), the
    /// call.
    fn blocks(&self) -> Vec<Value> {
        let generation = &self.generation;
        let mut blocks = Vec::new();
        if !generation.reasoning.is_empty() {
            blocks.push(
                json!({ "type": "thinking", "thinking": generation.reasoning, "signature": "" }),
            );
        }
        if !generation.content.is_empty() || generation.tool_call.is_none() {
            blocks.push(json!({ "type": "text", "text": generation.content }));
        }
        if let (Some(call), Some(input)) = (&generation.tool_call, self.input()) {
            blocks.push(
                json!({ "type": "tool_use", "id": call.id, "name": call.name, "input": input }),
            );
        }
        blocks
    }

    fn message(&self, content: Vec<Value>, stop_reason: Value, output_tokens: u64) -> Value {
        json!({
            "id": self.id,
            "type": "message",
            "role": "assistant",
            "content": content,
            "model": self.model,
            "stop_reason": stop_reason,
            "stop_sequence": null,
            "usage": {
                "input_tokens": self.generation.prompt_tokens,
                "output_tokens": output_tokens,
            },
        })
    }

    fn whole(&self) -> Value {
        self.message(
            self.blocks(),
            json!(self.stop_reason()),
            self.generation.completion_tokens,
        )
    }
}

/// Sends the events of one answer; returns early once the stream is over.
async fn stream(mut writer: SseWriter, answer: Answer) {
    let start =
        json!({ "type": "message_start", "message": answer.message(Vec::new(), Value::Null, 1) });
    if !writer.event("message_start", &start).await
        || !writer.event("ping", &json!({ "type": "ping" })).await
    {
        return;
    }
    let generation = &answer.generation;
    for (index, block) in answer.blocks().into_iter().enumerate() {
        let deltas: Vec<Value> = match block.get("type").and_then(Value::as_str) {
            Some("thinking") => generate::pieces(&generation.reasoning)
                .into_iter()
                .map(|piece| json!({ "type": "thinking_delta", "thinking": piece }))
                .collect(),
            Some("text") => generate::pieces(&generation.content)
                .into_iter()
                .map(|piece| json!({ "type": "text_delta", "text": piece }))
                .collect(),
            _ => {
                let arguments = generation
                    .tool_call
                    .as_ref()
                    .map(|call| call.arguments.as_str())
                    .unwrap_or_default();
                generate::fragments(arguments, 6)
                    .into_iter()
                    .map(|piece| json!({ "type": "input_json_delta", "partial_json": piece }))
                    .collect()
            }
        };
        if !send_block(&mut writer, index, block, deltas).await {
            return;
        }
    }
    let delta = json!({
        "type": "message_delta",
        "delta": { "stop_reason": answer.stop_reason(), "stop_sequence": null },
        "usage": { "output_tokens": generation.completion_tokens },
    });
    if writer.event("message_delta", &delta).await {
        let _ = writer
            .event("message_stop", &json!({ "type": "message_stop" }))
            .await;
    }
}

/// `content_block_start` (the block empty), its deltas, `content_block_stop`.
async fn send_block(
    writer: &mut SseWriter,
    index: usize,
    block: Value,
    deltas: Vec<Value>,
) -> bool {
    let empty = match block.get("type").and_then(Value::as_str) {
        Some("thinking") => json!({ "type": "thinking", "thinking": "", "signature": "" }),
        Some("text") => json!({ "type": "text", "text": "" }),
        _ => {
            let mut call = block;
            call["input"] = json!({});
            call
        }
    };
    let start = json!({ "type": "content_block_start", "index": index, "content_block": empty });
    if !writer.event("content_block_start", &start).await {
        return false;
    }
    for delta in deltas {
        let event = json!({ "type": "content_block_delta", "index": index, "delta": delta });
        if !writer.event("content_block_delta", &event).await {
            return false;
        }
    }
    let stop = json!({ "type": "content_block_stop", "index": index });
    writer.event("content_block_stop", &stop).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(value: Value) -> Map<String, Value> {
        value.as_object().cloned().unwrap()
    }

    #[test]
    fn roles_must_alternate_and_be_user_or_assistant() {
        let ok = request(json!({ "messages": [
            { "role": "user", "content": "a" },
            { "role": "assistant", "content": "b" },
            { "role": "user", "content": "c" },
        ]}));
        assert!(validate(&ok).is_none());
        for bad in [
            json!({}),
            json!({ "messages": [] }),
            json!({ "messages": [{ "role": "user", "content": "a" }, { "role": "user", "content": "b" }] }),
            json!({ "messages": [{ "role": "system", "content": "a" }] }),
            json!({ "messages": [{ "content": "a" }] }),
        ] {
            assert!(validate(&request(bad.clone())).is_some(), "{bad}");
        }
    }

    #[test]
    fn the_chat_request_carries_system_results_tools_and_limits() {
        let chat = as_chat_request(&request(json!({
            "model": "m",
            "system": [{ "type": "text", "text": "Be brief." }],
            "max_tokens": 9,
            "stop_sequences": ["."],
            "tools": [{ "name": "get_weather", "input_schema": { "type": "object" } },
                      { "type": "web_search_20250305", "name": "web_search" }],
            "tool_choice": { "type": "tool", "name": "get_weather" },
            "messages": [
                { "role": "user", "content": "weather?" },
                { "role": "assistant", "content": [{ "type": "tool_use", "id": "1", "name": "get_weather", "input": {} }] },
                { "role": "user", "content": [{ "type": "tool_result", "tool_use_id": "1", "content": "sunny" }] },
            ],
        })));
        let roles: Vec<&str> = chat["messages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["role"].as_str().unwrap())
            .collect();
        assert_eq!(roles, ["system", "user", "assistant", "tool"]);
        assert_eq!(chat["messages"][3]["content"], "sunny");
        assert_eq!(chat["tools"].as_array().unwrap().len(), 1);
        assert_eq!(chat["tool_choice"]["function"]["name"], "get_weather");
        assert_eq!(
            (chat["max_tokens"].clone(), chat["stop"].clone()),
            (json!(9), json!(["."]))
        );
    }
}
