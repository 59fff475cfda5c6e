//! `POST /v1/responses` (LM Studio 0.3.29+): text, a reasoning item, one function call,
//! `max_output_tokens`, and the named SSE events of a streamed response in OpenAI's order
//! (`response.created`, `response.in_progress`, `output_item.added`, `content_part.added`,
//! deltas, `*.done`, `content_part.done`, `output_item.done`, `response.completed`).
//!
//! LM Studio's known refusals are reproduced: a tool type other than `function` and `mcp`
//! (HTTP 400 `invalid_union_discriminator`, `param: "tools.N.type"`), a request without
//! `text.format` on the 0.4 profile (0.4.6: `missing_required_parameter`), and a
//! `previous_response_id` this emulator never issued, or any `previous_response_id` with
//! `stream: true` on the 0.3 profile (0.3.31: `previous_response_not_found`).

use std::time::SystemTime;

use serde_json::{Map, Value, json};

use super::builder::Profile;
use super::chat::{self, Prepared};
use super::clock;
use super::generate::{self, Generation};
use super::reply::{self, Resp};
use super::sse::{self, SseWriter};
use super::{Shared, lock};

/// Turns a Responses request into the chat request the generator understands.
fn as_chat_request(request: &Map<String, Value>) -> Map<String, Value> {
    let mut messages = Vec::new();
    if let Some(Value::String(text)) = request.get("instructions") {
        messages.push(json!({ "role": "system", "content": text }));
    }
    match request.get("input") {
        Some(Value::String(text)) => messages.push(json!({ "role": "user", "content": text })),
        Some(Value::Array(items)) => {
            for item in items {
                let kind = item.get("type").and_then(Value::as_str);
                if kind == Some("function_call_output") {
                    let output = generate::content_text(item.get("output"));
                    messages.push(json!({ "role": "tool", "content": output }));
                } else if let Some(role) = item.get("role").and_then(Value::as_str) {
                    let content = generate::content_text(item.get("content"));
                    messages.push(json!({ "role": role, "content": content }));
                }
            }
        }
        _ => {}
    }
    let tools: Vec<Value> = request
        .get("tools")
        .and_then(Value::as_array)
        .map(|tools| {
            tools
                .iter()
                .filter(|t| t.get("type").and_then(Value::as_str) == Some("function"))
                .map(|t| {
                    json!({ "type": "function", "function": {
                        "name": t.get("name").cloned().unwrap_or(Value::Null),
                        "parameters": t.get("parameters").cloned().unwrap_or(Value::Null),
                    }})
                })
                .collect()
        })
        .unwrap_or_default();
    let mut chat = Map::new();
    chat.insert("messages".into(), Value::Array(messages));
    chat.insert("tools".into(), Value::Array(tools));
    for key in ["model", "max_output_tokens", "tool_choice", "stop"] {
        if let Some(value) = request.get(key) {
            chat.insert(key.into(), value.clone());
        }
    }
    chat
}

/// An OpenAI-style error object, as LM Studio sends for `/v1/responses` validation.
fn invalid(message: &str, param: &str, code: &str) -> Resp {
    reply::json(
        400,
        &json!({ "error": {
            "message": message,
            "type": "invalid_request_error",
            "param": param,
            "code": code,
        }}),
    )
}

/// Whether `id` is one this emulator issued (`resp_` and 32 hex digits, see [`Ids`]).
fn issued_here(id: &str) -> bool {
    id.strip_prefix("resp_")
        .is_some_and(|hex| hex.len() == 32 && hex.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// LM Studio's refusals, before any model is looked at.
fn validate(request: &Map<String, Value>, profile: Profile) -> Option<Resp> {
    if !request.contains_key("input") {
        return Some(reply::string_error(400, "'input' field is required"));
    }
    let tools = request.get("tools").and_then(Value::as_array);
    for (index, tool) in tools.into_iter().flatten().enumerate() {
        let kind = tool.get("type").and_then(Value::as_str);
        if !matches!(kind, Some("function" | "mcp")) {
            return Some(invalid(
                "Invalid discriminator value. Expected 'function' | 'mcp'",
                &format!("tools.{index}.type"),
                "invalid_union_discriminator",
            ));
        }
    }
    let format = request.get("text").and_then(|text| text.get("format"));
    if profile == Profile::V0_4 && format.is_none_or(Value::is_null) {
        return Some(invalid(
            "Required",
            "text.format",
            "missing_required_parameter",
        ));
    }
    if let Some(previous) = request.get("previous_response_id").and_then(Value::as_str) {
        let streamed = request.get("stream").and_then(Value::as_bool) == Some(true);
        if !issued_here(previous) || (streamed && profile == Profile::V0_3) {
            return Some(invalid(
                &format!("Previous response with id '{previous}' not found."),
                "previous_response_id",
                "previous_response_not_found",
            ));
        }
    }
    None
}

/// Handles a Responses API request.
pub(crate) async fn responses(shared: &Shared, body: &str) -> Resp {
    let request = match reply::parse_object(body) {
        Ok(request) => request,
        Err(response) => return *response,
    };
    let profile = lock(shared).profile;
    if let Some(response) = validate(&request, profile) {
        return response;
    }
    let chat_request = as_chat_request(&request);
    let Prepared {
        served,
        seed,
        delay,
        fault,
        generation,
        ..
    } = match chat::prepare(shared, &chat_request).await {
        Ok(prepared) => prepared,
        Err(response) => return response,
    };
    let ids = Ids::new(seed);
    let previous = request
        .get("previous_response_id")
        .cloned()
        .unwrap_or(Value::Null);
    let full = response_body(&ids, &served.instance_id, &generation, previous);
    if request.get("stream").and_then(Value::as_bool) == Some(true) {
        let (response, writer) = sse::responses_sse_response(delay, fault);
        tokio::spawn(stream(writer, ids, generation, full));
        return response;
    }
    reply::json(200, &full)
}

/// The ids of one response and its output items.
#[derive(Clone, Debug)]
struct Ids {
    response: String,
    reasoning: String,
    message: String,
    call: String,
    created_at: u64,
}

impl Ids {
    fn new(seed: u64) -> Self {
        Self {
            response: format!("resp_{}{}", clock::hex_id(seed), clock::hex_id(seed + 1)),
            reasoning: format!("rs_{}", clock::hex_id(seed + 2)),
            message: format!("msg_{}", clock::hex_id(seed + 3)),
            call: format!("fc_{}", clock::hex_id(seed + 4)),
            created_at: clock::unix_secs(SystemTime::now()),
        }
    }
}

fn reasoning_item(ids: &Ids, text: &str, status: &str) -> Value {
    let content = if text.is_empty() {
        json!([])
    } else {
        json!([{ "type": "reasoning_text", "text": text }])
    };
    json!({
        "id": ids.reasoning, "type": "reasoning", "summary": [], "content": content,
        "status": status,
    })
}

fn message_item(ids: &Ids, text: Option<&str>, status: &str) -> Value {
    let content = match text {
        Some(text) => json!([{ "type": "output_text", "text": text, "annotations": [] }]),
        None => json!([]),
    };
    json!({
        "id": ids.message, "type": "message", "role": "assistant", "status": status,
        "content": content,
    })
}

fn call_item(ids: &Ids, generation: &Generation, arguments: &str, status: &str) -> Value {
    let call = generation.tool_call.as_ref();
    json!({
        "id": ids.call, "type": "function_call", "status": status,
        "call_id": call.map(|c| c.id.clone()),
        "name": call.map(|c| c.name.clone()),
        "arguments": arguments,
    })
}

fn response_body(ids: &Ids, model: &str, generation: &Generation, previous: Value) -> Value {
    let mut output = Vec::new();
    if !generation.reasoning.is_empty() {
        output.push(reasoning_item(ids, &generation.reasoning, "completed"));
    }
    match &generation.tool_call {
        Some(call) => output.push(call_item(ids, generation, &call.arguments, "completed")),
        None => output.push(message_item(ids, Some(&generation.content), "completed")),
    }
    let incomplete = generation.finish_reason == "length";
    json!({
        "id": ids.response,
        "object": "response",
        "created_at": ids.created_at,
        "status": if incomplete { "incomplete" } else { "completed" },
        "incomplete_details": if incomplete { json!({ "reason": "max_output_tokens" }) } else { Value::Null },
        "model": model,
        "output": output,
        "previous_response_id": previous,
        "text": { "format": { "type": "text" } },
        "usage": {
            "input_tokens": generation.prompt_tokens,
            "input_tokens_details": { "cached_tokens": 0 },
            "output_tokens": generation.completion_tokens,
            "output_tokens_details": { "reasoning_tokens": generation.reasoning_tokens },
            "total_tokens": generation.prompt_tokens + generation.completion_tokens,
        },
    })
}

/// Numbers the events of one stream and sends them; `false` once the stream is over.
struct Events {
    writer: SseWriter,
    seq: u64,
}

impl Events {
    /// Sends one named event whose data carries `type` and `sequence_number`.
    async fn emit(&mut self, name: &str, mut data: Value) -> bool {
        data["type"] = json!(name);
        data["sequence_number"] = json!(self.seq);
        self.seq += 1;
        self.writer.event(name, &data).await
    }

    async fn item(&mut self, name: &str, index: u64, item: Value) -> bool {
        self.emit(name, json!({ "output_index": index, "item": item }))
            .await
    }

    /// Sends `text` as deltas of `delta_event`, then `done_event` with the whole text.
    async fn text(
        &mut self,
        (delta_event, done_event): (&str, &str),
        item_id: &str,
        index: u64,
        text: &str,
    ) -> bool {
        for piece in generate::pieces(text) {
            let data = json!({ "item_id": item_id, "output_index": index, "content_index": 0, "delta": piece });
            if !self.emit(delta_event, data).await {
                return false;
            }
        }
        let data =
            json!({ "item_id": item_id, "output_index": index, "content_index": 0, "text": text });
        self.emit(done_event, data).await
    }

    async fn part(&mut self, name: &str, item_id: &str, index: u64, text: &str) -> bool {
        let part = json!({ "type": "output_text", "text": text, "annotations": [] });
        let data =
            json!({ "item_id": item_id, "output_index": index, "content_index": 0, "part": part });
        self.emit(name, data).await
    }
}

async fn stream(writer: SseWriter, ids: Ids, generation: Generation, full: Value) {
    let mut events = Events { writer, seq: 0 };
    let mut started = full.clone();
    started["status"] = json!("in_progress");
    started["output"] = json!([]);
    started["usage"] = Value::Null;
    started["incomplete_details"] = Value::Null;
    for name in ["response.created", "response.in_progress"] {
        if !events.emit(name, json!({ "response": started })).await {
            return;
        }
    }
    let mut index = 0;
    if !generation.reasoning.is_empty() {
        let item = reasoning_item(&ids, "", "in_progress");
        let names = (
            "response.reasoning_text.delta",
            "response.reasoning_text.done",
        );
        let ok = events.item("response.output_item.added", index, item).await
            && events
                .text(names, &ids.reasoning, index, &generation.reasoning)
                .await
            && events
                .item(
                    "response.output_item.done",
                    index,
                    reasoning_item(&ids, &generation.reasoning, "completed"),
                )
                .await;
        if !ok {
            return;
        }
        index += 1;
    }
    let ok = match &generation.tool_call {
        Some(call) => stream_call(&mut events, &ids, &generation, &call.arguments, index).await,
        None => stream_text(&mut events, &ids, &generation.content, index).await,
    };
    if ok {
        let name = if full["status"] == "incomplete" {
            "response.incomplete"
        } else {
            "response.completed"
        };
        // Like OpenAI's, this stream ends after its last event, without `data: [DONE]`.
        let _ = events.emit(name, json!({ "response": full })).await;
    }
}

async fn stream_text(events: &mut Events, ids: &Ids, text: &str, index: u64) -> bool {
    let added = message_item(ids, None, "in_progress");
    let names = ("response.output_text.delta", "response.output_text.done");
    events
        .item("response.output_item.added", index, added)
        .await
        && events
            .part("response.content_part.added", &ids.message, index, "")
            .await
        && events.text(names, &ids.message, index, text).await
        && events
            .part("response.content_part.done", &ids.message, index, text)
            .await
        && events
            .item(
                "response.output_item.done",
                index,
                message_item(ids, Some(text), "completed"),
            )
            .await
}

async fn stream_call(
    events: &mut Events,
    ids: &Ids,
    generation: &Generation,
    arguments: &str,
    index: u64,
) -> bool {
    let added = call_item(ids, generation, "", "in_progress");
    if !events
        .item("response.output_item.added", index, added)
        .await
    {
        return false;
    }
    for fragment in generate::fragments(arguments, 6) {
        let data = json!({ "item_id": ids.call, "output_index": index, "delta": fragment });
        if !events
            .emit("response.function_call_arguments.delta", data)
            .await
        {
            return false;
        }
    }
    let data = json!({ "item_id": ids.call, "output_index": index, "arguments": arguments });
    events
        .emit("response.function_call_arguments.done", data)
        .await
        && events
            .item(
                "response.output_item.done",
                index,
                call_item(ids, generation, arguments, "completed"),
            )
            .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_issued_here_are_recognised() {
        assert!(issued_here(&Ids::new(7).response));
        assert!(!issued_here("resp_does_not_exist"));
        assert!(!issued_here("resp_123"));
    }

    #[test]
    fn validation_follows_lm_studio() {
        let request = |value: Value| value.as_object().cloned().unwrap();
        let format = json!({ "format": { "type": "text" } });
        let ok = request(json!({ "input": "hi", "text": format }));
        assert!(validate(&ok, Profile::V0_4).is_none());
        let no_format = request(json!({ "input": "hi" }));
        assert!(validate(&no_format, Profile::V0_4).is_some());
        assert!(validate(&no_format, Profile::V0_3).is_none());
        let tools = request(json!({ "input": "hi", "text": format,
            "tools": [{ "type": "function", "name": "f" }, { "type": "mcp" }] }));
        assert!(validate(&tools, Profile::V0_4).is_none());
        let issued = Ids::new(1).response;
        let continued =
            request(json!({ "input": "hi", "previous_response_id": issued, "stream": true }));
        assert!(
            validate(&continued, Profile::V0_3).is_some(),
            "0.3.31's bug"
        );
        let continued = request(json!({ "input": "hi", "text": format,
            "previous_response_id": issued, "stream": true }));
        assert!(validate(&continued, Profile::V0_4).is_none());
    }
}
