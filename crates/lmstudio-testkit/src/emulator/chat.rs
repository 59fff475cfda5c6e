//! `POST /v1/chat/completions`, streamed and not.

use std::time::{Duration, SystemTime};

use serde_json::{Map, Value, json};

use super::builder::{ReasoningField, StreamFault};
use super::catalog::ModelKind;
use super::clock;
use super::generate::{self, Generation};
use super::reply::{self, Resp};
use super::resolve::{self, Served};
use super::sse;
use super::{Shared, lock};

/// Identity shared by every chunk of one answer.
#[derive(Clone, Debug)]
pub(crate) struct Meta {
    pub(crate) id: String,
    pub(crate) created: u64,
    pub(crate) model: String,
}

/// Validates the request like LM Studio does, before any model is looked at.
fn validate(request: &Map<String, Value>) -> Option<Resp> {
    if !request.get("messages").is_some_and(Value::is_array) {
        return Some(reply::string_error(400, "'messages' field is required"));
    }
    let format = request
        .get("response_format")
        .and_then(|f| f.get("type"))
        .and_then(Value::as_str);
    if let Some(kind) = format
        && kind != "json_schema"
        && kind != "text"
    {
        return Some(reply::string_error(
            400,
            "'response_format.type' must be 'json_schema' or 'text'",
        ));
    }
    None
}

/// Finds the serving instance for an LLM request, or the error to answer.
pub(crate) async fn serve_llm(
    shared: &Shared,
    request: &Map<String, Value>,
) -> Result<Served, Resp> {
    let name = request
        .get("model")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let ttl = request.get("ttl").and_then(Value::as_u64);
    let served = resolve::resolve(shared, name, ttl).await?;
    if served.model.kind == ModelKind::Embedding {
        return Err(reply::string_error(
            400,
            &format!(
                "Model '{}' is an embedding model and cannot be used for text generation.",
                served.instance_id
            ),
        ));
    }
    Ok(served)
}

/// The 400 LM Studio sends when the prompt does not fit the loaded context.
pub(crate) fn context_overflow(prompt_tokens: u64, context_length: u32) -> Option<Resp> {
    (prompt_tokens > u64::from(context_length)).then(|| {
        reply::string_error(
            400,
            &format!(
                "The number of tokens to keep from the initial prompt is greater than the context length (n_keep: {prompt_tokens}>= n_ctx: {context_length}). Try to load the model with a larger context length, or provide a shorter input."
            ),
        )
    })
}

/// What a chat-shaped request (chat completions, responses) has once it may be answered:
/// the serving instance, the state's stream settings, and the generated answer.
pub(crate) struct Prepared {
    /// The instance serving the request.
    pub(crate) served: Served,
    /// Where reasoning goes.
    pub(crate) field: ReasoningField,
    /// This request's number (ids derive from it).
    pub(crate) seed: u64,
    /// Pause between streamed events.
    pub(crate) delay: Duration,
    /// The fault to inject into a stream.
    pub(crate) fault: Option<StreamFault>,
    /// The answer.
    pub(crate) generation: Generation,
}

/// Resolves the model, reads the stream settings, generates the answer, and refuses a prompt
/// longer than the loaded context: the start every chat-shaped route shares. `Err` is the
/// response to send instead.
pub(crate) async fn prepare(
    shared: &Shared,
    request: &Map<String, Value>,
) -> Result<Prepared, Resp> {
    let served = serve_llm(shared, request).await?;
    let (field, seed, delay, fault) = {
        let mut state = lock(shared);
        let seed = state.next_counter();
        (state.reasoning, seed, state.chunk_delay, state.stream_fault)
    };
    let generation = generate::generate_chat(request, field != ReasoningField::None, seed);
    if let Some(response) = context_overflow(generation.prompt_tokens, served.context_length) {
        return Err(response);
    }
    Ok(Prepared {
        served,
        field,
        seed,
        delay,
        fault,
        generation,
    })
}

/// Handles a chat completion request.
pub(crate) async fn chat_completions(shared: &Shared, body: &str) -> Resp {
    let request = match reply::parse_object(body) {
        Ok(request) => request,
        Err(response) => return *response,
    };
    if let Some(response) = validate(&request) {
        return response;
    }
    let Prepared {
        served,
        field,
        seed,
        delay,
        fault,
        generation,
    } = match prepare(shared, &request).await {
        Ok(prepared) => prepared,
        Err(response) => return response,
    };
    let meta = Meta {
        id: format!("chatcmpl-{}", clock::base36_id(seed, 21)),
        created: clock::unix_secs(SystemTime::now()),
        model: served.instance_id.clone(),
    };
    if request.get("stream").and_then(Value::as_bool) == Some(true) {
        let include_usage = request
            .get("stream_options")
            .and_then(|o| o.get("include_usage"))
            .and_then(Value::as_bool)
            == Some(true);
        let chunks = chat_chunks(&meta, &generation, field, include_usage);
        return sse::stream_chunks(chunks, delay, fault);
    }
    reply::json(200, &completion_body(&meta, &generation, field))
}

/// The `usage` object.
pub(crate) fn usage(generation: &Generation, field: ReasoningField) -> Value {
    let mut usage = json!({
        "prompt_tokens": generation.prompt_tokens,
        "completion_tokens": generation.completion_tokens,
        "total_tokens": generation.prompt_tokens + generation.completion_tokens,
    });
    if field != ReasoningField::None {
        usage["completion_tokens_details"] =
            json!({ "reasoning_tokens": generation.reasoning_tokens });
    }
    usage
}

fn reasoning_key(field: ReasoningField) -> Option<&'static str> {
    match field {
        ReasoningField::None => None,
        ReasoningField::Reasoning => Some("reasoning"),
        ReasoningField::ReasoningContent => Some("reasoning_content"),
    }
}

fn completion_body(meta: &Meta, generation: &Generation, field: ReasoningField) -> Value {
    let tool_calls: Vec<Value> = generation
        .tool_call
        .iter()
        .map(|call| {
            json!({
                "id": call.id,
                "type": "function",
                "function": { "name": call.name, "arguments": call.arguments },
            })
        })
        .collect();
    let mut message = json!({
        "role": "assistant",
        "content": generation.content,
        "tool_calls": tool_calls,
    });
    if let Some(key) = reasoning_key(field) {
        message[key] = json!(generation.reasoning);
    }
    json!({
        "id": meta.id,
        "object": "chat.completion",
        "created": meta.created,
        "model": meta.model,
        "choices": [{
            "index": 0,
            "message": message,
            "logprobs": null,
            "finish_reason": generation.finish_reason,
        }],
        "usage": usage(generation, field),
        "stats": {},
        "system_fingerprint": meta.model,
    })
}

/// One `chat.completion.chunk` with a single choice.
fn chunk(meta: &Meta, delta: Value, finish_reason: Value) -> Value {
    json!({
        "id": meta.id,
        "object": "chat.completion.chunk",
        "created": meta.created,
        "model": meta.model,
        "system_fingerprint": meta.model,
        "choices": [{
            "index": 0,
            "delta": delta,
            "logprobs": null,
            "finish_reason": finish_reason,
        }],
    })
}

/// Every chunk of a streamed answer, in order (without `[DONE]`): role + first piece,
/// reasoning and content pieces, tool-call deltas, the finish chunk, then the usage chunk
/// (`choices: []`) when asked for.
pub(crate) fn chat_chunks(
    meta: &Meta,
    generation: &Generation,
    field: ReasoningField,
    include_usage: bool,
) -> Vec<Value> {
    let mut deltas: Vec<Value> = Vec::new();
    if let Some(key) = reasoning_key(field) {
        for piece in generate::pieces(&generation.reasoning) {
            deltas.push(json!({ key: piece }));
        }
    }
    for piece in generate::pieces(&generation.content) {
        deltas.push(json!({ "content": piece }));
    }
    if let Some(call) = &generation.tool_call {
        deltas.push(json!({ "tool_calls": [{
            "index": 0,
            "id": call.id,
            "type": "function",
            "function": { "name": call.name, "arguments": "" },
        }]}));
        for fragment in generate::fragments(&call.arguments, 6) {
            deltas.push(json!({ "tool_calls": [{
                "index": 0,
                "function": { "arguments": fragment },
            }]}));
        }
    }
    if deltas.is_empty() {
        deltas.push(json!({ "content": "" }));
    }
    if let Some(first) = deltas.first_mut() {
        first["role"] = json!("assistant");
    }
    let mut chunks: Vec<Value> = deltas
        .into_iter()
        .map(|delta| chunk(meta, delta, Value::Null))
        .collect();
    chunks.push(chunk(meta, json!({}), json!(generation.finish_reason)));
    if include_usage {
        chunks.push(json!({
            "id": meta.id,
            "object": "chat.completion.chunk",
            "created": meta.created,
            "model": meta.model,
            "system_fingerprint": meta.model,
            "choices": [],
            "usage": usage(generation, field),
        }));
    }
    chunks
}
