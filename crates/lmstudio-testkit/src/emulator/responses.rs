//! `POST /v1/responses` (LM Studio 0.3.29+), minimal: text or one function call, optional
//! reasoning item, `max_output_tokens`, and the named SSE events of a streamed response.
//! LM Studio documents no body example; this follows the OpenAI Responses shape.

use std::time::SystemTime;

use serde_json::{Map, Value, json};

use super::builder::ReasoningField;
use super::chat;
use super::clock;
use super::generate::{self, Generation};
use super::reply::{self, Resp};
use super::sse::{self, SseWriter};
use super::{Shared, lock};

/// Turns a Responses request into the chat request the generator understands.
fn as_chat_request(request: &Map<String, Value>) -> Map<String, Value> {
    let mut messages = Vec::new();
    match request.get("input") {
        Some(Value::String(text)) => messages.push(json!({ "role": "user", "content": text })),
        Some(Value::Array(items)) => {
            for item in items {
                let kind = item.get("type").and_then(Value::as_str);
                if kind == Some("function_call_output") {
                    let output = item.get("output").cloned().unwrap_or(Value::Null);
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

/// Handles a Responses API request.
pub(crate) async fn responses(shared: &Shared, body: &str) -> Resp {
    let request = match reply::parse_object(body) {
        Ok(request) => request,
        Err(response) => return *response,
    };
    if !request.contains_key("input") {
        return reply::string_error(400, "'input' field is required");
    }
    let chat_request = as_chat_request(&request);
    let served = match chat::serve_llm(shared, &chat_request).await {
        Ok(served) => served,
        Err(response) => return response,
    };
    let (field, seed, delay, fault) = {
        let mut state = lock(shared);
        let seed = state.next_counter();
        (state.reasoning, seed, state.chunk_delay, state.stream_fault)
    };
    let generation = generate::generate_chat(&chat_request, field != ReasoningField::None, seed);
    if let Some(response) = chat::context_overflow(generation.prompt_tokens, served.context_length)
    {
        return response;
    }
    let ids = Ids::new(seed);
    let previous = request
        .get("previous_response_id")
        .cloned()
        .unwrap_or(Value::Null);
    let full = response_body(&ids, &served.instance_id, &generation, previous);
    if request.get("stream").and_then(Value::as_bool) == Some(true) {
        let (response, writer) = sse::sse_response(delay, fault);
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

fn reasoning_item(ids: &Ids, text: &str) -> Value {
    json!({
        "id": ids.reasoning, "type": "reasoning", "summary": [],
        "content": [{ "type": "reasoning_text", "text": text }],
    })
}

fn message_item(ids: &Ids, text: &str, status: &str) -> Value {
    json!({
        "id": ids.message, "type": "message", "role": "assistant", "status": status,
        "content": [{ "type": "output_text", "text": text, "annotations": [] }],
    })
}

fn call_item(ids: &Ids, generation: &Generation, arguments: &str) -> Value {
    let call = generation.tool_call.as_ref();
    json!({
        "id": ids.call, "type": "function_call", "status": "completed",
        "call_id": call.map(|c| c.id.clone()),
        "name": call.map(|c| c.name.clone()),
        "arguments": arguments,
    })
}

fn response_body(ids: &Ids, model: &str, generation: &Generation, previous: Value) -> Value {
    let mut output = Vec::new();
    if !generation.reasoning.is_empty() {
        output.push(reasoning_item(ids, &generation.reasoning));
    }
    match &generation.tool_call {
        Some(call) => output.push(call_item(ids, generation, &call.arguments)),
        None => output.push(message_item(ids, &generation.content, "completed")),
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
        "usage": {
            "input_tokens": generation.prompt_tokens,
            "input_tokens_details": { "cached_tokens": 0 },
            "output_tokens": generation.completion_tokens,
            "output_tokens_details": { "reasoning_tokens": generation.reasoning_tokens },
            "total_tokens": generation.prompt_tokens + generation.completion_tokens,
        },
    })
}

/// Sends one named event whose data carries `type` and `sequence_number`.
async fn emit(writer: &mut SseWriter, seq: &mut u64, name: &str, mut data: Value) -> bool {
    data["type"] = json!(name);
    data["sequence_number"] = json!(*seq);
    *seq += 1;
    writer.event(name, &data).await
}

async fn stream(mut writer: SseWriter, ids: Ids, generation: Generation, full: Value) {
    let mut seq = 0;
    let mut created = full.clone();
    created["status"] = json!("in_progress");
    created["output"] = json!([]);
    created["usage"] = Value::Null;
    if !emit(
        &mut writer,
        &mut seq,
        "response.created",
        json!({ "response": created }),
    )
    .await
    {
        return;
    }
    let mut index = 0;
    if !generation.reasoning.is_empty() {
        let item = reasoning_item(&ids, "");
        let ok = emit(
            &mut writer,
            &mut seq,
            "response.output_item.added",
            json!({ "output_index": index, "item": item }),
        )
        .await;
        if !ok {
            return;
        }
        for piece in generate::pieces(&generation.reasoning) {
            let data = json!({ "item_id": ids.reasoning, "output_index": index, "content_index": 0, "delta": piece });
            if !emit(&mut writer, &mut seq, "response.reasoning_text.delta", data).await {
                return;
            }
        }
        let data = json!({ "item_id": ids.reasoning, "output_index": index, "content_index": 0, "text": generation.reasoning });
        if !emit(&mut writer, &mut seq, "response.reasoning_text.done", data).await {
            return;
        }
        let item = reasoning_item(&ids, &generation.reasoning);
        let ok = emit(
            &mut writer,
            &mut seq,
            "response.output_item.done",
            json!({ "output_index": index, "item": item }),
        )
        .await;
        if !ok {
            return;
        }
        index += 1;
    }
    let ok = match &generation.tool_call {
        Some(call) => {
            stream_call(
                &mut writer,
                &mut seq,
                &ids,
                &generation,
                &call.arguments,
                index,
            )
            .await
        }
        None => stream_text(&mut writer, &mut seq, &ids, &generation.content, index).await,
    };
    if ok {
        let name = if full["status"] == "incomplete" {
            "response.incomplete"
        } else {
            "response.completed"
        };
        // Like OpenAI's, this stream ends after its last event, without `data: [DONE]`.
        let _ = emit(&mut writer, &mut seq, name, json!({ "response": full })).await;
    }
}

async fn stream_text(
    writer: &mut SseWriter,
    seq: &mut u64,
    ids: &Ids,
    text: &str,
    index: u64,
) -> bool {
    let item = message_item(ids, "", "in_progress");
    if !emit(
        writer,
        seq,
        "response.output_item.added",
        json!({ "output_index": index, "item": item }),
    )
    .await
    {
        return false;
    }
    let part = json!({ "type": "output_text", "text": "", "annotations": [] });
    let data =
        json!({ "item_id": ids.message, "output_index": index, "content_index": 0, "part": part });
    if !emit(writer, seq, "response.content_part.added", data).await {
        return false;
    }
    for piece in generate::pieces(text) {
        let data = json!({ "item_id": ids.message, "output_index": index, "content_index": 0, "delta": piece });
        if !emit(writer, seq, "response.output_text.delta", data).await {
            return false;
        }
    }
    let data =
        json!({ "item_id": ids.message, "output_index": index, "content_index": 0, "text": text });
    if !emit(writer, seq, "response.output_text.done", data).await {
        return false;
    }
    let item = message_item(ids, text, "completed");
    emit(
        writer,
        seq,
        "response.output_item.done",
        json!({ "output_index": index, "item": item }),
    )
    .await
}

async fn stream_call(
    writer: &mut SseWriter,
    seq: &mut u64,
    ids: &Ids,
    generation: &Generation,
    arguments: &str,
    index: u64,
) -> bool {
    let item = call_item(ids, generation, "");
    if !emit(
        writer,
        seq,
        "response.output_item.added",
        json!({ "output_index": index, "item": item }),
    )
    .await
    {
        return false;
    }
    for fragment in generate::fragments(arguments, 6) {
        let data = json!({ "item_id": ids.call, "output_index": index, "delta": fragment });
        if !emit(writer, seq, "response.function_call_arguments.delta", data).await {
            return false;
        }
    }
    let data = json!({ "item_id": ids.call, "output_index": index, "arguments": arguments });
    if !emit(writer, seq, "response.function_call_arguments.done", data).await {
        return false;
    }
    let item = call_item(ids, generation, arguments);
    emit(
        writer,
        seq,
        "response.output_item.done",
        json!({ "output_index": index, "item": item }),
    )
    .await
}
